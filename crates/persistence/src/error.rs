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

/// What a failure that a retry may fix says about the connection it happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transient {
    /// The database answered: busy, a timeout, starting up or shutting down, or not
    /// reachable at all. A connection that got this answer still works.
    Unavailable,
    /// The connection itself is gone: the pool must drop it (see
    /// [`crate::connection_health`]).
    LostConnection,
}

/// Fragments of driver messages (lowercase) that mean "try again later", each with
/// what it says about the connection.
const TRANSIENT_MESSAGES: &[(&str, Transient)] = &[
    // SQLite: the busy handler gave up (SQLITE_BUSY / SQLITE_LOCKED).
    ("database is locked", Transient::Unavailable),
    ("database table is locked", Transient::Unavailable),
    ("database is busy", Transient::Unavailable),
    // PostgreSQL: statement_timeout, lock_timeout, pg_cancel_backend.
    ("canceling statement due to", Transient::Unavailable),
    // PostgreSQL: starting up, shutting down, in recovery.
    ("the database system is", Transient::Unavailable),
    // PostgreSQL: a new connection could not be made.
    ("connection refused", Transient::Unavailable),
    ("could not connect to server", Transient::Unavailable),
    // PostgreSQL: the server went away under an open connection.
    ("server closed the connection", Transient::LostConnection),
    ("terminating connection", Transient::LostConnection),
    ("no connection to the server", Transient::LostConnection),
    (
        "could not receive data from server",
        Transient::LostConnection,
    ),
    ("could not send data to server", Transient::LostConnection),
    ("connection to server", Transient::LostConnection),
    ("ssl connection has been closed", Transient::LostConnection),
];

fn transient_message(message: &str) -> Option<Transient> {
    let lower = message.to_ascii_lowercase();
    TRANSIENT_MESSAGES
        .iter()
        .find(|(fragment, _)| lower.contains(fragment))
        .map(|(_, kind)| *kind)
}

/// Whether a retry may fix `error`, and what it says about the connection; `None`
/// for failures a retry does not fix (a constraint, a bad statement).
pub(crate) fn transient(error: &DieselError) -> Option<Transient> {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => Some(Transient::LostConnection),
        DieselError::DatabaseError(_, info) => transient_message(info.message()).or_else(|| {
            // A full disk (SQLite) or a full PostgreSQL volume: writes fail until
            // space is freed, the connection itself is fine.
            crate::storage::is_storage_full_message(info.message())
                .then_some(Transient::Unavailable)
        }),
        // A failed commit whose rollback failed too: the commit's error decides.
        DieselError::RollbackErrorOnCommit { commit_error, .. } => transient(commit_error),
        _ => None,
    }
}

/// Whether `error` is a uniqueness violation (both backends report the kind).
pub(crate) fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Translates a Diesel error.
pub(crate) fn repository_error(error: DieselError) -> RepositoryError {
    let transient = transient(&error).is_some();
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
    fn transient_driver_messages_are_recognised_and_classified() {
        assert_eq!(
            transient_message("database is locked"),
            Some(Transient::Unavailable)
        );
        assert_eq!(
            transient_message("canceling statement due to statement timeout"),
            Some(Transient::Unavailable)
        );
        assert_eq!(
            transient_message("server closed the connection unexpectedly"),
            Some(Transient::LostConnection)
        );
        assert_eq!(
            transient_message("SSL connection has been closed unexpectedly"),
            Some(Transient::LostConnection)
        );
        assert_eq!(
            transient_message("duplicate key value violates unique constraint"),
            None
        );
    }

    #[test]
    fn every_fragment_is_lowercase_and_listed_once() {
        for (index, (fragment, _)) in TRANSIENT_MESSAGES.iter().enumerate() {
            assert_eq!(*fragment, fragment.to_ascii_lowercase());
            assert!(
                TRANSIENT_MESSAGES[index + 1..]
                    .iter()
                    .all(|(other, _)| other != fragment),
                "{fragment}"
            );
        }
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
