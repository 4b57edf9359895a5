//! The one way a repository runs a transaction on the writer connection, with the
//! one retry policy of the crate.
//!
//! On SQLite the transaction takes the database's write lock with its first
//! statement (`BEGIN IMMEDIATE`, waiting for it as long as the busy timeout allows).
//! Under a plain `BEGIN` a transaction that reads before it writes (a locked update,
//! a bridge change checking the numbers first) holds only a read snapshot until its
//! first write; a write committed by another process in between (the admin binary
//! rewrapping keys, say) then fails that write at once as busy, without waiting. On
//! PostgreSQL it is a plain transaction whose `BEGIN` also sets its statement
//! timeout (`SET LOCAL`, see [`crate::statement_timeout`]): reads that must hold
//! rows lock them themselves (`FOR UPDATE`).
//!
//! A transaction that lost a race with a concurrent one is run again from the start,
//! up to [`ATTEMPTS`] times in all: PostgreSQL chose it as a deadlock victim or
//! aborted it for a serialization failure, or a row it refers to was deleted (or a
//! row it deletes was referred to) by a transaction that committed after its reads.
//! The new run reads what the winner committed, so its own checks choose the outcome
//! (a configuration that is gone, a connection that now exists). Nothing else is
//! retried: a busy SQLite file has already waited out its busy timeout.
//!
//! Repositories take a [`TransactionWriter`] ([`crate::database::Database::transaction_writer`])
//! and [`TransactionWriter::run`] their work in it. On SQLite that joins the group
//! commit of the one writer connection ([`crate::group_commit`]): the work runs in a
//! savepoint of a transaction shared with the requests queued beside it, and the
//! call returns once that transaction is committed.
//!
//! A write of one statement needs no transaction and takes none. This module knows
//! nothing of the schema.

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use parking_lot::MutexGuard;

use crate::connection::DbConnection;
use crate::database::PooledConnection;
use crate::group_commit::{GroupCommit, Slot};
use crate::statement_timeout;

/// How many times in all a transaction that lost a race is run.
pub(crate) const ATTEMPTS: usize = 3;

/// The writer connection, checked out for one write transaction.
#[expect(
    clippy::large_enum_variant,
    reason = "one lives on the stack for the length of a call; boxing would allocate per write"
)]
pub(crate) enum TransactionWriter<'a> {
    /// A pool's connection: the transaction is the work's own (PostgreSQL).
    Pooled(PooledConnection),
    /// The slot of SQLite's one writer connection: the work joins a group commit.
    Grouped {
        group: &'a GroupCommit,
        slot: MutexGuard<'a, Slot>,
    },
}

impl TransactionWriter<'_> {
    /// Runs `work` in a transaction (see the module): committed when it returns
    /// `Ok` (the call returns after the commit), rolled back when it returns `Err`,
    /// and run again from the start when it lost a race with a concurrent one.
    ///
    /// # Errors
    /// `work`'s error (of its last run), or the database's when the transaction
    /// cannot begin, commit or roll back.
    pub(crate) fn run<T, E, F>(self, work: F) -> Result<T, E>
    where
        E: TransactionError,
        F: FnMut(&mut DbConnection) -> Result<T, E>,
    {
        match self {
            Self::Pooled(mut pooled) => write_transaction(&mut pooled, work),
            Self::Grouped { group, slot } => group.run(slot, work),
        }
    }
}

/// The error type of a transaction's work: the database's errors convert into it,
/// and the retry policy can see them in it.
pub(crate) trait TransactionError: From<DieselError> {
    /// The database error that stopped the transaction, when that is what stopped it.
    fn database_error(&self) -> Option<&DieselError>;
}

impl TransactionError for DieselError {
    fn database_error(&self) -> Option<&DieselError> {
        Some(self)
    }
}

/// Why a transaction stopped: the database failed, or the work decided to roll back
/// with an outcome of its own.
pub(crate) enum TxError<E> {
    Db(DieselError),
    Abort(E),
}

impl<E> From<DieselError> for TxError<E> {
    fn from(error: DieselError) -> Self {
        Self::Db(error)
    }
}

