//! The one authorization path, and the extractors built on it.
//!
//! [`authorize`] takes what a request presents (its token and, on organization
//! routes, its `Org-Handle`) to a caller: the token and the membership are resolved
//! in one query, the caller's rate limits are applied (and a 429 counted in
//! `rate_limited_total`), then the organization is checked. It runs in one trip to
//! the blocking pool, or on the HTTP worker itself where the deployment allows reads
//! there ([`reading`]), and every extractor uses it:
//! - [`Authenticated`]: a token, no organization;
//! - [`OrgActor`]: a token and membership in the `Org-Handle` organization;
//! - [`OrgCredentials`]: the same, with the handler's read run in the same trip (the
//!   hot reads of configurations: a second trip costs more CPU than their SQL,
//!   docs/performance.md).
//!
//! The order of checks is the contract's (section 3): a header sent twice (400, at
//! the authentication step), missing credentials (401), a bad token (401), the rate
//! limits (429), a missing `Org-Handle` (400), organization access (403), then the
//! token's scopes (403 `permission_denied`: the route table names the scope each
//! organization route needs, [`RouteScopes`]). The token's shape and checksum are
//! checked before any database access.
//!
//! Rights are the role's narrowed to the token's scopes: the scope is checked here
//! for every route; the role where no service already checks it (the credential
//! scopes, whose routes are new), so that the contract's order of a role's 403 after
//! the body's 400 holds for the routes that had it.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderName};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use switchboard_application::Actor;
use switchboard_application::identity::Caller;
use switchboard_application::limits::RequestVerdict;
use switchboard_domain::identity::{Grants, Scope};
use switchboard_domain::shared::NON_FIELD_ERRORS;

use crate::middleware::metrics::count_rate_limited;
use crate::state::AppState;
use crate::wire::error::{ApiError, reading};
use crate::wire::rate_limit::RateLimitStatus;

/// Name of the organization header.
pub(crate) const ORG_HANDLE_HEADER: &str = "org-handle";

/// The scope each method of one resource needs, registered with the resource by the
/// route table.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteScopes(pub(crate) Vec<(Method, Scope)>);

/// The scope the request's route needs, if any.
fn route_scope(req: &HttpRequest) -> Option<Scope> {
    req.app_data::<RouteScopes>().and_then(|scopes| {
        scopes
            .0
            .iter()
            .find(|(method, _)| method == req.method())
            .map(|(_, scope)| *scope)
    })
}

/// What a request presents, read from its headers without any database access.
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    token: String,
    /// `None` on routes without an organization; `Some(None)` when the header is
    /// missing.
    org_handle: Option<Option<String>>,
    /// The scope the route needs.
    scope: Option<Scope>,
}

impl Presented {
    /// Names the scope the route needs.
    fn needing(mut self, scope: Option<Scope>) -> Self {
        self.scope = scope;
        self
    }

    /// The token of a route that needs no organization.
    fn token_only(headers: &HeaderMap) -> Result<Self, ApiError> {
        once(
            headers,
            &AUTHORIZATION,
            "Send the Authorization header once.",
        )?;
        Ok(Self {
            token: presented_token(headers)?,
            org_handle: None,
            scope: None,
        })
    }

    /// The token and the `Org-Handle` of an organization route.
    fn with_organization(headers: &HeaderMap) -> Result<Self, ApiError> {
        let org_handle = HeaderName::from_static(ORG_HANDLE_HEADER);
        once(
            headers,
            &AUTHORIZATION,
            "Send the Authorization header once.",
        )?;
        once(headers, &org_handle, "Send the Org-Handle header once.")?;
        // An unreadable header cannot name an organization the caller belongs to.
        let handle = headers.get(&org_handle).map(|value| {
            value
                .to_str()
                .map(|text| text.trim().to_owned())
                .unwrap_or_default()
        });
        Ok(Self {
            token: presented_token(headers)?,
            org_handle: Some(handle),
            scope: None,
        })
    }
}

/// 400 when `name` is sent more than once: a proxy that reads another copy than the
/// server would disagree with it about who is calling.
fn once(headers: &HeaderMap, name: &HeaderName, message: &str) -> Result<(), ApiError> {
    if headers.get_all(name).nth(1).is_some() {
        return Err(ApiError::invalid(NON_FIELD_ERRORS, message));
    }
    Ok(())
}

