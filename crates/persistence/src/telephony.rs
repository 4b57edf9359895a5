//! Diesel implementations of the telephony ports: the provider catalog and the
//! organizations' provider configurations.
//!
//! Every configuration query is scoped by organization, so another organization's id
//! behaves like an unknown one. Credentials arrive and leave sealed; this module
//! stores the envelope and its key id and never sees a plaintext.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::{Map, Value};
use switchboard_domain::audit::AuditEntry;
use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::{Page, PageRequest, RepositoryError, WriteError};
use switchboard_domain::telephony::{
    ConfigDeletion, NewProviderConfig, ProviderCatalog, ProviderCatalogRepository, ProviderConfig,
    ProviderConfigFilter, ProviderConfigId, ProviderConfigRepository, ProviderConfigUpdate,
    ProviderId, ProviderRecord, StoredSecret, Verification, VerificationStatus, account_sid_key,
};

use crate::audit::insert_event;
use crate::connection::DbConnection;
use crate::connection::on_backend;
use crate::database::Database;
use crate::error::{repository_error, write_error};
use crate::schema::{provider_configurations as pc, telephony_providers};
use crate::time::{StoredTime, to_db};
use crate::transaction::TransactionError;

/// [`ProviderCatalogRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselProviderCatalogRepository {
    db: Database,
}

impl DieselProviderCatalogRepository {
    /// A repository using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A catalog row; field order is the table's column order.
#[derive(Queryable)]
struct ProviderRow {
    id: i64,
    slug: String,
    name: String,
    description: String,
    icon: String,
    account_sid_label: String,
    account_sid_pattern: String,
    account_sid_hint: String,
    auth_token_label: String,
    auth_token_pattern: String,
    auth_token_hint: String,
    _position: i32,
    _fields: String,
}

impl From<ProviderRow> for ProviderRecord {
    fn from(row: ProviderRow) -> Self {
        Self {
            id: ProviderId(row.id),
            slug: row.slug,
            name: row.name,
            description: row.description,
            icon: row.icon,
            account_sid_label: row.account_sid_label,
            account_sid_pattern: row.account_sid_pattern,
            account_sid_hint: row.account_sid_hint,
            auth_token_label: row.auth_token_label,
            auth_token_pattern: row.auth_token_pattern,
            auth_token_hint: row.auth_token_hint,
        }
    }
}

impl ProviderCatalogRepository for DieselProviderCatalogRepository {
    fn providers(&self) -> Result<Vec<ProviderRecord>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<ProviderRow> = telephony_providers::table
            .order((
                telephony_providers::position.asc(),
                telephony_providers::id.asc(),
            ))
            .load(conn)
            .map_err(repository_error)?;
        Ok(rows.into_iter().map(ProviderRecord::from).collect())
    }
}

/// A catalog row as written from the compiled catalog.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = telephony_providers)]
struct CatalogRow {
    slug: String,
    name: String,
    description: String,
    icon: String,
    account_sid_label: String,
    account_sid_pattern: String,
    account_sid_hint: String,
    auth_token_label: String,
    auth_token_pattern: String,
    auth_token_hint: String,
    position: i32,
    fields: String,
}

impl Database {
    /// Writes the compiled provider catalog into `telephony_providers` (one row per
    /// provider, by its fixed id: changed rows are updated, new ones inserted; rows
    /// are never deleted, configurations refer to them). Runs after migrations and
    /// at every start, so the stored copy is the binary's data file.
    ///
    /// # Errors
    /// [`RepositoryError`]; nothing is written then (one transaction).
    pub fn sync_provider_catalog(&self, catalog: &ProviderCatalog) -> Result<(), RepositoryError> {
        let writer = self.transaction_writer()?;
        writer
            .run(|conn| {
                for (index, provider) in catalog.all().iter().enumerate() {
                    let row = CatalogRow {
                        slug: provider.slug.clone(),
                        name: provider.name.clone(),
                        description: provider.description.clone(),
                        icon: provider.icon.clone(),
                        account_sid_label: provider.account_sid.label.clone(),
                        account_sid_pattern: provider.account_sid.pattern.clone(),
                        account_sid_hint: provider.account_sid.hint.clone(),
                        auth_token_label: provider.auth_token.label.clone(),
                        auth_token_pattern: provider.auth_token.pattern.clone(),
                        auth_token_hint: provider.auth_token.hint.clone(),
                        position: i32::try_from(index + 1).unwrap_or(i32::MAX),
                        fields: provider.describe_fields().to_string(),
                    };
                    let updated = diesel::update(
                        telephony_providers::table
                            .filter(telephony_providers::id.eq(provider.id.0)),
                    )
                    .set(&row)
                    .execute(conn)?;
                    if updated == 0 {
                        diesel::insert_into(telephony_providers::table)
                            .values((telephony_providers::id.eq(provider.id.0), &row))
                            .execute(conn)?;
                    }
                }
                Ok(())
            })
            .map_err(repository_error)
    }
}

