//! API token generation (operating-system randomness) and the keyed hash under which
//! tokens are stored and looked up (HMAC-SHA256, hex).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use switchboard_domain::identity::{ApiToken, TokenGenerator, TokenHash, TokenHasher};
use zeroize::Zeroizing;

/// HMAC-SHA256 of tokens under a server key. The keyed state (the key schedule) is
/// computed once and cloned per token: this runs on every authenticated request.
pub struct HmacTokenHasher {
    keyed: Option<Hmac<Sha256>>,
}

impl fmt::Debug for HmacTokenHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacTokenHasher([REDACTED])")
    }
}

impl HmacTokenHasher {
    /// A hasher keyed with `key` (32 bytes).
    #[must_use]
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        // A 32-byte key is always a valid HMAC key; `None` (never seen) hashes every
        // token to the same value, which matches no stored token.
        Self {
            keyed: <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_slice()).ok(),
        }
    }
}

impl TokenHasher for HmacTokenHasher {
    fn hash(&self, token: &ApiToken) -> TokenHash {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let Some(keyed) = &self.keyed else {
            return TokenHash(String::new());
        };
        let mut mac = keyed.clone();
        mac.update(token.expose().as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(digest.len() * 2);
        for byte in digest {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        TokenHash(hex)
    }
}

/// Tokens from the operating system's random generator, each character of the
/// random part drawn uniformly from base62.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomTokenGenerator;

impl TokenGenerator for RandomTokenGenerator {
    fn generate(&self) -> ApiToken {
        let alphabet = ApiToken::alphabet();
        let mut rng = OsRng.unwrap_err();
        loop {
            let random: String = (0..ApiToken::RANDOM_LEN)
                .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
                .collect();
            if let Ok(token) = ApiToken::from_random_part(&random) {
                return token;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let generator = RandomTokenGenerator;
        let tokens: HashSet<String> = (0..200)
            .map(|_| generator.generate().expose().to_owned())
            .collect();
        assert_eq!(tokens.len(), 200);
        for token in &tokens {
            assert!(ApiToken::parse(token).is_ok());
        }
    }

    #[test]
    fn hashes_are_keyed_and_stable() {
        let token = RandomTokenGenerator.generate();
        let a = HmacTokenHasher::new(Zeroizing::new([1; 32]));
        let b = HmacTokenHasher::new(Zeroizing::new([2; 32]));
        assert_eq!(a.hash(&token), a.hash(&token));
        assert_ne!(a.hash(&token), b.hash(&token));
        assert_eq!(a.hash(&token).0.len(), 64);
        assert!(!a.hash(&token).0.contains(token.expose()));
    }

    #[test]
    fn hashes_are_lowercase_hex_hmac_sha256() {
        let token = RandomTokenGenerator.generate();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7; 32]).expect("key");
        mac.update(token.expose().as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let hasher = HmacTokenHasher::new(Zeroizing::new([7; 32]));
        assert_eq!(hasher.hash(&token).0, expected);
    }
}
