//! Using a configuration's credentials (contract section 11), under both path
//! spellings: `POST .../{id}/reveal/` (scope `credentials:reveal`) and
//! `POST .../{id}/signature-checks/` and `POST .../{id}/access-tokens/` (scope
//! `credentials:use`). Every use takes
//! a cell of the token's secret-use bucket (429 past it), counts in
//! `switchboard_credential_uses_total{kind}`, and is never stored for
//! `Idempotency-Key`. Answers carrying a secret send `Cache-Control: no-store`.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

use switchboard_application::credential_use::{SecretUse, UseContext};
use switchboard_domain::identity::Scope;
use switchboard_domain::telephony::{
    AccessTokenRequest, LiveKitGrant, ProviderCatalog, ProviderConfigId, SignedWebhook,
};
use switchboard_domain::validation;

use crate::docs::schema::envelope;
use crate::extract::auth::OrgGranted;
use crate::extract::body::{BodyLimits, read_json_object};
use crate::extract::client_address::client_address;
use crate::middleware::metrics::{count_credential_use, count_rate_limited};
use crate::middleware::request_id::request_id_of;
use crate::routes::provider_configs::config_id;
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::respond;
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind, rfc3339};

/// What a reveal answers: every field of the credentials, secrets in plain.
#[derive(Serialize)]
struct RevealView {
    id: i64,
    provider: String,
    version: i64,
    credentials: Map<String, Value>,
    /// The previous version during a staged rotation's overlap:
    /// `{version, credentials, expires_at}`.
    previous: Option<Value>,
}

/// Counts a use, or a refusal by the secret-use limit.
pub(crate) fn counted<T>(kind: SecretUse, outcome: Result<T, ApiError>) -> Result<T, ApiError> {
    match &outcome {
        Ok(_) => count_credential_use(kind.as_str()),
        Err(ApiError::RateLimited { .. }) => count_rate_limited("secret_use"),
        Err(_) => {}
    }
    outcome
}

/// The context of a use, for its audit event.
fn context(req: &HttpRequest, state: &AppState) -> UseContext {
    UseContext {
        request_id: request_id_of(req),
        client_address: Some(client_address(req, &state.trusted_proxies)),
    }
}

/// An answer that caches must never store.
fn no_store(mut response: HttpResponse) -> HttpResponse {
    if let Ok(value) = "no-store".parse() {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}

async fn reveal(
    granted: OrgGranted,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let context = context(&req, &state);
    let service = state.credential_use.clone();
    let actor = granted.actor;
    let revealed = counted(
        SecretUse::Reveal,
        blocking(move || service.reveal(&actor, id, &context)).await,
    )?;
    let provider = state
        .provider_configs
        .catalog()
        .by_id(revealed.config.provider_id)
        .map(|provider| provider.slug.clone())
        .unwrap_or_default();
    // Every field: the public ones as stored, the secrets in plain.
    let mut credentials = revealed.config.public_fields.clone();
    for (name, secret) in &revealed.secrets {
        credentials.insert(name.clone(), Value::from(secret.expose_secret()));
    }
    // During an overlap, the previous version the same way (its public fields are
    // the configuration's: a rotation changes secrets only).
    let previous = revealed.previous.as_ref().map(|previous| {
        let mut old = revealed.config.public_fields.clone();
        for (name, secret) in &previous.secrets {
            old.insert(name.clone(), Value::from(secret.expose_secret()));
        }
        json!({"version": previous.version, "credentials": old,
               "expires_at": previous.expires_at.as_ref().map(rfc3339)})
    });
    Ok(no_store(respond(
        StatusCode::OK,
        "Provider configuration credentials revealed successfully.",
        RevealView {
            id: revealed.config.id.0,
            provider,
            version: revealed.config.credential_version,
            credentials,
            previous,
        },
    )))
}

static SIGNATURE_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("url", Kind::Text).required(),
        Field::new("params", Kind::Object),
        Field::new("signature", Kind::Text).required(),
    ])
});

const PARAMS_MESSAGE: &str = "must map names to strings or lists of strings";

