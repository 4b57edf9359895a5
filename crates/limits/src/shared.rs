//! What the shared stores (Redis, PostgreSQL) have in common: they keep time in
//! whole microseconds of their own server's clock (so that the replicas' clocks never
//! matter), run the GCRA step where the bucket lives, and answer with the bucket's
//! time before the step and the clock reading it used. The decision is then the
//! domain's own [`gcra`] step on those two numbers, over the policy rounded to
//! microseconds exactly as the store's script computed it, so both sides agree to
//! the microsecond.

use std::time::Duration;

use switchboard_domain::limits::{Decision, LimitStoreError, Policy, gcra};

/// Prefix of every key a shared store writes, unless configured otherwise (`v1`
/// names the layout of the stored value: a TAT in microseconds since the Unix epoch).
pub const DEFAULT_KEY_PREFIX: &str = "switchboard:rl:v1:";

/// The policy's emission interval in whole microseconds, rounded up (at least 1).
#[must_use]
pub fn interval_micros(policy: &Policy) -> i64 {
    let nanos = policy.emission_interval().as_nanos();
    i64::try_from(nanos.div_ceil(1000))
        .unwrap_or(i64::MAX)
        .max(1)
}

/// The policy as the store sees it: the same name and burst, the interval in whole
/// microseconds.
fn in_micros(policy: &Policy) -> Result<Policy, LimitStoreError> {
    let micros = u64::try_from(interval_micros(policy)).unwrap_or(u64::MAX);
    Policy::new(policy.name(), policy.burst(), Duration::from_micros(micros))
        .ok_or_else(|| LimitStoreError::Unavailable("a policy without cells".to_owned()))
}

/// The decision of a step the store took at `now` (microseconds) on a bucket whose
/// stored TAT was `previous` (`None`: no bucket), for `cost` cells.
///
/// # Errors
/// [`LimitStoreError::Unavailable`] when the store answered a negative clock.
pub fn decision(
    policy: &Policy,
    previous: Option<i64>,
    now: i64,
    cost: i64,
) -> Result<Decision, LimitStoreError> {
    let micros = |value: i64| u64::try_from(value).ok().map(Duration::from_micros);
    let now = micros(now)
        .ok_or_else(|| LimitStoreError::Unavailable("the store's clock is negative".to_owned()))?;
    let (_, mut decision) = gcra(previous.and_then(micros), now, &in_micros(policy)?, cost);
    // The headers show the configured window, not its rounding.
    decision.window = policy.window();
    Ok(decision)
}

/// The store key of `subject`'s bucket of `policy`.
#[must_use]
pub fn key(prefix: &str, policy: &Policy, subject: &str) -> String {
    format!("{prefix}{}", policy.key(subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(burst: u32, interval: Duration) -> Policy {
        Policy::new("test", burst, interval).expect("a policy")
    }

    #[test]
    fn intervals_round_up_to_whole_microseconds() {
        assert_eq!(
            interval_micros(&policy(3, Duration::from_secs(1) / 3)),
            333_334
        );
        assert_eq!(interval_micros(&policy(1, Duration::from_nanos(1))), 1);
        assert_eq!(
            interval_micros(&policy(1, Duration::from_millis(20))),
            20_000
        );
    }

    /// A store's answers replayed through [`decision`]: a burst of 3 at one instant,
    /// then one cell refilled; the times are the store's, in microseconds since the
    /// Unix epoch.
    #[test]
    fn decisions_follow_the_stores_clock_only() {
        let policy = policy(3, Duration::from_secs(1));
        let now = 1_780_000_000_000_000_i64;
        let second = 1_000_000_i64;
        let first = decision(&policy, None, now, 1).expect("decided");
        assert!(first.allowed);
        assert_eq!(first.remaining, 2);
        let third = decision(&policy, Some(now + 2 * second), now, 1).expect("decided");
        assert!(third.allowed);
        assert_eq!(third.remaining, 0);
        let fourth = decision(&policy, Some(now + 3 * second), now, 1).expect("decided");
        assert!(!fourth.allowed);
        assert_eq!(fourth.retry_after, Duration::from_secs(1));
        let later = decision(&policy, Some(now + 3 * second), now + second, 1).expect("decided");
        assert!(
            later.allowed,
            "one cell refilled after a second of the store's clock"
        );
        // A stale bucket (its TAT in the past) is a full one.
        let stale = decision(&policy, Some(now - 100 * second), now, 1).expect("decided");
        assert_eq!(stale, first);
        assert!(decision(&policy, None, -1, 1).is_err());
    }

    #[test]
    fn keys_carry_the_prefix_and_the_policys_parameters() {
        let policy = policy(10, Duration::from_millis(100));
        assert_eq!(
            key(DEFAULT_KEY_PREFIX, &policy, "42"),
            "switchboard:rl:v1:test:10:100000000:42"
        );
    }
}
