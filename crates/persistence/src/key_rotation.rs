//! Diesel adapter of the key-rotation port: counts of secrets per key id, batches of
//! credentials (all, or those not under the primary key), and compare-and-set
//! replacement of a blob. Blobs are handed over as stored, never parsed here: a
//! malformed one is the caller's to skip and report.

use diesel::dsl::count_star;
use diesel::prelude::*;
use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::RepositoryError;
use switchboard_domain::telephony::{
    CredentialKeyRepository, KeyId, ProviderConfigId, SealedCredential, SealedSecret, StoredSecret,
};

use crate::connection::DbConnection;
use crate::database::Database;
use crate::error::repository_error;
use crate::schema::provider_configurations as configs;

/// Key-rotation storage over Diesel.
#[derive(Debug, Clone)]
pub struct DieselCredentialKeyRepository {
    db: Database,
}

impl DieselCredentialKeyRepository {
    /// An adapter over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A stored credential; the names of its secrets are the keys of its last-4 map
/// (a map that does not parse names none: the blob then fails to open, reported).
fn credential(
    (id, org, uid, bytes, last4): (i64, i64, String, Vec<u8>, String),
) -> SealedCredential {
    let secret_names = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&last4)
        .map(|map| map.into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default();
    SealedCredential {
        id: ProviderConfigId(id),
        org_id: OrgId(org),
        uid,
        stored: StoredSecret::from_bytes(bytes),
        secret_names,
    }
}

fn key_id(raw: i64) -> Result<KeyId, RepositoryError> {
    u32::try_from(raw)
        .map(KeyId)
        .map_err(|_| RepositoryError::Internal("stored key id is out of range".into()))
}

impl CredentialKeyRepository for DieselCredentialKeyRepository {
    fn key_usage(&self) -> Result<Vec<(KeyId, u64)>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<(i64, i64)> = configs::table
            .group_by(configs::auth_token_key_id)
            .select((configs::auth_token_key_id, count_star()))
            .order(configs::auth_token_key_id)
            .load(conn)
            .map_err(repository_error)?;
        rows.into_iter()
            .map(|(id, count)| Ok((key_id(id)?, u64::try_from(count).unwrap_or_default())))
            .collect()
    }

    fn sealed_not_under(
        &self,
        key: KeyId,
        after: Option<ProviderConfigId>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<(i64, i64, String, Vec<u8>, String)> = configs::table
            .filter(configs::auth_token_key_id.ne(i64::from(key.0)))
            .filter(configs::id.gt(after.map_or(0, |id| id.0)))
            .order(configs::id)
            .limit(i64::from(limit.max(1)))
            .select((
                configs::id,
                configs::organization_id,
                configs::uid,
                configs::auth_token_ciphertext,
                configs::secret_last4,
            ))
            .load(conn)
            .map_err(repository_error)?;
        Ok(rows.into_iter().map(credential).collect())
    }

    fn stored_credentials(
        &self,
        after: Option<ProviderConfigId>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<(i64, i64, String, Vec<u8>, String)> = configs::table
            .filter(configs::id.gt(after.map_or(0, |id| id.0)))
            .order(configs::id)
            .limit(i64::from(limit.max(1)))
            .select((
                configs::id,
                configs::organization_id,
                configs::uid,
                configs::auth_token_ciphertext,
                configs::secret_last4,
            ))
            .load(conn)
            .map_err(repository_error)?;
        Ok(rows.into_iter().map(credential).collect())
    }

    fn replace_sealed(
        &self,
        id: ProviderConfigId,
        expected: &StoredSecret,
        replacement: &SealedSecret,
    ) -> Result<bool, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let changed = diesel::update(
            configs::table
                .filter(configs::id.eq(id.0))
                .filter(configs::auth_token_ciphertext.eq(expected.as_bytes())),
        )
        .set((
            configs::auth_token_ciphertext.eq(replacement.as_bytes()),
            configs::auth_token_key_id.eq(i64::from(replacement.key_id().0)),
        ))
        .execute(conn)
        .map_err(repository_error)?;
        Ok(changed > 0)
    }
}
