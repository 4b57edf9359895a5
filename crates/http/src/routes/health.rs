//! Health routes, outside the envelope: liveness (no database access) and readiness
//! (the database answers and no migration is pending).

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
        });
    let migrations_current = readiness.pending_migrations == Some(0);
    let body = ReadyBody {
        status: if readiness.database_ok && migrations_current {
            "ok"
        } else {
            "unavailable"
        },
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
    };
    if body.status == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(body)
    }
}
