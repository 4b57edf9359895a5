//! Ports of the bridges module of the telephony context: the storage of phone
//! numbers, bridges and the connections of provider configurations to bridge numbers.
//!
//! One repository owns all three because their rules cross: a number is on at most
//! one bridge, a connection exists only on a number that is on a bridge, and a
//! connected configuration cannot be deleted. Every method is scoped to one
//! organization, and every multi-row change happens in one transaction whose
//! outcome the database decides (conditional updates and constraints, not a read
//! followed by a write).

use super::{
    Bridge, BridgeConnection, BridgeDetail, BridgeSlug, BridgeStatus, E164, NumberState,
    PhoneNumber, PhoneNumberId, ProviderConfigId, Region,
};
use crate::audit::AuditEntry;
use crate::identity::OrgId;
use crate::shared::{Page, PageRequest, RepositoryError, Timestamp, WriteError};

/// A number to insert.
#[derive(Debug, Clone)]
pub struct NewPhoneNumber {
    pub org_id: OrgId,
    pub number: E164,
    pub active: bool,
    pub created_at: Timestamp,
}

/// Number list filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumberFilter {
    pub state: Option<NumberState>,
}

/// What deleting a number did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberDeletion {
    Deleted,
    /// The organization has no such number.
    NotFound,
    /// The number is on a bridge; nothing was deleted.
    Assigned,
}

/// A bridge to insert, with the numbers to put on it.
#[derive(Debug, Clone)]
pub struct NewBridge {
    pub org_id: OrgId,
    pub name: String,
    pub slug: BridgeSlug,
    pub description: Option<String>,
    pub status: BridgeStatus,
    pub region: Option<Region>,
    /// Sorted, without repeats.
    pub number_ids: Vec<PhoneNumberId>,
    pub created_at: Timestamp,
}

/// The changes to a bridge; `None` leaves a field as it is.
#[derive(Debug, Clone)]
pub struct BridgeUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<BridgeStatus>,
    pub region: Option<Option<Region>>,
    /// The new set of numbers (sorted, without repeats). Numbers leaving the bridge
    /// lose their connection.
    pub number_ids: Option<Vec<PhoneNumberId>>,
    pub updated_at: Timestamp,
}

/// Why a set of numbers cannot be put on a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberConflict {
    /// An id names no number of the organization.
    #[error("a number id names no number of this organization")]
    Unknown,
    /// A number is on another bridge (also when another request put it there first).
    #[error("a number is on another bridge")]
    OnAnotherBridge,
}

/// Why a bridge could not be created or changed. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum BridgeWriteError {
    /// The organization already has a bridge with this slug.
    #[error("the organization already has a bridge with this slug")]
    DuplicateSlug,
    #[error(transparent)]
    Numbers(#[from] NumberConflict),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a configuration could not be connected to, or disconnected from, a bridge
/// number. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The organization has no bridge with this slug.
    #[error("no such bridge in this organization")]
    BridgeNotFound,
    /// The number is not on this bridge (or is no number of the organization).
    #[error("the number is not on this bridge")]
    NumberNotOnBridge,
    /// The organization has no such configuration.
    #[error("no such provider configuration in this organization")]
    ConfigNotFound,
    /// The configuration exists but is not active.
    #[error("the provider configuration is not active")]
    ConfigInactive,
    /// Disconnect only: nothing is connected to the number.
    #[error("no provider configuration is connected to the number")]
    NotConnected,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// What deleting a provider configuration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigDeletion {
    Deleted,
    /// The organization has no such configuration.
    NotFound,
    /// The configuration is connected to these bridge numbers (sorted by bridge slug,
    /// then number); nothing was deleted.
    InUse(Vec<BridgeConnection>),
}

/// Storage of phone numbers, bridges and connections.
pub trait BridgeRepository: Send + Sync {
    /// One page of the organization's numbers, newest first, with the bridge each is
    /// on.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn list_numbers(
        &self,
        org: OrgId,
        filter: NumberFilter,
        page: PageRequest,
    ) -> Result<Page<PhoneNumber>, RepositoryError>;

    /// Inserts a number (on no bridge).
    ///
    /// # Errors
    /// [`WriteError::Duplicate`] when the organization already has it, also under a
    /// race.
    fn insert_number(&self, number: &NewPhoneNumber) -> Result<PhoneNumber, WriteError>;

    /// Deletes a number unless it is on a bridge, atomically.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete_number(
        &self,
        org: OrgId,
        id: PhoneNumberId,
    ) -> Result<NumberDeletion, RepositoryError>;

    /// The organization's slugs equal to `base` or of the form `base-<anything>`
    /// (what the generated series may collide with).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn slugs_like(&self, org: OrgId, base: &BridgeSlug) -> Result<Vec<String>, RepositoryError>;

    /// Inserts a bridge and puts its numbers on it, in one transaction.
    ///
    /// # Errors
    /// [`BridgeWriteError::Numbers`] when a number is unknown or on another bridge
    /// (checked before the slug); [`BridgeWriteError::DuplicateSlug`].
    fn insert_bridge(&self, bridge: &NewBridge) -> Result<BridgeDetail, BridgeWriteError>;

    /// One page of the organization's bridges, newest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn list_bridges(&self, org: OrgId, page: PageRequest) -> Result<Page<Bridge>, RepositoryError>;

    /// The bridge `slug` of `org`, with its numbers.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn get_bridge(&self, org: OrgId, slug: &str) -> Result<Option<BridgeDetail>, RepositoryError>;

    /// Applies `update` in one transaction; `Ok(None)` when `org` has no bridge
    /// `slug`.
    ///
    /// # Errors
    /// [`BridgeWriteError::Numbers`] when a number of the new set is unknown or on
    /// another bridge.
    fn update_bridge(
        &self,
        org: OrgId,
        slug: &str,
        update: &BridgeUpdate,
    ) -> Result<Option<BridgeDetail>, BridgeWriteError>;

    /// Deletes the bridge; its numbers return to no bridge and lose their
    /// connections (their change time set to `at`), in the same transaction.
    /// `Ok(false)` when there is no such bridge.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete_bridge(&self, org: OrgId, slug: &str, at: Timestamp)
    -> Result<bool, RepositoryError>;

    /// Connects the configuration to the number on the bridge (replacing any other
    /// connection of that number) at `audit.at`, and records `audit` in the
    /// configuration's history, in one transaction. The configuration must be the
    /// organization's and active, the number on this bridge.
    ///
    /// # Errors
    /// [`ConnectionError`].
    fn connect_provider(
        &self,
        org: OrgId,
        slug: &str,
        number: &E164,
        config: ProviderConfigId,
        audit: &AuditEntry,
    ) -> Result<BridgeDetail, ConnectionError>;

    /// Removes the connection of the number on the bridge at `audit.at`, and records
    /// `audit` in the history of the configuration that was connected, in one
    /// transaction.
    ///
    /// # Errors
    /// [`ConnectionError`]; [`ConnectionError::NotConnected`] when there is none.
    fn disconnect_provider(
        &self,
        org: OrgId,
        slug: &str,
        number: &E164,
        audit: &AuditEntry,
    ) -> Result<BridgeDetail, ConnectionError>;
}
