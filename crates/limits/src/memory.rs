//! Buckets in this process's memory, bounded.
//!
//! A bucket is one number (its TAT) under its key. A bucket that has refilled
//! completely says nothing a missing one would not, so it is dropped: at once when a
//! step leaves it full, and by a sweep of expired buckets every
//! [`PRUNE_EVERY_INSERTS`] new buckets of a shard or when a shard is full. Past
//! `max_entries` live buckets the store refuses new ones
//! ([`LimitStoreError::Full`]) rather than grow: memory stays bounded whatever
//! clients send (keys are at most a policy prefix and a subject the caller bounds).
//!
//! Buckets are spread over shards by key so that concurrent checks of different
//! subjects rarely wait for one another; each step runs under its shard's lock, so
//! parallel checks of one bucket are exact.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use switchboard_domain::limits::{Decision, LimitStore, LimitStoreError, Policy, gcra};

/// The store's clock: a monotonic time since an epoch of its choosing.
pub type MonotonicTime = Arc<dyn Fn() -> Duration + Send + Sync>;

/// Number of shards (a power of two).
const SHARDS: usize = 16;

/// New buckets a shard takes between two sweeps of its expired buckets.
pub const PRUNE_EVERY_INSERTS: usize = 4096;

#[derive(Default)]
struct Shard {
    buckets: HashMap<String, Duration>,
    inserts_since_prune: usize,
}

impl Shard {
    fn prune(&mut self, now: Duration) {
        self.buckets.retain(|_, tat| *tat > now);
        self.inserts_since_prune = 0;
    }
}

/// Buckets in memory: the default store, and the one each replica keeps for itself.
pub struct MemoryLimitStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: std::collections::hash_map::RandomState,
    max_entries_per_shard: usize,
    now: MonotonicTime,
}

