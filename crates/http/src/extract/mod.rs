//! What handlers take from a request before they act: the caller (the one
//! authorization path: token, organization, rate limits), the body (within its size
//! and time limits), preconditions (`If-Match`), and the client's address. Knows the
//! wire's errors and the state, never a route.

pub(crate) mod auth;
pub(crate) mod body;
pub(crate) mod client_address;
pub(crate) mod preconditions;
