//! Throttling of failed logins, per email address and per client address.
//!
//! Each failure takes one cell from a per-minute bucket of its email and one of its
//! address (GCRA through `governor`); once a bucket is empty the key is refused
//! (429) until the bucket would accept again, before any password hashing. Successful
//! logins cost nothing.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type KeyedLimiter = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// Failed-login limits per key.
pub struct LoginThrottle {
    per_email: Option<KeyedLimiter>,
    per_address: Option<KeyedLimiter>,
    blocked_until: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle").finish_non_exhaustive()
    }
}

fn per_minute(limit: u32) -> Option<KeyedLimiter> {
    NonZeroU32::new(limit).map(|limit| RateLimiter::keyed(Quota::per_minute(limit)))
}

fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

impl LoginThrottle {
    /// At most `email_failures` failures per minute per email and
    /// `address_failures` per client address (0 turns a limit off).
    #[must_use]
    pub fn new(email_failures: u32, address_failures: u32) -> Self {
        Self {
            per_email: per_minute(email_failures),
            per_address: per_minute(address_failures),
            blocked_until: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait when `email` or `address` is blocked now.
    #[must_use]
    pub fn blocked(&self, email: &str, address: &str) -> Option<u64> {
        let now = Instant::now();
        let mut blocked = self.blocked_until.lock().ok()?;
        blocked.retain(|_, until| *until > now);
        [email_key(email), address_key(address)]
            .iter()
            .filter_map(|key| blocked.get(key))
            .max()
            .map(|until| until.duration_since(now).as_secs().max(1))
    }

    /// Counts a failed login.
    pub fn record_failure(&self, email: &str, address: &str) {
        for (limiter, key) in [
            (&self.per_email, email_key(email)),
            (&self.per_address, address_key(address)),
        ] {
            let Some(limiter) = limiter else { continue };
            if let Err(not_until) = limiter.check_key(&key) {
                let wait: Duration = not_until.wait_time_from(limiter.clock().now());
                if let Ok(mut blocked) = self.blocked_until.lock() {
                    blocked.insert(key, Instant::now() + wait);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_the_email_and_the_address_separately() {
        let throttle = LoginThrottle::new(2, 100);
        assert_eq!(throttle.blocked("a@x", "1.1.1.1"), None);
        for _ in 0..3 {
            throttle.record_failure("A@x", "1.1.1.1");
        }
        assert!(throttle.blocked("a@x", "2.2.2.2").is_some());
        assert_eq!(throttle.blocked("b@x", "1.1.1.1"), None);
        let by_address = LoginThrottle::new(100, 1);
        by_address.record_failure("a@x", "9.9.9.9");
        by_address.record_failure("b@x", "9.9.9.9");
        assert!(by_address.blocked("c@x", "9.9.9.9").is_some());
    }
}
