//! Idempotency keys: a client's promise that two POSTs with the same key are the
//! same request, so that a retry replays the first answer instead of writing twice.
//!
//! A key is scoped to the organization and the API token that sent it. The first
//! request claims the key (one row, unique per scope and key); its answer is stored
//! with it; later requests with the same key and the same request fingerprint get
//! that answer back, with another fingerprint they are refused, and while the first
//! is still running they are told so. Keys expire after [`IDEMPOTENCY_TTL_HOURS`].
//! This module knows nothing of HTTP: the fingerprint and the stored answer are
//! opaque to it.

use std::fmt;

use crate::identity::{OrgId, TokenId};
use crate::shared::{RepositoryError, Timestamp};

/// How long a key and its stored answer live.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// How long a claim may stay in flight before it counts as abandoned (its replica
/// died mid-request) and the next request with the same key and fingerprint takes
/// it over. Longer than any request can run.
pub const IN_FLIGHT_TIMEOUT_SECONDS: i64 = 60;

/// Longest accepted key, in bytes.
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 255;

/// A client's idempotency key: 1 to 255 printable ASCII characters (space to `~`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to 255 printable ASCII characters.")]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    /// Checks `text` against the key rules.
    ///
    /// # Errors
    /// [`InvalidIdempotencyKey`] for an empty, too long or non-printable key.
    pub fn parse(text: &str) -> Result<Self, InvalidIdempotencyKey> {
        if text.is_empty()
            || text.len() > IDEMPOTENCY_KEY_MAX_LEN
            || !text.bytes().all(|b| (b' '..=b'~').contains(&b))
        {
            return Err(InvalidIdempotencyKey);
        }
        Ok(Self(text.to_owned()))
    }

    /// The key as sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    // Keys are client-chosen text: show the length only, so that logs never carry
    // whatever a client put there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({} bytes)", self.0.len())
    }
}

/// Whose keys these are: one organization and one API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    pub org_id: OrgId,
    pub token_id: TokenId,
}

/// A stored answer: status, the headers worth replaying, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is this request's: run it, then store its answer or release the key.
    Claimed,
    /// The same request already ran: here is its answer.
    Replay(StoredResponse),
    /// The same key is held by a request that is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// Storage of idempotency keys (shared by every replica: a database table).
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with fingerprint `request_hash` at `now`. An
    /// expired key is claimed afresh; a claim in flight for longer than
    /// [`IN_FLIGHT_TIMEOUT_SECONDS`] with the same fingerprint is taken over.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn claim(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<IdempotencyClaim, RepositoryError>;

    /// Stores the answer of a claimed key.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn complete(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError>;

    /// Gives a claimed key up (its request failed in a way a retry may fix).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn release(&self, scope: IdempotencyScope, key: &IdempotencyKey)
    -> Result<(), RepositoryError>;

    /// Deletes every key that expired before `now`; returns how many.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn purge_expired(&self, now: Timestamp) -> Result<u64, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn keys_are_printable_ascii_of_bounded_length() {
        for good in [
            "a",
            "order-42",
            "with space",
            "~!@#$%^&*()",
            &"k".repeat(255),
        ] {
            assert!(IdempotencyKey::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "tab\tkey",
            "line\nbreak",
            "é",
            "\u{7f}",
            &"k".repeat(256),
        ] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(InvalidIdempotencyKey),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = IdempotencyKey::parse("client-secret-ish").expect("valid");
        assert_eq!(format!("{key:?}"), "IdempotencyKey(17 bytes)");
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,300}") {
            if let Ok(key) = IdempotencyKey::parse(&text) {
                prop_assert_eq!(key.as_str(), text.as_str());
            }
        }
    }
}
