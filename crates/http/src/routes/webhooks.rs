//! Webhook routes (contract section 13): endpoints (`/webhooks/endpoints/`, CRUD,
//! `rotate-secret`, `test`, `deliveries`), manual retry
//! (`/webhooks/deliveries/{id}/retry/`) and the events feed (`/events/`). Owners
//! and admins only.
//!
//! An endpoint's secret appears in exactly two answers, creation and rotation,
//! which `Idempotency-Key` never stores; every other answer omits it.

use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{Map, Value, json};
use switchboard_application::webhooks::{
    CreateEndpoint, DEFAULT_FEED_LIMIT, EndpointWithSecret, MAX_FEED_LIMIT, PatchEndpoint,
};
use switchboard_domain::shared::NON_FIELD_ERRORS;
use switchboard_domain::telephony::ProviderCatalog;
use switchboard_domain::webhooks::{Delivery, DeliveryId, EndpointId, EventType, WebhookEndpoint};

use crate::docs::schema::{envelope, list_envelope, object, page_params, query_param, schema_ref};
use crate::extract::auth::OrgActor;
use crate::extract::body::{BodyLimits, read_json_object};
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::{respond, respond_list};
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind, positive_id, rfc3339};
use crate::wire::query::{PAGE_PARAMETERS, Query};

#[derive(Debug, Serialize)]
struct EndpointView {
    id: i64,
    url: String,
    description: String,
    event_types: Vec<&'static str>,
    enabled: bool,
    disabled_reason: Option<String>,
    previous_secret_expires_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<WebhookEndpoint> for EndpointView {
    fn from(endpoint: WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id.0,
            url: endpoint.url,
            description: endpoint.description,
            event_types: endpoint
                .event_types
                .iter()
                .map(|kind| kind.as_str())
                .collect(),
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            previous_secret_expires_at: endpoint.previous_secret_expires_at.as_ref().map(rfc3339),
            created_at: rfc3339(&endpoint.created_at),
            updated_at: rfc3339(&endpoint.updated_at),
        }
    }
}

#[derive(Debug, Serialize)]
struct EndpointWithSecretView {
    #[serde(flatten)]
    endpoint: EndpointView,
    secret: String,
}

impl From<EndpointWithSecret> for EndpointWithSecretView {
    fn from(created: EndpointWithSecret) -> Self {
        Self {
            endpoint: created.endpoint.into(),
            secret: created.secret.expose_secret().to_owned(),
        }
    }
}

#[derive(Debug, Serialize)]
struct DeliveryView {
    id: i64,
    event_id: String,
    event_type: String,
    status: &'static str,
    attempts: i32,
    last_status_code: Option<i32>,
    next_attempt_at: Option<String>,
    created_at: String,
}

impl From<Delivery> for DeliveryView {
    fn from(delivery: Delivery) -> Self {
        Self {
            id: delivery.id.0,
            event_id: delivery.event_uid,
            event_type: delivery.event_type,
            status: delivery.status.as_str(),
            attempts: delivery.attempts,
            last_status_code: delivery.last_status_code,
            next_attempt_at: delivery.next_attempt_at.as_ref().map(rfc3339),
            created_at: rfc3339(&delivery.created_at),
        }
    }
}

#[derive(Debug, Serialize)]
struct FeedEnvelope {
    count: u64,
    status_code: u16,
    message: &'static str,
    data: Vec<Map<String, Value>>,
    next_after: Option<String>,
}

static CREATE_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("url", Kind::Text).required(),
        Field::new("description", Kind::Text),
        Field::new("event_types", Kind::TextList),
        Field::new("enabled", Kind::Flag),
    ])
});

static PATCH_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("url", Kind::Text),
        Field::new("description", Kind::Text),
        Field::new("event_types", Kind::TextList),
        Field::new("enabled", Kind::Flag),
    ])
});

fn endpoint_id(raw: &str) -> Result<EndpointId, ApiError> {
    positive_id(raw).map(EndpointId).ok_or(ApiError::NotFound)
}

fn page_query(query_string: &str) -> Result<switchboard_domain::shared::PageRequest, ApiError> {
    let mut query = Query::read(query_string, &PAGE_PARAMETERS)?;
    let page = query.page();
    query.finish()?;
    Ok(page)
}

