//! The port key rotation and key checks need: find stored credentials (all of them,
//! or those not under a given key), replace one only if it is still the blob that
//! was read (compare-and-set, so that a concurrent rotation of the credential wins),
//! and count secrets per key.
//!
//! Credentials come back as stored, unparsed ([`StoredSecret`]): a malformed blob is
//! the caller's to report and skip, never a failure of the whole listing.

use super::{KeyId, ProviderConfigId, SealedSecret, StoredSecret};
use crate::identity::OrgId;
use crate::shared::RepositoryError;

/// A stored credential with what its associated data needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCredential {
    pub id: ProviderConfigId,
    pub org_id: OrgId,
    pub uid: String,
    pub stored: StoredSecret,
    /// The names of the sealed secrets (the binding of a format-2 blob; for a
    /// format-1 blob the one name of its primary secret).
    pub secret_names: Vec<String>,
}

/// Storage access for re-encrypting credentials under the primary key.
pub trait CredentialKeyRepository: Send + Sync {
    /// How many stored secrets each key id protects, by key id (as recorded beside
    /// each blob when it was written).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn key_usage(&self) -> Result<Vec<(KeyId, u64)>, RepositoryError>;

    /// Up to `limit` credentials not sealed under `key`, with ids above `after`, in
    /// id order (a cursor, so that a run makes progress past rows it cannot open).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn sealed_not_under(
        &self,
        key: KeyId,
        after: Option<ProviderConfigId>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError>;

    /// Up to `limit` credentials of every organization with ids above `after`, in id
    /// order.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn stored_credentials(
        &self,
        after: Option<ProviderConfigId>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError>;

    /// Replaces the credential of `id` with `replacement` only if it still is
    /// `expected`; `Ok(false)` when it changed meanwhile (or the row is gone).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn replace_sealed(
        &self,
        id: ProviderConfigId,
        expected: &StoredSecret,
        replacement: &SealedSecret,
    ) -> Result<bool, RepositoryError>;
}
