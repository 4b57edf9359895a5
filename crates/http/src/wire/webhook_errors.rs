//! How the errors of the webhook operations become [`ApiError`]s.

use switchboard_application::webhooks::WebhookError;

use crate::wire::error::ApiError;

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::PermissionDenied => Self::PermissionDenied,
            WebhookError::NotFound => Self::NotFound,
            WebhookError::Validation(errors) => Self::Validation(errors),
            WebhookError::Seal => Self::internal(&"a webhook endpoint secret could not be sealed"),
            WebhookError::Repository(error) => error.into(),
        }
    }
}
