//! The one connection type of the service: an enum over PostgreSQL and SQLite that
//! Diesel's `MultiConnection` derive turns into a single `Connection`, so that every
//! query is written once.
//!
//! Backend-specific work (pragmas, advisory locks, migrations) matches on the variant;
//! nothing else should.

use diesel::{PgConnection, SqliteConnection};

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}
