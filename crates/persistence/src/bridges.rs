//! Diesel implementation of the bridges module of the telephony context: phone
//! numbers, bridges, connections of provider configurations to bridge numbers, and
//! the guarded deletion of a provider configuration.
//!
//! Every query is scoped by organization. Every change that touches several rows
//! runs in one transaction on the writer connection, and the rules that races could
//! break are decided by the database: a number row has a single `bridge_id`, and
//! assignment is a conditional `UPDATE ... WHERE bridge_id IS NULL OR bridge_id =
//! <this bridge>` whose affected row count is checked before commit; connections are
//! foreign keys that a configuration delete cannot break. The reads that precede
//! those writes only choose which error to report.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use switchboard_domain::audit::AuditEntry;
use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::{Page, PageRequest, RepositoryError, Timestamp, WriteError};
use switchboard_domain::telephony::{
    Bridge, BridgeConnection, BridgeDetail, BridgeId, BridgeNumber, BridgeRepository, BridgeSlug,
    BridgeStatus, BridgeUpdate, BridgeWriteError, ConfigDeletion, ConnectionError, E164, NewBridge,
    NewPhoneNumber, NumberConflict, NumberDeletion, NumberFilter, NumberPlacement, NumberState,
    PhoneNumber, PhoneNumberId, ProviderConfigId, Region,
};
use switchboard_domain::webhooks::{EventType, NewChangeEvent};

use crate::connection::{DbConnection, MultiBackend};
use crate::database::Database;
use crate::error::{is_unique_violation, repository_error, write_error};
use crate::schema::{bridges, phone_numbers as pn, provider_configurations as pc};
use crate::time::{from_db, to_db};
use crate::transaction::TxError;

/// Ids per `IN (...)` list, well below both backends' bind limits.
const CHUNK: usize = 500;

/// [`BridgeRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselBridgeRepository {
    db: Database,
}

impl DieselBridgeRepository {
    /// A repository using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database (for the number import, `crate::number_import`).
    pub(crate) fn database(&self) -> &Database {
        &self.db
    }
}

