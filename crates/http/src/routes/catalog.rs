//! `GET /telephony/providers/`: the provider catalog with each provider's credential
//! format rules, so that clients can validate before sending.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::Value;
use switchboard_domain::telephony::{CredentialRule, Provider};

use crate::docs::schema::{list_envelope, schema_ref};
use crate::extract::auth::Authenticated;
use crate::spec::{Access, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::respond_list;
use crate::wire::error::ApiError;

/// The public description of a credential field.
#[derive(Debug, Serialize)]
struct CredentialFieldView {
    label: String,
    pattern: String,
    hint: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    secret: bool,
}

#[derive(Debug, Serialize)]
struct CredentialsView {
    account_sid: CredentialFieldView,
    auth_token: CredentialFieldView,
}

#[derive(Debug, Serialize)]
struct ProviderView {
    id: i64,
    slug: String,
    name: String,
    description: String,
    icon: String,
    credentials: CredentialsView,
    /// Every credential field, in form order (contract section 10).
    fields: Value,
}

fn field(rule: &CredentialRule, secret: bool) -> CredentialFieldView {
    CredentialFieldView {
        label: rule.label.clone(),
        pattern: rule.pattern.clone(),
        hint: rule.hint.clone(),
        secret,
    }
}

fn view(provider: &Provider) -> ProviderView {
    ProviderView {
        id: provider.id.0,
        slug: provider.slug.clone(),
        name: provider.name.clone(),
        description: provider.description.clone(),
        icon: provider.icon.clone(),
        credentials: CredentialsView {
            account_sid: field(&provider.account_sid, false),
            auth_token: field(&provider.auth_token, true),
        },
        fields: provider.describe_fields(),
    }
}

async fn list(
    _caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let providers: Vec<ProviderView> = state
        .provider_configs
        .catalog()
        .all()
        .iter()
        .map(view)
        .collect();
    let total = providers.len() as u64;
    Ok(respond_list(
        "Telephony providers fetched successfully.",
        total,
        providers,
    ))
}

fn list_answer() -> Value {
    list_envelope(schema_ref("Provider"))
}

/// The catalog route.
pub(crate) fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::new(
        Method::GET,
        api("/telephony/providers"),
        Access::Token,
        || web::get().to(list),
        Operation::new(
            "telephony",
            "The provider catalog with each provider's credential formats",
        )
        .answer(list_answer),
    )]
}
