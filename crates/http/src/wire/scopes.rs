//! Scopes on the wire: the `scopes` list of a token request (unknown names are 400,
//! never echoed), and the list a token object shows.

use switchboard_domain::identity::{ScopeList, ScopeSet};
use switchboard_domain::validation;

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
    validation::validate(&ScopeList { scopes: &names }).map_err(ApiError::Validation)?;
    ScopeSet::parse_names(names.iter().map(String::as_str))
        .map(Some)
        .map_err(|_| ApiError::invalid("scopes", validation::UNKNOWN_SCOPE))
}

/// The wire form of a token's scopes (`None`: every scope except `credentials:reveal`).
pub(crate) fn scope_names(scopes: Option<ScopeSet>) -> Vec<&'static str> {
    scopes.unwrap_or_else(ScopeSet::legacy).names()
}
