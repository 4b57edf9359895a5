//! The routes of the contract, one module per resource, each listing its own routes
//! with their metadata ([`RouteSpec`]), and the route table that gathers and
//! registers them. Handlers read the wire, call a service, and write the answer.

pub(crate) mod audit;
pub(crate) mod bridges;
pub(crate) mod catalog;
pub(crate) mod credential_use;
pub(crate) mod health;
pub(crate) mod identity;
pub(crate) mod number_import;
pub(crate) mod numbers;
pub(crate) mod provider_configs;
pub(crate) mod rotations;
pub(crate) mod service_accounts;
pub(crate) mod table;
pub(crate) mod tokens;
pub(crate) mod verification;
pub(crate) mod webhooks;

pub use crate::spec::{API_BASE, Access, CONFIG_PATHS, Idempotency, RouteSpec};
pub use table::{configure, route_table};
