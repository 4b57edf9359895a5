//! A small pool of dedicated, low-priority threads for Argon2id: the
//! [`PasswordHasher`] the server uses.
//!
//! Argon2id with OWASP's parameters costs about 16 ms of one core and a 19 MiB buffer
//! per hash. Run on the shared blocking pool, a flood of logins competed as an equal
//! with the threads serving requests, and left its freed buffers with the allocator
//! of every thread that had hashed (each keeps its own malloc arena): in the load
//! benchmark the process grew to about 1 GB. Here every hash runs on one of a fixed
//! number of threads, each of which holds one buffer while logins are queued and
//! gives it back to the operating system once idle (so a flood costs at most threads
//! x 19 MiB, and an idle server nothing), at a lower CPU priority (nice
//! [`HASHING_NICENESS`] on Linux), so that serving requests wins the CPU during a
//! flood while logins still use idle cores fully. Logins take the answer as a future
//! ([`PasswordHasher::verify_later`], a oneshot channel from the pool thread), so no
//! other thread waits for a hash; other callers (the admin binary) block until it is
//! done. The pool's fixed number of threads is the bound on concurrent hashes:
//! further requests queue. If the pool is gone, the caller hashes on its own thread:
//! a login never fails because of the pool.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use argon2::Block;
use futures_channel::oneshot;
use secrecy::{ExposeSecret, SecretString};
use switchboard_domain::identity::{PasswordHash, PasswordHasher, PendingVerification};

use crate::password::Argon2PasswordHasher;

/// Niceness of the hashing threads: a CFS weight of about a tenth of the request
/// threads' when both want the CPU.
pub const HASHING_NICENESS: i32 = 10;

/// Work for a pool thread, given the thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send + 'static>;

/// A task's answer to come (an error when its job panicked).
type Later<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// A hashing task, shared by the pool and the caller's fallback.
type Task<T> = Arc<dyn Fn(&Argon2PasswordHasher, &mut Vec<Block>) -> T + Send + Sync>;

/// Runs an [`Argon2PasswordHasher`] on dedicated threads.
pub struct PooledPasswordHasher {
    inner: Arc<Argon2PasswordHasher>,
    jobs: Sender<Job>,
    threads: usize,
    /// Names of the threads that ran jobs, so tests can see where hashing happened.
    #[cfg(test)]
    ran_on: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for PooledPasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledPasswordHasher")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl PooledPasswordHasher {
    /// Starts `threads` (at least one) hashing threads around `inner`. The threads
    /// end when the hasher is dropped.
    #[must_use]
    pub fn new(inner: Argon2PasswordHasher, threads: usize) -> Self {
        let inner = Arc::new(inner);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let threads = threads.max(1);
        let mut started = 0;
        for index in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || work(&receiver));
            // A thread that cannot start leaves fewer (or, at worst, no) pool threads:
            // callers then hash on their own threads.
            if spawned.is_ok() {
                started += 1;
            }
        }
        Self {
            inner,
            jobs: sender,
            threads: started,
            #[cfg(test)]
            ran_on: Arc::default(),
        }
    }

    /// Queues `task` for a pool thread, which runs it in its memory and hands the
    /// answer to `reply`. `false` when the pool cannot take it.
    fn enqueue<T: Send + 'static>(
        &self,
        task: Task<T>,
        reply: impl FnOnce(T) + Send + 'static,
    ) -> bool {
        let inner = self.inner.clone();
        #[cfg(test)]
        let ran_on = self.ran_on.clone();
        let job: Job = Box::new(move |memory| {
            #[cfg(test)]
            if let Ok(mut names) = ran_on.lock() {
                names.push(std::thread::current().name().unwrap_or_default().to_owned());
            }
            reply(task(inner.as_ref(), memory));
        });
        self.jobs.send(job).is_ok()
    }

    /// Runs `task` on a pool thread and waits for it; on this thread, in fresh
    /// memory, when the pool cannot take it or lost its answer.
    fn run<T: Send + 'static>(
        &self,
        task: impl Fn(&Argon2PasswordHasher, &mut Vec<Block>) -> T + Send + Sync + 'static,
    ) -> T {
        let task = Arc::new(task);
        let (reply, answer) = mpsc::sync_channel::<T>(1);
        if self.enqueue(task.clone(), move |value| {
            let _ = reply.send(value);
        }) && let Ok(value) = answer.recv()
        {
            return value;
        }
        task(self.inner.as_ref(), &mut fresh_memory())
    }

    /// Runs `task` on a pool thread and returns a future of its answer; when the
    /// pool cannot take it, runs it now, on this thread. A job that panicked
    /// answers an error.
    fn later<T: Send + 'static>(
        &self,
        task: impl Fn(&Argon2PasswordHasher, &mut Vec<Block>) -> T + Send + Sync + 'static,
    ) -> Later<T> {
        let task = Arc::new(task);
        let (reply, answer) = oneshot::channel::<T>();
        if self.enqueue(task.clone(), move |value| {
            // The receiver is gone only when the caller stopped waiting (its client
            // left): nobody needs the answer.
            let _ = reply.send(value);
        }) {
            Box::pin(async move {
                answer
                    .await
                    .map_err(|_| "the password hashing thread ended without an answer".to_owned())
            })
        } else {
            let value = task(self.inner.as_ref(), &mut fresh_memory());
            Box::pin(std::future::ready(Ok(value)))
        }
    }
}

