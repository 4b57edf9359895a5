//! Change events, webhook endpoints and deliveries: [`record_change`], which the
//! repositories of this crate call inside the transaction of a change (so a change
//! and its event and deliveries commit or roll back together), the feed, and the
//! delivery queue the worker claims from.
//!
//! Commit order. On SQLite one writer holds the write lock for a whole transaction,
//! so ids follow commit order and `position` is 0. On PostgreSQL `position` is the
//! writing transaction's id (`pg_current_xact_id()`, the column's default); readers
//! order by `(position, id)` and read only positions below the oldest transaction
//! still running (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction
//! below it has ended, and every later one gets a larger id, so a reader never
//! passes an event that a slower transaction has yet to commit.
//!
//! Claims. A worker leases whole endpoints (`claimed_until`, `claimed_by`), so one
//! endpoint's deliveries go out one at a time and in order; on PostgreSQL the claim
//! takes the endpoint rows `FOR UPDATE SKIP LOCKED`, so two replicas never lease the
//! same endpoint; on SQLite the claim runs under the write lock. A worker that dies
//! holding a lease loses it when the lease expires, and its unfinished deliveries
//! are tried again (at least once).

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::{Map, Value};
use switchboard_domain::audit::AuditEntry;
use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::{Page, PageRequest, RepositoryError, Timestamp};
use switchboard_domain::telephony::{ProviderConfigId, SealedSecret, StoredSecret};
use switchboard_domain::webhooks::{
    AttemptOutcome, ChangeEvent, ClaimedEndpoint, Delivery, DeliveryId, DeliveryStatus,
    DueDelivery, EndpointId, EndpointUpdate, EndpointWriteError, EventFeed, EventType,
    NewChangeEvent, NewWebhookEndpoint, QueueStats, WebhookEndpoint, WebhookRepository,
    endpoint_receives, event_type_of_audit,
};

use crate::connection::{DbConnection, on_backend};
use crate::database::Database;
use crate::error::repository_error;
use crate::schema::{
    events as ev, organizations, webhook_deliveries as wd, webhook_endpoints as we,
};
use crate::time::{from_db, to_db};
use crate::transaction::TxError;

const PENDING: &str = "pending";
const FAILED: &str = "failed";
/// The statuses of deliveries waiting for an attempt.
const WAITING: [&str; 2] = [PENDING, FAILED];

#[derive(Insertable)]
#[diesel(table_name = ev)]
struct NewEventRow<'a> {
    uid: &'a str,
    organization_id: i64,
    event_type: &'a str,
    body: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = wd)]