impl std::fmt::Debug for MemoryLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimitStore")
            .field("max_entries", &(self.max_entries_per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

impl MemoryLimitStore {
    /// A store of at most about `max_entries` live buckets, on the process's
    /// monotonic clock.
    #[must_use]
    pub fn new(max_entries: usize) -> Self {
        let epoch = Instant::now();
        Self::with_clock(max_entries, Arc::new(move || epoch.elapsed()))
    }

    /// A store on the clock `now` (tests and simulations drive time by hand).
    #[must_use]
    pub fn with_clock(max_entries: usize, now: MonotonicTime) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            max_entries_per_shard: max_entries.div_ceil(SHARDS).max(1),
            now,
        }
    }

    /// Live buckets (full ones not yet swept included).
    #[must_use]
    pub fn len(&self) -> usize {
        (0..SHARDS)
            .map(|index| self.shard(index).buckets.len())
            .sum()
    }

    /// Whether no bucket is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, index: usize) -> MutexGuard<'_, Shard> {
        // A step is one map operation: a panic elsewhere cannot leave a shard half
        // changed, so a poisoned lock is still a sound map.
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl LimitStore for MemoryLimitStore {
    fn check(
        &self,
        policy: &Policy,
        subject: &str,
        cost: i64,
    ) -> Result<Decision, LimitStoreError> {
        let key = policy.key(subject);
        let index = usize::try_from(self.hasher.hash_one(&key)).unwrap_or_default() % SHARDS;
        let now = (self.now)();
        let mut shard = self.shard(index);
        if let Some(stored) = shard.buckets.get_mut(&key) {
            let (tat, decision) = gcra(Some(*stored), now, policy, cost);
            if tat > now {
                *stored = tat;
            } else {
                shard.buckets.remove(&key);
            }
            return Ok(decision);
        }
        let (tat, decision) = gcra(None, now, policy, cost);
        if tat > now {
            if shard.inserts_since_prune >= PRUNE_EVERY_INSERTS
                || shard.buckets.len() >= self.max_entries_per_shard
            {
                shard.prune(now);
            }
            if shard.buckets.len() >= self.max_entries_per_shard {
                return Err(LimitStoreError::Full);
            }
            shard.buckets.insert(key, tat);
            shard.inserts_since_prune += 1;
        }
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// A store whose clock the test moves.
    fn store(max_entries: usize) -> (MemoryLimitStore, Arc<AtomicU64>) {
        let millis = Arc::new(AtomicU64::new(0));
        let clock = millis.clone();
        let store = MemoryLimitStore::with_clock(
            max_entries,
            Arc::new(move || Duration::from_millis(clock.load(Ordering::SeqCst))),
        );
        (store, millis)
    }

    fn policy(burst: u32, interval_ms: u64) -> Policy {
        Policy::new("test", burst, Duration::from_millis(interval_ms)).expect("a policy")
    }

    fn allowed(store: &MemoryLimitStore, policy: &Policy, subject: &str, cost: i64) -> bool {
        store
            .check(policy, subject, cost)
            .expect("a decision")
            .allowed
    }

    #[test]
    fn buckets_are_per_subject_and_refill_with_time() {
        let (store, clock) = store(100);
        let policy = policy(2, 1000);
        assert!(allowed(&store, &policy, "a", 1));
        assert!(allowed(&store, &policy, "a", 1));
        assert!(!allowed(&store, &policy, "a", 1));
        assert!(allowed(&store, &policy, "b", 1), "another subject");
        clock.store(1000, Ordering::SeqCst);
        assert!(allowed(&store, &policy, "a", 1), "a cell refilled");
        assert!(!allowed(&store, &policy, "a", 1));
    }

    #[test]
    fn refunds_and_peeks_go_through_the_same_bucket() {
        let (store, _) = store(100);
        let policy = policy(1, 60_000);
        assert!(allowed(&store, &policy, "a", 1));
        assert!(!store.check(&policy, "a", 0).expect("peek").untouched());
        assert!(allowed(&store, &policy, "a", -1));
        assert!(store.check(&policy, "a", 0).expect("peek").untouched());
        assert!(store.is_empty(), "a full bucket is not kept");
        assert!(store.check(&policy, "new", 0).expect("peek").untouched());
        assert!(store.is_empty(), "a peek stores nothing");
    }

    #[test]
    fn another_setting_starts_a_fresh_bucket() {
        let (store, _) = store(100);
        let strict = policy(1, 1000);
        let looser = policy(2, 1000);
        assert!(allowed(&store, &strict, "a", 1));
        assert!(!allowed(&store, &strict, "a", 1));
        assert!(allowed(&store, &looser, "a", 1));
    }

    #[test]
    fn expired_buckets_are_swept_and_the_store_stays_bounded() {
        let (store, clock) = store(SHARDS * 4);
        let policy = policy(10, 1000);
        let mut refused = 0;
        for subject in 0..1000 {
            match store.check(&policy, &subject.to_string(), 1) {
                Ok(decision) => assert!(decision.allowed),
                Err(LimitStoreError::Full) => refused += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert!(store.len() <= SHARDS * 4, "{}", store.len());
        assert!(refused >= 1000 - SHARDS * 4, "{refused}");
        // Once the buckets have refilled they are swept to make room.
        clock.store(1000, Ordering::SeqCst);
        for subject in 1000..1000 + SHARDS {
            let _ = store.check(&policy, &subject.to_string(), 1);
        }
        assert!(store.len() <= SHARDS * 4);
        clock.store(5000, Ordering::SeqCst);
        let mut accepted = 0;
        for subject in 2000..2100 {
            if store.check(&policy, &subject.to_string(), 1).is_ok() {
                accepted += 1;
            }
        }
        assert!(accepted >= SHARDS * 2, "{accepted}");
    }

    #[test]
    fn parallel_checks_of_one_bucket_take_exactly_the_burst() {
        let (store, _) = store(100);
        let store = Arc::new(store);
        let policy = policy(50, 60_000);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (store, policy) = (store.clone(), policy.clone());
                std::thread::spawn(move || {
                    (0..100)
                        .filter(|_| allowed(&store, &policy, "one", 1))
                        .count()
                })
            })
            .collect();
        let total: usize = handles
            .into_iter()
            .map(|handle| handle.join().expect("joined"))
            .sum();
        assert_eq!(total, 50);
    }
}
