//! The database handle the adapters share: settings, the read and write pools, the
//! embedded migrations and the readiness probe.
//!
//! SQLite funnels every write through one connection (a write pool of size 1) so that
//! a read-then-write inside the process never fails with `SQLITE_BUSY`; reads use a
//! pool of their own. On PostgreSQL both handles are the same pool. The pools open
//! connections lazily: [`Database::connect`] returns at once even when PostgreSQL is
//! down, and a later checkout fails after `connect_timeout_ms` with
//! [`RepositoryError::Unavailable`].

use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::backend::Backend as DieselBackend;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use switchboard_domain::shared::RepositoryError;

use crate::connection::DbConnection;
use crate::error::{DatabaseError, pool_error};
use crate::group_commit::{GroupCommit, GroupCommitStats};
use crate::pool::{ConnectionManager, Target, TracingErrorHandler, redact_url};
use crate::statement_timeout;
use crate::storage::StorageHealth;
use crate::transaction::TransactionWriter;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Key of the PostgreSQL advisory lock held (for the migrations' transaction) while
/// migrations run, so that replicas starting together migrate one at a time (ASCII
/// "SWBDMIGR").
const MIGRATION_LOCK_KEY: i64 = 0x5357_4244_4d49_4752;

/// A connection of a pool, with the statement timeout of its pool in force on this
/// thread while it is held (see [`crate::statement_timeout`]). A reader's
/// PostgreSQL connection is inside a read-only transaction, committed when it goes
/// back.
pub(crate) struct PooledConnection {
    // Field order: the transaction ends before the connection goes back, and the
    // timeout scope ends last.
    connection: r2d2::PooledConnection<ConnectionManager>,
    read_transaction: bool,
    /// A SQLite connection lent without waiting ([`Database::writer_if_free`]): its
    /// busy timeout, restored when it goes back.
    restore_busy_timeout_ms: Option<u64>,
    _scope: statement_timeout::Scope,
}

impl std::ops::Deref for PooledConnection {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.connection
    }
}

impl std::ops::DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.connection
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let (Some(ms), DbConnection::Sqlite(inner)) =
            (self.restore_busy_timeout_ms, &mut *self.connection)
        {
            // Cannot fail on an open connection (no I/O); if it did, the next
            // statement that meets a lock fails at once instead of waiting.
            let _ = inner.batch_execute(&format!("PRAGMA busy_timeout = {ms}"));
        }
        if !self.read_transaction {
            return;
        }
        if let DbConnection::Postgresql(inner) = &mut *self.connection {
            // Reads only: a commit that fails loses nothing. A connection left in a
            // transaction is broken in Diesel's eyes, and the pool drops it.
            if AnsiTransactionManager::commit_transaction(inner).is_err() {
                let _ = AnsiTransactionManager::rollback_transaction(inner);
            }
        }
    }
}

/// A reader connection ([`Database::reader`]): the caller's own, or the one of the
/// read session open on this thread ([`Database::read_session`]), to which it goes
/// back when dropped, still inside its read transaction.
pub(crate) struct ReadConnection {
    /// `Some` until dropped.
    pooled: Option<PooledConnection>,
    /// The id of the database whose session lent it.
    session: Option<usize>,
}

impl std::ops::Deref for ReadConnection {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        match &self.pooled {
            Some(pooled) => pooled,
            None => unreachable!("a read connection is emptied only when dropped"),
        }
    }
}

impl std::ops::DerefMut for ReadConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        match &mut self.pooled {
            Some(pooled) => pooled,
            None => unreachable!("a read connection is emptied only when dropped"),
        }
    }
}

impl Drop for ReadConnection {
    fn drop(&mut self) {
        let (Some(database), Some(pooled)) = (self.session, self.pooled.take()) else {
            return;
        };
        // Back to the session; when it has ended (or already holds another), the
        // connection is dropped here: its read transaction ends and it goes back to
        // the pool.
        let leftover = SESSION.with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => match slot.as_mut() {
                Some(session) if session.database == database && session.lent.is_none() => {
                    session.lent = Some(pooled);
                    None
                }
                _ => Some(pooled),
            },
            Err(_) => Some(pooled),
        });
        drop(leftover);
    }
}

/// A read session open on this thread: the database it reads, and its reader
/// connection while no one uses it.
struct ReadSession {
    database: usize,
    lent: Option<PooledConnection>,
}

thread_local! {
    static SESSION: RefCell<Option<ReadSession>> = const { RefCell::new(None) };
}