/// The webhook of a signature-check body: `params` maps each name to a string or
/// a list of strings (a parameter sent several times).
fn signed_webhook(body: &Map<String, Value>) -> Result<SignedWebhook, ApiError> {
    let mut fields = SIGNATURE_FIELDS.read(body)?;
    let url = fields.text("url").unwrap_or_default();
    let signature = fields.text("signature").unwrap_or_default();
    let mut params = Vec::new();
    for (name, value) in fields.object("params").unwrap_or_default() {
        match value {
            Value::String(text) => params.push((name, text)),
            Value::Array(items) => {
                for item in items {
                    let Value::String(text) = item else {
                        return Err(ApiError::invalid("params", PARAMS_MESSAGE));
                    };
                    params.push((name.clone(), text));
                }
            }
            _ => return Err(ApiError::invalid("params", PARAMS_MESSAGE)),
        }
    }
    // An http(s) URL without spaces or control characters (what a provider signs).
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    if rest.is_none_or(str::is_empty) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid(
            "url",
            "must be the full URL the webhook was sent to",
        ));
    }
    Ok(SignedWebhook {
        url,
        params,
        signature,
    })
}

#[derive(Serialize)]
struct SignatureView {
    valid: bool,
    matched: Option<&'static str>,
}

async fn check_signature(
    granted: OrgGranted,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let webhook = signed_webhook(&body)?;
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let service = state.credential_use.clone();
    let actor = granted.actor;
    let matched = counted(
        SecretUse::SignatureCheck,
        blocking(move || service.check_signature(&actor, id, &webhook)).await,
    )?;
    Ok(no_store(respond(
        StatusCode::OK,
        "Signature checked successfully.",
        SignatureView {
            valid: matched.is_some(),
            matched: matched.map(|matched| matched.as_str()),
        },
    )))
}

fn signature_body(_: &ProviderCatalog) -> Value {
    json!({"type": "object", "additionalProperties": false,
        "properties": {
            "url": {"type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://[^\\s\\x00-\\x1f\\x7f]+$", "description": "The full URL the provider sent the webhook to."},
            "params": {"type": "object", "description": "The webhook's POST parameters: name to value (or list of values).",
                       "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
            "signature": {"type": "string", "description": "The signature header's value (Twilio: X-Twilio-Signature)."}},
        "required": ["url", "signature"]})
}

fn signature_answer() -> Value {
    envelope(json!({"type": "object",
        "properties": {"valid": {"type": "boolean"},
                       "matched": {"enum": ["current", "previous", null]}},
        "required": ["valid", "matched"]}))
}

static ACCESS_TOKEN_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("identity", Kind::Text).required(),
        Field::new("room", Kind::Text),
        Field::new("name", Kind::Text),
        Field::new(
            "ttl_seconds",
            Kind::Integer {
                min: MIN_TTL_SECONDS,
                max: MAX_TTL_SECONDS,
            },
        )
        .message("must be an integer from 60 to 21600"),
        Field::new("grants", Kind::Object),
    ])
});

const MIN_TTL_SECONDS: i64 = 60;
const MAX_TTL_SECONDS: i64 = 21_600;
const DEFAULT_TTL_SECONDS: u32 = 600;
const GRANT_FLAGS: [&str; 3] = ["can_publish", "can_subscribe", "can_publish_data"];

/// The declared rules of the request's texts ([`AccessTokenRequest`]); an answer
/// names the first field broken.
fn check_texts(request: &AccessTokenRequest<'_>) -> Result<(), ApiError> {
    let Err(errors) = validation::validate(request) else {
        return Ok(());
    };
    for field in AccessTokenRequest::FIELDS {
        if let Some(message) = errors.fields().get(field).and_then(|m| m.first()) {
            return Err(ApiError::invalid(field, message));
        }
    }
    Err(ApiError::Validation(errors))
}

/// The grant and lifetime of an access-token body.
fn access_token_request(body: &Map<String, Value>) -> Result<(LiveKitGrant, u32), ApiError> {
    let mut fields = ACCESS_TOKEN_FIELDS.read(body)?;
    let (identity, room, name) = (
        fields.text("identity"),
        fields.text("room"),
        fields.text("name"),
    );
    check_texts(&AccessTokenRequest {
        identity: identity.as_deref(),
        room: room.as_deref(),
        name: name.as_deref(),
    })?;
    let identity = identity.unwrap_or_default();
    let ttl = fields
        .integer("ttl_seconds")
        .and_then(|ttl| u32::try_from(ttl).ok())
        .unwrap_or(DEFAULT_TTL_SECONDS);
    let grants = fields.object("grants").unwrap_or_default();
    let mut flags = [true; 3];
    for (key, value) in grants {
        let Some(index) = GRANT_FLAGS.iter().position(|flag| *flag == key) else {
            return Err(ApiError::invalid(
                "grants",
                "may hold only can_publish, can_subscribe and can_publish_data",
            ));
        };
        let Value::Bool(flag) = value else {
            return Err(ApiError::invalid("grants", "flags must be booleans"));
        };
        flags[index] = flag;
    }
    // LiveKit needs it (the service says so); Twilio's body has none.
    let room = room.unwrap_or_default();
    Ok((
        LiveKitGrant {
            identity,
            name,
            room,
            can_publish: flags[0],
            can_subscribe: flags[1],
            can_publish_data: flags[2],
        },
        ttl,
    ))
}