/// [`ProviderConfigRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselProviderConfigRepository {
    db: Database,
}

impl DieselProviderConfigRepository {
    /// A repository using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A configuration row; field order is the table's column order (`RETURNING` relies
/// on it).
#[derive(Queryable)]
pub(crate) struct ConfigRow {
    id: i64,
    uid: String,
    organization_id: i64,
    provider_id: i64,
    name: String,
    account_sid: String,
    _account_sid_key: String,
    pub(crate) auth_token_ciphertext: Vec<u8>,
    pub(crate) auth_token_key_id: i64,
    pub(crate) auth_token_last4: String,
    active: bool,
    base_url: Option<String>,
    sip_url: Option<String>,
    meta_json: String,
    version: i64,
    created_at: StoredTime,
    updated_at: StoredTime,
    verification_status: Option<String>,
    verification_checked_at: Option<StoredTime>,
    public_fields: String,
    pub(crate) secret_last4: String,
    pub(crate) credential_version: i64,
}

/// Reads a stored JSON object column.
fn json_object(id: i64, column: &str, text: &str) -> Result<Map<String, Value>, RepositoryError> {
    serde_json::from_str::<Map<String, Value>>(text).map_err(|error| {
        RepositoryError::Internal(format!(
            "stored provider configuration {id} has {column} that is not a JSON object \
             (line {}, column {})",
            error.line(),
            error.column()
        ))
    })
}

/// The stored last-4 map (its keys are the sealed secrets' names).
pub(crate) fn last4_map(id: i64, text: &str) -> Result<BTreeMap<String, String>, RepositoryError> {
    json_object(id, "secret_last4", text)?
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(last4) => Ok((name, last4)),
            _ => Err(RepositoryError::Internal(format!(
                "stored provider configuration {id} has a secret_last4 value that is not a string"
            ))),
        })
        .collect()
}

pub(crate) fn serialize_last4(map: &BTreeMap<String, String>) -> Result<String, RepositoryError> {
    serde_json::to_string(map)
        .map_err(|_| RepositoryError::Internal("secret_last4 could not be serialized".into()))
}

impl ConfigRow {
    pub(crate) fn into_domain(self) -> Result<ProviderConfig, RepositoryError> {
        // Not parsed here: the bytes are checked when the secret is opened, so that a
        // malformed blob never breaks a list or a read (see StoredSecret).
        let auth_token = StoredSecret::from_bytes(self.auth_token_ciphertext);
        let meta_json =
            serde_json::from_str::<Map<String, Value>>(&self.meta_json).map_err(|error| {
                RepositoryError::Internal(format!(
                    "stored provider configuration {} has meta_json that is not a JSON object \
                     (line {}, column {})",
                    self.id,
                    error.line(),
                    error.column()
                ))
            })?;
        let verification = match (self.verification_status, self.verification_checked_at) {
            (Some(status), Some(checked_at)) => Some(Verification {
                status: status.parse::<VerificationStatus>().map_err(|_| {
                    RepositoryError::Internal(format!(
                        "stored provider configuration {} has an unknown verification status",
                        self.id
                    ))
                })?,
                checked_at: checked_at.utc(),
            }),
            _ => None,
        };
        Ok(ProviderConfig {
            public_fields: json_object(self.id, "public_fields", &self.public_fields)?,
            secret_last4: last4_map(self.id, &self.secret_last4)?,
            credential_version: self.credential_version,
            id: ProviderConfigId(self.id),
            uid: self.uid,
            org_id: OrgId(self.organization_id),
            provider_id: ProviderId(self.provider_id),
            name: self.name,
            account_sid: self.account_sid,
            auth_token,
            auth_token_last4: self.auth_token_last4,
            active: self.active,
            base_url: self.base_url,
            sip_url: self.sip_url,
            meta_json,
            verification,
            version: self.version,
            created_at: self.created_at.utc(),
            updated_at: self.updated_at.utc(),
        })
    }
}

