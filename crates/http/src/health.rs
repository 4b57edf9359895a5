//! Health routes, outside the envelope: liveness (no database access) and readiness
//! (the database answers, no migration is pending, writes work, and every key id
//! used by stored secrets is configured; the count of stored secrets that do not
//! open is reported but never makes the service unready).

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::AppState;

/// What a readiness check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The database answered a trivial query.
    pub database_ok: bool,
    /// Number of migrations not yet applied (`None` when unknown).
    pub pending_migrations: Option<usize>,
    /// Writes fail for lack of storage (a full disk).
    pub writes_failing: bool,
    /// Key ids used by stored secrets that are not configured, with their counts.
    pub missing_keys: Vec<(u32, u64)>,
    /// Stored secrets that do not open (`None` until first counted).
    pub unreadable_credentials: Option<u64>,
}

/// The readiness check, implemented by the composition root over the database.
pub trait ReadinessProbe: Send + Sync {
    /// Checks the database and the migrations; blocking.
    fn check(&self) -> Readiness;
}

#[derive(Serialize)]
struct LiveBody {
    status: &'static str,
}

#[derive(Serialize)]
struct ReadyBody {
    status: &'static str,
    database: &'static str,
    migrations: &'static str,
    database_writes: &'static str,
    keys: &'static str,
    missing_keys: Vec<MissingKey>,
    unreadable_credentials: Option<u64>,
}

#[derive(Serialize)]
struct MissingKey {
    key_id: u32,
    secrets: u64,
}

pub(crate) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(LiveBody { status: "ok" })
}

pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let probe = state.readiness.clone();
    let readiness = web::block(move || probe.check())
        .await
        .unwrap_or(Readiness {
            database_ok: false,
            pending_migrations: None,
            writes_failing: false,
            missing_keys: Vec::new(),
            unreadable_credentials: None,
        });
    let migrations_current = readiness.pending_migrations == Some(0);
    let ready = readiness.database_ok
        && migrations_current
        && !readiness.writes_failing
        && readiness.missing_keys.is_empty();
    let body = ReadyBody {
        status: if ready { "ok" } else { "unavailable" },
        database: if readiness.database_ok {
            "ok"
        } else {
            "unavailable"
        },
        migrations: match readiness.pending_migrations {
            Some(0) => "current",
            Some(_) => "pending",
            None => "unknown",
        },
        database_writes: if readiness.writes_failing {
            "failing"
        } else {
            "ok"
        },
        keys: if readiness.missing_keys.is_empty() {
            "ok"
        } else {
            "missing"
        },
        missing_keys: readiness
            .missing_keys
            .iter()
            .map(|(key_id, secrets)| MissingKey {
                key_id: *key_id,
                secrets: *secrets,
            })
            .collect(),
        unreadable_credentials: readiness.unreadable_credentials,
    };
    if body.status == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(body)
    }
}
