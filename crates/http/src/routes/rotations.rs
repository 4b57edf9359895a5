//! Staged rotation (contract section 12), under both path spellings: start a
//! rotation (`POST .../{id}/rotations/`, `Idempotency-Key` honoured), list them,
//! verify the pending version with the provider (a use of a secret: one cell of the
//! token's secret-use bucket, counted as `verify`), promote it with an overlap,
//! cancel it, and end the overlap (`DELETE .../{id}/credentials/previous/`).
//!
//! No answer carries a secret: rotations show the new version's last-4 views only.

use std::sync::LazyLock;

use actix_web::http::header::CACHE_CONTROL;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value, json};
use switchboard_application::WriteOptions;
use switchboard_application::credential_use::SecretUse;
use switchboard_application::rotation::PromoteOptions;
use switchboard_domain::shared::ValidationErrors;
use switchboard_domain::telephony::{
    DEFAULT_KEEP_PREVIOUS_SECONDS, MAX_KEEP_PREVIOUS_SECONDS, ProviderCatalog, ProviderConfigId,
    Rotation, RotationId,
};

use crate::docs::schema::{envelope, list_envelope, timestamp};
use crate::extract::auth::OrgActor;
use crate::extract::body::{BodyLimits, has_body, read_json_object};
use crate::middleware::idempotency::idempotent;
use crate::middleware::request_id::request_id_of;
use crate::routes::credential_use::counted;
use crate::routes::provider_configs::{config_answer, config_id, draft_from_json, single};
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::{respond, respond_list};
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind, positive_id, rfc3339};
use crate::wire::query::Query;

/// The wire form of the provider's verdict.
#[derive(Serialize)]
struct VerdictView {
    status: &'static str,
    checked_at: String,
}

/// The wire form of a rotation: never a secret.
#[derive(Serialize)]
struct RotationView {
    id: i64,
    status: &'static str,
    version: i64,
    created_at: String,
    verified_at: Option<String>,
    promoted_at: Option<String>,
    cancelled_at: Option<String>,
    previous_expires_at: Option<String>,
    verification: Option<VerdictView>,
    /// Every secret of the new version as `{"set": true, "last4"}`.
    credentials: Map<String, Value>,
}