// `None` is NULL, as its column\'s default is: the INSERT is then one text whatever
// is left out, so Diesel finds its prepared statement by type instead of building
// the SQL per insert to look it up (docs/performance.md).
#[derive(Insertable)]
#[diesel(table_name = pc, treat_none_as_default_value = false)]
struct NewConfigRow<'a> {
    uid: &'a str,
    organization_id: i64,
    provider_id: i64,
    name: &'a str,
    account_sid: &'a str,
    account_sid_key: String,
    auth_token_ciphertext: &'a [u8],
    auth_token_key_id: i64,
    auth_token_last4: &'a str,
    active: bool,
    base_url: Option<&'a str>,
    sip_url: Option<&'a str>,
    meta_json: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    verification_status: Option<&'static str>,
    verification_checked_at: Option<NaiveDateTime>,
    public_fields: String,
    secret_last4: String,
    credential_version: i64,
}

/// The columns an update sets; `None` leaves a column alone, `Some(None)` sets NULL.
#[derive(AsChangeset)]
#[diesel(table_name = pc)]
struct ConfigChangeset<'a> {
    name: Option<&'a str>,
    account_sid: Option<&'a str>,
    account_sid_key: Option<String>,
    auth_token_ciphertext: Option<&'a [u8]>,
    auth_token_key_id: Option<i64>,
    auth_token_last4: Option<&'a str>,
    active: Option<bool>,
    base_url: Option<Option<&'a str>>,
    sip_url: Option<Option<&'a str>>,
    meta_json: Option<String>,
    verification_status: Option<Option<&'static str>>,
    verification_checked_at: Option<Option<NaiveDateTime>>,
    updated_at: Option<NaiveDateTime>,
    public_fields: Option<String>,
    secret_last4: Option<String>,
}

/// Why a locked update wrote nothing.
enum LockedWriteError {
    /// The caller's plan declined the change (the transaction rolls back).
    Declined,
    /// The stored row could not be read as a configuration.
    Stored(RepositoryError),
    Database(DieselError),
}

impl From<DieselError> for LockedWriteError {
    fn from(error: DieselError) -> Self {
        Self::Database(error)
    }
}

impl TransactionError for LockedWriteError {
    fn database_error(&self) -> Option<&DieselError> {
        match self {
            Self::Database(error) => Some(error),
            Self::Declined | Self::Stored(_) => None,
        }
    }
}

