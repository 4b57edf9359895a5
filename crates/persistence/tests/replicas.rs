//! What several replicas on one database need from the persistence adapter
//! (contract section 14): migrations that concurrent starts apply once, under a lock
//! that a transaction-pooling pgbouncer cannot break; a direct migration URL beside a
//! pooled one; and Diesel's statement cache that can be turned off. (The whole
//! topology, pgbouncer included, runs in `crates/server/tests/replicas.rs`.)

#![expect(
    clippy::expect_used,
    reason = "cases against real servers: a failed step is a test failure"
)]

use std::sync::{Arc, Barrier};

use switchboard_domain::identity::{DomainHandle, IdentityRepository};
use switchboard_domain::shared::{Clock, SystemClock};
use switchboard_persistence::{Database, DatabaseSettings, DieselIdentityRepository};
use switchboard_test_support::{TestDatabase, on_both_backends, postgres_only};

on_both_backends!(
    sync:
    concurrent_migration_runs_apply_each_migration_once,
    reads_and_writes_work_without_the_statement_cache,
);

/// Three "replicas" start at once on one fresh database: every run succeeds, each
/// migration is applied by exactly one of them, and nothing is left pending.
fn concurrent_migration_runs_apply_each_migration_once(test_db: &TestDatabase) {
    let barrier = Arc::new(Barrier::new(3));
    let runs: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let barrier = barrier.clone();
                let settings = test_db.settings();
                scope.spawn(move || {
                    let db = Database::connect(&settings).expect("connect");
                    barrier.wait();
                    db.run_pending_migrations().expect("every run succeeds")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("joined"))
            .collect()
    });
    let mut applied: Vec<String> = runs.concat();
    let total = applied.len();
    applied.sort();
    applied.dedup();
    assert_eq!(total, applied.len(), "no migration applied twice: {runs:?}");
    let db = Database::connect(&test_db.settings()).expect("connect");
    assert!(db.pending_migrations().expect("read").is_empty());
    assert_eq!(applied, {
        let mut all = db.applied_migrations().expect("read");
        all.sort();
        all
    });
}

fn reads_and_writes_work_without_the_statement_cache(test_db: &TestDatabase) {
    let settings = DatabaseSettings {
        statement_cache: false,
        ..test_db.settings()
    };
    let db = Database::connect(&settings).expect("connect");
    db.run_pending_migrations().expect("migrated");
    let identity = DieselIdentityRepository::new(db.clone());
    for (n, handle) in ["acme", "globex", "initech"].into_iter().enumerate() {
        let handle = DomainHandle::parse(handle).expect("a handle");
        identity
            .insert_organization(handle.as_str(), &handle, SystemClock.now())
            .expect("inserted")
            .expect("new");
        // The same statements again: with the cache off, nothing is named or reused.
        assert_eq!(
            identity.organization_count().expect("counted"),
            n as u64 + 1
        );
    }
}

postgres_only! {
    /// With `url` unreachable (a pgbouncer that is down, say) and a direct migration
    /// URL, migrations go to the direct URL.
    #[test]
    fn migrations_go_to_the_migration_url() {
        let test_db = TestDatabase::postgres();
        let settings = DatabaseSettings {
            url: "postgres://postgres@127.0.0.1:1/nowhere".to_owned(),
            migration_url: Some(test_db.url().to_owned()),
            connect_timeout_ms: 500,
            ..test_db.settings()
        };
        let db = Database::connect(&settings).expect("connect");
        // The migrations apply on the direct URL; the catalog sync that follows them
        // writes through the pool, which is unreachable here.
        let outcome = db.run_pending_migrations();
        assert!(outcome.is_err(), "the catalog sync goes through the pool");
        assert!(db.ping().is_err(), "the pooled URL is still unreachable");
        let direct = Database::connect(&test_db.settings()).expect("connect");
        assert!(direct.pending_migrations().expect("read").is_empty());
        let applied = direct.applied_migrations().expect("read");
        assert!(applied.iter().any(|name| name.contains("rate_limit_buckets")), "{applied:?}");
    }
}

#[test]
fn a_migration_url_needs_a_postgres_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = DatabaseSettings {
        migration_url: Some("postgres://postgres@127.0.0.1:1/x".to_owned()),
        ..DatabaseSettings::new(format!("sqlite://{}", dir.path().join("a.db").display()))
    };
    assert!(Database::connect(&settings).is_err());
}
