//! Credential verification adapter: one "who am I" call per provider, over HTTP
//! with a short timeout, mapped to `valid`, `invalid` or `unreachable`.
//!
//! | provider | call | authentication |
//! |---|---|---|
//! | twilio | `GET /2010-04-01/Accounts/{AccountSid}.json` | basic, account SID and auth token |
//! | plivo | `GET /v1/Account/{AuthId}/` | basic, auth id and auth token |
//! | vonage | `GET /account/get-balance` | basic, API key and API secret |
//! | telnyx | `GET /v2/balance` | bearer, the API key (the account id is not sent) |
//!
//! 2xx is `valid`; 401, 403 and 404 are `invalid`; anything else (timeouts, refused
//! connections, 5xx, 429, redirects) is `unreachable`. The secret travels only in
//! the `Authorization` header, never in a URL, and nothing here logs it: log lines
//! name the provider, the status code or the kind of failure, nothing more. Each
//! provider's base URL is a setting, so tests point it at a local stand-in. This
//! crate knows the domain's verification port and nothing of storage or HTTP serving.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use switchboard_domain::telephony::{
    CredentialVerifier, CredentialsToVerify, UnsupportedProvider, VerificationStatus,
};

pub mod numbers;

/// Where each provider's API lives, and how long a call may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierSettings {
    pub twilio_base_url: String,
    pub plivo_base_url: String,
    pub vonage_base_url: String,
    pub telnyx_base_url: String,
    /// Bound of one whole call: connection, request and answer.
    pub timeout: Duration,
}

impl Default for VerifierSettings {
    fn default() -> Self {
        Self {
            twilio_base_url: "https://api.twilio.com".into(),
            plivo_base_url: "https://api.plivo.com".into(),
            vonage_base_url: "https://rest.nexmo.com".into(),
            telnyx_base_url: "https://api.telnyx.com".into(),
            timeout: Duration::from_millis(5000),
        }
    }
}

/// A base URL that is not an absolute `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider} base URL must be an absolute http:// or https:// URL")]
pub struct InvalidBaseUrl {
    pub provider: &'static str,
}

/// The providers this adapter can verify, by catalog slug.
pub const SUPPORTED_PROVIDERS: [&str; 4] = ["twilio", "plivo", "vonage", "telnyx"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Twilio,
    Plivo,
    Vonage,
    Telnyx,
}

impl Provider {
    fn from_slug(slug: &str) -> Option<Self> {
        match slug {
            "twilio" => Some(Self::Twilio),
            "plivo" => Some(Self::Plivo),
            "vonage" => Some(Self::Vonage),
            "telnyx" => Some(Self::Telnyx),
            _ => None,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Plivo => "plivo",
            Self::Vonage => "vonage",
            Self::Telnyx => "telnyx",
        }
    }
}

/// [`CredentialVerifier`] over the providers' HTTP APIs (blocking calls: the
/// application runs them on its blocking pool).
pub struct HttpCredentialVerifier {
    agent: ureq::Agent,
    settings: VerifierSettings,
}

impl fmt::Debug for HttpCredentialVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCredentialVerifier")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl HttpCredentialVerifier {
    /// A verifier for `settings`; base URLs lose any trailing slash.
    ///
    /// # Errors
    /// [`InvalidBaseUrl`] naming the first provider whose base URL is not an
    /// absolute `http(s)://` URL.
    pub fn new(mut settings: VerifierSettings) -> Result<Self, InvalidBaseUrl> {
        for (provider, url) in [
            ("twilio", &mut settings.twilio_base_url),
            ("plivo", &mut settings.plivo_base_url),
            ("vonage", &mut settings.vonage_base_url),
            ("telnyx", &mut settings.telnyx_base_url),
        ] {
            let trimmed = url.trim().trim_end_matches('/').to_owned();
            if !is_http_url(&trimmed) {
                return Err(InvalidBaseUrl { provider });
            }
            *url = trimmed;
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            agent: ureq::Agent::new_with_config(config),
            settings,
        })
    }

    fn call(
        &self,
        provider: Provider,
        credentials: &CredentialsToVerify<'_>,
    ) -> VerificationStatus {
        let sid = credentials.account_sid;
        let (url, authorization) = match provider {
            Provider::Twilio => (
                format!(
                    "{}/2010-04-01/Accounts/{}.json",
                    self.settings.twilio_base_url,
                    path_segment(sid)
                ),
                basic(sid, credentials.auth_token),
            ),
            Provider::Plivo => (
                format!(
                    "{}/v1/Account/{}/",
                    self.settings.plivo_base_url,
                    path_segment(sid)
                ),
                basic(sid, credentials.auth_token),
            ),
            Provider::Vonage => (
                format!("{}/account/get-balance", self.settings.vonage_base_url),
                basic(sid, credentials.auth_token),
            ),
            Provider::Telnyx => (
                format!("{}/v2/balance", self.settings.telnyx_base_url),
                SecretString::from(format!("Bearer {}", credentials.auth_token.expose_secret())),
            ),
        };
        let answer = self
            .agent
            .get(&url)
            .header("Accept", "application/json")
            .header("Authorization", authorization.expose_secret())
            .call();
        match answer {
            Ok(response) => {
                let code = response.status().as_u16();
                let status = status_of(code);
                tracing::info!(
                    provider = provider.slug(),
                    http_status = code,
                    outcome = status.as_str(),
                    "credential verification answered"
                );
                status
            }
            Err(error) => {
                tracing::warn!(
                    provider = provider.slug(),
                    failure = failure_kind(&error),
                    "credential verification could not reach the provider"
                );
                VerificationStatus::Unreachable
            }
        }
    }
}

