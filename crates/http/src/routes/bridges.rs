//! Bridge routes (contract section 7): create, list, get, update and delete bridges,
//! and connect and disconnect provider configurations to their numbers.
//!
//! This module turns JSON into the domain's drafts (checking JSON types and unknown
//! fields) and bridges into their wire form; every rule beyond JSON types lives in
//! the domain and the service.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_domain::shared::ValidationErrors;
use switchboard_domain::telephony::{Bridge, BridgeDetail, BridgeDraft, ConnectionDraft};

use crate::auth::OrgActor;
use crate::body::{json_integer, read_json_object};
use crate::envelope::{respond, respond_list};
use crate::error::{ApiError, blocking};
use crate::idempotency::idempotent;
use crate::numbers::{page_query, unknown_field};
use crate::request_id::request_id_of;
use crate::{AppState, rfc3339};

/// A bridge in a list.
#[derive(Debug, Serialize)]
struct BridgeView {
    id: i64,
    name: String,
    slug: String,
    status: &'static str,
    region: Option<&'static str>,
    description: Option<String>,
    created_at: String,
}

fn view(bridge: Bridge) -> BridgeView {
    BridgeView {
        id: bridge.id.0,
        name: bridge.name,
        slug: bridge.slug,
        status: bridge.status.as_str(),
        region: bridge.region.map(|region| region.as_str()),
        description: bridge.description,
        created_at: rfc3339(&bridge.created_at),
    }
}

/// A number of a bridge. `id` and `number_id` are both the number's id: a number is
/// on at most one bridge, so its place on the bridge has no identity of its own.
#[derive(Debug, Serialize)]
struct BridgeNumberView {
    id: i64,
    number_id: i64,
    number: String,
    provider_config_id: Option<i64>,
    /// `CONNECTED` when a provider configuration is connected, else `NOT_CONNECTED`.
    status: &'static str,
}

/// One bridge with its numbers.
#[derive(Debug, Serialize)]
struct BridgeDetailView {
    #[serde(flatten)]
    bridge: BridgeView,
    updated_at: String,
    numbers: Vec<BridgeNumberView>,
}

fn detail_view(detail: BridgeDetail) -> BridgeDetailView {
    let updated_at = rfc3339(&detail.bridge.updated_at);
    BridgeDetailView {
        bridge: view(detail.bridge),
        updated_at,
        numbers: detail
            .numbers
            .into_iter()
            .map(|number| BridgeNumberView {
                id: number.number_id.0,
                number_id: number.number_id.0,
                number: number.number.as_str().to_owned(),
                provider_config_id: number.provider_config_id.map(|id| id.0),
                status: if number.provider_config_id.is_some() {
                    "CONNECTED"
                } else {
                    "NOT_CONNECTED"
                },
            })
            .collect(),
    }
}

