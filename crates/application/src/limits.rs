//! The request and login limits, over the domain's [`LimitStore`] port.
//!
//! [`RequestLimits`]: every authenticated request takes one cell from its token's
//! bucket and one from its user's, so that minting tokens does not multiply what one
//! account may send.
//!
//! [`LoginThrottle`]: an attempt to log in is counted before its password is
//! checked (a reservation), so that parallel guesses are limited exactly as
//! sequential ones; a correct password gives the cells back. Per client address, per
//! email, and, so that guessing cannot lock an owner out, past the email's limit an
//! address that has not failed for that email may still try, up to a hard cap of
//! failures per email. Emails arrive normalized and bounded (the caller refuses long
//! ones), so the store's keys are bounded too.
//!
//! Nothing here knows HTTP: where the client address comes from is the caller's
//! business.

use std::sync::Arc;

use switchboard_domain::limits::{Decision, LimitStore, LimitStoreError, Policy};

use crate::identity::Caller;

/// Which bucket refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedBy {
    Token,
    User,
}

impl LimitedBy {
    /// The label of metrics and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::User => "user",
        }
    }
}

/// The verdict on one authenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestVerdict {
    /// Served; the token's bucket after it (`None` when per-token limits are off),
    /// for the answer's headers.
    Allowed(Option<Decision>),
    /// Refused by the bucket named, whose state the decision gives.
    Limited { by: LimitedBy, decision: Decision },
}

/// Per-token and per-user request limits.
pub struct RequestLimits {
    store: Arc<dyn LimitStore>,
    per_token: Option<Policy>,
    per_user: Option<Policy>,
}

impl std::fmt::Debug for RequestLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLimits")
            .field("per_token", &self.per_token)
            .field("per_user", &self.per_user)
            .finish_non_exhaustive()
    }
}

impl RequestLimits {
    /// Limits over `store`; a `None` policy is off.
    #[must_use]
    pub fn new(
        store: Arc<dyn LimitStore>,
        per_token: Option<Policy>,
        per_user: Option<Policy>,
    ) -> Self {
        Self {
            store,
            per_token,
            per_user,
        }
    }

    /// Takes one cell from the caller's token bucket, then from its user's. A
    /// request the user's bucket refuses gives the token's cell back (it is not
    /// served).
    ///
    /// # Errors
    /// [`LimitStoreError`] when the store cannot decide.
    pub fn check(&self, caller: Caller) -> Result<RequestVerdict, LimitStoreError> {
        let token_subject = caller.token_id.0.to_string();
        let token = match &self.per_token {
            Some(policy) => Some(self.store.check(policy, &token_subject, 1)?),
            None => None,
        };
        if let Some(decision) = token.filter(|decision| !decision.allowed) {
            return Ok(RequestVerdict::Limited {
                by: LimitedBy::Token,
                decision,
            });
        }
        if let Some(policy) = &self.per_user {
            let decision = self.store.check(policy, &caller.user_id.0.to_string(), 1)?;
            if !decision.allowed {
                if let Some(token_policy) = &self.per_token {
                    self.store.check(token_policy, &token_subject, -1)?;
                }
                return Ok(RequestVerdict::Limited {
                    by: LimitedBy::User,
                    decision,
                });
            }
        }
        Ok(RequestVerdict::Allowed(token))
    }
}

/// Failures per email per minute past which even addresses that never failed for it
/// are refused (contract section 16).
pub const LOGIN_FAILURES_HARD_CAP_PER_MINUTE: u32 = 100;

/// Why a login attempt may not go ahead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginThrottleError {
    /// Too many failures for the email or the address; the decision says when to
    /// retry.
    #[error("too many failed logins")]
    Throttled(Decision),
    #[error(transparent)]
    Store(#[from] LimitStoreError),
}

/// The cells an attempt took, given back if it succeeds. Dropping it keeps them
/// taken: the attempt counts as a failure.
#[derive(Debug)]
#[must_use = "a reservation is a failure unless its login succeeds"]
pub struct LoginReservation {
    cells: Vec<(Policy, String)>,
}