impl<E> TransactionError for TxError<E> {
    fn database_error(&self) -> Option<&DieselError> {
        match self {
            Self::Db(error) => Some(error),
            Self::Abort(_) => None,
        }
    }
}

/// Whether `error` means the transaction lost a race with a concurrent one (see the
/// module).
pub(crate) fn lost_a_race(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ForeignKeyViolation,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// Runs `work` in a writer transaction (see the module): committed when it returns
/// `Ok`, rolled back when it returns `Err`, and run again from the start when it
/// lost a race with a concurrent transaction.
///
/// # Errors
/// `work`'s error (of its last run), or the database's when the transaction cannot
/// begin, commit or roll back.
fn write_transaction<T, E: TransactionError>(
    conn: &mut DbConnection,
    mut work: impl FnMut(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let mut attempt = 1;
    loop {
        match transaction_once(conn, &mut work) {
            Err(error) if attempt < ATTEMPTS && error.database_error().is_some_and(lost_a_race) => {
                tracing::debug!(attempt, "transaction lost a race; running it again");
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

fn transaction_once<T, E: From<DieselError>>(
    conn: &mut DbConnection,
    work: &mut impl FnMut(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        }
        // The statement timeout is the transaction's own (crate::statement_timeout).
        DbConnection::Postgresql(inner) => {
            AnsiTransactionManager::begin_transaction_sql(
                inner,
                &statement_timeout::begin_sql(""),
            )?;
        }
    }
    match work(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn sqlite() -> DbConnection {
        let mut conn = match SqliteConnection::establish(":memory:") {
            Ok(conn) => DbConnection::Sqlite(conn),
            Err(error) => panic!("in-memory SQLite: {error}"),
        };
        if let Err(error) = conn.batch_execute("CREATE TABLE t (x INTEGER)") {
            panic!("table: {error}");
        }
        conn
    }

    fn rows(conn: &mut DbConnection) -> i64 {
        diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result::<Count>(conn)
            .map_or(-1, |count| count.n)
    }

    #[test]
    fn races_are_told_from_other_failures() {
        for race in [
            database_error(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize",
            ),
            database_error(DatabaseErrorKind::Unknown, "deadlock detected"),
            database_error(
                DatabaseErrorKind::ForeignKeyViolation,
                "violates foreign key",
            ),
        ] {
            assert!(lost_a_race(&race), "{race}");
        }
        for other in [
            database_error(DatabaseErrorKind::UniqueViolation, "duplicate key value"),
            database_error(DatabaseErrorKind::Unknown, "database is locked"),
            DieselError::NotFound,
        ] {
            assert!(!lost_a_race(&other), "{other}");
        }
    }

    #[test]
    fn a_transaction_that_lost_a_race_runs_again_from_the_start() {
        let mut conn = sqlite();
        let mut runs = 0;
        let outcome = write_transaction(&mut conn, |conn| {
            runs += 1;
            conn.batch_execute("INSERT INTO t VALUES (1)")?;
            if runs < ATTEMPTS {
                return Err(database_error(
                    DatabaseErrorKind::SerializationFailure,
                    "could not serialize access",
                ));
            }
            Ok(runs)
        });
        assert_eq!(outcome.ok(), Some(ATTEMPTS));
        // The failed runs rolled back: one row, from the run that committed.
        assert_eq!(rows(&mut conn), 1);
    }

    #[test]
    fn retries_stop_after_the_last_attempt_and_other_errors_are_not_retried() {
        let mut conn = sqlite();
        let mut runs = 0;
        let outcome: Result<(), DieselError> = write_transaction(&mut conn, |_| {
            runs += 1;
            Err(database_error(
                DatabaseErrorKind::Unknown,
                "deadlock detected",
            ))
        });
        assert!(outcome.is_err());
        assert_eq!(runs, ATTEMPTS);

        let mut runs = 0;
        let outcome: Result<(), TxError<&str>> = write_transaction(&mut conn, |conn| {
            runs += 1;
            conn.batch_execute("INSERT INTO t VALUES (1)")?;
            Err(TxError::Abort("declined"))
        });
        assert!(matches!(outcome, Err(TxError::Abort("declined"))));
        assert_eq!(runs, 1);
        assert_eq!(rows(&mut conn), 0, "an abort rolls back");
    }
}
