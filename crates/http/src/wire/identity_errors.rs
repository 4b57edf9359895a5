//! How the errors of authentication, login, token and throttling operations become
//! [`ApiError`]s: only the choice of variant and message lives here (see
//! [`super::error`]).

use switchboard_application::identity::{
    AuthenticateError, IssueTokenError, LoginError, RevokeTokenError,
};
use switchboard_application::limits::LoginThrottleError;
use switchboard_application::service_accounts::{
    CreateServiceAccountError, IssueServiceTokenError, ServiceAccountError,
};

use crate::wire::error::ApiError;

impl From<AuthenticateError> for ApiError {
    fn from(error: AuthenticateError) -> Self {
        match error {
            AuthenticateError::InvalidToken => Self::InvalidToken,
            AuthenticateError::ForbiddenOrganization => Self::ForbiddenOrganization,
            AuthenticateError::Repository(error) => error.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::InvalidCredentials => Self::InvalidCredentials,
            LoginError::Hashing(cause) => Self::internal(&cause),
            LoginError::TokenLimit => Self::TokenLimit,
            LoginError::Repository(error) => error.into(),
        }
    }
}

impl From<LoginThrottleError> for ApiError {
    fn from(error: LoginThrottleError) -> Self {
        match error {
            LoginThrottleError::Throttled(decision) => Self::RateLimited {
                retry_after_seconds: decision.retry_after_seconds(),
                status: None,
            },
            LoginThrottleError::Store(error) => error.into(),
        }
    }
}

impl From<IssueTokenError> for ApiError {
    fn from(error: IssueTokenError) -> Self {
        match error {
            IssueTokenError::InvalidName => Self::invalid(
                "name",
                "must be 1 to 100 characters without control characters",
            ),
            IssueTokenError::InvalidExpiry => {
                Self::invalid("expires_in_days", "must be an integer from 1 to 3650")
            }
            IssueTokenError::OutlivesParent(rule) => Self::invalid(
                "expires_in_days",
                &format!(
                    "must not reach past the expiry of the token making this request: at most {} day(s)",
                    rule.max_days
                ),
            ),
            IssueTokenError::TokenLimit => Self::TokenLimit,
            IssueTokenError::ScopeNotAllowed => Self::PermissionDenied,
            IssueTokenError::UnknownUser | IssueTokenError::ParentGone => Self::InvalidToken,
            IssueTokenError::Repository(error) => error.into(),
        }
    }
}

impl From<RevokeTokenError> for ApiError {
    fn from(error: RevokeTokenError) -> Self {
        match error {
            RevokeTokenError::NotFound => Self::NotFound,
            RevokeTokenError::Repository(error) => error.into(),
        }
    }
}

impl From<CreateServiceAccountError> for ApiError {
    fn from(error: CreateServiceAccountError) -> Self {
        match error {
            CreateServiceAccountError::InvalidName => Self::invalid(
                "name",
                "must be 1 to 100 characters without control characters",
            ),
            CreateServiceAccountError::InvalidRole => {
                Self::invalid("role", "must be one of admin, member, viewer")
            }
            CreateServiceAccountError::PermissionDenied => Self::PermissionDenied,
            CreateServiceAccountError::Repository(error) => error.into(),
        }
    }
}

impl From<ServiceAccountError> for ApiError {
    fn from(error: ServiceAccountError) -> Self {
        match error {
            ServiceAccountError::PermissionDenied => Self::PermissionDenied,
            ServiceAccountError::NotFound => Self::NotFound,
            ServiceAccountError::Repository(error) => error.into(),
        }
    }
}

impl From<IssueServiceTokenError> for ApiError {
    fn from(error: IssueServiceTokenError) -> Self {
        match error {
            IssueServiceTokenError::PermissionDenied | IssueServiceTokenError::ScopeNotAllowed => {
                Self::PermissionDenied
            }
            IssueServiceTokenError::NotFound => Self::NotFound,
            IssueServiceTokenError::Issue(error) => error.into(),
            IssueServiceTokenError::Repository(error) => error.into(),
        }
    }
}