impl CredentialVerifier for HttpCredentialVerifier {
    fn supports(&self, provider: &str) -> bool {
        Provider::from_slug(provider).is_some()
    }

    fn verify(
        &self,
        provider: &str,
        credentials: &CredentialsToVerify<'_>,
    ) -> Result<VerificationStatus, UnsupportedProvider> {
        let known = Provider::from_slug(provider)
            .ok_or_else(|| UnsupportedProvider(provider.to_owned()))?;
        Ok(self.call(known, credentials))
    }
}

/// What an HTTP status from a provider says about the credentials.
fn status_of(code: u16) -> VerificationStatus {
    match code {
        200..=299 => VerificationStatus::Valid,
        401 | 403 | 404 => VerificationStatus::Invalid,
        _ => VerificationStatus::Unreachable,
    }
}

/// A loggable name of a transport failure (the error's own text may quote the
/// URL, so it is not logged).
fn failure_kind(error: &ureq::Error) -> &'static str {
    match error {
        ureq::Error::Timeout(_) => "timeout",
        ureq::Error::Io(_) => "connection",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::ConnectionFailed => "connection failed",
        ureq::Error::Tls(_) => "tls",
        _ => "protocol",
    }
}

/// `Basic base64(user:secret)`, kept secret.
fn basic(user: &str, secret: &SecretString) -> SecretString {
    let pair = format!("{user}:{}", secret.expose_secret());
    SecretString::from(format!("Basic {}", STANDARD.encode(pair.as_bytes())))
}

/// Percent-encodes everything but unreserved characters, so that a stored account
/// id can never change the path it is put in.
fn path_segment(text: &str) -> String {
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

fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://"].iter().any(|scheme| {
        lower.strip_prefix(scheme).is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && !rest.contains(['?', '#']) && !url.chars().any(char::is_whitespace)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(status_of(200), VerificationStatus::Valid);
        assert_eq!(status_of(204), VerificationStatus::Valid);
        for code in [401, 403, 404] {
            assert_eq!(status_of(code), VerificationStatus::Invalid, "{code}");
        }
        for code in [301, 400, 429, 500, 503] {
            assert_eq!(status_of(code), VerificationStatus::Unreachable, "{code}");
        }
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(path_segment("AC0123abc"), "AC0123abc");
        assert_eq!(path_segment("a/b?c d"), "a%2Fb%3Fc%20d");
    }

    #[test]
    fn base_urls_must_be_http_and_lose_trailing_slashes() {
        let mut settings = VerifierSettings {
            twilio_base_url: "http://127.0.0.1:9/".into(),
            ..VerifierSettings::default()
        };
        let verifier = HttpCredentialVerifier::new(settings.clone()).expect("valid");
        assert_eq!(verifier.settings.twilio_base_url, "http://127.0.0.1:9");
        for bad in ["ftp://x", "https://", "api.twilio.com", "https://a?b=c"] {
            settings.plivo_base_url = bad.into();
            assert_eq!(
                HttpCredentialVerifier::new(settings.clone()).map(|_| ()),
                Err(InvalidBaseUrl { provider: "plivo" }),
                "{bad}"
            );
        }
    }

    #[test]
    fn basic_credentials_are_standard_base64() {
        let header = basic("user", &SecretString::from("pass"));
        assert_eq!(header.expose_secret(), "Basic dXNlcjpwYXNz");
    }

    #[test]
    fn only_four_providers_are_supported() {
        let verifier = HttpCredentialVerifier::new(VerifierSettings::default()).expect("valid");
        for slug in SUPPORTED_PROVIDERS {
            assert!(verifier.supports(slug));
        }
        assert!(!verifier.supports("sip"));
        let token = SecretString::from("x");
        let credentials = CredentialsToVerify {
            account_sid: "a",
            auth_token: &token,
        };
        assert!(verifier.verify("exotel", &credentials).is_err());
    }
}
