//! What `/health/ready` checks, behind the HTTP crate's `ReadinessProbe`: the
//! database answers, no migration is pending, writes work (a full disk fails them),
//! every key id used by stored secrets is configured, and how many stored secrets do
//! not open.
//!
//! The key checks are not made per call: opening every stored secret costs one
//! decryption per row. [`CredentialHealth`] keeps the last answer and renews it on a
//! thread of its own: at start, and when a readiness call finds it older than
//! [`CredentialHealth::REFRESH_AFTER`] (so a `keys rewrap` by the admin binary, or a
//! replica writing under a key this one lacks, shows within that bound). It must not
//! know HTTP; the server wires it in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use switchboard_application::key_rotation::{KeyCoverage, KeyRotationService};
use switchboard_domain::telephony::KeyId;
use switchboard_http::{GroupCommitCounts, PoolGauge, PoolGauges};
use switchboard_http::{Readiness, ReadinessProbe};
use switchboard_persistence::Database;

/// Rows read per batch when every stored secret is opened.
const CHECK_BATCH: u32 = 500;

/// The last word on the stored secrets.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    /// Key ids used but not configured, with their counts.
    missing: Vec<(KeyId, u64)>,
    /// Stored secrets that do not open; `None` until first counted.
    unreadable: Option<u64>,
    /// When the last full check finished (or, before that, when it was seeded).
    checked_at: Option<Instant>,
}

/// Key coverage and unreadable secrets, cached and renewed in the background.
#[derive(Debug)]
pub struct CredentialHealth {
    rotation: Arc<KeyRotationService>,
    snapshot: Mutex<Snapshot>,
    refreshing: AtomicBool,
}

impl CredentialHealth {
    /// How old the last check may be before a readiness call starts another.
    pub const REFRESH_AFTER: Duration = Duration::from_secs(300);

    /// A cache seeded with `coverage` (checked at start); the count of unreadable
    /// secrets is not known until [`Self::refresh_in_background`] has run.
    #[must_use]
    pub fn new(rotation: Arc<KeyRotationService>, coverage: &KeyCoverage) -> Arc<Self> {
        Arc::new(Self {
            rotation,
            snapshot: Mutex::new(Snapshot {
                missing: coverage.missing.clone(),
                unreadable: None,
                checked_at: Some(Instant::now()),
            }),
            refreshing: AtomicBool::new(false),
        })
    }

    /// Starts a full check (coverage, then every stored secret opened) on a thread
    /// of its own, unless one is running.
    pub fn refresh_in_background(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::SeqCst) {
            return;
        }
        let health = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("credential-check".into())
            .spawn(move || {
                health.refresh();
                health.refreshing.store(false, Ordering::SeqCst);
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the stored-credential check");
            self.refreshing.store(false, Ordering::SeqCst);
        }
    }

    fn refresh(&self) {
        let coverage = match self.rotation.coverage() {
            Ok(coverage) => coverage,
            Err(error) => {
                tracing::warn!(%error, "could not count stored secrets per key");
                return;
            }
        };
        let unreadable = match self.rotation.check_all(CHECK_BATCH, |_| {}) {
            Ok(report) => {
                let count = u64::try_from(report.unreadable_count()).unwrap_or(u64::MAX);
                if count > 0 {
                    tracing::warn!(
                        unreadable = count,
                        examined = report.examined,
                        "stored secrets cannot be opened: `switchboard-admin keys check` lists them"
                    );
                }
                Some(count)
            }
            Err(error) => {
                tracing::warn!(%error, "could not check the stored credentials");
                None
            }
        };
        let mut snapshot = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
        snapshot.missing = coverage.missing;
        if unreadable.is_some() {
            snapshot.unreadable = unreadable;
        }
        snapshot.checked_at = Some(Instant::now());
    }

    /// The last word, starting a renewal when it is older than the bound.
    fn current(self: &Arc<Self>) -> Snapshot {
        let snapshot = self
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if snapshot
            .checked_at
            .is_none_or(|at| at.elapsed() > Self::REFRESH_AFTER)
        {
            self.refresh_in_background();
        }
        snapshot
    }
}

/// The readiness probe and pool gauges over the database and the credential cache.
#[derive(Debug)]
pub struct ServiceReadiness {
    database: Database,
    credentials: Arc<CredentialHealth>,
}

impl ServiceReadiness {
    /// A probe over `database` and `credentials`.
    #[must_use]
    pub fn new(database: Database, credentials: Arc<CredentialHealth>) -> Self {
        Self {
            database,
            credentials,
        }
    }
}

impl PoolGauges for ServiceReadiness {
    fn pools(&self) -> Vec<PoolGauge> {
        self.database
            .pool_usage()
            .into_iter()
            .map(|usage| PoolGauge {
                pool: usage.pool,
                max_size: usage.max_size,
                in_use: usage.connections.saturating_sub(usage.idle),
                idle: usage.idle,
            })
            .collect()
    }

    fn group_commits(&self) -> Option<GroupCommitCounts> {
        self.database
            .group_commit_stats()
            .map(|stats| GroupCommitCounts {
                commits: u64::try_from(stats.batches).unwrap_or(u64::MAX),
                writes: u64::try_from(stats.committed_writes).unwrap_or(u64::MAX),
            })
    }
}

impl ReadinessProbe for ServiceReadiness {
    fn check(&self) -> Readiness {
        let credentials = self.credentials.current();
        Readiness {
            database_ok: self.database.ping().is_ok(),
            pending_migrations: self
                .database
                .pending_migrations()
                .ok()
                .map(|pending| pending.len()),
            writes_failing: !self.database.writes_work(),
            missing_keys: credentials
                .missing
                .iter()
                .map(|(id, count)| (id.0, *count))
                .collect(),
            unreadable_credentials: credentials.unreadable,
        }
    }
}
