//! The shared stores against real servers: Redis (`SWITCHBOARD_TEST_REDIS_URL`,
//! default the machine's `redis://127.0.0.1:6379`, under a key prefix of this run
//! that the test deletes again: never a FLUSH of a shared server) and PostgreSQL (a
//! fresh database per case, migrated, as the other PostgreSQL cases of the
//! workspace). Each store runs the same cases: exact bursts under parallel checks
//! from several "replicas" (store instances), refill on the store's clock, refunds
//! and peeks, keys naming the parameters; then what an unreachable store does.

#![expect(
    clippy::expect_used,
    reason = "cases against real servers: a failed step is a test failure"
)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switchboard_domain::limits::{LimitStore, LimitStoreError, Policy};
use switchboard_limits::{
    BudgetedStore, PostgresLimitStore, PostgresStoreSettings, RedisLimitStore, STORE_BUDGET,
};
use switchboard_persistence::Database;
use switchboard_test_support::{TestDatabase, postgres_only};

fn redis_url() -> String {
    std::env::var("SWITCHBOARD_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other run uses.
fn unique_prefix(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("switchboard-test:{name}:{}:{nanos}:", std::process::id())
}

/// Deletes the keys under `prefix` (only this run's keys).
fn delete_keys(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return;
    };
    let Ok(mut connection) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut connection)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query(&mut connection);
    }
}

fn policy(name: &'static str, burst: u32, interval: Duration) -> Policy {
    Policy::new(name, burst, interval).expect("a policy")
}

fn allowed(store: &dyn LimitStore, policy: &Policy, subject: &str, cost: i64) -> bool {
    store
        .check(policy, subject, cost)
        .expect("a decision")
        .allowed
}

/// Three "replicas" (store instances on one server) and eight threads each checking
/// one bucket: exactly the burst is let through.
fn bursts_are_exact_across_replicas(replicas: &[Arc<dyn LimitStore>]) {
    let policy = policy("token", 30, Duration::from_secs(2));
    let threads: Vec<_> = (0..6)
        .map(|thread| {
            let store = replicas[thread % replicas.len()].clone();
            let policy = policy.clone();
            std::thread::spawn(move || {
                (0..20)
                    .filter(|_| allowed(store.as_ref(), &policy, "burst", 1))
                    .count()
            })
        })
        .collect();
    let total: usize = threads
        .into_iter()
        .map(|thread| thread.join().expect("joined"))
        .sum();
    assert_eq!(total, 30);
    let refused = replicas[0].check(&policy, "burst", 1).expect("decided");
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert_eq!(refused.limit, 30);
    assert_eq!(refused.policy, "token");
    assert!(
        refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(2),
        "{refused:?}"
    );
    assert!(
        (1..=2).contains(&refused.retry_after_seconds()),
        "{refused:?}"
    );
}

/// Cells come back with the store's clock: after one interval, one more request.
fn buckets_refill_on_the_stores_clock(store: &dyn LimitStore) {
    let policy = policy("refill", 2, Duration::from_millis(300));
    assert!(allowed(store, &policy, "a", 1));
    assert!(allowed(store, &policy, "a", 1));
    let refused = store.check(&policy, "a", 1).expect("decided");
    assert!(!refused.allowed);
    std::thread::sleep(refused.retry_after + Duration::from_millis(20));
    assert!(allowed(store, &policy, "a", 1), "a cell refilled");
    assert!(
        allowed(store, &policy, "b", 1),
        "another subject, another bucket"
    );
}

/// A refund gives a cell back, a peek takes none, a cost above the burst never fits.
fn refunds_and_peeks(store: &dyn LimitStore) {
    let policy = policy("login-email", 2, Duration::from_secs(30));
    assert!(store.check(&policy, "x", 0).expect("peek").untouched());
    assert!(allowed(store, &policy, "x", 1));
    assert!(allowed(store, &policy, "x", 1));
    let peek = store.check(&policy, "x", 0).expect("peek");
    assert_eq!(peek.remaining, 0);
    assert!(!allowed(store, &policy, "x", 1));
    assert!(
        allowed(store, &policy, "x", -1),
        "a refund is always allowed"
    );
    assert_eq!(store.check(&policy, "x", 0).expect("peek").remaining, 1);
    assert!(
        allowed(store, &policy, "x", 1),
        "the refunded cell is usable"
    );
    assert!(allowed(store, &policy, "x", -5));
    assert!(
        store.check(&policy, "x", 0).expect("peek").untouched(),
        "never past full"
    );
    assert!(
        !allowed(store, &policy, "y", 3),
        "more than the burst never fits"
    );
    assert!(store.check(&policy, "y", 0).expect("peek").untouched());
}

