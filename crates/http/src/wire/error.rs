//! The one place where failures become HTTP answers.
//!
//! Every error is an [`ApiError`], which writes the contract's error envelope:
//! `{"status_code", "message", "code", "errors"?}`. Bodies carry nothing specific to
//! one request, so equal errors have byte-identical bodies, and never a submitted
//! value. Unexpected failures become an opaque 500 (or a 503 when the database is
//! unavailable) and their cause is logged exactly once, here, when the `ApiError` is
//! built from it.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use switchboard_application::audit::{ListAuditEventsError, ProviderConfigHistoryError};
use switchboard_application::identity::AuthenticateError;
use switchboard_application::telephony::{
    CreateProviderConfigError, CredentialCheckFailure, DeleteProviderConfigError,
    GetProviderConfigError, ListProviderConfigsError, UpdateProviderConfigError,
    VerifyProviderConfigError,
};
use switchboard_domain::shared::{NON_FIELD_ERRORS, RepositoryError, ValidationErrors};

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
    PayloadTooLarge,
    UnsupportedMediaType,
    /// An `Idempotency-Key` already used for a different request.
    IdempotencyKeyReused,
    RateLimited {
        retry_after_seconds: u64,
    },
    InvalidCredentials,
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
    pub fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::Internal
    }

    /// A 503 whose cause is logged once, here.
    pub fn unavailable(cause: &dyn fmt::Display) -> Self {
        tracing::warn!(cause = %cause, "service unavailable");
        Self::Unavailable
    }

    /// A 400 with a single message for `field`.
    pub fn invalid(field: &str, message: &str) -> Self {
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
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RateLimited { .. } => "rate_limited",
            Self::InvalidCredentials => "invalid_credentials",
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
            Self::PayloadTooLarge => "Request body is too large.",
            Self::UnsupportedMediaType => "Content-Type must be application/json.",
            Self::IdempotencyKeyReused => {
                "Idempotency-Key was already used with a different request."
            }
            Self::RateLimited { .. } => "Too many requests.",
            Self::InvalidCredentials => "Invalid email or password.",
            Self::Unavailable => "Service temporarily unavailable.",
            Self::Internal => "Internal server error.",
        }
    }
}

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
            Self::Conflict(_) | Self::ConflictWith(..) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
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
            } => {
                response
                    .insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds)));
            }
            _ => {}
        }
        response.json(ErrorBody {
            status_code: status.as_u16(),
            message: self.message(),
            code: self.code(),
            errors,
            data,
        })
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

impl From<AuthenticateError> for ApiError {
    fn from(error: AuthenticateError) -> Self {
        match error {
            AuthenticateError::InvalidToken => Self::InvalidToken,
            AuthenticateError::ForbiddenOrganization => Self::ForbiddenOrganization,
            AuthenticateError::Repository(error) => error.into(),
        }
    }
}

const DUPLICATE_CONFIG: &str = "A provider configuration for this provider and account SID already exists in this organization.";
const CONTENDED_CONFIG: &str =
    "The provider configuration kept changing while this request was processed; retry.";

impl From<CredentialCheckFailure> for ApiError {
    fn from(failure: CredentialCheckFailure) -> Self {
        match failure {
            CredentialCheckFailure::Rejected => {
                Self::invalid("auth_token", "the provider rejected these credentials")
            }
            CredentialCheckFailure::Unreachable => Self::invalid(
                NON_FIELD_ERRORS,
                "The provider could not be reached to verify the credentials; nothing was saved.",
            ),
            CredentialCheckFailure::Unsupported => Self::invalid(
                "provider",
                "credential verification is not available for this provider",
            ),
        }
    }
}

impl From<VerifyProviderConfigError> for ApiError {
    fn from(error: VerifyProviderConfigError) -> Self {
        match error {
            VerifyProviderConfigError::PermissionDenied => Self::PermissionDenied,
            VerifyProviderConfigError::NotFound => Self::NotFound,
            VerifyProviderConfigError::PreconditionFailed => Self::PreconditionFailed,
            VerifyProviderConfigError::Unsupported => Self::invalid(
                NON_FIELD_ERRORS,
                "Credential verification is not available for this provider.",
            ),
            VerifyProviderConfigError::Contended => Self::Conflict(CONTENDED_CONFIG),
            VerifyProviderConfigError::Decryption(error) => Self::internal(&error),
            VerifyProviderConfigError::Repository(error) => error.into(),
        }
    }
}

