//! Diesel implementation of the staged-rotation port: rotations, and the pending and
//! previous credential versions beside a configuration's current one (see
//! `switchboard_domain::telephony::rotation` for the model).
//!
//! Every write locks the configuration row first (PostgreSQL `FOR UPDATE`; SQLite's
//! transaction holds the write lock from its first statement), so rotation steps and
//! PATCHes of one configuration queue instead of interleaving; the partial unique
//! indexes of the migration (one pending and one previous version, one pending
//! rotation per configuration) hold even if they did not.
//!
//! Erasing a version deletes its row. SQLite connections run with `secure_delete`
//! on (the freed page is zeroed), and after a sweep that erased something the WAL is
//! checkpointed and truncated, so the old bytes leave the WAL file too. On PostgreSQL
//! a deleted row stays as a dead tuple until VACUUM: after a sweep that erased
//! something the sweeper runs `VACUUM credential_versions` (a single statement
//! outside any transaction, which also works behind a transaction-pooling
//! pgbouncer).

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::{Map, Value};
use switchboard_domain::audit::AuditEntry;
use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::{RepositoryError, Timestamp};
use switchboard_domain::telephony::{
    CredentialRotationRepository, ErasedVersion, NewRotation, PromoteOutcome, Promotion,
    ProviderConfig, ProviderConfigId, Rotation, RotationId, RotationStatus, StageChange,
    StartOutcome, StoredSecret, StoredVersion, Verification, VerificationStatus, VersionStage,
};

use crate::audit::insert_event;
use crate::connection::{DbConnection, on_backend};
use crate::database::{Backend, Database};
use crate::error::{is_unique_violation, repository_error};
use crate::schema::{
    credential_rotations as cr, credential_versions as cv, provider_configurations as pc,
};
use crate::telephony::{ConfigRow, last4_map, serialize_last4};
use crate::time::{from_db, to_db};
use crate::transaction::TxError;

const PENDING: &str = "pending";
const PREVIOUS: &str = "previous";

/// Why a start wrote nothing.
enum Refusal {
    NotFound,
    AlreadyPending,
    Changed,
}

/// [`CredentialRotationRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselRotationRepository {
    db: Database,
}

