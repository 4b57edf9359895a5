//! The registry of "who am I" calls, one module per provider, keyed by catalog slug.
//!
//! A provider module knows three things: its slug, the base URL of its public API,
//! and the request that asks that API whether credentials are accepted (path and
//! `Authorization` header). Everything else (timeouts, redirects, mapping answers to
//! outcomes, logging) is shared by [`crate::HttpCredentialVerifier`].
//!
//! Adding a provider: one file next to this one and one line in [`REGISTRY`]. A
//! provider without a module answers `unsupported`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use switchboard_domain::telephony::CredentialsToVerify;

mod plivo;
mod telnyx;
mod twilio;
mod vonage;

/// Every provider this adapter can verify, by slug. One line per provider.
pub(crate) const REGISTRY: &[ProviderModule] = &[
    twilio::MODULE,
    plivo::MODULE,
    vonage::MODULE,
    telnyx::MODULE,
];

/// The module registered under `slug`, if any.
pub(crate) fn module(slug: &str) -> Option<&'static ProviderModule> {
    REGISTRY.iter().find(|module| module.slug == slug)
}

/// One provider's "who am I" call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProviderModule {
    /// The catalog slug the module is registered under.
    pub(crate) slug: &'static str,
    /// The provider's public API, used when no setting names another.
    pub(crate) default_base_url: &'static str,
    /// The request asking the provider about `credentials`, against `base_url`
    /// (without a trailing slash).
    pub(crate) who_am_i: fn(base_url: &str, credentials: &CredentialsToVerify<'_>) -> WhoAmI,
}

/// A `GET` request: its URL (no secret in it) and its `Authorization` header.
pub(crate) struct WhoAmI {
    pub(crate) url: String,
    pub(crate) authorization: SecretString,
}

/// `Basic base64(user:secret)`, kept secret.
pub(crate) fn basic(user: &str, secret: &SecretString) -> SecretString {
    let pair = format!("{user}:{}", secret.expose_secret());
    SecretString::from(format!("Basic {}", STANDARD.encode(pair.as_bytes())))
}

/// `Bearer <secret>`, kept secret.
pub(crate) fn bearer(secret: &SecretString) -> SecretString {
    SecretString::from(format!("Bearer {}", secret.expose_secret()))
}

/// Percent-encodes everything but unreserved characters, so that a stored account
/// id can never change the path it is put in.
pub(crate) fn path_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(path_segment("AC0123abc"), "AC0123abc");
        assert_eq!(path_segment("a/b?c d"), "a%2Fb%3Fc%20d");
    }

    #[test]
    fn basic_credentials_are_standard_base64() {
        let header = basic("user", &SecretString::from("pass"));
        assert_eq!(header.expose_secret(), "Basic dXNlcjpwYXNz");
    }

    #[test]
    fn slugs_are_registered_once_with_an_https_default() {
        let mut slugs: Vec<&str> = REGISTRY.iter().map(|module| module.slug).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), REGISTRY.len());
        for module in REGISTRY {
            assert!(
                module.default_base_url.starts_with("https://"),
                "{}",
                module.slug
            );
            assert!(!module.default_base_url.ends_with('/'), "{}", module.slug);
        }
        assert!(module("twilio").is_some());
        assert!(module("exotel").is_none());
    }
}
