//! Rate limits as a port: a [`Policy`] (a bucket of `burst` cells refilled one per
//! emission interval), the [`Decision`] a check gives, the pure GCRA step that
//! decides ([`gcra`]), and the [`LimitStore`] that keeps buckets (in memory, later
//! Redis or PostgreSQL).
//!
//! GCRA (the generic cell rate algorithm) keeps one number per bucket, its
//! theoretical arrival time (TAT): the time at which the bucket would be full again.
//! A request of cost `n` moves it `n` emission intervals later, and is refused when
//! that would put it more than `burst` intervals past now. A negative cost gives
//! cells back (a refund), a cost of 0 looks without taking (a peek).
//!
//! Times are durations since an epoch the store chooses (a monotonic start for a
//! process-local store, the Unix epoch for a shared one); this module never reads a
//! clock. It knows no store, no framework and no caller: subjects are opaque text.

use std::time::Duration;

/// One kind of limit: its name, bucket size and refill rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    name: &'static str,
    burst: u32,
    emission_interval: Duration,
}

impl Policy {
    /// A bucket of `burst` cells, one refilled every `emission_interval`; `None` when
    /// either is zero (no limit).
    #[must_use]
    pub fn new(name: &'static str, burst: u32, emission_interval: Duration) -> Option<Self> {
        (burst > 0 && !emission_interval.is_zero()).then_some(Self {
            name,
            burst,
            emission_interval,
        })
    }

    /// `per_second` cells a second with bursts of `burst` (at least `per_second`);
    /// `None` when `per_second` is 0 (the setting that turns a limit off).
    #[must_use]
    pub fn per_second(name: &'static str, per_second: u32, burst: u32) -> Option<Self> {
        if per_second == 0 {
            return None;
        }
        Self::new(
            name,
            burst.max(per_second),
            Duration::from_secs(1) / per_second,
        )
    }

    /// `per_minute` cells a minute, all of them available at once; `None` for 0.
    #[must_use]
    pub fn per_minute(name: &'static str, per_minute: u32) -> Option<Self> {
        if per_minute == 0 {
            return None;
        }
        Self::new(name, per_minute, Duration::from_secs(60) / per_minute)
    }

    /// The policy's name (part of every key, and of metrics).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Size of the bucket.
    #[must_use]
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Time to refill one cell.
    #[must_use]
    pub fn emission_interval(&self) -> Duration {
        self.emission_interval
    }

    /// The longest time a bucket of this policy can take to refill completely: past
    /// it, an untouched bucket is full and a store may forget it.
    #[must_use]
    pub fn window(&self) -> Duration {
        self.emission_interval.saturating_mul(self.burst)
    }

    /// The store key of `subject`'s bucket. It names the policy's parameters, so
    /// that a changed setting starts with fresh buckets rather than reading old
    /// times under another interval.
    #[must_use]
    pub fn key(&self, subject: &str) -> String {
        format!(
            "{}:{}:{}:{subject}",
            self.name,
            self.burst,
            self.emission_interval.as_nanos()
        )
    }
}

/// The verdict of one check, and the bucket's state after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The policy's name (the `RateLimit-Policy` header names it).
    pub policy: &'static str,
    /// The policy's window: the time a bucket takes to refill from empty.
    pub window: Duration,
    /// Whether the cells were taken (always true for refunds and for a peek at a
    /// bucket that is not over its size).
    pub allowed: bool,
    /// Size of the bucket.
    pub limit: u32,
    /// Whole cells left.
    pub remaining: u32,
    /// Time until the bucket is full again.
    pub reset_after: Duration,
    /// When refused (or, for a peek, when empty): time until the request would be
    /// allowed; zero otherwise.
    pub retry_after: Duration,
}

impl Decision {
    /// `reset_after` in whole seconds, rounded up.
    #[must_use]
    pub fn reset_seconds(&self) -> u64 {
        ceil_seconds(self.reset_after)
    }

    /// `retry_after` in whole seconds, rounded up, at least 1 (a `Retry-After` of 0
    /// invites an immediate retry that would be refused again).
    #[must_use]
    pub fn retry_after_seconds(&self) -> u64 {
        ceil_seconds(self.retry_after).max(1)
    }