/// Applies `update` to configuration `id` of `org` at a version in `expected_version`
/// (any, when `None`), increments the version and records `audit`, on a connection
/// inside a transaction. `Ok(None)` when no row matched.
fn apply_update(
    conn: &mut DbConnection,
    org: OrgId,
    id: ProviderConfigId,
    update: &ProviderConfigUpdate,
    expected_version: Option<i64>,
    audit: &AuditEntry,
) -> Result<Option<ConfigRow>, DieselError> {
    // Unreachable failures for maps of JSON values; reported as a failed statement.
    let meta_json = match update.meta_json.as_ref().map(serialize_meta).transpose() {
        Ok(meta_json) => meta_json,
        Err(error) => return Err(DieselError::SerializationError(Box::new(error))),
    };
    let public_fields = match update
        .public_fields
        .as_ref()
        .map(serialize_meta)
        .transpose()
    {
        Ok(public_fields) => public_fields,
        Err(error) => return Err(DieselError::SerializationError(Box::new(error))),
    };
    let secret_last4 = match update
        .secret_last4
        .as_ref()
        .map(serialize_last4)
        .transpose()
    {
        Ok(secret_last4) => secret_last4,
        Err(error) => return Err(DieselError::SerializationError(Box::new(error))),
    };
    let changes = ConfigChangeset {
        name: update.name.as_deref(),
        account_sid: update.account_sid.as_deref(),
        account_sid_key: update.account_sid.as_deref().map(account_sid_key),
        auth_token_ciphertext: update.auth_token.as_ref().map(|(s, _)| s.as_bytes()),
        auth_token_key_id: update
            .auth_token
            .as_ref()
            .map(|(sealed, _)| i64::from(sealed.key_id().0)),
        auth_token_last4: update.auth_token.as_ref().map(|(_, last4)| last4.as_str()),
        active: update.active,
        base_url: update.base_url.as_ref().map(Option::as_deref),
        sip_url: update.sip_url.as_ref().map(Option::as_deref),
        meta_json,
        verification_status: update
            .verification
            .map(|verification| verification.map(|v| v.status.as_str())),
        verification_checked_at: update
            .verification
            .map(|verification| verification.map(|v| to_db(v.checked_at))),
        updated_at: update.updated_at.map(to_db),
        public_fields,
        secret_last4,
    };
    let (low, high) = version_range(expected_version);
    let target = pc::table
        .filter(pc::id.eq(id.0))
        .filter(pc::organization_id.eq(org.0))
        .filter(pc::version.between(low, high));
    // A new sealed set of secrets is a new credential version.
    let secrets_changed = i64::from(update.auth_token.is_some());
    let statement = diesel::update(target)
        .set((
            changes,
            pc::version.eq(pc::version + 1),
            pc::credential_version.eq(pc::credential_version + secrets_changed),
        ))
        .returning(pc::all_columns);
    // Every PATCH: on the inner connection, where Diesel renders the UPDATE once to
    // prepare it (it caches no UPDATE) instead of again for the backend at hand.
    let stored: Option<ConfigRow> =
        on_backend!(conn, |inner| statement.get_result(inner).optional())?;
    if let Some(row) = &stored {
        insert_event(conn, org, Some(id), audit)?;
        if update.auth_token.is_some() {
            // A secret changed at once: a pending rotation is cancelled and any
            // overlap ends (contract section 16, Rotation).
            crate::rotation::retire_on_replacement(conn, org, id, row.credential_version, audit)?;
        }
    }
    Ok(stored)
}

fn serialize_meta(meta: &Map<String, Value>) -> Result<String, RepositoryError> {
    serde_json::to_string(meta)
        .map_err(|_| RepositoryError::Internal("meta_json could not be serialized".into()))
}

/// The organization's configurations matching `filter`, as a boxed query (used for
/// both the page and the count). A macro, not a function: the backend it is boxed
/// for is inferred from the inner connection it runs on (see crate::connection),
/// where Diesel builds the page's rows directly instead of through the
/// `MultiConnection`'s row type.
macro_rules! filtered {
    ($org:expr, $filter:expr) => {{
        let mut query = pc::table
            .filter(pc::organization_id.eq($org.0))
            .into_boxed();
        if let Some(provider) = $filter.provider_id {
            query = query.filter(pc::provider_id.eq(provider.0));
        }
        if let Some(active) = $filter.active {
            query = query.filter(pc::active.eq(active));
        }
        query
    }};
}

impl ProviderConfigRepository for DieselProviderConfigRepository {
    fn insert(
        &self,
        config: &NewProviderConfig,
        audit: &AuditEntry,
    ) -> Result<ProviderConfig, WriteError> {
        let created_at = to_db(config.created_at);
        let row = NewConfigRow {
            uid: &config.uid,
            organization_id: config.org_id.0,
            provider_id: config.provider_id.0,
            name: &config.name,
            account_sid: &config.account_sid,
            account_sid_key: account_sid_key(&config.account_sid),
            auth_token_ciphertext: config.auth_token.as_bytes(),
            auth_token_key_id: i64::from(config.auth_token.key_id().0),
            auth_token_last4: &config.auth_token_last4,
            active: config.active,
            base_url: config.base_url.as_deref(),
            sip_url: config.sip_url.as_deref(),
            meta_json: serialize_meta(&config.meta_json)?,
            version: 1,
            created_at,
            updated_at: created_at,
            verification_status: config.verification.map(|v| v.status.as_str()),
            verification_checked_at: config.verification.map(|v| to_db(v.checked_at)),
            public_fields: serialize_meta(&config.public_fields)?,
            secret_last4: serialize_last4(&config.secret_last4)?,
            credential_version: 1,
        };
        let writer = self.db.transaction_writer()?;
        let stored: ConfigRow = writer
            .run(|conn| {
                let insert = diesel::insert_into(pc::table)
                    .values(&row)
                    .returning(pc::all_columns);
                let stored: ConfigRow = on_backend!(conn, |inner| insert.get_result(inner))?;
                insert_event(
                    conn,
                    config.org_id,
                    Some(ProviderConfigId(stored.id)),
                    audit,
                )?;
                Ok(stored)
            })
            .map_err(write_error)?;
        Ok(stored.into_domain()?)
    }

