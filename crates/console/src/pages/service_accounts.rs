//! Service accounts of the organization (owners and admins, as in the API): the
//! list, create (name and role), one account with its live tokens (never a secret:
//! name, prefix, scopes, dates), a token created with a name, scopes and an expiry
//! (shown on the answering page, once), revoke one token, delete the account (its
//! tokens stop working at once). Members and viewers are refused by the service,
//! on every page and every forged form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use switchboard_application::identity::IssueTokenError;
use switchboard_application::service_accounts::{
    CreateServiceAccountError, IssueServiceTokenError, ServiceAccountError, ServiceAccountView,
};
use switchboard_domain::identity::{Grants, Role, ScopeSet, ServiceAccountId, TokenId};

use super::{FormFields, ListQuery, every, field, filled, org_form_session, org_session};
use crate::session::{Session, context};
use crate::view::{
    self, Choice, FormErrors, Nav, PageError, Pager, ShownOnce, notice, page_number, page_of,
    redirect, render,
};

/// The roles a service account may hold, in the order the form offers them.
const ROLES: [Role; 3] = [Role::Admin, Role::Member, Role::Viewer];
/// The API's message for a bad name (the same for accounts and tokens).
const NAME_MESSAGE: &str = "must be 1 to 100 characters without control characters";
/// The API's message for a bad expiry.
const EXPIRY_MESSAGE: &str = "must be an integer from 1 to 3650";

#[derive(Debug)]
struct AccountRow {
    id: i64,
    name: String,
    role: &'static str,
    tokens: usize,
    created_at: String,
}

#[derive(Template)]
#[template(path = "service_accounts.html")]
struct AccountsPage {
    nav: Nav,
    rows: Vec<AccountRow>,
    pager: Pager,
    name: String,
    roles: Vec<Choice>,
    errors: FormErrors,
}

#[derive(Debug)]
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    scopes: Vec<&'static str>,
    created_at: String,
    last_used_at: String,
    expires_at: String,
}

#[derive(Template)]
#[template(path = "service_account.html")]
struct AccountPage {
    nav: Nav,
    account: AccountRow,
    once: Option<ShownOnce>,
    tokens: Vec<TokenRow>,
    pager: Pager,
    token_name: String,
    scopes: Vec<Choice>,
    expires: String,
    errors: FormErrors,
}

fn listing_refused(error: ServiceAccountError) -> PageError {
    match error {
        ServiceAccountError::PermissionDenied => PageError::PermissionDenied,
        ServiceAccountError::NotFound => PageError::NotFound,
        ServiceAccountError::Repository(error) => error.into(),
    }
}

async fn accounts(
    req: &HttpRequest,
    session: &Session,
) -> Result<Vec<ServiceAccountView>, PageError> {
    let (state, _) = context(req)?;
    let service = state.service_accounts.clone();
    let actor = session.actor()?.clone();
    web::block(move || service.list(&actor))
        .await?
        .map_err(listing_refused)
}

fn role_choices(chosen: &str) -> Vec<Choice> {
    ROLES
        .into_iter()
        .map(|role| Choice::new(role.as_str(), role.as_str() == chosen))
        .collect()
}

async fn list_page(
    req: &HttpRequest,
    session: &Session,
    page: u32,
    notice_key: Option<&str>,
    typed: (String, String),
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let (views, total) = page_of(accounts(req, session).await?, page);
    let rows = views
        .into_iter()
        .map(|ServiceAccountView { account, tokens }| AccountRow {
            id: account.id.0,
            name: account.name,
            role: account.role.as_str(),
            tokens: tokens.len(),
            created_at: view::when(&account.created_at),
        })
        .collect();
    let nav = Nav::of(&state, session, "service-accounts")
        .await?
        .with_notice(notice(notice_key));
    let base = format!("/console/o/{}/service-accounts?", nav.org);
    let (name, role) = typed;
    render(
        &AccountsPage {
            nav,
            rows,
            pager: Pager::new(&base, page, total),
            name,
            roles: role_choices(if role.is_empty() { "member" } else { &role }),
            errors,
        },
        status,
    )
}

