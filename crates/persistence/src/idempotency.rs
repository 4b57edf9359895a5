//! Diesel implementation of the idempotency port: one row per organization, token
//! and key, claimed by an `INSERT` that the unique index arbitrates (no `ON
//! CONFLICT`, which the multi-backend connection cannot express), so that of two
//! replicas claiming the same key exactly one wins.
//!
//! Stored answers are JSON text and opaque here. Every statement uses the write
//! connection: a claim is a read-then-write.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use switchboard_domain::idempotency::{
    IDEMPOTENCY_TTL_HOURS, IN_FLIGHT_TIMEOUT_SECONDS, IdempotencyClaim, IdempotencyKey,
    IdempotencyScope, IdempotencyStore, StoredResponse,
};
use switchboard_domain::shared::{RepositoryError, Timestamp};

use crate::connection::DbConnection;
use crate::database::Database;
use crate::error::{is_unique_violation, repository_error};
use crate::schema::idempotency_keys as ik;
use crate::time::to_db;

const IN_FLIGHT: &str = "in_flight";
const DONE: &str = "done";

/// Claims retried when the row they collided with vanished in between (released or
/// purged by another request).
const CLAIM_ATTEMPTS: usize = 3;

/// [`IdempotencyStore`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselIdempotencyStore {
    db: Database,
}

impl DieselIdempotencyStore {
    /// A store using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[derive(Insertable)]
#[diesel(table_name = ik)]
struct NewKeyRow<'a> {
    organization_id: i64,
    token_id: i64,
    idempotency_key: &'a str,
    request_hash: &'a str,
    state: &'a str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

#[derive(Queryable)]
struct KeyRow {
    id: i64,
    request_hash: String,
    state: String,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<String>,
    created_at: NaiveDateTime,
}

type KeyColumns = (
    ik::id,
    ik::request_hash,
    ik::state,
    ik::response_status,
    ik::response_headers,
    ik::response_body,
    ik::created_at,
);

const KEY_COLUMNS: KeyColumns = (
    ik::id,
    ik::request_hash,
    ik::state,
    ik::response_status,
    ik::response_headers,
    ik::response_body,
    ik::created_at,
);

impl KeyRow {
    fn stored_response(self) -> Result<StoredResponse, RepositoryError> {
        let broken = || {
            RepositoryError::Internal(format!(
                "stored idempotency key {} has no readable answer",
                self.id
            ))
        };
        let status = self
            .response_status
            .and_then(|status| u16::try_from(status).ok())
            .ok_or_else(broken)?;
        let headers = match &self.response_headers {
            None => Vec::new(),
            Some(text) => {
                serde_json::from_str::<Vec<(String, String)>>(text).map_err(|_| broken())?
            }
        };
        let body = self.response_body.clone().unwrap_or_default();
        Ok(StoredResponse {
            status,
            headers,
            body,
        })
    }
}

/// The row of `key` in `scope`.
macro_rules! scoped {
    ($scope:expr, $key:expr) => {
        ik::table
            .filter(ik::organization_id.eq($scope.org_id.0))
            .filter(ik::token_id.eq($scope.token_id.0))
            .filter(ik::idempotency_key.eq($key.as_str()))
    };
}

fn expiry(now: Timestamp) -> NaiveDateTime {
    to_db(now + TimeDelta::hours(IDEMPOTENCY_TTL_HOURS))
}

impl IdempotencyStore for DieselIdempotencyStore {
    fn claim(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<IdempotencyClaim, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let at = to_db(now);
        // An expired key is free again, whatever it held.
        diesel::delete(scoped!(scope, key).filter(ik::expires_at.lt(at)))
            .execute(conn)
            .map_err(repository_error)?;
        for _ in 0..CLAIM_ATTEMPTS {
            let inserted = diesel::insert_into(ik::table)
                .values(&NewKeyRow {
                    organization_id: scope.org_id.0,
                    token_id: scope.token_id.0,
                    idempotency_key: key.as_str(),
                    request_hash,
                    state: IN_FLIGHT,
                    created_at: at,
                    expires_at: expiry(now),
                })
                .execute(conn);
            match inserted {
                Ok(_) => return Ok(IdempotencyClaim::Claimed),
                Err(error) if is_unique_violation(&error) => {}
                Err(error) => return Err(repository_error(error)),
            }
            let Some(row) = scoped!(scope, key)
                .select(KEY_COLUMNS)
                .first::<KeyRow>(conn)
                .optional()
                .map_err(repository_error)?
            else {
                // Released or purged since the insert failed: try again.
                continue;
            };
            if row.request_hash != request_hash {
                return Ok(IdempotencyClaim::Mismatch);
            }
            if row.state == DONE {
                return Ok(IdempotencyClaim::Replay(row.stored_response()?));
            }
            let abandoned = to_db(now - TimeDelta::seconds(IN_FLIGHT_TIMEOUT_SECONDS));
            if row.created_at >= abandoned {
                return Ok(IdempotencyClaim::InFlight);
            }
            // The claim's request died with its replica: take it over, unless another
            // request just did.
            let taken = diesel::update(
                ik::table
                    .filter(ik::id.eq(row.id))
                    .filter(ik::state.eq(IN_FLIGHT))
                    .filter(ik::created_at.eq(row.created_at)),
            )
            .set((ik::created_at.eq(at), ik::expires_at.eq(expiry(now))))
            .execute(conn)
            .map_err(repository_error)?;
            return Ok(if taken > 0 {
                IdempotencyClaim::Claimed
            } else {
                IdempotencyClaim::InFlight
            });
        }
        Err(RepositoryError::Unavailable(
            "idempotency key kept changing while being claimed".into(),
        ))
    }

    fn complete(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        let headers = serde_json::to_string(&response.headers).map_err(|_| {
            RepositoryError::Internal("response headers could not be serialized".into())
        })?;
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(scoped!(scope, key).filter(ik::state.eq(IN_FLIGHT)))
            .set((
                ik::state.eq(DONE),
                ik::response_status.eq(Some(i32::from(response.status))),
                ik::response_headers.eq(Some(headers)),
                ik::response_body.eq(Some(response.body.as_str())),
            ))
            .execute(conn)
            .map_err(repository_error)?;
        Ok(())
    }

    fn release(
        &self,
        scope: IdempotencyScope,
        key: &IdempotencyKey,
    ) -> Result<(), RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        diesel::delete(scoped!(scope, key).filter(ik::state.eq(IN_FLIGHT)))
            .execute(conn)
            .map_err(repository_error)?;
        Ok(())
    }

    fn purge_expired(&self, now: Timestamp) -> Result<u64, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let purged = diesel::delete(ik::table.filter(ik::expires_at.lt(to_db(now))))
            .execute(conn)
            .map_err(repository_error)?;
        Ok(u64::try_from(purged).unwrap_or_default())
    }
}
