//! Bridges: the list and create form; a bridge's page with its numbers, what each
//! is connected to, and the forms to put a free number on the bridge, connect a
//! number to an active configuration, disconnect it, and delete the bridge.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use serde::Deserialize;
use switchboard_application::bridges::{
    ConnectProviderError, CreateBridgeError, DeleteBridgeError, GetBridgeError, ListBridgesError,
    ListNumbersQuery, UpdateBridgeError,
};
use switchboard_application::telephony::ListProviderConfigsQuery;
use switchboard_domain::shared::{PageRequest, ValidationErrors};
use switchboard_domain::telephony::{
    BridgeDetail, BridgeDraft, ConnectionDraft, NumberFilter, NumberState, Region,
};

use super::{FormFields, ListQuery, field, filled, org_form_session, org_session};
use crate::session::{Session, context};
use crate::view::{self, Nav, PAGE_SIZE, PageError, Pager, notice, page_number, redirect, render};

#[derive(Debug)]
struct BridgeRow {
    name: String,
    slug: String,
    status: &'static str,
    region: &'static str,
    created_at: String,
}

/// One input with its messages.
#[derive(Debug, Default)]
struct Typed {
    name: String,
    slug: String,
    name_errors: Vec<String>,
    slug_errors: Vec<String>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "bridges.html")]
struct BridgesPage {
    nav: Nav,
    rows: Vec<BridgeRow>,
    pager: Pager,
    regions: Vec<&'static str>,
    typed: Typed,
}

async fn list_page(
    req: &HttpRequest,
    session: &Session,
    page: u32,
    notice_key: Option<&str>,
    typed: Typed,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let bridges = state.bridges.clone();
    let actor = session.actor()?.clone();
    let request = PageRequest {
        page,
        page_size: PAGE_SIZE,
    };
    let found = web::block(move || bridges.list_bridges(&actor, request))
        .await?
        .map_err(|ListBridgesError::Repository(error)| PageError::from(error))?;
    let rows = found
        .items
        .iter()
        .map(|bridge| BridgeRow {
            name: bridge.name.clone(),
            slug: bridge.slug.clone(),
            status: bridge.status.as_str(),
            region: bridge.region.map_or("", Region::as_str),
            created_at: view::when(&bridge.created_at),
        })
        .collect();
    let nav = Nav::of(&state, session, "bridges")
        .await?
        .with_notice(notice(notice_key));
    let base = format!("/console/o/{}/bridges?", nav.org);
    let page = BridgesPage {
        nav,
        rows,
        pager: Pager::new(&base, page, found.total),
        regions: Region::ALL.iter().map(|region| region.as_str()).collect(),
        typed,
    };
    render(&page, status)
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
        Typed::default(),
        StatusCode::OK,
    )
    .await
}

fn split_errors(errors: &ValidationErrors, typed: &mut Typed) {
    for (name, messages) in errors.fields() {
        match name.as_str() {
            "name" => typed.name_errors.extend(messages.iter().cloned()),
            "slug" => typed.slug_errors.extend(messages.iter().cloned()),
            _ => typed.errors.extend(messages.iter().cloned()),
        }
    }
}

async fn create(
    req: HttpRequest,
    org: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let draft = BridgeDraft {
        name: filled(&form, "name").map(str::to_owned),
        slug: filled(&form, "slug").map(str::to_owned),
        region: filled(&form, "region").map(|region| Some(region.to_owned())),
        ..BridgeDraft::default()
    };
    let bridges = state.bridges.clone();
    let outcome = web::block(move || bridges.create_bridge(&actor, draft)).await?;
    let mut typed = Typed {
        name: field(&form, "name").unwrap_or_default().to_owned(),
        slug: field(&form, "slug").unwrap_or_default().to_owned(),
        ..Typed::default()
    };
    let status = match outcome {
        Ok(bridge) => {
            return Ok(redirect(&format!(
                "/console/o/{org}/bridges/{}?done=created",
                bridge.bridge.slug
            )));
        }
        Err(CreateBridgeError::Validation(errors)) => {
            split_errors(&errors, &mut typed);
            StatusCode::BAD_REQUEST
        }
        Err(CreateBridgeError::DuplicateSlug) => {
            typed
                .slug_errors
                .push("The organization already has a bridge with this slug.".to_owned());
            StatusCode::CONFLICT
        }
        Err(CreateBridgeError::PermissionDenied) => return Err(PageError::PermissionDenied),
        Err(CreateBridgeError::Repository(error)) => return Err(error.into()),
    };
    list_page(&req, &session, 1, None, typed, status).await
}

