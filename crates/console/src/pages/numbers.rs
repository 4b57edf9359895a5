//! Phone numbers of the organization: the list (state, bridge, linked
//! configuration), add (strict E.164, the error next to the field), import the
//! numbers of a configuration's provider account (a use of its secret, through the
//! import service the API uses), delete (refused while on a bridge).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use switchboard_application::bridges::{
    AddNumberError, DeleteNumberError, ListNumbersError, ListNumbersQuery,
};
use switchboard_application::credential_use::{
    RevealError, SecretUse, SecretUseLimitError, UseContext,
};
use switchboard_application::number_import::ImportNumbersError;
use switchboard_application::telephony::{ListProviderConfigsError, ListProviderConfigsQuery};
use switchboard_domain::shared::PageRequest;
use switchboard_domain::telephony::{PhoneNumberId, ProviderConfigId};

use super::{FormFields, ListQuery, filled, org_form_session, org_session};
use crate::session::{Session, context};
use crate::view::{self, Nav, PAGE_SIZE, PageError, Pager, notice, page_number, redirect, render};

#[derive(Debug)]
struct NumberRow {
    id: i64,
    number: String,
    state: &'static str,
    bridge: String,
    /// The linked configuration's name (imported from it, or connected to it).
    config: String,
    config_id: i64,
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
    configs: Vec<ConfigChoice>,
    import: ImportState,
}

/// A configuration the import form offers.
#[derive(Debug)]
struct ConfigChoice {
    id: i64,
    label: String,
    chosen: bool,
}

/// The import form's answer: what the last import did, or why it was refused.
#[derive(Debug, Default)]
struct ImportState {
    config: Option<i64>,
    result: Option<String>,
    errors: Vec<String>,
}

/// What the page shows besides the list: the add form and the import form as sent.
#[derive(Debug, Default)]
struct Forms {
    number: String,
    number_errors: Vec<String>,
    errors: Vec<String>,
    import: ImportState,
}

/// Most configurations the import form offers (the organization's first ones).
const IMPORT_CHOICES: u32 = 100;

/// The organization's configurations (for the import form and the names of the
/// linked ones).
async fn configurations(
    state: &web::Data<switchboard_http::AppState>,
    session: &Session,
) -> Result<Vec<(i64, String, bool)>, PageError> {
    let services = state.provider_configs.clone();
    let actor = session.actor()?.clone();
    let query = ListProviderConfigsQuery {
        provider: None,
        active: None,
        page: PageRequest {
            page: 1,
            page_size: IMPORT_CHOICES,
        },
    };
    let found = web::block(move || services.list(&actor, &query))
        .await?
        .map_err(|error| match error {
            ListProviderConfigsError::Validation(_) => PageError::Internal,
            ListProviderConfigsError::Repository(error) => error.into(),
        })?;
    Ok(found
        .items
        .into_iter()
        .map(|config| (config.id.0, config.name, config.active))
        .collect())
}

async fn page(
    req: &HttpRequest,
    session: &Session,
    page: u32,
    notice_key: Option<&str>,
    forms: Forms,
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
            ListNumbersError::Repository(error) => PageError::from(error),
        })?;
    let configs = configurations(&state, session).await?;
    let name_of = |id: i64| {
        configs
            .iter()
            .find(|(config, _, _)| *config == id)
            .map_or_else(
                || format!("configuration {id}"),
                |(_, name, _)| name.clone(),
            )
    };
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
            config: number
                .provider_config_id
                .map(|id| name_of(id.0))
                .unwrap_or_default(),
            config_id: number.provider_config_id.map_or(0, |id| id.0),
            created_at: view::when(&number.created_at),
        })
        .collect();
    let chosen = forms.import.config;
    let choices = configs
        .into_iter()
        .filter(|(_, _, active)| *active)
        .map(|(id, name, _)| ConfigChoice {
            id,
            label: name,
            chosen: chosen == Some(id),
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
        number: forms.number,
        number_errors: forms.number_errors,
        errors: forms.errors,
        configs: choices,
        import: forms.import,
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
        Forms::default(),
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
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let number = filled(&form, "number").map(str::to_owned);
    let bridges = state.bridges.clone();
    let outcome = {
        let number = number.clone();
        web::block(move || bridges.add_number(&actor, number.as_deref())).await?
    };
    let typed = number.unwrap_or_default();
    let (number_errors, status) = match outcome {
        Ok(_) => return Ok(redirect(&format!("/console/o/{org}/numbers?done=added"))),
        Err(AddNumberError::Validation(errors)) => (
            errors.fields().values().flatten().cloned().collect(),
            StatusCode::BAD_REQUEST,
        ),
        Err(AddNumberError::Duplicate) => (
            vec!["The organization already has this number.".to_owned()],
            StatusCode::CONFLICT,
        ),
        Err(AddNumberError::PermissionDenied) => return Err(PageError::PermissionDenied),
        Err(AddNumberError::Repository(error)) => return Err(error.into()),
    };
    let forms = Forms {
        number: typed,
        number_errors,
        ..Forms::default()
    };
    page(&req, &session, 1, None, forms, status).await
}

/// The sentence of an import's result.
fn import_result(imported: usize, existing: usize, skipped: usize) -> String {
    let numbers = |n: usize| if n == 1 { "number" } else { "numbers" };
    let mut sentence = format!(
        "Imported {imported} new {}; {existing} the organization had already.",
        numbers(imported)
    );
    if skipped > 0 {
        sentence.push_str(&format!(
            " Skipped {skipped} listed {} not in E.164 form (short codes).",
            numbers(skipped)
        ));
    }
    sentence
}

async fn import(
    req: HttpRequest,
    org: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let chosen = filled(&form, "provider_config_id")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0);
    let mut import = ImportState {
        config: chosen,
        ..ImportState::default()
    };
    let status = if let Some(id) = chosen {
        let service = state.number_import.clone();
        let context = UseContext {
            request_id: None,
            client_address: None,
        };
        let outcome =
            web::block(move || service.import(&actor, ProviderConfigId(id), &context)).await?;
        match outcome {
            Ok(outcome) => {
                switchboard_http::count_secret_use(SecretUse::Import);
                import.result = Some(import_result(
                    outcome.imported(),
                    outcome.existing(),
                    outcome.skipped,
                ));
                StatusCode::OK
            }
            Err(ImportNumbersError::PermissionDenied) => return Err(PageError::PermissionDenied),
            Err(error) => {
                let (message, status) = import_refusal(error)?;
                import.errors.push(message.to_owned());
                status
            }
        }
    } else {
        import
            .errors
            .push("Choose the configuration whose numbers to import.".to_owned());
        StatusCode::BAD_REQUEST
    };
    let forms = Forms {
        import,
        ..Forms::default()
    };
    page(&req, &session, 1, None, forms, status).await
}