async fn list(
    req: HttpRequest,
    org: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let session = org_session(&req, &org).await?;
    list_page(
        &req,
        &session,
        page_number(query.page.as_deref()),
        query.done.as_deref(),
        (String::new(), String::new()),
        FormErrors::default(),
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
    let actor = session.actor()?.clone();
    let name = field(&form, "name").unwrap_or_default().to_owned();
    let role_text = field(&form, "role").unwrap_or_default().to_owned();
    let role = role_text
        .parse::<Role>()
        .ok()
        .filter(|role| ROLES.contains(role));
    let outcome = match role {
        Some(role) => {
            let service = state.service_accounts.clone();
            let name = name.clone();
            web::block(move || service.create(&actor, &name, role)).await?
        }
        // As the API: a role outside the list is refused before anything else,
        // but only a manager learns it.
        None if matches!(actor.role, Role::Owner | Role::Admin) => {
            Err(CreateServiceAccountError::InvalidRole)
        }
        None => Err(CreateServiceAccountError::PermissionDenied),
    };
    let errors = match outcome {
        Ok(account) => {
            return Ok(redirect(&format!(
                "/console/o/{org}/service-accounts/{}?done=created",
                account.id.0
            )));
        }
        Err(CreateServiceAccountError::InvalidName) => {
            FormErrors::default().on("name", NAME_MESSAGE)
        }
        Err(CreateServiceAccountError::InvalidRole) => {
            FormErrors::default().on("role", "must be one of admin, member, viewer")
        }
        Err(CreateServiceAccountError::PermissionDenied) => {
            return Err(PageError::PermissionDenied);
        }
        Err(CreateServiceAccountError::Repository(error)) => return Err(error.into()),
    };
    list_page(
        &req,
        &session,
        1,
        None,
        (name, role_text),
        errors,
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// What the account page shows besides the account and its tokens.
#[derive(Debug, Default)]
struct TokenForm {
    once: Option<ShownOnce>,
    name: String,
    scopes: Vec<String>,
    expires: String,
    errors: FormErrors,
}

#[expect(clippy::too_many_arguments, reason = "one page, its parts")]
async fn account_page(
    req: &HttpRequest,
    session: &Session,
    org: &str,
    id: i64,
    page: u32,
    notice_key: Option<&str>,
    form: TokenForm,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let ServiceAccountView { account, tokens } = accounts(req, session)
        .await?
        .into_iter()
        .find(|view| view.account.id.0 == id)
        .ok_or(PageError::NotFound)?;
    let usable = account.role.usable_scopes(true);
    let (tokens, total) = page_of(tokens, page);
    let tokens = tokens
        .into_iter()
        .map(|record| TokenRow {
            id: record.id.0,
            name: record.name,
            prefix: record.prefix,
            scopes: record.scopes.unwrap_or_else(ScopeSet::legacy).names(),
            created_at: view::when(&record.created_at),
            last_used_at: view::when_opt(record.last_used_at.as_ref()),
            expires_at: record
                .expires_at
                .as_ref()
                .map_or_else(|| "never".to_owned(), view::when),
        })
        .collect();
    let scopes = usable
        .iter()
        .map(|scope| {
            Choice::new(
                scope.as_str(),
                form.scopes.iter().any(|chosen| chosen == scope.as_str()),
            )
        })
        .collect();
    let nav = Nav::of(&state, session, "service-accounts")
        .await?
        .with_notice(notice(notice_key));
    let base = format!("/console/o/{org}/service-accounts/{id}?");
    render(
        &AccountPage {
            nav,
            account: AccountRow {
                id,
                name: account.name,
                role: account.role.as_str(),
                tokens: 0,
                created_at: view::when(&account.created_at),
            },
            once: form.once,
            tokens,
            pager: Pager::new(&base, page, total),
            token_name: form.name,
            scopes,
            expires: form.expires,
            errors: form.errors,
        },
        status,
    )
}

async fn show(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let (org, id) = path.into_inner();
    let session = org_session(&req, &org).await?;
    account_page(
        &req,
        &session,
        &org,
        id,
        page_number(query.page.as_deref()),
        query.done.as_deref(),
        TokenForm::default(),
        StatusCode::OK,
    )
    .await
}

/// The scopes ticked in a form; `None` when one is not a scope (a forged form).
fn ticked_scopes(form: &[(String, String)]) -> Option<ScopeSet> {
    ScopeSet::parse_names(every(form, "scopes")).ok()
}

async fn create_token(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let mut typed = TokenForm {
        name: field(&form, "name").unwrap_or_default().to_owned(),
        scopes: every(&form, "scopes")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        expires: filled(&form, "expires_in_days")
            .unwrap_or_default()
            .to_owned(),
        ..TokenForm::default()
    };
    let mut errors = FormErrors::default();
    let days = if typed.expires.is_empty() {
        None
    } else {
        let days = typed.expires.parse::<u32>().ok();
        if days.is_none() {
            errors = errors.on("expires_in_days", EXPIRY_MESSAGE);
        }
        days
    };
    let scopes = ticked_scopes(&form);
    match scopes {
        None => errors = errors.on("scopes", "must list known scopes"),
        Some(set) if set == ScopeSet::empty() => {
            errors = errors.on("scopes", "choose at least one scope");
        }
        Some(_) => {}
    }
    let status = if let (true, Some(scopes)) = (errors.is_empty(), scopes) {
        // A console session's token holds the default scopes, unnarrowed, like a
        // login token of the API.
        let grants = Grants::of(None, false);
        let service = state.service_accounts.clone();
        let name = typed.name.clone();
        let outcome = web::block(move || {
            service.issue_token(&actor, grants, ServiceAccountId(id), &name, scopes, days)
        })
        .await?;
        match outcome {
            Ok(issued) => {
                typed = TokenForm {
                    once: Some(ShownOnce {
                        heading: format!("Token “{}” created", issued.record.name),
                        label: "New token",
                        input_id: "new-token",
                        value: issued.token.expose().to_owned(),
                    }),
                    ..TokenForm::default()
                };
                StatusCode::CREATED
            }
            Err(IssueServiceTokenError::Issue(IssueTokenError::InvalidName)) => {
                errors = errors.on("name", NAME_MESSAGE);
                StatusCode::BAD_REQUEST
            }
            Err(IssueServiceTokenError::Issue(
                IssueTokenError::InvalidExpiry | IssueTokenError::OutlivesParent(_),
            )) => {
                errors = errors.on("expires_in_days", EXPIRY_MESSAGE);
                StatusCode::BAD_REQUEST
            }
            Err(IssueServiceTokenError::Issue(IssueTokenError::TokenLimit)) => {
                errors = errors.above(
                    "This account holds the maximum number of live tokens (200): revoke one first.",
                );
                StatusCode::CONFLICT
            }
            Err(
                IssueServiceTokenError::ScopeNotAllowed
                | IssueServiceTokenError::Issue(IssueTokenError::ScopeNotAllowed),
            ) => {
                errors = errors.on(
                    "scopes",
                    "You do not have permission to perform this action.",
                );
                StatusCode::FORBIDDEN
            }
            Err(IssueServiceTokenError::PermissionDenied) => {
                return Err(PageError::PermissionDenied);
            }
            Err(
                IssueServiceTokenError::NotFound
                | IssueServiceTokenError::Issue(
                    IssueTokenError::UnknownUser | IssueTokenError::ParentGone,
                ),
            ) => return Err(PageError::NotFound),
            Err(
                IssueServiceTokenError::Repository(error)
                | IssueServiceTokenError::Issue(IssueTokenError::Repository(error)),
            ) => return Err(error.into()),
        }
    } else {
        StatusCode::BAD_REQUEST
    };
    typed.errors = errors;
    account_page(&req, &session, &org, id, 1, None, typed, status).await
}

async fn revoke_token(
    req: HttpRequest,
    path: web::Path<(String, i64, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id, token) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let service = state.service_accounts.clone();
    web::block(move || service.revoke_token(&actor, ServiceAccountId(id), TokenId(token)))
        .await?
        .map_err(listing_refused)?;
    Ok(redirect(&format!(
        "/console/o/{org}/service-accounts/{id}?done=revoked"
    )))
}

async fn delete(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let service = state.service_accounts.clone();
    web::block(move || service.delete(&actor, ServiceAccountId(id)))
        .await?
        .map_err(listing_refused)?;
    Ok(redirect(&format!(
        "/console/o/{org}/service-accounts?done=deleted"
    )))
}

/// The address of the page that showed a new token, opened again (a reload, a
/// bookmark): the account's page, where the token is no longer shown.
async fn tokens_again(path: web::Path<(String, i64)>) -> HttpResponse {
    let (org, id) = path.into_inner();
    redirect(&format!("/console/o/{org}/service-accounts/{id}"))
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/o/{org}/service-accounts", web::get().to(list))
        .route("/o/{org}/service-accounts", web::post().to(create))
        .route("/o/{org}/service-accounts/{id}", web::get().to(show))
        .route(
            "/o/{org}/service-accounts/{id}/tokens",
            web::post().to(create_token),
        )
        .route(
            "/o/{org}/service-accounts/{id}/tokens",
            web::get().to(tokens_again),
        )
        .route(
            "/o/{org}/service-accounts/{id}/tokens/{token}/revoke",
            web::post().to(revoke_token),
        )
        .route(
            "/o/{org}/service-accounts/{id}/delete",
            web::post().to(delete),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::identity::Scope as TokenScope;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn ticked_scopes_are_known_scopes_only() {
        let set = ticked_scopes(&form(&[
            ("scopes", "bridges:read"),
            ("scopes", "credentials:use"),
        ]))
        .expect("known scopes");
        assert!(set.contains(TokenScope::BridgesRead) && set.contains(TokenScope::CredentialsUse));
        assert!(!set.contains(TokenScope::AuditRead));
        assert_eq!(ticked_scopes(&form(&[("scopes", "everything")])), None);
        assert_eq!(ticked_scopes(&form(&[])), Some(ScopeSet::empty()));
    }

    #[test]
    fn the_role_list_never_offers_owner() {
        let roles = role_choices("viewer");
        assert_eq!(
            roles.iter().map(|r| r.value).collect::<Vec<_>>(),
            ["admin", "member", "viewer"]
        );
        assert!(roles[2].chosen && !roles[0].chosen);
    }
}
