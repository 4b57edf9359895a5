//! Credential verification routes: `POST .../providers-configurations/{id}/verify/`,
//! the `verify` query flag of create and update, and the wire form of a stored
//! outcome (`"verification": {"status", "checked_at"}` or `null`).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use switchboard_application::WriteOptions;
use switchboard_domain::shared::{NON_FIELD_ERRORS, ValidationErrors};
use switchboard_domain::telephony::{ProviderConfigId, Verification};

use crate::auth::OrgActor;
use crate::body::read_json_object;
use crate::error::{ApiError, blocking};
use crate::idempotency::idempotent;
use crate::provider_configs::{config_id, echoable_field_name, single};
use crate::request_id::request_id_of;
use crate::{AppState, rfc3339};

/// The wire form of a stored verification.
#[derive(Debug, Serialize)]
pub(crate) struct VerificationView {
    status: &'static str,
    checked_at: String,
}

/// `null` when never verified (or the credentials changed since).
pub(crate) fn verification_view(verification: Option<Verification>) -> Option<VerificationView> {
    verification.map(|verification| VerificationView {
        status: verification.status.as_str(),
        checked_at: rfc3339(&verification.checked_at),
    })
}

/// Parses the query of a create or update: only `verify` (`true` or `false`).
///
/// # Errors
/// 400 for another parameter or value.
pub(crate) fn verify_flag(query_string: &str) -> Result<bool, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|_| ApiError::invalid(NON_FIELD_ERRORS, "Malformed query string."))?
        .into_inner();
    let mut errors = ValidationErrors::new();
    let mut verify = false;
    for (key, value) in pairs {
        match key.as_str() {
            "verify" => match value.as_str() {
                "true" => verify = true,
                "false" => verify = false,
                _ => errors.add("verify", "must be true or false"),
            },
            other if echoable_field_name(other) => errors.add(other, "Unknown query parameter."),
            _ => errors.add(
                NON_FIELD_ERRORS,
                "The query holds a parameter that is not accepted.",
            ),
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(verify)
}

/// Whether the request carries a body at all.
fn has_body(req: &HttpRequest) -> bool {
    req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .is_some_and(|length| length > 0)
}

/// `POST .../{id}/verify/`: checks the stored credentials with the provider and
/// records the outcome. A body is optional; when sent it must be an empty JSON
/// object.
pub(crate) async fn verify(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = if has_body(&req) {
        let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
        if let Some(field) = body.keys().next() {
            let field = if echoable_field_name(field) {
                field.as_str()
            } else {
                NON_FIELD_ERRORS
            };
            return Err(ApiError::invalid(field, "Unknown field."));
        }
        Some(body)
    } else {
        None
    };
    if !req.query_string().is_empty() {
        return Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "This route takes no query parameters.",
        ));
    }
    // An id that cannot exist is a 404, after the role has been checked.
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let options = WriteOptions {
        request_id: request_id_of(&req),
        ..WriteOptions::default()
    };
    let work = {
        let (state, actor) = (state.clone(), actor.clone());
        async move {
            let service = state.provider_configs.clone();
            let handle = actor.org_handle.as_str().to_owned();
            let verified = blocking(move || service.verify(&actor, id, &options)).await?;
            Ok(single(
                StatusCode::OK,
                "Provider configuration verified.",
                verified,
                &state,
                &handle,
            ))
        }
    };
    idempotent(&req, &state, &actor, body.as_ref(), work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verify_flag_is_strict() {
        assert_eq!(verify_flag(""), Ok(false));
        assert_eq!(verify_flag("verify=true"), Ok(true));
        assert_eq!(verify_flag("verify=false"), Ok(false));
        for bad in ["verify=1", "verify=yes", "other=1", "Sk-Secret=1"] {
            assert!(verify_flag(bad).is_err(), "{bad}");
        }
    }
}
