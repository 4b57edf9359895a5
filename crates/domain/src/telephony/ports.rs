//! Ports of the telephony context: the catalog and the configuration repository.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    ConfigDeletion, ProviderConfig, ProviderConfigId, ProviderId, ProviderRecord, SealedSecret,
    Verification,
};
use crate::audit::AuditEntry;
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

/// A configuration to insert; the secrets are already sealed (one blob).
#[derive(Debug, Clone)]
pub struct NewProviderConfig {
    pub uid: String,
    pub org_id: OrgId,
    pub provider_id: ProviderId,
    pub name: String,
    /// The identifier's value (compared for duplicates without case).
    pub account_sid: String,
    /// Every secret, sealed together.
    pub auth_token: SealedSecret,
    /// The primary secret's last four.
    pub auth_token_last4: String,
    /// Every non-secret credential field, by catalog name.
    pub public_fields: Map<String, Value>,
    /// The last four of every sealed secret, by catalog name.
    pub secret_last4: BTreeMap<String, String>,
    pub active: bool,
    pub base_url: Option<String>,
    pub sip_url: Option<String>,
    pub meta_json: Map<String, Value>,
    /// Set when the credentials were verified before saving.
    pub verification: Option<Verification>,
    pub created_at: Timestamp,
}

/// The columns a change sets; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct ProviderConfigUpdate {
    pub name: Option<String>,
    pub account_sid: Option<String>,
    /// A new sealed set of secrets and the primary secret's last four; the
    /// credential version goes up by one.
    pub auth_token: Option<(SealedSecret, String)>,
    /// The last four of every secret of the new sealed set (with `auth_token`).
    pub secret_last4: Option<BTreeMap<String, String>>,
    /// Every non-secret credential field after the change.
    pub public_fields: Option<Map<String, Value>>,
    pub active: Option<bool>,
    pub base_url: Option<Option<String>>,
    pub sip_url: Option<Option<String>>,
    pub meta_json: Option<Map<String, Value>>,
    /// `Some(None)` clears the stored verification (the credentials changed).
    pub verification: Option<Option<Verification>>,
    /// The time of the change (the application's clock); `None` leaves the stored
    /// one, like every other field here.
    pub updated_at: Option<Timestamp>,
    /// Compare-and-set: apply only while the stored version equals this one.
    pub expected_version: Option<i64>,
}

/// List filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProviderConfigFilter {
    pub provider_id: Option<ProviderId>,
    pub active: Option<bool>,
}

/// Storage of provider configurations. Every method is scoped to one organization:
/// another organization's id behaves exactly like an unknown id. Every write records
/// its audit event in the same transaction, naming the configuration by id.
pub trait ProviderConfigRepository: Send + Sync {
    /// Inserts a configuration and its `audit` event.
    ///
    /// # Errors
    /// [`WriteError::Duplicate`] when the organization already has one for the same
    /// provider and account SID (case-insensitive), also under a race.
    fn insert(
        &self,
        config: &NewProviderConfig,
        audit: &AuditEntry,
    ) -> Result<ProviderConfig, WriteError>;

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

    /// Applies `update` (and increments the version) and records `audit`;
    /// `Ok(None)` when `org` has no configuration `id` at `update.expected_version`
    /// (when set).
    ///
    /// # Errors
    /// [`WriteError::Duplicate`] when a new account SID collides.
    fn update(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        update: &ProviderConfigUpdate,
        audit: &AuditEntry,
    ) -> Result<Option<ProviderConfig>, WriteError>;

    /// Reads configuration `id` of `org` and applies the change `plan` makes of it,
    /// with its audit event, in one transaction that no other write can enter between
    /// the read and the change (the row is locked on PostgreSQL; on SQLite the
    /// transaction takes the database's write lock before it reads). `plan` returns `None` to write nothing. `Ok(None)` when `org` has no
    /// configuration `id`, or `plan` declined.
    ///
    /// `plan` runs inside the transaction: it must be quick and must not wait on
    /// anything outside the process (a provider's API, say).
    ///
    /// # Errors
    /// [`WriteError::Duplicate`] when a new account SID collides.
    fn update_locked(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        plan: &mut dyn FnMut(&ProviderConfig) -> Option<(ProviderConfigUpdate, AuditEntry)>,
    ) -> Result<Option<ProviderConfig>, WriteError>;

    /// Deletes the configuration and records `audit`; `Ok(false)` when `org` has no
    /// configuration `id` at `expected_version` (when set). Events of the
    /// configuration stay.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        expected_version: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<bool, RepositoryError>;

    /// Deletes the configuration (at `expected_version`, when given) unless a bridge
    /// number is connected to it, and records `audit`, all in one transaction, so
    /// that a racing connect cannot leave a connection to a deleted configuration.
    /// [`ConfigDeletion::NotFound`] also when the version no longer matches.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete_unless_connected(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        expected_version: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<ConfigDeletion, RepositoryError>;

    /// Stores the outcome of a verification (and increments the version: the
    /// representation changed) and records `audit`; `Ok(None)` when `org` has no
    /// configuration `id` at `expected_version`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn record_verification(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        verification: &Verification,
        expected_version: i64,
        audit: &AuditEntry,
    ) -> Result<Option<ProviderConfig>, RepositoryError>;
}
