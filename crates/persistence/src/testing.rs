//! Throwaway databases for tests (this crate's and the end-to-end tests).
//!
//! [`TestDatabase::sqlite`] makes a SQLite file in a fresh temporary directory;
//! [`TestDatabase::postgres`] creates `sb_<random>` on the server named by
//! `SWITCHBOARD_TEST_POSTGRES_URL` (a role that may `CREATE DATABASE`) and drops it
//! (`WITH (FORCE)`, PostgreSQL 13 or later) when the value is dropped, so tests can
//! run in parallel. Without the variable the PostgreSQL cases are skipped, unless
//! `SWITCHBOARD_TEST_REQUIRE_POSTGRES=1`, which makes them fail. Migrations are not
//! applied here: tests call [`Database::run_pending_migrations`](crate::Database).

use std::fmt;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::database::DatabaseSettings;
use crate::pool::redact_url;

/// Variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "SWITCHBOARD_TEST_POSTGRES_URL";
/// Variable that, set to `1`, turns a skipped PostgreSQL test into a failure.
pub const REQUIRE_POSTGRES_VAR: &str = "SWITCHBOARD_TEST_REQUIRE_POSTGRES";

/// A database that exists for the lifetime of this value.
pub struct TestDatabase {
    url: String,
    kind: Kind,
}

enum Kind {
    /// Keeps the directory (and the file in it) until drop.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        server_url: String,
        name: String,
    },
}

impl TestDatabase {
    /// A new SQLite database file in a temporary directory.
    ///
    /// # Panics
    /// When no temporary directory can be created.
    #[must_use]
    pub fn sqlite() -> Self {
        let dir = match tempfile::Builder::new()
            .prefix("switchboard-test-")
            .tempdir()
        {
            Ok(dir) => dir,
            Err(error) => panic!("cannot create a temporary directory for SQLite: {error}"),
        };
        let path = dir.path().join("switchboard.db");
        Self {
            url: format!("sqlite://{}", path.display()),
            kind: Kind::Sqlite { _dir: dir },
        }
    }

    /// A new, empty PostgreSQL database, or `None` (after saying so on standard error)
    /// when `SWITCHBOARD_TEST_POSTGRES_URL` is not set.
    ///
    /// # Panics
    /// When the variable is unset but `SWITCHBOARD_TEST_REQUIRE_POSTGRES=1`, or when the
    /// database cannot be created.
    #[must_use]
    pub fn postgres() -> Option<Self> {
        let server_url = match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert!(
                    std::env::var(REQUIRE_POSTGRES_VAR).as_deref() != Ok("1"),
                    "{POSTGRES_URL_VAR} is not set but {REQUIRE_POSTGRES_VAR}=1 requires \
                     PostgreSQL tests: set it to a server URL such as \
                     postgres://postgres@127.0.0.1:5432/postgres"
                );
                eprintln!("skipped: {POSTGRES_URL_VAR} not set");
                return None;
            }
        };
        let name = format!("sb_{}", uuid::Uuid::new_v4().simple());
        let mut connection = match PgConnection::establish(&server_url) {
            Ok(connection) => connection,
            Err(error) => panic!(
                "cannot connect to {} ({POSTGRES_URL_VAR}): {error}",
                redact_url(&server_url)
            ),
        };
        if let Err(error) = connection.batch_execute(&format!("CREATE DATABASE {name}")) {
            panic!("cannot create the test database {name}: {error}");
        }
        Some(Self {
            url: with_database(&server_url, &name),
            kind: Kind::Postgres { server_url, name },
        })
    }

    /// The database's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Settings for this database: a small pool and short timeouts.
    #[must_use]
    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.url.clone(),
            pool_size: 4,
            connect_timeout_ms: 5000,
            statement_timeout_ms: 5000,
        }
    }
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDatabase")
            .field("url", &redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Kind::Postgres { server_url, name } = &self.kind else {
            return;
        };
        let dropped = PgConnection::establish(server_url)
            .map_err(|error| error.to_string())
            .and_then(|mut connection| {
                connection
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("could not drop the test database {name}: {error}");
        }
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "sb_1"),
            "postgres://u@h:5432/sb_1"
        );
        assert_eq!(
            with_database("postgres://u@h", "sb_1"),
            "postgres://u@h/sb_1"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/x?sslmode=disable", "sb_1"),
            "postgresql://u:p@h/sb_1?sslmode=disable"
        );
    }
}
