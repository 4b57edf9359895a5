//! Credential verification: asking a provider's own API whether a configuration's
//! credentials are accepted, and the outcome stored on the configuration.
//!
//! The port ([`CredentialVerifier`]) knows providers by catalog slug; adapters do the
//! network calls. Nothing here holds or prints a secret: the token travels as a
//! [`SecretString`] and outcomes carry no provider text.

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;

use crate::shared::Timestamp;

/// What the provider said about a pair of credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerificationStatus {
    /// The provider accepted the credentials.
    Valid,
    /// The provider refused them (HTTP 401, 403 or 404 from its API).
    Invalid,
    /// No answer could be had: a timeout, a refused connection, a 5xx, a 429 or any
    /// other answer that says nothing about the credentials.
    Unreachable,
}

impl VerificationStatus {
    /// The stored and wire form (`valid`, `invalid`, `unreachable`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Unreachable => "unreachable",
        }
    }
}

impl fmt::Display for VerificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status that names no outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown verification status")]
pub struct UnknownVerificationStatus;

impl FromStr for VerificationStatus {
    type Err = UnknownVerificationStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "valid" => Ok(Self::Valid),
            "invalid" => Ok(Self::Invalid),
            "unreachable" => Ok(Self::Unreachable),
            _ => Err(UnknownVerificationStatus),
        }
    }
}

/// The last verification of a configuration's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub status: VerificationStatus,
    pub checked_at: Timestamp,
}

/// The credentials to check. `Debug` shows the account SID only.
pub struct CredentialsToVerify<'a> {
    pub account_sid: &'a str,
    pub auth_token: &'a SecretString,
}

impl fmt::Debug for CredentialsToVerify<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsToVerify")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[REDACTED]")
            .finish()
    }
}

/// The verifier has no adapter for this provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("credential verification is not available for provider {0}")]
pub struct UnsupportedProvider(pub String);

/// Asks a provider's API whether credentials are accepted (a simple authenticated
/// "who am I" call). Calls block for at most the adapter's timeout.
pub trait CredentialVerifier: Send + Sync {
    /// Whether an adapter exists for the provider with catalog slug `provider`.
    fn supports(&self, provider: &str) -> bool;

    /// Checks `credentials` against the provider's API. Network failures are an
    /// outcome ([`VerificationStatus::Unreachable`]), not an error.
    ///
    /// # Errors
    /// [`UnsupportedProvider`] when no adapter exists for `provider`.
    fn verify(
        &self,
        provider: &str,
        credentials: &CredentialsToVerify<'_>,
    ) -> Result<VerificationStatus, UnsupportedProvider>;
}

/// A verifier that knows no provider (the default until an adapter is wired).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCredentialVerifier;

impl CredentialVerifier for NoCredentialVerifier {
    fn supports(&self, _provider: &str) -> bool {
        false
    }

    fn verify(
        &self,
        provider: &str,
        _credentials: &CredentialsToVerify<'_>,
    ) -> Result<VerificationStatus, UnsupportedProvider> {
        Err(UnsupportedProvider(provider.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_names() {
        for status in [
            VerificationStatus::Valid,
            VerificationStatus::Invalid,
            VerificationStatus::Unreachable,
        ] {
            assert_eq!(status.as_str().parse::<VerificationStatus>(), Ok(status));
        }
        assert!("VALID".parse::<VerificationStatus>().is_err());
    }

    #[test]
    fn credentials_never_debug_their_token() {
        let token = SecretString::from("super-secret-token");
        let credentials = CredentialsToVerify {
            account_sid: "AC1",
            auth_token: &token,
        };
        let text = format!("{credentials:?}");
        assert!(text.contains("AC1") && !text.contains("super-secret"));
    }

    #[test]
    fn the_null_verifier_supports_nothing() {
        let token = SecretString::from("x");
        let credentials = CredentialsToVerify {
            account_sid: "a",
            auth_token: &token,
        };
        assert!(!NoCredentialVerifier.supports("twilio"));
        assert!(NoCredentialVerifier.verify("twilio", &credentials).is_err());
    }
}
