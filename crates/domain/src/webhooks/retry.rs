//! When a failed delivery is tried again: the retry schedule (a setting, so tests
//! use seconds), jitter, and `Retry-After`, which may lengthen a wait and never
//! shorten it.

use std::time::Duration;

/// The contract's schedule: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_RETRY_SCHEDULE_S: [u64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/// What to do after an attempt that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// Try again after this wait.
    After(Duration),
    /// No attempt left: the delivery is dead.
    Dead,
}

/// The wait after failed attempt number `attempts` (1 for the first attempt) under
/// `schedule`; `jitter` in `[-1.0, 1.0]` moves the wait by up to a fifth either way;
/// `retry_after` (the endpoint's `Retry-After`) can only lengthen it.
#[must_use]
pub fn next_attempt(
    schedule: &[u64],
    attempts: u32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> NextAttempt {
    let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
    let Some(seconds) = schedule.get(index) else {
        return NextAttempt::Dead;
    };
    let base = Duration::from_secs(*seconds);
    let factor = 1.0 + jitter.clamp(-1.0, 1.0) / 5.0;
    let jittered = base.mul_f64(factor);
    NextAttempt::After(retry_after.map_or(jittered, |after| after.max(jittered)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_followed_then_the_delivery_dies() {
        let schedule = DEFAULT_RETRY_SCHEDULE_S;
        assert_eq!(
            next_attempt(&schedule, 1, 0.0, None),
            NextAttempt::After(Duration::from_secs(5))
        );
        assert_eq!(
            next_attempt(&schedule, 7, 0.0, None),
            NextAttempt::After(Duration::from_secs(36000))
        );
        assert_eq!(next_attempt(&schedule, 8, 0.0, None), NextAttempt::Dead);
        assert_eq!(next_attempt(&[], 1, 0.0, None), NextAttempt::Dead);
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let NextAttempt::After(low) = next_attempt(&[100], 1, -5.0, None) else {
            panic!("a retry")
        };
        let NextAttempt::After(high) = next_attempt(&[100], 1, 1.0, None) else {
            panic!("a retry")
        };
        assert_eq!(low, Duration::from_secs(80));
        assert_eq!(high, Duration::from_secs(120));
    }

    #[test]
    fn retry_after_lengthens_never_shortens() {
        assert_eq!(
            next_attempt(&[5], 1, 0.0, Some(Duration::from_secs(60))),
            NextAttempt::After(Duration::from_secs(60))
        );
        assert_eq!(
            next_attempt(&[300], 1, 0.0, Some(Duration::from_secs(1))),
            NextAttempt::After(Duration::from_secs(300))
        );
    }
}
