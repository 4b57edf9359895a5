//! Provider configurations: the list (provider badge, verification badge and last
//! check, filters, pages), the create form (its credential inputs come from
//! `credential_form`), the detail page with the edit form, verify (verdict shown in place, with htmx or without), activate and
//! deactivate, and delete with the bridges and numbers that block it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use serde::Deserialize;
use switchboard_application::audit::{ListAuditEventsQuery, ProviderConfigHistoryError};
use switchboard_application::credential_use::SecretUse;
use switchboard_application::telephony::{
    CreateProviderConfigError, CredentialCheckFailure, DeleteProviderConfigError,
    GetProviderConfigError, ListProviderConfigsError, ListProviderConfigsQuery,
    UpdateProviderConfigError, VerifyProviderConfigError,
};
use switchboard_application::{Actor, WriteOptions};
use switchboard_domain::shared::PageRequest;
use switchboard_domain::telephony::{
    Provider, ProviderCatalog, ProviderConfig, ProviderConfigDraft, ProviderConfigId, ProviderRef,
};

use super::credential_form::{
    Input, credentials_from_form, form_inputs, place_errors, public_value, refill,
};
use super::rotations::{RotationForm, RotationPanel, panel};
use super::{FormFields, field, filled, org_form_session, org_session};
use crate::session::{Session, context};
use crate::view::{self, Nav, PAGE_SIZE, PageError, Pager, notice, page_number, redirect, render};

/// A configuration as the pages show it (no secret: the last four only).
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) provider_name: String,
    pub(crate) initials: String,
    pub(crate) account_sid: String,
    /// Every credential field of the provider: public ones with their value,
    /// secret ones as their last four (never more).
    pub(crate) credentials: Vec<CredentialView>,
    pub(crate) active: bool,
    /// `valid`, `invalid`, `unreachable` or `unchecked`.
    pub(crate) verification: &'static str,
    pub(crate) checked_at: String,
    pub(crate) base_url: String,
    pub(crate) sip_url: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

/// One credential field as the pages show it.
#[derive(Debug)]
pub(crate) struct CredentialView {
    pub(crate) label: String,
    pub(crate) secret: bool,
    pub(crate) identifier: bool,
    /// The value (public), the last four (secret, set), or empty (not set).
    pub(crate) value: String,
}

fn credential_views(config: &ProviderConfig, provider: Option<&Provider>) -> Vec<CredentialView> {
    let Some(provider) = provider else {
        return Vec::new();
    };
    provider
        .fields
        .iter()
        .map(|field| CredentialView {
            label: field.label.clone(),
            secret: field.secret,
            identifier: field.identifier,
            value: if field.secret {
                config
                    .secret_last4
                    .get(&field.name)
                    .cloned()
                    .unwrap_or_default()
            } else {
                public_value(config, field)
            },
        })
        .collect()
}

fn initials(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .collect()
}

impl Row {
    pub(crate) fn of(config: &ProviderConfig, catalog: &ProviderCatalog) -> Self {
        let provider = catalog.by_id(config.provider_id);
        let provider_name = provider.map_or_else(String::new, |p| p.name.clone());
        let credentials = credential_views(config, provider);
        Self {
            credentials,
            id: config.id.0,
            name: config.name.clone(),
            initials: initials(&provider_name),
            provider_name,
            account_sid: config.account_sid.clone(),
            active: config.active,
            verification: config
                .verification
                .as_ref()
                .map_or("unchecked", |v| v.status.as_str()),
            checked_at: view::when_opt(config.verification.as_ref().map(|v| &v.checked_at)),
            base_url: config.base_url.clone().unwrap_or_default(),
            sip_url: config.sip_url.clone().unwrap_or_default(),
            created_at: view::when(&config.created_at),
            updated_at: view::when(&config.updated_at),
        }
    }
}

