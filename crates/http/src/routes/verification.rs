//! Credential verification: `POST .../providers-configurations/{id}/verify/` checks
//! the stored credentials with the provider and records the outcome. (The `verify`
//! query flag of create and update, and the outcome's wire form, belong to the
//! configuration routes.)

use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use switchboard_application::WriteOptions;
use switchboard_domain::telephony::{ProviderCatalog, ProviderConfigId};

use switchboard_application::credential_use::SecretUse;

use crate::extract::auth::OrgActor;
use crate::extract::body::{BodyLimits, has_body, read_json_object};
use crate::middleware::idempotency::idempotent;
use crate::middleware::request_id::request_id_of;
use crate::routes::credential_use::counted;
use crate::routes::provider_configs::{config_answer, config_id, single};
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::FieldTable;
use crate::wire::query::Query;

/// The body is optional; when sent it is an empty object.
static NO_FIELDS: LazyLock<FieldTable> = LazyLock::new(FieldTable::default);

async fn verify(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = if has_body(&req) {
        let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
        NO_FIELDS.read(&body)?;
        Some(body)
    } else {
        None
    };
    Query::read(req.query_string(), &[])?.finish()?;
    // An id that cannot exist is a 404, after the role has been checked.
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let options = WriteOptions {
        request_id: request_id_of(&req),
        ..WriteOptions::default()
    };
    let work = {
        let (state, actor) = (state.clone(), actor.clone());
        async move {
            let service = state.provider_configs.clone();
            let uses = state.credential_use.clone();
            let handle = actor.org_handle.as_str().to_owned();
            // A use of the secret: one cell of the token's secret-use bucket.
            let verified = blocking(move || {
                uses.limits().take(&actor)?;
                service.verify(&actor, id, &options).map_err(ApiError::from)
            })
            .await;
            let verified = counted(SecretUse::Verify, verified)?;
            Ok(single(
                StatusCode::OK,
                "Provider configuration verified.",
                verified,
                state.provider_configs.catalog(),
                &handle,
            ))
        }
    };
    idempotent(&req, &state, &actor, body.as_ref(), work).await
}

fn empty_body(_: &ProviderCatalog) -> Value {
    json!({"type": "object", "maxProperties": 0, "description": "Optional; when sent, `{}`."})
}

/// The verification route under `base`.
pub(crate) fn routes(base: &str) -> Vec<RouteSpec> {
    vec![RouteSpec::new(
        Method::POST,
        api(&format!("{base}/{{id}}/verify")),
        Access::OrgWrite,
        || web::post().to(verify),
        Operation::new(
            "provider configurations",
            "Verify the stored credentials with the provider",
        )
        .id("verifyProviderConfiguration")
        .idempotency(Idempotency::Replayed)
        .body(empty_body, false)
        .answer(config_answer)
        .etag()
        .errors(&[400, 404, 409, 422]),
    )]
}
