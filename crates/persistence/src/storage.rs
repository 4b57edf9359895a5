//! Whether the database's storage takes writes.
//!
//! A full disk (SQLite's `SQLITE_FULL`, or `SQLITE_IOERR` when a write is cut short,
//! as a file-size limit does; PostgreSQL's `53100 disk_full` and its "could not
//! extend file" messages) fails writes while reads keep working. Such a failure is
//! what a retry may fix, so it becomes [`RepositoryError::Unavailable`] (503 with
//! `Retry-After`), and it marks the database's [`StorageHealth`] as failing, which
//! readiness reports until a write commits again.
//!
//! The connection probe ([`crate::probe`]) tells the health of every statement that
//! failed this way and of every top-level commit that succeeded. This module knows
//! nothing of the schema.
//!
//! [`RepositoryError::Unavailable`]: switchboard_domain::shared::RepositoryError::Unavailable

use std::sync::atomic::{AtomicBool, Ordering};

use diesel::result::Error as DieselError;

/// Fragments (lowercase) of driver messages that mean the storage refused a write.
const STORAGE_FULL_MESSAGES: &[&str] = &[
    // SQLite: SQLITE_FULL.
    "database or disk is full",
    // SQLite: SQLITE_IOERR, what a write past RLIMIT_FSIZE (EFBIG) or a failing disk
    // gives.
    "disk i/o error",
    // PostgreSQL: 53100 disk_full, and the messages that carry it.
    "no space left on device",
    "could not extend file",
    "disk quota exceeded",
];

/// Whether a driver message says the storage refused a write.
pub(crate) fn is_storage_full_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    STORAGE_FULL_MESSAGES
        .iter()
        .any(|fragment| lower.contains(fragment))
}

/// Whether `error` is a write the storage refused (also inside a failed commit whose
/// rollback failed too).
pub(crate) fn is_storage_full(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(_, info) => is_storage_full_message(info.message()),
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_storage_full(commit_error),
        _ => false,
    }
}

/// Whether writes to one database currently fail for lack of storage: set by a
/// write that failed so, cleared by the next write that commits.
#[derive(Debug, Default)]
pub(crate) struct StorageHealth {
    failing: AtomicBool,
}

impl StorageHealth {
    /// A write failed for lack of storage.
    pub(crate) fn writes_fail(&self) {
        if !self.failing.swap(true, Ordering::SeqCst) {
            tracing::warn!("database writes fail: the storage is full; reads go on");
        }
    }

    /// A write committed.
    pub(crate) fn writes_work(&self) {
        if self.failing.swap(false, Ordering::SeqCst) {
            tracing::info!("database writes work again");
        }
    }

    /// Whether the last word on writes was a failure for lack of storage.
    pub(crate) fn is_failing(&self) -> bool {
        self.failing.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::DatabaseErrorKind;

    use super::*;

    fn database_error(message: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    #[test]
    fn full_storage_is_told_from_other_failures() {
        for full in [
            "database or disk is full",
            "disk I/O error",
            "could not extend file \"base/16384/2619\": No space left on device",
            "could not write to file \"pg_wal/xlogtemp.1\": No space left on device",
        ] {
            assert!(is_storage_full(&database_error(full)), "{full}");
        }
        assert!(is_storage_full(&DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(database_error("cannot rollback - no transaction is active")),
            commit_error: Box::new(database_error("disk I/O error")),
        }));
        for other in [
            "database is locked",
            "UNIQUE constraint failed",
            "canceling statement due to statement timeout",
        ] {
            assert!(!is_storage_full(&database_error(other)), "{other}");
        }
        assert!(!is_storage_full(&DieselError::NotFound));
    }

    #[test]
    fn health_follows_the_last_write() {
        let health = StorageHealth::default();
        assert!(!health.is_failing());
        health.writes_fail();
        health.writes_fail();
        assert!(health.is_failing());
        health.writes_work();
        assert!(!health.is_failing());
    }
}
