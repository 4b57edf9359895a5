//! How the errors of the provider configuration, verification, rotation and audit operations
//! become [`ApiError`]s: only the choice of variant and message lives here; the
//! envelope, the logging of unexpected causes and the status codes stay in
//! [`super::error`]. 409 messages name what exists or what still depends on the
//! object and never repeat a submitted value.

use switchboard_application::audit::{ListAuditEventsError, ProviderConfigHistoryError};
use switchboard_application::credential_use::{
    AccessTokenError, RevealError, SecretUseLimitError, SignatureCheckError,
};
use switchboard_application::rotation::{
    CancelRotationError, EndPreviousError, ListRotationsError, PromoteRotationError,
    StartRotationError, VerifyRotationError,
};
use switchboard_application::telephony::{
    CreateProviderConfigError, CredentialCheckFailure, DeleteProviderConfigError,
    GetProviderConfigError, ListProviderConfigsError, UpdateProviderConfigError,
    VerifyProviderConfigError,
};
use switchboard_domain::shared::NON_FIELD_ERRORS;

use crate::wire::bridge_errors::config_in_use;
use crate::wire::error::ApiError;

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
            // Logged where it happened, with the configuration and organization.
            VerifyProviderConfigError::CredentialsUnreadable(_) => Self::CredentialsUnreadable,
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
            UpdateProviderConfigError::Encryption(error) => Self::internal(&error),
            // Logged where it happened, with the configuration and organization.
            UpdateProviderConfigError::CredentialsUnreadable(_) => Self::CredentialsUnreadable,
            UpdateProviderConfigError::Repository(error) => error.into(),
        }
    }
}

impl From<DeleteProviderConfigError> for ApiError {
    fn from(error: DeleteProviderConfigError) -> Self {
        match error {
            DeleteProviderConfigError::PermissionDenied => Self::PermissionDenied,
            DeleteProviderConfigError::NotFound => Self::NotFound,
            DeleteProviderConfigError::InUse(connections) => config_in_use(&connections),
            DeleteProviderConfigError::PreconditionFailed => Self::PreconditionFailed,
            DeleteProviderConfigError::Contended => Self::Conflict(CONTENDED_CONFIG),
            DeleteProviderConfigError::Repository(error) => error.into(),
        }
    }
}

impl From<SecretUseLimitError> for ApiError {
    fn from(error: SecretUseLimitError) -> Self {
        match error {
            SecretUseLimitError::Limited(decision) => Self::RateLimited {
                retry_after_seconds: decision.retry_after_seconds(),
                status: None,
            },
            SecretUseLimitError::Store(error) => error.into(),
        }
    }
}

impl From<RevealError> for ApiError {
    fn from(error: RevealError) -> Self {
        match error {
            RevealError::NotFound => Self::NotFound,
            RevealError::Inactive => Self::ConfigurationInactive,
            RevealError::Unreadable => Self::CredentialsUnreadable,
            RevealError::Limit(error) => error.into(),
            RevealError::Repository(error) => error.into(),
        }
    }
}

impl From<SignatureCheckError> for ApiError {
    fn from(error: SignatureCheckError) -> Self {
        match error {
            SignatureCheckError::Unsupported => Self::invalid(
                NON_FIELD_ERRORS,
                "signature checks exist for these providers only: twilio",
            ),
            SignatureCheckError::Use(error) => error.into(),
        }
    }
}

impl From<AccessTokenError> for ApiError {
    fn from(error: AccessTokenError) -> Self {
        match error {
            AccessTokenError::Unsupported => Self::invalid(
                NON_FIELD_ERRORS,
                "access tokens are minted for livekit configurations, and twilio ones holding api_key_sid and api_key_secret",
            ),
            AccessTokenError::RoomRequired => Self::invalid("room", "This field is required."),
            AccessTokenError::Use(error) => error.into(),
        }
    }
}

impl From<StartRotationError> for ApiError {
    fn from(error: StartRotationError) -> Self {
        match error {
            StartRotationError::Validation(errors) => Self::Validation(errors),
            StartRotationError::PermissionDenied => Self::PermissionDenied,
            StartRotationError::NotFound => Self::NotFound,
            StartRotationError::RotationPending => Self::RotationPending,
            // Logged where it happened, with the configuration and organization.
            StartRotationError::CredentialsUnreadable(_) => Self::CredentialsUnreadable,
            StartRotationError::Encryption(error) => Self::internal(&error),
            StartRotationError::Contended => Self::Conflict(CONTENDED_CONFIG),
            StartRotationError::Repository(error) => error.into(),
        }
    }
}

impl From<ListRotationsError> for ApiError {
    fn from(error: ListRotationsError) -> Self {
        match error {
            ListRotationsError::NotFound => Self::NotFound,
            ListRotationsError::Repository(error) => error.into(),
        }
    }
}

impl From<VerifyRotationError> for ApiError {
    fn from(error: VerifyRotationError) -> Self {
        match error {
            VerifyRotationError::PermissionDenied => Self::PermissionDenied,
            VerifyRotationError::NotFound => Self::NotFound,
            VerifyRotationError::NotPending => Self::RotationNotPending,
            VerifyRotationError::Unsupported => Self::invalid(
                NON_FIELD_ERRORS,
                "Credential verification is not available for this provider.",
            ),
            VerifyRotationError::CredentialsUnreadable(_) => Self::CredentialsUnreadable,
            VerifyRotationError::Repository(error) => error.into(),
        }
    }
}

impl From<PromoteRotationError> for ApiError {
    fn from(error: PromoteRotationError) -> Self {
        match error {
            PromoteRotationError::Validation(errors) => Self::Validation(errors),
            PromoteRotationError::PermissionDenied => Self::PermissionDenied,
            PromoteRotationError::NotFound => Self::NotFound,
            PromoteRotationError::NotPending => Self::RotationNotPending,
            PromoteRotationError::NotVerified => Self::RotationNotVerified,
            PromoteRotationError::Repository(error) => error.into(),
        }
    }
}

impl From<CancelRotationError> for ApiError {
    fn from(error: CancelRotationError) -> Self {
        match error {
            CancelRotationError::PermissionDenied => Self::PermissionDenied,
            CancelRotationError::NotFound => Self::NotFound,
            CancelRotationError::NotPending => Self::RotationNotPending,
            CancelRotationError::Repository(error) => error.into(),
        }
    }
}

impl From<EndPreviousError> for ApiError {
    fn from(error: EndPreviousError) -> Self {
        match error {
            EndPreviousError::PermissionDenied => Self::PermissionDenied,
            EndPreviousError::NotFound => Self::NotFound,
            EndPreviousError::Repository(error) => error.into(),
        }
    }
}
