//! The one place where failures become HTTP answers.
//!
//! Every error is an [`ApiError`], which writes the contract's error envelope:
//! `{"status_code", "message", "code", "errors"?}`. Bodies carry nothing specific to
//! one request, so equal errors have byte-identical bodies, and never a submitted
//! value. Unexpected failures become an opaque 500 (or a 503 when the database is
//! unavailable) and their cause is logged exactly once, here, when the `ApiError` is
//! built from it. The mapping of each operation's errors onto `ApiError` lives beside
//! this module (`identity_errors`, `telephony_errors`, `bridge_errors`).
//!
//! [`blocking`] runs storage work on the blocking pool inside the request's span, so
//! that every log line of a request, wherever it runs, names its request id;
//! [`reading`] runs reads on the HTTP worker itself where the deployment allows it.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use switchboard_domain::limits::LimitStoreError;
use switchboard_domain::shared::{RepositoryError, ValidationErrors};

use crate::wire::rate_limit::RateLimitStatus;

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECONDS: &str = "1";

/// An error answer of the contract.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    NotAuthenticated,
    InvalidToken,
    OrgHandleRequired,
    ForbiddenOrganization,
    PermissionDenied,
    NotFound,
    MethodNotAllowed,
    Validation(ValidationErrors),
    Conflict(&'static str),
    /// A 409 whose body also carries `data`: what the conflict depends on (for
    /// example the bridge numbers still connected to a configuration).
    ConflictWith(&'static str, serde_json::Value),
    /// A stale `If-Match`.
    PreconditionFailed,
    /// The operation needs a stored secret that no longer opens (409).
    CredentialsUnreadable,
    /// The user holds the most live tokens allowed (409).
    TokenLimit,
    /// A secret of an inactive configuration was asked for (409).
    ConfigurationInactive,
    /// A staged rotation of the configuration is already pending (409).
    RotationPending,
    /// A promotion with `require_verified` of a version the provider has not
    /// called valid (409).
    RotationNotVerified,
    /// The rotation was promoted or cancelled already (409).
    RotationNotPending,
    /// A provider's API, called with a stored credential, failed or answered
    /// something unusable (502). The body never carries what the provider said.
    ProviderError,

    PayloadTooLarge,
    UnsupportedMediaType,
    /// An `Idempotency-Key` already used for a different request.
    IdempotencyKeyReused,
    /// Over a rate limit; `status` is the bucket for the `X-RateLimit-*` headers
    /// (none for login throttling).
    RateLimited {
        retry_after_seconds: u64,
        status: Option<RateLimitStatus>,
    },
    InvalidCredentials,
    /// The request body did not arrive within the body time limit; the connection
    /// is closed after the answer.
    RequestTimeout,
    Unavailable,
    Internal,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status_code: u16,
    message: &'a str,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a serde_json::Value>,
}

impl ApiError {
    /// An opaque 500 whose cause is logged once, here.
    pub(crate) fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::Internal
    }

    /// A 503 whose cause is logged once, here.
    pub(crate) fn unavailable(cause: &dyn fmt::Display) -> Self {
        tracing::warn!(cause = %cause, "service unavailable");
        Self::Unavailable
    }

    /// A 400 with a single message for `field`.
    pub(crate) fn invalid(field: &str, message: &str) -> Self {
        Self::Validation(ValidationErrors::single(field, message))
    }

    fn code(&self) -> &'static str {
        match self {
            Self::NotAuthenticated => "not_authenticated",
            Self::InvalidToken => "invalid_token",
            Self::OrgHandleRequired => "org_handle_required",
            Self::ForbiddenOrganization => "forbidden_organization",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Validation(_) => "validation_error",
            Self::Conflict(_) | Self::ConflictWith(..) => "conflict",
            Self::PreconditionFailed => "precondition_failed",
            Self::CredentialsUnreadable => "credentials_unreadable",
            Self::TokenLimit => "token_limit",
            Self::ConfigurationInactive => "configuration_inactive",
            Self::RotationPending => "rotation_pending",
            Self::RotationNotVerified => "rotation_not_verified",
            Self::RotationNotPending => "rotation_not_pending",
            Self::ProviderError => "provider_error",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RateLimited { .. } => "rate_limited",
            Self::InvalidCredentials => "invalid_credentials",
            Self::RequestTimeout => "request_timeout",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal_error",
        }
    }

    fn message(&self) -> &'static str {
        match self {
            Self::NotAuthenticated => "Authentication credentials were not provided.",
            Self::InvalidToken => "Invalid token.",
            Self::OrgHandleRequired => "Org-Handle header is required.",
            Self::ForbiddenOrganization => "You do not have access to this organization.",
            Self::PermissionDenied => "You do not have permission to perform this action.",
            Self::NotFound => "Not found.",
            Self::MethodNotAllowed => "Method not allowed.",
            Self::Validation(_) => "Invalid request.",
            Self::Conflict(message) | Self::ConflictWith(message, _) => message,
            Self::PreconditionFailed => "The resource has changed since it was read.",
            Self::CredentialsUnreadable => {
                "The stored credentials of this configuration cannot be opened: send every secret again to replace them."
            }
            Self::TokenLimit => {
                "This user holds the maximum number of live tokens (200): revoke one first."
            }
            Self::ConfigurationInactive => {
                "This provider configuration is inactive: activate it to use its credentials."
            }
            Self::RotationPending => {
                "A rotation of this provider configuration is already pending: promote or cancel it first."
            }
            Self::RotationNotVerified => {
                "The pending credentials are not verified as valid by the provider: verify them first, or promote without require_verified."
            }
            Self::RotationNotPending => "This rotation is no longer pending.",
            Self::ProviderError => {
                "The provider's API failed or gave an answer that cannot be used; nothing was changed. Check the configuration's credentials, or try again later."
            }
            Self::PayloadTooLarge => "Request body is too large.",
            Self::UnsupportedMediaType => "Content-Type must be application/json.",
            Self::IdempotencyKeyReused => {
                "Idempotency-Key was already used with a different request."
            }
            Self::RateLimited { .. } => "Too many requests.",
            Self::InvalidCredentials => "Invalid email or password.",
            Self::RequestTimeout => "The request body was not received in time.",
            Self::Unavailable => "Service temporarily unavailable.",
            Self::Internal => "Internal server error.",
        }
    }
}

