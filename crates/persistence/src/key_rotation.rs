//! Diesel adapter of the key-rotation port: counts of secrets per key id, batches of
//! credentials (all, or those not under the primary key), and compare-and-set
//! replacement of a blob. Credentials are the configurations' current blobs and the
//! rows of their pending and previous versions (staged rotation), listed in that
//! order. Webhook endpoints' signing secrets (current and previous) are counted and
//! listed beside them. Blobs are handed over as stored, never parsed here: a
//! malformed one is the caller's to skip and report.

use std::collections::BTreeMap;

use diesel::dsl::count_star;
use diesel::prelude::*;
use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::RepositoryError;
use switchboard_domain::telephony::{
    CredentialKeyRepository, CredentialSlot, KeyId, ProviderConfigId, SealedCredential,
    SealedSecret, SealedWebhookSecret, StoredSecret, WebhookSecretSlot,
};
use switchboard_domain::webhooks::EndpointId;

use crate::connection::DbConnection;
use crate::database::Database;
use crate::error::repository_error;
use crate::schema::{
    credential_versions as versions, provider_configurations as configs,
    webhook_endpoints as endpoints,
};

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

/// One stored blob as read: slot, configuration, organization, row uid, bytes, the
/// last-4 map and the credential version.
type Row = (CredentialSlot, i64, i64, String, Vec<u8>, String, i64);

/// A stored credential; the names of its secrets are the keys of its last-4 map
/// (a map that does not parse names none: the blob then fails to open, reported).
fn credential((slot, id, org, uid, bytes, last4, version): Row) -> SealedCredential {
    let secret_names = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&last4)
        .map(|map| map.into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default();
    SealedCredential {
        id: ProviderConfigId(id),
        slot,
        version,
        org_id: OrgId(org),
        uid,
        stored: StoredSecret::from_bytes(bytes),
        secret_names,
    }
}

/// A version row's blob as read: row id, configuration, organization, row uid,
/// bytes, last-4 map, credential version.
type VersionBlob = (i64, i64, i64, String, Vec<u8>, String, i64);

fn key_id(raw: i64) -> Result<KeyId, RepositoryError> {
    u32::try_from(raw)
        .map(KeyId)
        .map_err(|_| RepositoryError::Internal("stored key id is out of range".into()))
}

impl DieselCredentialKeyRepository {
    /// Up to `limit` blobs in slots after `after`, under any key but `not_under`
    /// (when given): configurations first, then version rows.
    fn batch(
        &self,
        not_under: Option<KeyId>,
        after: Option<CredentialSlot>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let limit = i64::from(limit.max(1));
        // Never equal to a stored key id (those are positive).
        let excluded = not_under.map_or(-1, |key| i64::from(key.0));
        if let None | Some(CredentialSlot::Current(_)) = after {
            let after = match after {
                Some(CredentialSlot::Current(id)) => id.0,
                _ => 0,
            };
            let rows: Vec<(i64, i64, String, Vec<u8>, String, i64)> = configs::table
                .filter(configs::auth_token_key_id.ne(excluded))
                .filter(configs::id.gt(after))
                .order(configs::id)
                .limit(limit)
                .select((
                    configs::id,
                    configs::organization_id,
                    configs::uid,
                    configs::auth_token_ciphertext,
                    configs::secret_last4,
                    configs::credential_version,
                ))
                .load(conn)
                .map_err(repository_error)?;
            if !rows.is_empty() {
                return Ok(rows
                    .into_iter()
                    .map(|(id, org, uid, bytes, last4, version)| {
                        credential((
                            CredentialSlot::Current(ProviderConfigId(id)),
                            id,
                            org,
                            uid,
                            bytes,
                            last4,
                            version,
                        ))
                    })
                    .collect());
            }
        }
        let after = match after {
            Some(CredentialSlot::Version(id)) => id,
            _ => 0,
        };
        let rows: Vec<VersionBlob> = versions::table
            .inner_join(configs::table)
            .filter(versions::key_id.ne(excluded))
            .filter(versions::id.gt(after))
            .order(versions::id)
            .limit(limit)
            .select((
                versions::id,
                versions::provider_config_id,
                versions::organization_id,
                configs::uid,
                versions::sealed_secret,
                versions::secret_last4,
                versions::version,
            ))
            .load(conn)
            .map_err(repository_error)?;
        Ok(rows
            .into_iter()
            .map(|(row, id, org, uid, bytes, last4, version)| {
                credential((
                    CredentialSlot::Version(row),
                    id,
                    org,
                    uid,
                    bytes,
                    last4,
                    version,
                ))
            })
            .collect())
    }
}

