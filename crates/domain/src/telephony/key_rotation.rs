//! The port key rotation and key checks need: find stored credentials (all of them,
//! or those not under a given key), replace one only if it is still the blob that
//! was read (compare-and-set, so that a concurrent rotation of the credential wins),
//! and count secrets per key.
//!
//! Stored credentials live in two places: a configuration's current blob and the
//! rows of its pending and previous versions (staged rotation); both are listed,
//! configurations first, by [`CredentialSlot`].
//!
//! Webhook endpoints' signing secrets are sealed under the same keyring, so they are
//! part of the same port: counted per key, listed by endpoint
//! ([`SealedWebhookSecret`]) and replaced by compare-and-set, so that retiring a key
//! never leaves an endpoint that cannot sign.
//!
//! Credentials come back as stored, unparsed ([`StoredSecret`]): a malformed blob is
//! the caller's to report and skip, never a failure of the whole listing.

use super::{KeyId, ProviderConfigId, SealedSecret, StoredSecret};
use crate::identity::OrgId;
use crate::shared::RepositoryError;
use crate::webhooks::EndpointId;

/// Which of a webhook endpoint's two sealed secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookSecretSlot {
    /// The secret that signs now.
    Current,
    /// The secret replaced by a rotation, kept while its overlap lasts.
    Previous,
}

/// A webhook endpoint's sealed signing secret, with what its associated data needs
/// (the endpoint's organization and uid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedWebhookSecret {
    pub endpoint: EndpointId,
    pub slot: WebhookSecretSlot,
    pub org_id: OrgId,
    pub uid: String,
    pub stored: StoredSecret,
}

/// Where a stored credential lives, in listing order: every configuration's current
/// blob (by configuration id), then every version row (by row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CredentialSlot {
    Current(ProviderConfigId),
    /// A pending or previous version: the id of its row.
    Version(i64),
}

/// A stored credential with what its associated data needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCredential {
    /// The configuration it belongs to.
    pub id: ProviderConfigId,
    pub slot: CredentialSlot,
    /// Its credential version (bound into format-3 blobs).
    pub version: i64,
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

    /// Up to `limit` credentials not sealed under `key`, in slots after `after`, in
    /// slot order (a cursor, so that a run makes progress past rows it cannot open).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn sealed_not_under(
        &self,
        key: KeyId,
        after: Option<CredentialSlot>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError>;

    /// Up to `limit` credentials of every organization in slots after `after`, in
    /// slot order.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn stored_credentials(
        &self,
        after: Option<CredentialSlot>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError>;

    /// Replaces the credential in `slot` with `replacement` only if it still is
    /// `expected`; `Ok(false)` when it changed meanwhile (or the row is gone).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn replace_sealed(
        &self,
        slot: CredentialSlot,
        expected: &StoredSecret,
        replacement: &SealedSecret,
    ) -> Result<bool, RepositoryError>;

    /// The sealed secrets (current, then previous when there is one) of up to
    /// `limit` webhook endpoints with ids after `after`, in endpoint order.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn webhook_secrets(
        &self,
        after: Option<EndpointId>,
        limit: u32,
    ) -> Result<Vec<SealedWebhookSecret>, RepositoryError>;

    /// Replaces the webhook secret in `slot` of `endpoint` with `replacement` only
    /// if it still is `expected`; `Ok(false)` when it changed meanwhile (or the
    /// endpoint is gone).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn replace_webhook_secret(
        &self,
        endpoint: EndpointId,
        slot: WebhookSecretSlot,
        expected: &StoredSecret,
        replacement: &SealedSecret,
    ) -> Result<bool, RepositoryError>;
}
