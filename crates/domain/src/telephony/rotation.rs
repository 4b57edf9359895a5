//! Staged rotation of a configuration's credentials (contract section 12): the new
//! secrets are stored as a `pending` version, checked with the provider, promoted to
//! `current`, and the former current stays `previous` for a window in which both are
//! valid; then its ciphertext is erased.
//!
//! Storage model. The `current` version is the configuration's own sealed blob (its
//! `credential_version` says which version it is); `pending` and `previous` versions
//! are rows of their own beside it, at most one of each per configuration (the
//! database enforces it); a `retired` version has no row: its ciphertext is gone.
//! Every blob is bound to its credential version (envelope format 3), so a blob
//! cannot pass for another version of the same row.
//!
//! A rotation is the record of one attempt: `pending` until it is promoted or
//! cancelled (at most one pending per configuration, enforced by the database too).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::{ProviderConfig, ProviderConfigId, SealedSecret, StoredSecret, Verification};
use crate::audit::AuditEntry;
use crate::identity::OrgId;
use crate::shared::{RepositoryError, Timestamp};

/// The longest overlap a promotion may keep the previous version for (7 days, as
/// Stripe's rolling keys).
pub const MAX_KEEP_PREVIOUS_SECONDS: i64 = 604_800;
/// The overlap a promotion keeps when it names none (1 day).
pub const DEFAULT_KEEP_PREVIOUS_SECONDS: i64 = 86_400;

/// Database id of a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RotationId(pub i64);

/// Where a rotation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RotationStatus {
    /// Its version is stored as `pending`: it may be verified, promoted or cancelled.
    Pending,
    /// Its version became `current`.
    Promoted,
    /// Cancelled (by a request, or by a PATCH that sent a secret); its version's
    /// ciphertext was erased.
    Cancelled,
}

impl RotationStatus {
    /// The stored and wire form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Promoted => "promoted",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for RotationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a rotation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown rotation status")]
pub struct UnknownRotationStatus;

impl FromStr for RotationStatus {
    type Err = UnknownRotationStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Pending, Self::Promoted, Self::Cancelled]
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or(UnknownRotationStatus)
    }
}

/// The stage of a credential version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionStage {
    Pending,
    Current,
    Previous,
    /// Its ciphertext is erased (never stored as a row).
    Retired,
}

impl VersionStage {
    /// The stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Current => "current",
            Self::Previous => "previous",
            Self::Retired => "retired",
        }
    }
}

/// One rotation, as listed. Never a secret: the new version's last-4 views only.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    pub id: RotationId,
    pub org_id: OrgId,
    pub config_id: ProviderConfigId,
    pub status: RotationStatus,
    /// The credential version it creates.
    pub version: i64,
    /// The last four of every secret of the new version, by catalog name.
    pub secret_last4: BTreeMap<String, String>,
    pub created_at: Timestamp,
    /// The provider's last verdict on the new version.
    pub verification: Option<Verification>,
    pub promoted_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    /// When the version it replaced stops being valid (promoted rotations with an
    /// overlap).
    pub previous_expires_at: Option<Timestamp>,
}

/// A stored, non-current version: its sealed secrets and what a view shows of it.
/// `Debug` never shows the blob.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVersion {
    pub config_id: ProviderConfigId,
    pub version: i64,
    pub stage: VersionStage,
    pub sealed: StoredSecret,
    /// The last four of every secret, by catalog name (the names the blob is bound
    /// to).
    pub secret_last4: BTreeMap<String, String>,
    /// The primary secret's last four.
    pub auth_token_last4: String,
    pub created_at: Timestamp,
    /// For a previous version: when it stops being valid.
    pub expires_at: Option<Timestamp>,
}

impl StoredVersion {
    /// The names of its sealed secrets (its binding).
    #[must_use]
    pub fn secret_names(&self) -> Vec<&str> {
        self.secret_last4.keys().map(String::as_str).collect()
    }
}

/// A rotation to start: the new version, sealed.
#[derive(Debug, Clone)]
pub struct NewRotation {
    /// The credential version the configuration must still be at (the new version
    /// is that + 1); a start from a stale read writes nothing.
    pub from_version: i64,
    pub sealed: SealedSecret,
    pub secret_last4: BTreeMap<String, String>,
    pub auth_token_last4: String,
    pub created_at: Timestamp,
}

