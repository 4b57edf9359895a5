//! Online key rotation: re-encrypt every stored credential under the primary key,
//! in batches, while the server keeps serving.
//!
//! Each credential is opened with its own binding and sealed again under the primary
//! key, then written back only if the stored blob is still the one that was read
//! (compare-and-set): a credential rotated by a PATCH in the meantime keeps its new
//! value. Every write stands alone, so a killed run loses nothing and running again
//! finishes the job.

use std::sync::Arc;

use switchboard_domain::shared::RepositoryError;
use switchboard_domain::telephony::{
    AUTH_TOKEN_FIELD, AssociatedData, CipherError, CredentialKeyRepository, KeyId,
    ProviderConfigId, SealedCredential, SecretCipher,
};

use crate::telephony::PROVIDER_CONFIG_TABLE;

/// What happened to one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewrapOutcome {
    /// Now sealed under the primary key.
    Rewrapped,
    /// Changed by someone else since it was read: left as it now is.
    ChangedMeanwhile,
    /// Could not be opened (its key is not configured, or it was tampered with).
    Failed(CipherError),
}

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RewrapReport {
    pub examined: u64,
    pub rewrapped: u64,
    pub changed_meanwhile: u64,
    /// Credentials that could not be opened, with the reason (names key ids only).
    pub failed: Vec<(ProviderConfigId, CipherError)>,
}

/// Key rotation use cases.
pub struct KeyRotationService {
    repository: Arc<dyn CredentialKeyRepository>,
    cipher: Arc<dyn SecretCipher>,
}

impl std::fmt::Debug for KeyRotationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRotationService").finish_non_exhaustive()
    }
}

impl KeyRotationService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        repository: Arc<dyn CredentialKeyRepository>,
        cipher: Arc<dyn SecretCipher>,
    ) -> Self {
        Self { repository, cipher }
    }

    /// The key new writes use.
    #[must_use]
    pub fn primary_key_id(&self) -> KeyId {
        self.cipher.primary_key_id()
    }

    /// How many stored secrets each key id protects.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn status(&self) -> Result<Vec<(KeyId, u64)>, RepositoryError> {
        self.repository.key_usage()
    }

    /// Re-encrypts one credential under the primary key, unless it changed since it
    /// was read.
    ///
    /// # Errors
    /// [`RepositoryError`] when the write fails.
    pub fn rewrap_credential(
        &self,
        credential: &SealedCredential,
    ) -> Result<RewrapOutcome, RepositoryError> {
        let binding = AssociatedData::for_field(
            credential.org_id,
            PROVIDER_CONFIG_TABLE,
            &credential.uid,
            AUTH_TOKEN_FIELD,
        );
        let plaintext = match self.cipher.open(&credential.sealed, &binding) {
            Ok(plaintext) => plaintext,
            Err(error) => return Ok(RewrapOutcome::Failed(error)),
        };
        let resealed = match self.cipher.seal(&plaintext, &binding) {
            Ok(sealed) => sealed,
            Err(error) => return Ok(RewrapOutcome::Failed(error)),
        };
        if self
            .repository
            .replace_sealed(credential.id, &credential.sealed, &resealed)?
        {
            Ok(RewrapOutcome::Rewrapped)
        } else {
            Ok(RewrapOutcome::ChangedMeanwhile)
        }
    }

    /// Re-encrypts every credential not under the primary key, `batch_size` at a
    /// time, calling `after_batch` with the running totals after each batch.
    ///
    /// # Errors
    /// [`RepositoryError`]; what was done before the failure stays done.
    pub fn rewrap_all(
        &self,
        batch_size: u32,
        mut after_batch: impl FnMut(&RewrapReport),
    ) -> Result<RewrapReport, RepositoryError> {
        let primary = self.cipher.primary_key_id();
        let mut report = RewrapReport::default();
        let mut cursor = None;
        loop {
            let batch = self
                .repository
                .sealed_not_under(primary, cursor, batch_size.max(1))?;
            let Some(last) = batch.last() else { break };
            cursor = Some(last.id);
            for credential in &batch {
                report.examined += 1;
                match self.rewrap_credential(credential)? {
                    RewrapOutcome::Rewrapped => report.rewrapped += 1,
                    RewrapOutcome::ChangedMeanwhile => report.changed_meanwhile += 1,
                    RewrapOutcome::Failed(error) => {
                        tracing::error!(
                            configuration = credential.id.0,
                            key_id = credential.sealed.key_id().0,
                            %error,
                            "credential could not be re-encrypted"
                        );
                        report.failed.push((credential.id, error));
                    }
                }
            }
            after_batch(&report);
        }
        Ok(report)
    }
}
