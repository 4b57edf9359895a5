//! Throwaway databases: one per test case, so that cases run in parallel.
//!
//! [`TestDatabase::sqlite`] makes a SQLite file in a fresh temporary directory;
//! [`TestDatabase::postgres`] creates `sb_<random>` on the server named by
//! `SWITCHBOARD_TEST_POSTGRES_URL` (a role that may `CREATE DATABASE`) and drops it
//! (`WITH (FORCE)`, PostgreSQL 13 or later) when the value is dropped. Whether the
//! PostgreSQL cases run at all is decided when the tests are compiled (see
//! [`on_both_backends!`](crate::on_both_backends)); a case that runs without a
//! reachable server fails. Migrations are not applied here: tests call
//! `Database::run_pending_migrations` (or spawn an app, which does).
//!
//! This module knows the persistence adapter's settings type and nothing of the
//! schema.

use std::fmt;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use switchboard_persistence::{Backend, DatabaseSettings};
use url::Url;

/// Variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "SWITCHBOARD_TEST_POSTGRES_URL";
/// Variable that, set to `1`, runs the PostgreSQL cases even without
/// [`POSTGRES_URL_VAR`], so that they fail instead of being skipped.
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
    /// A new, empty database of `backend`.
    ///
    /// # Panics
    /// As [`Self::sqlite`] and [`Self::postgres`] do.
    #[must_use]
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres(),
        }
    }

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

    /// A new, empty PostgreSQL database on the server named by
    /// `SWITCHBOARD_TEST_POSTGRES_URL`.
    ///
    /// # Panics
    /// When the variable is not set, the server cannot be reached or the database
    /// cannot be created: a PostgreSQL case that runs must have PostgreSQL.
    #[must_use]
    pub fn postgres() -> Self {
        let server_url = match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => panic!(
                "this PostgreSQL case needs {POSTGRES_URL_VAR}, a server URL such as \
                 postgres://postgres@127.0.0.1:5432/postgres (a role that may CREATE \
                 DATABASE); without it the PostgreSQL cases are compiled as ignored, \
                 unless {REQUIRE_POSTGRES_VAR}=1"
            ),
        };
        let name = format!("sb_{}", uuid::Uuid::new_v4().simple());
        let url = match with_database(&server_url, &name) {
            Ok(url) => url,
            Err(error) => panic!("{POSTGRES_URL_VAR} is not a URL: {error}"),
        };
        let mut connection = match PgConnection::establish(&server_url) {
            Ok(connection) => connection,
            Err(error) => panic!(
                "cannot connect to {} ({POSTGRES_URL_VAR}): {error}",
                redacted(&server_url)
            ),
        };
        if let Err(error) = connection.batch_execute(&format!("CREATE DATABASE {name}")) {
            panic!("cannot create the test database {name}: {error}");
        }
        Self {
            url,
            kind: Kind::Postgres { server_url, name },
        }
    }

    /// Which backend this database is on.
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self.kind {
            Kind::Sqlite { .. } => Backend::Sqlite,
            Kind::Postgres { .. } => Backend::Postgres,
        }
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
            ..DatabaseSettings::new(self.url.clone())
        }
    }
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDatabase")
            .field("url", &redacted(&self.url))
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

/// `server_url` naming database `name` instead (query parameters kept).
fn with_database(server_url: &str, name: &str) -> Result<String, url::ParseError> {
    let mut url = Url::parse(server_url)?;
    url.set_path(name);
    Ok(url.into())
}

/// `url` without its password, for messages; a URL that does not parse is not shown.
fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Cannot fail: the URL has a password, so it has a host.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.into()
        }
        Err(_) => "(a URL that does not parse)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redacted, with_database};

    #[test]
    fn the_database_name_is_replaced() {
        let replaced = |url| with_database(url, "sb_1").ok();
        assert_eq!(
            replaced("postgres://u@h:5432/test").as_deref(),
            Some("postgres://u@h:5432/sb_1")
        );
        assert_eq!(
            replaced("postgres://u@h").as_deref(),
            Some("postgres://u@h/sb_1")
        );
        assert_eq!(
            replaced("postgresql://u:p@h/x?sslmode=disable").as_deref(),
            Some("postgresql://u:p@h/sb_1?sslmode=disable")
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redacted("postgres://u:secret@h:5432/test"),
            "postgres://u:***@h:5432/test"
        );
        assert_eq!(redacted("postgres://u@h/test"), "postgres://u@h/test");
        assert!(!redacted("postgres://u:secret@h:5432,h2:1/test").contains("secret"));
    }
}
