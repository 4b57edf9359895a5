//! `GET /organizations/`: the organizations the caller belongs to, with the caller's
//! role in each.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::Value;

use crate::docs::schema::{list_envelope, schema_ref};
use crate::extract::auth::Authenticated;
use crate::spec::{Access, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::respond_list;
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::rfc3339;

#[derive(Debug, Serialize)]
struct OrganizationView {
    id: i64,
    name: String,
    domain_handle: String,
    role: &'static str,
    created_at: String,
}

async fn organizations(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let identity = state.identity.clone();
    let memberships = blocking(move || identity.organizations_of(caller)).await?;
    let items: Vec<OrganizationView> = memberships
        .into_iter()
        .map(|membership| OrganizationView {
            id: membership.organization.id.0,
            name: membership.organization.name,
            domain_handle: membership.organization.domain_handle.as_str().to_owned(),
            role: membership.role.as_str(),
            created_at: rfc3339(&membership.organization.created_at),
        })
        .collect();
    let total = items.len() as u64;
    Ok(respond_list(
        "Organizations fetched successfully.",
        total,
        items,
    ))
}

fn organizations_answer() -> Value {
    list_envelope(schema_ref("Organization"))
}

/// The identity routes.
pub(crate) fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::new(
        Method::GET,
        api("/organizations"),
        Access::Token,
        || web::get().to(organizations),
        Operation::new("identity", "The caller's organizations and roles")
            .id("listOrganizations")
            .answer(organizations_answer),
    )]
}