struct NewDeliveryRow {
    organization_id: i64,
    event_id: i64,
    endpoint_id: i64,
    status: &'static str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// A fresh public event id.
fn event_uid() -> String {
    format!("evt_{}", uuid::Uuid::new_v4().simple())
}

fn serialization(error: serde_json::Error) -> DieselError {
    DieselError::SerializationError(Box::new(error))
}

/// Inserts the event and its body, on `conn`, inside the caller's transaction.
/// `handle` is `org`'s when the caller has read it already (`None`: read here).
fn insert_event_row(
    conn: &mut DbConnection,
    org: OrgId,
    handle: Option<String>,
    event: &NewChangeEvent,
    at: Timestamp,
) -> Result<(i64, ChangeEvent), DieselError> {
    let handle = match handle {
        Some(handle) => handle,
        None => {
            let query = organizations::table
                .filter(organizations::id.eq(org.0))
                .select(organizations::domain_handle);
            on_backend!(conn, |inner| query.first(inner))?
        }
    };
    let uid = event_uid();
    let mut body = Map::new();
    body.insert("id".into(), Value::from(uid.clone()));
    body.insert("type".into(), Value::from(event.event_type.as_str()));
    body.insert(
        "timestamp".into(),
        Value::from(at.to_rfc3339_opts(SecondsFormat::Micros, true)),
    );
    body.insert("organization".into(), Value::from(handle));
    body.insert("data".into(), Value::Object(event.data.clone()));
    let text = serde_json::to_string(&body).map_err(serialization)?;
    // In every write's transaction: on the inner connection (see crate::connection).
    let insert = diesel::insert_into(ev::table)
        .values(NewEventRow {
            uid: &uid,
            organization_id: org.0,
            event_type: event.event_type.as_str(),
            body: &text,
            created_at: to_db(at),
        })
        .returning(ev::id);
    let id: i64 = on_backend!(conn, |inner| insert.get_result(inner))?;
    Ok((
        id,
        ChangeEvent {
            uid,
            org_id: org,
            event_type: event.event_type.as_str().to_owned(),
            body,
            created_at: at,
        },
    ))
}

fn insert_delivery(
    conn: &mut DbConnection,
    org: OrgId,
    event_id: i64,
    endpoint_id: i64,
    at: Timestamp,
) -> Result<(), DieselError> {
    let insert = diesel::insert_into(wd::table).values(NewDeliveryRow {
        organization_id: org.0,
        event_id,
        endpoint_id,
        status: PENDING,
        attempts: 0,
        next_attempt_at: to_db(at),
        created_at: to_db(at),
    });
    on_backend!(conn, |inner| insert.execute(inner))?;
    Ok(())
}

/// Records `event` of `org` and one delivery per enabled endpoint of `org`
/// subscribed to its type, on `conn`. Call it inside the transaction of the change.
///
/// # Errors
/// The database's error (the caller's transaction then rolls back).
pub(crate) fn record_change(
    conn: &mut DbConnection,
    org: OrgId,
    event: &NewChangeEvent,
    at: Timestamp,
) -> Result<ChangeEvent, DieselError> {
    record_change_of(conn, org, None, event, at)
}

/// [`record_change`] with `org`'s handle when the caller has it.
fn record_change_of(
    conn: &mut DbConnection,
    org: OrgId,
    handle: Option<String>,
    event: &NewChangeEvent,
    at: Timestamp,
) -> Result<ChangeEvent, DieselError> {
    let (event_id, recorded) = insert_event_row(conn, org, handle, event, at)?;
    // In every write's transaction: on the inner connection (see crate::connection).
    let query = we::table
        .filter(we::organization_id.eq(org.0))
        .filter(we::enabled.eq(true))
        .select((we::id, we::event_types))
        .order(we::id.asc());
    let endpoints: Vec<(i64, String)> = on_backend!(conn, |inner| query.load(inner))?;
    for (endpoint_id, subscribed) in endpoints {
        if endpoint_receives(&parse_event_types(&subscribed), event.event_type) {
            insert_delivery(conn, org, event_id, endpoint_id, at)?;
        }
    }
    Ok(recorded)
}

/// Records the change event matching an audit entry about configuration `config`
/// (see [`crate::audit::insert_event`]): the configuration as it now stands, or for
/// a deletion its id, or for a bridge connection the bridge, number and
/// configuration.
pub(crate) fn record_for_audit(
    conn: &mut DbConnection,
    org: OrgId,
    config: Option<ProviderConfigId>,
    entry: &AuditEntry,
) -> Result<(), DieselError> {
    let Some(event_type) = event_type_of_audit(entry.action) else {
        return Ok(());
    };
    let mut data = Map::new();
    // The configuration's view carries its organization's handle, which the event
    // body needs too: read once.
    let mut handle = None;
    match event_type {
        EventType::BridgeProviderConnected | EventType::BridgeProviderDisconnected => {
            let changes = entry.changes.to_json();
            for key in ["bridge", "phone_number"] {
                if let Some(value) = changes.get(key) {
                    data.insert(key.to_owned(), value.clone());
                }
            }
            data.insert(
                "provider_config_id".into(),
                config.map_or(Value::Null, |id| Value::from(id.0)),
            );
        }
        EventType::ConfigurationDeleted => {
            data.insert(
                "id".into(),
                config.map_or(Value::Null, |id| Value::from(id.0)),
            );
        }
        _ => {
            if let Some(id) = config
                && let Some(view) = crate::telephony::event_view(conn, org, id)?
            {
                handle = view
                    .get("org_handle")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                data = view;
            } else {
                data.insert(
                    "id".into(),
                    config.map_or(Value::Null, |id| Value::from(id.0)),
                );
            }
            // Rotation events: the configuration as it now stands, the rotation and
            // the step's details (never a secret).
            if matches!(
                event_type,
                EventType::RotationStarted
                    | EventType::RotationPromoted
                    | EventType::RotationCancelled
                    | EventType::RotationPreviousExpired
            ) {
                let changes = entry.changes.to_json();
                for key in ["rotation", "reason", "previous_version"] {
                    if let Some(value) = changes.get(key) {
                        data.insert(key.to_owned(), value.clone());
                    }
                }
            }
        }
    }
    record_change_of(
        conn,
        org,
        handle,
        &NewChangeEvent { event_type, data },
        entry.at,
    )?;
    Ok(())
}

/// The stored list of subscribed types (`[]`: all); unknown names are skipped.
fn parse_event_types(text: &str) -> Vec<EventType> {
    serde_json::from_str::<Vec<String>>(text)
        .unwrap_or_default()
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect()
}

fn event_types_text(types: &[EventType]) -> String {
    Value::from(types.iter().map(|kind| kind.as_str()).collect::<Vec<_>>()).to_string()
}

/// [`WebhookRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselWebhookRepository {
    db: Database,
}

