//! Staged rotation (contract section 12): start a rotation (the new secrets stored
//! as the pending version), ask the provider about it, promote it (the former
//! current stays valid as `previous` for a window), cancel it, end the overlap, and
//! the sweeper's erasure of previous versions whose window ended.
//!
//! Each step writes its audit entry (and so its change event) in the transaction of
//! the change. Secrets are sealed here, bound to their credential version, and never
//! leave this module but through [`RotationService::live_previous`] (for reveal and
//! signature checks, which keep them inside the service or reveal them to a token
//! allowed to see them).

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::SecretString;
use switchboard_domain::audit::{AuditAction, AuditActor, AuditChanges, AuditEntry};
use switchboard_domain::shared::{RepositoryError, Timestamp, ValidationErrors};
use switchboard_domain::telephony::{
    CipherError, CredentialRotationRepository, Credentials, CredentialsToVerify,
    DEFAULT_KEEP_PREVIOUS_SECONDS, ErasedVersion, MAX_KEEP_PREVIOUS_SECONDS, NewRotation,
    PromoteOutcome, Promotion, ProviderConfig, ProviderConfigChanges, ProviderConfigDraft,
    ProviderConfigId, Rotation, RotationId, StageChange, StartOutcome, Verification,
    VerificationStatus, last4,
};

use crate::Actor;
use crate::telephony::{
    GetProviderConfigError, ProviderConfigService, UpdateProviderConfigError, WriteOptions,
    audit_actor, ensure_writer,
};

/// Start attempts when the credentials keep changing under the start.
const START_ATTEMPTS: usize = 5;

/// Why a rotation could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartRotationError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such configuration in this organization")]
    NotFound,
    /// Another rotation of the configuration is pending.
    #[error("a rotation is already pending")]
    RotationPending,
    /// The change needs the stored secrets (it keeps those it does not send) and
    /// they do not open.
    #[error("the stored credentials cannot be opened: {0}")]
    CredentialsUnreadable(CipherError),
    #[error("sealing the credential failed: {0}")]
    Encryption(CipherError),
    /// The credentials kept changing while the rotation was being started.
    #[error("the configuration kept changing")]
    Contended,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why rotations could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListRotationsError {
    #[error("no such configuration in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a pending version could not be verified. A provider's refusal is not an
/// error: it is the recorded verdict.
#[derive(Debug, thiserror::Error)]
pub enum VerifyRotationError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such rotation of this configuration")]
    NotFound,
    /// Promoted or cancelled already.
    #[error("the rotation is not pending")]
    NotPending,
    #[error("credential verification is not available for this provider")]
    Unsupported,
    #[error("the pending credentials cannot be opened: {0}")]
    CredentialsUnreadable(CipherError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a rotation could not be promoted.
#[derive(Debug, thiserror::Error)]
pub enum PromoteRotationError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such rotation of this configuration")]
    NotFound,
    #[error("the rotation is not pending")]
    NotPending,
    /// `require_verified` and the provider's last verdict is not `valid`.
    #[error("the pending version is not verified")]
    NotVerified,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a rotation could not be cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelRotationError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such rotation of this configuration")]
    NotFound,
    #[error("the rotation is not pending")]
    NotPending,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why an overlap could not be ended.
#[derive(Debug, thiserror::Error)]
pub enum EndPreviousError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such configuration in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// How a promotion is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromoteOptions {
    /// Seconds the former current stays valid as `previous` (0: erased at once).
    pub keep_previous_for_seconds: i64,
    /// Refuse unless the provider's last verdict on the pending version is `valid`.
    pub require_verified: bool,
}

impl Default for PromoteOptions {
    fn default() -> Self {
        Self {
            keep_previous_for_seconds: DEFAULT_KEEP_PREVIOUS_SECONDS,
            require_verified: false,
        }
    }
}

/// A started rotation and the configuration it belongs to.
#[derive(Debug, Clone)]
pub struct StartedRotation {
    pub rotation: Rotation,
    pub config: ProviderConfig,
}

/// A live previous version, opened: every secret by catalog name, its primary
/// secret, and when it stops being valid. `Debug` shows neither.
pub struct PreviousSecrets {
    pub version: i64,
    pub secrets: BTreeMap<String, SecretString>,
    pub primary: Option<SecretString>,
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for PreviousSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviousSecrets")
            .field("version", &self.version)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Staged rotation use cases.
pub struct RotationService {
    configs: Arc<ProviderConfigService>,
    repository: Arc<dyn CredentialRotationRepository>,
}

impl std::fmt::Debug for RotationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotationService").finish_non_exhaustive()
    }
}

