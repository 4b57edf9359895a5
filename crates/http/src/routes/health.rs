//! Operations routes, at the server root and outside the envelope: liveness (no
//! database access), readiness (the database answers and no migration is pending),
//! the Prometheus metrics, and the API reference (the document and its page).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};

use crate::docs::openapi;
use crate::docs::schema::{object, request_id_header};
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
        });
    let migrations_current = readiness.pending_migrations == Some(0);
    let body = ReadyBody {
        status: if readiness.database_ok && migrations_current {
            "ok"
        } else {
            "unavailable"
        },
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
    };
    if body.status == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(body)
    }
}

/// `GET /metrics`: the Prometheus text, with the pools' usage read now.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let Some(handle) = state.metrics.as_ref() else {
        return HttpResponse::NotFound().finish();
    };
    for pool in state.pool_gauges.pools() {
        metrics::gauge!("db_pool_connections_in_use", "pool" => pool.pool)
            .set(f64::from(pool.in_use));
        metrics::gauge!("db_pool_connections_idle", "pool" => pool.pool).set(f64::from(pool.idle));
        metrics::gauge!("db_pool_max_size", "pool" => pool.pool).set(f64::from(pool.max_size));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

fn live_answer() -> Value {
    object(json!({"status": {"const": "ok"}}), &["status"])
}

fn ready_answer() -> Value {
    json!({"type": "object", "properties": {
        "status": {"enum": ["ok", "unavailable"]}, "database": {"type": "string"},
        "migrations": {"type": "string"}}, "required": ["status"]})
}

fn not_ready() -> Vec<(u16, Value)> {
    vec![(
        503,
        json!({"description": "Not ready.", "headers": {"X-Request-Id": request_id_header()},
               "content": {"application/json": {"schema": {"type": "object",
                   "properties": {"status": {"const": "unavailable"}}, "required": ["status"]}}}}),
    )]
}

fn document_answer() -> Value {
    json!({"type": "object", "required": ["openapi", "paths"]})
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
            operations("Liveness").answer(live_answer),
        ),
        RouteSpec::new(
            Method::GET,
            "/health/ready".into(),
            Access::Public,
            || web::get().to(ready),
            operations("Readiness: database reachable and migrations current (else 503)")
                .answer(ready_answer)
                .responses(not_ready),
        ),
        RouteSpec::new(
            Method::GET,
            "/metrics".into(),
            Access::Public,
            || web::get().to(metrics),
            operations("Prometheus metrics (text format)").answer_media("text/plain"),
        ),
        RouteSpec::new(
            Method::GET,
            "/docs".into(),
            Access::Public,
            || web::get().to(openapi::page),
            operations("The API reference page (HTML)").answer_media("text/html"),
        ),
        RouteSpec::new(
            Method::GET,
            api("/openapi.json"),
            Access::Public,
            || web::get().to(openapi::serve),
            operations("This OpenAPI document").answer(document_answer),
        ),
    ]
}
