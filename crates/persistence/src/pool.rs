//! Connection management: which backend a URL names, how one connection is opened and
//! prepared, and the r2d2 manager that hands those connections to the pools.
//!
//! The backend is chosen by the URL alone (never by trying each backend in turn, which
//! hides the real cause of a failure). Per-connection settings live here; the
//! once-per-database setting (`journal_mode=WAL`) is applied by
//! [`Database::connect`](crate::Database::connect).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use diesel::connection::{CacheSize, SimpleConnection};
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};
use url::Url;

use crate::connection::DbConnection;
use crate::connection_health;
use crate::error::DatabaseError;
use crate::storage::StorageHealth;

/// Where connections go, decided from the URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A libpq URL (with a `connect_timeout` added when it had none).
    Postgres(String),
    /// A SQLite database file.
    Sqlite(PathBuf),
}

impl Target {
    /// Reads a database URL: `postgres://` or `postgresql://` for PostgreSQL;
    /// `sqlite://relative/path`, `sqlite:///absolute/path` or a bare path for SQLite.
    /// In-memory SQLite databases are refused: every pooled connection would open a
    /// database of its own.
    pub(crate) fn parse(url: &str, connect_timeout_ms: u64) -> Result<Self, DatabaseError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DatabaseError::InvalidUrl(
                "the database URL is empty".into(),
            ));
        }
        if is_postgres_url(url) {
            return with_connect_timeout(url, connect_timeout_ms).map(Self::Postgres);
        }
        let lower = url.to_ascii_lowercase();
        let path = if lower.starts_with("sqlite://") {
            &url["sqlite://".len()..]
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(DatabaseError::InvalidUrl(format!(
                "unsupported scheme `{scheme}://`: use postgres://, postgresql://, sqlite:// or a file path"
            )));
        } else {
            url
        };
        if path.is_empty() {
            return Err(DatabaseError::InvalidUrl(
                "the SQLite URL names no file: use sqlite://path/to/file.db".into(),
            ));
        }
        let lower_path = path.to_ascii_lowercase();
        if lower_path.contains(":memory:") || lower_path.contains("mode=memory") {
            return Err(DatabaseError::InvalidUrl(
                "in-memory SQLite databases are not supported (each pooled connection would \
                 get its own database): name a file, such as sqlite://data/switchboard.db"
                    .into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// Whether `url` names PostgreSQL (`postgres://` or `postgresql://`, any case).
pub(crate) fn is_postgres_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Adds libpq's `connect_timeout` (whole seconds, rounded up) unless the URL sets it,
/// so that a connection attempt to an unreachable host does not hang a pool thread.
fn with_connect_timeout(url: &str, connect_timeout_ms: u64) -> Result<String, DatabaseError> {
    // The parse error names what is wrong, never the URL (it may hold a password).
    let mut parsed = Url::parse(url).map_err(|error| {
        DatabaseError::InvalidUrl(format!(
            "the PostgreSQL URL cannot be read ({error}); several hosts go in query \
             parameters: postgres:///db?host=h1,h2&port=5432,5433"
        ))
    })?;
    if parsed
        .query_pairs()
        .any(|(key, _)| key == "connect_timeout")
    {
        return Ok(url.to_owned());
    }
    let seconds = connect_timeout_ms.div_ceil(1000).max(1);
    parsed
        .query_pairs_mut()
        .append_pair("connect_timeout", &seconds.to_string());
    Ok(parsed.into())
}

/// `url` with any password replaced, for logs and `Debug`; a URL that cannot be read
/// shows its scheme only.
pub(crate) fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Cannot fail: a URL with a password has a host.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.into()
        }
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            // A bare SQLite path: no credentials to hide.
            None => url.to_owned(),
        },
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
        }
    }
}

/// Why a connection could not be opened or prepared.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("{0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
    #[error("database file path is not valid UTF-8")]
    Path,
}

/// Opens connections of one backend and prepares each one.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionManager {
    target: Target,
    statement_timeout_ms: u64,
    statement_cache: bool,
    storage: Arc<StorageHealth>,
}

impl ConnectionManager {
    pub(crate) fn new(
        target: Target,
        statement_timeout_ms: u64,
        statement_cache: bool,
        storage: Arc<StorageHealth>,
    ) -> Self {
        Self {
            target,
            statement_timeout_ms,
            statement_cache,
            storage,
        }
    }

