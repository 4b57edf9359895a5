//! HTTP adapter: the actix-web routes of the contract, the response envelope, the
//! `Authorization`/`Org-Handle` extractors, body reading and the single place where
//! errors become HTTP answers ([`error::ApiError`]).
//!
//! Handlers parse and check the wire format, then call the application services on
//! the blocking pool (all storage work is synchronous). This crate knows no SQL and
//! no cipher.

mod docs;
mod extract;
mod middleware;
pub mod routes;
mod wire;

mod own_thread;
pub mod state;

// The rooms' modules under their former flat names, while the crate moves in.
pub use docs::openapi;
pub use extract::{auth, body, one_trip, preconditions};
pub use middleware::{idempotency, login_throttle, metrics, normalize, rate_limit, request_id};
use routes::{
    audit, bridges, catalog, health, identity, numbers, provider_configs, tokens, verification,
};
use wire::bridge_errors;
pub use wire::{envelope, error};

pub use health::{Readiness, ReadinessProbe};
#[doc(hidden)]
pub use provider_configs::bench_support;
pub use routes::configure;
pub use state::AppState;

/// Formats a timestamp as RFC 3339 UTC with a `Z` suffix.
#[must_use]
pub fn rfc3339(timestamp: &switchboard_domain::shared::Timestamp) -> String {
    timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
