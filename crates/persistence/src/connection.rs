//! The one connection type of the service: an enum over PostgreSQL and SQLite that
//! Diesel's `MultiConnection` derive turns into a single `Connection`, so that every
//! query is written once.
//!
//! Backend-specific work (pragmas, advisory locks, migrations) matches on the variant;
//! nothing else should, except the statements on the path of every request, which
//! run through [`on_backend!`]: through the `MultiConnection` enum Diesel renders a
//! query's SQL again on every execution (to translate it for the backend at hand),
//! even when the prepared statement is cached, and for the token lookup and the read
//! of one configuration this cost about a sixth of the server's CPU
//! (docs/performance.md). [`on_backend!`] runs the same query expression on the
//! inner `SqliteConnection` or `PgConnection` instead, where Diesel finds the cached
//! statement by the query's type. It is not backend-specific work: the expression is
//! written once and checked for both backends.

use diesel::{PgConnection, SqliteConnection};

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// `on_backend!(conn, |c| expression)`: evaluates `expression` with `c` bound to the
/// inner connection of `conn` (a `&mut DbConnection`); see the module.
macro_rules! on_backend {
    ($conn:expr, |$inner:ident| $body:expr) => {
        match $conn {
            $crate::connection::DbConnection::Sqlite($inner) => $body,
            $crate::connection::DbConnection::Postgresql($inner) => $body,
        }
    };
}

pub(crate) use on_backend;
