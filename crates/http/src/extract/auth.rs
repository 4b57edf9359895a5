//! Authentication extractors.
//!
//! [`Authenticated`] needs `Authorization: Token <token>`; [`OrgActor`] also needs
//! `Org-Handle` and membership in that organization. The order of checks is the
//! contract's: missing credentials (401), bad token (401), the token's rate limit
//! (429), missing `Org-Handle` (400), organization access (403). The token's shape and checksum are checked
//! before any database access; token and membership are then resolved in one query
//! on the blocking pool.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use switchboard_application::Actor;
use switchboard_application::identity::{Authentication, Caller};

use crate::AppState;
use crate::error::{ApiError, blocking};
use crate::rate_limit::RateDecision;

/// Name of the organization header.
pub const ORG_HANDLE_HEADER: &str = "org-handle";

/// An authenticated caller (no organization selected).
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Caller);

/// An authenticated member acting in the organization named by `Org-Handle`.
#[derive(Debug, Clone)]
pub struct OrgActor(pub Actor);

/// The token presented in `Authorization`, without touching the database.
///
/// # Errors
/// 401 `not_authenticated` when the header is missing, 401 `invalid_token` for any
/// other scheme or an unreadable header.
pub fn presented_token(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::NotAuthenticated)?;
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("token") {
        return Err(ApiError::InvalidToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(token.to_owned())
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(&"application state is not registered"))
}

/// Resolves the request's token (and organization, when `org_handle` is given),
/// then applies the token's rate limit, recording its state for the response
/// headers.
async fn resolve(
    req: HttpRequest,
    prepared: Result<(String, web::Data<AppState>), ApiError>,
    org_handle: Option<String>,
) -> Result<Authentication, ApiError> {
    let (token, state) = prepared?;
    let identity = state.identity.clone();
    let authentication = blocking(move || identity.resolve(&token, org_handle.as_deref())).await?;
    match state.rate_limiter.check(authentication.caller.token_id) {
        None => {}
        Some(RateDecision::Allowed(status)) => {
            req.extensions_mut().insert(status);
        }
        Some(RateDecision::Limited {
            status,
            retry_after_seconds,
        }) => {
            req.extensions_mut().insert(status);
            crate::metrics::count_rate_limited("token");
            return Err(ApiError::RateLimited {
                retry_after_seconds,
            });
        }
    }
    Ok(authentication)
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = presented_token(req.headers()).and_then(|token| Ok((token, state(req)?)));
        let req = req.clone();
        Box::pin(async move {
            let authentication = resolve(req, prepared, None).await?;
            Ok(Self(authentication.caller))
        })
    }
}

impl FromRequest for OrgActor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = presented_token(req.headers()).and_then(|token| Ok((token, state(req)?)));
        // An unreadable header cannot name an organization the caller belongs to.
        let handle = req.headers().get(ORG_HANDLE_HEADER).map(|value| {
            value
                .to_str()
                .map(|text| text.trim().to_owned())
                .unwrap_or_default()
        });
        let req = req.clone();
        Box::pin(async move {
            // Authentication and the rate limit come before the missing header.
            let authentication = resolve(req, prepared, handle.clone()).await?;
            if handle.is_none() {
                return Err(ApiError::OrgHandleRequired);
            }
            let actor = authentication
                .actor
                .ok_or(ApiError::ForbiddenOrganization)?;
            Ok(Self(actor))
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(value: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn the_token_scheme_is_case_insensitive_and_others_are_invalid() {
        assert_eq!(
            presented_token(&headers(Some("Token abc"))),
            Ok("abc".to_owned())
        );
        assert_eq!(
            presented_token(&headers(Some("token abc"))),
            Ok("abc".to_owned())
        );
        assert_eq!(
            presented_token(&headers(Some("TOKEN  abc "))),
            Ok("abc".to_owned())
        );
        assert_eq!(
            presented_token(&headers(None)),
            Err(ApiError::NotAuthenticated)
        );
        for bad in ["Bearer abc", "Token", "Token ", "abc"] {
            assert_eq!(
                presented_token(&headers(Some(bad))),
                Err(ApiError::InvalidToken),
                "{bad}"
            );
        }
    }
}
