//! Bridge routes (contract section 7): create, list, get, update and delete bridges,
//! and connect and disconnect provider configurations to their numbers.
//!
//! This module turns JSON into the domain's drafts through the field tables (JSON
//! types, unknown fields) and bridges into their wire form; every rule beyond JSON
//! types lives in the domain and the service.

use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value, json};
use switchboard_domain::telephony::{
    Bridge, BridgeDetail, BridgeDraft, ConnectionDraft, ProviderCatalog,
};

use crate::docs::schema::{
    e164, envelope, id_schema, list_envelope, no_control, non_blank, nullable, object, page_params,
    schema_ref,
};
use crate::extract::auth::OrgActor;
use crate::extract::body::{BodyLimits, read_json_object};
use crate::middleware::idempotency::idempotent;
use crate::middleware::request_id::request_id_of;
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::{respond, respond_list};
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind, rfc3339};
use crate::wire::query::{PAGE_PARAMETERS, Query};

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

async fn create(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let draft = bridge_draft(&body)?;
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

async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut query = Query::read(req.query_string(), &PAGE_PARAMETERS)?;
    let page = query.page();
    query.finish()?;
    let service = state.bridges.clone();
    let page = blocking(move || service.list_bridges(&actor, page)).await?;
    let items: Vec<BridgeView> = page.items.into_iter().map(view).collect();
    Ok(respond_list(
        "Bridges fetched successfully.",
        page.total,
        items,
    ))
}

async fn get(
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

async fn update(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let draft = bridge_draft(&body)?;
    let slug = path.into_inner();
    let service = state.bridges.clone();
    let updated = blocking(move || service.update_bridge(&actor, &slug, draft)).await?;
    Ok(respond(
        StatusCode::OK,
        "Bridge updated successfully.",
        detail_view(updated),
    ))
}

async fn delete(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.into_inner();
    let service = state.bridges.clone();
    blocking(move || service.delete_bridge(&actor, &slug)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn connect_provider(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let draft = connection_draft(&body)?;
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

async fn disconnect_provider(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let draft = connection_draft(&body)?;
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

/// The fields of a bridge body. Create and update accept the same fields; the
/// domain decides which are allowed where (`slug` cannot change).
static BRIDGE_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("name", Kind::Text),
        Field::new("slug", Kind::Text),
        Field::new("status", Kind::Text),
        Field::new("description", Kind::Text).nullable(),
        Field::new("region", Kind::Text).nullable(),
        Field::new("number_ids", Kind::IntegerList),
    ])
});

/// The fields of a connect or disconnect body: `provider_config_id` is an integer
/// or a string of digits, `phone_number` a string.
static CONNECTION_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("provider_config_id", Kind::IdOrDigits),
        Field::new("phone_number", Kind::Text),
    ])
});

fn bridge_draft(body: &Map<String, Value>) -> Result<BridgeDraft, ApiError> {
    let mut fields = BRIDGE_FIELDS.read(body)?;
    Ok(BridgeDraft {
        name: fields.text("name"),
        slug: fields.text("slug"),
        status: fields.text("status"),
        description: fields.nullable_text("description"),
        region: fields.nullable_text("region"),
        number_ids: fields.integers("number_ids"),
    })
}

fn connection_draft(body: &Map<String, Value>) -> Result<ConnectionDraft, ApiError> {
    let mut fields = CONNECTION_FIELDS.read(body)?;
    Ok(ConnectionDraft {
        provider_config_id: fields.integer("provider_config_id"),
        phone_number: fields.text("phone_number"),
    })
}