/// The `code` of an error answer, left in the response's extensions for the request
/// log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorCode(pub(crate) &'static str);

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotAuthenticated | Self::InvalidToken | Self::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::OrgHandleRequired | Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::ForbiddenOrganization | Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_)
            | Self::ConflictWith(..)
            | Self::CredentialsUnreadable
            | Self::ConfigurationInactive
            | Self::RotationPending
            | Self::RotationNotVerified
            | Self::RotationNotPending
            | Self::TokenLimit => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::ProviderError => StatusCode::BAD_GATEWAY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let errors = match self {
            Self::Validation(errors) => Some(errors.fields()),
            _ => None,
        };
        let data = match self {
            Self::ConflictWith(_, data) => Some(data),
            _ => None,
        };
        let mut response = HttpResponse::build(status);
        match self {
            Self::NotAuthenticated | Self::InvalidToken => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Token")));
            }
            Self::Unavailable => {
                response.insert_header((
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                ));
            }
            Self::RateLimited {
                retry_after_seconds,
                ..
            } => {
                response
                    .insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds)));
            }
            // Whatever is left of the body is not read: the connection must go.
            Self::RequestTimeout => {
                response.force_close();
            }
            _ => {}
        }
        let mut answer = response.json(ErrorBody {
            status_code: status.as_u16(),
            message: self.message(),
            code: self.code(),
            errors,
            data,
        });
        if let Self::RateLimited {
            status: Some(status),
            ..
        } = self
        {
            status.write_headers(answer.headers_mut());
        }
        // For the request log line (crate::middleware::request_id).
        answer.extensions_mut().insert(ErrorCode(self.code()));
        answer
    }
}

