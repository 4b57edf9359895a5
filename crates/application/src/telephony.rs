//! Telephony use cases: the provider catalog and the lifecycle of provider
//! configurations (create, list, get, update with credential rotation, delete,
//! verification against the provider's API), and the internal reveal of a stored
//! credential for adapters that must use it.
//!
//! Each operation checks, in the contract's order: field shapes, role, existence,
//! the client's `If-Match` precondition, the stored provider's format rules,
//! conflicts. Credentials are sealed here, before they reach the repository, bound
//! to their organization, row and field. Every write hands the repository its audit
//! event, so both commit together, and writes compare-and-set on the version they
//! read, so that of two changes made from one version exactly one succeeds.

mod verify;

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::SecretString;
use switchboard_domain::audit::{AuditAction, AuditActor, AuditChanges, AuditEntry};
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::precondition::Precondition;
use switchboard_domain::shared::{
    Clock, Page, PageRequest, RepositoryError, ValidationErrors, WriteError,
};
use switchboard_domain::telephony::{
    BridgeConnection, CREDENTIALS_TABLE, CipherError, ConfigDeletion, CreateProviderConfig,
    CredentialVerifier, Credentials, CredentialsToVerify, NewProviderConfig, NoCredentialVerifier,
    Provider, ProviderCatalog, ProviderCatalogRepository, ProviderConfig, ProviderConfigChanges,
    ProviderConfigDraft, ProviderConfigFilter, ProviderConfigId, ProviderConfigRepository,
    ProviderConfigUpdate, SecretCipher, Verification, VerificationStatus, last4,
};

pub use self::verify::VerifyProviderConfigError;
use crate::Actor;

/// Table name bound into the associated data of configuration credentials.
pub const PROVIDER_CONFIG_TABLE: &str = CREDENTIALS_TABLE;

/// Compare-and-set attempts of one write before it gives up as contended (only
/// writes without a client precondition retry: with one, a lost race is a 412).
const WRITE_ATTEMPTS: usize = 5;

/// How a write is carried out: the request it comes from (recorded in the audit
/// trail), the client's precondition on the version (`If-Match`), and whether to
/// check the credentials with the provider before saving (`?verify=true`).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub request_id: Option<String>,
    pub precondition: Precondition,
    pub verify: bool,
}

/// Why credentials could not be confirmed with the provider before saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialCheckFailure {
    /// The provider refused them (401, 403 or 404 from its API).
    #[error("the provider rejected the credentials")]
    Rejected,
    /// The provider did not answer in time, or answered with an error of its own.
    #[error("the provider could not be reached")]
    Unreachable,
    /// No verification adapter exists for this provider.
    #[error("credential verification is not available for this provider")]
    Unsupported,
}

