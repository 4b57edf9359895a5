//! Credential verification adapter: one "who am I" call per provider, over HTTP
//! with a short timeout, mapped to `valid`, `invalid` or `unreachable`.
//!
//! Each provider's call is one module in [`providers`], registered under its catalog
//! slug in one registry:
//!
//! | provider | call | authentication |
//! |---|---|---|
//! | twilio | `GET /2010-04-01/Accounts/{AccountSid}.json` | basic, account SID and auth token |
//! | plivo | `GET /v1/Account/{AuthId}/` | basic, auth id and auth token |
//! | vonage | `GET /account/get-balance` | basic, API key and API secret |
//! | telnyx | `GET /v2/balance` | bearer, the API key (the account id is not sent) |
//!
//! A provider without a module answers `unsupported`. 2xx is `valid`; 401, 403 and
//! 404 are `invalid`; anything else (timeouts, refused connections, 5xx, 429,
//! redirects) is `unreachable`. The secret travels only in the `Authorization`
//! header, never in a URL, and nothing here logs it: log lines name the provider,
//! the status code or the kind of failure, nothing more. Each provider's base URL is
//! a setting keyed by slug ([`VerifierSettings::base_urls`]), so tests point it at a
//! local stand-in. This crate knows the domain's verification port and nothing of
//! storage or HTTP serving.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use secrecy::ExposeSecret;
use switchboard_domain::telephony::{
    CredentialVerifier, CredentialsToVerify, UnsupportedProvider, VerificationStatus,
};

pub mod numbers;
mod providers;

/// The request helpers the number listings share with the "who am I" calls.
pub(crate) use providers::{basic, path_segment};

/// Where each provider's API lives, by catalog slug, and how long a call may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierSettings {
    /// Base URLs by slug. A registered provider missing here uses its module's
    /// default (its public API); entries for slugs without a module are kept (other
    /// adapters may read them through [`VerifierSettings::base_url`]).
    pub base_urls: BTreeMap<String, String>,
    /// Bound of one whole call: connection, request and answer.
    pub timeout: Duration,
}

impl Default for VerifierSettings {
    /// Every registered provider at its public API, 5 seconds per call.
    fn default() -> Self {
        Self {
            base_urls: providers::REGISTRY
                .iter()
                .map(|module| (module.slug.to_owned(), module.default_base_url.to_owned()))
                .collect(),
            timeout: Duration::from_millis(5000),
        }
    }
}

impl VerifierSettings {
    /// The base URL for `slug`: the setting, else the module's default; `None` for a
    /// slug with neither.
    #[must_use]
    pub fn base_url(&self, slug: &str) -> Option<&str> {
        self.base_urls
            .get(slug)
            .map(String::as_str)
            .or_else(|| providers::module(slug).map(|module| module.default_base_url))
    }

    /// These settings with `slug`'s base URL set to `url`.
    #[must_use]
    pub fn with_base_url(mut self, slug: &str, url: impl Into<String>) -> Self {
        self.base_urls.insert(slug.to_owned(), url.into());
        self
    }
}

/// A base URL that is not an absolute `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider} base URL must be an absolute http:// or https:// URL")]
pub struct InvalidBaseUrl {
    /// The slug whose base URL is refused.
    pub provider: String,
}

/// The slugs of the providers this adapter can verify, in registry order.
pub fn supported_providers() -> impl Iterator<Item = &'static str> {
    providers::REGISTRY.iter().map(|module| module.slug)
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
    /// [`InvalidBaseUrl`] naming the first slug (in order) whose base URL is not an
    /// absolute `http(s)://` URL.
    pub fn new(mut settings: VerifierSettings) -> Result<Self, InvalidBaseUrl> {
        for (provider, url) in &mut settings.base_urls {
            let trimmed = url.trim().trim_end_matches('/').to_owned();
            if !is_http_url(&trimmed) {
                return Err(InvalidBaseUrl {
                    provider: provider.clone(),
                });
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
        module: &providers::ProviderModule,
        credentials: &CredentialsToVerify<'_>,
    ) -> VerificationStatus {
        let base_url = self
            .settings
            .base_url(module.slug)
            .unwrap_or(module.default_base_url);
        let providers::WhoAmI { url, authorization } = (module.who_am_i)(base_url, credentials);
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
                    provider = module.slug,
                    http_status = code,
                    outcome = status.as_str(),
                    "credential verification answered"
                );
                status
            }
            Err(error) => {
                tracing::warn!(
                    provider = module.slug,
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
        providers::module(provider).is_some()
    }

    fn verify(
        &self,
        provider: &str,
        credentials: &CredentialsToVerify<'_>,
    ) -> Result<VerificationStatus, UnsupportedProvider> {
        let known =
            providers::module(provider).ok_or_else(|| UnsupportedProvider(provider.to_owned()))?;
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
    fn base_urls_must_be_http_and_lose_trailing_slashes() {
        let settings = VerifierSettings::default().with_base_url("twilio", "http://127.0.0.1:9/");
        let verifier = HttpCredentialVerifier::new(settings.clone()).expect("valid");
        assert_eq!(
            verifier.settings.base_url("twilio"),
            Some("http://127.0.0.1:9")
        );
        for bad in ["ftp://x", "https://", "api.twilio.com", "https://a?b=c"] {
            assert_eq!(
                HttpCredentialVerifier::new(settings.clone().with_base_url("plivo", bad))
                    .map(|_| ()),
                Err(InvalidBaseUrl {
                    provider: "plivo".into()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn base_urls_come_from_the_map_then_the_module_default() {
        let settings = VerifierSettings {
            base_urls: BTreeMap::from([("numbersonly".to_owned(), "https://n.example".to_owned())]),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(settings.base_url("twilio"), Some("https://api.twilio.com"));
        assert_eq!(settings.base_url("numbersonly"), Some("https://n.example"));
        assert_eq!(settings.base_url("exotel"), None);
        let settings = settings.with_base_url("twilio", "http://127.0.0.1:1");
        assert_eq!(settings.base_url("twilio"), Some("http://127.0.0.1:1"));
    }

    #[test]
    fn registered_providers_are_supported_and_others_are_not() {
        let verifier = HttpCredentialVerifier::new(VerifierSettings::default()).expect("valid");
        assert_eq!(
            supported_providers().collect::<Vec<_>>(),
            ["twilio", "plivo", "vonage", "telnyx"]
        );
        for slug in supported_providers() {
            assert!(verifier.supports(slug));
        }
        assert!(!verifier.supports("sip"));
        let token = secrecy::SecretString::from("x");
        let credentials = CredentialsToVerify {
            account_sid: "a",
            auth_token: &token,
        };
        assert!(verifier.verify("exotel", &credentials).is_err());
    }
}