    /// A decision that lets a request through without a store: full bucket, nothing
    /// to wait for (a shared store that did not answer, when limits fail open).
    #[must_use]
    pub fn open(policy: &Policy) -> Self {
        Self {
            policy: policy.name,
            window: policy.window(),
            allowed: true,
            limit: policy.burst,
            remaining: policy.burst,
            reset_after: Duration::ZERO,
            retry_after: Duration::ZERO,
        }
    }

    /// `window` in whole seconds, rounded up.
    #[must_use]
    pub fn window_seconds(&self) -> u64 {
        ceil_seconds(self.window)
    }

    /// Whether no cell of the bucket is in use.
    #[must_use]
    pub fn untouched(&self) -> bool {
        self.remaining >= self.limit
    }
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Whole cells left in a bucket whose TAT is `ahead` past now.
fn remaining(policy: &Policy, ahead: Duration) -> u32 {
    let free = policy.window().saturating_sub(ahead);
    let cells = free.as_nanos() / policy.emission_interval.as_nanos();
    u32::try_from(cells).unwrap_or(u32::MAX).min(policy.burst)
}

/// One GCRA step: the bucket whose TAT is `tat` (`None`: never used, or forgotten)
/// asked for `cost` cells at `now`. Returns the TAT to store and the decision. A
/// refused request leaves the bucket as it was; a stored TAT at or before `now`
/// means a full bucket, which a store may drop.
#[must_use]
pub fn gcra(
    tat: Option<Duration>,
    now: Duration,
    policy: &Policy,
    cost: i64,
) -> (Duration, Decision) {
    let tat = tat.map_or(now, |tat| tat.max(now));
    let cells = u32::try_from(cost.unsigned_abs()).unwrap_or(u32::MAX);
    let increment = policy.emission_interval.saturating_mul(cells);
    let decision = |allowed: bool, tat: Duration, retry_after: Duration| Decision {
        policy: policy.name,
        window: policy.window(),
        allowed,
        limit: policy.burst,
        remaining: remaining(policy, tat - now),
        reset_after: tat - now,
        retry_after,
    };
    if cost < 0 {
        let refunded = tat.saturating_sub(increment).max(now);
        return (refunded, decision(true, refunded, Duration::ZERO));
    }
    if cost == 0 {
        let ahead = tat - now;
        // A cell is free while the TAT is at most one interval short of the window.
        let last_cell_at = policy.window().saturating_sub(policy.emission_interval);
        let retry_after = ahead.saturating_sub(last_cell_at);
        return (tat, decision(ahead <= policy.window(), tat, retry_after));
    }
    let new_tat = tat.saturating_add(increment);
    let allow_at = new_tat.saturating_sub(policy.window());
    if now < allow_at {
        (tat, decision(false, tat, allow_at - now))
    } else {
        (new_tat, decision(true, new_tat, Duration::ZERO))
    }
}

/// Why a store could not decide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitStoreError {
    /// A bounded store holds as many live buckets as it may.
    #[error("the rate-limit store is full")]
    Full,
    /// A shared store cannot be reached.
    #[error("the rate-limit store is unavailable: {0}")]
    Unavailable(String),
}

