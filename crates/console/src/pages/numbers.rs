//! Phone numbers of the organization: the list (state and bridge), add (strict
//! E.164, the error next to the field), delete (refused while on a bridge).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use switchboard_application::bridges::{AddNumberError, DeleteNumberError, ListNumbersQuery};
use switchboard_domain::shared::PageRequest;
use switchboard_domain::telephony::PhoneNumberId;

use super::{FormFields, ListQuery, field, filled, org_session};
use crate::session::{Session, context};
use crate::view::{self, Nav, PAGE_SIZE, PageError, Pager, notice, page_number, redirect, render};

#[derive(Debug)]
struct NumberRow {
    id: i64,
    number: String,
    state: &'static str,
    bridge: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "numbers.html")]
struct NumbersPage {
    nav: Nav,
    rows: Vec<NumberRow>,
    pager: Pager,
    number: String,
    number_errors: Vec<String>,
    errors: Vec<String>,
}

#[expect(clippy::too_many_arguments, reason = "one page, its parts")]
async fn page(
    req: &HttpRequest,
    session: &Session,
    page: u32,
    notice_key: Option<&str>,
    number: String,
    number_errors: Vec<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let bridges = state.bridges.clone();
    let actor = session.actor()?.clone();
    let query = ListNumbersQuery {
        page: PageRequest {
            page,
            page_size: PAGE_SIZE,
        },
        ..ListNumbersQuery::default()
    };
    let found = web::block(move || bridges.list_numbers(&actor, query))
        .await?
        .map_err(|error| match error {
            switchboard_application::bridges::ListNumbersError::Repository(error) => {
                PageError::from(error)
            }
        })?;
    let rows = found
        .items
        .iter()
        .map(|number| NumberRow {
            id: number.id.0,
            number: number.number.as_str().to_owned(),
            state: if number.placement.is_some() {
                "on a bridge"
            } else {
                "free"
            },
            bridge: number
                .placement
                .as_ref()
                .map(|placement| placement.bridge_slug.clone())
                .unwrap_or_default(),
            created_at: view::when(&number.created_at),
        })
        .collect();
    let nav = Nav::of(&state, session, "numbers")
        .await?
        .with_notice(notice(notice_key));
    let base = format!("/console/o/{}/numbers?", nav.org);
    let page = NumbersPage {
        nav,
        rows,
        pager: Pager::new(&base, page, found.total),
        number,
        number_errors,
        errors,
    };
    render(&page, status)
}

async fn list(
    req: HttpRequest,
    org: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let session = org_session(&req, &org).await?;
    page(
        &req,
        &session,
        page_number(query.page.as_deref()),
        query.done.as_deref(),
        String::new(),
        Vec::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

async fn add(
    req: HttpRequest,
    org: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = org_session(&req, &org).await?;
    session.check_csrf(field(&form, "csrf"))?;
    let actor = session.actor()?.clone();
    let number = filled(&form, "number").map(str::to_owned);
    let bridges = state.bridges.clone();
    let outcome = {
        let number = number.clone();
        web::block(move || bridges.add_number(&actor, number.as_deref())).await?
    };
    let typed = number.unwrap_or_default();
    let (number_errors, errors, status) = match outcome {
        Ok(_) => return Ok(redirect(&format!("/console/o/{org}/numbers?done=added"))),
        Err(AddNumberError::Validation(errors)) => (
            errors.fields().values().flatten().cloned().collect(),
            Vec::new(),
            StatusCode::BAD_REQUEST,
        ),
        Err(AddNumberError::Duplicate) => (
            vec!["The organization already has this number.".to_owned()],
            Vec::new(),
            StatusCode::CONFLICT,
        ),
        Err(AddNumberError::PermissionDenied) => return Err(PageError::PermissionDenied),
        Err(AddNumberError::Repository(error)) => return Err(error.into()),
    };
    page(
        &req,
        &session,
        1,
        None,
        typed,
        number_errors,
        errors,
        status,
    )
    .await
}

async fn delete(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_session(&req, &org).await?;
    session.check_csrf(field(&form, "csrf"))?;
    let actor = session.actor()?.clone();
    let bridges = state.bridges.clone();
    match web::block(move || bridges.delete_number(&actor, PhoneNumberId(id))).await? {
        Ok(()) => Ok(redirect(&format!("/console/o/{org}/numbers?done=deleted"))),
        Err(DeleteNumberError::Assigned) => {
            page(
                &req,
                &session,
                1,
                None,
                String::new(),
                Vec::new(),
                vec!["This number is on a bridge: remove it from the bridge first.".to_owned()],
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(DeleteNumberError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(DeleteNumberError::NotFound) => Err(PageError::NotFound),
        Err(DeleteNumberError::Repository(error)) => Err(error.into()),
    }
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/o/{org}/numbers", web::get().to(list))
        .route("/o/{org}/numbers", web::post().to(add))
        .route("/o/{org}/numbers/{id}/delete", web::post().to(delete))
}