/// The token presented in `Authorization`, without touching the database.
///
/// # Errors
/// 401 `not_authenticated` when the header is missing, 401 `invalid_token` for any
/// other scheme or an unreadable header.
pub(crate) fn presented_token(headers: &HeaderMap) -> Result<String, ApiError> {
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

/// Who is calling, as [`authorize`] found it.
#[derive(Debug, Clone)]
pub(crate) struct Authorized {
    pub(crate) caller: Caller,
    /// The membership, on organization routes (always `Some` there).
    pub(crate) actor: Option<Actor>,
    /// The token's scopes, and whether its user is a service account.
    pub(crate) grants: Grants,
    /// The token's bucket for the answer's headers (`None`: limits are off).
    pub(crate) rate: Option<RateLimitStatus>,
}

impl Authorized {
    /// Leaves the rate-limit state where the request id middleware writes the
    /// headers from.
    fn record(&self, req: &HttpRequest) {
        if let Some(status) = self.rate {
            req.extensions_mut().insert(status);
        }
    }
}

/// The one authorization path (blocking: one query, the limit store, and at most
/// once a minute a write that never waits, the token's last use).
///
/// # Errors
/// The contract's 401, 429, 400 and 403, in that order; 503 when the database or the
/// limit store is unavailable.
pub(crate) fn authorize(state: &AppState, presented: &Presented) -> Result<Authorized, ApiError> {
    let handle = presented.org_handle.as_ref().and_then(Option::as_deref);
    let authentication = state.identity.resolve(&presented.token, handle)?;
    let rate = match state.request_limits.check(authentication.caller)? {
        RequestVerdict::Allowed(decision) => decision.map(RateLimitStatus::from),
        RequestVerdict::Limited { by, decision } => {
            count_rate_limited(by.as_str());
            return Err(ApiError::RateLimited {
                retry_after_seconds: decision.retry_after_seconds(),
                status: Some(decision.into()),
            });
        }
    };
    let actor = match &presented.org_handle {
        None => None,
        Some(None) => return Err(ApiError::OrgHandleRequired),
        Some(Some(_)) => Some(
            authentication
                .actor
                .ok_or(ApiError::ForbiddenOrganization)?,
        ),
    };
    let grants = authentication.grants;
    if let (Some(scope), Some(actor)) = (presented.scope, &actor) {
        // The credential scopes' routes are new: no service checks their role, so
        // it is checked here with the scope.
        let role_here = matches!(scope, Scope::CredentialsUse | Scope::CredentialsReveal);
        let allowed = if role_here {
            grants.allow(actor.role, scope)
        } else {
            grants.scopes.contains(scope)
        };
        if !allowed {
            return Err(ApiError::PermissionDenied);
        }
    }
    Ok(Authorized {
        caller: authentication.caller,
        actor,
        grants,
        rate,
    })
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(&"application state is not registered"))
}

/// Authorizes in one trip and records the rate-limit state.
async fn authorized(
    req: HttpRequest,
    prepared: Result<(Presented, web::Data<AppState>), ApiError>,
) -> Result<Authorized, ApiError> {
    let (presented, state) = prepared?;
    let authorized = reading(state.reads_inline, move || authorize(&state, &presented)).await?;
    authorized.record(&req);
    Ok(authorized)
}

/// An authenticated caller (no organization selected).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authenticated(pub(crate) Caller);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = Presented::token_only(req.headers()).and_then(|p| Ok((p, state(req)?)));
        let req = req.clone();
        Box::pin(async move { Ok(Self(authorized(req, prepared).await?.caller)) })
    }
}

/// An authenticated member acting in the organization named by `Org-Handle`.
#[derive(Debug, Clone)]
pub(crate) struct OrgActor(pub(crate) Actor);

impl FromRequest for OrgActor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = Presented::with_organization(req.headers())
            .and_then(|p| Ok((p.needing(route_scope(req)), state(req)?)));
        let req = req.clone();
        Box::pin(async move {
            let actor = authorized(req, prepared)
                .await?
                .actor
                .ok_or(ApiError::ForbiddenOrganization)?;
            Ok(Self(actor))
        })
    }
}