/// Where buckets live. Synchronous: callers are on a blocking pool already.
pub trait LimitStore: Send + Sync {
    /// Takes `cost` cells from `subject`'s bucket of `policy` (a negative cost
    /// gives them back, 0 only looks), atomically.
    ///
    /// # Errors
    /// [`LimitStoreError`] when the store cannot decide.
    fn check(&self, policy: &Policy, subject: &str, cost: i64)
    -> Result<Decision, LimitStoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(burst: u32, interval_ms: u64) -> Policy {
        Policy::new("test", burst, Duration::from_millis(interval_ms)).expect("a policy")
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// Runs `costs` at the given times against one bucket, returning the decisions.
    fn run(policy: &Policy, steps: &[(u64, i64)]) -> Vec<Decision> {
        let mut tat = None;
        steps
            .iter()
            .map(|(at, cost)| {
                let (next, decision) = gcra(tat, ms(*at), policy, *cost);
                tat = Some(next);
                decision
            })
            .collect()
    }

    #[test]
    fn a_burst_is_allowed_then_refused_until_a_cell_refills() {
        let policy = policy(3, 1000);
        let decisions = run(
            &policy,
            &[(0, 1), (0, 1), (0, 1), (0, 1), (999, 1), (1000, 1)],
        );
        let remaining: Vec<u32> = decisions.iter().map(|d| d.remaining).collect();
        let allowed: Vec<bool> = decisions.iter().map(|d| d.allowed).collect();
        assert_eq!(allowed, [true, true, true, false, false, true]);
        assert_eq!(remaining, [2, 1, 0, 0, 0, 0]);
        assert_eq!(decisions[3].retry_after, ms(1000));
        assert_eq!(decisions[3].retry_after_seconds(), 1);
        assert_eq!(decisions[4].retry_after, ms(1));
        assert_eq!(decisions[2].reset_after, ms(3000));
        assert_eq!(decisions[2].reset_seconds(), 3);
    }

    #[test]
    fn an_idle_bucket_refills_to_its_burst_and_no_further() {
        let policy = policy(3, 100);
        let decisions = run(&policy, &[(0, 1), (0, 1), (0, 1), (250, 1), (10_000, 1)]);
        assert!(decisions[3].allowed, "two cells refilled after 250 ms");
        assert_eq!(decisions[3].remaining, 1);
        assert_eq!(decisions[4].remaining, 2, "never more than the burst");
    }

    #[test]
    fn a_refund_gives_cells_back_but_never_past_full() {
        let policy = policy(2, 1000);
        let decisions = run(
            &policy,
            &[(0, 1), (0, 1), (0, 1), (0, -1), (0, 1), (0, -5), (0, 0)],
        );
        assert!(!decisions[2].allowed);
        assert!(decisions[3].allowed);
        assert_eq!(decisions[3].remaining, 1);
        assert!(decisions[4].allowed, "the refunded cell is usable");
        assert_eq!(decisions[5].remaining, 2, "a large refund fills the bucket");
        assert!(decisions[6].untouched());
    }

    #[test]
    fn a_peek_takes_nothing() {
        let policy = policy(2, 1000);
        let decisions = run(&policy, &[(0, 0), (0, 1), (0, 0), (0, 1), (0, 0), (500, 0)]);
        assert!(decisions[0].untouched() && decisions[0].allowed);
        assert_eq!(decisions[2].remaining, 1);
        assert!(!decisions[2].untouched());
        assert_eq!(decisions[4].remaining, 0);
        assert_eq!(
            decisions[4].retry_after,
            ms(1000),
            "empty: one cell in a second"
        );
        assert_eq!(decisions[5].retry_after, ms(500));
        assert!(decisions[5].allowed, "a peek is never over the size");
    }

    #[test]
    fn a_refused_request_leaves_the_bucket_as_it_was() {
        let policy = policy(1, 1000);
        let (tat, first) = gcra(None, ms(0), &policy, 1);
        assert!(first.allowed);
        let (after, refused) = gcra(Some(tat), ms(10), &policy, 1);
        assert!(!refused.allowed);
        assert_eq!(after, tat);
        let (_, costly) = gcra(None, ms(0), &policy, 2);
        assert!(!costly.allowed, "a cost above the burst never fits");
    }

    #[test]
    fn a_full_bucket_stores_a_time_not_after_now() {
        let policy = policy(2, 1000);
        let (tat, _) = gcra(None, ms(0), &policy, 1);
        let (tat, _) = gcra(Some(tat), ms(5000), &policy, -1);
        assert!(tat <= ms(5000));
    }

    #[test]
    fn policies_from_settings() {
        assert_eq!(Policy::per_second("p", 0, 10), None);
        let policy = Policy::per_second("p", 50, 10).expect("on");
        assert_eq!(policy.burst(), 50, "the burst is at least the rate");
        assert_eq!(policy.emission_interval(), ms(20));
        let per_minute = Policy::per_minute("m", 10).expect("on");
        assert_eq!(per_minute.emission_interval(), Duration::from_secs(6));
        assert_eq!(per_minute.window(), Duration::from_secs(60));
        assert_eq!(per_minute.key("a@b"), "m:10:6000000000:a@b");
        assert_ne!(
            Policy::per_minute("m", 11).expect("on").key("a@b"),
            per_minute.key("a@b"),
            "another setting, another bucket"
        );
    }
}
