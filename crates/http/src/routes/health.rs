//! Operations routes, at the server root and outside the envelope: liveness (no
//! database access), readiness (the database answers, no migration is pending, writes
//! work, and every key id used by stored secrets is configured; the count of stored
//! secrets that do not open is reported but never makes the service unready),
//! the Prometheus metrics, and the API reference (the document and its page).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};

use crate::docs::openapi;
use crate::docs::schema::{request_id_header, view};
use crate::middleware::metrics::{
    GROUP_COMMIT_WRITES, GROUP_COMMITS, POOL_IDLE, POOL_IN_USE, POOL_MAX, process_metrics,
};
use crate::spec::{Access, Operation, RouteSpec, api};
use crate::state::{AppState, Readiness};
use crate::wire::error::block_in_span;

#[derive(Serialize)]
struct LiveBody {
    status: &'static str,
}

#[derive(Serialize)]
struct ReadyBody {
    status: &'static str,
    database: &'static str,
    migrations: &'static str,
    database_writes: &'static str,
    keys: &'static str,
    missing_keys: Vec<MissingKey>,
    unreadable_credentials: Option<u64>,
}

#[derive(Serialize)]
struct MissingKey {
    key_id: u32,
    secrets: u64,
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(LiveBody { status: "ok" })
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let probe = state.readiness.clone();
    let readiness = block_in_span(move || probe.check())
        .await
        .unwrap_or(Readiness {
            database_ok: false,
            pending_migrations: None,
            writes_failing: false,
            missing_keys: Vec::new(),
            unreadable_credentials: None,
        });
    let migrations_current = readiness.pending_migrations == Some(0);
    let ready = readiness.database_ok
        && migrations_current
        && !readiness.writes_failing
        && readiness.missing_keys.is_empty();
    let body = ReadyBody {
        status: if ready { "ok" } else { "unavailable" },
        database: if readiness.database_ok {
            "ok"
        } else {
            "unavailable"
        },
        migrations: match readiness.pending_migrations {
            Some(0) => "current",
            Some(_) => "pending",
            None => "unknown",
        },
        database_writes: if readiness.writes_failing {
            "failing"
        } else {
            "ok"
        },
        keys: if readiness.missing_keys.is_empty() {
            "ok"
        } else {
            "missing"
        },
        missing_keys: readiness
            .missing_keys
            .iter()
            .map(|(key_id, secrets)| MissingKey {
                key_id: *key_id,
                secrets: *secrets,
            })
            .collect(),
        unreadable_credentials: readiness.unreadable_credentials,
    };
    if body.status == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(body)
    }
}

/// `GET /metrics`: the Prometheus text, with the pools' usage and the process
/// metrics read now. Served on the API's own port, or (setting `metrics.address`)
/// by a listener of its own whose state alone holds the recorder: the API port then
/// answers 404.
pub async fn metrics_endpoint(state: web::Data<AppState>) -> HttpResponse {
    let Some(handle) = state.metrics.as_ref() else {
        return HttpResponse::NotFound().finish();
    };
    for pool in state.pool_gauges.pools() {
        metrics::gauge!(POOL_IN_USE, "pool" => pool.pool).set(f64::from(pool.in_use));
        metrics::gauge!(POOL_IDLE, "pool" => pool.pool).set(f64::from(pool.idle));
        metrics::gauge!(POOL_MAX, "pool" => pool.pool).set(f64::from(pool.max_size));
    }
    if let Some(counts) = state.pool_gauges.group_commits() {
        metrics::counter!(GROUP_COMMITS).absolute(counts.commits);
        metrics::counter!(GROUP_COMMIT_WRITES).absolute(counts.writes);
    }
    let mut text = handle.render();
    text.push_str(&process_metrics());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

fn live_answer() -> Value {
    view(json!({"status": {"const": "ok"}}), &["status"])
}

fn ready_answer() -> Value {
    json!({"type": "object", "properties": {
        "status": {"enum": ["ok", "unavailable"]}, "database": {"type": "string"},
        "migrations": {"type": "string"},
        "database_writes": {"enum": ["ok", "failing"]},
        "keys": {"enum": ["ok", "missing"]},
        "missing_keys": {"type": "array", "items": {"type": "object", "properties": {
            "key_id": {"type": "integer"}, "secrets": {"type": "integer"}}}},
        "unreadable_credentials": {"type": ["integer", "null"]}},
        "required": ["status"]})
}

fn not_ready() -> Vec<(u16, Value)> {
    vec![(
        503,
        json!({"description": "Not ready.", "headers": {"X-Request-Id": request_id_header()},
               "content": {"application/json": {"schema": ready_answer(),
                   "example": {"status": "unavailable", "database": "ok", "migrations": "current",
                               "database_writes": "ok", "keys": "missing",
                               "missing_keys": [{"key_id": 1, "secrets": 12}],
                               "unreadable_credentials": 0}}}}),
    )]
}

fn document_answer() -> Value {
    json!({"type": "object", "properties": {"openapi": {"type": "string"}, "paths": {"type": "object"}},
           "required": ["openapi", "paths"]})
}

/// The operations routes.
pub(crate) fn routes() -> Vec<RouteSpec> {
    let operations = |summary| Operation::new("operations", summary).without_database();
    vec![
        RouteSpec::new(
            Method::GET,
            "/health/live".into(),
            Access::Public,
            || web::get().to(live),
            operations("Liveness").id("getLiveness").answer(live_answer),
        ),
        RouteSpec::new(
            Method::GET,
            "/health/ready".into(),
            Access::Public,
            || web::get().to(ready),
            operations(
                "Readiness: database reachable, migrations current, writes working and \
                 every key id used by stored secrets configured (else 503)",
            )
            .id("getReadiness")
            .answer(ready_answer)
            .responses(not_ready),
        ),
        RouteSpec::new(
            Method::GET,
            "/metrics".into(),
            Access::Public,
            || web::get().to(metrics_endpoint),
            operations("Prometheus metrics (text format)")
                .id("getMetrics")
                .answer_media("text/plain"),
        ),
        RouteSpec::new(
            Method::GET,
            "/docs".into(),
            Access::Public,
            || web::get().to(openapi::page),
            operations("The API reference page (HTML)")
                .id("getReferencePage")
                .answer_media("text/html"),
        ),
        RouteSpec::new(
            Method::GET,
            "/docs/redoc.standalone.js".into(),
            Access::Public,
            || web::get().to(openapi::script),
            operations("The reference page's renderer (Redoc 2.5.4, vendored; JavaScript)")
                .id("getReferencePageScript")
                .answer_media("text/javascript"),
        ),
        RouteSpec::new(
            Method::GET,
            api("/openapi.json"),
            Access::Public,
            || web::get().to(openapi::serve),
            operations("This OpenAPI document")
                .id("getOpenApiDocument")
                .answer(document_answer),
        ),
    ]
}
