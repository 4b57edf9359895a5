//! Phone number routes (contract section 7): list, add and delete an organization's
//! numbers under `/telephony/numbers/`.
//!
//! This module checks JSON and query shapes (through the field and query tables)
//! and turns numbers into their wire form; the E.164 rule and everything else live
//! in the domain and the service.

use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_application::bridges::ListNumbersQuery;
use switchboard_domain::telephony::{
    NumberFilter, NumberState, PhoneNumber, PhoneNumberId, ProviderCatalog,
};

use crate::docs::schema::{
    e164, envelope, list_envelope, object, page_params, query_param, schema_ref,
};
use crate::extract::auth::OrgActor;
use crate::extract::body::{BodyLimits, read_json_object};
use crate::middleware::idempotency::idempotent;
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::{respond, respond_list};
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind, positive_id};
use crate::wire::query::{PAGE_PARAMETERS, Query};

/// The wire form of a number.
#[derive(Debug, Serialize)]
pub(crate) struct NumberView {
    id: i64,
    number: String,
    active: bool,
    state: &'static str,
    bridge_slug: Option<String>,
    /// Connected on its bridge, or imported from (contract section 16).
    provider_config_id: Option<i64>,
}

pub(crate) fn view(number: PhoneNumber) -> NumberView {
    NumberView {
        id: number.id.0,
        state: number.state().as_str(),
        number: number.number.as_str().to_owned(),
        active: number.active,
        provider_config_id: number.provider_config_id.map(|id| id.0),
        bridge_slug: number.placement.map(|placement| placement.bridge_slug),
    }
}

static NUMBER_FIELDS: LazyLock<FieldTable> =
    LazyLock::new(|| FieldTable::new(vec![Field::new("number", Kind::Text)]));

async fn list(
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

async fn add(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let number = NUMBER_FIELDS.read(&body)?.text("number");
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

async fn delete(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // An id that cannot exist is a 404, but only after the role (403) was checked.
    let id = positive_id(&path).map_or(PhoneNumberId(0), PhoneNumberId);
    let service = state.bridges.clone();
    blocking(move || service.delete_number(&actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The number list query: `page`, `page_size` and `state` (`ASSIGNED` or
/// `NOT_ASSIGNED`).
fn list_query(query_string: &str) -> Result<ListNumbersQuery, ApiError> {
    let mut query = Query::read(
        query_string,
        &["state", PAGE_PARAMETERS[0], PAGE_PARAMETERS[1]],
    )?;
    let list = ListNumbersQuery {
        filter: NumberFilter {
            state: query.parsed(
                "state",
                "must be ASSIGNED or NOT_ASSIGNED",
                NumberState::parse,
            ),
        },
        page: query.page(),
    };
    query.finish()?;
    Ok(list)
}

fn list_parameters(_: &ProviderCatalog) -> Vec<Value> {
    let mut parameters = vec![query_param(
        "state",
        "Only numbers on a bridge or not.",
        json!({"enum": ["ASSIGNED", "NOT_ASSIGNED"]}),
    )];
    parameters.extend(page_params());
    parameters
}

fn numbers_answer() -> Value {
    list_envelope(schema_ref("Number"))
}

fn number_body(_: &ProviderCatalog) -> Value {
    object(json!({"number": e164()}), &["number"])
}

fn number_answer() -> Value {
    envelope(schema_ref("Number"))
}

/// The number routes.
pub(crate) fn routes() -> Vec<RouteSpec> {
    let numbers = |summary| Operation::new("bridges and numbers", summary);
    vec![
        RouteSpec::new(
            Method::GET,
            api("/telephony/numbers"),
            Access::OrgRead,
            || web::get().to(list),
            numbers("The organization's numbers")
                .id("listNumbers")
                .query(list_parameters)
                .answer(numbers_answer)
                .errors(&[400]),
        ),
        RouteSpec::new(
            Method::POST,
            api("/telephony/numbers"),
            Access::OrgWrite,
            || web::post().to(add),
            numbers("Add a number")
                .id("createNumber")
                .idempotency(Idempotency::Replayed)
                .body(number_body, true)
                .status(201)
                .answer(number_answer)
                .errors(&[400, 409, 422]),
        ),
        RouteSpec::new(
            Method::DELETE,
            api("/telephony/numbers/{id}"),
            Access::OrgWrite,
            || web::delete().to(delete),
            numbers("Delete a number (409 while on a bridge)")
                .id("deleteNumber")
                .status(204)
                .errors(&[404, 409]),
        ),
    ]
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
