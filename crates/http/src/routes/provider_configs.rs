//! Provider configuration routes (contract section 6): create, list, get, update and
//! delete, under both path spellings. Creates honour `Idempotency-Key`, updates and
//! deletes `If-Match`, and creates and updates take `?verify=true`.
//!
//! This module turns JSON into the domain's draft through the field table (JSON
//! types, the `api_key`/`api_secret` aliases, unknown fields) and configurations into
//! their wire form; every rule beyond JSON types lives in the domain.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, TryIntoHeaderPair};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Map, Value, json};
use switchboard_application::WriteOptions;
use switchboard_application::telephony::{GetProviderConfigError, ListProviderConfigsQuery};
use switchboard_domain::telephony::{
    CredentialField, CredentialInput, FieldType, IDENTIFIER_ALIAS, IDENTIFIER_OLD_ALIAS,
    PRIMARY_SECRET_ALIAS, PRIMARY_SECRET_OLD_ALIAS, Provider, ProviderCatalog, ProviderConfig,
    ProviderConfigDraft, ProviderConfigId, ProviderRef, SentValue, Verification,
};

use crate::docs::schema::{
    credential, envelope, list_envelope, meta_json, non_blank, page_params, provider_ref,
    query_param, schema_ref, text, url_field, verify_param,
};
use crate::extract::auth::{OrgActor, OrgCredentials};
use crate::extract::body::{BodyLimits, read_json_object};
use crate::extract::preconditions::{entity_tag, if_match};
use crate::middleware::idempotency::idempotent;
use crate::middleware::request_id::request_id_of;
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::{respond, respond_list};
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, FieldValue, Kind, positive_id, rfc3339};
use crate::wire::query::{PAGE_PARAMETERS, Query};

#[cfg(feature = "bench")]
pub mod bench_support;

#[derive(Debug, Serialize)]
struct ProviderDetails<'a> {
    id: i64,
    slug: &'a str,
    name: &'a str,
    icon: &'a str,
}

/// The wire form of a stored verification.
#[derive(Debug, Serialize)]
struct VerificationView {
    status: &'static str,
    checked_at: String,
}

/// `null` when never verified (or the credentials changed since).
fn verification_view(verification: Option<&Verification>) -> Option<VerificationView> {
    verification.map(|verification| VerificationView {
        status: verification.status.as_str(),
        checked_at: rfc3339(&verification.checked_at),
    })
}

/// The wire form of a configuration: never the credential, its ciphertext, nonce or
/// key id. It borrows from the configuration and the catalog (a list of 50 copies
/// nothing it does not have to).
#[derive(Debug, Serialize)]
struct ProviderConfigView<'a> {
    id: i64,
    name: &'a str,
    provider: &'a str,
    provider_details: ProviderDetails<'a>,
    account_sid: &'a str,
    auth_token_last4: &'a str,
    active: bool,
    base_url: Option<&'a str>,
    sip_url: Option<&'a str>,
    meta_json: &'a Map<String, Value>,
    org_handle: &'a str,
    created_at: String,
    updated_at: String,
    verification: Option<VerificationView>,
    /// Every credential field of the provider: public ones with their value (`null`
    /// when not set), secret ones as `{"set", "last4"}`.
    credentials: CredentialsView<'a>,
}

/// The `credentials` view of a configuration (contract section 10): one key per
/// credential field of the provider, in name order (the order of a JSON object
/// built as a map, which it was before; [`Provider::name_order`]).
#[derive(Debug)]
struct CredentialsView<'a> {
    config: &'a ProviderConfig,
    provider: Option<&'a Provider>,
}

impl Serialize for CredentialsView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = self.provider.map_or(&[][..], |p| p.fields.as_slice());
        let order = self.provider.map_or(&[][..], |p| p.name_order.as_slice());
        let mut map = serializer.serialize_map(Some(order.len()))?;
        for field in order.iter().filter_map(|&index| fields.get(index)) {
            if field.secret {
                let last4 = self.config.secret_last4.get(&field.name);
                map.serialize_entry(
                    &field.name,
                    &SecretFieldView {
                        last4,
                        set: last4.is_some(),
                    },
                )?;
            } else if field.identifier {
                map.serialize_entry(&field.name, &self.config.account_sid)?;
            } else {
                let value = self.config.public_fields.get(&field.name);
                map.serialize_entry(&field.name, &value.unwrap_or(&Value::Null))?;
            }
        }
        map.end()
    }
}