/// An authenticated member acting in the `Org-Handle` organization, with the
/// token's grants (for routes that pass them on: a token created by this one never
/// carries more, and secret uses are limited per token).
#[derive(Debug, Clone)]
pub(crate) struct OrgGranted {
    pub(crate) actor: Actor,
    pub(crate) grants: Grants,
}

impl FromRequest for OrgGranted {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = Presented::with_organization(req.headers())
            .and_then(|p| Ok((p.needing(route_scope(req)), state(req)?)));
        let req = req.clone();
        Box::pin(async move {
            let authorized = authorized(req, prepared).await?;
            let actor = authorized.actor.ok_or(ApiError::ForbiddenOrganization)?;
            Ok(Self {
                actor,
                grants: authorized.grants,
            })
        })
    }
}

/// An organization route's credentials, read from its headers; [`OrgCredentials::run`]
/// authorizes and runs the handler's read in one trip.
#[derive(Debug)]
pub(crate) struct OrgCredentials {
    req: HttpRequest,
    prepared: Result<(Presented, web::Data<AppState>), ApiError>,
}

impl FromRequest for OrgCredentials {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self {
            req: req.clone(),
            prepared: Presented::with_organization(req.headers())
                .and_then(|p| Ok((p.needing(route_scope(req)), state(req)?))),
        }))
    }
}

impl OrgCredentials {
    /// [`authorize`], then `work` (a read) as the actor, in one trip ([`reading`]).
    /// Returns the actor with the work's result.
    ///
    /// # Errors
    /// [`authorize`]'s, then `work`'s.
    pub(crate) async fn run<T, E, F>(self, work: F) -> Result<(Actor, T), ApiError>
    where
        F: FnOnce(&Actor) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let (presented, state) = self.prepared?;
        let inline = state.reads_inline;
        let (authorized, outcome) = reading(inline, move || {
            // One read session: one connection (and on PostgreSQL one transaction)
            // for the token and the read.
            state
                .in_read_session(|| {
                    let authorized = authorize(&state, &presented)?;
                    let actor = authorized
                        .actor
                        .as_ref()
                        .ok_or(ApiError::ForbiddenOrganization)?;
                    let outcome = work(actor).map_err(Into::into);
                    Ok::<_, ApiError>((authorized, outcome))
                })
                .unwrap_or_else(|| Err(ApiError::internal(&"the read session did not run")))
        })
        .await?;
        authorized.record(&self.req);
        let actor = authorized.actor.ok_or(ApiError::ForbiddenOrganization)?;
        Ok((actor, outcome?))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(values: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in values {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers
    }

    #[test]
    fn the_token_scheme_is_case_insensitive_and_others_are_invalid() {
        for (value, token) in [
            ("Token abc", "abc"),
            ("token abc", "abc"),
            ("TOKEN  abc ", "abc"),
        ] {
            assert_eq!(
                presented_token(&headers(&[("authorization", value)])),
                Ok(token.to_owned())
            );
        }
        assert_eq!(
            presented_token(&headers(&[])),
            Err(ApiError::NotAuthenticated)
        );
        for bad in ["Bearer abc", "Token", "Token ", "abc"] {
            assert_eq!(
                presented_token(&headers(&[("authorization", bad)])),
                Err(ApiError::InvalidToken),
                "{bad}"
            );
        }
    }

    fn refused(result: Result<Presented, ApiError>) -> String {
        match result {
            Err(ApiError::Validation(errors)) => errors.fields()[NON_FIELD_ERRORS][0].clone(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn headers_sent_twice_are_refused_before_anything_else() {
        let twice = headers(&[("authorization", "Token a"), ("authorization", "Token b")]);
        assert_eq!(
            refused(Presented::token_only(&twice)),
            "Send the Authorization header once."
        );
        let handles = headers(&[
            ("authorization", "Token a"),
            ("org-handle", "acme"),
            ("org-handle", "beta"),
        ]);
        assert_eq!(
            refused(Presented::with_organization(&handles)),
            "Send the Org-Handle header once."
        );
        // Without a token at all, a doubled Org-Handle is still the first answer.
        let handles = headers(&[("org-handle", "acme"), ("org-handle", "beta")]);
        assert_eq!(
            refused(Presented::with_organization(&handles)),
            "Send the Org-Handle header once."
        );
        // Routes without an organization ignore the header.
        assert!(Presented::token_only(&handles).is_err_and(|e| e == ApiError::NotAuthenticated));
    }
}