impl RotationService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        configs: Arc<ProviderConfigService>,
        repository: Arc<dyn CredentialRotationRepository>,
    ) -> Self {
        Self {
            configs,
            repository,
        }
    }

    fn entry(
        &self,
        actor: &Actor,
        options: &WriteOptions,
        action: AuditAction,
        changes: AuditChanges,
    ) -> AuditEntry {
        AuditEntry::new(
            audit_actor(actor, options),
            action,
            changes,
            self.configs.clock().now(),
        )
    }

    /// Starts a rotation of configuration `id`: `draft` carries the secret fields
    /// that change (the names and rules of a PATCH; other secrets are kept), stored
    /// sealed as the pending version.
    ///
    /// # Errors
    /// [`StartRotationError`]; `Validation` also for a public field or no secret.
    pub fn start(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        draft: ProviderConfigDraft,
        options: &WriteOptions,
    ) -> Result<StartedRotation, StartRotationError> {
        let catalog = self.configs.catalog();
        let changes = ProviderConfigChanges::validate_shapes(draft, catalog)
            .map_err(StartRotationError::Validation)?;
        ensure_writer(actor.role).map_err(|()| StartRotationError::PermissionDenied)?;
        for _ in 0..START_ATTEMPTS {
            let current = self.configs.get(actor, id).map_err(|error| match error {
                GetProviderConfigError::NotFound => StartRotationError::NotFound,
                GetProviderConfigError::Repository(error) => error.into(),
            })?;
            let provider = self.configs.provider(current.provider_id)?;
            let sent = changes
                .check_against(provider, catalog)
                .map_err(StartRotationError::Validation)?;
            let mut errors = ValidationErrors::new();
            for name in sent.public.keys() {
                errors.add(
                    name,
                    "only secret fields rotate; change other fields with PATCH",
                );
            }
            if sent.public.is_empty() && sent.secrets.is_empty() {
                errors.add(
                    switchboard_domain::shared::NON_FIELD_ERRORS,
                    "Send at least one secret field of the provider.",
                );
            }
            errors
                .into_result()
                .map_err(StartRotationError::Validation)?;
            let secrets = self
                .configs
                .merged_secrets(provider, &current, &sent)
                .map_err(|error| match error {
                    UpdateProviderConfigError::CredentialsUnreadable(error) => {
                        StartRotationError::CredentialsUnreadable(error)
                    }
                    UpdateProviderConfigError::Repository(error) => error.into(),
                    other => {
                        StartRotationError::Repository(RepositoryError::Internal(other.to_string()))
                    }
                })?;
            let version = current.credential_version + 1;
            let sealed = Credentials::seal(
                &secrets,
                self.configs.cipher(),
                current.org_id,
                &current.uid,
                version,
            )
            .map_err(StartRotationError::Encryption)?;
            let secret_last4: BTreeMap<String, String> = secrets
                .iter()
                .map(|(name, secret)| (name.clone(), last4(secret)))
                .collect();
            let primary = secret_last4
                .get(&provider.primary_secret().name)
                .cloned()
                .unwrap_or_else(|| "****".to_owned());
            let mut audit_changes = AuditChanges::new();
            for name in sent.secrets.keys() {
                audit_changes = audit_changes.field(name);
            }
            let audit_changes =
                audit_changes.auth_token_last4(Some(&current.auth_token_last4), Some(&primary));
            let audit = self.entry(actor, options, AuditAction::RotationStarted, audit_changes);
            let new = NewRotation {
                from_version: current.credential_version,
                sealed,
                secret_last4,
                auth_token_last4: primary,
                created_at: audit.at,
            };
            match self.repository.start(actor.org_id, id, &new, &audit)? {
                StartOutcome::Started(rotation) => {
                    return Ok(StartedRotation {
                        rotation,
                        config: current,
                    });
                }
                StartOutcome::NotFound => return Err(StartRotationError::NotFound),
                StartOutcome::AlreadyPending => return Err(StartRotationError::RotationPending),
                // A PATCH changed the secrets meanwhile: merge with the new ones.
                StartOutcome::Changed => {}
            }
        }
        Err(StartRotationError::Contended)
    }

    /// Every rotation of configuration `id`, newest first.
    ///
    /// # Errors
    /// [`ListRotationsError`].
    pub fn list(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
    ) -> Result<Vec<Rotation>, ListRotationsError> {
        self.repository
            .list(actor.org_id, id)?
            .ok_or(ListRotationsError::NotFound)
    }

    /// Asks the provider about the pending version of rotation `rotation` and
    /// records the verdict (`valid`, `invalid` or `unreachable`).
    ///
    /// # Errors
    /// [`VerifyRotationError`].
    pub fn verify(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        rotation: RotationId,
        options: &WriteOptions,
    ) -> Result<Rotation, VerifyRotationError> {
        ensure_writer(actor.role).map_err(|()| VerifyRotationError::PermissionDenied)?;
        let config = self.configs.get(actor, id).map_err(|error| match error {
            GetProviderConfigError::NotFound => VerifyRotationError::NotFound,
            GetProviderConfigError::Repository(error) => error.into(),
        })?;
        let (_, pending) = self
            .repository
            .get(actor.org_id, id, rotation)?
            .ok_or(VerifyRotationError::NotFound)?;
        let pending = pending.ok_or(VerifyRotationError::NotPending)?;
        let provider = self.configs.provider(config.provider_id)?;
        let verifier = self.configs.verifier();
        if !verifier.supports(&provider.slug) {
            return Err(VerifyRotationError::Unsupported);
        }
        let status = {
            let mut secrets = Credentials::open(
                &pending.sealed,
                &pending.secret_names(),
                self.configs.cipher(),
                config.org_id,
                &config.uid,
                pending.version,
            )
            .map_err(VerifyRotationError::CredentialsUnreadable)?;
            let token = secrets.remove(&provider.primary_secret().name).ok_or(
                VerifyRotationError::CredentialsUnreadable(CipherError::Authentication),
            )?;
            verifier
                .verify(
                    &provider.slug,
                    &CredentialsToVerify {
                        account_sid: &config.account_sid,
                        auth_token: &token,
                    },
                )
                .map_err(|_| VerifyRotationError::Unsupported)?
        };
        let verification = Verification {
            status,
            checked_at: self.configs.clock().now(),
        };
        let audit = self.entry(
            actor,
            options,
            AuditAction::RotationVerified,
            AuditChanges::new().verification(&verification),
        );
        self.repository
            .record_verification(actor.org_id, id, rotation, &verification, &audit)?
            .ok_or(VerifyRotationError::NotPending)
    }

    /// Promotes rotation `rotation`: its version becomes current, the former current
    /// stays valid as `previous` for `keep_previous_for_seconds` (a live previous is
    /// retired at once).
    ///
    /// # Errors
    /// [`PromoteRotationError`].
    pub fn promote(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        rotation: RotationId,
        promote: PromoteOptions,
        options: &WriteOptions,
    ) -> Result<(ProviderConfig, Rotation), PromoteRotationError> {
        if !(0..=MAX_KEEP_PREVIOUS_SECONDS).contains(&promote.keep_previous_for_seconds) {
            return Err(PromoteRotationError::Validation(ValidationErrors::single(
                "keep_previous_for_seconds",
                "must be an integer from 0 to 604800",
            )));
        }
        ensure_writer(actor.role).map_err(|()| PromoteRotationError::PermissionDenied)?;
        let mut refused = false;
        let outcome = {
            let mut plan = |config: &ProviderConfig, pending: &Rotation| {
                let verified = pending
                    .verification
                    .is_some_and(|verification| verification.status == VerificationStatus::Valid);
                if promote.require_verified && !verified {
                    refused = true;
                    return None;
                }
                let now = self.configs.clock().now();
                let previous_expires_at = (promote.keep_previous_for_seconds > 0)
                    .then(|| now + chrono::Duration::seconds(promote.keep_previous_for_seconds));
                let new_last4 = self
                    .configs
                    .provider(config.provider_id)
                    .ok()
                    .and_then(|provider| pending.secret_last4.get(&provider.primary_secret().name))
                    .cloned();
                let changes = AuditChanges::new()
                    .field("auth_token")
                    .auth_token_last4(Some(&config.auth_token_last4), new_last4.as_deref())
                    .detail(
                        "keep_previous_for_seconds",
                        promote.keep_previous_for_seconds,
                    );
                let mut audit = self.entry(actor, options, AuditAction::RotationPromoted, changes);
                audit.at = now;
                let mut retired_audit = self.entry(
                    actor,
                    options,
                    AuditAction::PreviousExpired,
                    AuditChanges::new().detail("reason", "superseded"),
                );
                retired_audit.at = now;
                Some(Promotion {
                    previous_expires_at,
                    at: now,
                    audit,
                    retired_audit,
                })
            };
            self.repository
                .promote(actor.org_id, id, rotation, &mut plan)?
        };
        match outcome {
            PromoteOutcome::Promoted(promoted) => Ok(*promoted),
            PromoteOutcome::NotFound => Err(PromoteRotationError::NotFound),
            PromoteOutcome::NotPending => Err(PromoteRotationError::NotPending),
            PromoteOutcome::Declined if refused => Err(PromoteRotationError::NotVerified),
            PromoteOutcome::Declined => Err(PromoteRotationError::NotPending),
        }
    }

    /// Cancels pending rotation `rotation` and erases its version.
    ///
    /// # Errors
    /// [`CancelRotationError`].
    pub fn cancel(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        rotation: RotationId,
        options: &WriteOptions,
    ) -> Result<(), CancelRotationError> {
        ensure_writer(actor.role).map_err(|()| CancelRotationError::PermissionDenied)?;
        let audit = self.entry(
            actor,
            options,
            AuditAction::RotationCancelled,
            AuditChanges::new().detail("reason", "cancelled"),
        );
        match self
            .repository
            .cancel(actor.org_id, id, rotation, audit.at, &audit)?
        {
            StageChange::Done => Ok(()),
            StageChange::NotFound => Err(CancelRotationError::NotFound),
            StageChange::NothingToDo => Err(CancelRotationError::NotPending),
        }
    }

    /// Ends the overlap of configuration `id` now: its live previous version is
    /// erased. Nothing to end is not an error.
    ///
    /// # Errors
    /// [`EndPreviousError`].
    pub fn end_previous(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        options: &WriteOptions,
    ) -> Result<(), EndPreviousError> {
        ensure_writer(actor.role).map_err(|()| EndPreviousError::PermissionDenied)?;
        let audit = self.entry(
            actor,
            options,
            AuditAction::PreviousExpired,
            AuditChanges::new().detail("reason", "ended"),
        );
        match self
            .repository
            .end_previous(actor.org_id, id, audit.at, &audit)?
        {
            StageChange::Done | StageChange::NothingToDo => Ok(()),
            StageChange::NotFound => Err(EndPreviousError::NotFound),
        }
    }

    /// Until when the live previous version of configuration `id` of the actor's
    /// organization stays valid (`None`: there is none). Opens nothing (for pages
    /// that show the overlap).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn previous_until(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
    ) -> Result<Option<Timestamp>, RepositoryError> {
        let now = self.configs.clock().now();
        Ok(self
            .repository
            .live_previous(actor.org_id, id, now)?
            .and_then(|previous| previous.expires_at))
    }

    /// The live previous version of `config`, opened (for reveal and signature
    /// checks). `Ok(None)` when there is none (an expired one not yet swept is none).
    ///
    /// # Errors
    /// [`RepositoryError`]; `Internal` when the version does not open (logged).
    pub fn live_previous(
        &self,
        config: &ProviderConfig,
    ) -> Result<Option<PreviousSecrets>, RepositoryError> {
        let now = self.configs.clock().now();
        let Some(previous) = self
            .repository
            .live_previous(config.org_id, config.id, now)?
        else {
            return Ok(None);
        };
        let secrets = Credentials::open(
            &previous.sealed,
            &previous.secret_names(),
            self.configs.cipher(),
            config.org_id,
            &config.uid,
            previous.version,
        )
        .map_err(|error| {
            tracing::warn!(
                configuration = config.id.0,
                organization = config.org_id.0,
                reason = %error,
                "the previous credential version cannot be opened"
            );
            RepositoryError::Internal("the previous credential version cannot be opened".into())
        })?;
        let primary = self
            .configs
            .catalog()
            .by_id(config.provider_id)
            .and_then(|provider| secrets.get(&provider.primary_secret().name).cloned());
        Ok(Some(PreviousSecrets {
            version: previous.version,
            primary,
            secrets,
            expires_at: previous.expires_at,
        }))
    }

    /// Erases every previous version whose window ended (the sweeper's step; safe
    /// from several replicas at once), each with its audit entry and event
    /// `previous_expired`. Returns how many were erased.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn sweep(&self) -> Result<usize, RepositoryError> {
        let now = self.configs.clock().now();
        let audit_of = |erased: &ErasedVersion| {
            AuditEntry::new(
                AuditActor::default(),
                AuditAction::PreviousExpired,
                AuditChanges::new()
                    .detail("reason", "expired")
                    .detail("previous_version", erased.version),
                now,
            )
        };
        Ok(self.repository.sweep_expired(now, &audit_of)?.len())
    }
}