/// A secret field: whether it is set and its last four characters, never more.
#[derive(Debug, Serialize)]
struct SecretFieldView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    last4: Option<&'a String>,
    set: bool,
}

fn view<'a>(
    config: &'a ProviderConfig,
    catalog: &'a ProviderCatalog,
    org_handle: &'a str,
) -> ProviderConfigView<'a> {
    let provider = catalog.by_id(config.provider_id);
    let slug = provider.map_or("", |p| p.slug.as_str());
    ProviderConfigView {
        credentials: CredentialsView { config, provider },
        id: config.id.0,
        name: &config.name,
        provider: slug,
        provider_details: ProviderDetails {
            id: config.provider_id.0,
            slug,
            name: provider.map_or("", |p| p.name.as_str()),
            icon: provider.map_or("", |p| p.icon.as_str()),
        },
        account_sid: &config.account_sid,
        auth_token_last4: &config.auth_token_last4,
        active: config.active,
        base_url: config.base_url.as_deref(),
        sip_url: config.sip_url.as_deref(),
        meta_json: &config.meta_json,
        org_handle,
        created_at: rfc3339(&config.created_at),
        updated_at: rfc3339(&config.updated_at),
        verification: verification_view(config.verification.as_ref()),
    }
}

/// An answer describing one configuration, with its `ETag`; never stored by caches.
pub(crate) fn single(
    status: StatusCode,
    message: &'static str,
    config: ProviderConfig,
    catalog: &ProviderCatalog,
    handle: &str,
) -> HttpResponse {
    let tag = entity_tag(&config);
    let mut response = respond(status, message, view(&config, catalog, handle));
    if let Ok((name, value)) = tag.try_into_pair() {
        response.headers_mut().insert(name, value);
    }
    if let Ok(value) = "no-store".parse() {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}

/// Parses the `{id}` path segment; anything but a positive integer names nothing.
pub(crate) fn config_id(raw: &str) -> Result<ProviderConfigId, ApiError> {
    positive_id(raw)
        .map(ProviderConfigId)
        .ok_or(ApiError::NotFound)
}

/// The fixed fields of a configuration body (create and update alike). Credential
/// fields are read beside them: any key that is some provider's field or an alias,
/// flat, or every key of `credentials`; the domain checks them against the provider.
static CONFIG_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("provider", Kind::SlugOrId),
        Field::new("name", Kind::Text),
        Field::new("active", Kind::Flag),
        Field::new("base_url", Kind::Text).nullable(),
        Field::new("sip_url", Kind::Text).nullable(),
        Field::new("meta_json", Kind::Object),
        Field::new("credentials", Kind::Object),
    ])
});

/// The domain's view of a sent credential value (JSON type only).
fn sent_value(value: &Value) -> SentValue {
    match value {
        Value::String(text) => SentValue::Text(SecretString::from(text.clone())),
        number @ Value::Number(_) => {
            crate::wire::fields::json_integer(number).map_or(SentValue::Other, SentValue::Integer)
        }
        _ => SentValue::Other,
    }
}