/// A provider in a select.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn provider_choices(catalog: &ProviderCatalog, selected: Option<&str>) -> Vec<Choice> {
    catalog
        .all()
        .iter()
        .map(|provider| Choice {
            value: provider.slug.clone(),
            label: provider.name.clone(),
            selected: selected == Some(provider.slug.as_str()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "configurations.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<Row>,
    providers: Vec<Choice>,
    active: String,
    pager: Pager,
    filter_error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    provider: Option<String>,
    active: Option<String>,
    page: Option<String>,
    done: Option<String>,
}

async fn list(
    req: HttpRequest,
    org: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = org_session(&req, &org).await?;
    let actor = session.actor()?.clone();
    let query = query.into_inner();
    let provider = query.provider.clone().filter(|p| !p.is_empty());
    let active = match query.active.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let page = page_number(query.page.as_deref());
    let list_query = ListProviderConfigsQuery {
        provider: provider.clone(),
        active,
        page: PageRequest {
            page,
            page_size: PAGE_SIZE,
        },
    };
    let services = state.provider_configs.clone();
    let found = web::block(move || services.list(&actor, &list_query)).await?;
    let catalog = state.provider_configs.catalog();
    let (rows, total, filter_error) = match found {
        Ok(found) => (
            found.items.iter().map(|c| Row::of(c, catalog)).collect(),
            found.total,
            None,
        ),
        Err(ListProviderConfigsError::Validation(_)) => {
            (Vec::new(), 0, Some("Unknown provider.".to_owned()))
        }
        Err(ListProviderConfigsError::Repository(error)) => return Err(error.into()),
    };
    let mut base = format!("/console/o/{}/configurations?", org.as_str());
    if let Some(provider) = &provider {
        base.push_str(&format!("provider={provider}&"));
    }
    if let Some(active) = active {
        base.push_str(&format!("active={active}&"));
    }
    let nav = Nav::of(&state, &session, "configurations")
        .await?
        .with_notice(notice(query.done.as_deref()));
    let page = ListPage {
        nav,
        rows,
        providers: provider_choices(catalog, provider.as_deref()),
        active: active.map_or_else(String::new, |a| a.to_string()),
        pager: Pager::new(&base, page, total),
        filter_error,
    };
    render(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "configuration_form.html")]
struct FormPage {
    nav: Nav,
    providers: Vec<Choice>,
    /// The chosen provider (`None`: the chooser only).
    provider: Option<(String, String)>,
    inputs: Vec<Input>,
    active: bool,
    verify_first: bool,
    errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct NewQuery {
    provider: Option<String>,
}

async fn new_form(
    req: HttpRequest,
    org: web::Path<String>,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = org_session(&req, &org).await?;
    let nav = Nav::of(&state, &session, "configurations").await?;
    if !nav.can_write {
        return Err(PageError::PermissionDenied);
    }
    let catalog = state.provider_configs.catalog();
    let chosen = query
        .provider
        .as_deref()
        .and_then(|slug| catalog.by_slug(slug));
    let page = FormPage {
        nav,
        providers: provider_choices(catalog, chosen.map(|p| p.slug.as_str())),
        provider: chosen.map(|p| (p.slug.clone(), p.name.clone())),
        inputs: chosen.map(|p| form_inputs(p, false)).unwrap_or_default(),
        active: true,
        verify_first: false,
        errors: Vec::new(),
    };
    render(&page, StatusCode::OK)
}

/// The options of a console write.
pub(super) fn options(verify: bool) -> WriteOptions {
    WriteOptions {
        request_id: None,
        precondition: switchboard_domain::precondition::Precondition::default(),
        verify,
    }
}

fn check_failure(failure: CredentialCheckFailure) -> String {
    match failure {
        CredentialCheckFailure::Rejected => "The provider rejected these credentials.",
        CredentialCheckFailure::Unreachable => "The provider could not be reached.",
        CredentialCheckFailure::Unsupported => {
            "Credential verification is not available for this provider."
        }
    }
    .to_owned()
}

async fn create(
    req: HttpRequest,
    org: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = org_form_session(&req, &org, &form).await?;
    let actor: Actor = session.actor()?.clone();
    let catalog = state.provider_configs.catalog();
    let slug = filled(&form, "provider").unwrap_or_default().to_owned();
    let Some(provider) = catalog.by_slug(&slug) else {
        return Err(PageError::NotFound);
    };
    let verify_first = field(&form, "verify_first").is_some();
    let active = field(&form, "active").is_some();
    let draft = ProviderConfigDraft {
        provider: Some(ProviderRef::Slug(slug.clone())),
        account_sid: None,
        auth_token: None,
        credentials: credentials_from_form(provider, &form, None),
        name: filled(&form, "name").map(str::to_owned),
        active: Some(active),
        base_url: filled(&form, "base_url").map(|v| Some(v.to_owned())),
        sip_url: filled(&form, "sip_url").map(|v| Some(v.to_owned())),
        meta_json: None,
    };
    let services = state.provider_configs.clone();
    let outcome = web::block(move || {
        let checked = services.check_create(draft)?;
        services.create_checked(&actor, checked, &options(verify_first))
    })
    .await?;
    let mut inputs = form_inputs(provider, false);
    let (errors, status) = match outcome {
        Ok(created) => {
            return Ok(redirect(&format!(
                "/console/o/{}/configurations/{}?done=created",
                org.as_str(),
                created.id.0
            )));
        }
        Err(CreateProviderConfigError::Validation(errors)) => {
            (place_errors(&mut inputs, &errors), StatusCode::BAD_REQUEST)
        }
        Err(CreateProviderConfigError::PermissionDenied) => {
            return Err(PageError::PermissionDenied);
        }
        Err(CreateProviderConfigError::Duplicate) => (
            vec!["A configuration for this provider and account SID already exists.".to_owned()],
            StatusCode::CONFLICT,
        ),
        Err(CreateProviderConfigError::Verification(failure)) => {
            (vec![check_failure(failure)], StatusCode::BAD_REQUEST)
        }
        Err(CreateProviderConfigError::Encryption(_)) => return Err(PageError::Internal),
        Err(CreateProviderConfigError::Repository(error)) => return Err(error.into()),
    };
    // The form again, with what was typed (never the secret) and the messages.
    refill(&mut inputs, &form);
    let nav = Nav::of(&state, &session, "configurations").await?;
    let page = FormPage {
        nav,
        providers: provider_choices(catalog, Some(&slug)),
        provider: Some((provider.slug.clone(), provider.name.clone())),
        inputs,
        active,
        verify_first,
        errors,
    };
    render(&page, status)
}

/// A bridge number that keeps a configuration from being deleted.
#[derive(Debug)]
pub(super) struct Blocker {
    bridge: String,
    number: String,
}

/// An event of the configuration's history.
#[derive(Debug)]
struct HistoryEntry {
    at: String,
    action: &'static str,
    changes: String,
}

#[derive(Template)]
#[template(path = "configuration.html")]
struct DetailPage {
    nav: Nav,
    row: Row,
    inputs: Vec<Input>,
    errors: Vec<String>,
    blockers: Vec<Blocker>,
    verdict: Option<String>,
    history: Vec<HistoryEntry>,
    rotation: RotationPanel,
}

/// Only the verification badge (for htmx).
#[derive(Template)]
#[template(path = "verdict.html")]
struct VerdictFragment {
    row: Row,
    verdict: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

pub(super) async fn load(
    state: &web::Data<switchboard_http::AppState>,
    actor: &Actor,
    id: i64,
) -> Result<ProviderConfig, PageError> {
    let services = state.provider_configs.clone();
    let actor = actor.clone();
    match web::block(move || services.get(&actor, ProviderConfigId(id))).await? {
        Ok(config) => Ok(config),
        Err(GetProviderConfigError::NotFound) => Err(PageError::NotFound),
        Err(GetProviderConfigError::Repository(error)) => Err(error.into()),
    }
}

async fn history(
    state: &web::Data<switchboard_http::AppState>,
    actor: &Actor,
    id: i64,
) -> Result<Vec<HistoryEntry>, PageError> {
    let audit = state.audit.clone();
    let actor = actor.clone();
    let query = ListAuditEventsQuery {
        page: PageRequest {
            page: 1,
            page_size: 10,
        },
        ..ListAuditEventsQuery::default()
    };
    match web::block(move || audit.history(&actor, ProviderConfigId(id), &query)).await? {
        Ok(events) => Ok(events
            .items
            .iter()
            .map(|event| HistoryEntry {
                at: view::when(&event.created_at),
                action: event.action.as_str(),
                changes: serde_json_compact(&event.changes),
            })
            .collect()),
        Err(ProviderConfigHistoryError::NotFound) => Ok(Vec::new()),
        Err(ProviderConfigHistoryError::Repository(error)) => Err(error.into()),
    }
}

/// The changes of an audit event as one line (the audit trail holds no secret).
pub(crate) fn serde_json_compact(changes: &serde_json::Map<String, serde_json::Value>) -> String {
    changes
        .iter()
        .map(|(key, value)| format!("{key}: {value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[expect(clippy::too_many_arguments, reason = "one page, its parts")]
pub(super) async fn detail_page(
    req: &HttpRequest,
    session: &Session,
    config: &ProviderConfig,
    inputs: Option<Vec<Input>>,
    errors: Vec<String>,
    blockers: Vec<Blocker>,
    verdict: Option<String>,
    notice_key: Option<&str>,
    rotation: RotationForm,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let actor = session.actor()?;
    let catalog = state.provider_configs.catalog();
    let row = Row::of(config, catalog);
    let rotation = panel(&state, actor, config, rotation).await?;
    let inputs = match inputs {
        Some(inputs) => inputs,
        None => {
            let provider = catalog.by_id(config.provider_id);
            let mut inputs = provider
                .map(|provider| form_inputs(provider, true))
                .unwrap_or_default();
            for input in &mut inputs {
                let credential = provider.and_then(|provider| provider.field(&input.name));
                input.value = match (input.name.as_str(), credential) {
                    (_, Some(field)) if field.secret => String::new(),
                    (_, Some(field)) => public_value(config, field),
                    ("name", None) => row.name.clone(),
                    ("base_url", None) => row.base_url.clone(),
                    ("sip_url", None) => row.sip_url.clone(),
                    _ => String::new(),
                };
            }
            inputs
        }
    };
    let history = history(&state, actor, config.id.0).await?;
    let nav = Nav::of(&state, session, "configurations")
        .await?
        .with_notice(notice(notice_key));
    let page = DetailPage {
        nav,
        row,
        inputs,
        errors,
        blockers,
        verdict,
        history,
        rotation,
    };
    render(&page, status)
}

async fn detail(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_session(&req, &org).await?;
    let config = load(&state, session.actor()?, id).await?;
    detail_page(
        &req,
        &session,
        &config,
        None,
        Vec::new(),
        Vec::new(),
        None,
        query.done.as_deref(),
        RotationForm::default(),
        StatusCode::OK,
    )
    .await
}

async fn update(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let current = load(&state, &actor, id).await?;
    let changed = |name: &str, now: Option<&str>| {
        let sent = filled(&form, name);
        (sent != now).then(|| sent.map(str::to_owned))
    };
    let catalog = state.provider_configs.catalog();
    let provider = catalog.by_id(current.provider_id);
    let draft = ProviderConfigDraft {
        provider: None,
        account_sid: None,
        auth_token: None,
        credentials: provider
            .map(|provider| credentials_from_form(provider, &form, Some(&current)))
            .unwrap_or_default(),
        name: changed("name", Some(current.name.as_str())).flatten(),
        active: None,
        base_url: changed("base_url", current.base_url.as_deref()),
        sip_url: changed("sip_url", current.sip_url.as_deref()),
        meta_json: None,
    };
    let services = state.provider_configs.clone();
    let outcome = {
        let actor = actor.clone();
        web::block(move || {
            services.update_with(&actor, ProviderConfigId(id), draft, &options(false))
        })
        .await?
    };
    let mut inputs = provider
        .map(|provider| form_inputs(provider, true))
        .unwrap_or_default();
    let (errors, status) = match outcome {
        Ok(_) => {
            return Ok(redirect(&format!(
                "/console/o/{org}/configurations/{id}?done=saved"
            )));
        }
        Err(UpdateProviderConfigError::Validation(errors)) => {
            (place_errors(&mut inputs, &errors), StatusCode::BAD_REQUEST)
        }
        Err(UpdateProviderConfigError::PermissionDenied) => {
            return Err(PageError::PermissionDenied);
        }
        Err(UpdateProviderConfigError::NotFound) => return Err(PageError::NotFound),
        Err(UpdateProviderConfigError::Duplicate) => (
            vec!["A configuration for this provider and account SID already exists.".to_owned()],
            StatusCode::CONFLICT,
        ),
        Err(UpdateProviderConfigError::Verification(failure)) => {
            (vec![check_failure(failure)], StatusCode::BAD_REQUEST)
        }
        Err(
            UpdateProviderConfigError::PreconditionFailed | UpdateProviderConfigError::Contended,
        ) => (
            vec!["The configuration changed meanwhile. Reload and try again.".to_owned()],
            StatusCode::CONFLICT,
        ),
        Err(UpdateProviderConfigError::CredentialsUnreadable(_)) => (
            vec!["The stored secrets cannot be opened: enter every secret again.".to_owned()],
            StatusCode::CONFLICT,
        ),
        Err(UpdateProviderConfigError::Encryption(_)) => return Err(PageError::Internal),
        Err(UpdateProviderConfigError::Repository(error)) => return Err(error.into()),
    };
    refill(&mut inputs, &form);
    detail_page(
        &req,
        &session,
        &current,
        Some(inputs),
        errors,
        Vec::new(),
        None,
        None,
        RotationForm::default(),
        status,
    )
    .await
}

async fn set_active(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let active = field(&form, "active") == Some("true");
    let draft = ProviderConfigDraft {
        active: Some(active),
        ..ProviderConfigDraft::default()
    };
    let services = state.provider_configs.clone();
    let outcome = web::block(move || {
        services.update_with(&actor, ProviderConfigId(id), draft, &options(false))
    })
    .await?;
    match outcome {
        Ok(_) => Ok(redirect(&format!(
            "/console/o/{org}/configurations/{id}?done={}",
            if active { "activated" } else { "deactivated" }
        ))),
        Err(UpdateProviderConfigError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(UpdateProviderConfigError::NotFound) => Err(PageError::NotFound),
        Err(UpdateProviderConfigError::Repository(error)) => Err(error.into()),
        Err(_) => Err(PageError::Forbidden(
            "The configuration could not be changed. Reload and try again.",
        )),
    }
}

async fn verify(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let services = state.provider_configs.clone();
    let outcome = {
        let actor = actor.clone();
        web::block(move || services.verify(&actor, ProviderConfigId(id), &options(false))).await?
    };
    let (config, verdict) = match outcome {
        Ok(config) => {
            switchboard_http::count_secret_use(SecretUse::Verify);
            let verdict = match config.verification.as_ref().map(|v| v.status.as_str()) {
                Some("valid") => "The provider accepted the credentials.",
                Some("invalid") => "The provider rejected the credentials.",
                _ => "The provider could not be reached.",
            };
            (config, verdict.to_owned())
        }
        Err(VerifyProviderConfigError::PermissionDenied) => {
            return Err(PageError::PermissionDenied);
        }
        Err(VerifyProviderConfigError::NotFound) => return Err(PageError::NotFound),
        Err(VerifyProviderConfigError::Unsupported) => (
            load(&state, &actor, id).await?,
            "Credential verification is not available for this provider.".to_owned(),
        ),
        Err(VerifyProviderConfigError::CredentialsUnreadable(_)) => (
            load(&state, &actor, id).await?,
            "The stored secrets cannot be opened: enter them again.".to_owned(),
        ),
        Err(
            VerifyProviderConfigError::PreconditionFailed | VerifyProviderConfigError::Contended,
        ) => (
            load(&state, &actor, id).await?,
            "The configuration changed meanwhile. Try again.".to_owned(),
        ),
        Err(VerifyProviderConfigError::Repository(error)) => return Err(error.into()),
    };
    if req.headers().contains_key("hx-request") {
        let fragment = VerdictFragment {
            row: Row::of(&config, state.provider_configs.catalog()),
            verdict: Some(verdict),
        };
        return render(&fragment, StatusCode::OK);
    }
    detail_page(
        &req,
        &session,
        &config,
        None,
        Vec::new(),
        Vec::new(),
        Some(verdict),
        None,
        RotationForm::default(),
        StatusCode::OK,
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
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let services = state.provider_configs.clone();
    let outcome = {
        let actor = actor.clone();
        web::block(move || services.delete_with(&actor, ProviderConfigId(id), &options(false)))
            .await?
    };
    let (errors, blockers) = match outcome {
        Ok(()) => {
            return Ok(redirect(&format!(
                "/console/o/{org}/configurations?done=deleted"
            )));
        }
        Err(DeleteProviderConfigError::InUse(connections)) => (
            vec![
                "This configuration is still connected to bridge numbers. Disconnect them first."
                    .to_owned(),
            ],
            connections
                .into_iter()
                .map(|connection| Blocker {
                    bridge: connection.bridge_slug,
                    number: connection.number.as_str().to_owned(),
                })
                .collect(),
        ),
        Err(DeleteProviderConfigError::PermissionDenied) => {
            return Err(PageError::PermissionDenied);
        }
        Err(DeleteProviderConfigError::NotFound) => return Err(PageError::NotFound),
        Err(
            DeleteProviderConfigError::PreconditionFailed | DeleteProviderConfigError::Contended,
        ) => (
            vec!["The configuration changed meanwhile. Try again.".to_owned()],
            Vec::new(),
        ),
        Err(DeleteProviderConfigError::Repository(error)) => return Err(error.into()),
    };
    let config = load(&state, &actor, id).await?;
    detail_page(
        &req,
        &session,
        &config,
        None,
        errors,
        blockers,
        None,
        None,
        RotationForm::default(),
        StatusCode::CONFLICT,
    )
    .await
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/o/{org}/configurations", web::get().to(list))
        .route("/o/{org}/configurations", web::post().to(create))
        .route("/o/{org}/configurations/new", web::get().to(new_form))
        .route("/o/{org}/configurations/{id}", web::get().to(detail))
        .route("/o/{org}/configurations/{id}", web::post().to(update))
        .route(
            "/o/{org}/configurations/{id}/active",
            web::post().to(set_active),
        )
        .route(
            "/o/{org}/configurations/{id}/verify",
            web::post().to(verify),
        )
        .route(
            "/o/{org}/configurations/{id}/delete",
            web::post().to(delete),
        )
}
