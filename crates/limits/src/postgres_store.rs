//! Buckets in PostgreSQL (the service's own database), shared by every replica: one
//! upsert on the UNLOGGED table `rate_limit_buckets` takes the GCRA step atomically
//! (the row lock orders concurrent checks of one bucket) on the database server's
//! clock, and returns the bucket's time before the step. Unlogged: buckets need no
//! durability (a crash empties the table, which only refills every bucket), and
//! their writes skip the WAL.
//!
//! A small pool of its own (a few connections), so that limiter traffic never waits
//! for request handlers' connections nor takes theirs. No session state, so a
//! transaction-pooling pgbouncer may stand in between: the statement timeout is set
//! per transaction (`SET LOCAL`, sent with `BEGIN` in one round trip), and Diesel's
//! prepared-statement cache can be turned off. Once a minute at most, a check also
//! deletes the buckets that have refilled.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::PgConnection;
use diesel::connection::{AnsiTransactionManager, CacheSize, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sql_types::{BigInt, Nullable, Text};
use switchboard_domain::limits::{Decision, LimitStore, LimitStoreError, Policy};

use crate::shared::{self, DEFAULT_KEY_PREFIX, interval_micros};

/// Seconds between two sweeps of refilled buckets (per replica).
const SWEEP_EVERY_SECONDS: u64 = 60;

/// The GCRA step of [`switchboard_domain::limits::gcra`] in integer microseconds:
/// $1 key, $2 interval (µs), $3 burst, $4 cost. A missing bucket is inserted as the
/// step leaves it (a refused or free step stores `now`, a full bucket the sweep
/// removes). `previous_tat` keeps the TAT before the step so that `RETURNING` can
/// give it.
const STEP: &str = "\
WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now)
INSERT INTO rate_limit_buckets AS b (key, tat, previous_tat)
SELECT $1,
       CASE WHEN $4 > 0 AND c.now + $2 * $4 - $2 * $3 <= c.now THEN c.now + $2 * $4
            ELSE c.now END,
       NULL
FROM clock c
ON CONFLICT (key) DO UPDATE SET
    previous_tat = b.tat,
    tat = (SELECT CASE
        WHEN $4 < 0 THEN greatest(greatest(b.tat, c.now) + $2 * $4, c.now)
        WHEN $4 > 0 AND greatest(b.tat, c.now) + $2 * $4 - $2 * $3 <= c.now
            THEN greatest(b.tat, c.now) + $2 * $4
        ELSE greatest(b.tat, c.now) END
      FROM clock c)
RETURNING previous_tat, (SELECT now FROM clock) AS now";

const SWEEP: &str = "DELETE FROM rate_limit_buckets \
     WHERE tat < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

#[derive(QueryableByName)]
struct Step {
    #[diesel(sql_type = Nullable<BigInt>)]
    previous_tat: Option<i64>,
    #[diesel(sql_type = BigInt)]
    now: i64,
}

/// How the store's pool connects.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresStoreSettings {
    /// `postgres://...` (the service's database, directly or through pgbouncer).
    pub url: String,
    /// Connections of the store's own pool.
    pub pool_size: u32,
    /// Time a check may take: the pool's checkout timeout and the statement timeout.
    pub timeout: Duration,
    /// Diesel's prepared-statement cache (off for a pgbouncer without
    /// prepared-statement support, such as 1.18 in transaction mode).
    pub statement_cache: bool,
    /// Prefix of the keys (empty: [`DEFAULT_KEY_PREFIX`]).
    pub key_prefix: String,
}

impl std::fmt::Debug for PostgresStoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("PostgresStoreSettings")
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .field("statement_cache", &self.statement_cache)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
struct Prepare {
    statement_cache: bool,
}

impl r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for Prepare {
    fn on_acquire(&self, connection: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        if !self.statement_cache {
            connection.set_prepared_statement_cache_size(CacheSize::Disabled);
        }
        Ok(())
    }
}