#[derive(Debug)]
struct NumberOnBridge {
    number: String,
    config_id: i64,
    config_name: String,
}

#[derive(Debug)]
struct Option_ {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "bridge.html")]
struct BridgePage {
    nav: Nav,
    name: String,
    slug: String,
    status: &'static str,
    region: &'static str,
    description: String,
    numbers: Vec<NumberOnBridge>,
    free_numbers: Vec<Option_>,
    unconnected: Vec<Option_>,
    configs: Vec<Option_>,
    errors: Vec<String>,
}

async fn load(
    state: &web::Data<switchboard_http::AppState>,
    session: &Session,
    slug: &str,
) -> Result<BridgeDetail, PageError> {
    let bridges = state.bridges.clone();
    let actor = session.actor()?.clone();
    let slug = slug.to_owned();
    match web::block(move || bridges.get_bridge(&actor, &slug)).await? {
        Ok(detail) => Ok(detail),
        Err(GetBridgeError::NotFound) => Err(PageError::NotFound),
        Err(GetBridgeError::Repository(error)) => Err(error.into()),
    }
}

async fn bridge_page(
    req: &HttpRequest,
    session: &Session,
    slug: &str,
    notice_key: Option<&str>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let detail = load(&state, session, slug).await?;
    let actor = session.actor()?.clone();
    let (free, configs) = {
        let state = state.clone();
        web::block(move || {
            let free = state.bridges.list_numbers(
                &actor,
                ListNumbersQuery {
                    filter: NumberFilter {
                        state: Some(NumberState::NotAssigned),
                    },
                    page: PageRequest {
                        page: 1,
                        page_size: PageRequest::MAX_PAGE_SIZE,
                    },
                },
            );
            let configs = state.provider_configs.list(
                &actor,
                &ListProviderConfigsQuery {
                    provider: None,
                    active: None,
                    page: PageRequest {
                        page: 1,
                        page_size: PageRequest::MAX_PAGE_SIZE,
                    },
                },
            );
            (free, configs)
        })
        .await?
    };
    let free = free.map_err(
        |switchboard_application::bridges::ListNumbersError::Repository(error)| {
            PageError::from(error)
        },
    )?;
    let configs = configs.map_err(|error| match error {
        switchboard_application::telephony::ListProviderConfigsError::Repository(error) => {
            PageError::from(error)
        }
        switchboard_application::telephony::ListProviderConfigsError::Validation(_) => {
            PageError::Internal
        }
    })?;
    let config_name = |id: i64| {
        configs
            .items
            .iter()
            .find(|config| config.id.0 == id)
            .map_or_else(|| format!("#{id}"), |config| config.name.clone())
    };
    let numbers: Vec<NumberOnBridge> = detail
        .numbers
        .iter()
        .map(|number| NumberOnBridge {
            number: number.number.as_str().to_owned(),
            config_id: number.provider_config_id.map_or(0, |id| id.0),
            config_name: number
                .provider_config_id
                .map(|id| config_name(id.0))
                .unwrap_or_default(),
        })
        .collect();
    let nav = Nav::of(&state, session, "bridges")
        .await?
        .with_notice(notice(notice_key));
    let bridge = &detail.bridge;
    let page = BridgePage {
        nav,
        name: bridge.name.clone(),
        slug: bridge.slug.clone(),
        status: bridge.status.as_str(),
        region: bridge.region.map_or("", Region::as_str),
        description: bridge.description.clone().unwrap_or_default(),
        unconnected: numbers
            .iter()
            .filter(|number| number.config_id == 0)
            .map(|number| Option_ {
                value: number.number.clone(),
                label: number.number.clone(),
            })
            .collect(),
        numbers,
        free_numbers: free
            .items
            .iter()
            .map(|number| Option_ {
                value: number.id.0.to_string(),
                label: number.number.as_str().to_owned(),
            })
            .collect(),
        configs: configs
            .items
            .iter()
            .filter(|config| config.active)
            .map(|config| Option_ {
                value: config.id.0.to_string(),
                label: config.name.clone(),
            })
            .collect(),
        errors,
    };
    render(&page, status)
}