/// The sentence and status of a refused import (the API's messages).
fn import_refusal(error: ImportNumbersError) -> Result<(&'static str, StatusCode), PageError> {
    Ok(match error {
        ImportNumbersError::Unsupported => (
            "Number import exists for these providers only: twilio, telnyx, plivo.",
            StatusCode::BAD_REQUEST,
        ),
        ImportNumbersError::Provider(_) => (
            "The provider's API failed or gave an answer that cannot be used; nothing was changed. Check the configuration's credentials, or try again later.",
            StatusCode::BAD_GATEWAY,
        ),
        ImportNumbersError::Use(RevealError::Inactive) => (
            "This provider configuration is inactive: activate it to use its credentials.",
            StatusCode::CONFLICT,
        ),
        ImportNumbersError::Use(RevealError::Unreadable) => (
            "The stored credentials of this configuration cannot be opened: send every secret again to replace them.",
            StatusCode::CONFLICT,
        ),
        ImportNumbersError::Use(RevealError::Limit(SecretUseLimitError::Limited(_))) => (
            "Too many uses of stored secrets just now: try again in a few seconds.",
            StatusCode::TOO_MANY_REQUESTS,
        ),
        ImportNumbersError::Use(RevealError::NotFound) => return Err(PageError::NotFound),
        ImportNumbersError::PermissionDenied => return Err(PageError::PermissionDenied),
        ImportNumbersError::Use(RevealError::Limit(SecretUseLimitError::Store(_))) => {
            return Err(PageError::Unavailable);
        }
        ImportNumbersError::Use(RevealError::Repository(error)) => return Err(error.into()),
    })
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
    let bridges = state.bridges.clone();
    match web::block(move || bridges.delete_number(&actor, PhoneNumberId(id))).await? {
        Ok(()) => Ok(redirect(&format!("/console/o/{org}/numbers?done=deleted"))),
        Err(DeleteNumberError::Assigned) => {
            let forms = Forms {
                errors: vec![
                    "This number is on a bridge: remove it from the bridge first.".to_owned(),
                ],
                ..Forms::default()
            };
            page(&req, &session, 1, None, forms, StatusCode::CONFLICT).await
        }
        Err(DeleteNumberError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(DeleteNumberError::NotFound) => Err(PageError::NotFound),
        Err(DeleteNumberError::Repository(error)) => Err(error.into()),
    }
}

/// The address of the page that showed an import's result, opened again: the list.
async fn import_again(org: web::Path<String>) -> HttpResponse {
    redirect(&format!("/console/o/{org}/numbers"))
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/o/{org}/numbers", web::get().to(list))
        .route("/o/{org}/numbers", web::post().to(add))
        .route("/o/{org}/numbers/import", web::post().to(import))
        .route("/o/{org}/numbers/import", web::get().to(import_again))
        .route("/o/{org}/numbers/{id}/delete", web::post().to(delete))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_results_read_as_sentences() {
        assert_eq!(
            import_result(3, 0, 0),
            "Imported 3 new numbers; 0 the organization had already."
        );
        assert_eq!(
            import_result(1, 2, 1),
            "Imported 1 new number; 2 the organization had already. Skipped 1 listed number not in E.164 form (short codes)."
        );
    }
}
