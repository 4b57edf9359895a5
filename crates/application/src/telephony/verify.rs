//! Verifying a stored configuration's credentials with its provider's API, and
//! recording the outcome (`valid`, `invalid` or `unreachable`) on the configuration
//! with an audit event `verified`, in one transaction.
//!
//! The credential is decrypted here for the call and dropped (zeroized) right after;
//! the outcome carries nothing the provider said.

use switchboard_domain::audit::{AuditAction, AuditChanges, AuditEntry};
use switchboard_domain::shared::RepositoryError;
use switchboard_domain::telephony::{
    CipherError, CredentialsToVerify, ProviderConfig, ProviderConfigId, Verification,
};

use super::{ProviderConfigService, WRITE_ATTEMPTS, WriteOptions, audit_actor, ensure_writer};
use crate::Actor;

/// Why a configuration could not be verified. An answer from the provider, even a
/// refusal, is not an error: it is the recorded outcome.
#[derive(Debug, thiserror::Error)]
pub enum VerifyProviderConfigError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such configuration in this organization")]
    NotFound,
    /// The configuration is no longer at the version the client named.
    #[error("the configuration changed since it was read")]
    PreconditionFailed,
    /// No verification adapter exists for the configuration's provider.
    #[error("credential verification is not available for this provider")]
    Unsupported,
    /// Concurrent writes kept changing the configuration during the check.
    #[error("the configuration kept changing while being verified")]
    Contended,
    /// Fail closed: the stored secret does not open (corrupt, truncated, moved, or
    /// under a key that is not configured); the client must send it again.
    #[error("the stored credentials cannot be opened: {0}")]
    CredentialsUnreadable(CipherError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

impl ProviderConfigService {
    /// Checks the stored credentials of configuration `id` with the provider and
    /// records the outcome. A writer role is needed: the outcome is stored.
    ///
    /// # Errors
    /// [`VerifyProviderConfigError`].
    pub fn verify(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        options: &WriteOptions,
    ) -> Result<ProviderConfig, VerifyProviderConfigError> {
        ensure_writer(actor.role).map_err(|()| VerifyProviderConfigError::PermissionDenied)?;
        for _ in 0..WRITE_ATTEMPTS {
            let current = self
                .repository
                .get(actor.org_id, id)?
                .ok_or(VerifyProviderConfigError::NotFound)?;
            if !options.precondition.admits(current.version) {
                return Err(VerifyProviderConfigError::PreconditionFailed);
            }
            let provider = self.provider(current.provider_id)?;
            if !self.verifier.supports(&provider.slug) {
                return Err(VerifyProviderConfigError::Unsupported);
            }
            let status = {
                let token = self
                    .open_credential(&current)
                    .map_err(VerifyProviderConfigError::CredentialsUnreadable)?;
                let credentials = CredentialsToVerify {
                    account_sid: &current.account_sid,
                    auth_token: &token,
                };
                self.verifier
                    .verify(&provider.slug, &credentials)
                    .map_err(|_| VerifyProviderConfigError::Unsupported)?
            };
            let now = self.clock.now();
            let verification = Verification {
                status,
                checked_at: now,
            };
            let audit = AuditEntry::new(
                audit_actor(actor, options),
                AuditAction::Verified,
                AuditChanges::new().verification(&verification),
                now,
            );
            if let Some(updated) = self.repository.record_verification(
                actor.org_id,
                id,
                &verification,
                current.version,
                &audit,
            )? {
                return Ok(updated);
            }
            // Changed while the provider was asked: the outcome may be about
            // credentials that are gone, so ask again about the current ones.
        }
        Err(VerifyProviderConfigError::Contended)
    }
}