async fn create(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let mut fields = CREATE_FIELDS.read(&body)?;
    let Some(url) = fields.text("url") else {
        return Err(ApiError::invalid("url", "This field is required."));
    };
    let input = CreateEndpoint {
        url,
        description: fields.text("description"),
        event_types: fields.texts("event_types"),
        enabled: fields.flag("enabled"),
    };
    let service = state.webhooks.clone();
    let created = blocking(move || service.create(&actor, &input).map_err(ApiError::from)).await?;
    Ok(respond(
        StatusCode::CREATED,
        "Webhook endpoint created successfully.",
        EndpointWithSecretView::from(created),
    ))
}

async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = page_query(req.query_string())?;
    let service = state.webhooks.clone();
    let page = blocking(move || service.list(&actor, page).map_err(ApiError::from)).await?;
    Ok(respond_list(
        "Webhook endpoints fetched successfully.",
        page.total,
        page.items.into_iter().map(EndpointView::from).collect(),
    ))
}

async fn get(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = endpoint_id(&path)?;
    let service = state.webhooks.clone();
    let endpoint = blocking(move || service.get(&actor, id).map_err(ApiError::from)).await?;
    Ok(respond(
        StatusCode::OK,
        "Webhook endpoint fetched successfully.",
        EndpointView::from(endpoint),
    ))
}

async fn patch(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let mut fields = PATCH_FIELDS.read(&body)?;
    if body.is_empty() {
        return Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "At least one field is required.",
        ));
    }
    let id = endpoint_id(&path)?;
    let input = PatchEndpoint {
        url: fields.text("url"),
        description: fields.text("description"),
        event_types: fields.texts("event_types"),
        enabled: fields.flag("enabled"),
    };
    let service = state.webhooks.clone();
    let endpoint =
        blocking(move || service.update(&actor, id, &input).map_err(ApiError::from)).await?;
    Ok(respond(
        StatusCode::OK,
        "Webhook endpoint updated successfully.",
        EndpointView::from(endpoint),
    ))
}