fn bridge_body(create: bool) -> Value {
    let mut properties = json!({
        "name": non_blank(100),
        "description": nullable(json!({"type": "string", "maxLength": 1000,
            "not": {"type": "string", "pattern": "[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]"}})),
        "status": {"enum": ["ACTIVE", "INACTIVE", "DRAFT"]},
        "region": {"enum": ["IN", "US", "EU", "AUS", "UAE", null]},
        "number_ids": {"type": "array", "maxItems": 1000, "items": id_schema(),
            "description": "Ids of the organization's numbers not on another bridge (else 400); replaces the set on PATCH."}
    });
    if create {
        properties["slug"] = json!({"type": "string", "maxLength": 63,
            "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "not": no_control()});
        object(properties, &["name"])
    } else {
        let mut schema = object(properties, &[]);
        schema["minProperties"] = json!(1);
        schema
    }
}

fn create_body(_: &ProviderCatalog) -> Value {
    bridge_body(true)
}

fn update_body(_: &ProviderCatalog) -> Value {
    bridge_body(false)
}

fn connect_body(_: &ProviderCatalog) -> Value {
    object(
        json!({"provider_config_id": {"oneOf": [id_schema(),
            {"type": "string", "pattern": "^0*[1-9][0-9]*$", "maxLength": 19,
             "not": no_control()}]},
            "phone_number": e164()}),
        &["provider_config_id", "phone_number"],
    )
}

fn disconnect_body(_: &ProviderCatalog) -> Value {
    object(json!({"phone_number": e164()}), &["phone_number"])
}

fn page_parameters(_: &ProviderCatalog) -> Vec<Value> {
    page_params()
}

fn bridges_answer() -> Value {
    list_envelope(schema_ref("Bridge"))
}

fn detail_answer() -> Value {
    envelope(schema_ref("BridgeDetail"))
}

/// The bridge routes.
pub(crate) fn routes() -> Vec<RouteSpec> {
    let bridges = |summary| Operation::new("bridges and numbers", summary);
    vec![
        RouteSpec::new(
            Method::GET,
            api("/telephony/bridges"),
            Access::OrgRead,
            || web::get().to(list),
            bridges("The organization's bridges")
                .id("listBridges")
                .query(page_parameters)
                .answer(bridges_answer)
                .errors(&[400]),
        ),
        RouteSpec::new(
            Method::POST,
            api("/telephony/bridges"),
            Access::OrgWrite,
            || web::post().to(create),
            bridges("Create a bridge")
                .id("createBridge")
                .idempotency(Idempotency::Replayed)
                .body(create_body, true)
                .status(201)
                .answer(detail_answer)
                .errors(&[400, 409, 422]),
        ),
        RouteSpec::new(
            Method::GET,
            api("/telephony/bridges/{slug}"),
            Access::OrgRead,
            || web::get().to(get),
            bridges("Get a bridge with its numbers")
                .id("getBridge")
                .answer(detail_answer)
                .errors(&[404]),
        ),
        RouteSpec::new(
            Method::PATCH,
            api("/telephony/bridges/{slug}"),
            Access::OrgWrite,
            || web::patch().to(update),
            bridges("Update a bridge (`number_ids` replaces its numbers)")
                .id("updateBridge")
                .body(update_body, true)
                .answer(detail_answer)
                .errors(&[400, 404, 409]),
        ),
        RouteSpec::new(
            Method::DELETE,
            api("/telephony/bridges/{slug}"),
            Access::OrgWrite,
            || web::delete().to(delete),
            bridges("Delete a bridge; its numbers go back to NOT_ASSIGNED")
                .id("deleteBridge")
                .status(204)
                .errors(&[404]),
        ),
        RouteSpec::new(
            Method::POST,
            api("/telephony/bridges/{slug}/connect-provider"),
            Access::OrgWrite,
            || web::post().to(connect_provider),
            bridges("Connect a provider configuration to a number of the bridge")
                .id("connectBridgeProvider")
                .idempotency(Idempotency::Replayed)
                .body(connect_body, true)
                .answer(detail_answer)
                .errors(&[400, 404, 409, 422]),
        ),
        RouteSpec::new(
            Method::POST,
            api("/telephony/bridges/{slug}/disconnect-provider"),
            Access::OrgWrite,
            || web::post().to(disconnect_provider),
            bridges("Disconnect the provider configuration from a number of the bridge")
                .id("disconnectBridgeProvider")
                .idempotency(Idempotency::Replayed)
                .body(disconnect_body, true)
                .answer(detail_answer)
                .errors(&[400, 404, 409, 422]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use switchboard_domain::shared::{NON_FIELD_ERRORS, ValidationErrors};

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
        let draft = bridge_draft(&object(json!({
            "name": "Main", "slug": "main", "description": null, "region": "US",
            "status": "DRAFT", "number_ids": [1, 2]
        })))
        .expect("valid");
        assert_eq!(draft.name.as_deref(), Some("Main"));
        assert_eq!(draft.description, Some(None));
        assert_eq!(draft.region, Some(Some("US".into())));
        assert_eq!(draft.number_ids, Some(vec![1, 2]));
        let errors = errors_of(bridge_draft(&object(json!({
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
            NON_FIELD_ERRORS,
        ] {
            assert!(errors.has(field), "{field}");
        }
        assert!(!errors.has("colour"), "unknown names are not echoed");
        assert!(!format!("{errors:?}").contains("Secret-Key"));
        let errors = errors_of(bridge_draft(&object(json!({"number_ids": [1.5]}))));
        assert!(errors.has("number_ids"));
    }

    #[test]
    fn connection_bodies_are_typed() {
        let draft = connection_draft(&object(
            json!({"provider_config_id": "42", "phone_number": "+14155550100"}),
        ))
        .expect("valid");
        assert_eq!(draft.provider_config_id, Some(42));
        let draft = connection_draft(&object(json!({"provider_config_id": 7}))).expect("valid");
        assert_eq!(draft.provider_config_id, Some(7));
        for bad in [
            json!({"provider_config_id": "4x"}),
            json!({"provider_config_id": "-4"}),
            json!({"provider_config_id": 1.5}),
            json!({"provider_config_id": "99999999999999999999"}),
            json!({"phone_number": 14155550100_i64}),
            json!({"number": "+14155550100"}),
        ] {
            assert!(connection_draft(&object(bad.clone())).is_err(), "{bad}");
        }
    }
}
