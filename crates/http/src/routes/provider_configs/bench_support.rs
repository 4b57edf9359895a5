//! Entry points for the micro-benchmarks of `crates/http/benches` (feature `bench`):
//! the request and response work of the configuration routes that needs no server,
//! through the same functions the handlers call. Not part of the crate's API.

use actix_web::body::MessageBody;
use serde_json::Value;
use switchboard_domain::shared::NON_FIELD_ERRORS;
use switchboard_domain::telephony::{CreateProviderConfig, ProviderCatalog, ProviderConfig};

use super::{ProviderConfigView, draft_from_json, view};
use crate::wire::envelope::respond_list;
use crate::wire::error::ApiError;
use crate::wire::json::parse_strict;

/// A create request's body, as the create handler checks it once it has been read:
/// JSON syntax and shape, field types and aliases, then the domain's rules
/// (`CreateProviderConfig::validate`, as the service runs it).
///
/// # Errors
/// The 400 the handler or the service would answer.
pub fn parse_and_validate_create(
    body: &[u8],
    catalog: &ProviderCatalog,
) -> Result<CreateProviderConfig, ApiError> {
    let object = match parse_strict(body) {
        Ok(Value::Object(map)) => map,
        _ => return Err(ApiError::invalid(NON_FIELD_ERRORS, "Malformed JSON.")),
    };
    let draft = draft_from_json(&object, catalog)?;
    CreateProviderConfig::validate(draft, catalog).map_err(ApiError::Validation)
}

/// The body of a list answer: the configurations' wire views in the envelope, as the
/// list handler builds it.
#[must_use]
pub fn list_envelope_body(
    configs: Vec<ProviderConfig>,
    catalog: &ProviderCatalog,
    org_handle: &str,
    total: u64,
) -> Vec<u8> {
    let items: Vec<ProviderConfigView> = configs
        .iter()
        .map(|config| view(config, catalog, org_handle))
        .collect();
    respond_list(
        "Provider configurations fetched successfully.",
        total,
        items,
    )
    .into_body()
    .try_into_bytes()
    .map(|bytes| bytes.to_vec())
    .unwrap_or_default()
}
