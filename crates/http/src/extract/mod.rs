//! What handlers take from a request before they act: the caller (token,
//! organization, rate limits), the body, and preconditions. Knows the wire's errors,
//! never a route.

pub mod auth;
pub mod body;
pub mod one_trip;
pub mod preconditions;
