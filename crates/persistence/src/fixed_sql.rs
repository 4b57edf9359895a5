//! Statements of fixed text that Diesel may prepare once per connection.
//!
//! Diesel caches a prepared statement only when it can tell the SQL from the type:
//! `sql_query` and `batch_execute` are parsed and planned again on every run. For a
//! statement on the path of every request that costs more than running it, so each
//! such text gets a type of its own here, with a static query id.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// Defines a unit type that is the statement `$sql`.
macro_rules! fixed_statement {
    ($(#[$doc:meta])* $name:ident, $sql:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, QueryId)]
        pub(crate) struct $name;

        impl<DB: Backend> QueryFragment<DB> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }

        impl<Conn> RunQueryDsl<Conn> for $name {}
    };
}

fixed_statement!(
    /// `BEGIN` (deferred: SQLite takes its read snapshot at the first read).
    Begin,
    "BEGIN"
);
fixed_statement!(
    /// `COMMIT`.
    Commit,
    "COMMIT"
);

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    use super::*;

    #[test]
    fn they_run_and_are_cached_by_type() {
        let mut conn = SqliteConnection::establish(":memory:").expect("in memory");
        conn.batch_execute("CREATE TABLE t (x INTEGER)")
            .expect("table");
        for _ in 0..3 {
            Begin.execute(&mut conn).expect("begin");
            diesel::sql_query("INSERT INTO t VALUES (1)")
                .execute(&mut conn)
                .expect("insert");
            Commit.execute(&mut conn).expect("commit");
        }
        const {
            assert!(<Begin as QueryId>::HAS_STATIC_QUERY_ID);
            assert!(<Commit as QueryId>::HAS_STATIC_QUERY_ID);
        }
        // A second BEGIN inside the first is refused: each one really began.
        Begin.execute(&mut conn).expect("begin");
        assert!(Begin.execute(&mut conn).is_err());
        Commit.execute(&mut conn).expect("commit");
    }
}
