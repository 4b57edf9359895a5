//! The wire format: the response envelope, [`error::ApiError`] and every mapping of
//! an operation's error onto it, the rate-limit headers, `X-Forwarded-For`, and the
//! one reader of JSON bodies and query strings (strict JSON, field tables, query
//! tables). Knows no
//! route, no extractor and no middleware.

pub(crate) mod bridge_errors;
pub(crate) mod envelope;
pub(crate) mod error;
pub(crate) mod fields;
pub(crate) mod forwarded;
mod identity_errors;
pub(crate) mod json;
pub(crate) mod query;
pub(crate) mod rate_limit;
pub(crate) mod scopes;
mod telephony_errors;
mod webhook_errors;