#[derive(Serialize)]
struct AccessTokenView {
    token: String,
    expires_at: String,
}

async fn access_token(
    granted: OrgGranted,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let (grant, ttl) = access_token_request(&body)?;
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let service = state.credential_use.clone();
    let actor = granted.actor;
    let minted = counted(
        SecretUse::AccessToken,
        blocking(move || service.mint_access_token(&actor, id, &grant, ttl)).await,
    )?;
    Ok(no_store(respond(
        StatusCode::CREATED,
        "Access token created successfully.",
        AccessTokenView {
            token: minted.token.expose_secret().to_owned(),
            expires_at: rfc3339(&minted.expires_at),
        },
    )))
}

fn access_token_body(_: &ProviderCatalog) -> Value {
    json!({"type": "object", "additionalProperties": false,
        "properties": {
            "identity": {"type": "string", "minLength": 1, "maxLength": 256},
            "room": {"type": "string", "minLength": 1, "maxLength": 256, "description": "LiveKit: the room the participant joins (required)."},
            "name": {"type": "string", "minLength": 1, "maxLength": 256},
            "ttl_seconds": {"type": "integer", "minimum": MIN_TTL_SECONDS, "maximum": MAX_TTL_SECONDS, "default": DEFAULT_TTL_SECONDS},
            "grants": {"type": "object", "additionalProperties": false,
                       "properties": {"can_publish": {"type": "boolean"}, "can_subscribe": {"type": "boolean"},
                                      "can_publish_data": {"type": "boolean"}}}},
        "required": ["identity"]})
}

fn access_token_answer() -> Value {
    envelope(json!({"type": "object",
        "properties": {"token": {"type": "string", "description": "The access token (a JWT), shown once."},
                       "expires_at": {"type": "string", "format": "date-time"}},
        "required": ["token", "expires_at"]}))
}

fn reveal_answer() -> Value {
    envelope(json!({"type": "object",
        "properties": {
            "id": {"type": "integer"}, "provider": {"type": "string"},
            "version": {"type": "integer"},
            "credentials": {"type": "object", "description": "Every field of the credentials; secrets in plain."},
            "previous": {"type": ["object", "null"], "description": "The previous version during a staged rotation's overlap: `{version, credentials, expires_at}`; null otherwise (also once its window ended, before the sweeper erased it).",
                         "properties": {"version": {"type": "integer"}, "credentials": {"type": "object"},
                                        "expires_at": {"type": "string", "format": "date-time"}},
                         "required": ["version", "credentials", "expires_at"]}},
        "required": ["id", "provider", "version", "credentials", "previous"]}))
}

/// The credential-use routes under `base` (one of [`crate::routes::CONFIG_PATHS`]).
pub(crate) fn routes(base: &str) -> Vec<RouteSpec> {
    let uses = |summary| Operation::new("credential use", summary);
    vec![
        RouteSpec::new(
            Method::POST,
            api(&format!("{base}/{{id}}/reveal")),
            Access::OrgRead,
            || web::post().to(reveal),
            uses("Reveal the credentials (owners and admins, or service accounts of role member and above; audited)")
                .id("revealProviderConfigurationCredentials")
                .answer(reveal_answer)
                .errors(&[404, 409])
                .idempotency(Idempotency::NeverStored),
        )
        .needs(Scope::CredentialsReveal),
        RouteSpec::new(
            Method::POST,
            api(&format!("{base}/{{id}}/signature-checks")),
            Access::OrgWrite,
            || web::post().to(check_signature),
            uses("Check a provider's webhook signature with the stored secret, without revealing it (Twilio)")
                .id("checkProviderSignature")
                .body(signature_body, true)
                .answer(signature_answer)
                .errors(&[400, 404, 409])
                .idempotency(Idempotency::NeverStored),
        )
        .needs(Scope::CredentialsUse),
        RouteSpec::new(
            Method::POST,
            api(&format!("{base}/{{id}}/access-tokens")),
            Access::OrgWrite,
            || web::post().to(access_token),
            uses("Mint a provider access token from the stored keys (LiveKit), shown once")
                .id("createProviderAccessToken")
                .body(access_token_body, true)
                .status(201)
                .answer(access_token_answer)
                .errors(&[400, 404, 409])
                .idempotency(Idempotency::NeverStored),
        )
        .needs(Scope::CredentialsUse),
    ]
}