/// Ends the read session it opened (also when the work panics).
struct SessionGuard;

impl Drop for SessionGuard {
    fn drop(&mut self) {
        // The connection (if any) is dropped after the slot is released: its read
        // transaction commits and it goes back to the pool.
        let session = SESSION.with(|slot| slot.try_borrow_mut().ok().and_then(|mut s| s.take()));
        drop(session);
    }
}

/// Ids of [`Database`] handles (clones share theirs), for read sessions.
static NEXT_DATABASE_ID: AtomicUsize = AtomicUsize::new(1);

type Pool = r2d2::Pool<ConnectionManager>;

/// Write transactions per SQLite commit at most, by default: enough for every
/// request of a busy server to share one, few enough that the last of them waits
/// a few milliseconds at most for its answer.
pub const DEFAULT_GROUP_COMMIT_MAX: usize = 64;

/// How to reach the database.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// `postgres://...`, `postgresql://...`, `sqlite://path`, `sqlite:///abs/path` or
    /// a bare file path.
    pub url: String,
    /// Connections in the (read) pool; SQLite adds one writer connection.
    pub pool_size: u32,
    /// How long a checkout waits for a connection before the call fails as
    /// unavailable; also bounds PostgreSQL's connection attempts.
    pub connect_timeout_ms: u64,
    /// PostgreSQL `statement_timeout` (set per transaction, see
    /// [`crate::statement_timeout`]); SQLite `busy_timeout`.
    pub statement_timeout_ms: u64,
    /// A direct PostgreSQL URL for migrations (`None`: `url`), for when `url` is a
    /// transaction-pooling pgbouncer.
    pub migration_url: Option<String>,
    /// Diesel's prepared-statement cache on PostgreSQL connections; off for a
    /// pgbouncer without prepared-statement support in transaction mode.
    pub statement_cache: bool,
    /// SQLite: at most this many write transactions share one commit (see
    /// [`crate::group_commit`]); 1 commits each on its own. Not used on PostgreSQL.
    pub group_commit_max: usize,
}

impl DatabaseSettings {
    /// Settings for `url` with the service's defaults (8 connections, 3 s checkout,
    /// 5 s statements).
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 8,
            connect_timeout_ms: 3000,
            statement_timeout_ms: 5000,
            migration_url: None,
            statement_cache: true,
            group_commit_max: DEFAULT_GROUP_COMMIT_MAX,
        }
    }
}

impl DatabaseSettings {
    /// The URL with its password (if any) replaced by `***`: what banners and error
    /// messages may show.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.trim())
    }

    /// How connections to PostgreSQL travel (with libpq's `PGHOST` and `PGSSLMODE`
    /// from this process's environment); `None` for SQLite.
    #[must_use]
    pub fn postgres_transport(&self) -> Option<crate::PostgresTransport> {
        crate::postgres_transport(&self.url, |name| std::env::var(name).ok())
    }

    /// The SQLite file the URL names; `None` for PostgreSQL (or a URL that cannot be
    /// read, which [`Database::connect`] reports).
    #[must_use]
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match Target::parse(&self.url, self.connect_timeout_ms) {
            Ok(Target::Sqlite(path)) => Some(path),
            _ => None,
        }
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field(
                "migration_url",
                &self.migration_url.as_deref().map(redact_url),
            )
            .field("statement_cache", &self.statement_cache)
            .field("group_commit_max", &self.group_commit_max)
            .finish()
    }
}

/// The state of one connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub pool: &'static str,
    pub max_size: u32,
    pub connections: u32,
    pub idle: u32,
}

/// Which database engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A short lowercase name (`sqlite`, `postgres`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Pools of connections to one database. Cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub struct Database {
    /// Tells this database's read sessions from another's.
    id: usize,
    backend: Backend,
    reader: Pool,
    writer: Pool,
    /// Set per transaction on PostgreSQL (see [`crate::statement_timeout`]).
    statement_timeout_ms: u64,
    /// The direct PostgreSQL URL of migrations, when not the pools' own.
    migration_target: Option<Target>,
    statement_cache: bool,
    /// Whether writes fail for lack of storage (see [`crate::storage`]).
    storage: Arc<StorageHealth>,
    /// SQLite: the group commit of the writer connection.
    group: Option<Arc<GroupCommit>>,
    /// How long a checkout (of a pooled connection, or of the group's slot) waits.
    checkout_timeout: Duration,
}

