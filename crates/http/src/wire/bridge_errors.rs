//! How the errors of the bridge and number operations become [`ApiError`]s: the
//! bridges module's part of the mapping that [`super::error`] owns. Only the choice
//! of variant and message lives here; the envelope, the logging of unexpected causes
//! and the status codes stay in `error`.
//!
//! 409 messages name what exists or what still depends on the object and never
//! repeat a submitted value.

use serde_json::json;
use switchboard_application::bridges::{
    AddNumberError, ConnectProviderError, CreateBridgeError, DeleteBridgeError, DeleteNumberError,
    GetBridgeError, ListBridgesError, ListNumbersError, UpdateBridgeError,
};
use switchboard_application::number_import::ImportNumbersError;
use switchboard_domain::shared::NON_FIELD_ERRORS;
use switchboard_domain::telephony::BridgeConnection;

use crate::wire::error::ApiError;

const DUPLICATE_NUMBER: &str = "This organization already has this number.";
const NUMBER_ASSIGNED: &str = "This number is on a bridge; remove it from the bridge first.";
const DUPLICATE_SLUG: &str = "A bridge with this slug already exists in this organization.";
const CONFIG_IN_USE: &str = "This provider configuration is connected to bridge numbers; \
                             disconnect them first.";

/// The 409 of deleting a configuration that bridge numbers are connected to: `data`
/// lists them as `{"connections": [{"bridge_slug", "number"}]}`, sorted, so equal
/// states give byte-identical bodies.
pub(crate) fn config_in_use(connections: &[BridgeConnection]) -> ApiError {
    let connections: Vec<serde_json::Value> = connections
        .iter()
        .map(|connection| {
            json!({
                "bridge_slug": connection.bridge_slug,
                "number": connection.number.as_str(),
            })
        })
        .collect();
    ApiError::ConflictWith(CONFIG_IN_USE, json!({ "connections": connections }))
}

impl From<ListNumbersError> for ApiError {
    fn from(error: ListNumbersError) -> Self {
        match error {
            ListNumbersError::Repository(error) => error.into(),
        }
    }
}

impl From<AddNumberError> for ApiError {
    fn from(error: AddNumberError) -> Self {
        match error {
            AddNumberError::Validation(errors) => Self::Validation(errors),
            AddNumberError::PermissionDenied => Self::PermissionDenied,
            AddNumberError::Duplicate => Self::Conflict(DUPLICATE_NUMBER),
            AddNumberError::Repository(error) => error.into(),
        }
    }
}

impl From<DeleteNumberError> for ApiError {
    fn from(error: DeleteNumberError) -> Self {
        match error {
            DeleteNumberError::PermissionDenied => Self::PermissionDenied,
            DeleteNumberError::NotFound => Self::NotFound,
            DeleteNumberError::Assigned => Self::Conflict(NUMBER_ASSIGNED),
            DeleteNumberError::Repository(error) => error.into(),
        }
    }
}

impl From<CreateBridgeError> for ApiError {
    fn from(error: CreateBridgeError) -> Self {
        match error {
            CreateBridgeError::Validation(errors) => Self::Validation(errors),
            CreateBridgeError::PermissionDenied => Self::PermissionDenied,
            CreateBridgeError::DuplicateSlug => Self::Conflict(DUPLICATE_SLUG),
            CreateBridgeError::Repository(error) => error.into(),
        }
    }
}

impl From<ListBridgesError> for ApiError {
    fn from(error: ListBridgesError) -> Self {
        match error {
            ListBridgesError::Repository(error) => error.into(),
        }
    }
}

impl From<GetBridgeError> for ApiError {
    fn from(error: GetBridgeError) -> Self {
        match error {
            GetBridgeError::NotFound => Self::NotFound,
            GetBridgeError::Repository(error) => error.into(),
        }
    }
}

impl From<UpdateBridgeError> for ApiError {
    fn from(error: UpdateBridgeError) -> Self {
        match error {
            UpdateBridgeError::Validation(errors) => Self::Validation(errors),
            UpdateBridgeError::PermissionDenied => Self::PermissionDenied,
            UpdateBridgeError::NotFound => Self::NotFound,
            UpdateBridgeError::Repository(error) => error.into(),
        }
    }
}

impl From<DeleteBridgeError> for ApiError {
    fn from(error: DeleteBridgeError) -> Self {
        match error {
            DeleteBridgeError::PermissionDenied => Self::PermissionDenied,
            DeleteBridgeError::NotFound => Self::NotFound,
            DeleteBridgeError::Repository(error) => error.into(),
        }
    }
}

impl From<ConnectProviderError> for ApiError {
    fn from(error: ConnectProviderError) -> Self {
        match error {
            ConnectProviderError::Validation(errors) => Self::Validation(errors),
            ConnectProviderError::PermissionDenied => Self::PermissionDenied,
            ConnectProviderError::NotFound => Self::NotFound,
            ConnectProviderError::Repository(error) => error.into(),
        }
    }
}

impl From<ImportNumbersError> for ApiError {
    fn from(error: ImportNumbersError) -> Self {
        match error {
            ImportNumbersError::PermissionDenied => Self::PermissionDenied,
            ImportNumbersError::Unsupported => Self::invalid(
                NON_FIELD_ERRORS,
                "number import exists for these providers only: twilio, telnyx, plivo",
            ),
            // What went wrong is logged by the adapter (provider, status or kind of
            // failure); the answer says nothing the provider said.
            ImportNumbersError::Provider(_) => Self::ProviderError,
            ImportNumbersError::Use(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use actix_web::body::to_bytes;
    use switchboard_domain::telephony::E164;

    use super::*;

    #[actix_web::test]
    async fn the_delete_guard_lists_the_connections_in_data() {
        let number = E164::parse("+14155550100").expect("valid");
        let error = config_in_use(&[BridgeConnection {
            bridge_slug: "main".into(),
            number,
        }]);
        let response = error.error_response();
        assert_eq!(response.status(), 409);
        let bytes = to_bytes(response.into_body()).await.expect("body");
        assert_eq!(
            std::str::from_utf8(&bytes).expect("utf-8"),
            r#"{"status_code":409,"message":"This provider configuration is connected to bridge numbers; disconnect them first.","code":"conflict","data":{"connections":[{"bridge_slug":"main","number":"+14155550100"}]}}"#
        );
    }
}
