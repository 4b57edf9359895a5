//! Key management: re-encrypt every stored credential under the primary key, in
//! batches, while the server keeps serving; check that every stored credential
//! opens; and tell which key ids stored rows use that the keyring lacks.
//!
//! Each credential is opened with its own binding and sealed again under the primary
//! key, then written back only if the stored blob is still the one that was read
//! (compare-and-set): a credential rotated by a PATCH in the meantime keeps its new
//! value. Every write stands alone, so a killed run loses nothing and running again
//! finishes the job. A credential that does not open (malformed bytes, tampering, a
//! key that is not configured) is skipped and reported, never a reason to stop: the
//! other rows still move. A rewrap also moves blobs of format 1 (one `auth_token`,
//! written before credential fields were data) and format 2 (not bound to their
//! credential version) to format 3, under the primary key or not.
//!
//! Credentials are every configuration's current blob and the blobs of its pending
//! and previous versions (staged rotation): rewrap, check and the key counts cover
//! them all. Webhook endpoints' signing secrets (current and previous) are sealed
//! under the same keyring and covered the same way, after the credentials: a key can
//! be retired only once nothing at all is sealed under it.

use std::sync::Arc;

use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::RepositoryError;
use switchboard_domain::telephony::{
    CipherError, CredentialKeyRepository, Credentials, KeyId, ProviderConfigId, SealedCredential,
    SealedSecret, SealedWebhookSecret, SecretCipher, WebhookSecretSlot,
};
use switchboard_domain::webhooks::EndpointId;

use crate::webhooks::secret_binding;

/// What happened to one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewrapOutcome {
    /// Now sealed under the primary key.
    Rewrapped,
    /// Changed by someone else since it was read: left as it now is.
    ChangedMeanwhile,
    /// Could not be opened (malformed, tampered with, or its key is not configured).
    Failed(CipherError),
}

/// A stored credential that does not open, and why (the reason names a key id at
/// most, never bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableCredential {
    pub id: ProviderConfigId,
    pub org_id: OrgId,
    pub reason: CipherError,
}

/// A webhook endpoint's secret that does not open, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableWebhookSecret {
    pub endpoint: EndpointId,
    pub slot: WebhookSecretSlot,
    pub org_id: OrgId,
    pub reason: CipherError,
}

impl UnreadableWebhookSecret {
    fn of(secret: &SealedWebhookSecret, reason: CipherError) -> Self {
        Self {
            endpoint: secret.endpoint,
            slot: secret.slot,
            org_id: secret.org_id,
            reason,
        }
    }
}

/// Totals of a rewrap run (credentials and webhook secrets alike in the counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RewrapReport {
    pub examined: u64,
    pub rewrapped: u64,
    pub changed_meanwhile: u64,
    /// Credentials that could not be opened: skipped, left as they are.
    pub failed: Vec<UnreadableCredential>,
    /// Webhook secrets that could not be opened: skipped, left as they are.
    pub failed_webhook_secrets: Vec<UnreadableWebhookSecret>,
}

impl RewrapReport {
    /// Everything skipped because it did not open.
    #[must_use]
    pub fn failed_count(&self) -> usize {
        self.failed.len() + self.failed_webhook_secrets.len()
    }
}

/// Totals of a check of every stored secret (credentials and webhook secrets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub examined: u64,
    pub unreadable: Vec<UnreadableCredential>,
    pub unreadable_webhook_secrets: Vec<UnreadableWebhookSecret>,
}

impl CheckReport {
    /// How many stored secrets do not open.
    #[must_use]
    pub fn unreadable_count(&self) -> usize {
        self.unreadable.len() + self.unreadable_webhook_secrets.len()
    }
}

/// Which key ids stored rows use, and which of those the keyring lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCoverage {
    /// Secrets per key id, as stored.
    pub usage: Vec<(KeyId, u64)>,
    /// The used key ids that are not configured, with their secret counts.
    pub missing: Vec<(KeyId, u64)>,
}