/// Blocks reserved for a hash's memory: more than Argon2 needs (19 MiB), and more than
/// glibc's largest dynamic mmap threshold (32 MiB). Only the part Argon2 uses is ever
/// touched (resident); and freeing a reservation this large gives it back to the
/// operating system, where freeing a 19 MiB buffer would have raised the allocator's
/// mmap threshold so that every later buffer stayed with a malloc arena for good.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// Memory for hashing, reserved as [`RESERVED_BLOCKS`] (sized by the hasher).
fn fresh_memory() -> Vec<Block> {
    Vec::with_capacity(RESERVED_BLOCKS)
}

/// The next job: waiting for one, or only one already queued. Without waiting, a
/// receiver held by another thread (which waits for jobs, so none is queued) means
/// none.
fn next_job(jobs: &Mutex<Receiver<Job>>, wait: bool) -> Option<Job> {
    if wait {
        jobs.lock().ok()?.recv().ok()
    } else {
        jobs.try_lock().ok()?.try_recv().ok()
    }
}

/// A pool thread: lowers its priority, then runs jobs until the hasher is dropped. It
/// keeps its hashing memory while jobs are queued and gives it back once idle.
fn work(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    while let Some(job) = next_job(jobs, true) {
        let mut memory = fresh_memory();
        let mut job = Some(job);
        while let Some(current) = job.take().or_else(|| next_job(jobs, false)) {
            // A panicking job loses its answer (its caller then hashes by itself);
            // the thread stays.
            let _ = catch_unwind(AssertUnwindSafe(|| current(&mut memory)));
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux, PRIO_PROCESS with a thread id sets that thread's niceness only.
    // Without the permission to lower it (never the case: lowering needs none), the
    // thread keeps the default priority.
    let thread = rustix::thread::gettid();
    let _ = rustix::process::setpriority_process(Some(thread), HASHING_NICENESS);
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

impl PasswordHasher for PooledPasswordHasher {
    fn hash(&self, password: &SecretString) -> Result<PasswordHash, String> {
        let password = SecretString::from(password.expose_secret());
        self.run(move |hasher, memory| hasher.hash_in(&password, memory))
    }

    fn verify(&self, password: &SecretString, hash: &PasswordHash) -> bool {
        let password = SecretString::from(password.expose_secret());
        let hash = hash.clone();
        self.run(move |hasher, memory| hasher.verify_in(&password, &hash, memory))
    }

    fn verify_later(&self, password: &SecretString, hash: &PasswordHash) -> PendingVerification {
        let password = SecretString::from(password.expose_secret());
        let hash = hash.clone();
        self.later(move |hasher, memory| hasher.verify_in(&password, &hash, memory))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_run_on_the_pool_and_agree_with_the_plain_hasher() {
        let pool = PooledPasswordHasher::new(Argon2PasswordHasher::default(), 2);
        let plain = Argon2PasswordHasher::default();
        let password = SecretString::from("correct horse battery staple");
        let pooled = pool.hash(&password).expect("hash");
        assert!(pooled.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(plain.verify(&password, &pooled));
        assert!(pool.verify(&password, &plain.hash(&password).expect("hash")));
        assert!(!pool.verify(&SecretString::from("wrong"), &pooled));
        assert_hashing_ran_on_the_pool(&pool, 3);
    }

    /// Every job so far ran on a `password-hash-*` thread, and there were `jobs`.
    fn assert_hashing_ran_on_the_pool(pool: &PooledPasswordHasher, jobs: usize) {
        let names = pool.ran_on.lock().expect("names").clone();
        assert_eq!(names.len(), jobs, "{names:?}");
        assert!(
            names.iter().all(|name| name.starts_with("password-hash-")),
            "{names:?}"
        );
    }

    /// Polls `future` to completion on this thread (the pool's oneshot wakes it).
    fn wait<F: Future>(future: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut context = std::task::Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut context) {
                return value;
            }
            std::thread::park();
        }
    }

    #[test]
    fn a_later_verification_runs_on_the_pool_and_does_not_block_its_caller() {
        let pool = PooledPasswordHasher::new(Argon2PasswordHasher::default(), 1);
        let password = SecretString::from("correct horse battery staple");
        let hash = Argon2PasswordHasher::default()
            .hash(&password)
            .expect("hash");
        let caller = std::thread::current().name().map(str::to_owned);
        let right = pool.verify_later(&password, &hash);
        let wrong = pool.verify_later(&SecretString::from("wrong"), &hash);
        let garbage = pool.verify_later(&password, &PasswordHash("garbage".into()));
        assert_eq!(wait(right), Ok(true));
        assert_eq!(wait(wrong), Ok(false));
        assert_eq!(wait(garbage), Ok(false));
        assert_hashing_ran_on_the_pool(&pool, 3);
        assert_ne!(caller.as_deref(), Some("password-hash-0"));
    }

    #[test]
    fn concurrent_callers_all_get_their_own_answer() {
        let pool = Arc::new(PooledPasswordHasher::new(
            Argon2PasswordHasher::default(),
            2,
        ));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let password = SecretString::from(format!("password number {i}"));
                    let hash = pool.hash(&password).expect("hash");
                    (pool.verify(&password, &hash), hash)
                })
            })
            .collect();
        let mut hashes = Vec::new();
        for handle in handles {
            let (verified, hash) = handle.join().expect("joined");
            assert!(verified);
            hashes.push(hash.0);
        }
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), 4);
    }
}