/// Converts a JSON object into a draft: fixed fields through [`CONFIG_FIELDS`],
/// credential fields flat or inside `credentials` (not both).
pub(crate) fn draft_from_json(
    body: &Map<String, Value>,
    catalog: &ProviderCatalog,
) -> Result<ProviderConfigDraft, ApiError> {
    let mut fixed = Map::new();
    let mut flat = CredentialInput::new(false);
    for (key, value) in body {
        if catalog.is_credential_name(key) && !CONFIG_FIELDS.has(key) {
            flat.push(key.clone(), sent_value(value));
        } else {
            // Fixed fields, and unknown ones (refused there without their names).
            fixed.insert(key.clone(), value.clone());
        }
    }
    let mut fields = CONFIG_FIELDS.read(&fixed)?;
    let credentials = match fields.object("credentials") {
        None => flat,
        Some(_) if !flat.is_empty() => {
            return Err(ApiError::Validation(
                switchboard_domain::shared::ValidationErrors::single(
                    "credentials",
                    "send the credential fields either flat or inside credentials, not both",
                ),
            ));
        }
        Some(nested) => {
            let mut input = CredentialInput::new(true);
            for (key, value) in &nested {
                input.push(key.clone(), sent_value(value));
            }
            input
        }
    };
    Ok(ProviderConfigDraft {
        provider: fields.take("provider").and_then(|value| match value {
            FieldValue::Text(slug) => Some(ProviderRef::Slug(slug)),
            FieldValue::Integer(id) => Some(ProviderRef::Id(id)),
            _ => None,
        }),
        account_sid: None,
        auth_token: None,
        credentials,
        name: fields.text("name"),
        active: fields.flag("active"),
        base_url: fields.nullable_text("base_url"),
        sip_url: fields.nullable_text("sip_url"),
        meta_json: fields.object("meta_json"),
    })
}

/// The `verify` query flag of a create or update (the only parameter they take).
///
/// # Errors
/// 400 for another parameter or value.
pub(crate) fn verify_flag(query_string: &str) -> Result<bool, ApiError> {
    let mut query = Query::read(query_string, &["verify"])?;
    let verify = query.flag("verify").unwrap_or(false);
    query.finish()?;
    Ok(verify)
}

/// Parses the list query: `provider`, `active`, `page`, `page_size`.
fn list_query(query_string: &str) -> Result<ListProviderConfigsQuery, ApiError> {
    let mut query = Query::read(
        query_string,
        &["provider", "active", PAGE_PARAMETERS[0], PAGE_PARAMETERS[1]],
    )?;
    let list = ListProviderConfigsQuery {
        provider: query.text("provider"),
        active: query.flag("active"),
        page: query.page(),
    };
    query.finish()?;
    Ok(list)
}

async fn create(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let verify = verify_flag(req.query_string())?;
    let draft = draft_from_json(&body, state.provider_configs.catalog())?;
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
                state.provider_configs.catalog(),
                &handle,
            ))
        }
    };
    idempotent(&req, &state, &actor, Some(&body), work).await
}

/// A hot read too: authorization and the page in one trip ([`OrgCredentials`]).
async fn list(
    credentials: OrgCredentials,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // A bad query is answered after the authorization's checks, as the contract
    // orders them.
    let query = list_query(req.query_string());
    let service = state.provider_configs.clone();
    let (actor, page) = credentials
        .run(move |actor| service.list(actor, &query?).map_err(ApiError::from))
        .await?;
    let catalog = state.provider_configs.catalog();
    let handle = actor.org_handle.as_str();
    let items: Vec<ProviderConfigView> = page
        .items
        .iter()
        .map(|config| view(config, catalog, handle))
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

/// The hot read: authorization and the row in one trip ([`OrgCredentials`]).
async fn get(
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
        state.provider_configs.catalog(),
        actor.org_handle.as_str(),
    ))
}

async fn update(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let verify = verify_flag(req.query_string())?;
    let draft = draft_from_json(&body, state.provider_configs.catalog())?;
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
        state.provider_configs.catalog(),
        &handle,
    ))
}

