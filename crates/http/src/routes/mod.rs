//! The routes of the contract, one module per resource, and the route table that
//! registers them. Handlers read the wire, call a service, and write the answer.

pub(crate) mod audit;
pub(crate) mod bridges;
pub(crate) mod catalog;
pub(crate) mod health;
pub(crate) mod identity;
pub(crate) mod numbers;
pub(crate) mod provider_configs;
mod table;
pub(crate) mod tokens;
pub(crate) mod verification;

pub use table::{API_BASE, Access, CONFIG_PATHS, RouteSpec, configure, route_table};
