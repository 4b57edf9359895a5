//! Service-account routes (contract section 11): owners and admins create, list and
//! delete the organization's service accounts, issue their tokens (shown once, never
//! stored for `Idempotency-Key`) and revoke them one by one.

use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_application::service_accounts::ServiceAccountView;
use switchboard_domain::identity::{
    Role, ServiceAccount, ServiceAccountId, ServiceAccountRequest, TokenId, TokenRecord,
};
use switchboard_domain::telephony::ProviderCatalog;
use switchboard_domain::validation;

use crate::docs::schema::{envelope, list_envelope, object, schema_ref, text};
use crate::extract::auth::{OrgActor, OrgGranted};
use crate::extract::body::{BodyLimits, read_json_object};
use crate::middleware::idempotency::idempotent;
use crate::routes::tokens::{CreatedTokenView, scopes_schema};
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::{respond, respond_list};
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind, positive_id, rfc3339};
use crate::wire::scopes::{scope_names, scopes_field};

/// A service account's live token (never the secret).
#[derive(Debug, Serialize)]
struct ServiceTokenView {
    id: i64,
    name: String,
    prefix: String,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    scopes: Vec<&'static str>,
}

impl From<TokenRecord> for ServiceTokenView {
    fn from(record: TokenRecord) -> Self {
        Self {
            id: record.id.0,
            name: record.name,
            prefix: record.prefix,
            created_at: rfc3339(&record.created_at),
            last_used_at: record.last_used_at.as_ref().map(rfc3339),
            expires_at: record.expires_at.as_ref().map(rfc3339),
            scopes: scope_names(record.scopes),
        }
    }
}

#[derive(Debug, Serialize)]
struct ServiceAccountWire {
    id: i64,
    name: String,
    role: &'static str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<Vec<ServiceTokenView>>,
}

fn view(account: ServiceAccount, tokens: Option<Vec<TokenRecord>>) -> ServiceAccountWire {
    ServiceAccountWire {
        id: account.id.0,
        name: account.name,
        role: account.role.as_str(),
        created_at: rfc3339(&account.created_at),
        tokens: tokens.map(|tokens| tokens.into_iter().map(ServiceTokenView::from).collect()),
    }
}

static ACCOUNT_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("name", Kind::Text).required(),
        Field::new("role", Kind::Text).required(),
    ])
});

static TOKEN_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("name", Kind::Text).required(),
        Field::new("scopes", Kind::TextList).required(),
        Field::new(
            "expires_in_days",
            Kind::Integer {
                min: 0,
                max: i64::from(u32::MAX),
            },
        )
        .nullable()
        .message("must be an integer from 1 to 3650"),
    ])
});

fn account_id(raw: &str) -> ServiceAccountId {
    ServiceAccountId(positive_id(raw).unwrap_or(0))
}