#[derive(Debug, Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

async fn detail(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, PageError> {
    let (org, slug) = path.into_inner();
    let session = org_session(&req, &org).await?;
    bridge_page(
        &req,
        &session,
        &slug,
        query.done.as_deref(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

fn messages(errors: &ValidationErrors) -> Vec<String> {
    errors.fields().values().flatten().cloned().collect()
}

async fn add_number(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, slug) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let detail = load(&state, &session, &slug).await?;
    let Some(number_id) = filled(&form, "number_id").and_then(|id| id.parse::<i64>().ok()) else {
        return bridge_page(
            &req,
            &session,
            &slug,
            None,
            vec!["Choose a number.".to_owned()],
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let mut ids: Vec<i64> = detail.numbers.iter().map(|n| n.number_id.0).collect();
    ids.push(number_id);
    let draft = BridgeDraft {
        number_ids: Some(ids),
        ..BridgeDraft::default()
    };
    let actor = session.actor()?.clone();
    let bridges = state.bridges.clone();
    let target = slug.clone();
    match web::block(move || bridges.update_bridge(&actor, &target, draft)).await? {
        Ok(_) => Ok(redirect(&format!(
            "/console/o/{org}/bridges/{slug}?done=added"
        ))),
        Err(UpdateBridgeError::Validation(errors)) => {
            bridge_page(
                &req,
                &session,
                &slug,
                None,
                messages(&errors),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(UpdateBridgeError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(UpdateBridgeError::NotFound) => Err(PageError::NotFound),
        Err(UpdateBridgeError::Repository(error)) => Err(error.into()),
    }
}

async fn connection(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: FormFields,
    connect: bool,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, slug) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let draft = ConnectionDraft {
        provider_config_id: if connect {
            filled(&form, "provider_config_id").and_then(|id| id.parse::<i64>().ok())
        } else {
            None
        },
        phone_number: filled(&form, "phone_number").map(str::to_owned),
    };
    let bridges = state.bridges.clone();
    let target = slug.clone();
    let outcome = web::block(move || {
        if connect {
            bridges.connect_provider(&actor, &target, draft, None)
        } else {
            bridges.disconnect_provider(&actor, &target, draft, None)
        }
    })
    .await?;
    match outcome {
        Ok(_) => Ok(redirect(&format!(
            "/console/o/{org}/bridges/{slug}?done={}",
            if connect { "connected" } else { "disconnected" }
        ))),
        Err(ConnectProviderError::Validation(errors)) => {
            bridge_page(
                &req,
                &session,
                &slug,
                None,
                messages(&errors),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(ConnectProviderError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(ConnectProviderError::NotFound) => {
            bridge_page(
                &req,
                &session,
                &slug,
                None,
                vec!["That number or configuration is not in this organization.".to_owned()],
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(ConnectProviderError::Repository(error)) => Err(error.into()),
    }
}

async fn connect(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    connection(req, path, form, true).await
}

async fn disconnect(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    connection(req, path, form, false).await
}

async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, slug) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let bridges = state.bridges.clone();
    match web::block(move || bridges.delete_bridge(&actor, &slug)).await? {
        Ok(()) => Ok(redirect(&format!("/console/o/{org}/bridges?done=deleted"))),
        Err(DeleteBridgeError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(DeleteBridgeError::NotFound) => Err(PageError::NotFound),
        Err(DeleteBridgeError::Repository(error)) => Err(error.into()),
    }
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/o/{org}/bridges", web::get().to(list))
        .route("/o/{org}/bridges", web::post().to(create))
        .route("/o/{org}/bridges/{slug}", web::get().to(detail))
        .route(
            "/o/{org}/bridges/{slug}/numbers",
            web::post().to(add_number),
        )
        .route("/o/{org}/bridges/{slug}/connect", web::post().to(connect))
        .route(
            "/o/{org}/bridges/{slug}/disconnect",
            web::post().to(disconnect),
        )
        .route("/o/{org}/bridges/{slug}/delete", web::post().to(delete))
}
