//! The end-to-end suite as one test binary (`cargo test -p switchboard-e2e --test
//! api`), one module per topic, as zero2prod's `tests/api/main.rs`: one link step
//! instead of one per file, and helpers shared without a crate of their own.
//!
//! To add a topic, put it in `tests/tests/api/<topic>.rs` and name it below.

mod access;
mod access_tokens;
mod audit;
mod bridge_audit;
mod bridges;
mod concurrency;
mod console;
mod console_admin;
mod credentials;
mod deployment;
mod hardening;
mod idempotency;
mod logs;
mod number_import;
mod observability;
mod openapi;
mod provider_configurations;
mod rate_limit_metrics;
mod request_rules;
mod reveal;
mod roles_matrix;
mod rotation;
mod scopes;
mod secrets;
mod service_accounts;
mod shared_limits;
mod signatures;
mod unavailable;
mod verify;
mod webhooks;
