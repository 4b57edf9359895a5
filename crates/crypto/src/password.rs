//! Argon2id password hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1: the
//! defaults of argon2 0.6). Slow on purpose: callers run it on a blocking pool, never
//! per request.
//!
//! Besides the [`PasswordHasher`] port, the hasher can work in memory its caller
//! provides ([`Argon2PasswordHasher::hash_in`], [`Argon2PasswordHasher::verify_in`]):
//! the hashing pool reuses one buffer per thread across queued hashes and controls
//! how it is allocated and given back (see `hash_pool`). Both paths produce and
//! accept the same PHC strings.

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use switchboard_domain::identity::{PasswordHash, PasswordHasher, PendingVerification};

/// Bytes of a new hash's random salt (the password-hash crate's recommendation).
const SALT_LEN: usize = 16;

/// Argon2id with OWASP parameters.
#[derive(Debug, Default, Clone)]
pub struct Argon2PasswordHasher {
    argon2: Argon2<'static>,
}

impl Argon2PasswordHasher {
    /// Hashes `password` like [`PasswordHasher::hash`], in `memory` (resized to the
    /// parameters' block count when it is not).
    ///
    /// # Errors
    /// A message from the hashing library (never the password).
    pub fn hash_in(
        &self,
        password: &SecretString,
        memory: &mut Vec<Block>,
    ) -> Result<PasswordHash, String> {
        let params = self.argon2.params().clone();
        let mut salt = [0_u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        let mut output = vec![0_u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
        memory.resize(params.block_count(), Block::default());
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(
                password.expose_secret().as_bytes(),
                &salt,
                &mut output,
                memory.as_mut_slice(),
            )
            .map_err(|error| format!("argon2: {error}"))?;
        let phc = argon2::PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|error| format!("argon2: {error}"))?,
            salt: Some(Salt::new(&salt).map_err(|error| format!("argon2: {error}"))?),
            hash: Some(Output::new(&output).map_err(|error| format!("argon2: {error}"))?),
        };
        Ok(PasswordHash(phc.to_string()))
    }

    /// Checks `password` against a stored hash like [`PasswordHasher::verify`], in
    /// `memory` (resized to the stored parameters' block count when it is not).
    pub fn verify_in(
        &self,
        password: &SecretString,
        hash: &PasswordHash,
        memory: &mut Vec<Block>,
    ) -> bool {
        let Ok(phc) = argon2::PasswordHash::new(&hash.0) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) = (
            Algorithm::try_from(phc.algorithm.as_str()),
            Params::try_from(&phc),
        ) else {
            return false;
        };
        let version = match phc.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let mut output = vec![0_u8; expected.len()];
        memory.resize(params.block_count(), Block::default());
        let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            salt.as_ref(),
            &mut output,
            memory.as_mut_slice(),
        );
        // `Output` compares in constant time.
        computed.is_ok() && Output::new(&output).is_ok_and(|output| output == *expected)
    }
}

impl PasswordHasher for Argon2PasswordHasher {
    fn hash(&self, password: &SecretString) -> Result<PasswordHash, String> {
        self.argon2
            .hash_password(password.expose_secret().as_bytes())
            .map(|hash| PasswordHash(hash.to_string()))
            .map_err(|error| format!("argon2: {error}"))
    }

    fn verify(&self, password: &SecretString, hash: &PasswordHash) -> bool {
        self.argon2
            .verify_password(password.expose_secret().as_bytes(), hash.0.as_str())
            .is_ok()
    }

    /// Verifies at once, on the caller's thread: the plain hasher serves tools and
    /// tests; the server hashes on [`crate::PooledPasswordHasher`]'s threads.
    fn verify_later(&self, password: &SecretString, hash: &PasswordHash) -> PendingVerification {
        Box::pin(std::future::ready(Ok(self.verify(password, hash))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let hasher = Argon2PasswordHasher::default();
        let password = SecretString::from("correct horse battery staple");
        let a = hasher.hash(&password).expect("hash");
        let b = hasher.hash(&password).expect("hash");
        assert!(a.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b);
        assert!(hasher.verify(&password, &a));
        assert!(!hasher.verify(&SecretString::from("wrong"), &a));
        assert!(!hasher.verify(&password, &PasswordHash("garbage".into())));
        assert!(!a.0.contains("correct horse"));
    }

    #[test]
    fn hashing_in_caller_memory_matches_the_library_both_ways() {
        let hasher = Argon2PasswordHasher::default();
        let password = SecretString::from("correct horse battery staple");
        let mut memory = Vec::new();
        let ours = hasher.hash_in(&password, &mut memory).expect("hash");
        assert!(
            ours.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            ours.0
        );
        assert_eq!(memory.len(), 19456);
        let theirs = hasher.hash(&password).expect("hash");
        assert_eq!(ours.0.len(), theirs.0.len());
        assert!(hasher.verify(&password, &ours));
        assert!(hasher.verify_in(&password, &theirs, &mut memory));
        assert!(hasher.verify_in(&password, &ours, &mut memory));
        assert!(!hasher.verify_in(&SecretString::from("wrong"), &ours, &mut memory));
        assert!(!hasher.verify_in(&password, &PasswordHash("garbage".into()), &mut memory));
    }
}