async fn delete(
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

/// The schema of one credential field's value, from the catalog.
fn field_schema(field: &CredentialField) -> Value {
    let mut schema = match field.kind {
        FieldType::Integer => {
            json!({"type": "integer", "minimum": field.min, "maximum": field.max})
        }
        FieldType::Enum => json!({"enum": field.choices}),
        FieldType::String | FieldType::Url | FieldType::Pem => {
            let mut schema = text(1, field.max_length as u64);
            if field.kind == FieldType::Pem {
                // Newlines allowed: no control-character rule.
                schema = json!({"type": "string", "minLength": 1, "maxLength": field.max_length});
            }
            if let Some(pattern) = &field.pattern {
                schema["pattern"] = json!(pattern);
            }
            if field.kind == FieldType::Url {
                schema["format"] = json!("uri");
            }
            schema
        }
    };
    let mut description = field.label.clone();
    if let Some(hint) = &field.hint {
        description = format!("{description}: {hint}");
    }
    if field.secret {
        description.push_str(" (secret: write-only, stored encrypted)");
    }
    if !field.required {
        description.push_str(" (optional)");
    }
    schema["description"] = json!(description);
    if let Some(default) = &field.default {
        schema["default"] = default.clone();
    }
    schema
}

/// The old names a provider's identifier and primary secret also answer to, with
/// the field each names (a provider's own field of that name wins).
fn aliases(provider: &Provider) -> Vec<(&'static str, &CredentialField)> {
    [
        IDENTIFIER_ALIAS,
        IDENTIFIER_OLD_ALIAS,
        PRIMARY_SECRET_ALIAS,
        PRIMARY_SECRET_OLD_ALIAS,
    ]
    .into_iter()
    .filter(|alias| provider.field(alias).is_none())
    .filter_map(|alias| provider.resolve(alias).map(|field| (alias, field)))
    .collect()
}

/// The two create branches of one provider, built from its catalog entry: `provider`
/// names it, and its fields come either flat (with the aliases) or inside
/// `credentials`. Two branches rather than one with both, so that a body sending
/// both forms (refused with 400) matches no branch: each forbids the other's names.
fn create_branches(provider: &Provider) -> [Value; 2] {
    let mut flat = Map::new();
    let mut nested = Map::new();
    for field in &provider.fields {
        flat.insert(field.name.clone(), field_schema(field));
        nested.insert(field.name.clone(), field_schema(field));
    }
    for (alias, field) in aliases(provider) {
        let mut schema = field_schema(field);
        schema["description"] = json!(format!("Alias of {}.", field.name));
        flat.insert(alias.into(), schema.clone());
        nested.insert(alias.into(), schema);
    }
    // account_sid and auth_token always carry the identifier's and primary
    // secret's patterns (older clients validate with them).
    flat.insert(
        IDENTIFIER_ALIAS.into(),
        credential(&provider.account_sid.pattern, &provider.account_sid.hint),
    );
    flat.insert(
        PRIMARY_SECRET_ALIAS.into(),
        credential(&provider.auth_token.pattern, &provider.auth_token.hint),
    );
    let mut common = Map::new();
    common.insert("provider".into(), provider_ref(provider));
    for (name, schema) in [
        ("name", non_blank(100)),
        ("active", json!({"type": "boolean"})),
        ("base_url", url_field()),
        ("sip_url", url_field()),
        ("meta_json", meta_json()),
    ] {
        common.insert(name.into(), schema);
    }
    let required: Vec<&str> = provider
        .fields
        .iter()
        .filter(|field| field.required)
        .map(|field| field.name.as_str())
        .collect();
    let mut flat_properties = common.clone();
    flat_properties.extend(flat);
    let mut nested_properties = common;
    nested_properties.insert(
        "credentials".into(),
        json!({"type": "object", "properties": nested, "additionalProperties": false,
               "description": "The credential fields, instead of sending them flat."}),
    );
    [
        json!({"title": provider.name, "type": "object",
            "description": format!("Provider `{}` with its credential fields flat. Required credential fields: {} (by these names or their aliases).", provider.slug, required.join(", ")),
            "properties": flat_properties,
            "required": ["provider"], "additionalProperties": false}),
        json!({"title": format!("{} (credentials object)", provider.name), "type": "object",
            "description": format!("Provider `{}` with its credential fields inside `credentials`. Required credential fields: {}.", provider.slug, required.join(", ")),
            "properties": nested_properties,
            "required": ["provider", "credentials"], "additionalProperties": false}),
    ]
}

fn create_body(catalog: &ProviderCatalog) -> Value {
    let branches: Vec<Value> = catalog.all().iter().flat_map(create_branches).collect();
    json!({"oneOf": branches,
           // No `discriminator`: it selects only `$ref`'d branches, and `provider`
           // may also be an id (Redocly refuses the document with it).
           "description": "Two branches per provider of the catalog (fields flat, or inside `credentials`): `provider` names it (slug, id, or id as a string) and the credential fields follow its catalog entry (`GET /telephony/providers/` lists them as `fields`). They come flat or inside `credentials`, not both. `account_sid`/`auth_token` name the identifier and the primary secret of every provider; `api_key`/`api_secret` are their aliases where the provider has no field of that name."})
}

fn update_body(catalog: &ProviderCatalog) -> Value {
    let refs: Vec<Value> = catalog.all().iter().map(provider_ref).collect();
    let mut properties = Map::new();
    properties.insert("provider".into(), json!({"anyOf": refs}));
    for provider in catalog.all() {
        for field in &provider.fields {
            properties
                .entry(field.name.clone())
                .or_insert_with(|| {
                    let mut schema = json!({"description": "A credential field of the stored provider (see its catalog entry); a secret sent replaces that secret only."});
                    if field.kind == FieldType::Integer {
                        schema["type"] = json!("integer");
                    } else {
                        schema["type"] = json!("string");
                    }
                    schema
                });
        }
    }
    let cred = |hint: &str| {
        let mut schema = text(1, 256);
        schema["description"] = json!(hint);
        schema
    };
    properties.insert(
        "account_sid".into(),
        cred("The stored provider's identifier."),
    );
    properties.insert(
        "api_key".into(),
        cred("The provider's own api_key field, else an alias of account_sid."),
    );
    properties.insert(
        "auth_token".into(),
        cred("The stored provider's primary secret; replaces it at once."),
    );
    properties.insert(
        "api_secret".into(),
        cred("The provider's own api_secret field, else an alias of auth_token."),
    );
    for (name, schema) in [
        ("name", non_blank(100)),
        ("active", json!({"type": "boolean"})),
        ("base_url", url_field()),
        ("sip_url", url_field()),
        ("meta_json", meta_json()),
        (
            "credentials",
            json!({"type": "object", "description": "The credential fields, instead of sending them flat."}),
        ),
    ] {
        properties.insert(name.into(), schema);
    }
    json!({"type": "object",
        "description": "Any non-empty subset of the fields. Credential fields must be the stored provider's (see `GET /telephony/providers/`) and follow its rules, else 400; secrets sent replace those secrets and keep the others. `provider` may only name the configuration's own provider.",
        "properties": properties,
        "minProperties": 1, "additionalProperties": false})
}

fn list_parameters(catalog: &ProviderCatalog) -> Vec<Value> {
    let mut parameters = vec![
        query_param(
            "provider",
            "Only this provider (slug or id).",
            json!({"anyOf": catalog.all().iter().map(provider_ref).collect::<Vec<_>>()}),
        ),
        query_param(
            "active",
            "Only active or inactive ones.",
            json!({"type": "boolean"}),
        ),
    ];
    parameters.extend(page_params());
    parameters
}

fn write_parameters(_: &ProviderCatalog) -> Vec<Value> {
    vec![verify_param()]
}

pub(crate) fn config_answer() -> Value {
    envelope(schema_ref("ProviderConfig"))
}

fn list_answer() -> Value {
    list_envelope(schema_ref("ProviderConfig"))
}

/// The configuration routes under `base` (one of [`crate::routes::CONFIG_PATHS`]).
pub(crate) fn routes(base: &str) -> Vec<RouteSpec> {
    let configs = |summary| Operation::new("provider configurations", summary);
    let one = format!("{base}/{{id}}");
    vec![
        RouteSpec::new(
            Method::GET,
            api(base),
            Access::OrgRead,
            || web::get().to(list),
            configs("List the organization's provider configurations")
                .id("listProviderConfigurations")
                .query(list_parameters)
                .answer(list_answer)
                .errors(&[400]),
        ),
        RouteSpec::new(
            Method::POST,
            api(base),
            Access::OrgWrite,
            || web::post().to(create),
            configs("Create a provider configuration")
                .id("createProviderConfiguration")
                .query(write_parameters)
                .idempotency(Idempotency::Replayed)
                .body(create_body, true)
                .status(201)
                .answer(config_answer)
                .etag()
                .errors(&[400, 409, 422]),
        ),
        RouteSpec::new(
            Method::GET,
            api(&one),
            Access::OrgRead,
            || web::get().to(get),
            configs("Get a provider configuration")
                .id("getProviderConfiguration")
                .answer(config_answer)
                .etag()
                .errors(&[404]),
        ),
        RouteSpec::new(
            Method::PATCH,
            api(&one),
            Access::OrgWrite,
            || web::patch().to(update),
            configs("Update a provider configuration (a new auth_token rotates it)")
                .id("updateProviderConfiguration")
                .query(write_parameters)
                .if_match()
                .body(update_body, true)
                .answer(config_answer)
                .etag()
                .errors(&[400, 404, 409, 412]),
        ),
        RouteSpec::new(
            Method::DELETE,
            api(&one),
            Access::OrgWrite,
            || web::delete().to(delete),
            configs("Delete a provider configuration")
                .id("deleteProviderConfiguration")
                .if_match()
                .status(204)
                .errors(&[404, 409, 412]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use switchboard_domain::shared::{NON_FIELD_ERRORS, ValidationErrors};

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

    fn catalog() -> ProviderCatalog {
        ProviderCatalog::builtin().expect("valid")
    }

    #[test]
    fn credential_fields_are_read_flat_or_nested_and_types_are_checked() {
        let draft = draft_from_json(
            &object(json!({
                "provider": 3, "api_key": "AC1", "api_secret": "s", "base_url": null
            })),
            &catalog(),
        )
        .expect("valid");
        assert_eq!(draft.provider, Some(ProviderRef::Id(3)));
        assert_eq!(
            draft.credentials.names().collect::<Vec<_>>(),
            vec!["api_key", "api_secret"]
        );
        assert!(!draft.credentials.nested);
        assert_eq!(draft.base_url, Some(None));
        let nested = draft_from_json(
            &object(json!({"provider": "sip", "credentials": {"username": "u", "port": 5061}})),
            &catalog(),
        )
        .expect("valid");
        assert!(nested.credentials.nested);
        assert!(matches!(
            nested.credentials.get("port"),
            Some(SentValue::Integer(5061))
        ));
        let errors = errors_of(draft_from_json(
            &object(json!({"account_sid": "a", "credentials": {"auth_token": "b"}})),
            &catalog(),
        ));
        assert!(errors.has("credentials"));
        let errors = errors_of(draft_from_json(
            &object(json!({"active": "yes", "name": 5, "meta_json": [], "credentials": 1})),
            &catalog(),
        ));
        for field in ["active", "name", "meta_json", "credentials"] {
            assert!(errors.has(field), "{field}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_without_echoing_any_name() {
        let errors = errors_of(draft_from_json(
            &object(json!({"colour": "red", "Sk-Live-Secret": 1})),
            &catalog(),
        ));
        assert!(!errors.has("colour"));
        assert!(errors.has(NON_FIELD_ERRORS));
        let text = format!("{errors:?}");
        assert!(!text.contains("Sk-Live-Secret") && !text.contains("colour"));
    }

    #[test]
    fn list_queries_are_strict() {
        let query = list_query("provider=twilio&active=false&page=2&page_size=100").expect("valid");
        assert_eq!(query.page.page, 2);
        assert_eq!(query.active, Some(false));
        for bad in [
            "page=0",
            "page_size=101",
            "active=1",
            "sort=x",
            "page=abc",
            "page=1&page=2",
        ] {
            assert!(list_query(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_verify_flag_is_strict() {
        assert_eq!(verify_flag(""), Ok(false));
        assert_eq!(verify_flag("verify=true"), Ok(true));
        assert_eq!(verify_flag("verify=false"), Ok(false));
        for bad in ["verify=1", "verify=yes", "other=1", "Sk-Secret=1"] {
            assert!(verify_flag(bad).is_err(), "{bad}");
        }
    }
}