fn rotation_view(rotation: Rotation) -> RotationView {
    let credentials = rotation
        .secret_last4
        .iter()
        .map(|(name, last4)| (name.clone(), json!({"set": true, "last4": last4})))
        .collect();
    RotationView {
        id: rotation.id.0,
        status: rotation.status.as_str(),
        version: rotation.version,
        created_at: rfc3339(&rotation.created_at),
        verified_at: rotation
            .verification
            .map(|verification| rfc3339(&verification.checked_at)),
        promoted_at: rotation.promoted_at.as_ref().map(rfc3339),
        cancelled_at: rotation.cancelled_at.as_ref().map(rfc3339),
        previous_expires_at: rotation.previous_expires_at.as_ref().map(rfc3339),
        verification: rotation.verification.map(|verification| VerdictView {
            status: verification.status.as_str(),
            checked_at: rfc3339(&verification.checked_at),
        }),
        credentials,
    }
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    if let Ok(value) = "no-store".parse() {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}

fn rotation_id(raw: &str) -> RotationId {
    RotationId(positive_id(raw).unwrap_or(0))
}

fn options(req: &HttpRequest) -> WriteOptions {
    WriteOptions {
        request_id: request_id_of(req),
        ..WriteOptions::default()
    }
}

/// The fields a rotation body may not carry (they are not secrets; PATCH changes
/// them).
const NOT_ROTATED: &str = "not part of a rotation; change it with PATCH";

async fn start(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    Query::read(req.query_string(), &[])?.finish()?;
    let draft = draft_from_json(&body, state.provider_configs.catalog())?;
    let mut errors = ValidationErrors::new();
    for (name, sent) in [
        ("provider", draft.provider.is_some()),
        ("name", draft.name.is_some()),
        ("active", draft.active.is_some()),
        ("base_url", draft.base_url.is_some()),
        ("sip_url", draft.sip_url.is_some()),
        ("meta_json", draft.meta_json.is_some()),
    ] {
        if sent {
            errors.add(name, NOT_ROTATED);
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let options = options(&req);
    let work = {
        let (state, actor) = (state.clone(), actor.clone());
        async move {
            let service = state.rotations.clone();
            let started = blocking(move || service.start(&actor, id, draft, &options)).await?;
            Ok(no_store(respond(
                StatusCode::CREATED,
                "Rotation started.",
                rotation_view(started.rotation),
            )))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Query::read(req.query_string(), &[])?.finish()?;
    let id = config_id(&path)?;
    let service = state.rotations.clone();
    let rotations = blocking(move || service.list(&actor, id)).await?;
    let total = u64::try_from(rotations.len()).unwrap_or(u64::MAX);
    let items: Vec<RotationView> = rotations.into_iter().map(rotation_view).collect();
    Ok(no_store(respond_list(
        "Rotations fetched successfully.",
        total,
        items,
    )))
}

/// The body of verify and cancel is optional; when sent it is an empty object.
static NO_FIELDS: LazyLock<FieldTable> = LazyLock::new(FieldTable::default);

async fn optional_empty_body(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
    table: &FieldTable,
) -> Result<Option<crate::wire::fields::Fields>, ApiError> {
    if has_body(req) {
        let body = read_json_object(req, payload, BodyLimits::of(state)).await?;
        Ok(Some(table.read(&body)?))
    } else {
        Ok(None)
    }
}

async fn verify(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    optional_empty_body(&req, &state, payload, &NO_FIELDS).await?;
    Query::read(req.query_string(), &[])?.finish()?;
    let (config, rotation) = path.into_inner();
    let id = config_id(&config).unwrap_or(ProviderConfigId(0));
    let rotation = rotation_id(&rotation);
    let options = options(&req);
    let service = state.rotations.clone();
    let uses = state.credential_use.clone();
    // A use of the (pending) secret: one cell of the token's secret-use bucket.
    let verified = blocking(move || {
        uses.limits().take(&actor)?;
        service
            .verify(&actor, id, rotation, &options)
            .map_err(ApiError::from)
    })
    .await;
    let verified = counted(SecretUse::Verify, verified)?;
    Ok(no_store(respond(
        StatusCode::OK,
        "Pending credentials verified.",
        rotation_view(verified),
    )))
}

static PROMOTE_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new(
            "keep_previous_for_seconds",
            Kind::Integer {
                min: 0,
                max: MAX_KEEP_PREVIOUS_SECONDS,
            },
        )
        .message("must be an integer from 0 to 604800"),
        Field::new("require_verified", Kind::Flag),
    ])
});

async fn promote(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut promote = PromoteOptions::default();
    if let Some(mut fields) = optional_empty_body(&req, &state, payload, &PROMOTE_FIELDS).await? {
        if let Some(seconds) = fields.integer("keep_previous_for_seconds") {
            promote.keep_previous_for_seconds = seconds;
        }
        if let Some(flag) = fields.flag("require_verified") {
            promote.require_verified = flag;
        }
    }
    Query::read(req.query_string(), &[])?.finish()?;
    let (config, rotation) = path.into_inner();
    let id = config_id(&config).unwrap_or(ProviderConfigId(0));
    let rotation = rotation_id(&rotation);
    let options = options(&req);
    let service = state.rotations.clone();
    let handle = actor.org_handle.as_str().to_owned();
    let (config, _) =
        blocking(move || service.promote(&actor, id, rotation, promote, &options)).await?;
    Ok(single(
        StatusCode::OK,
        "Rotation promoted.",
        config,
        state.provider_configs.catalog(),
        &handle,
    ))
}

async fn cancel(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    Query::read(req.query_string(), &[])?.finish()?;
    let (config, rotation) = path.into_inner();
    let id = config_id(&config).unwrap_or(ProviderConfigId(0));
    let rotation = rotation_id(&rotation);
    let options = options(&req);
    let service = state.rotations.clone();
    blocking(move || service.cancel(&actor, id, rotation, &options)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn end_previous(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Query::read(req.query_string(), &[])?.finish()?;
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let options = options(&req);
    let service = state.rotations.clone();
    blocking(move || service.end_previous(&actor, id, &options)).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn start_body(_: &ProviderCatalog) -> Value {
    json!({"type": "object", "minProperties": 1,
        "description": "The secret fields that change, by the names a PATCH takes (flat, or inside `credentials`): `auth_token` names the primary secret of every provider. Secrets not sent are kept; other fields are refused (change them with PATCH).",
        "additionalProperties": {"type": "string", "minLength": 1},
        "properties": {"credentials": {"type": "object", "description": "The secret fields, instead of sending them flat.",
                                       "additionalProperties": {"type": "string", "minLength": 1}}}})
}

fn promote_body(_: &ProviderCatalog) -> Value {
    json!({"type": "object", "additionalProperties": false,
        "description": "Optional.",
        "properties": {
            "keep_previous_for_seconds": {"type": "integer", "minimum": 0, "maximum": MAX_KEEP_PREVIOUS_SECONDS,
                "default": DEFAULT_KEEP_PREVIOUS_SECONDS,
                "description": "How long the former current version stays valid as `previous` (0: erased at once)."},
            "require_verified": {"type": "boolean", "default": false,
                "description": "Refuse (409 `rotation_not_verified`) unless the provider's last verdict on the pending version is `valid`."}}})
}

fn empty_body(_: &ProviderCatalog) -> Value {
    json!({"type": "object", "maxProperties": 0, "description": "Optional; when sent, `{}`."})
}

pub(crate) fn rotation_schema() -> Value {
    let nullable_time = || json!({"type": ["string", "null"], "format": "date-time"});
    json!({"type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": ["pending", "promoted", "cancelled"]},
            "version": {"type": "integer", "description": "The credential version this rotation creates."},
            "created_at": timestamp(),
            "verified_at": nullable_time(),
            "promoted_at": nullable_time(),
            "cancelled_at": nullable_time(),
            "previous_expires_at": nullable_time(),
            "verification": {"type": ["object", "null"],
                "properties": {"status": {"enum": ["valid", "invalid", "unreachable"]},
                               "checked_at": timestamp()},
                "required": ["status", "checked_at"]},
            "credentials": {"type": "object", "description": "Every secret of the new version as `{\"set\": true, \"last4\"}`; never a secret."}},
        "required": ["id", "status", "version", "created_at", "verified_at", "promoted_at",
                     "cancelled_at", "previous_expires_at", "verification", "credentials"]})
}

fn rotation_answer() -> Value {
    envelope(rotation_schema())
}

fn rotations_answer() -> Value {
    list_envelope(rotation_schema())
}

/// The rotation routes under `base` (one of [`crate::routes::CONFIG_PATHS`]).
pub(crate) fn routes(base: &str) -> Vec<RouteSpec> {
    let rotations = |summary| Operation::new("staged rotation", summary);
    let all = format!("{base}/{{id}}/rotations");
    let one = format!("{all}/{{rid}}");
    vec![
        RouteSpec::new(
            Method::POST,
            api(&all),
            Access::OrgWrite,
            || web::post().to(start),
            rotations("Start a staged rotation: store new secrets as the pending version")
                .id("startProviderConfigurationRotation")
                .idempotency(Idempotency::Replayed)
                .body(start_body, true)
                .status(201)
                .answer(rotation_answer)
                .errors(&[400, 404, 409, 422]),
        ),
        RouteSpec::new(
            Method::GET,
            api(&all),
            Access::OrgRead,
            || web::get().to(list),
            rotations("List the rotations of a configuration, newest first")
                .id("listProviderConfigurationRotations")
                .answer(rotations_answer)
                .errors(&[400, 404]),
        ),
        RouteSpec::new(
            Method::POST,
            api(&format!("{one}/verify")),
            Access::OrgWrite,
            || web::post().to(verify),
            rotations("Verify the pending version with the provider")
                .id("verifyProviderConfigurationRotation")
                .body(empty_body, false)
                .answer(rotation_answer)
                .errors(&[400, 404, 409]),
        ),
        RouteSpec::new(
            Method::POST,
            api(&format!("{one}/promote")),
            Access::OrgWrite,
            || web::post().to(promote),
            rotations("Promote the pending version; the former current stays valid as previous for a window")
                .id("promoteProviderConfigurationRotation")
                .body(promote_body, false)
                .answer(config_answer)
                .etag()
                .errors(&[400, 404, 409]),
        ),
        RouteSpec::new(
            Method::DELETE,
            api(&one),
            Access::OrgWrite,
            || web::delete().to(cancel),
            rotations("Cancel a pending rotation and erase its secrets")
                .id("cancelProviderConfigurationRotation")
                .status(204)
                .errors(&[400, 404, 409]),
        ),
        RouteSpec::new(
            Method::DELETE,
            api(&format!("{base}/{{id}}/credentials/previous")),
            Access::OrgWrite,
            || web::delete().to(end_previous),
            rotations("End the overlap now: erase the previous version")
                .id("endProviderConfigurationPreviousCredentials")
                .status(204)
                .errors(&[400, 404]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promote_bodies_are_checked() {
        let object = |value: Value| match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        for bad in [
            json!({"keep_previous_for_seconds": -1}),
            json!({"keep_previous_for_seconds": 604_801}),
            json!({"keep_previous_for_seconds": "1"}),
            json!({"require_verified": "yes"}),
            json!({"other": 1}),
        ] {
            assert!(PROMOTE_FIELDS.read(&object(bad.clone())).is_err(), "{bad}");
        }
        let mut fields = PROMOTE_FIELDS
            .read(&object(
                json!({"keep_previous_for_seconds": 3, "require_verified": true}),
            ))
            .expect("valid");
        assert_eq!(fields.integer("keep_previous_for_seconds"), Some(3));
        assert_eq!(fields.flag("require_verified"), Some(true));
    }
}