/// Buckets in PostgreSQL (see the module).
pub struct PostgresLimitStore {
    pool: Pool<ConnectionManager<PgConnection>>,
    timeout_ms: u128,
    prefix: String,
    last_sweep: AtomicU64,
}

impl std::fmt::Debug for PostgresLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresLimitStore")
            .field("timeout_ms", &self.timeout_ms)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(error: &impl std::fmt::Display) -> LimitStoreError {
    LimitStoreError::Unavailable(format!("postgres: {error}"))
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl PostgresLimitStore {
    /// A store over a pool of its own; connections open lazily (in the pool's
    /// background), so this returns at once even when PostgreSQL is down.
    #[must_use]
    pub fn new(settings: &PostgresStoreSettings) -> Self {
        let timeout = settings.timeout.max(Duration::from_millis(1));
        let pool = Pool::builder()
            .max_size(settings.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(timeout)
            // Diesel's validity check is a query per checkout: broken connections
            // are noticed by their failures instead.
            .test_on_check_out(false)
            .connection_customizer(Box::new(Prepare {
                statement_cache: settings.statement_cache,
            }))
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(ConnectionManager::new(settings.url.clone()));
        Self {
            pool,
            timeout_ms: timeout.as_millis().max(1),
            prefix: if settings.key_prefix.is_empty() {
                DEFAULT_KEY_PREFIX.to_owned()
            } else {
                settings.key_prefix.clone()
            },
            last_sweep: AtomicU64::new(unix_seconds()),
        }
    }

    /// Runs `work` in a transaction whose statements give up after `timeout_ms`.
    fn in_transaction<T>(
        connection: &mut PgConnection,
        timeout_ms: u128,
        work: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
    ) -> QueryResult<T> {
        AnsiTransactionManager::begin_transaction_sql(
            connection,
            &format!("BEGIN; SET LOCAL statement_timeout = {timeout_ms}"),
        )?;
        match work(connection) {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(connection)?;
                Ok(value)
            }
            Err(error) => {
                AnsiTransactionManager::rollback_transaction(connection)?;
                Err(error)
            }
        }
    }

    /// Deletes refilled buckets, when the last sweep of this replica is a minute old.
    fn sweep_if_due(&self, connection: &mut PgConnection) {
        let now = unix_seconds();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now < last + SWEEP_EVERY_SECONDS
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let swept = Self::in_transaction(connection, 1000, |connection| {
            connection.batch_execute(SWEEP)
        });
        if let Err(error) = swept {
            tracing::debug!(%error, "could not sweep refilled rate-limit buckets");
        }
    }

    /// Deletes every bucket under this store's prefix (tests).
    ///
    /// # Errors
    /// [`LimitStoreError::Unavailable`] when the database does not answer.
    pub fn clear(&self) -> Result<(), LimitStoreError> {
        let mut connection = self.pool.get().map_err(|error| unavailable(&error))?;
        diesel::sql_query("DELETE FROM rate_limit_buckets WHERE starts_with(key, $1)")
            .bind::<Text, _>(&self.prefix)
            .execute(&mut *connection)
            .map_err(|error| unavailable(&error))?;
        Ok(())
    }
}

impl LimitStore for PostgresLimitStore {
    fn check(
        &self,
        policy: &Policy,
        subject: &str,
        cost: i64,
    ) -> Result<Decision, LimitStoreError> {
        let key = shared::key(&self.prefix, policy, subject);
        let mut connection = self.pool.get().map_err(|error| unavailable(&error))?;
        let step = Self::in_transaction(&mut connection, self.timeout_ms, |connection| {
            diesel::sql_query(STEP)
                .bind::<Text, _>(&key)
                .bind::<BigInt, _>(interval_micros(policy))
                .bind::<BigInt, _>(i64::from(policy.burst()))
                .bind::<BigInt, _>(cost)
                .get_result::<Step>(connection)
        })
        .map_err(|error| unavailable(&error))?;
        self.sweep_if_due(&mut connection);
        shared::decision(policy, step.previous_tat, step.now, cost)
    }
}
