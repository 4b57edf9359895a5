//! `GET /organizations/`: the organizations the caller belongs to, with the caller's
//! role in each.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::envelope::respond_list;
use crate::error::{ApiError, blocking};
use crate::{AppState, rfc3339};

#[derive(Debug, Serialize)]
struct OrganizationView {
    id: i64,
    name: String,
    domain_handle: String,
    role: &'static str,
    created_at: String,
}

pub(crate) async fn organizations(
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
