//! Statement timeouts without session state, so that a transaction-pooling
//! pgbouncer may stand between the service and PostgreSQL (contract section 14).
//!
//! Nothing is `SET` on a connection: a `SET` would stick to whichever server
//! connection pgbouncer lent for it, and be missing from the others. Instead every
//! transaction sets its own timeout with `SET LOCAL`, sent in the same round trip as
//! its `BEGIN`:
//!
//! - reads: [`Database::reader`](crate::database::Database) hands out a connection
//!   inside a read-only transaction (committed when the connection goes back), so
//!   every read is under the timeout;
//! - transactions of writes ([`crate::transaction::write_transaction`]) begin with
//!   it;
//! - a write of one statement outside a transaction runs without one: it can only
//!   wait for a row lock, and whoever holds the lock runs under the timeout.
//!
//! The connection types are Diesel's and carry no setting, so the timeout of the
//! pool a connection came from travels beside it: a checkout puts it in a
//! thread-local [`Scope`] for as long as it is held (calls are synchronous on the
//! thread that checked out), and [`begin_sql`] reads it.

use std::cell::Cell;

thread_local! {
    static CURRENT_MS: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The timeout of the connection checked out on this thread, restored to the
/// previous one when dropped.
#[derive(Debug)]
pub(crate) struct Scope {
    previous: Option<u64>,
}

impl Scope {
    /// Statements of transactions begun on this thread get `timeout_ms` (`None`:
    /// none set, as on SQLite, whose busy timeout is per connection).
    pub(crate) fn enter(timeout_ms: Option<u64>) -> Self {
        Self {
            previous: CURRENT_MS.with(|current| current.replace(timeout_ms)),
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT_MS.with(|current| current.set(self.previous));
    }
}

/// The SQL that begins a PostgreSQL transaction (`BEGIN` and `mode`, e.g. `READ
/// ONLY`) under the current timeout.
pub(crate) fn begin_sql(mode: &str) -> String {
    let begin = if mode.is_empty() {
        "BEGIN".to_owned()
    } else {
        format!("BEGIN {mode}")
    };
    match CURRENT_MS.with(Cell::get) {
        Some(ms) => format!("{begin}; SET LOCAL statement_timeout = {ms}"),
        None => begin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        assert_eq!(begin_sql(""), "BEGIN");
        {
            let _outer = Scope::enter(Some(5000));
            assert_eq!(
                begin_sql("READ ONLY"),
                "BEGIN READ ONLY; SET LOCAL statement_timeout = 5000"
            );
            {
                let _inner = Scope::enter(Some(200));
                assert_eq!(begin_sql(""), "BEGIN; SET LOCAL statement_timeout = 200");
            }
            assert_eq!(begin_sql(""), "BEGIN; SET LOCAL statement_timeout = 5000");
        }
        assert_eq!(begin_sql(""), "BEGIN");
    }
}