    /// Opens and prepares one connection.
    pub(crate) fn open(&self) -> Result<DbConnection, ConnectError> {
        match &self.target {
            Target::Postgres(url) => {
                // No session state (nothing `SET`): the statement timeout is set per
                // transaction (crate::statement_timeout), so that a transaction-pooling
                // pgbouncer can lend any server connection to any transaction.
                let mut connection = PgConnection::establish(url)?;
                connection_health::install(&mut connection, self.storage.clone());
                if !self.statement_cache {
                    // Statements are then sent unnamed (PQsendQueryParams), which a
                    // pgbouncer without prepared-statement support passes through.
                    connection.set_prepared_statement_cache_size(CacheSize::Disabled);
                }
                Ok(DbConnection::Postgresql(connection))
            }
            Target::Sqlite(path) => {
                let path = path.to_str().ok_or(ConnectError::Path)?;
                let mut connection = SqliteConnection::establish(path)?;
                connection_health::install(&mut connection, self.storage.clone());
                // Per connection only: journal_mode=WAL is set once, at startup, because
                // setting it from every new connection races while the pool fills.
                // secure_delete: deleted content (an erased credential version) is
                // overwritten with zeros, not left in free pages. temp_store=MEMORY:
                // the journal of a savepoint (each write of a group commit has one,
                // crate::group_commit) keeps the pages it may restore in memory
                // rather than in a temporary file: no file I/O per write, and no copy
                // of erased content left in a file of the temporary directory.
                connection.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;",
                    self.statement_timeout_ms
                ))?;
                Ok(DbConnection::Sqlite(connection))
            }
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        self.open()
    }

    /// Checks a connection on checkout, unless it finished a statement successfully
    /// within [`connection_health::TRUST_WINDOW`] (see [`crate::connection_health`]).
    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), ConnectError> {
        if connection_health::recently_ok(connection) {
            return Ok(());
        }
        connection.ping().map_err(ConnectError::from)
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        std::thread::panicking() || connection.is_broken() || connection_health::lost(connection)
    }
}

/// Reports failed connection attempts through `tracing` (r2d2's default handler
/// writes to the `log` crate, which this service does not collect).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TracingErrorHandler;

impl r2d2::HandleError<ConnectError> for TracingErrorHandler {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "database connection attempt failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(path: &str) -> Target {
        Target::Sqlite(PathBuf::from(path))
    }

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            Target::parse("sqlite://data/switchboard.db", 3000).ok(),
            Some(sqlite("data/switchboard.db"))
        );
        assert_eq!(
            Target::parse("sqlite:///var/lib/sb.db", 3000).ok(),
            Some(sqlite("/var/lib/sb.db"))
        );
        assert_eq!(Target::parse("./sb.db", 3000).ok(), Some(sqlite("./sb.db")));
        assert_eq!(
            Target::parse("postgres://u:p@db:5432/sb", 3000).ok(),
            Some(Target::Postgres(
                "postgres://u:p@db:5432/sb?connect_timeout=3".into()
            ))
        );
        assert_eq!(
            Target::parse("postgresql://db/sb?sslmode=disable", 500).ok(),
            Some(Target::Postgres(
                "postgresql://db/sb?sslmode=disable&connect_timeout=1".into()
            ))
        );
        assert_eq!(
            Target::parse("postgres://db/sb?connect_timeout=9", 500).ok(),
            Some(Target::Postgres(
                "postgres://db/sb?connect_timeout=9".into()
            ))
        );
    }

    #[test]
    fn memory_unknown_and_unreadable_urls_are_refused() {
        for url in [
            "postgres://user:secret@h1:5432,h2:5433/sb",
            ":memory:",
            "sqlite://:memory:",
            "file::memory:?cache=shared",
            "sqlite://",
            "",
            "mysql://db/sb",
        ] {
            assert!(
                matches!(Target::parse(url, 1000), Err(DatabaseError::InvalidUrl(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://user:secret@db:5432/sb?x=1"),
            "postgres://user:***@db:5432/sb?x=1"
        );
        assert_eq!(redact_url("postgres://db/sb"), "postgres://db/sb");
        assert_eq!(redact_url("postgres://user@db/sb"), "postgres://user@db/sb");
        assert_eq!(redact_url("data/switchboard.db"), "data/switchboard.db");
        assert_eq!(
            redact_url("postgres://user:secret@h1:5432,h2:5433/sb"),
            "postgres://…"
        );
        assert!(!format!("{:?}", Target::Postgres("postgres://u:pw@h/d".into())).contains("pw"));
    }
}