/// Why a configuration could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateProviderConfigError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("a configuration for this provider and account SID already exists")]
    Duplicate,
    #[error("{0}")]
    Verification(CredentialCheckFailure),
    #[error("sealing the credential failed: {0}")]
    Encryption(CipherError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why configurations could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListProviderConfigsError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetProviderConfigError {
    #[error("no such configuration in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a configuration could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateProviderConfigError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such configuration in this organization")]
    NotFound,
    /// The configuration is no longer at the version the client named.
    #[error("the configuration changed since it was read")]
    PreconditionFailed,
    #[error("a configuration for this provider and account SID already exists")]
    Duplicate,
    #[error("{0}")]
    Verification(CredentialCheckFailure),
    /// Concurrent writes kept changing the configuration under this one.
    #[error("the configuration kept changing while being updated")]
    Contended,
    #[error("sealing the credential failed: {0}")]
    Encryption(CipherError),
    /// The change needs the stored secret (to check it with the provider), and the
    /// stored secret does not open (corrupt, truncated, or under a key that is not
    /// configured): the client must send every secret again.
    #[error("the stored credentials cannot be opened: {0}")]
    CredentialsUnreadable(CipherError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a configuration could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteProviderConfigError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such configuration in this organization")]
    NotFound,
    /// Bridge numbers are connected to it (sorted by bridge slug, then number):
    /// disconnect them first.
    #[error("the configuration is connected to {} bridge number(s)", .0.len())]
    InUse(Vec<BridgeConnection>),
    /// The configuration is no longer at the version the client named.
    #[error("the configuration changed since it was read")]
    PreconditionFailed,
    /// Concurrent writes kept changing the configuration under this one.
    #[error("the configuration kept changing while being deleted")]
    Contended,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a stored credential could not be revealed.
#[derive(Debug, thiserror::Error)]
pub enum RevealCredentialError {
    #[error("no such configuration in this organization")]
    NotFound,
    /// Fail closed: unknown key, tampered or moved blob.
    #[error("opening the credential failed: {0}")]
    Decryption(CipherError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why the catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadCatalogError {
    #[error("catalog is invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// List query: provider slug or id, active flag, page.
#[derive(Debug, Clone, Default)]
pub struct ListProviderConfigsQuery {
    pub provider: Option<String>,
    pub active: Option<bool>,
    pub page: PageRequest,
}

/// Provider configuration use cases.
pub struct ProviderConfigService {
    repository: Arc<dyn ProviderConfigRepository>,
    cipher: Arc<dyn SecretCipher>,
    catalog: Arc<ProviderCatalog>,
    clock: Arc<dyn Clock>,
    verifier: Arc<dyn CredentialVerifier>,
}

impl std::fmt::Debug for ProviderConfigService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfigService")
            .finish_non_exhaustive()
    }
}

impl ProviderConfigService {
    /// Wires the service with the provider catalog compiled into the binary, after
    /// checking that storage holds each of its entries under the same id and slug
    /// (`migrate` and every start write them).
    ///
    /// # Errors
    /// [`LoadCatalogError`] when the catalog cannot be read, or storage lacks an entry.
    pub fn new(
        catalog: &dyn ProviderCatalogRepository,
        repository: Arc<dyn ProviderConfigRepository>,
        cipher: Arc<dyn SecretCipher>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LoadCatalogError> {
        let builtin = ProviderCatalog::builtin().map_err(LoadCatalogError::Invalid)?;
        let stored = catalog.providers()?;
        for provider in builtin.all() {
            if !stored
                .iter()
                .any(|row| row.id == provider.id && row.slug == provider.slug)
            {
                return Err(LoadCatalogError::Invalid(format!(
                    "provider {} (id {}) is not in the database; run switchboard-admin migrate",
                    provider.slug, provider.id.0
                )));
            }
        }
        Ok(Self::with_catalog(builtin, repository, cipher, clock))
    }

    /// Wires the service with `catalog` (tests use small catalogs of their own).
    #[must_use]
    pub fn with_catalog(
        catalog: ProviderCatalog,
        repository: Arc<dyn ProviderConfigRepository>,
        cipher: Arc<dyn SecretCipher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repository,
            cipher,
            catalog: Arc::new(catalog),
            clock,
            verifier: Arc::new(NoCredentialVerifier),
        }
    }

    /// Uses `verifier` to check credentials with their provider (without one, no
    /// provider can be verified).
    #[must_use]
    pub fn with_verifier(mut self, verifier: Arc<dyn CredentialVerifier>) -> Self {
        self.verifier = verifier;
        self
    }

    /// The provider catalog.
    #[must_use]
    pub fn catalog(&self) -> &ProviderCatalog {
        &self.catalog
    }

    /// The first step of a create: field shapes, the provider and its format rules.
    /// Needs no storage, so that an edge can run it before anything else.
    ///
    /// # Errors
    /// [`CreateProviderConfigError::Validation`].
    pub fn check_create(
        &self,
        draft: ProviderConfigDraft,
    ) -> Result<CreateProviderConfig, CreateProviderConfigError> {
        CreateProviderConfig::validate(draft, &self.catalog)
            .map_err(CreateProviderConfigError::Validation)
    }

    /// The rest of a create, from a checked request: role, the optional check with
    /// the provider, then the insert and its audit event.
    ///
    /// # Errors
    /// [`CreateProviderConfigError`].
    pub fn create_checked(
        &self,
        actor: &Actor,
        create: CreateProviderConfig,
        options: &WriteOptions,
    ) -> Result<ProviderConfig, CreateProviderConfigError> {
        ensure_writer(actor.role).map_err(|()| CreateProviderConfigError::PermissionDenied)?;
        let provider = self.provider(create.provider_id)?;
        let primary = create
            .credentials
            .primary_secret(provider)
            .cloned()
            .ok_or_else(|| {
                RepositoryError::Internal("a checked create lacks its primary secret".into())
            })?;
        let verification = if options.verify {
            Some(
                self.confirm_credentials(provider, &create.account_sid, &primary)
                    .map_err(CreateProviderConfigError::Verification)?,
            )
        } else {
            None
        };
        let uid = uuid::Uuid::new_v4().to_string();
        let sealed = Credentials::seal(
            &create.credentials.secrets,
            self.cipher.as_ref(),
            actor.org_id,
            &uid,
            1,
        )
        .map_err(CreateProviderConfigError::Encryption)?;
        let now = self.clock.now();
        let new = NewProviderConfig {
            uid,
            org_id: actor.org_id,
            provider_id: create.provider_id,
            name: create.name,
            account_sid: create.account_sid,
            auth_token: sealed,
            auth_token_last4: last4(&primary),
            secret_last4: create.credentials.secret_last4(),
            public_fields: create.credentials.public,
            active: create.active,
            base_url: create.base_url,
            sip_url: create.sip_url,
            meta_json: create.meta_json,
            verification,
            created_at: now,
        };
        let audit = AuditEntry::new(
            audit_actor(actor, options),
            AuditAction::Created,
            AuditChanges::of_create(&new),
            now,
        );
        self.repository
            .insert(&new, &audit)
            .map_err(|error| match error {
                WriteError::Duplicate => CreateProviderConfigError::Duplicate,
                WriteError::Repository(error) => CreateProviderConfigError::Repository(error),
            })
    }

    /// One page of the organization's configurations, newest first.
    ///
    /// # Errors
    /// [`ListProviderConfigsError::Validation`] for an unknown provider filter.
    pub fn list(
        &self,
        actor: &Actor,
        query: &ListProviderConfigsQuery,
    ) -> Result<Page<ProviderConfig>, ListProviderConfigsError> {
        let provider_id = match &query.provider {
            None => None,
            Some(reference) => Some(
                self.catalog
                    .by_slug(reference)
                    .or_else(|| {
                        reference.parse::<i64>().ok().and_then(|id| {
                            self.catalog
                                .by_id(switchboard_domain::telephony::ProviderId(id))
                        })
                    })
                    .map(|provider| provider.id)
                    .ok_or_else(|| {
                        ListProviderConfigsError::Validation(ValidationErrors::single(
                            "provider",
                            "must be the slug of a provider in the catalog",
                        ))
                    })?,
            ),
        };
        let filter = ProviderConfigFilter {
            provider_id,
            active: query.active,
        };
        Ok(self.repository.list(actor.org_id, filter, query.page)?)
    }

    /// The configuration `id` of the actor's organization.
    ///
    /// # Errors
    /// [`GetProviderConfigError::NotFound`] also for another organization's id.
    pub fn get(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
    ) -> Result<ProviderConfig, GetProviderConfigError> {
        self.repository
            .get(actor.org_id, id)?
            .ok_or(GetProviderConfigError::NotFound)
    }

    /// Changes a configuration; a new `auth_token` replaces the old one at once. New
    /// credentials clear the stored verification, unless `options.verify` checks them
    /// first (a refusal then saves nothing).
    ///
    /// # Errors
    /// [`UpdateProviderConfigError`]; `PreconditionFailed` when the configuration
    /// is not at a version `options.precondition` admits, also when another write
    /// won a race from the same version.
    pub fn update_with(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        draft: ProviderConfigDraft,
        options: &WriteOptions,
    ) -> Result<ProviderConfig, UpdateProviderConfigError> {
        let changes = ProviderConfigChanges::validate_shapes(draft, &self.catalog)
            .map_err(UpdateProviderConfigError::Validation)?;
        ensure_writer(actor.role).map_err(|()| UpdateProviderConfigError::PermissionDenied)?;
        if !options.verify {
            return self.update_locked(actor, id, &changes, options);
        }
        // A check with the provider cannot run while the row is locked: read, check,
        // then compare-and-set, and start again when another write came in between.
        for _ in 0..WRITE_ATTEMPTS {
            let current = self
                .repository
                .get(actor.org_id, id)?
                .ok_or(UpdateProviderConfigError::NotFound)?;
            let (update, audit) = self.plan_update(actor, &current, &changes, options, true)?;
            match self.repository.update(actor.org_id, id, &update, &audit) {
                Ok(Some(updated)) => return Ok(updated),
                // Changed or deleted since it was read: the next round decides.
                Ok(None) => {}
                Err(WriteError::Duplicate) => return Err(UpdateProviderConfigError::Duplicate),
                Err(WriteError::Repository(error)) => {
                    return Err(UpdateProviderConfigError::Repository(error));
                }
            }
        }
        Err(UpdateProviderConfigError::Contended)
    }

    /// An update without a check with the provider: the change is planned from the
    /// configuration as it stands under the write lock, so concurrent writes queue
    /// instead of failing each other (no `Contended` here; a precondition is checked
    /// against the locked row).
    fn update_locked(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        changes: &ProviderConfigChanges,
        options: &WriteOptions,
    ) -> Result<ProviderConfig, UpdateProviderConfigError> {
        let mut refusal: Option<UpdateProviderConfigError> = None;
        let mut plan = |current: &ProviderConfig| match self
            .plan_update(actor, current, changes, options, false)
        {
            Ok(planned) => Some(planned),
            Err(error) => {
                refusal = Some(error);
                None
            }
        };
        match self.repository.update_locked(actor.org_id, id, &mut plan) {
            Ok(Some(updated)) => Ok(updated),
            Ok(None) => Err(refusal.unwrap_or(UpdateProviderConfigError::NotFound)),
            Err(WriteError::Duplicate) => Err(UpdateProviderConfigError::Duplicate),
            Err(WriteError::Repository(error)) => Err(UpdateProviderConfigError::Repository(error)),
        }
    }

    /// The row change and audit entry that apply `changes` to `current`. With
    /// `check_with_provider` the resulting credentials are checked with the provider
    /// first (a refusal is an error) and the outcome is stored; without, new
    /// credentials clear the stored verification.
    fn plan_update(
        &self,
        actor: &Actor,
        current: &ProviderConfig,
        changes: &ProviderConfigChanges,
        options: &WriteOptions,
        check_with_provider: bool,
    ) -> Result<(ProviderConfigUpdate, AuditEntry), UpdateProviderConfigError> {
        if !options.precondition.admits(current.version) {
            return Err(UpdateProviderConfigError::PreconditionFailed);
        }
        let provider = self.provider(current.provider_id)?;
        let sent = changes
            .check_against(provider, &self.catalog)
            .map_err(UpdateProviderConfigError::Validation)?;
        let account_sid = sent.identifier(provider).map(str::to_owned);
        // The whole set of secrets after the change, when the change sends any.
        let secrets = if sent.secrets.is_empty() {
            None
        } else {
            Some(self.merged_secrets(provider, current, &sent)?)
        };
        let verification = if check_with_provider {
            let token = match &secrets {
                Some(secrets) => secrets.get(&provider.primary_secret().name).cloned(),
                None => Some(
                    self.open_credential(current)
                        .map_err(UpdateProviderConfigError::CredentialsUnreadable)?,
                ),
            }
            .ok_or_else(|| {
                RepositoryError::Internal("the configuration lacks its primary secret".into())
            })?;
            let account_sid = account_sid.as_deref().unwrap_or(&current.account_sid);
            Some(Some(
                self.confirm_credentials(provider, account_sid, &token)
                    .map_err(UpdateProviderConfigError::Verification)?,
            ))
        } else {
            // The stored outcome was about the old credentials.
            changes.touches_credentials().then_some(None)
        };
        let (auth_token, secret_last4) = match &secrets {
            None => (None, None),
            Some(secrets) => {
                // The new set is the next credential version (the repository counts
                // it up in the same write).
                let sealed = Credentials::seal(
                    secrets,
                    self.cipher.as_ref(),
                    actor.org_id,
                    &current.uid,
                    current.credential_version + 1,
                )
                .map_err(UpdateProviderConfigError::Encryption)?;
                let last4s: BTreeMap<String, String> = secrets
                    .iter()
                    .map(|(name, secret)| (name.clone(), last4(secret)))
                    .collect();
                let primary = last4s
                    .get(&provider.primary_secret().name)
                    .cloned()
                    .unwrap_or_else(|| "****".to_owned());
                (Some((sealed, primary)), Some(last4s))
            }
        };
        let public_fields = (!sent.public.is_empty()).then(|| {
            let mut public = current.public_fields.clone();
            public.extend(sent.public.clone());
            public
        });
        let now = self.clock.now();
        let update = ProviderConfigUpdate {
            name: changes.name.clone(),
            account_sid,
            auth_token,
            secret_last4,
            public_fields,
            active: changes.active,
            base_url: changes.base_url.clone(),
            sip_url: changes.sip_url.clone(),
            meta_json: changes.meta_json.clone(),
            verification,
            updated_at: Some(now),
            expected_version: Some(current.version),
        };
        let (action, audit_changes) = AuditChanges::of_update(current, &update);
        let audit = AuditEntry::new(audit_actor(actor, options), action, audit_changes, now);
        Ok((update, audit))
    }

    /// Deletes a configuration unless a bridge number is connected to it (checked and
    /// deleted in one transaction). Its audit events stay.
    ///
    /// # Errors
    /// [`DeleteProviderConfigError`]; `PreconditionFailed` as for updates.
    pub fn delete_with(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        options: &WriteOptions,
    ) -> Result<(), DeleteProviderConfigError> {
        ensure_writer(actor.role).map_err(|()| DeleteProviderConfigError::PermissionDenied)?;
        for _ in 0..WRITE_ATTEMPTS {
            let current = self
                .repository
                .get(actor.org_id, id)?
                .ok_or(DeleteProviderConfigError::NotFound)?;
            if !options.precondition.admits(current.version) {
                return Err(DeleteProviderConfigError::PreconditionFailed);
            }
            let audit = AuditEntry::new(
                audit_actor(actor, options),
                AuditAction::Deleted,
                AuditChanges::new(),
                self.clock.now(),
            );
            match self.repository.delete_unless_connected(
                actor.org_id,
                id,
                Some(current.version),
                &audit,
            )? {
                ConfigDeletion::Deleted => return Ok(()),
                ConfigDeletion::InUse(connections) => {
                    return Err(DeleteProviderConfigError::InUse(connections));
                }
                // Gone, or changed since it was read: look again.
                ConfigDeletion::NotFound => {}
            }
        }
        Err(DeleteProviderConfigError::Contended)
    }

    /// Decrypts the stored credential of a configuration, for internal use
    /// (verification, re-encryption, bridges). Never exposed over HTTP.
    ///
    /// # Errors
    /// [`RevealCredentialError::Decryption`] when the blob does not open under its
    /// own binding (moved between rows or organizations, tampered, or its key is
    /// not configured).
    pub fn reveal_credential(
        &self,
        org: OrgId,
        id: ProviderConfigId,
    ) -> Result<SecretString, RevealCredentialError> {
        let config = self
            .repository
            .get(org, id)?
            .ok_or(RevealCredentialError::NotFound)?;
        self.open_credential(&config)
            .map_err(RevealCredentialError::Decryption)
    }

    /// Decrypts every stored secret of a configuration, by catalog name, for
    /// internal use (reveal, signature checks, access tokens, rotation).
    ///
    /// # Errors
    /// As [`Self::reveal_credential`].
    pub fn reveal_secrets(
        &self,
        org: OrgId,
        id: ProviderConfigId,
    ) -> Result<BTreeMap<String, SecretString>, RevealCredentialError> {
        let config = self
            .repository
            .get(org, id)?
            .ok_or(RevealCredentialError::NotFound)?;
        self.open_secrets(&config)
            .map_err(RevealCredentialError::Decryption)
    }

    /// Opens the primary secret of `config` (see [`Self::open_secrets`]).
    pub(crate) fn open_credential(
        &self,
        config: &ProviderConfig,
    ) -> Result<SecretString, CipherError> {
        let mut secrets = self.open_secrets(config)?;
        let primary = self
            .catalog
            .by_id(config.provider_id)
            .map(|provider| provider.primary_secret().name.clone());
        primary
            .and_then(|name| secrets.remove(&name))
            .or_else(|| secrets.into_values().next())
            .ok_or(CipherError::Authentication)
    }

    /// Opens every stored secret of `config`: the stored bytes are parsed here, at
    /// use, and nowhere else. A failure is logged once, naming the configuration, its
    /// organization and the reason (a key id at most, never bytes), so that an
    /// operator can find the row (`switchboard-admin keys check` lists them all).
    pub(crate) fn open_secrets(
        &self,
        config: &ProviderConfig,
    ) -> Result<BTreeMap<String, SecretString>, CipherError> {
        Credentials::open(
            &config.auth_token,
            &config.secret_names(),
            self.cipher.as_ref(),
            config.org_id,
            &config.uid,
            config.credential_version,
        )
        .inspect_err(|error| {
            tracing::warn!(
                configuration = config.id.0,
                organization = config.org_id.0,
                reason = %error,
                "stored credentials cannot be opened; the client must send every secret again, \
                 or the key must be configured (switchboard-admin keys check lists such rows)"
            );
        })
    }

    /// Every secret after a change that sends `sent.secrets`: the stored ones with
    /// the sent ones replacing theirs. When the change sends every stored secret and
    /// every required one, nothing needs opening; when the stored set does not open,
    /// the change must send every required secret and then replaces the whole set.
    pub(crate) fn merged_secrets(
        &self,
        provider: &Provider,
        current: &ProviderConfig,
        sent: &Credentials,
    ) -> Result<BTreeMap<String, SecretString>, UpdateProviderConfigError> {
        let all_required = provider
            .secret_fields()
            .filter(|field| field.required)
            .all(|field| sent.secrets.contains_key(&field.name));
        let covers_stored = current
            .secret_last4
            .keys()
            .all(|name| sent.secrets.contains_key(name));
        if all_required && covers_stored {
            return Ok(sent.secrets.clone());
        }
        let mut merged = match self.open_secrets(current) {
            Ok(stored) => stored,
            Err(_) if all_required => BTreeMap::new(),
            Err(error) => return Err(UpdateProviderConfigError::CredentialsUnreadable(error)),
        };
        merged.extend(sent.secrets.clone());
        Ok(merged)
    }
}

impl ProviderConfigService {
    /// The cipher that seals and opens credentials.
    pub(crate) fn cipher(&self) -> &dyn SecretCipher {
        self.cipher.as_ref()
    }

    /// The clock of every write.
    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The provider verification adapter.
    pub(crate) fn verifier(&self) -> &dyn CredentialVerifier {
        self.verifier.as_ref()
    }

    /// The catalog entry of a stored configuration's provider.
    pub(crate) fn provider(
        &self,
        id: switchboard_domain::telephony::ProviderId,
    ) -> Result<&Provider, RepositoryError> {
        self.catalog.by_id(id).ok_or_else(|| {
            RepositoryError::Internal(
                "stored configuration names a provider missing from the catalog".into(),
            )
        })
    }

    /// Asks the provider about credentials that are about to be saved; only a
    /// `valid` answer lets the write go on.
    fn confirm_credentials(
        &self,
        provider: &Provider,
        account_sid: &str,
        auth_token: &SecretString,
    ) -> Result<Verification, CredentialCheckFailure> {
        let credentials = CredentialsToVerify {
            account_sid,
            auth_token,
        };
        match self.verifier.verify(&provider.slug, &credentials) {
            Err(_) => Err(CredentialCheckFailure::Unsupported),
            Ok(VerificationStatus::Invalid) => Err(CredentialCheckFailure::Rejected),
            Ok(VerificationStatus::Unreachable) => Err(CredentialCheckFailure::Unreachable),
            Ok(status @ VerificationStatus::Valid) => Ok(Verification {
                status,
                checked_at: self.clock.now(),
            }),
        }
    }
}

/// Who the audit trail names for a write by `actor`.
pub(crate) fn audit_actor(actor: &Actor, options: &WriteOptions) -> AuditActor {
    AuditActor {
        user_id: Some(actor.user_id),
        token_id: Some(actor.token_id),
        request_id: options.request_id.clone(),
    }
}

pub(crate) fn ensure_writer(role: Role) -> Result<(), ()> {
    if role.can_write() { Ok(()) } else { Err(()) }
}
