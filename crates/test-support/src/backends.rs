//! [`on_both_backends!`]: the one way a test of this workspace runs once on SQLite and
//! once on PostgreSQL.
//!
//! Each named case becomes `sqlite::<case>` and `postgres::<case>`, each on a fresh
//! database of its own. The PostgreSQL cases carry libtest's `#[ignore]` unless
//! `SWITCHBOARD_TEST_POSTGRES_URL` (or `SWITCHBOARD_TEST_REQUIRE_POSTGRES=1`) was set
//! when the tests were compiled (this crate's build script decides it), so a run
//! without PostgreSQL reports them as ignored, never as passed. This module knows
//! nothing of what the cases do.

/// Runs each named case once per backend, as `sqlite::<case>` and
/// `postgres::<case>`.
///
/// - `on_both_backends!(a, b)` (or `on_both_backends!(async: a, b)`): each case is an
///   `async fn(Backend)`, run on a multi-threaded Tokio runtime with two workers (the
///   end-to-end form: the case spawns its server with `spawn_app(backend)`).
/// - `on_both_backends!(sync: a, b)`: each case is a `fn(&TestDatabase)` given a fresh,
///   empty database (the repository form).
///
/// Cases that need no database at all are plain tests: they run once.
#[macro_export]
macro_rules! on_both_backends {
    (sync: $($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    let database = $crate::TestDatabase::new($crate::Backend::Sqlite);
                    super::$case(&database);
                }
            )*
        }
        mod postgres {
            $(
                $crate::postgres_only! {
                    #[test]
                    fn $case() {
                        let database = $crate::TestDatabase::new($crate::Backend::Postgres);
                        super::$case(&database);
                    }
                }
            )*
        }
    };
    ($(async:)? $($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    $crate::block_on(super::$case($crate::Backend::Sqlite));
                }
            )*
        }
        mod postgres {
            $(
                $crate::postgres_only! {
                    #[test]
                    fn $case() {
                        $crate::block_on(super::$case($crate::Backend::Postgres));
                    }
                }
            )*
        }
    };
}

/// A test that only makes sense on PostgreSQL, compiled like the PostgreSQL half of
/// [`on_both_backends!`]: as it is when PostgreSQL was configured (or required) when
/// this crate was built, with `#[ignore]` otherwise. Wrap the test item:
/// `postgres_only! { #[tokio::test] async fn outage() { ... } }`.
#[cfg(pg_tests)]
#[macro_export]
macro_rules! postgres_only {
    ($($case:tt)*) => {
        $($case)*
    };
}

/// A test that only makes sense on PostgreSQL, compiled like the PostgreSQL half of
/// [`on_both_backends!`]: as it is when PostgreSQL was configured (or required) when
/// this crate was built, with `#[ignore]` otherwise. Wrap the test item:
/// `postgres_only! { #[tokio::test] async fn outage() { ... } }`.
#[cfg(not(pg_tests))]
#[macro_export]
macro_rules! postgres_only {
    ($(#[$attribute:meta])* async fn $($case:tt)*) => {
        $(#[$attribute])*
        #[ignore = "PostgreSQL: set SWITCHBOARD_TEST_POSTGRES_URL"]
        async fn $($case)*
    };
    ($(#[$attribute:meta])* fn $($case:tt)*) => {
        $(#[$attribute])*
        #[ignore = "PostgreSQL: set SWITCHBOARD_TEST_POSTGRES_URL"]
        fn $($case)*
    };
}

/// A multi-threaded Tokio runtime with two workers (what
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` builds), for tests
/// that drive a server from several tasks.
///
/// # Panics
/// When the runtime cannot be built.
#[must_use]
pub fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => panic!("cannot build a Tokio runtime: {error}"),
    }
}

/// Runs an asynchronous case to its end on [`runtime`].
///
/// # Panics
/// When the runtime cannot be built, or when the case panics.
pub fn block_on<F: std::future::Future>(case: F) -> F::Output {
    runtime().block_on(case)
}
