//! The one way a repository opens a transaction on the writer connection.
//!
//! On SQLite the transaction takes the database's write lock with its first
//! statement (`BEGIN IMMEDIATE`, waiting for it as long as the busy timeout allows).
//! Under a plain `BEGIN` a transaction that reads before it writes (a locked update,
//! a bridge change checking the numbers first) holds only a read snapshot until its
//! first write; a write committed by another process in between (the admin binary
//! rewrapping keys, say) then fails that write at once as busy, without waiting. On
//! PostgreSQL it is a plain transaction: reads that must hold rows lock them
//! themselves (`FOR UPDATE`).

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::Error as DieselError;

use crate::connection::DbConnection;

/// Runs `work` in a writer transaction (see the module): committed when it returns
/// `Ok`, rolled back when it returns `Err`.
///
/// # Errors
/// `work`'s error, or the database's when the transaction cannot begin, commit or
/// roll back.
pub(crate) fn write_transaction<T, E: From<DieselError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let DbConnection::Sqlite(inner) = conn else {
        return conn.transaction(work);
    };
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
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
