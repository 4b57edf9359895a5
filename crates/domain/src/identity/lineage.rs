//! Where tokens come from and how long they may live: a token's kind, the rule that a
//! token minted by another token never outlives it (its expiry is capped by its
//! parent's, and revoking the parent revokes it), and the cap on the live tokens one
//! user holds.
//!
//! Pure rules: storage enforces the cap and the cascade inside its transactions.

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;

use super::TokenRecord;
use crate::shared::Timestamp;

/// How a token was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// By `POST /auth/login/` (email and password).
    Login,
    /// By `POST /auth/tokens/`, minted by the token that made the request (its parent).
    Api,
    /// By an operator (`switchboard-admin token create`, the development bootstrap).
    Admin,
}

impl TokenKind {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Api => "api",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenKind {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "login" => Ok(Self::Login),
            "api" => Ok(Self::Api),
            "admin" => Ok(Self::Admin),
            _ => Err(()),
        }
    }
}

/// What an insert does when the user already holds [`TokenLimit::max_live`] live
/// tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Insert nothing: [`TokenInsert::LimitReached`].
    Refuse,
    /// Revoke the user's oldest live login token (and what it minted) to make room;
    /// refuse when the user has no live login token.
    RevokeOldestLogin,
}

/// The cap on a user's live (neither revoked nor expired) tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLimit {
    pub max_live: u32,
    pub when_full: WhenFull,
}

impl TokenLimit {
    /// Most live tokens one user may hold.
    pub const MAX_LIVE_PER_USER: u32 = 200;

    /// The cap for tokens a client or an operator asks for: refused past it.
    #[must_use]
    pub fn refuse() -> Self {
        Self {
            max_live: Self::MAX_LIVE_PER_USER,
            when_full: WhenFull::Refuse,
        }
    }

    /// The cap for logins: past it, the oldest login token makes room.
    #[must_use]
    pub fn for_login() -> Self {
        Self {
            max_live: Self::MAX_LIVE_PER_USER,
            when_full: WhenFull::RevokeOldestLogin,
        }
    }
}

/// What an insert under a [`TokenLimit`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenInsert {
    Inserted(TokenRecord),
    /// The user holds the most live tokens allowed; nothing was stored.
    LimitReached,
    /// The parent token was revoked (or expired) meanwhile; nothing was stored.
    ParentGone,
}

impl TokenInsert {
    /// The stored token, when one was stored.
    #[must_use]
    pub fn inserted(self) -> Option<TokenRecord> {
        match self {
            Self::Inserted(record) => Some(record),
            Self::LimitReached | Self::ParentGone => None,
        }
    }
}

/// A minted token would outlive its parent: at most `max_days` may be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a token cannot outlive the token that creates it: at most {max_days} day(s)")]
pub struct OutlivesParent {
    pub max_days: u32,
}

/// The expiry of a token minted at `now` by a token expiring at `parent_expires_at`
/// (`None`: never), for `expires_in_days` (`None`: as long as allowed).
///
/// A parent that never expires leaves the request as it is. Under a parent that
/// does, no expiry means the parent's, and a request may name up to the parent's
/// remaining lifetime in days, rounded up; the result is capped at the parent's
/// expiry, so a child never outlives its parent even by the rounding.
///
/// # Errors
/// [`OutlivesParent`] when `expires_in_days` reaches past the parent's expiry by a
/// day or more (or the parent has expired).
pub fn minted_token_expiry(
    now: Timestamp,
    expires_in_days: Option<u32>,
    parent_expires_at: Option<Timestamp>,
) -> Result<Option<Timestamp>, OutlivesParent> {
    let requested = expires_in_days.map(|days| now + TimeDelta::days(i64::from(days)));
    let Some(parent) = parent_expires_at else {
        return Ok(requested);
    };
    let remaining = parent - now;
    if remaining <= TimeDelta::zero() {
        return Err(OutlivesParent { max_days: 0 });
    }
    // The remaining lifetime in days, rounded up.
    let whole_days = remaining.num_days();
    let max_days = if remaining > TimeDelta::days(whole_days) {
        whole_days + 1
    } else {
        whole_days
    };
    let max_days = u32::try_from(max_days).unwrap_or(u32::MAX);
    match (expires_in_days, requested) {
        (Some(days), _) if days > max_days => Err(OutlivesParent { max_days }),
        (_, Some(requested)) => Ok(Some(requested.min(parent))),
        _ => Ok(Some(parent)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn at(hours: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + TimeDelta::hours(hours)
    }

    #[test]
    fn a_parent_without_expiry_leaves_the_request_alone() {
        assert_eq!(minted_token_expiry(at(0), None, None), Ok(None));
        assert_eq!(
            minted_token_expiry(at(0), Some(3650), None),
            Ok(Some(at(3650 * 24)))
        );
    }

    #[test]
    fn a_child_never_outlives_its_parent() {
        let parent = Some(at(48));
        // No request: the parent's expiry.
        assert_eq!(minted_token_expiry(at(0), None, parent), Ok(Some(at(48))));
        assert_eq!(
            minted_token_expiry(at(0), Some(1), parent),
            Ok(Some(at(24)))
        );
        assert_eq!(
            minted_token_expiry(at(0), Some(2), parent),
            Ok(Some(at(48)))
        );
        assert_eq!(
            minted_token_expiry(at(0), Some(3), parent),
            Err(OutlivesParent { max_days: 2 })
        );
        assert_eq!(
            minted_token_expiry(at(0), Some(3650), parent),
            Err(OutlivesParent { max_days: 2 })
        );
        // A parent minted a moment ago for 2 days leaves "2 days", capped to it.
        let later = at(0) + TimeDelta::milliseconds(5);
        assert_eq!(
            minted_token_expiry(later, Some(2), parent),
            Ok(Some(at(48)))
        );
        // 36 hours left: up to 2 days may be asked, never past the parent.
        assert_eq!(
            minted_token_expiry(at(12), Some(2), parent),
            Ok(Some(at(48)))
        );
        assert_eq!(
            minted_token_expiry(at(12), Some(3), parent),
            Err(OutlivesParent { max_days: 2 })
        );
        assert!(minted_token_expiry(at(49), None, parent).is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [TokenKind::Login, TokenKind::Api, TokenKind::Admin] {
            assert_eq!(kind.as_str().parse::<TokenKind>(), Ok(kind));
        }
        assert!("other".parse::<TokenKind>().is_err());
    }
}
