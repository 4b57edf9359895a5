//! Diesel implementation of the audit port, and [`insert_event`], which every
//! repository of this crate calls inside its own transaction so that a change and
//! its event commit (or roll back) together. It also records the change event of
//! the change (`crate::events`), with its webhook deliveries.
//!
//! Events name their configuration by id without a foreign key, so they outlive it.
//! The `changes` column holds JSON text; this module never inspects it beyond
//! parsing it back into an object.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::Value;
use switchboard_domain::audit::{
    AuditAction, AuditEntry, AuditEvent, AuditEventId, AuditFilter, AuditRepository,
};
use switchboard_domain::identity::{OrgId, TokenId, UserId};
use switchboard_domain::shared::{Page, PageRequest, RepositoryError};
use switchboard_domain::telephony::ProviderConfigId;

use crate::connection::{DbConnection, MultiBackend, on_backend};
use crate::database::Database;
use crate::error::repository_error;
use crate::schema::audit_events as ae;
use crate::time::{from_db, to_db};

/// [`AuditRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselAuditRepository {
    db: Database,
}

impl DieselAuditRepository {
    /// A repository using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// An event row; field order is the table's column order (`RETURNING` relies on it).
#[derive(Queryable)]
struct AuditRow {
    id: i64,
    organization_id: i64,
    provider_config_id: Option<i64>,
    user_id: Option<i64>,
    token_id: Option<i64>,
    request_id: Option<String>,
    action: String,
    changes: String,
    created_at: NaiveDateTime,
}

impl AuditRow {
    fn into_domain(self) -> Result<AuditEvent, RepositoryError> {
        let action = self.action.parse::<AuditAction>().map_err(|_| {
            RepositoryError::Internal(format!(
                "stored audit event {} has an unknown action",
                self.id
            ))
        })?;
        let changes = match serde_json::from_str::<Value>(&self.changes) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(RepositoryError::Internal(format!(
                    "stored audit event {} has changes that are not a JSON object",
                    self.id
                )));
            }
        };
        Ok(AuditEvent {
            id: AuditEventId(self.id),
            org_id: OrgId(self.organization_id),
            provider_config_id: self.provider_config_id.map(ProviderConfigId),
            user_id: self.user_id.map(UserId),
            token_id: self.token_id.map(TokenId),
            request_id: self.request_id,
            action,
            changes,
            created_at: from_db(self.created_at),
        })
    }
}

// `None` is NULL, as its column\'s default is: the INSERT is then one text whatever
// is left out, so Diesel finds its prepared statement by type instead of building
// the SQL per insert to look it up (docs/performance.md).
#[derive(Insertable)]
#[diesel(table_name = ae, treat_none_as_default_value = false)]
struct NewAuditRow<'a> {
    organization_id: i64,
    provider_config_id: Option<i64>,
    user_id: Option<i64>,
    token_id: Option<i64>,
    request_id: Option<&'a str>,
    action: &'a str,
    changes: String,
    created_at: NaiveDateTime,
}

/// Inserts the event `entry` about configuration `config` of `org` on `conn`. Call
/// it inside the transaction of the change it describes.
///
/// # Errors
/// The database's error (the caller's transaction then rolls back).
pub(crate) fn insert_event(
    conn: &mut DbConnection,
    org: OrgId,
    config: Option<ProviderConfigId>,
    entry: &AuditEntry,
) -> Result<AuditEvent, DieselError> {
    let changes = serde_json::to_string(&Value::Object(entry.changes.to_json()))
        .map_err(|error| DieselError::SerializationError(Box::new(error)))?;
    let row = NewAuditRow {
        organization_id: org.0,
        provider_config_id: config.map(|id| id.0),
        user_id: entry.actor.user_id.map(|id| id.0),
        token_id: entry.actor.token_id.map(|id| id.0),
        request_id: entry.actor.request_id.as_deref(),
        action: entry.action.as_str(),
        changes,
        created_at: to_db(entry.at),
    };
    // In every write's transaction: on the inner connection (see crate::connection).
    let insert = diesel::insert_into(ae::table)
        .values(&row)
        .returning(ae::all_columns);
    let stored: AuditRow = on_backend!(conn, |inner| insert.get_result(inner))?;
    // Every audited change is also a change event (contract section 13), in the
    // same transaction.
    crate::events::record_for_audit(conn, org, config, entry)?;
    stored.into_domain().map_err(|error| {
        DieselError::DeserializationError(Box::new(std::io::Error::other(error.to_string())))
    })
}

fn filtered(org: OrgId, filter: &AuditFilter) -> ae::BoxedQuery<'static, MultiBackend> {
    let mut query = ae::table
        .filter(ae::organization_id.eq(org.0))
        .into_boxed::<MultiBackend>();
    if let Some(config) = filter.provider_config_id {
        query = query.filter(ae::provider_config_id.eq(config.0));
    }
    if let Some(action) = filter.action {
        query = query.filter(ae::action.eq(action.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(ae::created_at.ge(to_db(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(ae::created_at.le(to_db(to)));
    }
    query
}

impl AuditRepository for DieselAuditRepository {
    fn record(
        &self,
        org: OrgId,
        provider_config_id: Option<ProviderConfigId>,
        entry: &AuditEntry,
    ) -> Result<AuditEvent, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        // The audit row and its change event commit together.
        writer
            .run(|conn| insert_event(conn, org, provider_config_id, entry))
            .map_err(repository_error)
    }

    fn list(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let (offset, limit) = (page.offset(), page.limit());
        let rows: Vec<AuditRow> = filtered(org, filter)
            .order((ae::created_at.desc(), ae::id.desc()))
            .limit(limit)
            .offset(offset)
            .load(conn)
            .map_err(repository_error)?;
        let seen = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        // A short page that is not past the end tells the total without counting.
        let total = if seen < limit && (seen > 0 || offset == 0) {
            offset.saturating_add(seen)
        } else {
            filtered(org, filter)
                .count()
                .get_result::<i64>(conn)
                .map_err(repository_error)?
        };
        let items = rows
            .into_iter()
            .map(AuditRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}
