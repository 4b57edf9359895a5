//! The organization's audit log (owners and admins, as in the API): filters by
//! action and by day range, newest first, in pages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use switchboard_application::audit::{ListAuditEventsError, ListAuditEventsQuery};
use switchboard_domain::audit::AuditAction;
use switchboard_domain::shared::PageRequest;

use super::configurations::serde_json_compact;
use crate::session::{self, context};
use crate::view::{self, Nav, PAGE_SIZE, PageError, Pager, page_number, render};

#[derive(Debug)]
struct EventRow {
    at: String,
    action: &'static str,
    config_id: i64,
    user_id: String,
    changes: String,
}

#[derive(Debug)]
struct ActionChoice {
    value: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    rows: Vec<EventRow>,
    pager: Pager,
    actions: Vec<ActionChoice>,
    from: String,
    to: String,
    errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

fn day(text: Option<&str>) -> Result<Option<NaiveDate>, ()> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ()),
    }
}

async fn list(
    req: HttpRequest,
    org: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = session::require(&req, Some(&org)).await?;
    let actor = session.actor()?.clone();
    let query = query.into_inner();
    let mut errors = Vec::new();
    let action = query
        .action
        .as_deref()
        .filter(|a| !a.is_empty())
        .and_then(|a| a.parse::<AuditAction>().ok());
    let from = day(query.from.as_deref()).unwrap_or_else(|()| {
        errors.push("From: enter a date as YYYY-MM-DD.".to_owned());
        None
    });
    let to = day(query.to.as_deref()).unwrap_or_else(|()| {
        errors.push("To: enter a date as YYYY-MM-DD.".to_owned());
        None
    });
    let page = page_number(query.page.as_deref());
    let list_query = ListAuditEventsQuery {
        action,
        from: from
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t)),
        to: to
            .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
            .map(|t| Utc.from_utc_datetime(&t)),
        page: PageRequest {
            page,
            page_size: PAGE_SIZE,
        },
    };
    let audit = state.audit.clone();
    let found = match web::block(move || audit.list(&actor, &list_query)).await? {
        Ok(found) => found,
        Err(ListAuditEventsError::PermissionDenied) => {
            return Err(PageError::Forbidden(
                "Only owners and admins read the organization's audit log.",
            ));
        }
        Err(ListAuditEventsError::Repository(error)) => return Err(error.into()),
    };
    let rows = found
        .items
        .iter()
        .map(|event| EventRow {
            at: view::when(&event.created_at),
            action: event.action.as_str(),
            config_id: event.provider_config_id.map_or(0, |id| id.0),
            user_id: event
                .user_id
                .map_or_else(String::new, |user| format!("user #{}", user.0)),
            changes: serde_json_compact(&event.changes),
        })
        .collect();
    let from_text = from.map(|d| d.to_string()).unwrap_or_default();
    let to_text = to.map(|d| d.to_string()).unwrap_or_default();
    let mut base = format!("/console/o/{}/audit?", org.as_str());
    if let Some(action) = action {
        base.push_str(&format!("action={}&", action.as_str()));
    }
    if !from_text.is_empty() {
        base.push_str(&format!("from={from_text}&"));
    }
    if !to_text.is_empty() {
        base.push_str(&format!("to={to_text}&"));
    }
    let nav = Nav::of(&state, &session, "audit").await?;
    let page = AuditPage {
        nav,
        rows,
        pager: Pager::new(&base, page, found.total),
        actions: AuditAction::ALL
            .iter()
            .map(|a| ActionChoice {
                value: a.as_str(),
                selected: Some(*a) == action,
            })
            .collect(),
        from: from_text,
        to: to_text,
        errors,
    };
    render(&page, StatusCode::OK)
}

pub(super) fn register(scope: Scope) -> Scope {
    scope.route("/o/{org}/audit", web::get().to(list))
}
