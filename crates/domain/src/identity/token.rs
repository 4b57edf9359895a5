//! API tokens: `sbt_<random>_<checksum>`.
//!
//! The random part is 26 base62 characters (about 154 bits). The checksum is the
//! CRC-32 of `sbt_<random>` in 6 base62 characters, so a mistyped or truncated token
//! is refused before any database access. Only a keyed hash ([`TokenHash`]) of a
//! token is ever stored; the token itself lives in a [`SecretString`].

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// Database id of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(pub i64);

const PREFIX: &str = "sbt_";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A parsed, checksum-verified API token. `Debug` never shows it.
pub struct ApiToken(SecretString);

/// Why a presented token was refused before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenParseError {
    #[error("token does not have the sbt_<random>_<checksum> shape")]
    Shape,
    #[error("token checksum does not match")]
    Checksum,
}

impl ApiToken {
    /// Number of base62 characters in the random part.
    pub const RANDOM_LEN: usize = 26;
    /// Number of base62 characters in the checksum.
    pub const CHECKSUM_LEN: usize = 6;
    /// Total length of a token.
    pub const LEN: usize = PREFIX.len() + Self::RANDOM_LEN + 1 + Self::CHECKSUM_LEN;
    /// Characters of the random part shown as a token's public prefix.
    const VISIBLE_RANDOM_CHARS: usize = 4;

    /// Builds a token from random bytes, each reduced to a base62 character by the
    /// caller's uniform sampling (`random_chars` must be base62 characters).
    ///
    /// # Errors
    /// [`TokenParseError::Shape`] when `random_chars` is not 26 base62 characters.
    pub fn from_random_part(random_chars: &str) -> Result<Self, TokenParseError> {
        if random_chars.len() != Self::RANDOM_LEN || !random_chars.bytes().all(is_base62) {
            return Err(TokenParseError::Shape);
        }
        let body = format!("{PREFIX}{random_chars}");
        let checksum = checksum_of(&body);
        Ok(Self(SecretString::from(format!("{body}_{checksum}"))))
    }

    /// Parses a presented token and verifies its checksum.
    ///
    /// # Errors
    /// [`TokenParseError`] when the shape or the checksum is wrong.
    pub fn parse(text: &str) -> Result<Self, TokenParseError> {
        if text.len() != Self::LEN || !text.starts_with(PREFIX) {
            return Err(TokenParseError::Shape);
        }
        let rest = &text[PREFIX.len()..];
        let Some((random, checksum)) = rest.split_once('_') else {
            return Err(TokenParseError::Shape);
        };
        if random.len() != Self::RANDOM_LEN
            || checksum.len() != Self::CHECKSUM_LEN
            || !random.bytes().all(is_base62)
            || !checksum.bytes().all(is_base62)
        {
            return Err(TokenParseError::Shape);
        }
        let expected = checksum_of(&text[..PREFIX.len() + Self::RANDOM_LEN]);
        if expected != checksum {
            return Err(TokenParseError::Checksum);
        }
        Ok(Self(SecretString::from(text.to_owned())))
    }

    /// The whole token. Call only to hash it or to show it once to its owner.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The public prefix that identifies a token in listings (`sbt_` and four
    /// characters); it leaves more than 128 random bits unseen.
    #[must_use]
    pub fn public_prefix(&self) -> String {
        self.expose()[..PREFIX.len() + Self::VISIBLE_RANDOM_CHARS].to_owned()
    }

    /// The alphabet of the random part.
    #[must_use]
    pub fn alphabet() -> &'static [u8; 62] {
        BASE62
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken([REDACTED])")
    }
}

fn is_base62(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

fn checksum_of(body: &str) -> String {
    let mut value = u64::from(crc32fast::hash(body.as_bytes()));
    let mut out = [b'0'; ApiToken::CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        let digit = usize::try_from(value % 62).unwrap_or_default();
        *slot = BASE62[digit];
        value /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// The keyed hash under which a token is stored and looked up (hex of HMAC-SHA256).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const RANDOM: &str = "abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn built_tokens_parse_back() {
        let token = ApiToken::from_random_part(RANDOM).expect("valid random part");
        assert_eq!(token.expose().len(), ApiToken::LEN);
        let parsed = ApiToken::parse(token.expose()).expect("round trip");
        assert_eq!(parsed.expose(), token.expose());
        assert_eq!(token.public_prefix(), "sbt_abcd");
    }

    #[test]
    fn a_single_changed_character_is_caught_by_the_checksum() {
        let token = ApiToken::from_random_part(RANDOM).expect("valid random part");
        let mut text = token.expose().to_owned();
        text.replace_range(5..6, "Z");
        assert_eq!(
            ApiToken::parse(&text).map(|_| ()),
            Err(TokenParseError::Checksum)
        );
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for bad in [
            "",
            "sbt_",
            "Token abc",
            "sbt_abc_def",
            &format!("xyz_{RANDOM}_AAAAAA"),
        ] {
            assert_eq!(
                ApiToken::parse(bad).map(|_| ()),
                Err(TokenParseError::Shape),
                "{bad}"
            );
        }
        assert!(ApiToken::from_random_part("short").is_err());
        assert!(ApiToken::from_random_part("abcdefghijklmnopqrstuvwxy-").is_err());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = ApiToken::from_random_part(RANDOM).expect("valid random part");
        assert!(!format!("{token:?}").contains(RANDOM));
        assert!(!format!("{:?}", TokenHash("deadbeef".into())).contains("deadbeef"));
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in ".{0,64}") {
            let _ = ApiToken::parse(&text);
        }

        #[test]
        fn every_random_part_round_trips(random in "[0-9A-Za-z]{26}") {
            let token = ApiToken::from_random_part(&random).expect("valid");
            prop_assert!(ApiToken::parse(token.expose()).is_ok());
        }
    }
}