/// Failed-login limits per email and per client address.
pub struct LoginThrottle {
    store: Arc<dyn LimitStore>,
    per_address: Option<Policy>,
    per_email: Option<Policy>,
    /// The hard cap per email, and the memory of which address failed for which
    /// email; both only with a per-email limit.
    per_email_cap: Option<Policy>,
    per_email_and_address: Option<Policy>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("per_address", &self.per_address)
            .field("per_email", &self.per_email)
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// At most `email_failures` failures a minute per email and `address_failures`
    /// per client address (0 turns a limit off).
    #[must_use]
    pub fn new(store: Arc<dyn LimitStore>, email_failures: u32, address_failures: u32) -> Self {
        let per_email = Policy::per_minute("login-email", email_failures);
        Self {
            store,
            per_address: Policy::per_minute("login-address", address_failures),
            per_email_cap: per_email.as_ref().and_then(|_| {
                Policy::per_minute(
                    "login-email-cap",
                    LOGIN_FAILURES_HARD_CAP_PER_MINUTE.max(email_failures),
                )
            }),
            per_email_and_address: per_email
                .as_ref()
                .and_then(|_| Policy::per_minute("login-email-address", email_failures)),
            per_email,
        }
    }

    /// Counts an attempt by `address` for `email` (normalized) before its password
    /// is checked.
    ///
    /// # Errors
    /// [`LoginThrottleError::Throttled`] when the address, or the email for this
    /// address, is over its limit; [`LoginThrottleError::Store`] when the store
    /// cannot decide (nothing stays taken).
    pub fn reserve(
        &self,
        email: &str,
        address: &str,
    ) -> Result<LoginReservation, LoginThrottleError> {
        let mut reservation = LoginReservation { cells: Vec::new() };
        match self.take(&mut reservation, email, address) {
            Ok(()) => Ok(reservation),
            Err(error) => {
                // Whatever refused the attempt, it was not checked: it fails nothing.
                self.release(reservation)?;
                Err(error)
            }
        }
    }

    fn take(
        &self,
        reservation: &mut LoginReservation,
        email: &str,
        address: &str,
    ) -> Result<(), LoginThrottleError> {
        if let Some(policy) = &self.per_address {
            self.take_cell(reservation, policy, address)?;
        }
        let (Some(per_email), Some(cap), Some(pair)) = (
            &self.per_email,
            &self.per_email_cap,
            &self.per_email_and_address,
        ) else {
            return Ok(());
        };
        self.take_cell(reservation, cap, email)?;
        // An address's text never holds '|', so the pair names one address and one
        // email.
        let pair_subject = format!("{address}|{email}");
        let decision = self.store.check(per_email, email, 1)?;
        if decision.allowed {
            reservation
                .cells
                .push((per_email.clone(), email.to_owned()));
        } else if !self.store.check(pair, &pair_subject, 0)?.untouched() {
            // Over the email's limit, from an address that failed for it: wait.
            return Err(LoginThrottleError::Throttled(decision));
        }
        // Remember that this address tried this email; a full memory only means the
        // address keeps counting as one that failed.
        if self.store.check(pair, &pair_subject, 1)?.allowed {
            reservation.cells.push((pair.clone(), pair_subject));
        }
        Ok(())
    }

    fn take_cell(
        &self,
        reservation: &mut LoginReservation,
        policy: &Policy,
        subject: &str,
    ) -> Result<(), LoginThrottleError> {
        let decision = self.store.check(policy, subject, 1)?;
        if !decision.allowed {
            return Err(LoginThrottleError::Throttled(decision));
        }
        reservation.cells.push((policy.clone(), subject.to_owned()));
        Ok(())
    }