impl Database {
    /// Builds the pools for `settings.url`.
    ///
    /// No PostgreSQL connection is opened here, so this returns at once even when the
    /// server is down; calls then fail as unavailable until it is back. For SQLite the
    /// file (and its directory) is created if missing, and `journal_mode=WAL` is set
    /// once on one connection.
    ///
    /// # Errors
    /// [`DatabaseError::InvalidUrl`] for an unsupported or in-memory URL;
    /// [`DatabaseError::Unavailable`] when the SQLite file cannot be created or
    /// prepared.
    pub fn connect(settings: &DatabaseSettings) -> Result<Self, DatabaseError> {
        let target = Target::parse(&settings.url, settings.connect_timeout_ms)?;
        let backend = match &target {
            Target::Postgres(_) => Backend::Postgres,
            Target::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|error| {
                        DatabaseError::Unavailable(format!(
                            "cannot create the directory of the SQLite database: {error}"
                        ))
                    })?;
                }
                Backend::Sqlite
            }
        };
        let storage = Arc::new(StorageHealth::default());
        let manager = ConnectionManager::new(
            target,
            settings.statement_timeout_ms,
            settings.statement_cache,
            storage.clone(),
        );
        if backend == Backend::Sqlite {
            let mut connection = manager
                .open()
                .map_err(|error| DatabaseError::Unavailable(error.to_string()))?;
            connection
                .batch_execute("PRAGMA journal_mode = WAL;")
                .map_err(|error| DatabaseError::Unavailable(error.to_string()))?;
        }
        let timeout = Duration::from_millis(settings.connect_timeout_ms.max(1));
        let build = |size: u32| {
            r2d2::Pool::builder()
                .max_size(size.max(1))
                .min_idle(Some(0))
                .connection_timeout(timeout)
                .error_handler(Box::new(TracingErrorHandler))
                .build_unchecked(manager.clone())
        };
        let reader = build(settings.pool_size);
        let writer = match backend {
            Backend::Sqlite => build(1),
            Backend::Postgres => reader.clone(),
        };
        let migration_target = match settings.migration_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => {
                let target = Target::parse(url, settings.connect_timeout_ms)?;
                if !matches!(target, Target::Postgres(_)) || backend != Backend::Postgres {
                    return Err(DatabaseError::InvalidUrl(
                        "the migration URL must be a PostgreSQL URL, and only with a \
                         PostgreSQL database URL"
                            .into(),
                    ));
                }
                Some(target)
            }
            _ => None,
        };
        Ok(Self {
            id: NEXT_DATABASE_ID.fetch_add(1, Ordering::Relaxed),
            backend,
            reader,
            writer,
            statement_timeout_ms: settings.statement_timeout_ms,
            migration_target,
            statement_cache: settings.statement_cache,
            storage,
            group: (backend == Backend::Sqlite)
                .then(|| Arc::new(GroupCommit::new(settings.group_commit_max))),
            checkout_timeout: timeout,
        })
    }

    /// The engine behind the URL.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `work` in one read session: every read it makes on this thread uses one
    /// reader connection, checked out at its first read, and on PostgreSQL one
    /// read-only transaction (one snapshot, and two round trips fewer per read
    /// after the first). Writes are not affected. Inside a session already open on
    /// this thread, `work` simply runs in it (reads of another database than the
    /// session's take connections of their own).
    pub fn read_session<T>(&self, work: impl FnOnce() -> T) -> T {
        let opened = SESSION.with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) if slot.is_none() => {
                *slot = Some(ReadSession {
                    database: self.id,
                    lent: None,
                });
                true
            }
            _ => false,
        });
        // Built only when opened: a guard built and dropped would end the session.
        let _guard = if opened { Some(SessionGuard) } else { None };
        work()
    }

    /// A connection for queries that only read (on PostgreSQL, inside a read-only
    /// transaction under the statement timeout); inside a read session, the
    /// session's.
    pub(crate) fn reader(&self) -> Result<ReadConnection, RepositoryError> {
        let (in_session, lent) = SESSION.with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => match slot.as_mut() {
                Some(session) if session.database == self.id => (true, session.lent.take()),
                _ => (false, None),
            },
            Err(_) => (false, None),
        });
        let pooled = match lent {
            Some(pooled) => pooled,
            None => self.read_checkout()?,
        };
        Ok(ReadConnection {
            pooled: Some(pooled),
            session: in_session.then_some(self.id),
        })
    }

    fn read_checkout(&self) -> Result<PooledConnection, RepositoryError> {
        let mut pooled = self.checkout(&self.reader)?;
        if let DbConnection::Postgresql(inner) = &mut *pooled.connection {
            AnsiTransactionManager::begin_transaction_sql(
                inner,
                &statement_timeout::begin_sql("READ ONLY"),
            )
            .map_err(|error| RepositoryError::Unavailable(error.to_string()))?;
            pooled.read_transaction = true;
        }
        Ok(pooled)
    }

    /// The writer connection for one write transaction: on SQLite the slot of the
    /// one writer connection, whose transactions are committed in groups (see
    /// [`crate::group_commit`]), waiting for the requests before this one.
    pub(crate) fn transaction_writer(&self) -> Result<TransactionWriter<'_>, RepositoryError> {
        let Some(group) = &self.group else {
            return Ok(TransactionWriter::Pooled(self.writer()?));
        };
        let mut slot = group.take_slot(self.checkout_timeout).ok_or_else(|| {
            RepositoryError::Unavailable(
                "timed out waiting for the writer connection (group commit)".to_owned(),
            )
        })?;
        if slot.is_none() {
            *slot = Some(self.writer.get().map_err(|error| pool_error(&error))?);
        }
        Ok(TransactionWriter::Grouped { group, slot })
    }

    /// SQLite: what the group commit has done since this database was opened.
    #[must_use]
    pub fn group_commit_stats(&self) -> Option<GroupCommitStats> {
        self.group.as_deref().map(GroupCommit::stats)
    }

    #[cfg(test)]
    pub(crate) fn group_commit(&self) -> Option<&GroupCommit> {
        self.group.as_deref()
    }

    /// The connection for writes outside transactions (on SQLite, the one writer
    /// connection, free once no group commit holds it).
    pub(crate) fn writer(&self) -> Result<PooledConnection, RepositoryError> {
        self.checkout(&self.writer)
    }

    /// The connection for a write that may be skipped rather than wait (bookkeeping
    /// on the path of a request, which may run on an HTTP worker): `None` when the
    /// writer is in use. On SQLite its busy timeout is zero while it is held, so that
    /// a write lock held by another process fails the write at once.
    pub(crate) fn writer_if_free(&self) -> Result<Option<PooledConnection>, RepositoryError> {
        let connection = match self.writer.try_get() {
            Some(connection) => connection,
            // None open yet (the pool opens them lazily): opening one waits for no
            // one.
            None if self.writer.state().connections < self.writer.max_size() => {
                self.writer.get().map_err(|error| pool_error(&error))?
            }
            None => return Ok(None),
        };
        let mut pooled = self.pooled(connection);
        if let DbConnection::Sqlite(inner) = &mut *pooled.connection {
            inner
                .batch_execute("PRAGMA busy_timeout = 0")
                .map_err(|error| RepositoryError::Unavailable(error.to_string()))?;
            pooled.restore_busy_timeout_ms = Some(self.statement_timeout_ms);
        }
        Ok(Some(pooled))
    }

    fn checkout(&self, pool: &Pool) -> Result<PooledConnection, RepositoryError> {
        let connection = pool.get().map_err(|error| pool_error(&error))?;
        Ok(self.pooled(connection))
    }

    fn pooled(&self, connection: r2d2::PooledConnection<ConnectionManager>) -> PooledConnection {
        let timeout = (self.backend == Backend::Postgres).then_some(self.statement_timeout_ms);
        PooledConnection {
            connection,
            read_transaction: false,
            restore_busy_timeout_ms: None,
            _scope: statement_timeout::Scope::enter(timeout),
        }
    }

    /// Connections held and idle, per pool (`reader`, and `writer` on SQLite), for
    /// metrics.
    #[must_use]
    pub fn pool_usage(&self) -> Vec<PoolUsage> {
        let mut pools = vec![("reader", &self.reader)];
        if self.backend == Backend::Sqlite {
            pools.push(("writer", &self.writer));
        }
        pools
            .into_iter()
            .map(|(name, pool)| {
                let state = pool.state();
                PoolUsage {
                    pool: name,
                    max_size: pool.max_size(),
                    connections: state.connections,
                    idle: state.idle_connections,
                }
            })
            .collect()
    }

    /// Checks that the database answers (for the readiness probe).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when no connection can be had or the database
    /// does not answer.
    pub fn ping(&self) -> Result<(), RepositoryError> {
        let mut connection = self.reader()?;
        connection
            .batch_execute("SELECT 1")
            .map_err(|error| RepositoryError::Unavailable(error.to_string()))
    }

    /// Whether writes work, for the readiness probe. After a write failed for lack of
    /// storage and none has committed since, one small write is tried (SQLite:
    /// rewriting the header's `user_version` to its own value, a page through the
    /// WAL; PostgreSQL: committing a transaction that takes an id) and its outcome
    /// decides; otherwise nothing is written and the answer is yes.
    #[must_use]
    pub fn writes_work(&self) -> bool {
        if !self.storage.is_failing() {
            return true;
        }
        let Ok(mut connection) = self.writer() else {
            return false;
        };
        let written = match &mut *connection {
            DbConnection::Sqlite(inner) => {
                #[derive(diesel::QueryableByName)]
                struct UserVersion {
                    #[diesel(sql_type = diesel::sql_types::Integer)]
                    user_version: i32,
                }
                diesel::RunQueryDsl::get_result::<UserVersion>(
                    diesel::sql_query("PRAGMA user_version"),
                    inner,
                )
                .and_then(|current| {
                    inner.batch_execute(&format!(
                        "BEGIN IMMEDIATE; PRAGMA user_version = {}; COMMIT;",
                        current.user_version
                    ))
                })
            }
            DbConnection::Postgresql(inner) => {
                inner.batch_execute("BEGIN; SELECT txid_current(); COMMIT;")
            }
        };
        match written {
            Ok(()) => {
                self.storage.writes_work();
                true
            }
            Err(_) => {
                // Leave no transaction open on the connection.
                let _ = connection.batch_execute("ROLLBACK");
                false
            }
        }
    }

    /// Applies every pending migration and returns their names, oldest first. On
    /// PostgreSQL they run in one transaction holding a transaction-scoped advisory
    /// lock (a lock that a transaction-pooling pgbouncer cannot break, since it ends
    /// with the transaction), on the direct migration URL when one is configured; on
    /// SQLite in an immediate transaction. Concurrent runs apply each migration once:
    /// the others wait, then find nothing pending.
    ///
    /// # Errors
    /// [`DatabaseError::Unavailable`] without a connection; [`DatabaseError::Migration`]
    /// when a migration fails (the run is rolled back).
    pub fn run_pending_migrations(&self) -> Result<Vec<String>, DatabaseError> {
        let applied = self.apply_pending_migrations()?;
        self.sync_builtin_catalog()?;
        Ok(applied)
    }

    /// Writes the provider catalog compiled into the binary into the database (see
    /// [`Database::sync_provider_catalog`]); `migrate` and every start run it.
    ///
    /// # Errors
    /// [`DatabaseError::Migration`] when the compiled catalog is invalid (a unit test
    /// prevents it), else what the write reports.
    pub fn sync_builtin_catalog(&self) -> Result<(), DatabaseError> {
        let catalog = switchboard_domain::telephony::ProviderCatalog::builtin()
            .map_err(DatabaseError::Migration)?;
        Ok(self.sync_provider_catalog(&catalog)?)
    }

    /// Applies the pending migrations whose names sort at or before `last` (for
    /// tests that build a database as an older release left it), without writing the
    /// catalog. Returns their names.
    ///
    /// # Errors
    /// As [`Database::run_pending_migrations`].
    #[doc(hidden)]
    pub fn run_migrations_through(&self, last: &str) -> Result<Vec<String>, DatabaseError> {
        let mut applied = Vec::new();
        let mut connection = self.writer()?;
        loop {
            let next = match &mut *connection {
                DbConnection::Sqlite(connection) => connection
                    .pending_migrations(SQLITE_MIGRATIONS)
                    .map(|pending| pending.first().map(|m| m.name().to_string())),
                DbConnection::Postgresql(connection) => connection
                    .pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|pending| pending.first().map(|m| m.name().to_string())),
            }
            .map_err(migration_error)?;
            let Some(name) = next.filter(|name| name.as_str() <= last) else {
                return Ok(applied);
            };
            match &mut *connection {
                DbConnection::Sqlite(connection) => connection
                    .pending_migrations(SQLITE_MIGRATIONS)
                    .and_then(|pending| match pending.first() {
                        Some(migration) => connection.run_migration(&**migration).map(|_| ()),
                        None => Ok(()),
                    }),
                DbConnection::Postgresql(connection) => connection
                    .pending_migrations(POSTGRES_MIGRATIONS)
                    .and_then(|pending| match pending.first() {
                        Some(migration) => connection.run_migration(&**migration).map(|_| ()),
                        None => Ok(()),
                    }),
            }
            .map_err(migration_error)?;
            applied.push(name);
        }
    }

    /// Applies every pending migration (without the catalog sync).
    fn apply_pending_migrations(&self) -> Result<Vec<String>, DatabaseError> {
        if let Some(Target::Postgres(url)) = &self.migration_target {
            let mut direct = diesel::PgConnection::establish(url)
                .map_err(|error| DatabaseError::Unavailable(error.to_string()))?;
            if !self.statement_cache {
                direct.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
            }
            return migrate_postgres(&mut direct);
        }
        let mut connection = self.writer()?;
        match &mut *connection {
            DbConnection::Sqlite(connection) => {
                let versions = connection
                    .immediate_transaction(|connection| {
                        connection
                            .run_pending_migrations(SQLITE_MIGRATIONS)
                            .map(|versions| {
                                versions.iter().map(ToString::to_string).collect::<Vec<_>>()
                            })
                    })
                    .map_err(migration_error)?;
                names_of::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS, versions)
            }
            DbConnection::Postgresql(connection) => migrate_postgres(connection),
        }
    }

    /// The names of the migrations not yet applied, oldest first.
    ///
    /// # Errors
    /// [`DatabaseError::Unavailable`] without a connection; [`DatabaseError::Migration`]
    /// when the migration table cannot be read.
    pub fn pending_migrations(&self) -> Result<Vec<String>, DatabaseError> {
        let mut connection = self.writer()?;
        let names = match &mut *connection {
            DbConnection::Sqlite(connection) => connection
                .pending_migrations(SQLITE_MIGRATIONS)
                .map(|pending| pending.iter().map(|m| m.name().to_string()).collect()),
            DbConnection::Postgresql(connection) => connection
                .pending_migrations(POSTGRES_MIGRATIONS)
                .map(|pending| pending.iter().map(|m| m.name().to_string()).collect()),
        };
        names.map_err(migration_error)
    }

    /// The names of the applied migrations, oldest first (a version applied by a newer
    /// build, unknown to this one, is listed by its version).
    ///
    /// # Errors
    /// [`DatabaseError::Unavailable`] without a connection; [`DatabaseError::Migration`]
    /// when the migration table cannot be read.
    pub fn applied_migrations(&self) -> Result<Vec<String>, DatabaseError> {
        let mut connection = self.writer()?;
        let mut names = match &mut *connection {
            DbConnection::Sqlite(connection) => {
                let versions = applied_versions(connection)?;
                names_of::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS, versions)?
            }
            DbConnection::Postgresql(connection) => {
                let versions = applied_versions(connection)?;
                names_of::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS, versions)?
            }
        };
        names.sort();
        Ok(names)
    }
}

