//! Provider configuration routes (contract section 6): create, list, get, update and
//! delete, under both path spellings. Creates honour `Idempotency-Key`, updates and
//! deletes `If-Match`, and creates and updates take `?verify=true`.
//!
//! This module turns JSON into the domain's draft (checking JSON types, aliases and
//! unknown fields) and configurations into their wire form; every rule beyond JSON
//! types lives in the domain.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, ETAG};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_application::WriteOptions;
use switchboard_application::telephony::{GetProviderConfigError, ListProviderConfigsQuery};
use switchboard_domain::shared::{NON_FIELD_ERRORS, PageRequest, ValidationErrors};
use switchboard_domain::telephony::{
    ProviderCatalog, ProviderConfig, ProviderConfigDraft, ProviderConfigId, ProviderRef,
};

use crate::auth::OrgActor;
use crate::body::{json_integer, read_json_object};
use crate::envelope::{respond, respond_list};
use crate::error::{ApiError, blocking};
use crate::idempotency::idempotent;
use crate::one_trip::OrgCredentials;
use crate::preconditions::{entity_tag, if_match};
use crate::request_id::request_id_of;
use crate::verification::{VerificationView, verification_view, verify_flag};
use crate::{AppState, rfc3339};

#[doc(hidden)]
pub mod bench_support;

#[derive(Debug, Serialize)]
struct ProviderDetails {
    id: i64,
    slug: String,
    name: String,
    icon: String,
}

/// The wire form of a configuration: never the credential, its ciphertext, nonce or
/// key id.
#[derive(Debug, Serialize)]
struct ProviderConfigView {
    id: i64,
    name: String,
    provider: String,
    provider_details: ProviderDetails,
    account_sid: String,
    auth_token_last4: String,
    active: bool,
    base_url: Option<String>,
    sip_url: Option<String>,
    meta_json: Map<String, Value>,
    org_handle: String,
    created_at: String,
    updated_at: String,
    verification: Option<VerificationView>,
}

fn view(config: ProviderConfig, catalog: &ProviderCatalog, org_handle: &str) -> ProviderConfigView {
    let provider = catalog.by_id(config.provider_id);
    ProviderConfigView {
        id: config.id.0,
        name: config.name,
        provider: provider.map(|p| p.slug.clone()).unwrap_or_default(),
        provider_details: ProviderDetails {
            id: config.provider_id.0,
            slug: provider.map(|p| p.slug.clone()).unwrap_or_default(),
            name: provider.map(|p| p.name.clone()).unwrap_or_default(),
            icon: provider.map(|p| p.icon.clone()).unwrap_or_default(),
        },
        account_sid: config.account_sid,
        auth_token_last4: config.auth_token_last4,
        active: config.active,
        base_url: config.base_url,
        sip_url: config.sip_url,
        meta_json: config.meta_json,
        org_handle: org_handle.to_owned(),
        created_at: rfc3339(&config.created_at),
        updated_at: rfc3339(&config.updated_at),
        verification: verification_view(config.verification),
    }
}

/// An answer describing one configuration, with its `ETag`.
pub(crate) fn single(
    status: StatusCode,
    message: &'static str,
    config: ProviderConfig,
    state: &AppState,
    handle: &str,
) -> HttpResponse {
    let tag = entity_tag(&config);
    let mut response = respond(
        status,
        message,
        view(config, state.provider_configs.catalog(), handle),
    );
    if let Ok(value) = tag.parse() {
        response.headers_mut().insert(ETAG, value);
    }
    if let Ok(value) = "no-store".parse() {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}

/// Parses the `{id}` path segment; anything but a positive integer names nothing.
pub(crate) fn config_id(raw: &str) -> Result<ProviderConfigId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ProviderConfigId)
        .ok_or(ApiError::NotFound)
}

