//! The API's own documentation: the OpenAPI 3.1 document, built once from the route
//! table's metadata and the provider catalog, and the human reference page that
//! renders it; plus the schema builders route modules describe their bodies with.
//! Knows the route table's metadata types, never a handler.

pub(crate) mod components;
pub(crate) mod examples;
pub(crate) mod openapi;
pub(crate) mod schema;