impl CredentialKeyRepository for DieselCredentialKeyRepository {
    fn key_usage(&self) -> Result<Vec<(KeyId, u64)>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let current: Vec<(i64, i64)> = configs::table
            .group_by(configs::auth_token_key_id)
            .select((configs::auth_token_key_id, count_star()))
            .load(conn)
            .map_err(repository_error)?;
        let staged: Vec<(i64, i64)> = versions::table
            .group_by(versions::key_id)
            .select((versions::key_id, count_star()))
            .load(conn)
            .map_err(repository_error)?;
        let webhook: Vec<(i64, i64)> = endpoints::table
            .group_by(endpoints::secret_key_id)
            .select((endpoints::secret_key_id, count_star()))
            .load(conn)
            .map_err(repository_error)?;
        let webhook_previous: Vec<(Option<i64>, i64)> = endpoints::table
            .filter(endpoints::previous_secret_key_id.is_not_null())
            .group_by(endpoints::previous_secret_key_id)
            .select((endpoints::previous_secret_key_id, count_star()))
            .load(conn)
            .map_err(repository_error)?;
        let webhook_previous = webhook_previous
            .into_iter()
            .filter_map(|(id, count)| Some((id?, count)));
        let mut usage: BTreeMap<KeyId, u64> = BTreeMap::new();
        for (id, count) in current
            .into_iter()
            .chain(staged)
            .chain(webhook)
            .chain(webhook_previous)
        {
            *usage.entry(key_id(id)?).or_default() += u64::try_from(count).unwrap_or_default();
        }
        Ok(usage.into_iter().collect())
    }

    fn sealed_not_under(
        &self,
        key: KeyId,
        after: Option<CredentialSlot>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError> {
        self.batch(Some(key), after, limit)
    }

    fn stored_credentials(
        &self,
        after: Option<CredentialSlot>,
        limit: u32,
    ) -> Result<Vec<SealedCredential>, RepositoryError> {
        self.batch(None, after, limit)
    }

    fn replace_sealed(
        &self,
        slot: CredentialSlot,
        expected: &StoredSecret,
        replacement: &SealedSecret,
    ) -> Result<bool, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let key = i64::from(replacement.key_id().0);
        let changed = match slot {
            CredentialSlot::Current(id) => diesel::update(
                configs::table
                    .filter(configs::id.eq(id.0))
                    .filter(configs::auth_token_ciphertext.eq(expected.as_bytes())),
            )
            .set((
                configs::auth_token_ciphertext.eq(replacement.as_bytes()),
                configs::auth_token_key_id.eq(key),
            ))
            .execute(conn),
            CredentialSlot::Version(row) => diesel::update(
                versions::table
                    .filter(versions::id.eq(row))
                    .filter(versions::sealed_secret.eq(expected.as_bytes())),
            )
            .set((
                versions::sealed_secret.eq(replacement.as_bytes()),
                versions::key_id.eq(key),
            ))
            .execute(conn),
        }
        .map_err(repository_error)?;
        Ok(changed > 0)
    }

    fn webhook_secrets(
        &self,
        after: Option<EndpointId>,
        limit: u32,
    ) -> Result<Vec<SealedWebhookSecret>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        type EndpointSecrets = (i64, i64, String, Vec<u8>, Option<Vec<u8>>);
        let rows: Vec<EndpointSecrets> = endpoints::table
            .filter(endpoints::id.gt(after.map_or(0, |id| id.0)))
            .order(endpoints::id)
            .limit(i64::from(limit.max(1)))
            .select((
                endpoints::id,
                endpoints::organization_id,
                endpoints::uid,
                endpoints::secret_ciphertext,
                endpoints::previous_secret_ciphertext,
            ))
            .load(conn)
            .map_err(repository_error)?;
        let mut secrets = Vec::with_capacity(rows.len());
        for (id, org, uid, current, previous) in rows {
            let sealed = |slot, bytes| SealedWebhookSecret {
                endpoint: EndpointId(id),
                slot,
                org_id: OrgId(org),
                uid: uid.clone(),
                stored: StoredSecret::from_bytes(bytes),
            };
            secrets.push(sealed(WebhookSecretSlot::Current, current));
            if let Some(previous) = previous {
                secrets.push(sealed(WebhookSecretSlot::Previous, previous));
            }
        }
        Ok(secrets)
    }

    fn replace_webhook_secret(
        &self,
        endpoint: EndpointId,
        slot: WebhookSecretSlot,
        expected: &StoredSecret,
        replacement: &SealedSecret,
    ) -> Result<bool, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let key = i64::from(replacement.key_id().0);
        let row = endpoints::table.filter(endpoints::id.eq(endpoint.0));
        let changed = match slot {
            WebhookSecretSlot::Current => {
                diesel::update(row.filter(endpoints::secret_ciphertext.eq(expected.as_bytes())))
                    .set((
                        endpoints::secret_ciphertext.eq(replacement.as_bytes()),
                        endpoints::secret_key_id.eq(key),
                    ))
                    .execute(conn)
            }
            WebhookSecretSlot::Previous => diesel::update(
                row.filter(endpoints::previous_secret_ciphertext.eq(expected.as_bytes())),
            )
            .set((
                endpoints::previous_secret_ciphertext.eq(replacement.as_bytes()),
                endpoints::previous_secret_key_id.eq(key),
            ))
            .execute(conn),
        }
        .map_err(repository_error)?;
        Ok(changed > 0)
    }
}
