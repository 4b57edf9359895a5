//! Audit routes: the organization's trail (`GET /audit-events/`, owners and admins)
//! and one configuration's history (`GET .../providers-configurations/{id}/history/`),
//! both paginated like configurations, newest first, filtered by `action` and an
//! inclusive `from`/`to` range of RFC 3339 times.
//!
//! Events carry field names and the credential's `last4`, never a value; this module
//! passes their `changes` through as stored.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_application::audit::ListAuditEventsQuery;
use switchboard_domain::audit::{AuditAction, AuditEvent};
use switchboard_domain::telephony::ProviderCatalog;

use crate::docs::schema::{audit_params, list_envelope, schema_ref};
use crate::extract::auth::OrgActor;
use crate::routes::provider_configs::config_id;
use crate::spec::{Access, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::respond_list;
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::rfc3339;
use crate::wire::query::{PAGE_PARAMETERS, Query};

/// The wire form of an event.
#[derive(Debug, Serialize)]
struct AuditEventView {
    id: i64,
    action: &'static str,
    provider_config_id: Option<i64>,
    user_id: Option<i64>,
    token_id: Option<i64>,
    request_id: Option<String>,
    changes: Map<String, Value>,
    created_at: String,
}

fn view(event: AuditEvent) -> AuditEventView {
    AuditEventView {
        id: event.id.0,
        action: event.action.as_str(),
        provider_config_id: event.provider_config_id.map(|id| id.0),
        user_id: event.user_id.map(|id| id.0),
        token_id: event.token_id.map(|id| id.0),
        request_id: event.request_id,
        changes: event.changes,
        created_at: rfc3339(&event.created_at),
    }
}

/// `GET /audit-events/`.
async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = audit_query(req.query_string())?;
    let service = state.audit.clone();
    let page = blocking(move || service.list(&actor, &query)).await?;
    Ok(respond_list(
        "Audit events fetched successfully.",
        page.total,
        page.items.into_iter().map(view).collect(),
    ))
}

/// `GET .../providers-configurations/{id}/history/`.
async fn history(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let query = audit_query(req.query_string())?;
    let id = config_id(&path)?;
    let service = state.audit.clone();
    let page = blocking(move || service.history(&actor, id, &query)).await?;
    Ok(respond_list(
        "Provider configuration history fetched successfully.",
        page.total,
        page.items.into_iter().map(view).collect(),
    ))
}

fn rfc3339_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Parses `action`, `from`, `to`, `page`, `page_size`.
fn audit_query(query_string: &str) -> Result<ListAuditEventsQuery, ApiError> {
    const TIME: &str = "must be an RFC 3339 time such as 2026-11-28T10:00:00Z";
    let mut query = Query::read(
        query_string,
        &[
            "action",
            "from",
            "to",
            PAGE_PARAMETERS[0],
            PAGE_PARAMETERS[1],
        ],
    )?;
    let audit = ListAuditEventsQuery {
        action: query.parsed(
            "action",
            "must be one of created, updated, rotated, deleted, connected, disconnected, verified, credentials_revealed, rotation_started, rotation_verified, rotation_promoted, rotation_cancelled, previous_expired, numbers_imported",
            |text| text.parse::<AuditAction>().ok(),
        ),
        from: query.parsed("from", TIME, rfc3339_time),
        to: query.parsed("to", TIME, rfc3339_time),
        page: query.page(),
    };
    if let (Some(from), Some(to)) = (audit.from, audit.to)
        && from > to
    {
        query.refuse("to", "must not be before from");
    }
    query.finish()?;
    Ok(audit)
}

fn audit_parameters(_: &ProviderCatalog) -> Vec<Value> {
    audit_params()
}

fn events_answer() -> Value {
    list_envelope(schema_ref("AuditEvent"))
}

/// The history route of one configuration under `base`.
pub(crate) fn history_routes(base: &str) -> Vec<RouteSpec> {
    vec![RouteSpec::new(
        Method::GET,
        api(&format!("{base}/{{id}}/history")),
        Access::OrgRead,
        || web::get().to(history),
        Operation::new(
            "provider configurations",
            "A configuration's audit events, newest first",
        )
        .id("listProviderConfigurationHistory")
        .query(audit_parameters)
        .answer(events_answer)
        .errors(&[400, 404]),
    )]
}

/// The organization's trail.
pub(crate) fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::new(
        Method::GET,
        api("/audit-events"),
        Access::OrgAdmin,
        || web::get().to(list),
        Operation::new(
            "audit",
            "The organization's audit events, newest first (owners and admins)",
        )
        .id("listAuditEvents")
        .query(audit_parameters)
        .answer(events_answer)
        .errors(&[400]),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_queries_are_strict() {
        let query = audit_query(
            "action=rotated&from=2026-11-28T10:00:00Z&to=2026-11-29T10:00:00%2B01:00&page=2&page_size=10",
        )
        .expect("valid");
        assert_eq!(query.action, Some(AuditAction::Rotated));
        assert_eq!(query.page.page, 2);
        assert!(query.from.is_some() && query.to.is_some());
        for bad in [
            "action=renamed",
            "from=yesterday",
            "from=2026-11-29T00:00:00Z&to=2026-11-28T00:00:00Z",
            "page=0",
            "page_size=101",
            "provider=twilio",
        ] {
            assert!(audit_query(bad).is_err(), "{bad}");
        }
    }
}
