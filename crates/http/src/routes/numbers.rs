//! Phone number routes (contract section 7): list, add and delete an organization's
//! numbers under `/telephony/numbers/`.
//!
//! This module checks JSON and query shapes and turns numbers into their wire form;
//! the E.164 rule and everything else live in the domain and the service.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::Value;
use switchboard_application::bridges::ListNumbersQuery;
use switchboard_domain::shared::{NON_FIELD_ERRORS, PageRequest, ValidationErrors};
use switchboard_domain::telephony::{NumberFilter, NumberState, PhoneNumber, PhoneNumberId};

use crate::AppState;
use crate::auth::OrgActor;
use crate::body::read_json_object;
use crate::envelope::{respond, respond_list};
use crate::error::{ApiError, blocking};
use crate::idempotency::idempotent;
use crate::provider_configs::echoable_field_name;

/// The wire form of a number.
#[derive(Debug, Serialize)]
struct NumberView {
    id: i64,
    number: String,
    active: bool,
    state: &'static str,
    bridge_slug: Option<String>,
}

fn view(number: PhoneNumber) -> NumberView {
    NumberView {
        id: number.id.0,
        state: number.state().as_str(),
        number: number.number.as_str().to_owned(),
        active: number.active,
        bridge_slug: number.placement.map(|placement| placement.bridge_slug),
    }
}

pub(crate) async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = list_query(req.query_string())?;
    let service = state.bridges.clone();
    let page = blocking(move || service.list_numbers(&actor, query)).await?;
    let items: Vec<NumberView> = page.items.into_iter().map(view).collect();
    Ok(respond_list(
        "Numbers fetched successfully.",
        page.total,
        items,
    ))
}

pub(crate) async fn add(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let mut errors = ValidationErrors::new();
    let mut number = None;
    for (key, value) in body.clone() {
        match key.as_str() {
            "number" => match value {
                Value::String(text) => number = Some(text),
                _ => errors.add("number", "must be a string"),
            },
            other => unknown_field(&mut errors, other, "Unknown field."),
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    let work = {
        let (service, actor) = (state.bridges.clone(), actor.clone());
        async move {
            let added = blocking(move || service.add_number(&actor, number.as_deref())).await?;
            Ok(respond(
                StatusCode::CREATED,
                "Number added successfully.",
                view(added),
            ))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

pub(crate) async fn delete(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // An id that cannot exist is a 404, but only after the role (403) was checked.
    let id = path
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map_or(PhoneNumberId(0), PhoneNumberId);
    let service = state.bridges.clone();
    blocking(move || service.delete_number(&actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reports an unknown field or parameter under its own name when that looks like a
/// field name, otherwise under `non_field_errors` (a pasted secret never comes back).
pub(crate) fn unknown_field(errors: &mut ValidationErrors, name: &str, message: &str) {
    if echoable_field_name(name) {
        errors.add(name, message);
    } else {
        errors.add(
            NON_FIELD_ERRORS,
            "The request holds a field that is not accepted.",
        );
    }
}

/// Parses `page` and `page_size` (and hands every other parameter to `other`, which
/// returns whether it took it).
pub(crate) fn page_query(
    query_string: &str,
    mut other: impl FnMut(&str, &str, &mut ValidationErrors) -> bool,
) -> Result<PageRequest, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|_| ApiError::invalid(NON_FIELD_ERRORS, "Malformed query string."))?
        .into_inner();
    let mut errors = ValidationErrors::new();
    let mut page = PageRequest::default();
    for (key, value) in pairs {
        match key.as_str() {
            "page" => match value.parse::<u32>() {
                Ok(number) if number >= 1 => page.page = number,
                _ => errors.add("page", "must be an integer of at least 1"),
            },
            "page_size" => match value.parse::<u32>() {
                Ok(size) if (1..=PageRequest::MAX_PAGE_SIZE).contains(&size) => {
                    page.page_size = size;
                }
                _ => errors.add("page_size", "must be an integer from 1 to 100"),
            },
            name => {
                if !other(name, &value, &mut errors) {
                    unknown_field(&mut errors, name, "Unknown query parameter.");
                }
            }
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(page)
}

/// The number list query: `page`, `page_size` and `state` (`ASSIGNED` or
/// `NOT_ASSIGNED`).
fn list_query(query_string: &str) -> Result<ListNumbersQuery, ApiError> {
    let mut state = None;
    let page = page_query(query_string, |name, value, errors| {
        if name != "state" {
            return false;
        }
        match NumberState::parse(value) {
            Some(parsed) => state = Some(parsed),
            None => errors.add("state", "must be ASSIGNED or NOT_ASSIGNED"),
        }
        true
    })?;
    Ok(ListNumbersQuery {
        filter: NumberFilter { state },
        page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_queries_are_strict() {
        let query = list_query("state=ASSIGNED&page=2&page_size=10").expect("valid");
        assert_eq!(query.filter.state, Some(NumberState::Assigned));
        assert_eq!((query.page.page, query.page.page_size), (2, 10));
        for bad in [
            "state=assigned",
            "page=0",
            "page_size=101",
            "colour=red",
            "%zz",
        ] {
            assert!(list_query(bad).is_err(), "{bad}");
        }
    }
}
