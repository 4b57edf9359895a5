//! Scopes on the wire: the `scopes` list of a token request (unknown names are 400,
//! never echoed), and the list a token object shows.

use switchboard_domain::identity::ScopeSet;

use crate::wire::error::ApiError;
use crate::wire::fields::Fields;

/// The `scopes` of a body, when sent (repeated names count once).
///
/// # Errors
/// 400 under `scopes` for a name that is not a scope (the name is not repeated).
pub(crate) fn scopes_field(fields: &mut Fields) -> Result<Option<ScopeSet>, ApiError> {
    let Some(names) = fields.texts("scopes") else {
        return Ok(None);
    };
    ScopeSet::parse_names(names.iter().map(String::as_str))
        .map(Some)
        .map_err(|_| ApiError::invalid("scopes", UNKNOWN_SCOPE))
}

/// The message of an unknown scope.
pub(crate) const UNKNOWN_SCOPE: &str = "must list only known scopes: configurations:read, configurations:write, bridges:read, bridges:write, credentials:use, credentials:reveal, audit:read, webhooks:manage";

/// The wire form of a token's scopes (`None`: every scope except `credentials:reveal`).
pub(crate) fn scope_names(scopes: Option<ScopeSet>) -> Vec<&'static str> {
    scopes.unwrap_or_else(ScopeSet::legacy).names()
}
