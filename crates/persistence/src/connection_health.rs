//! Connection health: what the pool needs to know about a connection's health without
//! asking the database, and an optional trace of every statement.
//!
//! r2d2 checks a connection on every checkout; a `SELECT 1` there costs a round trip
//! per checkout, about as much as the work of a small request on PostgreSQL. The
//! probe, installed on every pooled connection as Diesel `Instrumentation`, records
//! when the connection last finished a statement successfully and whether a statement
//! failed because the connection itself was lost. The pool trusts a connection that
//! succeeded within [`TRUST_WINDOW`] and checks the others; a lost connection is
//! dropped when it goes back to the pool, so a database restart costs at most one
//! failed (503) request per connection that was in use just before, never a stuck
//! connection.
//!
//! With the `switchboard::sql` target enabled at `debug` level (for example
//! `RUST_LOG=warn,switchboard::sql=debug`), every statement's SQL text is logged,
//! without its bind values (they may hold credentials, token hashes or ciphertexts).
//! The load benchmark counts statements per request this way. Which failures mean a
//! lost connection is decided with the rest of the error classification
//! ([`crate::error::transient`]). This module knows nothing of the schema.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{DebugQuery, Instrumentation, InstrumentationEvent};
use diesel::result::Error as DieselError;

use crate::connection::DbConnection;
use crate::error::{Transient, transient};
use crate::storage::{StorageHealth, is_storage_full};

/// Target of the statement trace.
const SQL_TRACE_TARGET: &str = "switchboard::sql";

/// A connection that finished a statement successfully this recently is handed out
/// without a check (HikariCP's `aliveBypassWindowMs` uses the same idea and value).
pub(crate) const TRUST_WINDOW: Duration = Duration::from_millis(500);

/// The instrumentation installed on every pooled connection.
#[derive(Debug, Default)]
pub(crate) struct ConnectionProbe {
    /// When a statement last finished without error.
    last_ok: Option<Instant>,
    /// A statement failed because the connection was lost.
    lost: bool,
    /// The database's storage health: told of writes refused for lack of space and
    /// of top-level commits that succeed (see [`crate::storage`]).
    storage: Arc<StorageHealth>,
    /// A top-level commit was announced; its statement's outcome comes next.
    committing: bool,
}

impl ConnectionProbe {
    fn record(&mut self, error: Option<&DieselError>) {
        if std::mem::take(&mut self.committing) && error.is_none() {
            self.storage.writes_work();
        }
        if error.is_some_and(is_storage_full) {
            self.storage.writes_fail();
        }
        match error {
            None => self.last_ok = Some(Instant::now()),
            Some(error) if is_lost_connection(error) => {
                self.lost = true;
                self.last_ok = None;
            }
            // The database answered (a constraint, a timeout, a busy file): the
            // connection works, but one failure is no reason to extend the trust.
            Some(_) => {}
        }
    }
}

impl Instrumentation for ConnectionProbe {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                tracing::debug!(target: SQL_TRACE_TARGET, sql = %SqlText(query), "statement");
            }
            InstrumentationEvent::FinishQuery { error, .. } => self.record(error),
            InstrumentationEvent::CommitTransaction { depth, .. } => {
                self.committing = depth.get() == 1;
            }
            _ => {}
        }
    }
}

/// The SQL of a statement without its bind values.
struct SqlText<'a>(&'a dyn DebugQuery);

impl fmt::Display for SqlText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Diesel renders "<sql> -- binds: [...]"; only the part before is written.
        let rendered = self.0.to_string();
        let sql = rendered
            .split_once(" -- binds: ")
            .map_or(rendered.as_str(), |(sql, _)| sql);
        f.write_str(sql.trim())
    }
}

fn is_lost_connection(error: &DieselError) -> bool {
    transient(error) == Some(Transient::LostConnection)
}

fn probe_of(connection: &mut DbConnection) -> Option<&mut ConnectionProbe> {
    connection
        .instrumentation()
        .downcast_mut::<ConnectionProbe>()
}

/// Installs a fresh probe on `connection`, reporting to `storage`.
pub(crate) fn install(connection: &mut impl Connection, storage: Arc<StorageHealth>) {
    connection.set_instrumentation(ConnectionProbe {
        storage,
        ..ConnectionProbe::default()
    });
}

/// Whether `connection` finished a statement successfully within the trust window.
pub(crate) fn recently_ok(connection: &mut DbConnection) -> bool {
    probe_of(connection).is_some_and(|probe| {
        !probe.lost && probe.last_ok.is_some_and(|at| at.elapsed() < TRUST_WINDOW)
    })
}

/// Whether a statement on `connection` failed because the connection was lost.
pub(crate) fn lost(connection: &mut DbConnection) -> bool {
    probe_of(connection).is_some_and(|probe| probe.lost)
}

#[cfg(test)]
mod tests {
    use diesel::result::DatabaseErrorKind;

    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn lost_connections_are_told_from_answers_of_a_live_database() {
        for lost in [
            database_error(DatabaseErrorKind::ClosedConnection, "closed"),
            database_error(
                DatabaseErrorKind::Unknown,
                "server closed the connection unexpectedly",
            ),
            database_error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
        ] {
            assert!(is_lost_connection(&lost), "{lost}");
        }
        for alive in [
            database_error(DatabaseErrorKind::UniqueViolation, "duplicate key value"),
            database_error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to statement timeout",
            ),
            database_error(DatabaseErrorKind::Unknown, "database is locked"),
            DieselError::NotFound,
        ] {
            assert!(!is_lost_connection(&alive), "{alive}");
        }
    }

    #[test]
    fn a_probe_trusts_recent_success_and_never_a_lost_connection() {
        let mut probe = ConnectionProbe::default();
        assert!(probe.last_ok.is_none());
        probe.record(None);
        assert!(probe.last_ok.is_some() && !probe.lost);
        probe.record(Some(&DieselError::NotFound));
        assert!(probe.last_ok.is_some(), "an answer keeps the connection");
        probe.record(Some(&database_error(
            DatabaseErrorKind::ClosedConnection,
            "closed",
        )));
        assert!(probe.lost && probe.last_ok.is_none());
    }
}