    fn list(
        &self,
        org: OrgId,
        filter: ProviderConfigFilter,
        page: PageRequest,
    ) -> Result<Page<ProviderConfig>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let (offset, limit) = (page.offset(), page.limit());
        let rows: Vec<ConfigRow> = on_backend!(conn, |inner| filtered!(org, filter)
            .order((pc::created_at.desc(), pc::id.desc()))
            .limit(limit)
            .offset(offset)
            .load(inner))
        .map_err(repository_error)?;
        let seen = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        // A short page that is not past the end tells the total without counting.
        let total = if seen < limit && (seen > 0 || offset == 0) {
            offset.saturating_add(seen)
        } else {
            on_backend!(conn, |inner| filtered!(org, filter)
                .count()
                .get_result::<i64>(inner))
            .map_err(repository_error)?
        };
        let items = rows
            .into_iter()
            .map(ConfigRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }

    fn get(
        &self,
        org: OrgId,
        id: ProviderConfigId,
    ) -> Result<Option<ProviderConfig>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let query = pc::table
            .filter(pc::id.eq(id.0))
            .filter(pc::organization_id.eq(org.0));
        // The read of GET one: run on the inner connection (see crate::connection).
        on_backend!(conn, |inner| query.first::<ConfigRow>(inner).optional())
            .map_err(repository_error)?
            .map(ConfigRow::into_domain)
            .transpose()
    }

    fn update(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        update: &ProviderConfigUpdate,
        audit: &AuditEntry,
    ) -> Result<Option<ProviderConfig>, WriteError> {
        let writer = self.db.transaction_writer()?;
        let stored = writer
            .run(|conn| apply_update(conn, org, id, update, update.expected_version, audit))
            .map_err(write_error)?;
        Ok(stored.map(ConfigRow::into_domain).transpose()?)
    }

    fn update_locked(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        plan: &mut dyn FnMut(&ProviderConfig) -> Option<(ProviderConfigUpdate, AuditEntry)>,
    ) -> Result<Option<ProviderConfig>, WriteError> {
        let writer = self.db.transaction_writer()?;
        let outcome = writer.run::<_, LockedWriteError, _>(|conn| {
            let query = pc::table
                .filter(pc::id.eq(id.0))
                .filter(pc::organization_id.eq(org.0));
            // PostgreSQL: lock the row until the transaction ends. SQLite: the
            // transaction holds the write lock already (see crate::transaction).
            let current: Option<ConfigRow> = match conn {
                DbConnection::Postgresql(inner) => query.for_update().first(inner).optional()?,
                DbConnection::Sqlite(inner) => query.first(inner).optional()?,
            };
            let Some(current) = current else {
                return Ok(None);
            };
            let current = current.into_domain().map_err(LockedWriteError::Stored)?;
            let Some((update, audit)) = plan(&current) else {
                return Err(LockedWriteError::Declined);
            };
            Ok(apply_update(
                conn,
                org,
                id,
                &update,
                Some(current.version),
                &audit,
            )?)
        });
        match outcome {
            Ok(stored) => Ok(stored.map(ConfigRow::into_domain).transpose()?),
            Err(LockedWriteError::Declined) => Ok(None),
            Err(LockedWriteError::Stored(error)) => Err(WriteError::Repository(error)),
            Err(LockedWriteError::Database(error)) => Err(write_error(error)),
        }
    }

    fn delete(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        expected_version: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<bool, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let (low, high) = version_range(expected_version);
                let deleted = diesel::delete(
                    pc::table
                        .filter(pc::id.eq(id.0))
                        .filter(pc::organization_id.eq(org.0))
                        .filter(pc::version.between(low, high)),
                )
                .execute(conn)?;
                if deleted > 0 {
                    insert_event(conn, org, Some(id), audit)?;
                }
                Ok(deleted > 0)
            })
            .map_err(repository_error)
    }

    fn record_verification(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        verification: &Verification,
        expected_version: i64,
        audit: &AuditEntry,
    ) -> Result<Option<ProviderConfig>, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        let stored = writer
            .run(|conn| {
                let (low, high) = version_range(Some(expected_version));
                let stored: Option<ConfigRow> = diesel::update(
                    pc::table
                        .filter(pc::id.eq(id.0))
                        .filter(pc::organization_id.eq(org.0))
                        .filter(pc::version.between(low, high)),
                )
                .set((
                    pc::verification_status.eq(Some(verification.status.as_str())),
                    pc::verification_checked_at.eq(Some(to_db(verification.checked_at))),
                    pc::version.eq(pc::version + 1),
                ))
                .returning(pc::all_columns)
                .get_result(conn)
                .optional()?;
                if stored.is_some() {
                    insert_event(conn, org, Some(id), audit)?;
                }
                Ok(stored)
            })
            .map_err(repository_error)?;
        stored.map(ConfigRow::into_domain).transpose()
    }

    fn delete_unless_connected(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        expected_version: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<ConfigDeletion, RepositoryError> {
        crate::bridges::delete_config_unless_connected(&self.db, org, id, expected_version, audit)
    }
}

