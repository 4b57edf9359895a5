//! API tokens of the signed-in person: the list (never a secret: name, prefix,
//! dates), create (the token is shown on the answering page, once, and never
//! again), revoke (it stops working at once). Console sessions are tokens too and
//! are listed as such; revoking one signs that session out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use switchboard_application::identity::{CONSOLE_SESSION_NAME, IssueTokenError, RevokeTokenError};
use switchboard_domain::identity::TokenId;

use super::{FormFields, ListQuery, field, filled, org_form_session, org_session};
use crate::session::{Session, context};
use crate::view::{
    self, Nav, PageError, Pager, ShownOnce, notice, page_number, page_of, redirect, render,
};

/// A token as the page lists it.
#[derive(Debug)]
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    kind: &'static str,
    created_at: String,
    last_used_at: String,
    expires_at: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    nav: Nav,
    rows: Vec<TokenRow>,
    pager: Pager,
    once: Option<ShownOnce>,
    name: String,
    expires: String,
    name_errors: Vec<String>,
    expires_errors: Vec<String>,
    errors: Vec<String>,
}

/// What the page shows besides the list.
#[derive(Debug, Default)]
struct FormState {
    once: Option<ShownOnce>,
    name: String,
    expires: String,
    name_errors: Vec<String>,
    expires_errors: Vec<String>,
    errors: Vec<String>,
}

async fn page(
    req: &HttpRequest,
    session: &Session,
    page: u32,
    notice_key: Option<&str>,
    form: FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let identity = state.identity.clone();
    let caller = session.caller;
    let records = web::block(move || identity.tokens_of_caller(caller)).await??;
    let now = chrono::Utc::now();
    let live: Vec<_> = records
        .into_iter()
        .filter(|record| {
            record.revoked_at.is_none() && record.expires_at.is_none_or(|expires| expires > now)
        })
        .collect();
    let (live, total) = page_of(live, page);
    let rows = live
        .into_iter()
        .map(|record| TokenRow {
            current: record.id == session.caller.token_id,
            id: record.id.0,
            kind: if record.name == CONSOLE_SESSION_NAME {
                "console session"
            } else {
                record.kind.as_str()
            },
            name: record.name,
            prefix: record.prefix,
            created_at: view::when(&record.created_at),
            last_used_at: view::when_opt(record.last_used_at.as_ref()),
            expires_at: record
                .expires_at
                .as_ref()
                .map_or_else(|| "never".to_owned(), view::when),
        })
        .collect();
    let nav = Nav::of(&state, session, "tokens")
        .await?
        .with_notice(notice(notice_key));
    let base = format!("/console/o/{}/tokens?", nav.org);
    let page = TokensPage {
        nav,
        rows,
        pager: Pager::new(&base, page, total),
        once: form.once,
        name: form.name,
        expires: form.expires,
        name_errors: form.name_errors,
        expires_errors: form.expires_errors,
        errors: form.errors,
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
        FormState::default(),
        StatusCode::OK,
    )
    .await
}

async fn create(
    req: HttpRequest,
    org: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = org_form_session(&req, &org, &form).await?;
    let name = field(&form, "name").unwrap_or_default().to_owned();
    let expires = filled(&form, "expires_in_days")
        .unwrap_or_default()
        .to_owned();
    let mut state_of_form = FormState {
        name: name.clone(),
        expires: expires.clone(),
        ..FormState::default()
    };
    let days = if expires.is_empty() {
        None
    } else if let Ok(days) = expires.parse::<u32>() {
        Some(days)
    } else {
        state_of_form
            .expires_errors
            .push("Enter a whole number of days from 1 to 3650.".to_owned());
        return page(
            &req,
            &session,
            1,
            None,
            state_of_form,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let identity = state.identity.clone();
    let caller = session.caller;
    let outcome = {
        let name = name.clone();
        web::block(move || identity.issue_token_from_console(caller, &name, days)).await?
    };
    let status = match outcome {
        Ok(issued) => {
            state_of_form = FormState {
                once: Some(ShownOnce {
                    heading: format!("Token “{}” created", issued.record.name),
                    label: "New token",
                    input_id: "new-token",
                    value: issued.token.expose().to_owned(),
                }),
                ..FormState::default()
            };
            StatusCode::CREATED
        }
        Err(IssueTokenError::InvalidName) => {
            state_of_form
                .name_errors
                .push("Enter a name of 1 to 100 characters.".to_owned());
            StatusCode::BAD_REQUEST
        }
        Err(IssueTokenError::InvalidExpiry | IssueTokenError::OutlivesParent(_)) => {
            state_of_form
                .expires_errors
                .push("Enter a whole number of days from 1 to 3650.".to_owned());
            StatusCode::BAD_REQUEST
        }
        Err(IssueTokenError::TokenLimit) => {
            state_of_form
                .errors
                .push("You hold the most tokens allowed. Revoke some first.".to_owned());
            StatusCode::CONFLICT
        }
        Err(IssueTokenError::UnknownUser | IssueTokenError::ParentGone) => {
            return Err(PageError::SignIn);
        }
        // The console asks for no scopes (the token gets the default set), so a
        // refused scope cannot happen here; say so plainly if it ever does.
        Err(IssueTokenError::ScopeNotAllowed) => {
            state_of_form
                .errors
                .push("Your role does not allow a token with these rights.".to_owned());
            StatusCode::FORBIDDEN
        }
        Err(IssueTokenError::Repository(error)) => return Err(error.into()),
    };
    page(&req, &session, 1, None, state_of_form, status).await
}

async fn revoke(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let identity = state.identity.clone();
    let caller = session.caller;
    match web::block(move || identity.revoke_token_of_caller(caller, TokenId(id))).await? {
        Ok(()) if TokenId(id) == session.caller.token_id => Ok(redirect("/console/login")),
        Ok(()) => Ok(redirect(&format!("/console/o/{org}/tokens?done=revoked"))),
        Err(RevokeTokenError::NotFound) => Err(PageError::NotFound),
        Err(RevokeTokenError::Repository(error)) => Err(error.into()),
    }
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/o/{org}/tokens", web::get().to(list))
        .route("/o/{org}/tokens", web::post().to(create))
        .route("/o/{org}/tokens/{id}/revoke", web::post().to(revoke))
}