async fn delete(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = endpoint_id(&path)?;
    let service = state.webhooks.clone();
    blocking(move || service.delete(&actor, id).map_err(ApiError::from)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn rotate_secret(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = endpoint_id(&path)?;
    let service = state.webhooks.clone();
    let rotated =
        blocking(move || service.rotate_secret(&actor, id).map_err(ApiError::from)).await?;
    Ok(respond(
        StatusCode::OK,
        "Webhook endpoint secret rotated successfully.",
        EndpointWithSecretView::from(rotated),
    ))
}

async fn send_test(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = endpoint_id(&path)?;
    let service = state.webhooks.clone();
    let event = blocking(move || service.send_test(&actor, id).map_err(ApiError::from)).await?;
    Ok(respond(
        StatusCode::ACCEPTED,
        "Test event queued.",
        json!({"event_id": event.uid, "event_type": event.event_type}),
    ))
}

async fn deliveries(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = page_query(req.query_string())?;
    let id = endpoint_id(&path)?;
    let service = state.webhooks.clone();
    let page =
        blocking(move || service.deliveries(&actor, id, page).map_err(ApiError::from)).await?;
    Ok(respond_list(
        "Webhook deliveries fetched successfully.",
        page.total,
        page.items.into_iter().map(DeliveryView::from).collect(),
    ))
}

async fn retry(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = positive_id(&path)
        .map(DeliveryId)
        .ok_or(ApiError::NotFound)?;
    let service = state.webhooks.clone();
    let delivery = blocking(move || service.retry(&actor, id).map_err(ApiError::from)).await?;
    Ok(respond(
        StatusCode::ACCEPTED,
        "Webhook delivery queued for another attempt.",
        DeliveryView::from(delivery),
    ))
}

/// Parses `after` and `limit` (1 to 100, default 50).
fn feed_query(query_string: &str) -> Result<(Option<String>, i64), ApiError> {
    let mut query = Query::read(query_string, &["after", "limit"])?;
    let after = query.parsed("after", "must be an event id", |text| {
        is_event_id(text).then(|| text.to_owned())
    });
    let limit = query
        .parsed("limit", "must be an integer from 1 to 100", |text| {
            text.parse::<i64>()
                .ok()
                .filter(|limit| (1..=MAX_FEED_LIMIT).contains(limit))
        })
        .unwrap_or(DEFAULT_FEED_LIMIT);
    query.finish()?;
    Ok((after, limit))
}

/// `evt_` then 1 to 60 ASCII letters or digits: the form the event ids take, and
/// exactly what the OpenAPI pattern `EVENT_ID_PATTERN` says (a byte count would
/// refuse a short id of multi-byte letters that the schema's `maxLength` allows).
fn is_event_id(text: &str) -> bool {
    text.strip_prefix("evt_").is_some_and(|rest| {
        (1..=60).contains(&rest.len()) && rest.bytes().all(|byte| byte.is_ascii_alphanumeric())
    })
}

const EVENT_ID_PATTERN: &str = "^evt_[0-9A-Za-z]{1,60}$";

async fn events(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = feed_query(req.query_string())?;
    let service = state.webhooks.clone();
    let page = blocking(move || {
        service
            .feed(&actor, after.as_deref(), limit)
            .map_err(ApiError::from)
    })
    .await?;
    let data: Vec<Map<String, Value>> = page.events.into_iter().map(|event| event.body).collect();
    Ok(HttpResponse::Ok().json(FeedEnvelope {
        count: data.len() as u64,
        status_code: 200,
        message: "Events fetched successfully.",
        data,
        next_after: page.next_after,
    }))
}

fn event_type_names() -> Vec<&'static str> {
    EventType::ALL
        .into_iter()
        .filter(|kind| *kind != EventType::WebhookTest)
        .map(EventType::as_str)
        .collect()
}

fn endpoint_body(_: &ProviderCatalog) -> Value {
    object(
        json!({"url": {"type": "string", "format": "uri", "maxLength": 2048},
               "description": {"type": "string", "maxLength": 500},
               "event_types": {"type": "array", "items": {"enum": event_type_names()}},
               "enabled": {"type": "boolean"}}),
        &["url"],
    )
}

fn patch_body(catalog: &ProviderCatalog) -> Value {
    let mut body = endpoint_body(catalog);
    body["required"] = json!([]);
    body["minProperties"] = json!(1);
    body
}

fn endpoint_answer() -> Value {
    envelope(schema_ref("WebhookEndpoint"))
}

fn endpoint_with_secret_answer() -> Value {
    envelope(schema_ref("WebhookEndpointWithSecret"))
}

fn endpoints_answer() -> Value {
    list_envelope(schema_ref("WebhookEndpoint"))
}

fn deliveries_answer() -> Value {
    list_envelope(schema_ref("WebhookDelivery"))
}

fn delivery_answer() -> Value {
    envelope(schema_ref("WebhookDelivery"))
}

fn test_answer() -> Value {
    envelope(object(
        json!({"event_id": {"type": "string"}, "event_type": {"const": "webhook.test"}}),
        &["event_id", "event_type"],
    ))
}

fn feed_answer() -> Value {
    json!({"type": "object",
           "properties": {"count": {"type": "integer", "minimum": 0},
                          "status_code": {"type": "integer"}, "message": {"type": "string"},
                          "data": {"type": "array", "items": schema_ref("Event")},
                          "next_after": {"type": ["string", "null"]}},
           "required": ["count", "status_code", "message", "data", "next_after"],
           "additionalProperties": false})
}

fn page_parameters(_: &ProviderCatalog) -> Vec<Value> {
    page_params()
}

fn feed_parameters(_: &ProviderCatalog) -> Vec<Value> {
    vec![
        query_param(
            "after",
            "An event id: the page starts after it (commit order). Absent: from the oldest event.",
            json!({"type": "string", "pattern": EVENT_ID_PATTERN, "maxLength": 64}),
        ),
        query_param(
            "limit",
            "Events per page, 1-100 (default 50).",
            json!({"type": "integer", "minimum": 1, "maximum": 100}),
        ),
    ]
}

/// The webhook and events routes.
pub(crate) fn routes() -> Vec<RouteSpec> {
    let webhooks = |summary| Operation::new("webhooks", summary);
    vec![
        RouteSpec::new(
            Method::POST,
            api("/webhooks/endpoints"),
            Access::OrgAdmin,
            || web::post().to(create),
            webhooks("Create a webhook endpoint (its secret is shown this once)")
                .id("createWebhookEndpoint")
                .body(endpoint_body, true)
                .status(201)
                .answer(endpoint_with_secret_answer)
                .errors(&[400])
                .idempotency(Idempotency::NeverStored),
        ),
        RouteSpec::new(
            Method::GET,
            api("/webhooks/endpoints"),
            Access::OrgAdmin,
            || web::get().to(list),
            webhooks("The organization's webhook endpoints")
                .id("listWebhookEndpoints")
                .query(page_parameters)
                .answer(endpoints_answer)
                .errors(&[400]),
        ),
        RouteSpec::new(
            Method::GET,
            api("/webhooks/endpoints/{id}"),
            Access::OrgAdmin,
            || web::get().to(get),
            webhooks("One webhook endpoint (never its secret)")
                .id("getWebhookEndpoint")
                .answer(endpoint_answer)
                .errors(&[404]),
        ),
        RouteSpec::new(
            Method::PATCH,
            api("/webhooks/endpoints/{id}"),
            Access::OrgAdmin,
            || web::patch().to(patch),
            webhooks("Change a webhook endpoint (enabling it again clears a 410)")
                .id("updateWebhookEndpoint")
                .body(patch_body, true)
                .answer(endpoint_answer)
                .errors(&[400, 404]),
        ),
        RouteSpec::new(
            Method::DELETE,
            api("/webhooks/endpoints/{id}"),
            Access::OrgAdmin,
            || web::delete().to(delete),
            webhooks("Delete a webhook endpoint and its deliveries")
                .id("deleteWebhookEndpoint")
                .status(204)
                .errors(&[404]),
        ),
        RouteSpec::new(
            Method::POST,
            api("/webhooks/endpoints/{id}/rotate-secret"),
            Access::OrgAdmin,
            || web::post().to(rotate_secret),
            webhooks("New secret, shown once; the old one also signs for 24 hours")
                .id("rotateWebhookEndpointSecret")
                .answer(endpoint_with_secret_answer)
                .errors(&[404])
                .idempotency(Idempotency::NeverStored),
        ),
        RouteSpec::new(
            Method::POST,
            api("/webhooks/endpoints/{id}/test"),
            Access::OrgAdmin,
            || web::post().to(send_test),
            webhooks("Send a webhook.test event to this endpoint")
                .id("testWebhookEndpoint")
                .status(202)
                .answer(test_answer)
                .errors(&[404])
                .idempotency(Idempotency::Replayed),
        ),
        RouteSpec::new(
            Method::GET,
            api("/webhooks/endpoints/{id}/deliveries"),
            Access::OrgAdmin,
            || web::get().to(deliveries),
            webhooks("The endpoint's deliveries, newest first")
                .id("listWebhookDeliveries")
                .query(page_parameters)
                .answer(deliveries_answer)
                .errors(&[400, 404]),
        ),
        RouteSpec::new(
            Method::POST,
            api("/webhooks/deliveries/{id}/retry"),
            Access::OrgAdmin,
            || web::post().to(retry),
            webhooks("Attempt a delivery again now")
                .id("retryWebhookDelivery")
                .status(202)
                .answer(delivery_answer)
                .errors(&[404])
                .idempotency(Idempotency::Replayed),
        ),
        RouteSpec::new(
            Method::GET,
            api("/events"),
            Access::OrgAdmin,
            || web::get().to(events),
            webhooks("The organization's change events in commit order, for clients that poll")
                .id("listEvents")
                .query(feed_parameters)
                .answer(feed_answer)
                .errors(&[400, 404]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_queries_are_strict() {
        assert_eq!(feed_query("").ok(), Some((None, 50)));
        assert_eq!(
            feed_query("after=evt_1&limit=100").ok(),
            Some((Some("evt_1".to_owned()), 100))
        );
        let unicode = "after=evt_%F0%9D%95%BF%F0%9D%96%8D";
        let long = format!("after=evt_{}", "a".repeat(61));
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "after=1",
            "page=2",
            "after=evt_",
            unicode,
            &long,
        ] {
            assert!(feed_query(bad).is_err(), "{bad}");
        }
    }
}