/// A bridge row; field order is the table's column order (`RETURNING` relies on it).
#[derive(Queryable)]
struct BridgeRow {
    id: i64,
    organization_id: i64,
    name: String,
    slug: String,
    description: Option<String>,
    status: String,
    region: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The change event of a bridge (its object as the API lists it).
fn bridge_event(
    conn: &mut DbConnection,
    org: OrgId,
    event_type: EventType,
    row: &BridgeRow,
) -> QueryResult<()> {
    let time = |at: NaiveDateTime| {
        serde_json::Value::from(
            at.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        )
    };
    let mut data = serde_json::Map::new();
    data.insert("id".into(), row.id.into());
    data.insert("name".into(), row.name.clone().into());
    data.insert("slug".into(), row.slug.clone().into());
    data.insert("status".into(), row.status.clone().into());
    data.insert(
        "region".into(),
        row.region
            .clone()
            .map_or(serde_json::Value::Null, Into::into),
    );
    data.insert(
        "description".into(),
        row.description
            .clone()
            .map_or(serde_json::Value::Null, Into::into),
    );
    data.insert("created_at".into(), time(row.created_at));
    data.insert("updated_at".into(), time(row.updated_at));
    crate::events::record_change(
        conn,
        org,
        &NewChangeEvent { event_type, data },
        row.updated_at.and_utc(),
    )?;
    Ok(())
}

/// A change event with `data` as given (numbers, a deleted bridge).
pub(crate) fn change_event(
    conn: &mut DbConnection,
    org: OrgId,
    event_type: EventType,
    data: serde_json::Map<String, serde_json::Value>,
    at: Timestamp,
) -> QueryResult<()> {
    crate::events::record_change(conn, org, &NewChangeEvent { event_type, data }, at)?;
    Ok(())
}

impl BridgeRow {
    fn into_domain(self) -> Result<Bridge, RepositoryError> {
        let status = BridgeStatus::parse(&self.status).ok_or_else(|| {
            RepositoryError::Internal(format!("stored bridge {} has an unknown status", self.id))
        })?;
        let region = match self.region.as_deref() {
            None => None,
            Some(text) => Some(Region::parse(text).ok_or_else(|| {
                RepositoryError::Internal(format!(
                    "stored bridge {} has an unknown region",
                    self.id
                ))
            })?),
        };
        Ok(Bridge {
            id: BridgeId(self.id),
            org_id: OrgId(self.organization_id),
            name: self.name,
            slug: self.slug,
            description: self.description,
            status,
            region,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

// `None` is NULL, as its column\'s default is: the INSERT is then one text whatever
// is left out, so Diesel finds its prepared statement by type instead of building
// the SQL per insert to look it up (docs/performance.md).
#[derive(Insertable)]
#[diesel(table_name = bridges, treat_none_as_default_value = false)]
struct NewBridgeRow<'a> {
    organization_id: i64,
    name: &'a str,
    slug: &'a str,
    description: Option<&'a str>,
    status: &'static str,
    region: Option<&'static str>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The bridge columns an update sets; `None` leaves a column alone.
#[derive(AsChangeset)]
#[diesel(table_name = bridges)]
struct BridgeChangeset<'a> {
    name: Option<&'a str>,
    description: Option<Option<&'a str>>,
    status: Option<&'static str>,
    region: Option<Option<&'static str>>,
    updated_at: NaiveDateTime,
}

/// A number row; field order is the table's column order.
#[derive(Queryable)]
pub(crate) struct NumberRow {
    pub(crate) id: i64,
    organization_id: i64,
    pub(crate) number: String,
    pub(crate) active: bool,
    bridge_id: Option<i64>,
    pub(crate) provider_config_id: Option<i64>,
    pub(crate) created_at: NaiveDateTime,
    _updated_at: NaiveDateTime,
}

fn parse_number(id: i64, text: &str) -> Result<E164, RepositoryError> {
    E164::parse(text)
        .map_err(|_| RepositoryError::Internal(format!("stored number {id} is not E.164")))
}

impl NumberRow {
    pub(crate) fn into_domain(
        self,
        bridge_slug: Option<String>,
    ) -> Result<PhoneNumber, RepositoryError> {
        let number = parse_number(self.id, &self.number)?;
        let placement = match (self.bridge_id, bridge_slug) {
            (Some(bridge_id), Some(bridge_slug)) => Some(NumberPlacement {
                bridge_id: BridgeId(bridge_id),
                bridge_slug,
                provider_config_id: self.provider_config_id.map(ProviderConfigId),
            }),
            (None, _) => None,
            (Some(_), None) => {
                return Err(RepositoryError::Internal(format!(
                    "stored number {} names a bridge that does not exist",
                    self.id
                )));
            }
        };
        Ok(PhoneNumber {
            id: PhoneNumberId(self.id),
            org_id: OrgId(self.organization_id),
            number,
            active: self.active,
            placement,
            provider_config_id: self.provider_config_id.map(ProviderConfigId),
            created_at: from_db(self.created_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = pn)]
struct NewNumberRow<'a> {
    organization_id: i64,
    number: &'a str,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn is_foreign_key_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
    )
}

/// Runs `work` in a writer transaction on a writer connection (see
/// [`crate::transaction`]: run again when it lost a race).
pub(crate) fn transact<T, E>(
    db: &Database,
    work: impl FnMut(&mut DbConnection) -> Result<T, TxError<E>>,
) -> Result<T, TxError<E>>
where
    E: From<RepositoryError>,
{
    db.transaction_writer()
        .map_err(|error| TxError::Abort(E::from(error)))?
        .run(work)
}

/// The bridge `slug` of `org`.
fn find_bridge(conn: &mut DbConnection, org: OrgId, slug: &str) -> QueryResult<Option<BridgeRow>> {
    bridges::table
        .filter(bridges::organization_id.eq(org.0))
        .filter(bridges::slug.eq(slug))
        .first::<BridgeRow>(conn)
        .optional()
}

/// The bridge with its numbers, ordered by number.
fn detail(conn: &mut DbConnection, row: BridgeRow) -> Result<BridgeDetail, RepositoryError> {
    let rows: Vec<(i64, String, Option<i64>)> = pn::table
        .filter(pn::bridge_id.eq(row.id))
        .order((pn::number.asc(), pn::id.asc()))
        .select((pn::id, pn::number, pn::provider_config_id))
        .load(conn)
        .map_err(repository_error)?;
    let numbers = rows
        .into_iter()
        .map(|(id, number, config)| {
            Ok(BridgeNumber {
                number_id: PhoneNumberId(id),
                number: parse_number(id, &number)?,
                provider_config_id: config.map(ProviderConfigId),
            })
        })
        .collect::<Result<Vec<_>, RepositoryError>>()?;
    Ok(BridgeDetail {
        bridge: row.into_domain()?,
        numbers,
    })
}

/// Checks that every id names a number of `org` that is on no bridge or on
/// `bridge`. Only chooses the error: the conditional update decides.
fn check_numbers(
    conn: &mut DbConnection,
    org: OrgId,
    ids: &[PhoneNumberId],
    bridge: Option<i64>,
) -> Result<(), TxError<BridgeWriteError>> {
    let mut found = 0;
    let mut elsewhere = false;
    for chunk in ids.chunks(CHUNK) {
        let raw: Vec<i64> = chunk.iter().map(|id| id.0).collect();
        let rows: Vec<(i64, Option<i64>)> = pn::table
            .filter(pn::organization_id.eq(org.0))
            .filter(pn::id.eq_any(raw))
            .select((pn::id, pn::bridge_id))
            .load(conn)?;
        found += rows.len();
        elsewhere |= rows.iter().any(|(_, on)| on.is_some() && *on != bridge);
    }
    if found != ids.len() {
        return Err(TxError::Abort(NumberConflict::Unknown.into()));
    }
    if elsewhere {
        return Err(TxError::Abort(NumberConflict::OnAnotherBridge.into()));
    }
    Ok(())
}

/// Puts the numbers on `bridge`, one conditional update per number in ascending id
/// order (a stable lock order); any number that another bridge holds, or that has
/// gone, rolls the whole transaction back.
fn assign_numbers(
    conn: &mut DbConnection,
    org: OrgId,
    bridge: i64,
    ids: &[PhoneNumberId],
    at: NaiveDateTime,
) -> Result<(), TxError<BridgeWriteError>> {
    for id in ids {
        let changed = diesel::update(
            pn::table
                .filter(pn::id.eq(id.0))
                .filter(pn::organization_id.eq(org.0))
                .filter(pn::bridge_id.is_null().or(pn::bridge_id.eq(bridge))),
        )
        .set((pn::bridge_id.eq(Some(bridge)), pn::updated_at.eq(at)))
        .execute(conn)?;
        if changed != 1 {
            // Taken by a concurrent request since the check (or deleted).
            check_numbers(conn, org, std::slice::from_ref(id), Some(bridge))?;
            return Err(TxError::Abort(NumberConflict::OnAnotherBridge.into()));
        }
    }
    Ok(())
}

/// Takes every number off `bridge` except `keep`; numbers leaving lose their
/// connection.
fn release_numbers(
    conn: &mut DbConnection,
    bridge: i64,
    keep: &[PhoneNumberId],
    at: NaiveDateTime,
) -> QueryResult<()> {
    let keep: BTreeSet<i64> = keep.iter().map(|id| id.0).collect();
    let current: Vec<i64> = pn::table
        .filter(pn::bridge_id.eq(bridge))
        .order(pn::id.asc())
        .select(pn::id)
        .load(conn)?;
    for id in current.into_iter().filter(|id| !keep.contains(id)) {
        diesel::update(
            pn::table
                .filter(pn::id.eq(id))
                .filter(pn::bridge_id.eq(bridge)),
        )
        .set((
            pn::bridge_id.eq(None::<i64>),
            pn::provider_config_id.eq(None::<i64>),
            pn::updated_at.eq(at),
        ))
        .execute(conn)?;
    }
    Ok(())
}

fn bridge_write_error(error: TxError<BridgeWriteError>) -> BridgeWriteError {
    match error {
        TxError::Abort(error) => error,
        TxError::Db(error) if is_unique_violation(&error) => BridgeWriteError::DuplicateSlug,
        TxError::Db(error) => BridgeWriteError::Repository(repository_error(error)),
    }
}

fn connection_error(error: TxError<ConnectionError>) -> ConnectionError {
    match error {
        TxError::Abort(error) => error,
        // The configuration was deleted by a concurrent request after the check.
        TxError::Db(error) if is_foreign_key_violation(&error) => ConnectionError::ConfigNotFound,
        TxError::Db(error) => ConnectionError::Repository(repository_error(error)),
    }
}

fn numbers_filtered(org: OrgId, filter: NumberFilter) -> pn::BoxedQuery<'static, MultiBackend> {
    let mut query = pn::table
        .filter(pn::organization_id.eq(org.0))
        .into_boxed::<MultiBackend>();
    match filter.state {
        None => {}
        Some(NumberState::Assigned) => query = query.filter(pn::bridge_id.is_not_null()),
        Some(NumberState::NotAssigned) => query = query.filter(pn::bridge_id.is_null()),
    }
    query
}

/// The total for a page: a short page that is not past the end tells it without
/// counting.
fn page_total(
    page: PageRequest,
    seen: usize,
    count: impl FnOnce() -> QueryResult<i64>,
) -> Result<u64, RepositoryError> {
    let (offset, limit) = (page.offset(), page.limit());
    let seen = i64::try_from(seen).unwrap_or(i64::MAX);
    let total = if seen < limit && (seen > 0 || offset == 0) {
        offset.saturating_add(seen)
    } else {
        count().map_err(repository_error)?
    };
    Ok(u64::try_from(total).unwrap_or_default())
}

impl BridgeRepository for DieselBridgeRepository {
    fn list_numbers(
        &self,
        org: OrgId,
        filter: NumberFilter,
        page: PageRequest,
    ) -> Result<Page<PhoneNumber>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let mut query = pn::table
            .left_join(bridges::table)
            .filter(pn::organization_id.eq(org.0))
            .into_boxed::<MultiBackend>();
        match filter.state {
            None => {}
            Some(NumberState::Assigned) => query = query.filter(pn::bridge_id.is_not_null()),
            Some(NumberState::NotAssigned) => query = query.filter(pn::bridge_id.is_null()),
        }
        let rows: Vec<(NumberRow, Option<String>)> = query
            .order((pn::created_at.desc(), pn::id.desc()))
            .limit(page.limit())
            .offset(page.offset())
            .select((pn::all_columns, bridges::slug.nullable()))
            .load(conn)
            .map_err(repository_error)?;
        let total = page_total(page, rows.len(), || {
            numbers_filtered(org, filter).count().get_result(conn)
        })?;
        let items = rows
            .into_iter()
            .map(|(row, slug)| row.into_domain(slug))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total })
    }

