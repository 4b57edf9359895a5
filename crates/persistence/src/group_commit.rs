//! Group commit of SQLite write transactions: the requests queued for the one writer
//! connection share one `BEGIN IMMEDIATE ... COMMIT`, each in a savepoint of its
//! own, and each is answered only after that shared commit.
//!
//! Why: a SQLite commit writes every page the transaction dirtied to the WAL, takes
//! and drops the file locks and updates the WAL index. Creates of several requests
//! dirty the same table and index pages (rows are appended), so one commit for
//! several of them writes those pages once. Nothing else changes for a request:
//! its work runs on its own thread (its span, its request id), sees what the
//! earlier requests of the batch wrote (as it would have after their commits),
//! and an error in it rolls back its savepoint only.
//!
//! How: the writer connection lives in a slot behind a mutex while a batch is open
//! (an r2d2 pool counts a connection returned inside a transaction as broken and
//! closes it, which would roll the batch back). A request takes the slot (checking
//! the connection out of the pool when the slot is empty), begins the batch if none
//! is open, runs its work in a savepoint, and then:
//!
//! - when other requests are queued for the slot and the batch is not full, it
//!   leaves the batch open for them and waits until the batch is finished;
//! - otherwise it commits the batch, tells the requests waiting for it how that
//!   went, and returns the connection to the pool (so that writes outside
//!   transactions, the migrations and the admin work can have it).
//!
//! A request whose work failed waits for its batch too: its refusal may rest on
//! rows of earlier requests of the batch (a duplicate account SID), so it stands
//! only once those rows are committed; when the batch fails, the batch's failure is
//! its answer.
//!
//! A waiting request also wakes now and then: should the batch be open with no one
//! holding the slot (a queued request that gave up), it commits the batch itself.
//! A failed commit fails every request of its batch, none of which had been
//! answered: no acknowledged write is ever lost. A batch of at most one request
//! (`max_batch` 1) is exactly one transaction per request.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::connection::DbConnection;
use crate::pool::ConnectionManager;
use crate::transaction::{ATTEMPTS, TransactionError, lost_a_race};

/// The writer connection while the group holds it.
pub(crate) type Slot = Option<r2d2::PooledConnection<ConnectionManager>>;

/// How often a request waiting for its batch checks that someone will finish it.
const LIVENESS_CHECK: Duration = Duration::from_millis(50);

/// Why a batch failed, as the requests waiting for it receive it.
#[derive(Clone, Debug)]
struct BatchFailure {
    kind: DatabaseErrorKind,
    message: String,
}

impl BatchFailure {
    fn of(error: &DieselError) -> Self {
        match error {
            // A failed commit whose rollback failed too (SQLite rolls some failures,
            // a full disk among them, back by itself): the commit's error decides,
            // as it does for the request that committed (crate::error::transient).
            DieselError::RollbackErrorOnCommit { commit_error, .. } => Self::of(commit_error),
            DieselError::DatabaseError(kind, info) => Self {
                kind: *kind,
                message: info.message().to_owned(),
            },
            other => Self {
                kind: DatabaseErrorKind::Unknown,
                message: other.to_string(),
            },
        }
    }

    fn error(&self) -> DieselError {
        DieselError::DatabaseError(self.kind, Box::new(self.message.clone()))
    }
}

/// The batches: the one open on the writer connection, and the outcomes that
/// waiting requests have not read yet.
#[derive(Debug, Default)]
struct Book {
    /// The batch whose transaction is open on the slot's connection.
    open: Option<u64>,
    /// Requests that ran their work in the open batch.
    joined: usize,
    /// Those of them whose work succeeded: the writes its commit carries.
    members: usize,
    /// Those of them that left the batch open and wait for its outcome.
    waiting: usize,
    next: u64,
    /// Finished batches with requests still to be told: the failure (if any) and
    /// how many are still to read it.
    outcomes: HashMap<u64, (Option<BatchFailure>, usize)>,
}

/// The group commit of one SQLite database (shared by the clones of its handle).
pub(crate) struct GroupCommit {
    slot: Mutex<Slot>,
    /// Requests waiting to take the slot.
    queued: AtomicUsize,
    book: Mutex<Book>,
    finished: Condvar,
    max_batch: usize,
    /// Batches finished, and the writes they committed (for tests and operators).
    batches: AtomicUsize,
    committed_writes: AtomicUsize,
}

/// What the group commit has done since the database was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Commits (and rollbacks of batches in which no write succeeded).
    pub batches: usize,
    /// Write transactions committed by them.
    pub committed_writes: usize,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