impl DieselWebhookRepository {
    /// A repository using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// An endpoint row; field order is the table's column order.
#[derive(Queryable)]
struct EndpointRow {
    id: i64,
    uid: String,
    organization_id: i64,
    url: String,
    description: String,
    event_types: String,
    enabled: bool,
    disabled_reason: Option<String>,
    secret_ciphertext: Vec<u8>,
    _secret_key_id: i64,
    previous_secret_ciphertext: Option<Vec<u8>>,
    _previous_secret_key_id: Option<i64>,
    previous_secret_expires_at: Option<NaiveDateTime>,
    _claimed_until: Option<NaiveDateTime>,
    _claimed_by: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        Self {
            id: EndpointId(row.id),
            uid: row.uid,
            org_id: OrgId(row.organization_id),
            url: row.url,
            description: row.description,
            event_types: parse_event_types(&row.event_types),
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            secret: StoredSecret::from_bytes(row.secret_ciphertext),
            previous_secret: row.previous_secret_ciphertext.map(StoredSecret::from_bytes),
            previous_secret_expires_at: row.previous_secret_expires_at.map(from_db),
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = we)]
struct NewEndpointRow<'a> {
    uid: &'a str,
    organization_id: i64,
    url: &'a str,
    description: &'a str,
    event_types: String,
    enabled: bool,
    secret_ciphertext: &'a [u8],
    secret_key_id: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = we)]
struct EndpointChangeset<'a> {
    url: Option<&'a str>,
    description: Option<&'a str>,
    event_types: Option<String>,
    enabled: Option<bool>,
    updated_at: NaiveDateTime,
}

/// A delivery joined with its event, as listed.
type DeliveryTuple = (
    i64,
    i64,
    String,
    i32,
    Option<i32>,
    NaiveDateTime,
    NaiveDateTime,
    String,
    String,
);

fn delivery_from(row: DeliveryTuple) -> Result<Delivery, RepositoryError> {
    let (
        id,
        endpoint_id,
        status,
        attempts,
        last_status_code,
        next_attempt_at,
        created_at,
        uid,
        kind,
    ) = row;
    let status = status.parse::<DeliveryStatus>().map_err(|_| {
        RepositoryError::Internal(format!("stored delivery {id} has an unknown status"))
    })?;
    let waiting = matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed);
    Ok(Delivery {
        id: DeliveryId(id),
        endpoint_id: EndpointId(endpoint_id),
        event_uid: uid,
        event_type: kind,
        status,
        attempts,
        last_status_code,
        next_attempt_at: waiting.then(|| from_db(next_attempt_at)),
        created_at: from_db(created_at),
    })
}

/// The position below which every event has committed or never will (see the
/// module); `i64::MAX` on SQLite.
fn visible_below(conn: &mut DbConnection) -> Result<i64, DieselError> {
    match conn {
        DbConnection::Sqlite(_) => Ok(i64::MAX),
        DbConnection::Postgresql(inner) => {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
            ))
            .get_result(inner)
        }
    }
}

