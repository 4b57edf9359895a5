//! Standard Webhooks signing: endpoint secrets (`whsec_` + base64 of 32 random
//! bytes) and the `webhook-signature` value `v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}" keyed by the secret's bytes>`, as the specification
//! (standardwebhooks.com) and its libraries compute it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand::rngs::OsRng;
use rand::{RngCore, TryRngCore};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use switchboard_domain::webhooks::WebhookSigner;
use zeroize::Zeroizing;

/// Prefix of endpoint secrets.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the contract allows 24 to 64).
const SECRET_BYTES: usize = 32;

/// [`WebhookSigner`] with the operating system's random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct StandardWebhookSigner;

impl WebhookSigner for StandardWebhookSigner {
    fn generate_secret(&self) -> SecretString {
        let mut bytes = Zeroizing::new([0_u8; SECRET_BYTES]);
        OsRng.unwrap_err().fill_bytes(bytes.as_mut());
        SecretString::from(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(bytes.as_ref())
        ))
    }

    fn sign(&self, secret: &SecretString, id: &str, timestamp: i64, body: &str) -> Option<String> {
        let encoded = secret.expose_secret().strip_prefix(SECRET_PREFIX)?;
        let key = Zeroizing::new(STANDARD.decode(encoded).ok()?);
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        Some(format!(
            "v1,{}",
            STANDARD.encode(mac.finalize().into_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specifications_example() {
        // The example of the Standard Webhooks specification (and its libraries'
        // test suites).
        let secret = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let signature = StandardWebhookSigner.sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn secrets_are_fresh_and_well_formed() {
        let one = StandardWebhookSigner.generate_secret();
        let two = StandardWebhookSigner.generate_secret();
        assert_ne!(one.expose_secret(), two.expose_secret());
        let encoded = one
            .expose_secret()
            .strip_prefix(SECRET_PREFIX)
            .expect("prefix");
        assert_eq!(STANDARD.decode(encoded).expect("base64").len(), 32);
        assert!(StandardWebhookSigner.sign(&one, "evt_1", 1, "{}").is_some());
        let bad = SecretString::from("nope".to_owned());
        assert_eq!(StandardWebhookSigner.sign(&bad, "evt_1", 1, "{}"), None);
    }
}