async fn create(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let mut fields = ACCOUNT_FIELDS.read(&body)?;
    let name = fields.text("name").unwrap_or_default();
    let role_name = fields.text("role").unwrap_or_default();
    // The role is checked here, before the name (the service checks the name): an
    // answer names one problem, the role's first.
    if let Err(errors) = validation::validate(&ServiceAccountRequest {
        name: &name,
        role: &role_name,
    }) && errors.has("role")
    {
        return Err(ApiError::invalid("role", validation::SERVICE_ACCOUNT_ROLE));
    }
    let role = role_name
        .parse::<Role>()
        .map_err(|()| ApiError::invalid("role", validation::SERVICE_ACCOUNT_ROLE))?;
    let work = {
        let (service, actor) = (state.service_accounts.clone(), actor.clone());
        async move {
            let account = blocking(move || service.create(&actor, &name, role)).await?;
            Ok(respond(
                StatusCode::CREATED,
                "Service account created successfully.",
                view(account, None),
            ))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let service = state.service_accounts.clone();
    let accounts = blocking(move || service.list(&actor)).await?;
    let items: Vec<ServiceAccountWire> = accounts
        .into_iter()
        .map(|ServiceAccountView { account, tokens }| view(account, Some(tokens)))
        .collect();
    let total = items.len() as u64;
    Ok(respond_list(
        "Service accounts fetched successfully.",
        total,
        items,
    ))
}

async fn delete(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = account_id(&path);
    let service = state.service_accounts.clone();
    blocking(move || service.delete(&actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn create_token(
    granted: OrgGranted,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let mut fields = TOKEN_FIELDS.read(&body)?;
    let name = fields.text("name").unwrap_or_default();
    let expires_in_days = fields
        .integer("expires_in_days")
        .and_then(|days| u32::try_from(days).ok());
    let scopes = scopes_field(&mut fields)?.unwrap_or_default();
    let id = account_id(&path);
    let service = state.service_accounts.clone();
    let OrgGranted { actor, grants } = granted;
    let issued =
        blocking(move || service.issue_token(&actor, grants, id, &name, scopes, expires_in_days))
            .await?;
    Ok(respond(
        StatusCode::CREATED,
        "Token created successfully.",
        CreatedTokenView::from(issued),
    ))
}

async fn revoke_token(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, token) = path.into_inner();
    let id = account_id(&account);
    let token = TokenId(positive_id(&token).unwrap_or(0));
    let service = state.service_accounts.clone();
    blocking(move || service.revoke_token(&actor, id, token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn account_body(_: &ProviderCatalog) -> Value {
    object(
        json!({"name": text(1, 100), "role": {"enum": ["admin", "member", "viewer"]}}),
        &["name", "role"],
    )
}

fn token_body(_: &ProviderCatalog) -> Value {
    object(
        json!({"name": text(1, 100), "scopes": scopes_schema(),
               "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}}),
        &["name", "scopes"],
    )
}

fn account_answer() -> Value {
    envelope(schema_ref("ServiceAccount"))
}

fn accounts_answer() -> Value {
    list_envelope(schema_ref("ServiceAccount"))
}

fn created_token_answer() -> Value {
    envelope(schema_ref("CreatedToken"))
}

/// The service-account routes.
pub(crate) fn routes() -> Vec<RouteSpec> {
    let accounts = |summary| Operation::new("service accounts", summary);
    vec![
        RouteSpec::new(
            Method::GET,
            api("/service-accounts"),
            Access::OrgAdmin,
            || web::get().to(list),
            accounts("The organization's service accounts, with their live tokens")
                .id("listServiceAccounts")
                .answer(accounts_answer),
        ),
        RouteSpec::new(
            Method::POST,
            api("/service-accounts"),
            Access::OrgAdmin,
            || web::post().to(create),
            accounts("Create a service account (a member that can never log in)")
                .id("createServiceAccount")
                .body(account_body, true)
                .status(201)
                .answer(account_answer)
                .errors(&[400, 422])
                .idempotency(Idempotency::Replayed),
        ),
        RouteSpec::new(
            Method::DELETE,
            api("/service-accounts/{id}"),
            Access::OrgAdmin,
            || web::delete().to(delete),
            accounts("Delete a service account; its tokens stop working at once")
                .id("deleteServiceAccount")
                .status(204)
                .errors(&[404]),
        ),
        RouteSpec::new(
            Method::POST,
            api("/service-accounts/{id}/tokens"),
            Access::OrgAdmin,
            || web::post().to(create_token),
            accounts("Issue a scoped token to a service account (shown this once)")
                .id("createServiceAccountToken")
                .body(token_body, true)
                .status(201)
                .answer(created_token_answer)
                .errors(&[400, 404])
                .idempotency(Idempotency::NeverStored),
        ),
        RouteSpec::new(
            Method::DELETE,
            api("/service-accounts/{id}/tokens/{token_id}"),
            Access::OrgAdmin,
            || web::delete().to(revoke_token),
            accounts("Revoke one token of a service account")
                .id("revokeServiceAccountToken")
                .status(204)
                .errors(&[404]),
        ),
    ]
}