fn applied_versions<DB, C>(connection: &mut C) -> Result<Vec<String>, DatabaseError>
where
    DB: DieselBackend,
    C: MigrationHarness<DB>,
{
    connection
        .applied_migrations()
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(migration_error)
}

/// Applies the pending PostgreSQL migrations in one transaction under
/// `pg_advisory_xact_lock` (see [`Database::run_pending_migrations`]). No statement
/// timeout: a migration may take long, and a replica waiting for the lock must wait.
fn migrate_postgres(connection: &mut diesel::PgConnection) -> Result<Vec<String>, DatabaseError> {
    let versions = connection
        .transaction::<_, Box<dyn std::error::Error + Send + Sync>, _>(|connection| {
            connection.batch_execute(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))?;
            let versions = connection.run_pending_migrations(POSTGRES_MIGRATIONS)?;
            Ok(versions.iter().map(ToString::to_string).collect::<Vec<_>>())
        })
        .map_err(migration_error)?;
    names_of::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS, versions)
}

/// Maps migration versions to the names of the embedded migrations.
fn names_of<DB: DieselBackend>(
    source: &EmbeddedMigrations,
    versions: Vec<String>,
) -> Result<Vec<String>, DatabaseError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let known: Vec<(String, String)> = MigrationSource::<DB>::migrations(source)
        .map_err(migration_error)?
        .iter()
        .map(|migration| {
            let name = migration.name();
            (name.version().to_string(), name.to_string())
        })
        .collect();
    Ok(versions
        .into_iter()
        .map(|version| {
            known
                .iter()
                .find(|(known_version, _)| *known_version == version)
                .map_or(version, |(_, name)| name.clone())
        })
        .collect())
}

fn migration_error(error: impl fmt::Display) -> DatabaseError {
    DatabaseError::Migration(error.to_string())
}
