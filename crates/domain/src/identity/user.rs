//! Users: an email address and an Argon2id password hash.

use std::fmt;

/// Database id of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// A normalized (trimmed, lowercased) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why an email address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be an email address such as name@example.com, at most 254 characters")]
pub struct EmailError;

impl Email {
    /// Longest accepted address (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Normalizes and checks an address: one `@`, a non-empty local part, a domain
    /// with no spaces or control characters.
    ///
    /// # Errors
    /// [`EmailError`] when the text is not an address.
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let normalized = text.trim().to_lowercase();
        if normalized.is_empty() || normalized.len() > Self::MAX_LEN {
            return Err(EmailError);
        }
        let Some((local, domain)) = normalized.split_once('@') else {
            return Err(EmailError);
        };
        let well_formed = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && normalized
                .chars()
                .all(|c| !c.is_control() && !c.is_whitespace());
        if well_formed {
            Ok(Self(normalized))
        } else {
            Err(EmailError)
        }
    }

    /// The address as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An encoded password hash (PHC string). Not a secret by itself, but kept out of
/// `Debug` output all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse(" Owner@LocalHost ").map(|e| e.as_str().to_owned()),
            Ok("owner@localhost".to_owned())
        );
        for bad in ["", "no-at", "@x", "a@", "a@b@c", "a b@c", "a@.b", "a@b."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let hash = PasswordHash("$argon2id$secret".into());
        assert!(!format!("{hash:?}").contains("argon2"));
    }
}
