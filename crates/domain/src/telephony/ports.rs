//! Ports of the telephony context: the catalog and the configuration repository.

use serde_json::{Map, Value};

use super::{
    ConfigDeletion, ProviderConfig, ProviderConfigId, ProviderId, ProviderRecord, SealedSecret,
};
use crate::identity::OrgId;
use crate::shared::{Page, PageRequest, RepositoryError, Timestamp, WriteError};

/// Reads the provider catalog (seeded by migrations).
pub trait ProviderCatalogRepository: Send + Sync {
    /// Every catalog row, in display order.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn providers(&self) -> Result<Vec<ProviderRecord>, RepositoryError>;
}

/// A configuration to insert; the credential is already sealed.
#[derive(Debug, Clone)]
pub struct NewProviderConfig {
    pub uid: String,
    pub org_id: OrgId,
    pub provider_id: ProviderId,
    pub name: String,
    pub account_sid: String,
    pub auth_token: SealedSecret,
    pub auth_token_last4: String,
    pub active: bool,
    pub base_url: Option<String>,
    pub sip_url: Option<String>,
    pub meta_json: Map<String, Value>,
    pub created_at: Timestamp,
}

/// The columns a change sets; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct ProviderConfigUpdate {
    pub name: Option<String>,
    pub account_sid: Option<String>,
    pub auth_token: Option<(SealedSecret, String)>,
    pub active: Option<bool>,
    pub base_url: Option<Option<String>>,
    pub sip_url: Option<Option<String>>,
    pub meta_json: Option<Map<String, Value>>,
    pub updated_at: Option<Timestamp>,
}

/// List filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProviderConfigFilter {
    pub provider_id: Option<ProviderId>,
    pub active: Option<bool>,
}

/// Storage of provider configurations. Every method is scoped to one organization:
/// another organization's id behaves exactly like an unknown id.
pub trait ProviderConfigRepository: Send + Sync {
    /// Inserts a configuration.
    ///
    /// # Errors
    /// [`WriteError::Duplicate`] when the organization already has one for the same
    /// provider and account SID (case-insensitive), also under a race.
    fn insert(&self, config: &NewProviderConfig) -> Result<ProviderConfig, WriteError>;

    /// One page of the organization's configurations, newest first, and the total.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn list(
        &self,
        org: OrgId,
        filter: ProviderConfigFilter,
        page: PageRequest,
    ) -> Result<Page<ProviderConfig>, RepositoryError>;

    /// The configuration `id` of `org`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn get(
        &self,
        org: OrgId,
        id: ProviderConfigId,
    ) -> Result<Option<ProviderConfig>, RepositoryError>;

    /// Applies `update` (and increments the version); `Ok(None)` when `org` has no
    /// configuration `id`.
    ///
    /// # Errors
    /// [`WriteError::Duplicate`] when a new account SID collides.
    fn update(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        update: &ProviderConfigUpdate,
    ) -> Result<Option<ProviderConfig>, WriteError>;

    /// Deletes the configuration; `Ok(false)` when `org` has no configuration `id`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete(&self, org: OrgId, id: ProviderConfigId) -> Result<bool, RepositoryError>;

    /// Deletes the configuration unless a bridge number is connected to it, checking
    /// and deleting in one transaction so that a racing connect cannot leave a
    /// connection to a deleted configuration.
    ///
    /// The default suits stores that know no bridges: a plain [`Self::delete`].
    /// Stores that hold connections must override it.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete_unless_connected(
        &self,
        org: OrgId,
        id: ProviderConfigId,
    ) -> Result<ConfigDeletion, RepositoryError> {
        Ok(if self.delete(org, id)? {
            ConfigDeletion::Deleted
        } else {
            ConfigDeletion::NotFound
        })
    }
}
