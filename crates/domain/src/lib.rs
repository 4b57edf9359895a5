//! Switchboard's domain: the entities, value objects, ports (traits the adapters
//! implement) and per-operation errors of the service.
//!
//! This crate knows no framework: no HTTP, no database, no configuration and no
//! cryptography crate. Adapters depend on it, never the other way round.

pub mod audit;
pub mod idempotency;
pub mod identity;
pub mod limits;
pub mod precondition;
pub mod shared;
pub mod telephony;
pub mod validation;
pub mod webhooks;