fn endpoint_query(
    org: OrgId,
    id: EndpointId,
) -> we::BoxedQuery<'static, crate::connection::MultiBackend> {
    we::table
        .filter(we::id.eq(id.0))
        .filter(we::organization_id.eq(org.0))
        .into_boxed()
}

fn endpoint_write_error(error: TxError<EndpointWriteError>) -> EndpointWriteError {
    match error {
        TxError::Db(error) => EndpointWriteError::Repository(repository_error(error)),
        TxError::Abort(error) => error,
    }
}

impl WebhookRepository for DieselWebhookRepository {
    fn insert_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
    ) -> Result<WebhookEndpoint, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let row: EndpointRow = diesel::insert_into(we::table)
            .values(&NewEndpointRow {
                uid: &endpoint.uid,
                organization_id: endpoint.org_id.0,
                url: &endpoint.url,
                description: &endpoint.description,
                event_types: event_types_text(&endpoint.event_types),
                enabled: endpoint.enabled,
                secret_ciphertext: endpoint.secret.as_bytes(),
                secret_key_id: i64::from(endpoint.secret.key_id().0),
                created_at: to_db(endpoint.at),
                updated_at: to_db(endpoint.at),
            })
            .returning(we::all_columns)
            .get_result(conn)
            .map_err(repository_error)?;
        Ok(row.into())
    }

    fn list_endpoints(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<EndpointRow> = we::table
            .filter(we::organization_id.eq(org.0))
            .order(we::id.asc())
            .limit(page.limit())
            .offset(page.offset())
            .load(conn)
            .map_err(repository_error)?;
        let total: i64 = we::table
            .filter(we::organization_id.eq(org.0))
            .count()
            .get_result(conn)
            .map_err(repository_error)?;
        Ok(Page {
            items: rows.into_iter().map(WebhookEndpoint::from).collect(),
            total: u64::try_from(total).unwrap_or_default(),
        })
    }

    fn get_endpoint(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> Result<Option<WebhookEndpoint>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let row: Option<EndpointRow> = endpoint_query(org, id)
            .first(conn)
            .optional()
            .map_err(repository_error)?;
        Ok(row.map(WebhookEndpoint::from))
    }

    fn update_endpoint(
        &self,
        org: OrgId,
        id: EndpointId,
        update: &EndpointUpdate,
        at: Timestamp,
    ) -> Result<WebhookEndpoint, EndpointWriteError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let changes = EndpointChangeset {
                    url: update.url.as_deref(),
                    description: update.description.as_deref(),
                    event_types: update.event_types.as_deref().map(event_types_text),
                    enabled: update.enabled,
                    updated_at: to_db(at),
                };
                let row: Option<EndpointRow> = diesel::update(
                    we::table
                        .filter(we::id.eq(id.0))
                        .filter(we::organization_id.eq(org.0)),
                )
                .set(changes)
                .returning(we::all_columns)
                .get_result(conn)
                .optional()?;
                let Some(row) = row else {
                    return Err(TxError::Abort(EndpointWriteError::NotFound));
                };
                if update.enabled == Some(true) && row.disabled_reason.is_some() {
                    let row: EndpointRow = diesel::update(we::table.filter(we::id.eq(id.0)))
                        .set(we::disabled_reason.eq(None::<String>))
                        .returning(we::all_columns)
                        .get_result(conn)?;
                    return Ok(row.into());
                }
                Ok(row.into())
            })
            .map_err(endpoint_write_error)
    }

    fn delete_endpoint(&self, org: OrgId, id: EndpointId) -> Result<bool, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let found: Option<i64> = we::table
                    .filter(we::id.eq(id.0))
                    .filter(we::organization_id.eq(org.0))
                    .select(we::id)
                    .first(conn)
                    .optional()?;
                if found.is_none() {
                    return Ok(false);
                }
                diesel::delete(wd::table.filter(wd::endpoint_id.eq(id.0))).execute(conn)?;
                diesel::delete(we::table.filter(we::id.eq(id.0))).execute(conn)?;
                Ok(true)
            })
            .map_err(repository_error)
    }

    fn rotate_secret(
        &self,
        org: OrgId,
        id: EndpointId,
        secret: &SealedSecret,
        previous_expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<WebhookEndpoint, EndpointWriteError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let current: Option<(Vec<u8>, i64)> = we::table
                    .filter(we::id.eq(id.0))
                    .filter(we::organization_id.eq(org.0))
                    .select((we::secret_ciphertext, we::secret_key_id))
                    .first(conn)
                    .optional()?;
                let Some((old, old_key)) = current else {
                    return Err(TxError::Abort(EndpointWriteError::NotFound));
                };
                let row: EndpointRow = diesel::update(we::table.filter(we::id.eq(id.0)))
                    .set((
                        we::previous_secret_ciphertext.eq(Some(old)),
                        we::previous_secret_key_id.eq(Some(old_key)),
                        we::previous_secret_expires_at.eq(Some(to_db(previous_expires_at))),
                        we::secret_ciphertext.eq(secret.as_bytes()),
                        we::secret_key_id.eq(i64::from(secret.key_id().0)),
                        we::updated_at.eq(to_db(at)),
                    ))
                    .returning(we::all_columns)
                    .get_result(conn)?;
                Ok(row.into())
            })
            .map_err(endpoint_write_error)
    }

    fn record_test_event(
        &self,
        org: OrgId,
        id: EndpointId,
        event: &NewChangeEvent,
        at: Timestamp,
    ) -> Result<ChangeEvent, EndpointWriteError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let found: Option<i64> = we::table
                    .filter(we::id.eq(id.0))
                    .filter(we::organization_id.eq(org.0))
                    .select(we::id)
                    .first(conn)
                    .optional()?;
                if found.is_none() {
                    return Err(TxError::Abort(EndpointWriteError::NotFound));
                }
                let (event_id, recorded) = insert_event_row(conn, org, None, event, at)?;
                insert_delivery(conn, org, event_id, id.0, at)?;
                Ok(recorded)
            })
            .map_err(endpoint_write_error)
    }

    fn list_deliveries(
        &self,
        org: OrgId,
        endpoint: EndpointId,
        page: PageRequest,
    ) -> Result<Page<Delivery>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<DeliveryTuple> = wd::table
            .inner_join(ev::table)
            .filter(wd::organization_id.eq(org.0))
            .filter(wd::endpoint_id.eq(endpoint.0))
            .order(wd::id.desc())
            .limit(page.limit())
            .offset(page.offset())
            .select((
                wd::id,
                wd::endpoint_id,
                wd::status,
                wd::attempts,
                wd::last_status_code,
                wd::next_attempt_at,
                wd::created_at,
                ev::uid,
                ev::event_type,
            ))
            .load(conn)
            .map_err(repository_error)?;
        let total: i64 = wd::table
            .filter(wd::organization_id.eq(org.0))
            .filter(wd::endpoint_id.eq(endpoint.0))
            .count()
            .get_result(conn)
            .map_err(repository_error)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(delivery_from)
                .collect::<Result<Vec<_>, _>>()?,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }

    fn retry_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        at: Timestamp,
    ) -> Result<Option<Delivery>, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let changed = diesel::update(
                    wd::table
                        .filter(wd::id.eq(id.0))
                        .filter(wd::organization_id.eq(org.0)),
                )
                .set((wd::status.eq(PENDING), wd::next_attempt_at.eq(to_db(at))))
                .execute(conn)?;
                if changed == 0 {
                    return Ok(None);
                }
                let row: DeliveryTuple = wd::table
                    .inner_join(ev::table)
                    .filter(wd::id.eq(id.0))
                    .select((
                        wd::id,
                        wd::endpoint_id,
                        wd::status,
                        wd::attempts,
                        wd::last_status_code,
                        wd::next_attempt_at,
                        wd::created_at,
                        ev::uid,
                        ev::event_type,
                    ))
                    .first(conn)?;
                Ok(Some(row))
            })
            .map_err(repository_error)?
            .map(delivery_from)
            .transpose()
    }

    fn events_after(
        &self,
        org: OrgId,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Option<EventFeed>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let (position, id) = match after {
            None => (i64::MIN, i64::MIN),
            Some(uid) => {
                let found: Option<(i64, i64)> = ev::table
                    .filter(ev::uid.eq(uid))
                    .filter(ev::organization_id.eq(org.0))
                    .select((ev::position, ev::id))
                    .first(conn)
                    .optional()
                    .map_err(repository_error)?;
                match found {
                    Some(found) => found,
                    None => return Ok(None),
                }
            }
        };
        let below = visible_below(conn).map_err(repository_error)?;
        let rows: Vec<(String, String, String, NaiveDateTime)> = ev::table
            .filter(ev::organization_id.eq(org.0))
            .filter(ev::position.lt(below))
            .filter(
                ev::position
                    .gt(position)
                    .or(ev::position.eq(position).and(ev::id.gt(id))),
            )
            .order((ev::position.asc(), ev::id.asc()))
            .limit(limit)
            .select((ev::uid, ev::event_type, ev::body, ev::created_at))
            .load(conn)
            .map_err(repository_error)?;
        let events = rows
            .into_iter()
            .map(|(uid, event_type, body, created_at)| {
                let body = match serde_json::from_str::<Value>(&body) {
                    Ok(Value::Object(map)) => map,
                    _ => {
                        return Err(RepositoryError::Internal(format!(
                            "stored event {uid} has a body that is not a JSON object"
                        )));
                    }
                };
                Ok(ChangeEvent {
                    uid,
                    org_id: org,
                    event_type,
                    body,
                    created_at: from_db(created_at),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(EventFeed { events }))
    }

    fn claim_due(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        endpoints: i64,
        per_endpoint: i64,
    ) -> Result<Vec<ClaimedEndpoint>, RepositoryError> {
        let now_db = to_db(now);
        // A read first: most polls find nothing, and need not take the writer
        // (SQLite's write lock) to learn it.
        {
            let mut reader = self.db.reader()?;
            let conn: &mut DbConnection = &mut reader;
            let anything: bool = diesel::select(exists(
                wd::table
                    .inner_join(we::table)
                    .filter(we::enabled.eq(true))
                    .filter(we::claimed_until.is_null().or(we::claimed_until.lt(now_db)))
                    .filter(wd::status.eq_any(WAITING))
                    .filter(wd::next_attempt_at.le(now_db)),
            ))
            .get_result(conn)
            .map_err(repository_error)?;
            if !anything {
                return Ok(Vec::new());
            }
        }
        let writer = self.db.transaction_writer()?;
        let claimed: Vec<EndpointRow> = writer
            .run(|conn| {
                let due = wd::table
                    .filter(wd::endpoint_id.eq(we::id))
                    .filter(wd::status.eq_any(WAITING))
                    .filter(wd::next_attempt_at.le(now_db));
                let free = we::table
                    .filter(we::enabled.eq(true))
                    .filter(we::claimed_until.is_null().or(we::claimed_until.lt(now_db)))
                    .filter(exists(due))
                    // Never claimed first, then the least recently claimed.
                    .order((
                        we::claimed_until.is_not_null().asc(),
                        we::claimed_until.asc(),
                        we::id.asc(),
                    ))
                    .limit(endpoints)
                    .select(we::id);
                let ids: Vec<i64> = match conn {
                    DbConnection::Postgresql(inner) => {
                        free.for_update().skip_locked().load(inner)?
                    }
                    DbConnection::Sqlite(inner) => free.load(inner)?,
                };
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                diesel::update(we::table.filter(we::id.eq_any(&ids)))
                    .set((
                        we::claimed_until.eq(Some(to_db(lease_until))),
                        we::claimed_by.eq(Some(worker)),
                    ))
                    .returning(we::all_columns)
                    .get_results(conn)
            })
            .map_err(repository_error)?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        // Committed: any connection sees the claim and the deliveries.
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let below = visible_below(conn).map_err(repository_error)?;
        let mut out = Vec::with_capacity(claimed.len());
        for row in claimed {
            let rows: Vec<(i64, i32, String, String)> = wd::table
                .inner_join(ev::table)
                .filter(wd::endpoint_id.eq(row.id))
                .filter(wd::status.eq_any(WAITING))
                .filter(wd::next_attempt_at.le(now_db))
                .filter(ev::position.lt(below))
                .order((ev::position.asc(), ev::id.asc()))
                .limit(per_endpoint)
                .select((wd::id, wd::attempts, ev::uid, ev::body))
                .load(conn)
                .map_err(repository_error)?;
            out.push(ClaimedEndpoint {
                endpoint: row.into(),
                deliveries: rows
                    .into_iter()
                    .map(|(id, attempts, event_uid, body)| DueDelivery {
                        id: DeliveryId(id),
                        event_uid,
                        body,
                        attempts,
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    fn record_attempt(
        &self,
        id: DeliveryId,
        outcome: &AttemptOutcome,
    ) -> Result<(), RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let endpoint: Option<i64> = diesel::update(wd::table.filter(wd::id.eq(id.0)))
                    .set((
                        wd::status.eq(outcome.status.as_str()),
                        wd::attempts.eq(wd::attempts + 1),
                        wd::last_status_code.eq(outcome.status_code),
                        wd::last_error.eq(outcome.error.as_deref()),
                        wd::next_attempt_at
                            .eq(to_db(outcome.next_attempt_at.unwrap_or(outcome.at))),
                        wd::last_attempt_at.eq(Some(to_db(outcome.at))),
                    ))
                    .returning(wd::endpoint_id)
                    .get_result(conn)
                    .optional()?;
                if outcome.disable_endpoint
                    && let Some(endpoint) = endpoint
                {
                    diesel::update(we::table.filter(we::id.eq(endpoint)))
                        .set((
                            we::enabled.eq(false),
                            we::disabled_reason.eq(Some("gone")),
                            we::updated_at.eq(to_db(outcome.at)),
                        ))
                        .execute(conn)?;
                }
                Ok(())
            })
            .map_err(repository_error)
    }

    fn release(
        &self,
        worker: &str,
        endpoint: EndpointId,
        at: Timestamp,
    ) -> Result<(), RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(
            we::table
                .filter(we::id.eq(endpoint.0))
                .filter(we::claimed_by.eq(worker)),
        )
        .set((
            // A lease that ended now: free, and last in the claim order.
            we::claimed_until.eq(Some(to_db(at))),
            we::claimed_by.eq(None::<String>),
        ))
        .execute(conn)
        .map_err(repository_error)?;
        Ok(())
    }

    fn redeliver_since(
        &self,
        since: Timestamp,
        include_succeeded: bool,
        now: Timestamp,
    ) -> Result<u64, RepositoryError> {
        let mut statuses = vec![FAILED, "dead"];
        if include_succeeded {
            statuses.push("succeeded");
        }
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let changed = diesel::update(
            wd::table
                .filter(wd::created_at.ge(to_db(since)))
                .filter(wd::status.eq_any(statuses)),
        )
        .set((wd::status.eq(PENDING), wd::next_attempt_at.eq(to_db(now))))
        .execute(conn)
        .map_err(repository_error)?;
        Ok(u64::try_from(changed).unwrap_or_default())
    }

    fn queue_stats(&self, now: Timestamp) -> Result<QueueStats, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let waiting = wd::table.filter(wd::status.eq_any(WAITING));
        let depth: i64 = waiting.count().get_result(conn).map_err(repository_error)?;
        let oldest: Option<NaiveDateTime> = wd::table
            .filter(wd::status.eq_any(WAITING))
            .select(diesel::dsl::min(wd::created_at))
            .first(conn)
            .map_err(repository_error)?;
        let age = oldest.map_or(0, |oldest| (now - from_db(oldest)).num_seconds().max(0));
        Ok(QueueStats {
            depth: u64::try_from(depth).unwrap_or_default(),
            oldest_pending_age_s: u64::try_from(age).unwrap_or_default(),
        })
    }
}
