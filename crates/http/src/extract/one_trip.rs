//! One trip to the blocking pool for a hot read: the token, the caller's membership and
//! the read itself run in one blocking closure, instead of one trip for the
//! [`OrgActor`](crate::auth::OrgActor) extractor and a second one for the handler.
//!
//! A trip costs two thread handoffs (a blocking thread woken, then the worker woken
//! back); for a read of one configuration on SQLite the two trips cost more CPU than
//! the two SQL statements (docs/performance.md). The checks keep the contract's order
//! and answers, exactly as `OrgActor` gives them: missing credentials and bad tokens
//! (401, before any database access for a malformed header), the token's rate limit
//! (429), a missing `Org-Handle` (400), organization access (403), then whatever the
//! read answers. Errors become answers on the worker thread, inside the request's
//! span, as with [`blocking`](crate::error::blocking).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use switchboard_application::Actor;
use switchboard_application::identity::AuthenticateError;

use crate::AppState;
use crate::auth::{ORG_HANDLE_HEADER, presented_token};
use crate::error::ApiError;
use crate::rate_limit::RateDecision;

/// The request's credentials, read from its headers without any database access;
/// [`OrgCredentials::run`] checks them and runs the read in one trip.
#[derive(Debug)]
pub struct OrgCredentials {
    req: HttpRequest,
    token: Result<String, ApiError>,
    handle: Option<String>,
}

impl FromRequest for OrgCredentials {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // An unreadable header cannot name an organization the caller belongs to.
        let handle = req.headers().get(ORG_HANDLE_HEADER).map(|value| {
            value
                .to_str()
                .map(|text| text.trim().to_owned())
                .unwrap_or_default()
        });
        ready(Ok(Self {
            req: req.clone(),
            token: presented_token(req.headers()),
            handle,
        }))
    }
}

/// What the blocking closure found; turned into an answer on the worker thread.
struct Found<T, E> {
    rate: Option<RateDecision>,
    actor: Option<Actor>,
    work: Option<Result<T, E>>,
}

impl OrgCredentials {
    /// Authenticates, applies the rate limit, checks the membership, then runs `work`
    /// as the actor, all in one blocking call. Returns the actor with the result.
    ///
    /// # Errors
    /// The contract's 401, 429, 400 and 403 in that order, then `work`'s error.
    pub async fn run<T, E, F>(self, work: F) -> Result<(Actor, T), ApiError>
    where
        F: FnOnce(&Actor) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let token = self.token?;
        let state = self
            .req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::internal(&"application state is not registered"))?;
        let handle = self.handle;
        let has_handle = handle.is_some();
        let found = web::block(move || -> Result<Found<T, E>, AuthenticateError> {
            let authentication = state.identity.resolve(&token, handle.as_deref())?;
            let rate = state.rate_limiter.check(authentication.caller.token_id);
            let allowed = !matches!(rate, Some(RateDecision::Limited { .. }));
            let actor = authentication.actor.filter(|_| allowed && has_handle);
            let work = actor.as_ref().map(work);
            Ok(Found { rate, actor, work })
        })
        .await?
        .map_err(ApiError::from)?;
        match found.rate {
            None => {}
            Some(RateDecision::Allowed(status)) => {
                self.req.extensions_mut().insert(status);
            }
            Some(RateDecision::Limited {
                status,
                retry_after_seconds,
            }) => {
                self.req.extensions_mut().insert(status);
                return Err(ApiError::RateLimited {
                    retry_after_seconds,
                });
            }
        }
        if !has_handle {
            return Err(ApiError::OrgHandleRequired);
        }
        let (Some(actor), Some(work)) = (found.actor, found.work) else {
            return Err(ApiError::ForbiddenOrganization);
        };
        let value = work.map_err(Into::into)?;
        Ok((actor, value))
    }
}