fn sqlite(connection: &mut DbConnection) -> Option<&mut SqliteConnection> {
    match connection {
        DbConnection::Sqlite(inner) => Some(inner),
        DbConnection::Postgresql(_) => None,
    }
}

/// How a request's turn at the slot ended.
enum Release {
    /// It committed (or rolled back) the batch.
    Finished(Result<(), DieselError>),
    /// It left the batch open for the next request.
    HandedOn,
}

impl GroupCommit {
    pub(crate) fn new(max_batch: usize) -> Self {
        Self {
            slot: Mutex::new(None),
            queued: AtomicUsize::new(0),
            book: Mutex::new(Book::default()),
            finished: Condvar::new(),
            max_batch: max_batch.max(1),
            batches: AtomicUsize::new(0),
            committed_writes: AtomicUsize::new(0),
        }
    }

    pub(crate) fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            batches: self.batches.load(Ordering::Relaxed),
            committed_writes: self.committed_writes.load(Ordering::Relaxed),
        }
    }

    /// Takes the slot, waiting for the requests before this one, at most `timeout`
    /// (`None` then, as a pool checkout fails after its timeout: a write nested in
    /// another on the same thread fails instead of waiting for ever); the caller puts
    /// a connection in it when it is empty.
    pub(crate) fn take_slot(&self, timeout: Duration) -> Option<MutexGuard<'_, Slot>> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let guard = self.slot.try_lock_for(timeout);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// Runs `work` as one request of the batch open on the slot's connection (one
    /// begun when none is), and returns once the batch is committed: see the
    /// module. `slot` holds a SQLite connection.
    pub(crate) fn run<T, E: TransactionError>(
        &self,
        mut slot: MutexGuard<'_, Slot>,
        mut work: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(connection) = slot.as_mut() else {
            return Err(E::from(DieselError::BrokenTransactionManager));
        };
        let batch = match self.join(connection) {
            Ok(batch) => batch,
            Err(error) => return Err(E::from(error)),
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| in_savepoint(connection, &mut work)));
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                // Its savepoint may be open: the batch cannot be trusted any more.
                self.abort(
                    &mut slot,
                    BatchFailure::of(&DieselError::RollbackTransaction),
                );
                resume_unwind(panic)
            }
        };
        let (value, own) = match outcome {
            Savepoint::Done(Ok(value)) => (Some(value), None),
            Savepoint::Done(Err(error)) => (None, Some(error)),
            Savepoint::Broken { own, cause } => {
                // The transaction is gone: the whole batch fails.
                self.abort(&mut slot, cause.clone());
                return Err(own.unwrap_or_else(|| E::from(cause.error())));
            }
        };
        {
            let mut book = self.book.lock();
            book.joined += 1;
            book.members += usize::from(value.is_some());
        }
        let release = self.release(&mut slot);
        // In turn: the request queued first takes the slot (and the open batch).
        MutexGuard::unlock_fair(slot);
        let batch_outcome = match release {
            Release::Finished(result) => result,
            Release::HandedOn => self.wait_for(batch),
        };
        // Answered only once the batch is finished, failed work included: its
        // refusal may rest on rows of earlier requests of the batch (a duplicate),
        // and when the batch did not commit, the batch's failure is the answer.
        match (value, batch_outcome) {
            (_, Err(failure)) => Err(E::from(failure)),
            (Some(value), Ok(())) => Ok(value),
            (None, Ok(())) => Err(own.unwrap_or_else(|| E::from(DieselError::RollbackTransaction))),
        }
    }

    /// Begins a batch on `connection` unless one is open; returns its id.
    fn join(&self, connection: &mut DbConnection) -> Result<u64, DieselError> {
        let mut book = self.book.lock();
        if let Some(open) = book.open {
            return Ok(open);
        }
        let inner = sqlite(connection).ok_or(DieselError::BrokenTransactionManager)?;
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        let id = book.next;
        book.next += 1;
        book.open = Some(id);
        book.joined = 0;
        book.members = 0;
        book.waiting = 0;
        Ok(id)
    }

    /// Leaves the open batch to the next request (counted then among those who
    /// wait for it), or finishes it (see the module).
    fn release(&self, slot: &mut MutexGuard<'_, Slot>) -> Release {
        {
            let mut book = self.book.lock();
            if self.queued.load(Ordering::SeqCst) > 0 && book.joined < self.max_batch {
                book.waiting += 1;
                return Release::HandedOn;
            }
        }
        Release::Finished(self.finish(slot))
    }

    /// Commits the open batch (rolls it back when no request of it succeeded),
    /// records the outcome for the requests waiting for it and returns the
    /// connection to the pool. The caller holds the slot.
    fn finish(&self, slot: &mut MutexGuard<'_, Slot>) -> Result<(), DieselError> {
        // The batch stays open in the book until its outcome is recorded: a waiting
        // request that sees it closed must find its outcome there.
        let book = self.book.lock();
        let (Some(batch), members) = (book.open, book.members) else {
            return Ok(());
        };
        drop(book);
        let result = match slot.as_deref_mut().and_then(sqlite) {
            Some(inner) if members > 0 => AnsiTransactionManager::commit_transaction(inner),
            Some(inner) => AnsiTransactionManager::rollback_transaction(inner),
            None => Err(DieselError::BrokenTransactionManager),
        };
        self.batches.fetch_add(1, Ordering::Relaxed);
        if result.is_ok() {
            self.committed_writes.fetch_add(members, Ordering::Relaxed);
        }
        // Back to the pool, which closes it if its transaction is still open.
        **slot = None;
        self.publish(batch, result.as_ref().err().map(BatchFailure::of));
        result
    }

    /// Ends the open batch as failed (rolled back), telling its waiting requests.
    fn abort(&self, slot: &mut MutexGuard<'_, Slot>, failure: BatchFailure) {
        let Some(batch) = self.book.lock().open else {
            return;
        };
        if let Some(inner) = slot.as_deref_mut().and_then(sqlite) {
            let _ = AnsiTransactionManager::rollback_transaction(inner);
        }
        **slot = None;
        self.publish(batch, Some(failure));
    }

    /// Closes `batch` and records how it ended for the requests waiting for it.
    fn publish(&self, batch: u64, failure: Option<BatchFailure>) {
        let mut book = self.book.lock();
        let waiting = std::mem::take(&mut book.waiting);
        book.open = None;
        book.joined = 0;
        book.members = 0;
        if waiting > 0 {
            book.outcomes.insert(batch, (failure, waiting));
        }
        drop(book);
        self.finished.notify_all();
    }

    /// Waits until `batch` is finished and returns how it ended; finishes it when
    /// it is open with no one to finish it.
    fn wait_for(&self, batch: u64) -> Result<(), DieselError> {
        let mut book = self.book.lock();
        loop {
            if book.open != Some(batch) {
                let Some((failure, readers)) = book.outcomes.get_mut(&batch) else {
                    // Every waiting member is counted when a batch is finished, so
                    // this cannot happen; were it to, the write is not acknowledged.
                    return Err(DieselError::RollbackTransaction);
                };
                let failure = failure.clone();
                *readers = readers.saturating_sub(1);
                if *readers == 0 {
                    book.outcomes.remove(&batch);
                }
                return failure.map_or(Ok(()), |failure| Err(failure.error()));
            }
            let timeout = self.finished.wait_for(&mut book, LIVENESS_CHECK);
            if timeout.timed_out()
                && book.open == Some(batch)
                && self.queued.load(Ordering::SeqCst) == 0
            {
                drop(book);
                if let Some(mut slot) = self.slot.try_lock() {
                    // Still open once the slot is held: no one else will finish it.
                    // Its outcome is recorded for every waiting request, this one
                    // included.
                    let _ = self.finish(&mut slot);
                }
                book = self.book.lock();
            }
        }
    }
}

