//! The rate-limit headers of the wire: every authenticated answer carries
//! `X-RateLimit-Limit` (the token bucket's size), `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the bucket is full again), and the same facts
//! as the IETF fields of draft-ietf-httpapi-ratelimit-headers:
//! `RateLimit-Policy: "token";q=<size>;w=<seconds to refill from empty>` and
//! `RateLimit: "token";r=<remaining>;t=<seconds until full>`. A 429 adds
//! `Retry-After` (see [`super::error`]), and its headers describe the bucket that
//! refused it (`"user"` for the per-user limit).

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use switchboard_domain::limits::Decision;

/// A bucket's state after a request, as the headers show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitStatus {
    /// The policy's name: letters and hyphens only (a Structured Fields string
    /// without escapes).
    pub(crate) policy: &'static str,
    pub(crate) limit: u32,
    pub(crate) window_seconds: u64,
    pub(crate) remaining: u32,
    pub(crate) reset_seconds: u64,
}

impl From<Decision> for RateLimitStatus {
    fn from(decision: Decision) -> Self {
        Self {
            policy: decision.policy,
            limit: decision.limit,
            window_seconds: decision.window_seconds(),
            remaining: decision.remaining,
            reset_seconds: decision.reset_seconds(),
        }
    }
}

impl RateLimitStatus {
    /// Writes the `X-RateLimit-*`, `RateLimit-Policy` and `RateLimit` headers.
    pub(crate) fn write_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-ratelimit-limit", u64::from(self.limit)),
            ("x-ratelimit-remaining", u64::from(self.remaining)),
            ("x-ratelimit-reset", self.reset_seconds),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
        let policy = format!(
            "\"{}\";q={};w={}",
            self.policy,
            self.limit,
            self.window_seconds.max(1)
        );
        let state = format!(
            "\"{}\";r={};t={}",
            self.policy, self.remaining, self.reset_seconds
        );
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}
