//! Telephony use cases: the provider catalog and the lifecycle of provider
//! configurations (create, list, get, update with credential rotation, delete), and
//! the internal reveal of a stored credential for adapters that must use it.
//!
//! Each operation checks, in the contract's order: field shapes, role, existence,
//! the stored provider's format rules, conflicts. Credentials are sealed here, before
//! they reach the repository, bound to their organization, row and field.

use std::sync::Arc;

use secrecy::SecretString;
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::shared::{
    Clock, Page, PageRequest, RepositoryError, ValidationErrors, WriteError,
};
use switchboard_domain::telephony::{
    AUTH_TOKEN_FIELD, AssociatedData, BridgeConnection, CipherError, ConfigDeletion,
    CreateProviderConfig, NewProviderConfig, ProviderCatalog, ProviderCatalogRepository,
    ProviderConfig, ProviderConfigChanges, ProviderConfigDraft, ProviderConfigFilter,
    ProviderConfigId, ProviderConfigRepository, ProviderConfigUpdate, SecretCipher,
    auth_token_last4,
};

use crate::Actor;

/// Table name bound into the associated data of configuration credentials.
pub const PROVIDER_CONFIG_TABLE: &str = "provider_configurations";

/// Why a configuration could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateProviderConfigError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("a configuration for this provider and account SID already exists")]
    Duplicate,
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
    #[error("a configuration for this provider and account SID already exists")]
    Duplicate,
    #[error("sealing the credential failed: {0}")]
    Encryption(CipherError),
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
}

impl std::fmt::Debug for ProviderConfigService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfigService")
            .finish_non_exhaustive()
    }
}

impl ProviderConfigService {
    /// Loads the catalog once and wires the service.
    ///
    /// # Errors
    /// [`LoadCatalogError`] when the catalog cannot be read or compiled.
    pub fn new(
        catalog: &dyn ProviderCatalogRepository,
        repository: Arc<dyn ProviderConfigRepository>,
        cipher: Arc<dyn SecretCipher>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LoadCatalogError> {
        let catalog = ProviderCatalog::from_records(catalog.providers()?)
            .map_err(LoadCatalogError::Invalid)?;
        Ok(Self {
            repository,
            cipher,
            catalog: Arc::new(catalog),
            clock,
        })
    }

    /// The provider catalog.
    #[must_use]
    pub fn catalog(&self) -> &ProviderCatalog {
        &self.catalog
    }

    /// Creates a configuration, sealing its credential.
    ///
    /// # Errors
    /// [`CreateProviderConfigError`].
    pub fn create(
        &self,
        actor: &Actor,
        draft: ProviderConfigDraft,
    ) -> Result<ProviderConfig, CreateProviderConfigError> {
        let create = CreateProviderConfig::validate(draft, &self.catalog)
            .map_err(CreateProviderConfigError::Validation)?;
        ensure_writer(actor.role).map_err(|()| CreateProviderConfigError::PermissionDenied)?;
        let uid = uuid::Uuid::new_v4().to_string();
        let sealed = self
            .cipher
            .seal(&create.auth_token, &binding(actor.org_id, &uid))
            .map_err(CreateProviderConfigError::Encryption)?;
        let new = NewProviderConfig {
            uid,
            org_id: actor.org_id,
            provider_id: create.provider_id,
            name: create.name,
            account_sid: create.account_sid,
            auth_token: sealed,
            auth_token_last4: auth_token_last4(&create.auth_token),
            active: create.active,
            base_url: create.base_url,
            sip_url: create.sip_url,
            meta_json: create.meta_json,
            created_at: self.clock.now(),
        };
        self.repository.insert(&new).map_err(|error| match error {
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

    /// Changes a configuration; a new `auth_token` replaces the old one at once.
    ///
    /// # Errors
    /// [`UpdateProviderConfigError`].
    pub fn update(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        draft: ProviderConfigDraft,
    ) -> Result<ProviderConfig, UpdateProviderConfigError> {
        let changes = ProviderConfigChanges::validate_shapes(draft)
            .map_err(UpdateProviderConfigError::Validation)?;
        ensure_writer(actor.role).map_err(|()| UpdateProviderConfigError::PermissionDenied)?;
        let current = self
            .repository
            .get(actor.org_id, id)?
            .ok_or(UpdateProviderConfigError::NotFound)?;
        let provider = self.catalog.by_id(current.provider_id).ok_or_else(|| {
            UpdateProviderConfigError::Repository(RepositoryError::Internal(
                "stored configuration names a provider missing from the catalog".into(),
            ))
        })?;
        changes
            .check_against(provider, &self.catalog)
            .map_err(UpdateProviderConfigError::Validation)?;
        let auth_token = match &changes.auth_token {
            None => None,
            Some(token) => Some((
                self.cipher
                    .seal(token, &binding(actor.org_id, &current.uid))
                    .map_err(UpdateProviderConfigError::Encryption)?,
                auth_token_last4(token),
            )),
        };
        let update = ProviderConfigUpdate {
            name: changes.name,
            account_sid: changes.account_sid,
            auth_token,
            active: changes.active,
            base_url: changes.base_url,
            sip_url: changes.sip_url,
            meta_json: changes.meta_json,
            updated_at: Some(self.clock.now()),
        };
        match self.repository.update(actor.org_id, id, &update) {
            Ok(Some(updated)) => Ok(updated),
            Ok(None) => Err(UpdateProviderConfigError::NotFound),
            Err(WriteError::Duplicate) => Err(UpdateProviderConfigError::Duplicate),
            Err(WriteError::Repository(error)) => Err(UpdateProviderConfigError::Repository(error)),
        }
    }

    /// Deletes a configuration unless a bridge number is connected to it (checked and
    /// deleted in one transaction).
    ///
    /// # Errors
    /// [`DeleteProviderConfigError`]; `InUse` lists the connections to remove first.
    pub fn delete(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
    ) -> Result<(), DeleteProviderConfigError> {
        ensure_writer(actor.role).map_err(|()| DeleteProviderConfigError::PermissionDenied)?;
        match self.repository.delete_unless_connected(actor.org_id, id)? {
            ConfigDeletion::Deleted => Ok(()),
            ConfigDeletion::NotFound => Err(DeleteProviderConfigError::NotFound),
            ConfigDeletion::InUse(connections) => {
                Err(DeleteProviderConfigError::InUse(connections))
            }
        }
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
        self.cipher
            .open(&config.auth_token, &binding(config.org_id, &config.uid))
            .map_err(RevealCredentialError::Decryption)
    }
}

fn binding(org: OrgId, uid: &str) -> AssociatedData {
    AssociatedData::for_field(org, PROVIDER_CONFIG_TABLE, uid, AUTH_TOKEN_FIELD)
}

fn ensure_writer(role: Role) -> Result<(), ()> {
    if role.can_write() { Ok(()) } else { Err(()) }
}
