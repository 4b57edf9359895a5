//! Errors of the adapter and their translation into the domain's
//! [`RepositoryError`]: what a retry may fix (pool timeout, refused or closed
//! connection, statement timeout, a busy SQLite file, a full disk) becomes
//! `Unavailable` (503); everything else becomes `Internal` (500).
//!
//! Messages carry only the driver's message, never row values: Diesel's `Display`
//! of a database error prints the driver's primary message and not its detail
//! (PostgreSQL puts the offending key values in the detail).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use switchboard_domain::shared::{RepositoryError, WriteError};

/// Why setting up the database (pools, pragmas, migrations) failed.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The URL names no supported backend, or names an in-memory SQLite database.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database (or the SQLite file's directory) cannot be reached or prepared.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A migration failed, or the migration table could not be read.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Query(String),
}

impl From<RepositoryError> for DatabaseError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Unavailable(message) => Self::Unavailable(message),
            RepositoryError::Internal(message) => Self::Query(message),
        }
    }
}

/// Fragments of driver messages that mean "try again later".
const TRANSIENT_MESSAGES: &[&str] = &[
    // SQLite: the busy handler gave up (SQLITE_BUSY / SQLITE_LOCKED).
    "database is locked",
    "database table is locked",
    "database is busy",
    // PostgreSQL: statement_timeout, lock_timeout, pg_cancel_backend.
    "canceling statement due to",
    // PostgreSQL: the server went away or is shutting down.
    "server closed the connection",
    "terminating connection",
    "the database system is",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "connection to server",
    "connection refused",
    "could not connect to server",
];

fn is_transient_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    TRANSIENT_MESSAGES
        .iter()
        .any(|fragment| lower.contains(fragment))
}

/// Whether `error` is a uniqueness violation (both backends report the kind).
pub(crate) fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Whether a retry may fix `error` (also a failed commit whose rollback failed too).
fn is_transient(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            is_transient_message(info.message())
                || crate::storage::is_storage_full_message(info.message())
        }
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_transient(commit_error),
        _ => false,
    }
}

/// Translates a Diesel error.
pub(crate) fn repository_error(error: DieselError) -> RepositoryError {
    let transient = is_transient(&error);
    let message = error.to_string();
    if transient {
        RepositoryError::Unavailable(message)
    } else {
        RepositoryError::Internal(message)
    }
}

/// Translates a Diesel error of a write that may collide with a unique key.
pub(crate) fn write_error(error: DieselError) -> WriteError {
    if is_unique_violation(&error) {
        WriteError::Duplicate
    } else {
        WriteError::Repository(repository_error(error))
    }
}

/// Translates a failed pool checkout: the pool timed out waiting for a connection,
/// which means the database is down, unreachable or saturated.
pub(crate) fn pool_error(error: &r2d2::Error) -> RepositoryError {
    RepositoryError::Unavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_driver_messages_are_recognised() {
        assert!(is_transient_message("database is locked"));
        assert!(is_transient_message(
            "canceling statement due to statement timeout"
        ));
        assert!(is_transient_message(
            "server closed the connection unexpectedly"
        ));
        assert!(!is_transient_message(
            "duplicate key value violates unique constraint"
        ));
    }

    #[test]
    fn unique_violations_become_duplicates() {
        let error = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("UNIQUE constraint failed".to_owned()),
        );
        assert!(matches!(write_error(error), WriteError::Duplicate));
        let other = DieselError::NotFound;
        assert!(matches!(
            write_error(other),
            WriteError::Repository(RepositoryError::Internal(_))
        ));
    }
}
