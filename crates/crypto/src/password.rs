//! Argon2id password hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1: the
//! defaults of argon2 0.6). Slow on purpose: callers run it on a blocking pool, never
//! per request.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use secrecy::{ExposeSecret, SecretString};
use switchboard_domain::identity::{PasswordHash, PasswordHasher};

/// Argon2id with OWASP parameters.
#[derive(Debug, Default, Clone)]
pub struct Argon2PasswordHasher {
    argon2: Argon2<'static>,
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
}
