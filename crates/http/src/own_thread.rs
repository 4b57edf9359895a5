//! Runs one slow, blocking piece of work (a login's Argon2id) on a short-lived thread
//! of its own instead of actix's blocking pool.
//!
//! The blocking pool is sized to the database pool (see the server's startup), so
//! every one of its threads is worth one connection's throughput. A login spends
//! most of its time waiting for its hash on the password-hashing pool; run on the
//! blocking pool, that wait took a thread the reads need, and a login flood raised
//! the latency of every other request. Logins are few and bounded by a semaphore,
//! so one thread each costs little (tens of microseconds against a 16 ms hash).

use std::fmt;

use crate::error::ApiError;

/// Why the work gave no answer: its thread could not start, or it panicked.
#[derive(Debug)]
enum OwnThreadFailure {
    Spawn(std::io::Error),
    Panicked,
}

impl fmt::Display for OwnThreadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn(error) => write!(f, "could not start a thread: {error}"),
            Self::Panicked => f.write_str("the work's thread ended without an answer"),
        }
    }
}

/// Runs `work` on a new thread named `name` and awaits its answer, flattening both
/// failure layers into an [`ApiError`] as [`crate::error::blocking`] does.
///
/// # Errors
/// The work's own error, converted, or a 500 when the thread could not start or
/// panicked (the panic message is not part of the answer).
pub async fn on_own_thread<T, E, F>(name: &str, work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    let (answer, received) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            // The receiver is gone only if the request was dropped (client left):
            // there is nobody to tell, and the work is done anyway.
            let _ = answer.send(work());
        })
        .map_err(|error| ApiError::internal(&OwnThreadFailure::Spawn(error)))?;
    match received.await {
        Ok(outcome) => outcome.map_err(Into::into),
        Err(_) => Err(ApiError::internal(&OwnThreadFailure::Panicked)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn returns_the_works_answer_from_another_thread() {
        let caller = std::thread::current().id();
        let answer = on_own_thread("test-own-thread", move || {
            Ok::<_, ApiError>(std::thread::current().id() != caller)
        })
        .await
        .expect("answer");
        assert!(answer, "the work ran on the caller's thread");
    }

    #[actix_web::test]
    async fn a_works_error_is_converted() {
        let outcome: Result<(), ApiError> =
            on_own_thread("test-own-thread", || Err(ApiError::InvalidCredentials)).await;
        assert!(matches!(outcome, Err(ApiError::InvalidCredentials)));
    }

    #[actix_web::test]
    async fn a_panic_becomes_an_internal_error() {
        let outcome: Result<(), ApiError> = on_own_thread("test-own-thread", || {
            if true {
                panic!("boom");
            }
            Ok::<_, ApiError>(())
        })
        .await;
        assert!(matches!(outcome, Err(ApiError::Internal)));
    }
}