/// The configuration `id` of `org` as change events show it (the API's object
/// without `provider_details`: never a secret, its ciphertext or key id), read on
/// `conn` inside the transaction of the change; `None` when there is none.
pub(crate) fn event_view(
    conn: &mut DbConnection,
    org: OrgId,
    id: ProviderConfigId,
) -> Result<Option<Map<String, Value>>, DieselError> {
    // One statement: the row, its provider's slug and its organization's handle.
    let query = pc::table
        .inner_join(telephony_providers::table)
        .inner_join(crate::schema::organizations::table)
        .filter(pc::id.eq(id.0))
        .filter(pc::organization_id.eq(org.0))
        .select((
            pc::all_columns,
            telephony_providers::slug,
            crate::schema::organizations::domain_handle,
        ));
    // In every configuration write: on the inner connection (see crate::connection).
    let row: Option<(ConfigRow, String, String)> =
        on_backend!(conn, |inner| query.first(inner).optional())?;
    let Some((row, slug, handle)) = row else {
        return Ok(None);
    };
    let config = row.into_domain().map_err(|error| {
        DieselError::DeserializationError(Box::new(std::io::Error::other(error.to_string())))
    })?;
    let time = |at: switchboard_domain::shared::Timestamp| {
        Value::from(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    };
    let mut view = Map::new();
    view.insert("id".into(), Value::from(config.id.0));
    view.insert("name".into(), Value::from(config.name));
    view.insert("provider".into(), Value::from(slug));
    view.insert("account_sid".into(), Value::from(config.account_sid));
    view.insert(
        "auth_token_last4".into(),
        Value::from(config.auth_token_last4),
    );
    view.insert("active".into(), Value::from(config.active));
    view.insert(
        "base_url".into(),
        config.base_url.map_or(Value::Null, Value::from),
    );
    view.insert(
        "sip_url".into(),
        config.sip_url.map_or(Value::Null, Value::from),
    );
    view.insert("meta_json".into(), Value::Object(config.meta_json));
    view.insert("org_handle".into(), Value::from(handle));
    view.insert(
        "verification".into(),
        config.verification.map_or(Value::Null, |verification| {
            let mut map = Map::new();
            map.insert("status".into(), Value::from(verification.status.as_str()));
            map.insert("checked_at".into(), time(verification.checked_at));
            Value::Object(map)
        }),
    );
    // The `credentials` view (contract section 10): public fields with their
    // values, secrets that are set as `{"set": true, "last4"}`; never a secret.
    let mut credentials = config.public_fields.clone();
    for (name, last4) in &config.secret_last4 {
        let mut secret = Map::new();
        secret.insert("set".into(), Value::from(true));
        secret.insert("last4".into(), Value::from(last4.clone()));
        credentials.insert(name.clone(), Value::Object(secret));
    }
    view.insert("credentials".into(), Value::Object(credentials));
    view.insert(
        "credential_version".into(),
        Value::from(config.credential_version),
    );
    view.insert("version".into(), Value::from(config.version));
    view.insert("created_at".into(), time(config.created_at));
    view.insert("updated_at".into(), time(config.updated_at));
    Ok(Some(view))
}

/// The versions a compare-and-set accepts: exactly `version`, or any when `None`
/// (one query shape for both, so the statement is written once).
fn version_range(version: Option<i64>) -> (i64, i64) {
    version.map_or((i64::MIN, i64::MAX), |version| (version, version))
}