    fn insert_number(&self, number: &NewPhoneNumber) -> Result<PhoneNumber, WriteError> {
        let at = to_db(number.created_at);
        let writer = self.db.transaction_writer()?;
        let row: NumberRow = writer
            .run(|conn| {
                let row: NumberRow = diesel::insert_into(pn::table)
                    .values(NewNumberRow {
                        organization_id: number.org_id.0,
                        number: number.number.as_str(),
                        active: number.active,
                        created_at: at,
                        updated_at: at,
                    })
                    .returning(pn::all_columns)
                    .get_result(conn)?;
                let mut data = serde_json::Map::new();
                data.insert("id".into(), row.id.into());
                data.insert("number".into(), row.number.clone().into());
                data.insert("active".into(), row.active.into());
                change_event(
                    conn,
                    number.org_id,
                    EventType::NumberCreated,
                    data,
                    number.created_at,
                )?;
                Ok(row)
            })
            .map_err(write_error)?;
        Ok(row.into_domain(None)?)
    }

    fn delete_number(
        &self,
        org: OrgId,
        id: PhoneNumberId,
    ) -> Result<NumberDeletion, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        let deleted = writer
            .run(|conn| {
                let deleted: Option<String> = diesel::delete(
                    pn::table
                        .filter(pn::id.eq(id.0))
                        .filter(pn::organization_id.eq(org.0))
                        .filter(pn::bridge_id.is_null()),
                )
                .returning(pn::number)
                .get_result(conn)
                .optional()?;
                if let Some(number) = &deleted {
                    let mut data = serde_json::Map::new();
                    data.insert("id".into(), id.0.into());
                    data.insert("number".into(), number.clone().into());
                    change_event(
                        conn,
                        org,
                        EventType::NumberDeleted,
                        data,
                        chrono::Utc::now(),
                    )?;
                }
                Ok(deleted.is_some())
            })
            .map_err(repository_error)?;
        if deleted {
            return Ok(NumberDeletion::Deleted);
        }
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let exists: i64 = pn::table
            .filter(pn::id.eq(id.0))
            .filter(pn::organization_id.eq(org.0))
            .count()
            .get_result(conn)
            .map_err(repository_error)?;
        Ok(if exists > 0 {
            NumberDeletion::Assigned
        } else {
            NumberDeletion::NotFound
        })
    }