/// How a request's savepoint ended.
enum Savepoint<T, E> {
    /// Released (`Ok`) or rolled back (`Err`, the work's error).
    Done(Result<T, E>),
    /// The transaction around it is gone or unusable: a savepoint statement failed
    /// (SQLite rolls the whole transaction back by itself after some failures, a
    /// full disk among them). `own` is the work's error when it failed first;
    /// `cause` is what the batch failed of.
    Broken { own: Option<E>, cause: BatchFailure },
}

/// Runs `work` in a savepoint of the open transaction, again from the start when
/// it lost a race (the crate's one retry policy).
fn in_savepoint<T, E: TransactionError>(
    connection: &mut DbConnection,
    work: &mut impl FnMut(&mut DbConnection) -> Result<T, E>,
) -> Savepoint<T, E> {
    let broken = |error: &DieselError| Savepoint::Broken {
        own: None,
        cause: BatchFailure::of(error),
    };
    let mut attempt = 1;
    loop {
        let Some(inner) = sqlite(connection) else {
            return broken(&DieselError::BrokenTransactionManager);
        };
        if let Err(error) = AnsiTransactionManager::begin_transaction(inner) {
            return broken(&error);
        }
        let outcome = work(connection);
        let Some(inner) = sqlite(connection) else {
            return broken(&DieselError::BrokenTransactionManager);
        };
        match outcome {
            Ok(value) => {
                return match AnsiTransactionManager::commit_transaction(inner) {
                    Ok(()) => Savepoint::Done(Ok(value)),
                    Err(error) => broken(&error),
                };
            }
            Err(error) => {
                if let Err(rollback) = AnsiTransactionManager::rollback_transaction(inner) {
                    // The work's own failure is the cause (the rollback failed
                    // because of it), for this request and for its batch.
                    let cause = error
                        .database_error()
                        .map_or_else(|| BatchFailure::of(&rollback), BatchFailure::of);
                    return Savepoint::Broken {
                        own: Some(error),
                        cause,
                    };
                }
                if attempt < ATTEMPTS && error.database_error().is_some_and(lost_a_race) {
                    attempt += 1;
                    continue;
                }
                return Savepoint::Done(Err(error));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::thread;
    use std::time::{Duration, Instant};

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    use crate::database::{Database, DatabaseSettings};
    use crate::transaction::TxError;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn database(dir: &tempfile::TempDir, max: usize) -> Database {
        database_waiting(dir, max, 10_000)
    }

    /// A database whose checkouts wait at most `timeout_ms`.
    fn database_waiting(dir: &tempfile::TempDir, max: usize, timeout_ms: u64) -> Database {
        let settings = DatabaseSettings {
            group_commit_max: max,
            connect_timeout_ms: timeout_ms,
            ..DatabaseSettings::new(format!("sqlite://{}", dir.path().join("g.db").display()))
        };
        let db = Database::connect(&settings).expect("database");
        db.writer()
            .expect("writer")
            .batch_execute(
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE t (x INTEGER UNIQUE,
                     parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
                 INSERT INTO parent VALUES (1);",
            )
            .expect("tables");
        db
    }

    fn count(db: &Database, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(&mut *db.reader().expect("reader"))
            .expect("count")
            .n
    }

    fn insert(
        conn: &mut crate::connection::DbConnection,
        x: i64,
        parent: i64,
    ) -> Result<(), TxError<&'static str>> {
        diesel::sql_query(format!("INSERT INTO t VALUES ({x}, {parent})")).execute(conn)?;
        Ok(())
    }

    fn describe(error: &TxError<&'static str>) -> String {
        match error {
            TxError::Db(error) => error.to_string(),
            TxError::Abort(reason) => (*reason).to_owned(),
        }
    }

    /// Waits until `n` requests are queued for the slot.
    fn until_queued(db: &Database, n: usize) {
        let group = db.group_commit().expect("SQLite has a group commit");
        let deadline = Instant::now() + Duration::from_secs(20);
        while group.queued.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "the writers never queued");
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// The first writer holds the slot until eight more are queued behind it: all
    /// nine share one commit, and the one whose work fails loses only its own row.
    #[test]
    fn queued_writes_share_one_commit_and_a_failure_rolls_back_only_its_own() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Arc::new(database(&dir, 64));
        let first = db.transaction_writer().expect("writer");
        let handles: Vec<_> = (1..=8)
            .map(|x| {
                let db = db.clone();
                thread::spawn(move || {
                    db.transaction_writer().expect("writer").run(|conn| {
                        insert(conn, x, 1)?;
                        if x == 5 {
                            return Err(TxError::Abort("declined"));
                        }
                        Ok(x)
                    })
                })
            })
            .collect();
        until_queued(&db, 8);
        let outcome = first.run(|conn| insert(conn, 0, 1));
        assert!(outcome.is_ok());
        let outcomes: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        for (x, outcome) in (1..=8).zip(&outcomes) {
            match (x, outcome) {
                (5, Err(TxError::Abort("declined"))) => {}
                (5, _) => panic!("the failed write must report its own error"),
                (_, Ok(value)) => assert_eq!(*value, x),
                (_, Err(_)) => panic!("write {x} failed"),
            }
        }
        assert_eq!(count(&db, "SELECT count(*) AS n FROM t"), 8);
        assert_eq!(count(&db, "SELECT count(*) AS n FROM t WHERE x = 5"), 0);
        let stats = db.group_commit_stats().expect("stats");
        assert_eq!(stats.batches, 1, "one shared commit");
        assert_eq!(stats.committed_writes, 8);
    }

    /// A commit that fails (here a deferred foreign key, checked at COMMIT) fails
    /// every write of its batch: none of them is acknowledged, none is stored.
    #[test]
    fn a_failed_commit_fails_every_write_of_its_batch() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Arc::new(database(&dir, 64));
        let first = db.transaction_writer().expect("writer");
        let handles: Vec<_> = (1..=4)
            .map(|x| {
                let db = db.clone();
                thread::spawn(move || {
                    db.transaction_writer()
                        .expect("writer")
                        .run(|conn| insert(conn, x, if x == 3 { 99 } else { 1 }))
                })
            })
            .collect();
        until_queued(&db, 4);
        // Its own work succeeded, but its batch did not commit.
        assert!(first.run(|conn| insert(conn, 0, 1)).is_err());
        for handle in handles {
            assert!(
                handle.join().expect("thread").is_err(),
                "acknowledged a lost write"
            );
        }
        assert_eq!(count(&db, "SELECT count(*) AS n FROM t"), 0);
        // The writer works again afterwards.
        let again = db
            .transaction_writer()
            .expect("writer")
            .run(|conn| insert(conn, 10, 1));
        assert!(again.is_ok());
        assert_eq!(count(&db, "SELECT count(*) AS n FROM t"), 1);
    }

    /// A refusal that rests on a row of an earlier request of the batch (here a
    /// duplicate) is not the answer when that row never commits: the batch's
    /// failure is.
    #[test]
    fn a_refusal_resting_on_an_uncommitted_row_waits_for_the_batch() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Arc::new(database(&dir, 64));
        let first = db.transaction_writer().expect("writer");
        let spawn = |x: i64, parent: i64| {
            let db = db.clone();
            thread::spawn(move || {
                db.transaction_writer()
                    .expect("writer")
                    .run(|conn| insert(conn, x, parent))
            })
        };
        // Queued in this order: the orphan row (its commit will fail), then a
        // duplicate of it.
        let orphan = spawn(7, 99);
        until_queued(&db, 1);
        let duplicate = spawn(7, 1);
        until_queued(&db, 2);
        assert!(first.run(|conn| insert(conn, 0, 1)).is_err());
        assert!(orphan.join().expect("thread").is_err());
        match duplicate.join().expect("thread") {
            Err(TxError::Db(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))) => {
                panic!("refused as a duplicate of a row that was never committed")
            }
            Err(_) => {}
            Ok(()) => panic!("its batch failed"),
        }
        assert_eq!(count(&db, "SELECT count(*) AS n FROM t"), 0);
    }

    /// A write waiting for the slot gives up after the checkout timeout, as a pool
    /// checkout does: a write nested in another on one thread fails, never hangs.
    #[test]
    fn a_write_nested_in_another_fails_instead_of_waiting_for_ever() {
        let dir = tempfile::tempdir().expect("dir");
        let db = database_waiting(&dir, 64, 300);
        let outer = db.transaction_writer().expect("writer");
        assert!(db.transaction_writer().is_err());
        drop(outer);
        assert!(db.transaction_writer().is_ok());
    }

    /// With `group_commit_max` 1 every write commits on its own, queue or not.
    #[test]
    fn a_batch_of_one_is_one_transaction_per_write() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Arc::new(database(&dir, 1));
        let first = db.transaction_writer().expect("writer");
        let handles: Vec<_> = (1..=3)
            .map(|x| {
                let db = db.clone();
                thread::spawn(move || {
                    db.transaction_writer()
                        .expect("writer")
                        .run(|conn| insert(conn, x, 1))
                })
            })
            .collect();
        until_queued(&db, 3);
        assert!(first.run(|conn| insert(conn, 0, 1)).is_ok());
        for handle in handles {
            assert!(handle.join().expect("thread").is_ok());
        }
        let stats = db.group_commit_stats().expect("stats");
        assert_eq!((stats.batches, stats.committed_writes), (4, 4));
    }

    /// Many writers at once, as a busy server has them: every write that succeeded
    /// is stored, and commits are shared.
    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Arc::new(database(&dir, 64));
        let handles: Vec<_> = (0..8)
            .map(|thread_no| {
                let db = db.clone();
                thread::spawn(move || {
                    (0..50)
                        .filter(|i| {
                            let x = thread_no * 1000 + i;
                            let outcome = db
                                .transaction_writer()
                                .expect("writer")
                                .run(|conn| insert(conn, x, 1));
                            if let Err(error) = &outcome {
                                eprintln!("write {x} failed: {}", describe(error));
                            }
                            outcome.is_ok()
                        })
                        .count()
                })
            })
            .collect();
        let ok: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
        assert_eq!(ok, 400);
        assert_eq!(count(&db, "SELECT count(*) AS n FROM t"), 400);
        let stats = db.group_commit_stats().expect("stats");
        assert_eq!(stats.committed_writes, 400);
        assert!(stats.batches <= 400);
    }
}