    /// Gives an attempt's cells back: its login succeeded (or it was never
    /// checked).
    ///
    /// # Errors
    /// [`LimitStoreError`] when the store cannot take them back.
    pub fn release(&self, reservation: LoginReservation) -> Result<(), LimitStoreError> {
        for (policy, subject) in reservation.cells {
            self.store.check(&policy, &subject, -1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use switchboard_domain::identity::{TokenId, UserId};
    use switchboard_limits::MemoryLimitStore;

    use super::*;

    /// A real memory store on a clock the test moves (milliseconds).
    fn store() -> (Arc<MemoryLimitStore>, Arc<AtomicU64>) {
        let millis = Arc::new(AtomicU64::new(0));
        let clock = millis.clone();
        let store = MemoryLimitStore::with_clock(
            10_000,
            Arc::new(move || Duration::from_millis(clock.load(Ordering::SeqCst))),
        );
        (Arc::new(store), millis)
    }

    fn throttle(
        email: u32,
        address: u32,
    ) -> (LoginThrottle, Arc<MemoryLimitStore>, Arc<AtomicU64>) {
        let (store, clock) = store();
        (
            LoginThrottle::new(store.clone(), email, address),
            store,
            clock,
        )
    }

    /// Reserves and lets the attempt fail (keeps its cells); whether it was let in.
    fn fail(throttle: &LoginThrottle, email: &str, address: &str) -> bool {
        match throttle.reserve(email, address) {
            Ok(reservation) => {
                drop(reservation);
                true
            }
            Err(LoginThrottleError::Throttled(decision)) => {
                assert!(decision.retry_after_seconds() >= 1);
                false
            }
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn sequential_failures_are_limited_per_email_and_refill() {
        let (throttle, _, clock) = throttle(3, 1000);
        let let_in: Vec<bool> = (0..5).map(|_| fail(&throttle, "a@x", "1.1.1.1")).collect();
        assert_eq!(let_in, [true, true, true, false, false]);
        assert!(
            fail(&throttle, "b@x", "1.1.1.1"),
            "another email is not affected"
        );
        clock.store(20_000, Ordering::SeqCst);
        assert!(
            fail(&throttle, "a@x", "1.1.1.1"),
            "a failure is forgotten after 20 s"
        );
        assert!(!fail(&throttle, "a@x", "1.1.1.1"));
    }

    #[test]
    fn parallel_attempts_are_counted_before_their_check() {
        let (throttle, _, _) = throttle(10, 1000);
        let throttle = Arc::new(throttle);
        let barrier = Arc::new(std::sync::Barrier::new(300));
        let handles: Vec<_> = (0..300)
            .map(|_| {
                let (throttle, barrier) = (throttle.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // Held while the "password is checked", as a login holds it.
                    let reservation = throttle.reserve("a@x", "1.1.1.1").ok();
                    barrier.wait();
                    reservation.is_some()
                })
            })
            .collect();
        let let_in = handles
            .into_iter()
            .map(std::thread::JoinHandle::join)
            .filter(|joined| matches!(joined, Ok(true)))
            .count();
        assert_eq!(let_in, 10);
    }

    #[test]
    fn a_success_gives_its_cells_back() {
        let (throttle, store, _) = throttle(2, 2);
        for _ in 0..10 {
            let reservation = throttle.reserve("a@x", "1.1.1.1").expect("let in");
            throttle.release(reservation).expect("released");
        }
        assert!(store.is_empty(), "nothing is held after successes");
        assert!(fail(&throttle, "a@x", "1.1.1.1"));
    }

    #[test]
    fn an_address_that_never_failed_for_the_email_is_not_locked_out() {
        let (throttle, _, _) = throttle(3, 1000);
        for _ in 0..3 {
            assert!(fail(&throttle, "owner@x", "6.6.6.6"));
        }
        assert!(!fail(&throttle, "owner@x", "6.6.6.6"), "the guesser waits");
        // The owner, from another address, logs in correctly.
        let reservation = throttle
            .reserve("owner@x", "1.2.3.4")
            .expect("the owner may try");
        throttle.release(reservation).expect("released");
        let reservation = throttle.reserve("owner@x", "1.2.3.4").expect("and again");
        throttle.release(reservation).expect("released");
        // Once that address fails for the email, it waits like the guesser.
        assert!(fail(&throttle, "owner@x", "1.2.3.4"));
        assert!(!fail(&throttle, "owner@x", "1.2.3.4"));
    }

    #[test]
    fn fresh_addresses_stop_at_the_hard_cap_per_email() {
        let (throttle, _, _) = throttle(1, 1000);
        let let_in = (0..150)
            .filter(|n| fail(&throttle, "owner@x", &format!("10.0.0.{n}")))
            .count();
        assert_eq!(let_in, LOGIN_FAILURES_HARD_CAP_PER_MINUTE as usize);
        let reservation = throttle.reserve("owner@x", "192.0.2.1");
        assert!(
            matches!(reservation, Err(LoginThrottleError::Throttled(_))),
            "past the cap nobody may try"
        );
    }

    #[test]
    fn an_address_is_limited_across_emails() {
        let (throttle, _, _) = throttle(1000, 2);
        assert!(fail(&throttle, "a@x", "9.9.9.9"));
        assert!(fail(&throttle, "b@x", "9.9.9.9"));
        assert!(!fail(&throttle, "c@x", "9.9.9.9"));
        assert!(fail(&throttle, "c@x", "8.8.8.8"));
    }

    #[test]
    fn a_refused_attempt_takes_nothing() {
        let (throttle, store, _) = throttle(1, 1);
        assert!(fail(&throttle, "a@x", "9.9.9.9"));
        let held = store.len();
        assert!(!fail(&throttle, "a@x", "9.9.9.9"));
        assert!(!fail(&throttle, "b@x", "9.9.9.9"));
        assert_eq!(store.len(), held);
    }

    #[test]
    fn zero_turns_login_limits_off() {
        let (throttle, store, _) = throttle(0, 0);
        for _ in 0..100 {
            assert!(fail(&throttle, "a@x", "9.9.9.9"));
        }
        assert!(store.is_empty());
    }

    fn caller(user: i64, token: i64) -> Caller {
        Caller {
            user_id: UserId(user),
            token_id: TokenId(token),
        }
    }

    #[test]
    fn tokens_and_users_have_their_own_buckets() {
        let (store, _) = store();
        let limits = RequestLimits::new(
            store,
            Policy::per_second("token", 1, 3),
            Policy::per_second("user", 1, 5),
        );
        let verdicts: Vec<RequestVerdict> = (0..4)
            .map(|_| limits.check(caller(1, 1)).expect("decided"))
            .collect();
        assert!(
            matches!(verdicts[2], RequestVerdict::Allowed(Some(d)) if d.remaining == 0 && d.limit == 3)
        );
        assert!(matches!(
            verdicts[3],
            RequestVerdict::Limited {
                by: LimitedBy::Token,
                ..
            }
        ));
        // A second token of the same user has its own bucket, until the user's is
        // empty: three taken by the first token, two more here.
        let second: Vec<RequestVerdict> = (0..3)
            .map(|_| limits.check(caller(1, 2)).expect("decided"))
            .collect();
        assert!(matches!(second[1], RequestVerdict::Allowed(Some(_))));
        assert!(matches!(
            second[2],
            RequestVerdict::Limited { by: LimitedBy::User, decision } if decision.limit == 5
        ));
        // The refused request gave its token cell back: another user on that token
        // id finds one cell left, then none.
        assert!(matches!(
            limits.check(caller(2, 2)).expect("decided"),
            RequestVerdict::Allowed(Some(d)) if d.remaining == 0
        ));
        assert!(matches!(
            limits.check(caller(2, 2)).expect("decided"),
            RequestVerdict::Limited {
                by: LimitedBy::Token,
                ..
            }
        ));
    }

    #[test]
    fn request_limits_can_be_off() {
        let (store, _) = store();
        let limits = RequestLimits::new(store.clone(), None, None);
        for _ in 0..100 {
            assert_eq!(
                limits.check(caller(1, 1)).expect("decided"),
                RequestVerdict::Allowed(None)
            );
        }
        assert!(store.is_empty());
    }
}
