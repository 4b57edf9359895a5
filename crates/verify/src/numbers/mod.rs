//! Number import's adapter (contract section 11): the phone numbers of a provider
//! account, read page by page with the configuration's credentials, through the
//! same HTTP client, timeout and base-URL settings as verification.
//!
//! | provider | call | authentication | pages |
//! |---|---|---|---|
//! | twilio | `GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json?PageSize=1000` | basic, account SID and auth token | `next_page_uri` until null |
//! | telnyx | `GET /v2/phone_numbers?page[number]=n&page[size]=250` | bearer, the API key | `meta.total_pages` |
//! | plivo | `GET /v1/Account/{AuthId}/Number/?limit=20&offset=0` | basic, auth id and auth token | `meta.next` until null |
//!
//! A next page is followed only when it is a path of the same listing on the same
//! base URL (an answer cannot send the credentials elsewhere), a page seen twice is a
//! loop, and one import reads at most [`MAX_IMPORTED_NUMBERS`] numbers and
//! [`MAX_PAGES`] pages. Any non-2xx answer, transport failure or unexpected body is a
//! [`NumberSourceError`] that carries nothing the provider said; log lines name the
//! provider and the status or kind of failure only.

mod plivo;
mod telnyx;
mod twilio;

use std::collections::HashSet;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use switchboard_domain::telephony::{
    CredentialsToVerify, MAX_IMPORTED_NUMBERS, NumberSource, NumberSourceError,
};

use crate::{HttpCredentialVerifier, VerifierSettings, failure_kind};

/// Most pages one import reads.
pub const MAX_PAGES: usize = 1000;

/// The providers whose numbers can be imported, by catalog slug.
pub const IMPORT_PROVIDERS: [&str; 3] = ["twilio", "telnyx", "plivo"];

/// The base URL of `provider`'s API: the one place the import reads the settings
/// (the verification settings' map by slug, [`VerifierSettings::base_url`]).
fn base_url<'a>(settings: &'a VerifierSettings, provider: &str) -> Option<&'a str> {
    if IMPORT_PROVIDERS.contains(&provider) {
        settings.base_url(provider)
    } else {
        None
    }
}

/// One listing being read: the client, the provider (for log lines), the pages
/// seen and the numbers gathered so far.
pub(crate) struct Listing<'a> {
    agent: &'a ureq::Agent,
    provider: &'static str,
    authorization: SecretString,
    seen: HashSet<String>,
    numbers: Vec<String>,
}

impl<'a> Listing<'a> {
    fn new(agent: &'a ureq::Agent, provider: &'static str, authorization: SecretString) -> Self {
        Self {
            agent,
            provider,
            authorization,
            seen: HashSet::new(),
            numbers: Vec::new(),
        }
    }