pub(crate) async fn create(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let verify = verify_flag(req.query_string())?;
    let draft = draft_from_json(body.clone())?;
    // Field shapes and the provider's rules come before the idempotency key (422)
    // and the role (403), as the contract orders them.
    let create = state.provider_configs.check_create(draft)?;
    let options = WriteOptions {
        request_id: request_id_of(&req),
        verify,
        ..WriteOptions::default()
    };
    let work = {
        let (state, actor) = (state.clone(), actor.clone());
        async move {
            let service = state.provider_configs.clone();
            let handle = actor.org_handle.as_str().to_owned();
            let created =
                blocking(move || service.create_checked(&actor, create, &options)).await?;
            Ok(single(
                StatusCode::CREATED,
                "Provider configuration created successfully.",
                created,
                &state,
                &handle,
            ))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

pub(crate) async fn list(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = list_query(req.query_string())?;
    let service = state.provider_configs.clone();
    let handle = actor.org_handle.as_str().to_owned();
    let page = blocking(move || service.list(&actor, &query)).await?;
    let catalog = state.provider_configs.catalog();
    let items: Vec<ProviderConfigView> = page
        .items
        .into_iter()
        .map(|config| view(config, catalog, &handle))
        .collect();
    let mut response = respond_list(
        "Provider configurations fetched successfully.",
        page.total,
        items,
    );
    if let Ok(value) = "no-store".parse() {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    Ok(response)
}

/// The hot read: authentication, membership and the row in one blocking trip
/// (see [`crate::one_trip`]).
pub(crate) async fn get(
    credentials: OrgCredentials,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let service = state.provider_configs.clone();
    let (actor, config) = credentials
        .run(move |actor| match config_id(&path) {
            Ok(id) => service.get(actor, id),
            // An id that cannot exist names nothing: the same 404, after the checks.
            Err(_) => Err(GetProviderConfigError::NotFound),
        })
        .await?;
    Ok(single(
        StatusCode::OK,
        "Provider configuration fetched successfully.",
        config,
        &state,
        actor.org_handle.as_str(),
    ))
}

pub(crate) async fn update(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let verify = verify_flag(req.query_string())?;
    let draft = draft_from_json(body)?;
    // An id that cannot exist is a 404, but only after the body's shape (400) and
    // the role (403) have been checked, as the contract orders them.
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let options = WriteOptions {
        request_id: request_id_of(&req),
        precondition: if_match(&req, id),
        verify,
    };
    let service = state.provider_configs.clone();
    let handle = actor.org_handle.as_str().to_owned();
    let updated = blocking(move || service.update_with(&actor, id, draft, &options)).await?;
    Ok(single(
        StatusCode::OK,
        "Provider configuration updated successfully.",
        updated,
        &state,
        &handle,
    ))
}

pub(crate) async fn delete(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = config_id(&path).unwrap_or(ProviderConfigId(0));
    let options = WriteOptions {
        request_id: request_id_of(&req),
        precondition: if_match(&req, id),
        verify: false,
    };
    let service = state.provider_configs.clone();
    blocking(move || service.delete_with(&actor, id, &options)).await?;
    Ok(HttpResponse::NoContent().finish())
}

const MUST_BE_STRING: &str = "must be a string";
const MUST_BE_STRING_OR_NULL: &str = "must be a string or null";

/// Field names are echoed in errors only when they look like field names, so that a
/// secret pasted as a key never comes back.
pub(crate) fn echoable_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Converts a JSON object into a draft, checking JSON types, the `api_key` and
/// `api_secret` aliases and unknown fields.
fn draft_from_json(body: Map<String, Value>) -> Result<ProviderConfigDraft, ApiError> {
    let mut errors = ValidationErrors::new();
    let mut draft = ProviderConfigDraft::default();
    let mut account_sid_seen = false;
    let mut auth_token_seen = false;
    for (key, value) in body {
        match key.as_str() {
            "provider" => match value {
                Value::String(slug) => draft.provider = Some(ProviderRef::Slug(slug)),
                Value::Number(_) => match json_integer(&value) {
                    Some(id) => draft.provider = Some(ProviderRef::Id(id)),
                    None => errors.add("provider", "must be a provider slug or an integer id"),
                },
                _ => errors.add("provider", "must be a provider slug or an integer id"),
            },
            "account_sid" | "api_key" => {
                if account_sid_seen {
                    errors.add("account_sid", "send account_sid or api_key, not both");
                }
                account_sid_seen = true;
                match value {
                    Value::String(text) => draft.account_sid = Some(text),
                    _ => errors.add("account_sid", MUST_BE_STRING),
                }
            }
            "auth_token" | "api_secret" => {
                if auth_token_seen {
                    errors.add("auth_token", "send auth_token or api_secret, not both");
                }
                auth_token_seen = true;
                match value {
                    Value::String(text) => draft.auth_token = Some(SecretString::from(text)),
                    _ => errors.add("auth_token", MUST_BE_STRING),
                }
            }
            "name" => match value {
                Value::String(text) => draft.name = Some(text),
                _ => errors.add("name", MUST_BE_STRING),
            },
            "active" => match value {
                Value::Bool(flag) => draft.active = Some(flag),
                _ => errors.add("active", "must be a boolean"),
            },
            "base_url" | "sip_url" => {
                let parsed = match value {
                    Value::String(text) => Some(Some(text)),
                    Value::Null => Some(None),
                    _ => {
                        errors.add(&key, MUST_BE_STRING_OR_NULL);
                        None
                    }
                };
                if key == "base_url" {
                    draft.base_url = parsed;
                } else {
                    draft.sip_url = parsed;
                }
            }
            "meta_json" => match value {
                Value::Object(map) => draft.meta_json = Some(map),
                _ => errors.add("meta_json", "must be a JSON object"),
            },
            other if echoable_field_name(other) => errors.add(other, "Unknown field."),
            _ => errors.add(
                NON_FIELD_ERRORS,
                "The body holds a field that is not accepted.",
            ),
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(draft)
}

/// Parses the list query: `provider`, `active`, `page`, `page_size`.
fn list_query(query_string: &str) -> Result<ListProviderConfigsQuery, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|_| ApiError::invalid(NON_FIELD_ERRORS, "Malformed query string."))?
        .into_inner();
    let mut errors = ValidationErrors::new();
    let mut query = ListProviderConfigsQuery::default();
    for (key, value) in pairs {
        match key.as_str() {
            "provider" => query.provider = Some(value),
            "active" => match value.as_str() {
                "true" => query.active = Some(true),
                "false" => query.active = Some(false),
                _ => errors.add("active", "must be true or false"),
            },
            "page" => match value.parse::<u32>() {
                Ok(page) if page >= 1 => query.page.page = page,
                _ => errors.add("page", "must be an integer of at least 1"),
            },
            "page_size" => match value.parse::<u32>() {
                Ok(size) if (1..=PageRequest::MAX_PAGE_SIZE).contains(&size) => {
                    query.page.page_size = size;
                }
                _ => errors.add("page_size", "must be an integer from 1 to 100"),
            },
            other if echoable_field_name(other) => errors.add(other, "Unknown query parameter."),
            _ => errors.add(
                NON_FIELD_ERRORS,
                "The query holds a parameter that is not accepted.",
            ),
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(query)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn errors_of(result: Result<ProviderConfigDraft, ApiError>) -> ValidationErrors {
        match result {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn aliases_and_types_are_checked() {
        let draft = draft_from_json(object(json!({
            "provider": 3, "api_key": "AC1", "api_secret": "s", "base_url": null
        })))
        .expect("valid");
        assert_eq!(draft.provider, Some(ProviderRef::Id(3)));
        assert_eq!(draft.account_sid.as_deref(), Some("AC1"));
        assert_eq!(draft.base_url, Some(None));
        let errors = errors_of(draft_from_json(object(json!({
            "account_sid": "a", "api_key": "b", "active": "yes", "name": 5, "meta_json": []
        }))));
        for field in ["account_sid", "active", "name", "meta_json"] {
            assert!(errors.has(field), "{field}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_without_echoing_odd_keys() {
        let errors = errors_of(draft_from_json(object(
            json!({"colour": "red", "Sk-Live-Secret": 1}),
        )));
        assert!(errors.has("colour"));
        assert!(errors.has(NON_FIELD_ERRORS));
        assert!(!format!("{errors:?}").contains("Sk-Live-Secret"));
    }

    #[test]
    fn list_queries_are_strict() {
        let query = list_query("provider=twilio&active=false&page=2&page_size=100").expect("valid");
        assert_eq!(query.page.page, 2);
        assert_eq!(query.active, Some(false));
        for bad in ["page=0", "page_size=101", "active=1", "sort=x", "page=abc"] {
            assert!(list_query(bad).is_err(), "{bad}");
        }
    }
}
