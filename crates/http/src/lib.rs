//! HTTP adapter: the actix-web routes of the contract and everything between a
//! request and a service call, in rooms that depend on each other one way only:
//!
//! - `wire`: the envelope, `ApiError` (the one place where errors become HTTP
//!   answers), the rate-limit headers, and the one reader of JSON bodies and query
//!   strings (strict JSON, field tables);
//! - `extract`: the one authorization path and its extractors, body reading,
//!   preconditions, the client address;
//! - `middleware`: path normalization, request ids and the access log, metrics,
//!   `Idempotency-Key`;
//! - `routes`: one module per resource, each listing its routes with their
//!   metadata (`spec`: plain data, below both `routes` and `docs`), and the route
//!   table;
//! - `docs`: the OpenAPI document built from the table, and the reference page.
//!
//! Handlers parse and check the wire format, then call the application services on
//! the blocking pool (all storage work is synchronous), inside the request's span.
//! This crate knows no SQL and no cipher.

mod docs;
mod extract;
mod middleware;
pub mod routes;
mod spec;
mod state;
mod wire;

pub use middleware::metrics::{count_secret_use, process_metrics, prometheus, track_requests};
pub use middleware::normalize::normalize_path;
pub use middleware::request_id::request_id_middleware;
pub use routes::health::metrics_endpoint;
pub use routes::{configure, route_table};
pub use state::{
    AppState, GroupCommitCounts, PoolGauge, PoolGauges, ReadSessions, Readiness, ReadinessProbe,
};
pub use wire::forwarded::{InvalidTrustedProxy, TrustedProxies};

#[cfg(feature = "bench")]
#[doc(hidden)]
pub use routes::provider_configs::bench_support;

/// The OpenAPI document of the route table for `catalog`, serialized: built once at
/// start and kept in [`AppState::openapi`].
#[must_use]
pub fn openapi_document(
    catalog: &switchboard_domain::telephony::ProviderCatalog,
) -> actix_web::web::Bytes {
    let document = docs::openapi::document(&routes::route_table(), catalog);
    actix_web::web::Bytes::from(serde_json::to_vec(&document).unwrap_or_default())
}
