//! Idempotency use cases: claiming a key for a request, storing its answer or
//! releasing it, and purging expired keys (opportunistically, at most once a
//! minute per process, and on demand from the admin binary).
//!
//! The edge computes the request fingerprint and decides what an answer is; this
//! service only keeps time and delegates to the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use switchboard_domain::idempotency::{
    IdempotencyClaim, IdempotencyKey, IdempotencyScope, IdempotencyStore, StoredResponse,
};
use switchboard_domain::shared::{Clock, RepositoryError};

/// Seconds between two opportunistic purges of expired keys.
const PURGE_INTERVAL_SECONDS: i64 = 60;

/// Idempotency key use cases.
pub struct IdempotencyService {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    /// Unix time of the last opportunistic purge (0: none yet).
    last_purge: AtomicI64,
}

impl std::fmt::Debug for IdempotencyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyService").finish_non_exhaustive()
    }
}

impl IdempotencyService {
    /// Wires the service.
    #[must_use]
    pub fn new(store: Arc<dyn IdempotencyStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            last_purge: AtomicI64::new(0),
        }
    }

    /// Claims `key` for a request with fingerprint `request_hash` (purging expired
    /// keys first when a minute has passed since the last purge).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn claim(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
        request_hash: &str,
    ) -> Result<IdempotencyClaim, RepositoryError> {
        let now = self.clock.now();
        self.purge_if_due(now.timestamp());
        self.store.claim(scope, key, request_hash, now)
    }

    /// Stores the answer of a claimed key.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn complete(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        self.store.complete(scope, key, response)
    }

    /// Gives a claimed key up, so that a retry runs the request again.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn release(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
    ) -> Result<(), RepositoryError> {
        self.store.release(scope, key)
    }

    /// Deletes every expired key now; returns how many.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn purge_expired(&self) -> Result<u64, RepositoryError> {
        self.store.purge_expired(self.clock.now())
    }

    fn purge_if_due(&self, now: i64) {
        let last = self.last_purge.load(Ordering::Relaxed);
        if now.saturating_sub(last) < PURGE_INTERVAL_SECONDS {
            return;
        }
        // One caller per interval wins the right to purge.
        if self
            .last_purge
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        match self.store.purge_expired(self.clock.now()) {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "purged expired idempotency keys"),
            Err(error) => tracing::warn!(error = %error, "purging expired idempotency keys failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{TimeDelta, Utc};
    use switchboard_domain::identity::{OrgId, TokenId};
    use switchboard_domain::shared::Timestamp;

    use super::*;

    struct PinnedClock(Mutex<Timestamp>);

    impl Clock for PinnedClock {
        fn now(&self) -> Timestamp {
            self.0.lock().map(|now| *now).unwrap_or_else(|_| Utc::now())
        }
    }

    #[derive(Default)]
    struct CountingStore {
        purges: Mutex<u32>,
    }

    impl IdempotencyStore for CountingStore {
        fn claim(
            &self,
            _: IdempotencyScope,
            _: &IdempotencyKey,
            _: &str,
            _: Timestamp,
        ) -> Result<IdempotencyClaim, RepositoryError> {
            Ok(IdempotencyClaim::Claimed)
        }

        fn complete(
            &self,
            _: IdempotencyScope,
            _: &IdempotencyKey,
            _: &StoredResponse,
        ) -> Result<(), RepositoryError> {
            Ok(())
        }

        fn release(&self, _: IdempotencyScope, _: &IdempotencyKey) -> Result<(), RepositoryError> {
            Ok(())
        }

        fn purge_expired(&self, _: Timestamp) -> Result<u64, RepositoryError> {
            *self.purges.lock().expect("lock") += 1;
            Ok(0)
        }
    }

    #[test]
    fn claims_purge_at_most_once_a_minute() {
        let store = Arc::new(CountingStore::default());
        let clock = Arc::new(PinnedClock(Mutex::new(Utc::now())));
        let service = IdempotencyService::new(store.clone(), clock.clone());
        let scope = IdempotencyScope {
            org_id: OrgId(1),
            token_id: TokenId(1),
        };
        let key = IdempotencyKey::parse("k").expect("valid");
        for _ in 0..5 {
            assert_eq!(
                service.claim(scope, &key, "h").expect("claimed"),
                IdempotencyClaim::Claimed
            );
        }
        assert_eq!(*store.purges.lock().expect("lock"), 1);
        *clock.0.lock().expect("lock") += TimeDelta::seconds(61);
        service.claim(scope, &key, "h").expect("claimed");
        assert_eq!(*store.purges.lock().expect("lock"), 2);
    }
}