pub(crate) async fn create(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let draft = bridge_draft(body.clone())?;
    let work = {
        let (service, actor) = (state.bridges.clone(), actor.clone());
        async move {
            let created = blocking(move || service.create_bridge(&actor, draft)).await?;
            Ok(respond(
                StatusCode::CREATED,
                "Bridge created successfully.",
                detail_view(created),
            ))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

pub(crate) async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = page_query(req.query_string(), |_, _, _| false)?;
    let service = state.bridges.clone();
    let page = blocking(move || service.list_bridges(&actor, page)).await?;
    let items: Vec<BridgeView> = page.items.into_iter().map(view).collect();
    Ok(respond_list(
        "Bridges fetched successfully.",
        page.total,
        items,
    ))
}

pub(crate) async fn get(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.into_inner();
    let service = state.bridges.clone();
    let detail = blocking(move || service.get_bridge(&actor, &slug)).await?;
    Ok(respond(
        StatusCode::OK,
        "Bridge fetched successfully.",
        detail_view(detail),
    ))
}

pub(crate) async fn update(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let draft = bridge_draft(body)?;
    let slug = path.into_inner();
    let service = state.bridges.clone();
    let updated = blocking(move || service.update_bridge(&actor, &slug, draft)).await?;
    Ok(respond(
        StatusCode::OK,
        "Bridge updated successfully.",
        detail_view(updated),
    ))
}

pub(crate) async fn delete(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.into_inner();
    let service = state.bridges.clone();
    blocking(move || service.delete_bridge(&actor, &slug)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(crate) async fn connect_provider(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let draft = connection_draft(body.clone())?;
    let slug = path.into_inner();
    let request_id = request_id_of(&req);
    let work = {
        let (service, actor) = (state.bridges.clone(), actor.clone());
        async move {
            let detail = blocking(move || {
                service.connect_provider(&actor, &slug, draft, request_id.as_deref())
            })
            .await?;
            Ok(respond(
                StatusCode::OK,
                "Provider connected to bridge successfully.",
                detail_view(detail),
            ))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

pub(crate) async fn disconnect_provider(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let draft = connection_draft(body.clone())?;
    let slug = path.into_inner();
    let request_id = request_id_of(&req);
    let work = {
        let (service, actor) = (state.bridges.clone(), actor.clone());
        async move {
            let detail = blocking(move || {
                service.disconnect_provider(&actor, &slug, draft, request_id.as_deref())
            })
            .await?;
            Ok(respond(
                StatusCode::OK,
                "Provider disconnected from bridge successfully.",
                detail_view(detail),
            ))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

const MUST_BE_STRING: &str = "must be a string";
const MUST_BE_STRING_OR_NULL: &str = "must be a string or null";

/// Converts a JSON object into a bridge draft, checking JSON types and unknown
/// fields. Create and update accept the same fields; the domain decides which are
/// allowed where (`slug` cannot change).
fn bridge_draft(body: Map<String, Value>) -> Result<BridgeDraft, ApiError> {
    let mut errors = ValidationErrors::new();
    let mut draft = BridgeDraft::default();
    for (key, value) in body {
        match key.as_str() {
            "name" | "slug" | "status" => match value {
                Value::String(text) => match key.as_str() {
                    "name" => draft.name = Some(text),
                    "slug" => draft.slug = Some(text),
                    _ => draft.status = Some(text),
                },
                _ => errors.add(&key, MUST_BE_STRING),
            },
            "description" | "region" => {
                let parsed = match value {
                    Value::String(text) => Some(Some(text)),
                    Value::Null => Some(None),
                    _ => {
                        errors.add(&key, MUST_BE_STRING_OR_NULL);
                        None
                    }
                };
                if key == "description" {
                    draft.description = parsed;
                } else {
                    draft.region = parsed;
                }
            }
            "number_ids" => match value {
                Value::Array(items) => {
                    let ids: Option<Vec<i64>> = items.iter().map(json_integer).collect();
                    match ids {
                        Some(ids) => draft.number_ids = Some(ids),
                        None => errors.add("number_ids", "must be a list of integer ids"),
                    }
                }
                _ => errors.add("number_ids", "must be a list of integer ids"),
            },
            other => unknown_field(&mut errors, other, "Unknown field."),
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(draft)
}

/// Converts a JSON object into a connect or disconnect draft. `provider_config_id`
/// is an integer or a string of digits, `phone_number` a string.
fn connection_draft(body: Map<String, Value>) -> Result<ConnectionDraft, ApiError> {
    let mut errors = ValidationErrors::new();
    let mut draft = ConnectionDraft::default();
    for (key, value) in body {
        match key.as_str() {
            "provider_config_id" => {
                let id = match &value {
                    Value::Number(_) => json_integer(&value),
                    Value::String(text) if !text.is_empty() && text.len() <= 19 => text
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                        .then(|| text.parse::<i64>().ok())
                        .flatten(),
                    _ => None,
                };
                match id {
                    Some(id) => draft.provider_config_id = Some(id),
                    None => errors.add("provider_config_id", "must be an integer id"),
                }
            }
            "phone_number" => match value {
                Value::String(text) => draft.phone_number = Some(text),
                _ => errors.add("phone_number", MUST_BE_STRING),
            },
            other => unknown_field(&mut errors, other, "Unknown field."),
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn errors_of<T: std::fmt::Debug>(result: Result<T, ApiError>) -> ValidationErrors {
        match result {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn bridge_bodies_are_typed() {
        let draft = bridge_draft(object(json!({
            "name": "Main", "slug": "main", "description": null, "region": "US",
            "status": "DRAFT", "number_ids": [1, 2]
        })))
        .expect("valid");
        assert_eq!(draft.name.as_deref(), Some("Main"));
        assert_eq!(draft.description, Some(None));
        assert_eq!(draft.region, Some(Some("US".into())));
        assert_eq!(draft.number_ids, Some(vec![1, 2]));
        let errors = errors_of(bridge_draft(object(json!({
            "name": 1, "slug": null, "description": 5, "region": [], "status": true,
            "number_ids": [1, "2"], "colour": "red", "Secret-Key": 1
        }))));
        for field in [
            "name",
            "slug",
            "description",
            "region",
            "status",
            "number_ids",
            "colour",
            "non_field_errors",
        ] {
            assert!(errors.has(field), "{field}");
        }
        assert!(!format!("{errors:?}").contains("Secret-Key"));
        let errors = errors_of(bridge_draft(object(json!({"number_ids": [1.5]}))));
        assert!(errors.has("number_ids"));
    }

    #[test]
    fn connection_bodies_are_typed() {
        let draft = connection_draft(object(
            json!({"provider_config_id": "42", "phone_number": "+14155550100"}),
        ))
        .expect("valid");
        assert_eq!(draft.provider_config_id, Some(42));
        let draft = connection_draft(object(json!({"provider_config_id": 7}))).expect("valid");
        assert_eq!(draft.provider_config_id, Some(7));
        for bad in [
            json!({"provider_config_id": "4x"}),
            json!({"provider_config_id": "-4"}),
            json!({"provider_config_id": 1.5}),
            json!({"provider_config_id": "99999999999999999999"}),
            json!({"phone_number": 14155550100_i64}),
            json!({"number": "+14155550100"}),
        ] {
            assert!(connection_draft(object(bad.clone())).is_err(), "{bad}");
        }
    }
}