impl From<ListAuditEventsError> for ApiError {
    fn from(error: ListAuditEventsError) -> Self {
        match error {
            ListAuditEventsError::PermissionDenied => Self::PermissionDenied,
            ListAuditEventsError::Repository(error) => error.into(),
        }
    }
}

impl From<ProviderConfigHistoryError> for ApiError {
    fn from(error: ProviderConfigHistoryError) -> Self {
        match error {
            ProviderConfigHistoryError::NotFound => Self::NotFound,
            ProviderConfigHistoryError::Repository(error) => error.into(),
        }
    }
}

impl From<CreateProviderConfigError> for ApiError {
    fn from(error: CreateProviderConfigError) -> Self {
        match error {
            CreateProviderConfigError::Validation(errors) => Self::Validation(errors),
            CreateProviderConfigError::PermissionDenied => Self::PermissionDenied,
            CreateProviderConfigError::Duplicate => Self::Conflict(DUPLICATE_CONFIG),
            CreateProviderConfigError::Verification(failure) => failure.into(),
            CreateProviderConfigError::Encryption(error) => Self::internal(&error),
            CreateProviderConfigError::Repository(error) => error.into(),
        }
    }
}

impl From<ListProviderConfigsError> for ApiError {
    fn from(error: ListProviderConfigsError) -> Self {
        match error {
            ListProviderConfigsError::Validation(errors) => Self::Validation(errors),
            ListProviderConfigsError::Repository(error) => error.into(),
        }
    }
}

impl From<GetProviderConfigError> for ApiError {
    fn from(error: GetProviderConfigError) -> Self {
        match error {
            GetProviderConfigError::NotFound => Self::NotFound,
            GetProviderConfigError::Repository(error) => error.into(),
        }
    }
}

impl From<UpdateProviderConfigError> for ApiError {
    fn from(error: UpdateProviderConfigError) -> Self {
        match error {
            UpdateProviderConfigError::Validation(errors) => Self::Validation(errors),
            UpdateProviderConfigError::PermissionDenied => Self::PermissionDenied,
            UpdateProviderConfigError::NotFound => Self::NotFound,
            UpdateProviderConfigError::PreconditionFailed => Self::PreconditionFailed,
            UpdateProviderConfigError::Duplicate => Self::Conflict(DUPLICATE_CONFIG),
            UpdateProviderConfigError::Verification(failure) => failure.into(),
            UpdateProviderConfigError::Contended => Self::Conflict(CONTENDED_CONFIG),
            UpdateProviderConfigError::Encryption(error)
            | UpdateProviderConfigError::Decryption(error) => Self::internal(&error),
            UpdateProviderConfigError::Repository(error) => error.into(),
        }
    }
}

impl From<DeleteProviderConfigError> for ApiError {
    fn from(error: DeleteProviderConfigError) -> Self {
        match error {
            DeleteProviderConfigError::PermissionDenied => Self::PermissionDenied,
            DeleteProviderConfigError::NotFound => Self::NotFound,
            DeleteProviderConfigError::InUse(connections) => {
                crate::bridge_errors::config_in_use(&connections)
            }
            DeleteProviderConfigError::PreconditionFailed => Self::PreconditionFailed,
            DeleteProviderConfigError::Contended => Self::Conflict(CONTENDED_CONFIG),
            DeleteProviderConfigError::Repository(error) => error.into(),
        }
    }
}

/// Runs `work` on the blocking pool and flattens both failure layers into an
/// [`ApiError`].
///
/// # Errors
/// The work's own error, converted, or a 500 when the pool is gone.
pub async fn blocking<T, E, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    actix_web::web::block(work).await?.map_err(Into::into)
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
}