impl KeyCoverage {
    /// Whether every key id a stored row uses is configured.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// `key 2 (28 secrets), key 5 (1 secret)`: ids and counts, never key bytes.
    #[must_use]
    pub fn describe_missing(&self) -> String {
        self.missing
            .iter()
            .map(|(id, count)| {
                let noun = if *count == 1 { "secret" } else { "secrets" };
                format!("key {id} ({count} {noun})")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Key management use cases.
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

    /// Every configured key id.
    #[must_use]
    pub fn configured_key_ids(&self) -> Vec<KeyId> {
        self.cipher.key_ids()
    }

    /// How many stored secrets each key id protects.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn status(&self) -> Result<Vec<(KeyId, u64)>, RepositoryError> {
        self.repository.key_usage()
    }

    /// The key ids stored rows use, and those of them the keyring lacks (one
    /// counting query; nothing is decrypted).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn coverage(&self) -> Result<KeyCoverage, RepositoryError> {
        let usage = self.repository.key_usage()?;
        let configured = self.cipher.key_ids();
        let missing = usage
            .iter()
            .filter(|(id, count)| *count > 0 && !configured.contains(id))
            .copied()
            .collect();
        Ok(KeyCoverage { usage, missing })
    }

    /// Opens every secret of a stored credential (format 1 or 2).
    fn open(
        &self,
        credential: &SealedCredential,
    ) -> Result<std::collections::BTreeMap<String, secrecy::SecretString>, CipherError> {
        let names: Vec<&str> = credential.secret_names.iter().map(String::as_str).collect();
        if names.is_empty() {
            // Nothing names the secrets the blob is bound to: it cannot open.
            return Err(CipherError::Authentication);
        }
        Credentials::open(
            &credential.stored,
            &names,
            self.cipher.as_ref(),
            credential.org_id,
            &credential.uid,
            credential.version,
        )
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
        let secrets = match self.open(credential) {
            Ok(secrets) => secrets,
            Err(error) => return Ok(RewrapOutcome::Failed(error)),
        };
        let resealed = match Credentials::seal(
            &secrets,
            self.cipher.as_ref(),
            credential.org_id,
            &credential.uid,
            credential.version,
        ) {
            Ok(sealed) => sealed,
            Err(error) => return Ok(RewrapOutcome::Failed(error)),
        };
        if self
            .repository
            .replace_sealed(credential.slot, &credential.stored, &resealed)?
        {
            Ok(RewrapOutcome::Rewrapped)
        } else {
            Ok(RewrapOutcome::ChangedMeanwhile)
        }
    }

    /// Re-encrypts every credential not under the primary key, `batch_size` at a
    /// time, calling `after_batch` with the running totals after each batch. A
    /// credential that does not open is skipped, logged and reported in `failed`.
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
        // First every credential under another key, then those under the primary
        // key still in an older format.
        let mut cursor = None;
        loop {
            let batch = self
                .repository
                .sealed_not_under(primary, cursor, batch_size.max(1))?;
            let Some(last) = batch.last() else { break };
            cursor = Some(last.slot);
            for credential in &batch {
                self.rewrap_into(credential, &mut report)?;
            }
            after_batch(&report);
        }
        let mut cursor = None;
        loop {
            let batch = self
                .repository
                .stored_credentials(cursor, batch_size.max(1))?;
            let Some(last) = batch.last() else { break };
            cursor = Some(last.slot);
            let mut moved = false;
            for credential in batch.iter().filter(|credential| {
                credential.stored.parse().is_ok_and(|sealed| {
                    sealed.format() != SealedSecret::FORMAT_V3 && sealed.key_id() == primary
                })
            }) {
                moved = true;
                self.rewrap_into(credential, &mut report)?;
            }
            if moved {
                after_batch(&report);
            }
        }
        // Then webhook secrets under another key.
        let mut cursor = None;
        loop {
            let batch = self.repository.webhook_secrets(cursor, batch_size.max(1))?;
            let Some(last) = batch.last() else { break };
            cursor = Some(last.endpoint);
            let mut moved = false;
            for secret in batch.iter().filter(|secret| {
                secret
                    .stored
                    .parse()
                    .map_or(true, |sealed| sealed.key_id() != primary)
            }) {
                moved = true;
                self.rewrap_webhook_secret_into(secret, &mut report)?;
            }
            if moved {
                after_batch(&report);
            }
        }
        Ok(report)
    }

