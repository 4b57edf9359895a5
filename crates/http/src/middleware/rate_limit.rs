//! Per-token rate limiting (GCRA through the `governor` crate).
//!
//! Each token has a bucket of `burst` requests refilled at `per_second`. Every
//! authenticated answer carries `X-RateLimit-Limit` (the bucket size),
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the bucket is
//! full again); a request over the limit is 429 with `Retry-After`. Buckets are per
//! process: with several replicas each enforces its own limit (see
//! `docs/operations.md`).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use switchboard_domain::identity::TokenId;

type KeyedLimiter =
    RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock, StateInformationMiddleware>;

/// How often (in checks) idle buckets are dropped, bounding memory.
const CLEANUP_EVERY_CHECKS: u64 = 10_000;

/// The state of a token's bucket after a request, for the response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitStatus {
    pub limit: u32,
    pub remaining: u32,
    pub reset_seconds: u64,
}

impl RateLimitStatus {
    /// Writes the `X-RateLimit-*` headers.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-ratelimit-limit", u64::from(self.limit)),
            ("x-ratelimit-remaining", u64::from(self.remaining)),
            ("x-ratelimit-reset", self.reset_seconds),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed(RateLimitStatus),
    Limited {
        status: RateLimitStatus,
        retry_after_seconds: u64,
    },
}

/// Buckets by token id. `None` inside means limiting is off (`per_second = 0`).
pub struct TokenRateLimiter {
    limiter: Option<KeyedLimiter>,
    burst: u32,
    replenish: Duration,
    checks: AtomicU64,
}

impl std::fmt::Debug for TokenRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRateLimiter")
            .field("enabled", &self.limiter.is_some())
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl TokenRateLimiter {
    /// `per_second` requests per second per token with bursts of `burst` (at least
    /// `per_second`); `per_second = 0` turns limiting off.
    #[must_use]
    pub fn new(per_second: u32, burst: u32) -> Self {
        let (Some(rate), Some(size)) = (
            NonZeroU32::new(per_second),
            NonZeroU32::new(burst.max(per_second)),
        ) else {
            return Self {
                limiter: None,
                burst: 0,
                replenish: Duration::ZERO,
                checks: AtomicU64::new(0),
            };
        };
        let quota = Quota::per_second(rate).allow_burst(size);
        Self {
            limiter: Some(
                RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            ),
            burst: size.get(),
            replenish: quota.replenish_interval(),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request from `token`'s bucket; `None` when limiting is off.
    #[must_use]
    pub fn check(&self, token: TokenId) -> Option<RateDecision> {
        let limiter = self.limiter.as_ref()?;
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY_CHECKS
            == CLEANUP_EVERY_CHECKS - 1
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        Some(match limiter.check_key(&token.0) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let missing = self.burst.saturating_sub(remaining);
                RateDecision::Allowed(RateLimitStatus {
                    limit: self.burst,
                    remaining,
                    reset_seconds: ceil_seconds(self.replenish * missing),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(limiter.clock().now());
                let status = RateLimitStatus {
                    limit: self.burst,
                    remaining: 0,
                    reset_seconds: ceil_seconds(self.replenish * self.burst),
                };
                RateDecision::Limited {
                    status,
                    retry_after_seconds: ceil_seconds(wait).max(1),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_its_burst_then_is_limited_while_others_are_not() {
        let limiter = TokenRateLimiter::new(1, 3);
        for expected_remaining in [2, 1, 0] {
            match limiter.check(TokenId(1)) {
                Some(RateDecision::Allowed(status)) => {
                    assert_eq!(status.limit, 3);
                    assert_eq!(status.remaining, expected_remaining);
                }
                other => panic!("expected allowed, got {other:?}"),
            }
        }
        match limiter.check(TokenId(1)) {
            Some(RateDecision::Limited {
                retry_after_seconds,
                ..
            }) => assert!(retry_after_seconds >= 1),
            other => panic!("expected limited, got {other:?}"),
        }
        assert!(matches!(
            limiter.check(TokenId(2)),
            Some(RateDecision::Allowed(_))
        ));
    }

    #[test]
    fn zero_turns_limiting_off() {
        assert_eq!(TokenRateLimiter::new(0, 10).check(TokenId(1)), None);
    }
}