impl DieselRotationRepository {
    /// A repository using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A rotation row; field order is the table's column order.
#[derive(Queryable)]
struct RotationRow {
    id: i64,
    organization_id: i64,
    provider_config_id: i64,
    status: String,
    version: i64,
    secret_last4: String,
    created_at: NaiveDateTime,
    verification_status: Option<String>,
    verified_at: Option<NaiveDateTime>,
    promoted_at: Option<NaiveDateTime>,
    cancelled_at: Option<NaiveDateTime>,
    previous_expires_at: Option<NaiveDateTime>,
}

impl RotationRow {
    fn into_domain(self) -> Result<Rotation, RepositoryError> {
        let status = self.status.parse::<RotationStatus>().map_err(|_| {
            RepositoryError::Internal(format!("stored rotation {} has an unknown status", self.id))
        })?;
        let verification = match (self.verification_status, self.verified_at) {
            (Some(status), Some(at)) => Some(Verification {
                status: status.parse::<VerificationStatus>().map_err(|_| {
                    RepositoryError::Internal(format!(
                        "stored rotation {} has an unknown verification status",
                        self.id
                    ))
                })?,
                checked_at: from_db(at),
            }),
            _ => None,
        };
        Ok(Rotation {
            id: RotationId(self.id),
            org_id: OrgId(self.organization_id),
            config_id: ProviderConfigId(self.provider_config_id),
            status,
            version: self.version,
            secret_last4: last4_map(self.provider_config_id, &self.secret_last4)?,
            created_at: from_db(self.created_at),
            verification,
            promoted_at: self.promoted_at.map(from_db),
            cancelled_at: self.cancelled_at.map(from_db),
            previous_expires_at: self.previous_expires_at.map(from_db),
        })
    }
}

/// A version row; field order is the table's column order.
#[derive(Queryable)]
struct VersionRow {
    _id: i64,
    _organization_id: i64,
    provider_config_id: i64,
    version: i64,
    stage: String,
    sealed_secret: Vec<u8>,
    _key_id: i64,
    secret_last4: String,
    auth_token_last4: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

impl VersionRow {
    fn into_domain(self) -> Result<StoredVersion, RepositoryError> {
        let stage = match self.stage.as_str() {
            PENDING => VersionStage::Pending,
            PREVIOUS => VersionStage::Previous,
            "current" => VersionStage::Current,
            _ => VersionStage::Retired,
        };
        Ok(StoredVersion {
            config_id: ProviderConfigId(self.provider_config_id),
            version: self.version,
            stage,
            secret_last4: last4_map(self.provider_config_id, &self.secret_last4)?,
            sealed: StoredSecret::from_bytes(self.sealed_secret),
            auth_token_last4: self.auth_token_last4,
            created_at: from_db(self.created_at),
            expires_at: self.expires_at.map(from_db),
        })
    }
}

// `None` is NULL, as its column\'s default is: the INSERT is then one text whatever
// is left out, so Diesel finds its prepared statement by type instead of building
// the SQL per insert to look it up (docs/performance.md).
#[derive(Insertable)]
#[diesel(table_name = cv, treat_none_as_default_value = false)]
struct NewVersionRow<'a> {
    organization_id: i64,
    provider_config_id: i64,
    version: i64,
    stage: &'static str,
    sealed_secret: &'a [u8],
    key_id: i64,
    secret_last4: String,
    auth_token_last4: &'a str,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = cr)]
struct NewRotationRow {
    organization_id: i64,
    provider_config_id: i64,
    status: &'static str,
    version: i64,
    secret_last4: String,
    created_at: NaiveDateTime,
}

/// Configuration `id` of `org`, locked until the transaction ends (PostgreSQL;
/// SQLite's transaction holds the write lock already).
fn lock_config(
    conn: &mut DbConnection,
    org: OrgId,
    id: ProviderConfigId,
) -> Result<Option<ConfigRow>, DieselError> {
    let query = pc::table
        .filter(pc::id.eq(id.0))
        .filter(pc::organization_id.eq(org.0));
    match conn {
        DbConnection::Postgresql(inner) => query.for_update().first(inner).optional(),
        DbConnection::Sqlite(inner) => query.first(inner).optional(),
    }
}

fn config_exists(
    conn: &mut DbConnection,
    org: OrgId,
    id: ProviderConfigId,
) -> Result<bool, DieselError> {
    Ok(pc::table
        .filter(pc::id.eq(id.0))
        .filter(pc::organization_id.eq(org.0))
        .select(pc::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

fn stored(error: RepositoryError) -> DieselError {
    DieselError::DeserializationError(Box::new(std::io::Error::other(error.to_string())))
}

/// `entry` with the rotation's view as its `rotation` detail (the change event
/// shows it beside the configuration).
fn with_rotation(entry: &AuditEntry, rotation: &Rotation) -> AuditEntry {
    let mut entry = entry.clone();
    entry.changes = entry.changes.detail("rotation", rotation_detail(rotation));
    entry
}

/// What events and audit entries show of a rotation: never a secret.
fn rotation_detail(rotation: &Rotation) -> Value {
    let time = |at: Option<Timestamp>| {
        at.map_or(Value::Null, |at| {
            Value::from(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        })
    };
    let mut map = Map::new();
    map.insert("id".into(), Value::from(rotation.id.0));
    map.insert("status".into(), Value::from(rotation.status.as_str()));
    map.insert("version".into(), Value::from(rotation.version));
    map.insert(
        "previous_expires_at".into(),
        time(rotation.previous_expires_at),
    );
    Value::Object(map)
}

/// Erases the pending and previous versions of configuration `id` and cancels its
/// pending rotation, inside the transaction of a PATCH that replaced the secrets at
/// once (now at credential version `version`), recording one audit entry (and
/// event) per step, as `patch`'s actor.
pub(crate) fn retire_on_replacement(
    conn: &mut DbConnection,
    org: OrgId,
    id: ProviderConfigId,
    version: i64,
    patch: &AuditEntry,
) -> Result<(), DieselError> {
    // Most PATCHes find nothing to retire: one cached SELECT says so, where the
    // statements below would be run (and Diesel prepares an UPDATE anew every time,
    // never caching it) for nothing.
    let query = diesel::select(
        exists(cv::table.filter(cv::provider_config_id.eq(id.0))).or(exists(
            cr::table
                .filter(cr::provider_config_id.eq(id.0))
                .filter(cr::status.eq(PENDING)),
        )),
    );
    // On every PATCH of a secret: on the inner connection (see crate::connection).
    let staged = on_backend!(conn, |inner| query.get_result::<bool>(inner))?;
    if !staged {
        return Ok(());
    }
    let at = to_db(patch.at);
    let cancelled: Vec<RotationRow> = diesel::update(
        cr::table
            .filter(cr::provider_config_id.eq(id.0))
            .filter(cr::status.eq(PENDING)),
    )
    .set((cr::status.eq("cancelled"), cr::cancelled_at.eq(Some(at))))
    .returning(cr::all_columns)
    .get_results(conn)?;
    let previous: Vec<i64> = diesel::delete(
        cv::table
            .filter(cv::provider_config_id.eq(id.0))
            .filter(cv::stage.eq(PREVIOUS))
            .filter(cv::expires_at.gt(at)),
    )
    .returning(cv::version)
    .get_results(conn)?;
    // What remains (the pending version, an expired previous one) goes too.
    diesel::delete(cv::table.filter(cv::provider_config_id.eq(id.0))).execute(conn)?;
    for row in cancelled {
        let rotation = row.into_domain().map_err(stored)?;
        let mut entry = with_rotation(patch, &rotation);
        entry.action = switchboard_domain::audit::AuditAction::RotationCancelled;
        entry.changes = entry
            .changes
            .detail("reason", "replaced")
            .detail("credential_version", version);
        insert_event(conn, org, Some(id), &entry)?;
    }
    for erased in previous {
        let mut entry = patch.clone();
        entry.action = switchboard_domain::audit::AuditAction::PreviousExpired;
        entry.changes = switchboard_domain::audit::AuditChanges::new()
            .detail("reason", "replaced")
            .detail("previous_version", erased);
        insert_event(conn, org, Some(id), &entry)?;
    }
    Ok(())
}

impl CredentialRotationRepository for DieselRotationRepository {
    fn start(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        new: &NewRotation,
        audit: &AuditEntry,
    ) -> Result<StartOutcome, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        let last4 = serialize_last4(&new.secret_last4)?;
        let outcome = writer.run::<_, TxError<Refusal>, _>(|conn| {
            let Some(current) = lock_config(conn, org, config)? else {
                return Err(TxError::Abort(Refusal::NotFound));
            };
            if current.credential_version != new.from_version {
                return Err(TxError::Abort(Refusal::Changed));
            }
            let pending: i64 = cr::table
                .filter(cr::provider_config_id.eq(config.0))
                .filter(cr::status.eq(PENDING))
                .count()
                .get_result(conn)?;
            if pending > 0 {
                return Err(TxError::Abort(Refusal::AlreadyPending));
            }
            let version = new.from_version + 1;
            let created_at = to_db(new.created_at);
            diesel::insert_into(cv::table)
                .values(&NewVersionRow {
                    organization_id: org.0,
                    provider_config_id: config.0,
                    version,
                    stage: PENDING,
                    sealed_secret: new.sealed.as_bytes(),
                    key_id: i64::from(new.sealed.key_id().0),
                    secret_last4: last4.clone(),
                    auth_token_last4: &new.auth_token_last4,
                    created_at,
                    expires_at: None,
                })
                .execute(conn)?;
            let row: RotationRow = diesel::insert_into(cr::table)
                .values(&NewRotationRow {
                    organization_id: org.0,
                    provider_config_id: config.0,
                    status: PENDING,
                    version,
                    secret_last4: last4.clone(),
                    created_at,
                })
                .returning(cr::all_columns)
                .get_result(conn)?;
            let rotation = row.into_domain().map_err(stored)?;
            insert_event(conn, org, Some(config), &with_rotation(audit, &rotation))?;
            Ok(rotation)
        });
        match outcome {
            Ok(rotation) => Ok(StartOutcome::Started(rotation)),
            Err(TxError::Abort(Refusal::NotFound)) => Ok(StartOutcome::NotFound),
            Err(TxError::Abort(Refusal::AlreadyPending)) => Ok(StartOutcome::AlreadyPending),
            Err(TxError::Abort(Refusal::Changed)) => Ok(StartOutcome::Changed),
            // The database's own guard: another start won the race.
            Err(TxError::Db(error)) if is_unique_violation(&error) => {
                Ok(StartOutcome::AlreadyPending)
            }
            Err(TxError::Db(error)) => Err(repository_error(error)),
        }
    }

    fn list(
        &self,
        org: OrgId,
        config: ProviderConfigId,
    ) -> Result<Option<Vec<Rotation>>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        if !config_exists(conn, org, config).map_err(repository_error)? {
            return Ok(None);
        }
        let rows: Vec<RotationRow> = cr::table
            .filter(cr::provider_config_id.eq(config.0))
            .filter(cr::organization_id.eq(org.0))
            .order((cr::created_at.desc(), cr::id.desc()))
            .load(conn)
            .map_err(repository_error)?;
        rows.into_iter()
            .map(RotationRow::into_domain)
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn get(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
    ) -> Result<Option<(Rotation, Option<StoredVersion>)>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let row: Option<RotationRow> = cr::table
            .filter(cr::id.eq(id.0))
            .filter(cr::provider_config_id.eq(config.0))
            .filter(cr::organization_id.eq(org.0))
            .first(conn)
            .optional()
            .map_err(repository_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let rotation = row.into_domain()?;
        let version = if rotation.status == RotationStatus::Pending {
            cv::table
                .filter(cv::provider_config_id.eq(config.0))
                .filter(cv::stage.eq(PENDING))
                .filter(cv::version.eq(rotation.version))
                .first::<VersionRow>(conn)
                .optional()
                .map_err(repository_error)?
                .map(VersionRow::into_domain)
                .transpose()?
        } else {
            None
        };
        Ok(Some((rotation, version)))
    }

    fn record_verification(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
        verification: &Verification,
        audit: &AuditEntry,
    ) -> Result<Option<Rotation>, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        let row = writer
            .run(|conn| {
                let row: Option<RotationRow> = diesel::update(
                    cr::table
                        .filter(cr::id.eq(id.0))
                        .filter(cr::provider_config_id.eq(config.0))
                        .filter(cr::organization_id.eq(org.0))
                        .filter(cr::status.eq(PENDING)),
                )
                .set((
                    cr::verification_status.eq(Some(verification.status.as_str())),
                    cr::verified_at.eq(Some(to_db(verification.checked_at))),
                ))
                .returning(cr::all_columns)
                .get_result(conn)
                .optional()?;
                if let Some(row) = row {
                    let rotation = row.into_domain().map_err(stored)?;
                    insert_event(conn, org, Some(config), &with_rotation(audit, &rotation))?;
                    return Ok(Some(rotation));
                }
                Ok(None)
            })
            .map_err(repository_error)?;
        Ok(row)
    }

    fn promote(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
        plan: &mut dyn FnMut(&ProviderConfig, &Rotation) -> Option<Promotion>,
    ) -> Result<PromoteOutcome, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        let outcome = writer.run::<_, TxError<PromoteOutcome>, _>(|conn| {
            let Some(current) = lock_config(conn, org, config)? else {
                return Err(TxError::Abort(PromoteOutcome::NotFound));
            };
            let row: Option<RotationRow> = cr::table
                .filter(cr::id.eq(id.0))
                .filter(cr::provider_config_id.eq(config.0))
                .first(conn)
                .optional()?;
            let Some(row) = row else {
                return Err(TxError::Abort(PromoteOutcome::NotFound));
            };
            let rotation = row.into_domain().map_err(stored)?;
            if rotation.status != RotationStatus::Pending {
                return Err(TxError::Abort(PromoteOutcome::NotPending));
            }
            let pending: Option<VersionRow> = cv::table
                .filter(cv::provider_config_id.eq(config.0))
                .filter(cv::stage.eq(PENDING))
                .filter(cv::version.eq(rotation.version))
                .first(conn)
                .optional()?;
            let Some(pending) = pending else {
                return Err(TxError::Abort(PromoteOutcome::NotPending));
            };
            let (old_blob, old_key, old_last4, old_secret_last4, old_version) = (
                current.auth_token_ciphertext.clone(),
                current.auth_token_key_id,
                current.auth_token_last4.clone(),
                current.secret_last4.clone(),
                current.credential_version,
            );
            let domain = current.into_domain().map_err(stored)?;
            let Some(promotion) = plan(&domain, &rotation) else {
                return Err(TxError::Abort(PromoteOutcome::Declined));
            };
            let at = to_db(promotion.at);
            // A live previous version is retired at once; an expired one goes too.
            let retired: Vec<i64> = diesel::delete(
                cv::table
                    .filter(cv::provider_config_id.eq(config.0))
                    .filter(cv::stage.eq(PREVIOUS))
                    .filter(cv::expires_at.gt(at)),
            )
            .returning(cv::version)
            .get_results(conn)?;
            diesel::delete(
                cv::table
                    .filter(cv::provider_config_id.eq(config.0))
                    .filter(cv::stage.eq(PREVIOUS)),
            )
            .execute(conn)?;
            for version in retired {
                let mut entry = promotion.retired_audit.clone();
                entry.changes = entry.changes.detail("previous_version", version);
                insert_event(conn, org, Some(config), &entry)?;
            }
            if let Some(expires_at) = promotion.previous_expires_at {
                diesel::insert_into(cv::table)
                    .values(&NewVersionRow {
                        organization_id: org.0,
                        provider_config_id: config.0,
                        version: old_version,
                        stage: PREVIOUS,
                        sealed_secret: &old_blob,
                        key_id: old_key,
                        secret_last4: old_secret_last4,
                        auth_token_last4: &old_last4,
                        created_at: at,
                        expires_at: Some(to_db(expires_at)),
                    })
                    .execute(conn)?;
            }
            let verification = rotation.verification;
            let updated: ConfigRow = diesel::update(
                pc::table
                    .filter(pc::id.eq(config.0))
                    .filter(pc::organization_id.eq(org.0)),
            )
            .set((
                pc::auth_token_ciphertext.eq(&pending.sealed_secret),
                pc::auth_token_key_id.eq(pending._key_id),
                pc::auth_token_last4.eq(&pending.auth_token_last4),
                pc::secret_last4.eq(&pending.secret_last4),
                pc::credential_version.eq(pending.version),
                pc::verification_status.eq(verification.map(|v| v.status.as_str())),
                pc::verification_checked_at.eq(verification.map(|v| to_db(v.checked_at))),
                pc::updated_at.eq(at),
                pc::version.eq(pc::version + 1),
            ))
            .returning(pc::all_columns)
            .get_result(conn)?;
            diesel::delete(
                cv::table
                    .filter(cv::provider_config_id.eq(config.0))
                    .filter(cv::stage.eq(PENDING)),
            )
            .execute(conn)?;
            let row: RotationRow = diesel::update(cr::table.filter(cr::id.eq(id.0)))
                .set((
                    cr::status.eq("promoted"),
                    cr::promoted_at.eq(Some(at)),
                    cr::previous_expires_at.eq(promotion.previous_expires_at.map(to_db)),
                ))
                .returning(cr::all_columns)
                .get_result(conn)?;
            let rotation = row.into_domain().map_err(stored)?;
            insert_event(
                conn,
                org,
                Some(config),
                &with_rotation(&promotion.audit, &rotation),
            )?;
            let config = updated.into_domain().map_err(stored)?;
            Ok((config, rotation))
        });
        match outcome {
            Ok(promoted) => Ok(PromoteOutcome::Promoted(Box::new(promoted))),
            Err(TxError::Abort(outcome)) => Ok(outcome),
            Err(TxError::Db(error)) => Err(repository_error(error)),
        }
    }

    fn cancel(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        id: RotationId,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<StageChange, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                if lock_config(conn, org, config)?.is_none() {
                    return Ok(StageChange::NotFound);
                }
                let row: Option<RotationRow> = diesel::update(
                    cr::table
                        .filter(cr::id.eq(id.0))
                        .filter(cr::provider_config_id.eq(config.0))
                        .filter(cr::status.eq(PENDING)),
                )
                .set((
                    cr::status.eq("cancelled"),
                    cr::cancelled_at.eq(Some(to_db(at))),
                ))
                .returning(cr::all_columns)
                .get_result(conn)
                .optional()?;
                let Some(row) = row else {
                    let exists = cr::table
                        .filter(cr::id.eq(id.0))
                        .filter(cr::provider_config_id.eq(config.0))
                        .select(cr::id)
                        .first::<i64>(conn)
                        .optional()?
                        .is_some();
                    return Ok(if exists {
                        StageChange::NothingToDo
                    } else {
                        StageChange::NotFound
                    });
                };
                let rotation = row.into_domain().map_err(stored)?;
                diesel::delete(
                    cv::table
                        .filter(cv::provider_config_id.eq(config.0))
                        .filter(cv::stage.eq(PENDING)),
                )
                .execute(conn)?;
                insert_event(conn, org, Some(config), &with_rotation(audit, &rotation))?;
                Ok(StageChange::Done)
            })
            .map_err(repository_error)
    }