/// Another setting of one policy starts fresh buckets.
fn changed_settings_start_fresh_buckets(store: &dyn LimitStore) {
    let strict = policy("token", 1, Duration::from_secs(60));
    let looser = policy("token", 2, Duration::from_secs(60));
    assert!(allowed(store, &strict, "t", 1));
    assert!(!allowed(store, &strict, "t", 1));
    assert!(allowed(store, &looser, "t", 1));
}

fn every_case(replicas: &[Arc<dyn LimitStore>]) {
    bursts_are_exact_across_replicas(replicas);
    buckets_refill_on_the_stores_clock(replicas[1].as_ref());
    refunds_and_peeks(replicas[2].as_ref());
    changed_settings_start_fresh_buckets(replicas[0].as_ref());
}

#[test]
fn redis_store_against_a_real_redis() {
    let prefix = unique_prefix("redis");
    let replicas: Vec<Arc<dyn LimitStore>> = (0..3)
        .map(|_| {
            Arc::new(
                RedisLimitStore::new(&redis_url(), Duration::from_millis(500), &prefix)
                    .expect("a Redis URL"),
            ) as Arc<dyn LimitStore>
        })
        .collect();
    every_case(&replicas);
    // Buckets are strings under the prefix that expire once full again.
    let client = redis::Client::open(redis_url()).expect("URL");
    let mut connection = client.get_connection().expect("Redis answers");
    let key = format!("{prefix}token:30:2000000000:burst");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query(&mut connection)
        .expect("PTTL");
    assert!(ttl > 0 && ttl <= 61_000, "{ttl}");
    let tat: String = redis::cmd("GET")
        .arg(&key)
        .query(&mut connection)
        .expect("GET");
    assert!(
        tat.parse::<i64>()
            .is_ok_and(|micros| micros > 1_700_000_000_000_000),
        "{tat}"
    );
    delete_keys(&prefix);
}

#[test]
fn an_unreachable_redis_fails_within_the_budget_and_fails_open_when_asked() {
    // Port 1 on loopback: refused at once, as a stopped Redis.
    let policy = policy("token", 3, Duration::from_secs(1));
    let store =
        RedisLimitStore::new("redis://127.0.0.1:1/0", STORE_BUDGET, "").expect("a Redis URL");
    let started = Instant::now();
    let error = store.check(&policy, "t", 1).expect_err("nothing answers");
    assert!(matches!(error, LimitStoreError::Unavailable(_)), "{error}");
    assert!(!error.to_string().contains("127.0.0.1"), "{error}");
    let open = BudgetedStore::new(store, "redis", true);
    let decision = open.check(&policy, "t", 1).expect("let through");
    assert!(decision.allowed && decision.untouched());
    let closed = BudgetedStore::new(
        RedisLimitStore::new("redis://127.0.0.1:1/0", STORE_BUDGET, "").expect("a Redis URL"),
        "redis",
        false,
    );
    assert!(closed.check(&policy, "t", 1).is_err());
    println!("three failed checks took {:?}", started.elapsed());
    assert!(RedisLimitStore::new("http://example.invalid", STORE_BUDGET, "").is_err());
}

fn postgres_store(
    database: &TestDatabase,
    prefix: &str,
    statement_cache: bool,
) -> PostgresLimitStore {
    PostgresLimitStore::new(&PostgresStoreSettings {
        url: database.url().to_owned(),
        pool_size: 4,
        timeout: Duration::from_millis(1000),
        statement_cache,
        key_prefix: prefix.to_owned(),
    })
}

postgres_only! {
    #[test]
    fn postgres_store_against_a_real_postgres() {
        let database = TestDatabase::postgres();
        Database::connect(&database.settings())
            .expect("connect")
            .run_pending_migrations()
            .expect("migrated");
        let prefix = unique_prefix("postgres");
        // One replica without Diesel's statement cache (as behind pgbouncer 1.18).
        let replicas: Vec<Arc<dyn LimitStore>> = (0..3)
            .map(|replica| Arc::new(postgres_store(&database, &prefix, replica != 1)) as Arc<dyn LimitStore>)
            .collect();
        every_case(&replicas);
        let store = postgres_store(&database, &prefix, true);
        store.clear().expect("cleared");
        let policy = policy("token", 1, Duration::from_secs(60));
        assert!(allowed(&store, &policy, "after-clear", 1));
    }
}

#[test]
fn an_unreachable_postgres_fails_within_the_budget() {
    let store = PostgresLimitStore::new(&PostgresStoreSettings {
        url: "postgres://postgres@127.0.0.1:1/x?connect_timeout=1".to_owned(),
        pool_size: 1,
        timeout: STORE_BUDGET,
        statement_cache: true,
        key_prefix: String::new(),
    });
    let policy = policy("token", 3, Duration::from_secs(1));
    let started = Instant::now();
    let error = store.check(&policy, "t", 1).expect_err("nothing answers");
    assert!(matches!(error, LimitStoreError::Unavailable(_)), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let open = BudgetedStore::new(store, "postgres", true);
    assert!(open.check(&policy, "t", 1).expect("let through").allowed);
}
