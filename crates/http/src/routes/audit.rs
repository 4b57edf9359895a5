//! Audit routes: the organization's trail (`GET /audit-events/`, owners and admins)
//! and one configuration's history (`GET .../providers-configurations/{id}/history/`),
//! both paginated like configurations, newest first, filtered by `action` and an
//! inclusive `from`/`to` range of RFC 3339 times.
//!
//! Events carry field names and the credential's `last4`, never a value; this module
//! passes their `changes` through as stored.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_application::audit::ListAuditEventsQuery;
use switchboard_domain::audit::{AuditAction, AuditEvent};
use switchboard_domain::shared::{NON_FIELD_ERRORS, PageRequest, ValidationErrors};

use crate::auth::OrgActor;
use crate::envelope::respond_list;
use crate::error::{ApiError, blocking};
use crate::provider_configs::{config_id, echoable_field_name};
use crate::{AppState, rfc3339};

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
pub(crate) async fn list(
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
pub(crate) async fn history(
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

/// Parses `action`, `from`, `to`, `page`, `page_size`.
fn audit_query(query_string: &str) -> Result<ListAuditEventsQuery, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|_| ApiError::invalid(NON_FIELD_ERRORS, "Malformed query string."))?
        .into_inner();
    let mut errors = ValidationErrors::new();
    let mut query = ListAuditEventsQuery::default();
    for (key, value) in pairs {
        match key.as_str() {
            "action" => match value.parse::<AuditAction>() {
                Ok(action) => query.action = Some(action),
                Err(_) => errors.add(
                    "action",
                    "must be one of created, updated, rotated, deleted, connected, disconnected, verified",
                ),
            },
            "from" | "to" => match DateTime::parse_from_rfc3339(&value) {
                Ok(at) => {
                    let at = at.with_timezone(&Utc);
                    if key == "from" {
                        query.from = Some(at);
                    } else {
                        query.to = Some(at);
                    }
                }
                Err(_) => errors.add(
                    &key,
                    "must be an RFC 3339 time such as 2026-11-28T10:00:00Z",
                ),
            },
            "page" => match value.parse::<u32>() {
                Ok(page) if page >= 1 => query.page.page = page,
                _ => errors.add("page", "must be an integer of at least 1"),
            },
            "page_size" => match value.parse::<u32>() {
                Ok(size) if (1..=PageRequest::MAX_PAGE_SIZE).contains(&size) => {
                    query.page.page_size = size;
                }
                _ => errors.add("page_size", "must be an integer from 1 to 100"),
            },
            other if echoable_field_name(other) => errors.add(other, "Unknown query parameter."),
            _ => errors.add(
                NON_FIELD_ERRORS,
                "The query holds a parameter that is not accepted.",
            ),
        }
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        errors.add("to", "must not be before from");
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(query)
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
