//! Read sessions (`Database::read_session`): the reads of one trip share one reader
//! connection (on PostgreSQL one read-only transaction), which goes back to the pool
//! when the session ends.

#![expect(
    clippy::expect_used,
    reason = "cases against real databases: a failed step is a test failure"
)]

use switchboard_persistence::{Database, PoolUsage};
use switchboard_test_support::{TestDatabase, on_both_backends};

on_both_backends!(
    sync:
    reads_of_a_session_share_one_connection,
);

fn reader_pool(db: &Database) -> PoolUsage {
    db.pool_usage()
        .into_iter()
        .find(|usage| usage.pool == "reader")
        .expect("a reader pool")
}

fn reads_of_a_session_share_one_connection(test_db: &TestDatabase) {
    let db = Database::connect(&test_db.settings()).expect("connect");
    db.run_pending_migrations().expect("migrated");
    // Outside a session a read's connection goes back at once.
    db.ping().expect("a read");
    let before = reader_pool(&db);
    assert_eq!(before.idle, before.connections, "{before:?}");
    let inside = db.read_session(|| {
        db.ping().expect("first read");
        let after_one = reader_pool(&db);
        db.ping().expect("second read");
        db.read_session(|| db.ping().expect("a nested session joins"));
        (after_one, reader_pool(&db))
    });
    // The session holds one connection between its reads, and no second one.
    assert_eq!(inside.0.connections - inside.0.idle, 1, "{inside:?}");
    assert_eq!(inside.1.connections - inside.1.idle, 1, "{inside:?}");
    assert_eq!(inside.1.connections, inside.0.connections, "{inside:?}");
    let after = reader_pool(&db);
    assert_eq!(after.idle, after.connections, "back to the pool: {after:?}");
    // And the connection still works for the next reader.
    db.ping().expect("a read after the session");
}