    fn end_previous(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<StageChange, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                if lock_config(conn, org, config)?.is_none() {
                    return Ok(StageChange::NotFound);
                }
                let erased: Vec<i64> = diesel::delete(
                    cv::table
                        .filter(cv::provider_config_id.eq(config.0))
                        .filter(cv::stage.eq(PREVIOUS))
                        .filter(cv::expires_at.gt(to_db(now))),
                )
                .returning(cv::version)
                .get_results(conn)?;
                if erased.is_empty() {
                    return Ok(StageChange::NothingToDo);
                }
                for version in erased {
                    let mut entry = audit.clone();
                    entry.changes = entry.changes.detail("previous_version", version);
                    insert_event(conn, org, Some(config), &entry)?;
                }
                Ok(StageChange::Done)
            })
            .map_err(repository_error)
    }

    fn live_previous(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        now: Timestamp,
    ) -> Result<Option<StoredVersion>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        cv::table
            .filter(cv::provider_config_id.eq(config.0))
            .filter(cv::organization_id.eq(org.0))
            .filter(cv::stage.eq(PREVIOUS))
            .filter(cv::expires_at.gt(to_db(now)))
            .first::<VersionRow>(conn)
            .optional()
            .map_err(repository_error)?
            .map(VersionRow::into_domain)
            .transpose()
    }

    fn sweep_expired(
        &self,
        now: Timestamp,
        audit_of: &dyn Fn(&ErasedVersion) -> AuditEntry,
    ) -> Result<Vec<ErasedVersion>, RepositoryError> {
        // Most sweeps find nothing: look first on a reader, so that an idle sweep
        // never takes SQLite's write lock.
        {
            let mut pooled = self.db.reader()?;
            let conn: &mut DbConnection = &mut pooled;
            let due: Option<i64> = cv::table
                .filter(cv::stage.eq(PREVIOUS))
                .filter(cv::expires_at.le(to_db(now)))
                .select(cv::id)
                .first(conn)
                .optional()
                .map_err(repository_error)?;
            if due.is_none() {
                return Ok(Vec::new());
            }
        }
        let erased = {
            let writer = self.db.transaction_writer()?;
            writer
                .run(|conn| {
                    // One statement: of several replicas sweeping at once, each row is
                    // deleted (and its event recorded) by exactly one.
                    let rows: Vec<(i64, i64, i64)> = diesel::delete(
                        cv::table
                            .filter(cv::stage.eq(PREVIOUS))
                            .filter(cv::expires_at.le(to_db(now))),
                    )
                    .returning((cv::organization_id, cv::provider_config_id, cv::version))
                    .get_results(conn)?;
                    let erased: Vec<ErasedVersion> = rows
                        .into_iter()
                        .map(|(org, config, version)| ErasedVersion {
                            org_id: OrgId(org),
                            config_id: ProviderConfigId(config),
                            version,
                        })
                        .collect();
                    for version in &erased {
                        insert_event(
                            conn,
                            version.org_id,
                            Some(version.config_id),
                            &audit_of(version),
                        )?;
                    }
                    Ok(erased)
                })
                .map_err(repository_error)?
        };
        if !erased.is_empty() {
            self.compact();
        }
        Ok(erased)
    }
}

impl DieselRotationRepository {
    /// Makes erased versions physically gone where the backend keeps deleted bytes
    /// (see the module). A failure is logged, never an error of the sweep: the rows
    /// are deleted either way, and the next sweep that erases something tries again.
    fn compact(&self) {
        let statement = match self.db.backend() {
            Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
            Backend::Postgres => "VACUUM credential_versions",
        };
        // A simple query: no prepared statement, no transaction (VACUUM refuses
        // to run inside one).
        let outcome = self.db.writer().and_then(|mut pooled| {
            let conn: &mut DbConnection = &mut pooled;
            conn.batch_execute(statement).map_err(repository_error)
        });
        if let Err(error) = outcome {
            tracing::warn!(%error, statement, "compaction after erasing credential versions failed");
        }
    }
}
