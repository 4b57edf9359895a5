//! Number import (contract sections 11 and 16): the phone numbers a provider account
//! holds, read from the provider's API with a stored configuration's credentials,
//! become the organization's numbers, linked to that configuration.
//!
//! Two ports: [`NumberSource`] reads an account's numbers (an HTTP adapter per
//! provider), and [`NumberImportStore`] adds the missing ones in one transaction,
//! with their change events and the import's audit event. Running an import twice
//! adds nothing: numbers the organization already has are counted as existing and
//! left as they are (an import links only the numbers it creates). This module
//! knows nothing of HTTP or storage.

use std::fmt;

use super::{CredentialsToVerify, E164, PhoneNumber, ProviderConfigId};
use crate::audit::AuditEntry;
use crate::identity::OrgId;
use crate::shared::RepositoryError;

/// Most numbers one import reads (a provider answering more is a provider error:
/// nothing is imported).
pub const MAX_IMPORTED_NUMBERS: usize = 10_000;

/// Why a provider's numbers could not be read. Nothing the provider said is kept:
/// its answer body may echo what it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberSourceError {
    /// No number listing exists here for this provider.
    #[error("number import is not available for this provider")]
    Unsupported,
    /// The provider answered with a status other than 2xx.
    #[error("the provider answered {0}")]
    Status(u16),
    /// The provider could not be reached, or did not answer in time (the kind of
    /// failure: `timeout`, `connection`, ...).
    #[error("the provider could not be reached ({0})")]
    Unreachable(&'static str),
    /// The answer was not the listing expected (not JSON, missing fields, a next
    /// page that leaves the provider's API, a page loop).
    #[error("the provider's answer is not a number listing ({0})")]
    Malformed(&'static str),
    /// The account holds more numbers than one import reads.
    #[error("the account holds more than {MAX_IMPORTED_NUMBERS} numbers")]
    TooMany,
}

/// Reads the phone numbers of a provider account (blocking calls, each bounded by
/// the adapter's timeout).
pub trait NumberSource: Send + Sync {
    /// Whether numbers can be read for the provider with catalog slug `provider`.
    fn lists_numbers(&self, provider: &str) -> bool;

    /// Every number of the account, as the provider writes them (the caller keeps
    /// the strict E.164 ones), following the provider's pages.
    ///
    /// # Errors
    /// [`NumberSourceError`].
    fn list_numbers(
        &self,
        provider: &str,
        credentials: &CredentialsToVerify<'_>,
    ) -> Result<Vec<String>, NumberSourceError>;
}

/// A source that knows no provider (the default until an adapter is wired).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNumberSource;

impl NumberSource for NoNumberSource {
    fn lists_numbers(&self, _provider: &str) -> bool {
        false
    }

    fn list_numbers(
        &self,
        _provider: &str,
        _credentials: &CredentialsToVerify<'_>,
    ) -> Result<Vec<String>, NumberSourceError> {
        Err(NumberSourceError::Unsupported)
    }
}

/// One number of an import: the stored number, and whether this import created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedNumber {
    pub number: PhoneNumber,
    pub created: bool,
}

/// Why the numbers could not be stored. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportStoreError {
    /// The configuration is gone (deleted by a concurrent request).
    #[error("no such configuration in this organization")]
    ConfigNotFound,
    /// The configuration was deactivated by a concurrent request.
    #[error("the configuration is inactive")]
    ConfigInactive,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Stores imported numbers.
pub trait NumberImportStore: Send + Sync {
    /// In one transaction: checks that configuration `config` of `org` exists and is
    /// active, adds each of `numbers` that `org` does not have yet, linked to
    /// `config` (with a `number.imported` change event each), and records `audit`
    /// (about `config`). A number that exists already, or that a concurrent request
    /// adds first (the unique constraint decides), is returned with `created:
    /// false`, unchanged. Numbers come back in the order given.
    ///
    /// # Errors
    /// [`ImportStoreError`].
    fn import_numbers(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        numbers: &[E164],
        audit: &AuditEntry,
    ) -> Result<Vec<ImportedNumber>, ImportStoreError>;
}

/// The numbers of a provider's listing that are strict E.164, in order, without
/// repeats, and how many were left out. Plivo writes numbers without their `+`: a
/// text of digits only gains one.
#[must_use]
pub fn importable_numbers(listed: &[String]) -> (Vec<E164>, usize) {
    let mut numbers: Vec<E164> = Vec::with_capacity(listed.len());
    let mut seen = std::collections::HashSet::new();
    let mut skipped = 0;
    for text in listed {
        let text = text.trim();
        let candidate = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            format!("+{text}")
        } else {
            text.to_owned()
        };
        match E164::parse(&candidate) {
            Ok(number) => {
                if seen.insert(number.clone()) {
                    numbers.push(number);
                }
            }
            Err(_) => skipped += 1,
        }
    }
    (numbers, skipped)
}

/// What an import did, for its answer.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub numbers: Vec<ImportedNumber>,
    /// Listed numbers that are not strict E.164 (short codes, malformed).
    pub skipped: usize,
}

impl ImportOutcome {
    /// How many numbers the import created.
    #[must_use]
    pub fn imported(&self) -> usize {
        self.numbers.iter().filter(|number| number.created).count()
    }

    /// How many listed numbers the organization had already.
    #[must_use]
    pub fn existing(&self) -> usize {
        self.numbers.len() - self.imported()
    }
}

impl fmt::Debug for ImportOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportOutcome")
            .field("imported", &self.imported())
            .field("existing", &self.existing())
            .field("skipped", &self.skipped)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_keep_strict_e164_numbers_once() {
        let listed: Vec<String> = [
            "+14155550100",
            "14155550101",
            "+14155550100",
            "12345",
            "+1 415 555 0102",
            "",
            "+04155550100",
        ]
        .map(str::to_owned)
        .to_vec();
        let (numbers, skipped) = importable_numbers(&listed);
        assert_eq!(
            numbers.iter().map(E164::as_str).collect::<Vec<_>>(),
            ["+14155550100", "+14155550101"]
        );
        assert_eq!(skipped, 4);
    }

    #[test]
    fn errors_carry_nothing_from_the_provider() {
        assert_eq!(
            NumberSourceError::Status(500).to_string(),
            "the provider answered 500"
        );
        assert!(
            NoNumberSource
                .list_numbers(
                    "twilio",
                    &CredentialsToVerify {
                        account_sid: "AC1",
                        auth_token: &secrecy::SecretString::from("x"),
                    }
                )
                .is_err()
        );
    }
}
