//! Diesel implementation of [`NumberImportStore`]: the numbers of a provider account
//! added to an organization, linked to the configuration they were read with, in one
//! transaction on the writer connection.
//!
//! Each number is one `INSERT ... ON CONFLICT DO NOTHING RETURNING`: the unique key
//! `(organization_id, number)` decides which numbers are new, so two imports running
//! at once never add a number twice (the second one waits for the first's row and
//! counts it as existing). A new number records its `number.imported` change event
//! in the same transaction; the import's audit event names the configuration. The
//! configuration is checked (exists, active) inside the transaction, and a concurrent
//! delete fails the insert's foreign key (the transaction runs again and reports it).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use switchboard_domain::audit::AuditEntry;
use switchboard_domain::identity::OrgId;
use switchboard_domain::telephony::{
    E164, ImportStoreError, ImportedNumber, NumberImportStore, PhoneNumber, ProviderConfigId,
};
use switchboard_domain::webhooks::EventType;

use crate::bridges::{DieselBridgeRepository, NumberRow, change_event, transact};
use crate::connection::{DbConnection, on_backend};
use crate::error::repository_error;
use crate::schema::{bridges, phone_numbers as pn, provider_configurations as pc};
use crate::time::to_db;
use crate::transaction::TxError;

/// Numbers per `IN (...)` list, well below both backends' bind limits.
const CHUNK: usize = 500;

// `None` is NULL, as its column\'s default is: the INSERT is then one text whatever
// is left out, so Diesel finds its prepared statement by type instead of building
// the SQL per insert to look it up (docs/performance.md).
#[derive(Insertable)]
#[diesel(table_name = pn, treat_none_as_default_value = false)]
struct ImportedNumberRow<'a> {
    organization_id: i64,
    number: &'a str,
    active: bool,
    provider_config_id: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The change event of an imported number: the number as the API lists it.
fn imported_event(conn: &mut DbConnection, org: OrgId, row: &NumberRow) -> QueryResult<()> {
    let mut data = serde_json::Map::new();
    data.insert("id".into(), row.id.into());
    data.insert("number".into(), row.number.clone().into());
    data.insert("active".into(), row.active.into());
    data.insert("state".into(), "NOT_ASSIGNED".into());
    data.insert("bridge_slug".into(), serde_json::Value::Null);
    data.insert(
        "provider_config_id".into(),
        row.provider_config_id
            .map_or(serde_json::Value::Null, Into::into),
    );
    change_event(
        conn,
        org,
        EventType::NumberImported,
        data,
        row.created_at.and_utc(),
    )
}

/// The stored numbers of `org` among `numbers`, with their bridge slugs.
fn existing(
    conn: &mut DbConnection,
    org: OrgId,
    numbers: &[&str],
) -> Result<HashMap<String, PhoneNumber>, TxError<ImportStoreError>> {
    let mut found = HashMap::new();
    for chunk in numbers.chunks(CHUNK) {
        let rows: Vec<(NumberRow, Option<String>)> = pn::table
            .left_join(bridges::table)
            .filter(pn::organization_id.eq(org.0))
            .filter(pn::number.eq_any(chunk.to_vec()))
            .select((pn::all_columns, bridges::slug.nullable()))
            .load(conn)?;
        for (row, slug) in rows {
            let number = row
                .into_domain(slug)
                .map_err(|error| TxError::Abort(error.into()))?;
            found.insert(number.number.as_str().to_owned(), number);
        }
    }
    Ok(found)
}

fn import_error(error: TxError<ImportStoreError>) -> ImportStoreError {
    match error {
        TxError::Abort(error) => error,
        TxError::Db(error) => ImportStoreError::Repository(repository_error(error)),
    }
}

impl NumberImportStore for DieselBridgeRepository {
    fn import_numbers(
        &self,
        org: OrgId,
        config: ProviderConfigId,
        numbers: &[E164],
        audit: &AuditEntry,
    ) -> Result<Vec<ImportedNumber>, ImportStoreError> {
        let at = to_db(audit.at);
        transact(self.database(), |conn| {
            let active: Option<bool> = pc::table
                .filter(pc::id.eq(config.0))
                .filter(pc::organization_id.eq(org.0))
                .select(pc::active)
                .first(conn)
                .optional()?;
            match active {
                None => return Err(TxError::Abort(ImportStoreError::ConfigNotFound)),
                Some(false) => return Err(TxError::Abort(ImportStoreError::ConfigInactive)),
                Some(true) => {}
            }
            let mut created: HashMap<String, PhoneNumber> = HashMap::new();
            let mut others: Vec<&str> = Vec::new();
            for number in numbers {
                let insert = diesel::insert_into(pn::table)
                    .values(ImportedNumberRow {
                        organization_id: org.0,
                        number: number.as_str(),
                        active: true,
                        provider_config_id: Some(config.0),
                        created_at: at,
                        updated_at: at,
                    })
                    .on_conflict_do_nothing()
                    .returning(pn::all_columns);
                let row: Option<NumberRow> =
                    on_backend!(conn, |inner| insert.get_result(inner).optional())?;
                match row {
                    Some(row) => {
                        imported_event(conn, org, &row)?;
                        let stored = row
                            .into_domain(None)
                            .map_err(|error| TxError::Abort(error.into()))?;
                        created.insert(number.as_str().to_owned(), stored);
                    }
                    None => others.push(number.as_str()),
                }
            }
            let mut found = existing(conn, org, &others)?;
            let mut entry = audit.clone();
            entry.changes = entry
                .changes
                .clone()
                .detail("imported", created.len())
                .detail("existing", others.len());
            crate::audit::insert_event(conn, org, Some(config), &entry)?;
            numbers
                .iter()
                .map(|number| {
                    if let Some(stored) = created.remove(number.as_str()) {
                        Ok(ImportedNumber {
                            number: stored,
                            created: true,
                        })
                    } else if let Some(stored) = found.remove(number.as_str()) {
                        Ok(ImportedNumber {
                            number: stored,
                            created: false,
                        })
                    } else {
                        // Neither inserted nor found: deleted by a concurrent request
                        // between the two statements (PostgreSQL); run again.
                        Err(TxError::Db(diesel::result::Error::DatabaseError(
                            diesel::result::DatabaseErrorKind::SerializationFailure,
                            Box::new(String::from("an imported number vanished")),
                        )))
                    }
                })
                .collect()
        })
        .map_err(import_error)
    }
}