    fn slugs_like(&self, org: OrgId, base: &BridgeSlug) -> Result<Vec<String>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        // A slug holds only [a-z0-9-], so it carries no LIKE wildcard.
        bridges::table
            .filter(bridges::organization_id.eq(org.0))
            .filter(
                bridges::slug
                    .eq(base.as_str())
                    .or(bridges::slug.like(format!("{}-%", base.as_str()))),
            )
            .select(bridges::slug)
            .load(conn)
            .map_err(repository_error)
    }

    fn insert_bridge(&self, bridge: &NewBridge) -> Result<BridgeDetail, BridgeWriteError> {
        let at = to_db(bridge.created_at);
        let org = bridge.org_id;
        transact(&self.db, |conn| {
            check_numbers(conn, org, &bridge.number_ids, None)?;
            let row: BridgeRow = diesel::insert_into(bridges::table)
                .values(NewBridgeRow {
                    organization_id: org.0,
                    name: &bridge.name,
                    slug: bridge.slug.as_str(),
                    description: bridge.description.as_deref(),
                    status: bridge.status.as_str(),
                    region: bridge.region.map(Region::as_str),
                    created_at: at,
                    updated_at: at,
                })
                .returning(bridges::all_columns)
                .get_result(conn)?;
            assign_numbers(conn, org, row.id, &bridge.number_ids, at)?;
            bridge_event(conn, org, EventType::BridgeCreated, &row)?;
            detail(conn, row).map_err(|error| TxError::Abort(error.into()))
        })
        .map_err(bridge_write_error)
    }

    fn list_bridges(&self, org: OrgId, page: PageRequest) -> Result<Page<Bridge>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<BridgeRow> = bridges::table
            .filter(bridges::organization_id.eq(org.0))
            .order((bridges::created_at.desc(), bridges::id.desc()))
            .limit(page.limit())
            .offset(page.offset())
            .load(conn)
            .map_err(repository_error)?;
        let total = page_total(page, rows.len(), || {
            bridges::table
                .filter(bridges::organization_id.eq(org.0))
                .count()
                .get_result(conn)
        })?;
        let items = rows
            .into_iter()
            .map(BridgeRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total })
    }

    fn get_bridge(&self, org: OrgId, slug: &str) -> Result<Option<BridgeDetail>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        match find_bridge(conn, org, slug).map_err(repository_error)? {
            None => Ok(None),
            Some(row) => detail(conn, row).map(Some),
        }
    }

    fn update_bridge(
        &self,
        org: OrgId,
        slug: &str,
        update: &BridgeUpdate,
    ) -> Result<Option<BridgeDetail>, BridgeWriteError> {
        let at = to_db(update.updated_at);
        transact(&self.db, |conn| {
            let Some(current) = find_bridge(conn, org, slug)? else {
                return Ok(None);
            };
            if let Some(ids) = &update.number_ids {
                check_numbers(conn, org, ids, Some(current.id))?;
            }
            // Updating the bridge row first locks it: concurrent changes of one
            // bridge run one after the other, and a concurrent delete is seen.
            let changes = BridgeChangeset {
                name: update.name.as_deref(),
                description: update.description.as_ref().map(Option::as_deref),
                status: update.status.map(BridgeStatus::as_str),
                region: update.region.map(|region| region.map(Region::as_str)),
                updated_at: at,
            };
            let Some(row) = diesel::update(bridges::table.filter(bridges::id.eq(current.id)))
                .set(changes)
                .returning(bridges::all_columns)
                .get_result::<BridgeRow>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            if let Some(ids) = &update.number_ids {
                release_numbers(conn, row.id, ids, at)?;
                assign_numbers(conn, org, row.id, ids, at)?;
            }
            bridge_event(conn, org, EventType::BridgeUpdated, &row)?;
            detail(conn, row)
                .map(Some)
                .map_err(|error| TxError::Abort(error.into()))
        })
        .map_err(bridge_write_error)
    }

    fn delete_bridge(
        &self,
        org: OrgId,
        slug: &str,
        at: Timestamp,
    ) -> Result<bool, RepositoryError> {
        let at = to_db(at);
        let outcome = transact::<bool, RepositoryError>(&self.db, |conn| {
            // Touching the row first locks it, so that no change of this bridge can
            // put a number on it between the release and the delete.
            let Some(id) = diesel::update(
                bridges::table
                    .filter(bridges::organization_id.eq(org.0))
                    .filter(bridges::slug.eq(slug)),
            )
            .set(bridges::updated_at.eq(bridges::updated_at))
            .returning(bridges::id)
            .get_result::<i64>(conn)
            .optional()?
            else {
                return Ok(false);
            };
            diesel::update(pn::table.filter(pn::bridge_id.eq(id)))
                .set((
                    pn::bridge_id.eq(None::<i64>),
                    pn::provider_config_id.eq(None::<i64>),
                    pn::updated_at.eq(at),
                ))
                .execute(conn)?;
            diesel::delete(bridges::table.filter(bridges::id.eq(id))).execute(conn)?;
            let mut data = serde_json::Map::new();
            data.insert("id".into(), id.into());
            data.insert("slug".into(), slug.into());
            change_event(conn, org, EventType::BridgeDeleted, data, at.and_utc())?;
            Ok(true)
        });
        match outcome {
            Ok(deleted) => Ok(deleted),
            Err(TxError::Abort(error)) => Err(error),
            Err(TxError::Db(error)) => Err(repository_error(error)),
        }
    }

    fn connect_provider(
        &self,
        org: OrgId,
        slug: &str,
        number: &E164,
        config: ProviderConfigId,
        audit: &AuditEntry,
    ) -> Result<BridgeDetail, ConnectionError> {
        let at = to_db(audit.at);
        transact(&self.db, |conn| {
            let Some(bridge) = find_bridge(conn, org, slug)? else {
                return Err(TxError::Abort(ConnectionError::BridgeNotFound));
            };
            let active: Option<bool> = pc::table
                .filter(pc::id.eq(config.0))
                .filter(pc::organization_id.eq(org.0))
                .select(pc::active)
                .first(conn)
                .optional()?;
            match active {
                None => return Err(TxError::Abort(ConnectionError::ConfigNotFound)),
                Some(false) => return Err(TxError::Abort(ConnectionError::ConfigInactive)),
                Some(true) => {}
            }
            // The configuration's state is part of the condition, so a concurrent
            // deactivation cannot slip between the check and the write; a concurrent
            // delete fails the foreign key.
            let usable = exists(
                pc::table
                    .filter(pc::id.eq(config.0))
                    .filter(pc::organization_id.eq(org.0))
                    .filter(pc::active.eq(true)),
            );
            let changed = diesel::update(
                pn::table
                    .filter(pn::organization_id.eq(org.0))
                    .filter(pn::number.eq(number.as_str()))
                    .filter(pn::bridge_id.eq(bridge.id))
                    .filter(usable),
            )
            .set((
                pn::provider_config_id.eq(Some(config.0)),
                pn::updated_at.eq(at),
            ))
            .execute(conn)?;
            if changed != 1 {
                // A concurrent request changed the number or the configuration since
                // the checks above: report what stands now.
                let still: Option<bool> = pc::table
                    .filter(pc::id.eq(config.0))
                    .filter(pc::organization_id.eq(org.0))
                    .select(pc::active)
                    .first(conn)
                    .optional()?;
                return Err(TxError::Abort(match still {
                    None => ConnectionError::ConfigNotFound,
                    Some(false) => ConnectionError::ConfigInactive,
                    Some(true) => ConnectionError::NumberNotOnBridge,
                }));
            }
            crate::audit::insert_event(conn, org, Some(config), audit)?;
            detail(conn, bridge).map_err(|error| TxError::Abort(error.into()))
        })
        .map_err(connection_error)
    }

    fn disconnect_provider(
        &self,
        org: OrgId,
        slug: &str,
        number: &E164,
        audit: &AuditEntry,
    ) -> Result<BridgeDetail, ConnectionError> {
        let at = to_db(audit.at);
        transact(&self.db, |conn| {
            let Some(bridge) = find_bridge(conn, org, slug)? else {
                return Err(TxError::Abort(ConnectionError::BridgeNotFound));
            };
            let on_bridge = pn::table
                .filter(pn::organization_id.eq(org.0))
                .filter(pn::number.eq(number.as_str()))
                .filter(pn::bridge_id.eq(bridge.id));
            let connected: Option<Option<i64>> = on_bridge
                .select(pn::provider_config_id)
                .first(conn)
                .optional()?;
            let config = match connected {
                None => return Err(TxError::Abort(ConnectionError::NumberNotOnBridge)),
                Some(None) => return Err(TxError::Abort(ConnectionError::NotConnected)),
                Some(Some(config)) => ProviderConfigId(config),
            };
            let changed = diesel::update(on_bridge.filter(pn::provider_config_id.is_not_null()))
                .set((
                    pn::provider_config_id.eq(None::<i64>),
                    pn::updated_at.eq(at),
                ))
                .execute(conn)?;
            if changed != 1 {
                return Err(TxError::Abort(ConnectionError::NotConnected));
            }
            crate::audit::insert_event(conn, org, Some(config), audit)?;
            detail(conn, bridge).map_err(|error| TxError::Abort(error.into()))
        })
        .map_err(connection_error)
    }
}

