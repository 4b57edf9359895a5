//! HTTP adapter: the actix-web routes of the contract, the response envelope, the
//! `Authorization`/`Org-Handle` extractors, body reading and the single place where
//! errors become HTTP answers ([`error::ApiError`]).
//!
//! Handlers parse and check the wire format, then call the application services on
//! the blocking pool (all storage work is synchronous). This crate knows no SQL and
//! no cipher.

mod audit;
pub mod auth;
pub mod body;
mod bridge_errors;
mod bridges;
mod catalog;
pub mod envelope;
pub mod error;
mod health;
pub mod idempotency;
mod identity;
pub mod login_throttle;
pub mod metrics;
pub mod normalize;
mod numbers;
pub mod one_trip;
pub mod openapi;
pub mod own_thread;
pub mod preconditions;
mod provider_configs;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod state;
mod tokens;
mod verification;

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