    /// The JSON answer of page `url`.
    ///
    /// # Errors
    /// A page seen before, past [`MAX_PAGES`], a non-2xx answer, a transport
    /// failure, or a body that is not JSON.
    fn page(&mut self, url: &str) -> Result<Value, NumberSourceError> {
        if !self.seen.insert(url.to_owned()) {
            return Err(NumberSourceError::Malformed("a page repeats"));
        }
        if self.seen.len() > MAX_PAGES {
            return Err(NumberSourceError::Malformed("too many pages"));
        }
        let answer = self
            .agent
            .get(url)
            .header("Accept", "application/json")
            .header("Authorization", self.authorization.expose_secret())
            .call();
        let mut response = match answer {
            Ok(response) => response,
            Err(error) => {
                let kind = failure_kind(&error);
                tracing::warn!(
                    provider = self.provider,
                    failure = kind,
                    "number import could not reach the provider"
                );
                return Err(NumberSourceError::Unreachable(kind));
            }
        };
        let code = response.status().as_u16();
        if !(200..=299).contains(&code) {
            tracing::warn!(
                provider = self.provider,
                http_status = code,
                "number import refused by the provider"
            );
            return Err(NumberSourceError::Status(code));
        }
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|error| match error {
                ureq::Error::Timeout(_) => NumberSourceError::Unreachable("timeout"),
                _ => NumberSourceError::Malformed("unreadable body"),
            })?;
        serde_json::from_str(&body).map_err(|_| {
            tracing::warn!(
                provider = self.provider,
                "number import: the provider's answer is not JSON"
            );
            NumberSourceError::Malformed("not JSON")
        })
    }

    /// Adds the numbers of `items` (an array of objects) read from field `field`.
    ///
    /// # Errors
    /// `items` is not an array of objects with a string `field`, or the listing
    /// passes [`MAX_IMPORTED_NUMBERS`].
    fn gather(&mut self, items: Option<&Value>, field: &str) -> Result<(), NumberSourceError> {
        let items = items
            .and_then(Value::as_array)
            .ok_or(NumberSourceError::Malformed("no list of numbers"))?;
        for item in items {
            let number = item
                .get(field)
                .and_then(Value::as_str)
                .ok_or(NumberSourceError::Malformed("a number without its text"))?;
            if self.numbers.len() >= MAX_IMPORTED_NUMBERS {
                return Err(NumberSourceError::TooMany);
            }
            self.numbers.push(number.to_owned());
        }
        Ok(())
    }

    fn finish(self) -> Vec<String> {
        tracing::info!(
            provider = self.provider,
            pages = self.seen.len(),
            numbers = self.numbers.len(),
            "number import read the provider's listing"
        );
        self.numbers
    }
}

/// `base` followed by `next`, when `next` is a path of the listing at `listing`
/// (a path from the base URL, its query aside); `None` otherwise.
fn next_page(base: &str, listing: &str, next: &str) -> Option<String> {
    let rest = next.strip_prefix(listing)?;
    let stays = rest.is_empty() || rest.starts_with('?');
    let clean = !next
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '#' || c == '\\')
        && !next.contains("..");
    (stays && clean).then(|| format!("{base}{next}"))
}

impl NumberSource for HttpCredentialVerifier {
    fn lists_numbers(&self, provider: &str) -> bool {
        IMPORT_PROVIDERS.contains(&provider)
    }

    fn list_numbers(
        &self,
        provider: &str,
        credentials: &CredentialsToVerify<'_>,
    ) -> Result<Vec<String>, NumberSourceError> {
        let base = base_url(&self.settings, provider).ok_or(NumberSourceError::Unsupported)?;
        match provider {
            "twilio" => twilio::list(&self.agent, base, credentials),
            "telnyx" => telnyx::list(&self.agent, base, credentials),
            "plivo" => plivo::list(&self.agent, base, credentials),
            _ => Err(NumberSourceError::Unsupported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pages_stay_in_the_listing() {
        let listing = "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json";
        assert_eq!(
            next_page(
                "http://x",
                listing,
                &format!("{listing}?PageSize=2&Page=1&PageToken=PA1")
            ),
            Some(format!("http://x{listing}?PageSize=2&Page=1&PageToken=PA1"))
        );
        for bad in [
            "https://evil.test/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json".to_owned(),
            "//evil.test/x".to_owned(),
            "/2010-04-01/Accounts/AC2/IncomingPhoneNumbers.json?Page=1".to_owned(),
            format!("{listing}/../../x"),
            format!("{listing}x?Page=1"),
            format!("{listing}?Page=1 2"),
        ] {
            assert_eq!(next_page("http://x", listing, &bad), None, "{bad}");
        }
    }

    #[test]
    fn three_providers_list_numbers() {
        let verifier = HttpCredentialVerifier::new(VerifierSettings::default()).expect("valid");
        for slug in IMPORT_PROVIDERS {
            assert!(verifier.lists_numbers(slug));
            assert!(base_url(&verifier.settings, slug).is_some());
        }
        assert!(!verifier.lists_numbers("vonage"));
        let token = SecretString::from("x");
        let credentials = CredentialsToVerify {
            account_sid: "a",
            auth_token: &token,
        };
        assert_eq!(
            verifier.list_numbers("sip", &credentials),
            Err(NumberSourceError::Unsupported)
        );
    }
}