/// Deletes configuration `id` of `org` unless a bridge number is connected to it,
/// checking and deleting in one transaction; numbers on no bridge that are linked to
/// it (by an import) lose the link. A connect that commits between the
/// check and the delete makes the delete fail its foreign key; the transaction then
/// runs again ([`crate::transaction`]) and its check reports that connection.
pub(crate) fn delete_config_unless_connected(
    db: &Database,
    org: OrgId,
    id: ProviderConfigId,
    expected_version: Option<i64>,
    audit: &AuditEntry,
) -> Result<ConfigDeletion, RepositoryError> {
    let (low, high) = expected_version.map_or((i64::MIN, i64::MAX), |version| (version, version));
    let outcome = transact::<ConfigDeletion, RepositoryError>(db, |conn| {
        let found: i64 = pc::table
            .filter(pc::id.eq(id.0))
            .filter(pc::organization_id.eq(org.0))
            .filter(pc::version.between(low, high))
            .count()
            .get_result(conn)?;
        if found == 0 {
            return Ok(ConfigDeletion::NotFound);
        }
        let rows: Vec<(String, i64, String)> = pn::table
            .inner_join(bridges::table)
            .filter(pn::provider_config_id.eq(id.0))
            .order((bridges::slug.asc(), pn::number.asc()))
            .select((bridges::slug, pn::id, pn::number))
            .load(conn)?;
        if !rows.is_empty() {
            let connections = rows
                .into_iter()
                .map(|(bridge_slug, number_id, number)| {
                    Ok(BridgeConnection {
                        bridge_slug,
                        number: parse_number(number_id, &number)?,
                    })
                })
                .collect::<Result<Vec<_>, RepositoryError>>()
                .map_err(TxError::Abort)?;
            return Ok(ConfigDeletion::InUse(connections));
        }
        // Import links (numbers on no bridge) never block a delete: they are
        // cleared here, in the delete's transaction. A number an import links after
        // this makes the delete fail its foreign key, and the transaction runs again.
        diesel::update(
            pn::table
                .filter(pn::organization_id.eq(org.0))
                .filter(pn::provider_config_id.eq(id.0))
                .filter(pn::bridge_id.is_null()),
        )
        .set((
            pn::provider_config_id.eq(None::<i64>),
            pn::updated_at.eq(to_db(audit.at)),
        ))
        .execute(conn)?;
        let deleted = diesel::delete(
            pc::table
                .filter(pc::id.eq(id.0))
                .filter(pc::organization_id.eq(org.0))
                .filter(pc::version.between(low, high)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Ok(ConfigDeletion::NotFound);
        }
        crate::audit::insert_event(conn, org, Some(id), audit)?;
        Ok(ConfigDeletion::Deleted)
    });
    match outcome {
        Ok(deletion) => Ok(deletion),
        Err(TxError::Abort(error)) => Err(error),
        Err(TxError::Db(error)) => Err(repository_error(error)),
    }
}