/// What a start came to.
#[derive(Debug, Clone, PartialEq)]
pub enum StartOutcome {
    Started(Rotation),
    /// No such configuration in the organization.
    NotFound,
    /// A rotation is already pending (also when one won a race).
    AlreadyPending,
    /// The configuration's credentials changed since they were read.
    Changed,
}

/// What a promotion does, decided from the locked configuration and rotation.
#[derive(Debug, Clone)]
pub struct Promotion {
    /// Keep the former current as `previous` until then; `None`: erase it now.
    pub previous_expires_at: Option<Timestamp>,
    pub at: Timestamp,
    pub audit: AuditEntry,
    /// The event of a live previous version retired at once by this promotion.
    pub retired_audit: AuditEntry,
}

/// What a promotion came to.
#[derive(Debug, Clone, PartialEq)]
pub enum PromoteOutcome {
    Promoted(Box<(ProviderConfig, Rotation)>),
    /// No such configuration or rotation in the organization.
    NotFound,
    /// The rotation is not pending (promoted or cancelled already).
    NotPending,
    /// The plan declined (the caller knows why).
    Declined,
}

/// What a cancel or the end of an overlap came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageChange {
    Done,
    NotFound,
    /// Cancel: the rotation is not pending. End of overlap: there is no live
    /// previous version.
    NothingToDo,
}

/// One previous version erased by the sweeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErasedVersion {
    pub org_id: OrgId,
    pub config_id: ProviderConfigId,
    pub version: i64,
}

/// Storage of rotations and non-current versions. Every method is scoped to one
/// organization (another organization's configuration behaves as an unknown one),
/// and every write records its audit entries (and so their change events) in its
/// own transaction.
pub trait CredentialRotationRepository: Send + Sync {
    /// Stores `new` as the pending version `from_version + 1` of configuration
    /// `config` and a pending rotation, with `audit`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn start(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        new: &NewRotation,
        audit: &AuditEntry,
    ) -> Result<StartOutcome, RepositoryError>;

    /// Every rotation of configuration `config`, newest first; `None` when the
    /// organization has no such configuration.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn list(
        &self,
        org: OrgId,
        config: ProviderConfigId,
    ) -> Result<Option<Vec<Rotation>>, RepositoryError>;

    /// Rotation `id` of configuration `config`, with its pending version while it
    /// is pending.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn get(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
    ) -> Result<Option<(Rotation, Option<StoredVersion>)>, RepositoryError>;

    /// Stores the provider's verdict on a pending rotation, with `audit`; `None`
    /// when it is not (or no longer) pending.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn record_verification(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
        verification: &Verification,
        audit: &AuditEntry,
    ) -> Result<Option<Rotation>, RepositoryError>;

    /// Promotes pending rotation `id` in one transaction that no other write of the
    /// configuration can enter: `plan` sees the locked configuration and rotation
    /// and decides (`None` declines, writing nothing). The pending version becomes
    /// the configuration's current one (its version, last-4 views, verification and
    /// row version change); a live previous version is erased (with
    /// `retired_audit`); the former current becomes `previous` until
    /// `previous_expires_at`, or is erased when there is none.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn promote(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
        plan: &mut dyn FnMut(&ProviderConfig, &Rotation) -> Option<Promotion>,
    ) -> Result<PromoteOutcome, RepositoryError>;

    /// Cancels pending rotation `id` and erases its version, with `audit`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn cancel(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<StageChange, RepositoryError>;

    /// Erases the live previous version of `config` now, with `audit`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn end_previous(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<StageChange, RepositoryError>;

    /// The previous version of `config` while it is live (`expires_at` after
    /// `now`; one that expired and is not yet swept is gone).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn live_previous(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        now: Timestamp,
    ) -> Result<Option<StoredVersion>, RepositoryError>;

    /// Erases (deletes) every previous version that expired at `now`, each with the
    /// audit entry `audit_of` makes for it, in one transaction; safe to run from
    /// several replicas at once (each row is deleted once). Then makes the erasure
    /// physical where the backend keeps deleted bytes (see the adapter).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn sweep_expired(
        &self,
        now: Timestamp,
        audit_of: &dyn Fn(&ErasedVersion) -> AuditEntry,
    ) -> Result<Vec<ErasedVersion>, RepositoryError>;
}
