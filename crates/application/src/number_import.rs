//! Number import (contract sections 11 and 16): the phone numbers of the provider
//! account behind a configuration become the organization's numbers, linked to that
//! configuration. A use of the configuration's secret: it takes a cell of the
//! token's secret-use bucket, and the secret is opened only for the provider calls.
//!
//! Order of refusals: role (403), then the use's cell (429), the configuration's
//! existence (404), a provider without a number listing (400), an inactive
//! configuration or unreadable secrets (409), and last what the provider answers
//! (502). Running an import twice adds nothing; numbers the organization had already
//! are counted as existing and left as they are.

use std::sync::Arc;

use switchboard_domain::audit::{AuditAction, AuditActor, AuditChanges, AuditEntry};
use switchboard_domain::shared::{Clock, RepositoryError};
use switchboard_domain::telephony::{
    CredentialsToVerify, ImportOutcome, ImportStoreError, NumberImportStore, NumberSource,
    NumberSourceError, ProviderConfigId, importable_numbers,
};

use crate::credential_use::{CredentialUseService, RevealError, UseContext};
use crate::identity::Actor;
use crate::telephony::{GetProviderConfigError, ProviderConfigService};

/// Why numbers could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportNumbersError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    /// The configuration's provider has no number listing here.
    #[error("number import is not available for this provider")]
    Unsupported,
    /// The provider could not be asked, or its answer was refused or unreadable.
    #[error("the provider's numbers could not be read: {0}")]
    Provider(NumberSourceError),
    /// Not found, inactive, unreadable, or over the secret-use limit.
    #[error(transparent)]
    Use(#[from] RevealError),
}

impl From<RepositoryError> for ImportNumbersError {
    fn from(error: RepositoryError) -> Self {
        Self::Use(error.into())
    }
}

/// Imports the numbers of provider accounts.
pub struct NumberImportService {
    configs: Arc<ProviderConfigService>,
    uses: Arc<CredentialUseService>,
    source: Arc<dyn NumberSource>,
    store: Arc<dyn NumberImportStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for NumberImportService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberImportService")
            .finish_non_exhaustive()
    }
}

impl NumberImportService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        configs: Arc<ProviderConfigService>,
        uses: Arc<CredentialUseService>,
        source: Arc<dyn NumberSource>,
        store: Arc<dyn NumberImportStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            configs,
            uses,
            source,
            store,
            clock,
        }
    }

    /// Reads the numbers of configuration `id`'s provider account and adds the
    /// missing ones to the actor's organization, linked to the configuration, with
    /// an audit event `numbers_imported` (who, which token, which request; how many
    /// numbers were created, existed or were skipped).
    ///
    /// # Errors
    /// [`ImportNumbersError`]; nothing is written unless the provider's whole
    /// listing was read.
    pub fn import(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        context: &UseContext,
    ) -> Result<ImportOutcome, ImportNumbersError> {
        if !actor.role.can_write() {
            return Err(ImportNumbersError::PermissionDenied);
        }
        self.uses
            .limits()
            .take(actor)
            .map_err(|error| ImportNumbersError::Use(error.into()))?;
        let config = self.configs.get(actor, id).map_err(|error| match error {
            GetProviderConfigError::NotFound => ImportNumbersError::Use(RevealError::NotFound),
            GetProviderConfigError::Repository(error) => error.into(),
        })?;
        let slug = self
            .configs
            .catalog()
            .by_id(config.provider_id)
            .map(|provider| provider.slug.clone())
            .unwrap_or_default();
        if !self.source.lists_numbers(&slug) {
            return Err(ImportNumbersError::Unsupported);
        }
        let listed = {
            let revealed = self.uses.unseal(config)?;
            let credentials = CredentialsToVerify {
                account_sid: &revealed.config.account_sid,
                auth_token: &revealed.auth_token,
            };
            self.source
                .list_numbers(&slug, &credentials)
                .map_err(ImportNumbersError::Provider)?
            // The secrets are dropped (zeroized) here.
        };
        let (numbers, skipped) = importable_numbers(&listed);
        let entry = AuditEntry::new(
            AuditActor {
                user_id: Some(actor.user_id),
                token_id: Some(actor.token_id),
                request_id: context.request_id.clone(),
            },
            AuditAction::NumbersImported,
            AuditChanges::new().detail("skipped", skipped),
            self.clock.now(),
        );
        let numbers = self
            .store
            .import_numbers(actor.org_id, id, &numbers, &entry)
            .map_err(|error| match error {
                ImportStoreError::ConfigNotFound => ImportNumbersError::Use(RevealError::NotFound),
                ImportStoreError::ConfigInactive => ImportNumbersError::Use(RevealError::Inactive),
                ImportStoreError::Repository(error) => error.into(),
            })?;
        Ok(ImportOutcome { numbers, skipped })
    }
}