impl From<RepositoryError> for ApiError {
    fn from(error: RepositoryError) -> Self {
        match &error {
            RepositoryError::Unavailable(_) => Self::unavailable(&error),
            RepositoryError::Internal(_) => Self::internal(&error),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::internal(&error)
    }
}

impl From<LimitStoreError> for ApiError {
    fn from(error: LimitStoreError) -> Self {
        Self::unavailable(&error)
    }
}

/// Runs `work` on the blocking pool inside the caller's span (the request's, with its
/// id), so that its log lines name the request.
///
/// # Errors
/// [`actix_web::error::BlockingError`] when the pool is gone.
pub(crate) async fn block_in_span<T, F>(work: F) -> Result<T, actix_web::error::BlockingError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(work)).await
}

/// Runs storage work that only reads (and [`crate::extract::auth::authorize`]) where
/// the deployment allows it: on the calling HTTP worker when `inline`
/// ([`crate::state::AppState::reads_inline`]: a SQLite read in WAL mode never waits
/// for the writer, and two thread handoffs cost more CPU than the read itself,
/// docs/performance.md), else on the blocking pool as [`blocking`].
///
/// # Errors
/// The work's own error, converted, or a 500 when the pool is gone.
pub(crate) async fn reading<T, E, F>(inline: bool, work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    if inline {
        // Already inside the request's span: the request future is instrumented.
        return work().map_err(Into::into);
    }
    blocking(work).await
}

/// Runs `work` on the blocking pool, inside the request's span, and flattens both
/// failure layers into an [`ApiError`].
///
/// # Errors
/// The work's own error, converted, or a 500 when the pool is gone.
pub(crate) async fn blocking<T, E, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    block_in_span(work).await?.map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.error_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body()).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[actix_web::test]
    async fn envelopes_follow_the_contract() {
        let (status, body) = body_of(ApiError::NotAuthenticated).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            serde_json::json!({"status_code": 401, "message": "Authentication credentials were not provided.", "code": "not_authenticated"})
        );
        let (status, body) = body_of(ApiError::invalid("name", "must not be blank")).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"]["name"][0], "must not be blank");
        assert_eq!(body["code"], "validation_error");
        let response = ApiError::Unavailable.error_response();
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        let response = ApiError::InvalidToken.error_response();
        assert_eq!(
            response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&b"Token"[..])
        );
    }

    #[actix_web::test]
    async fn a_slow_body_is_a_408_that_closes_the_connection() {
        let response = ApiError::RequestTimeout.error_response();
        assert_eq!(response.status(), 408);
        assert_eq!(
            response.head().connection_type(),
            actix_web::http::ConnectionType::Close
        );
        let (_, body) = body_of(ApiError::RequestTimeout).await;
        assert_eq!(
            body,
            serde_json::json!({"status_code": 408, "message": "The request body was not received in time.", "code": "request_timeout"})
        );
    }

    #[actix_web::test]
    async fn a_429_carries_retry_after_and_its_buckets_headers() {
        let limited = ApiError::RateLimited {
            retry_after_seconds: 3,
            status: Some(RateLimitStatus {
                policy: "token",
                limit: 5,
                window_seconds: 2,
                remaining: 0,
                reset_seconds: 4,
            }),
        };
        let response = limited.error_response();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header("retry-after").as_deref(), Some("3"));
        assert_eq!(header("x-ratelimit-limit").as_deref(), Some("5"));
        assert_eq!(header("x-ratelimit-remaining").as_deref(), Some("0"));
        assert_eq!(header("x-ratelimit-reset").as_deref(), Some("4"));
        assert_eq!(
            header("ratelimit-policy").as_deref(),
            Some("\"token\";q=5;w=2")
        );
        assert_eq!(header("ratelimit").as_deref(), Some("\"token\";r=0;t=4"));
    }
}
