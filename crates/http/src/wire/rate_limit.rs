//! The rate-limit headers of the wire: every authenticated answer carries
//! `X-RateLimit-Limit` (the token bucket's size), `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the bucket is full again); a 429 adds
//! `Retry-After` (see [`super::error`]).

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use switchboard_domain::limits::Decision;

/// A bucket's state after a request, as the headers show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitStatus {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_seconds: u64,
}

impl From<Decision> for RateLimitStatus {
    fn from(decision: Decision) -> Self {
        Self {
            limit: decision.limit,
            remaining: decision.remaining,
            reset_seconds: decision.reset_seconds(),
        }
    }
}

impl RateLimitStatus {
    /// Writes the `X-RateLimit-*` headers.
    pub(crate) fn write_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-ratelimit-limit", u64::from(self.limit)),
            ("x-ratelimit-remaining", u64::from(self.remaining)),
            ("x-ratelimit-reset", self.reset_seconds),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}
