//! A shared store behind a time budget and a failure policy. The budget itself is
//! the store's own (connect, read, write and statement timeouts of 25 ms by
//! default); this wrapper decides what a store that could not answer means: the
//! request goes through (fail open, the default) or the caller answers 503 (fail
//! closed). Every failure counts in `switchboard_rate_limit_store_errors_total`;
//! a warning is logged at most once a minute, so that a Redis outage under load
//! does not flood the log.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use switchboard_domain::limits::{Decision, LimitStore, LimitStoreError, Policy};

/// The time a shared store gets to decide.
pub const STORE_BUDGET: Duration = Duration::from_millis(25);

/// Least time between two warnings about a failing store.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Name of the counter of checks a store could not decide.
pub const STORE_ERRORS_METRIC: &str = "switchboard_rate_limit_store_errors_total";

/// A store whose failures are counted, warned about, and let through or not.
pub struct BudgetedStore<S> {
    inner: S,
    name: &'static str,
    fail_open: bool,
    last_warning: Mutex<Option<Instant>>,
}

impl<S> std::fmt::Debug for BudgetedStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BudgetedStore")
            .field("store", &self.name)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

impl<S: LimitStore> BudgetedStore<S> {
    /// `inner` (named `name` in metrics and logs), letting requests through when it
    /// fails if `fail_open`.
    #[must_use]
    pub fn new(inner: S, name: &'static str, fail_open: bool) -> Self {
        Self {
            inner,
            name,
            fail_open,
            last_warning: Mutex::new(None),
        }
    }

    /// The wrapped store.
    #[must_use]
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn warn(&self, error: &LimitStoreError) {
        let now = Instant::now();
        let due = {
            let Ok(mut last) = self.last_warning.lock() else {
                return;
            };
            let due = last.is_none_or(|at| now.duration_since(at) >= WARN_EVERY);
            if due {
                *last = Some(now);
            }
            due
        };
        if due {
            tracing::warn!(
                store = self.name,
                fail_open = self.fail_open,
                %error,
                "the rate-limit store did not answer (warned at most once a minute; see {STORE_ERRORS_METRIC})"
            );
        }
    }
}

impl<S: LimitStore> LimitStore for BudgetedStore<S> {
    fn check(
        &self,
        policy: &Policy,
        subject: &str,
        cost: i64,
    ) -> Result<Decision, LimitStoreError> {
        match self.inner.check(policy, subject, cost) {
            Ok(decision) => Ok(decision),
            Err(error) => {
                metrics::counter!(STORE_ERRORS_METRIC, "store" => self.name).increment(1);
                self.warn(&error);
                if self.fail_open {
                    Ok(Decision::open(policy))
                } else {
                    Err(error)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A store that never answers, counting the checks it was asked.
    #[derive(Default)]
    struct Down(AtomicUsize);

    impl LimitStore for Down {
        fn check(&self, _: &Policy, _: &str, _: i64) -> Result<Decision, LimitStoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(LimitStoreError::Unavailable("down".to_owned()))
        }
    }

    fn policy() -> Policy {
        Policy::per_second("token", 5, 10).expect("a policy")
    }

    #[test]
    fn a_failing_store_lets_requests_through_when_open() {
        let store = BudgetedStore::new(Down::default(), "test", true);
        for _ in 0..3 {
            let decision = store.check(&policy(), "a", 1).expect("let through");
            assert!(decision.allowed);
            assert_eq!(decision.limit, 10);
            assert!(decision.untouched());
        }
        assert_eq!(
            store.inner().0.load(Ordering::SeqCst),
            3,
            "asked every time"
        );
    }

    #[test]
    fn a_failing_store_refuses_when_closed() {
        let store = BudgetedStore::new(Down::default(), "test", false);
        assert_eq!(
            store.check(&policy(), "a", 1),
            Err(LimitStoreError::Unavailable("down".to_owned()))
        );
    }

    #[test]
    fn warnings_come_at_most_once_a_minute() {
        let store = BudgetedStore::new(Down::default(), "test", true);
        let error = LimitStoreError::Unavailable("down".to_owned());
        store.warn(&error);
        let first = *store.last_warning.lock().expect("lock");
        store.warn(&error);
        assert_eq!(*store.last_warning.lock().expect("lock"), first);
        assert!(first.is_some());
    }
}
