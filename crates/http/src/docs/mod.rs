//! The API's own documentation: the OpenAPI 3.1 document and the human reference
//! page built from it. Knows the route table's metadata, never a handler's insides.

pub mod openapi;