    /// Re-encrypts one webhook secret under the primary key unless it changed since
    /// it was read, and counts the outcome in `report`.
    fn rewrap_webhook_secret_into(
        &self,
        secret: &SealedWebhookSecret,
        report: &mut RewrapReport,
    ) -> Result<(), RepositoryError> {
        report.examined += 1;
        let binding = secret_binding(secret.org_id, &secret.uid);
        let resealed = self
            .open_webhook_secret(secret)
            .and_then(|plain| self.cipher.seal(&plain, &binding));
        let resealed = match resealed {
            Ok(resealed) => resealed,
            Err(reason) => {
                tracing::error!(
                    endpoint = secret.endpoint.0,
                    organization = secret.org_id.0,
                    reason = %reason,
                    "webhook secret could not be re-encrypted: skipped"
                );
                report
                    .failed_webhook_secrets
                    .push(UnreadableWebhookSecret::of(secret, reason));
                return Ok(());
            }
        };
        if self.repository.replace_webhook_secret(
            secret.endpoint,
            secret.slot,
            &secret.stored,
            &resealed,
        )? {
            report.rewrapped += 1;
        } else {
            report.changed_meanwhile += 1;
        }
        Ok(())
    }

    /// Opens a webhook secret with its endpoint's binding.
    fn open_webhook_secret(
        &self,
        secret: &SealedWebhookSecret,
    ) -> Result<secrecy::SecretString, CipherError> {
        let sealed = secret.stored.parse()?;
        self.cipher
            .open(&sealed, &secret_binding(secret.org_id, &secret.uid))
    }

    /// Rewraps one credential and counts the outcome in `report`.
    fn rewrap_into(
        &self,
        credential: &SealedCredential,
        report: &mut RewrapReport,
    ) -> Result<(), RepositoryError> {
        report.examined += 1;
        match self.rewrap_credential(credential)? {
            RewrapOutcome::Rewrapped => report.rewrapped += 1,
            RewrapOutcome::ChangedMeanwhile => report.changed_meanwhile += 1,
            RewrapOutcome::Failed(reason) => {
                tracing::error!(
                    configuration = credential.id.0,
                    organization = credential.org_id.0,
                    reason = %reason,
                    "credential could not be re-encrypted: skipped"
                );
                report.failed.push(UnreadableCredential {
                    id: credential.id,
                    org_id: credential.org_id,
                    reason,
                });
            }
        }
        Ok(())
    }

    /// Opens every stored credential, `batch_size` at a time (nothing is written),
    /// calling `after_batch` with the running totals after each batch.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn check_all(
        &self,
        batch_size: u32,
        mut after_batch: impl FnMut(&CheckReport),
    ) -> Result<CheckReport, RepositoryError> {
        let mut report = CheckReport::default();
        let mut cursor = None;
        loop {
            let batch = self
                .repository
                .stored_credentials(cursor, batch_size.max(1))?;
            let Some(last) = batch.last() else { break };
            cursor = Some(last.slot);
            for credential in &batch {
                report.examined += 1;
                if let Err(reason) = self.open(credential) {
                    report.unreadable.push(UnreadableCredential {
                        id: credential.id,
                        org_id: credential.org_id,
                        reason,
                    });
                }
            }
            after_batch(&report);
        }
        let mut cursor = None;
        loop {
            let batch = self.repository.webhook_secrets(cursor, batch_size.max(1))?;
            let Some(last) = batch.last() else { break };
            cursor = Some(last.endpoint);
            for secret in &batch {
                report.examined += 1;
                if let Err(reason) = self.open_webhook_secret(secret) {
                    report
                        .unreadable_webhook_secrets
                        .push(UnreadableWebhookSecret::of(secret, reason));
                }
            }
            after_batch(&report);
        }
        Ok(report)
    }
}
