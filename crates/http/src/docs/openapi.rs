//! The OpenAPI 3.1 document (`GET /api/v2/platform/openapi.json`) and the human API
//! reference page (`GET /docs`), both served by the binary with no external asset.
//!
//! The document is generated from the code at request time: its paths are exactly
//! [`route_table`] (so a route cannot exist without an operation), each operation's
//! parameters, bodies and answers come from [`operation`], and the create body is a
//! `oneOf` with one branch per provider of the loaded catalog, carrying that
//! provider's `account_sid` and `auth_token` patterns, so that the document stays true
//! to what the server accepts whatever the catalog holds.
//!
//! Schemas describe exactly what the handlers accept (the fuzz run checks both
//! directions: every body the schema accepts must be accepted, every body it rejects
//! must be refused), so string rules are spelled out: no control characters, lengths
//! in characters, the URL forms of `base_url`/`sip_url`.

use actix_web::http::Method;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use switchboard_domain::telephony::{Provider, ProviderCatalog};

use crate::AppState;
use crate::routes::{API_BASE, Access, CONFIG_PATHS, RouteSpec, route_table};

/// Path of the document, from the server root.
pub const OPENAPI_PATH: &str = "/api/v2/platform/openapi.json";

const DOCS_HTML: &str = include_str!("docs.html");

/// `GET /api/v2/platform/openapi.json`.
pub(crate) async fn serve(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(document(state.provider_configs.catalog()))
}

/// `GET /docs`: a self-contained page that renders the document.
pub(crate) async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(DOCS_HTML)
}

/// A string pattern refusing control characters (what `char::is_control` refuses).
const CONTROL: &str = "[\\u0000-\\u001f\\u007f-\\u009f]";
/// Characters `char::is_whitespace` calls whitespace, as a class body.
const WHITESPACE: &str = "\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/// Matches strings holding a control character (used under `not`, which leaves
/// other types alone).
fn no_control() -> Value {
    json!({"type": "string", "pattern": CONTROL})
}

/// A string of `min..=max` characters without control characters.
fn text(min: u64, max: u64) -> Value {
    json!({"type": "string", "minLength": min, "maxLength": max,
           "not": no_control()})
}

/// A `text` that is not blank (holds a character that is not whitespace).
fn non_blank(max: u64) -> Value {
    let mut schema = text(1, max);
    schema["pattern"] = json!(format!("[^{WHITESPACE}]"));
    schema
}

fn nullable(mut schema: Value) -> Value {
    if let Some(kind) = schema.get("type").cloned() {
        schema["type"] = json!([kind, "null"]);
    }
    schema
}

fn id_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": i64::MAX})
}

fn timestamp() -> Value {
    json!({"type": "string", "format": "date-time",
           "description": "UTC, RFC 3339 with microseconds and `Z`."})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required,
           "additionalProperties": false})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The success envelope around `data`.
fn envelope(data: Value) -> Value {
    json!({"type": "object",
           "properties": {"status_code": {"type": "integer"}, "message": {"type": "string"},
                          "data": data},
           "required": ["status_code", "message", "data"], "additionalProperties": false})
}

/// The collection envelope around `items`.
fn list_envelope(item: Value) -> Value {
    json!({"type": "object",
           "properties": {"count": {"type": "integer", "minimum": 0},
                          "status_code": {"type": "integer"}, "message": {"type": "string"},
                          "data": {"type": "array", "items": item}},
           "required": ["count", "status_code", "message", "data"],
           "additionalProperties": false})
}

/// Any JSON value whose strings (and object keys) hold no control character.
fn json_value_schema() -> Value {
    json!({"anyOf": [
        {"type": "null"}, {"type": "boolean"}, {"type": "number"},
        {"type": "string", "not": no_control()},
        {"type": "array", "items": schema_ref("JsonValue")},
        {"type": "object", "propertyNames": {"not": no_control()},
         "additionalProperties": schema_ref("JsonValue")}
    ]})
}

fn meta_json() -> Value {
    json!({"type": "object", "propertyNames": {"not": no_control()},
           "additionalProperties": schema_ref("JsonValue"),
           "description": "Free-form object; at most 4096 bytes when serialized (larger is 400); no control characters in its strings."})
}

fn url_field() -> Value {
    let ws = WHITESPACE;
    nullable(
        json!({"type": "string", "maxLength": 255, "not": no_control(),
        "pattern": format!(
            "^(?:(?:[hH][tT][tT][pP][sS]|[wW][sS][sS])://[^/?#:@{ws}]|[sS][iI][pP][sS]?:[^/{ws}])[^{ws}]*$"
        ),
        "description": "Absolute `https://` or `wss://` URL with a host, or a `sip:`/`sips:` URI; at most 255 characters."}),
    )
}

/// A credential string: the provider's pattern, 1-256 characters, no control
/// characters.
fn credential(pattern: &str, hint: &str) -> Value {
    let mut schema = text(1, 256);
    schema["pattern"] = json!(pattern);
    schema["description"] = json!(hint);
    schema
}

/// The ways a body may name `provider`: its slug, its id, or its id as a string
/// (with an optional `+` and leading zeros, as the server parses it).
fn provider_ref(provider: &Provider) -> Value {
    json!({"oneOf": [
        {"const": provider.slug},
        {"const": provider.id.0},
        {"type": "string", "maxLength": 64, "pattern": format!("^\\+?0*{}$", provider.id.0),
         "not": no_control()}
    ]})
}

/// Exactly one of `name` and `alias`.
fn one_of_names(name: &str, alias: &str) -> Value {
    json!({"oneOf": [
        {"required": [name], "not": {"required": [alias]}},
        {"required": [alias], "not": {"required": [name]}}
    ]})
}

fn create_branch(provider: &Provider) -> Value {
    let sid = credential(&provider.account_sid.pattern, &provider.account_sid.hint);
    let token = credential(&provider.auth_token.pattern, &provider.auth_token.hint);
    json!({"title": provider.name, "type": "object",
        "properties": {
            "provider": provider_ref(provider),
            "account_sid": sid, "api_key": sid, "auth_token": token, "api_secret": token,
            "name": non_blank(100), "active": {"type": "boolean"},
            "base_url": url_field(), "sip_url": url_field(), "meta_json": meta_json()},
        "required": ["provider"], "additionalProperties": false,
        "allOf": [one_of_names("account_sid", "api_key"), one_of_names("auth_token", "api_secret")]})
}

fn update_body(catalog: &ProviderCatalog) -> Value {
    let mut refs: Vec<Value> = Vec::new();
    for provider in catalog.all() {
        refs.push(provider_ref(provider));
    }
    let cred = |hint: &str| {
        let mut schema = text(1, 256);
        schema["description"] = json!(hint);
        schema
    };
    json!({"type": "object",
        "description": "Any non-empty subset of the fields. Credentials must also match the stored provider's patterns (see `GET /telephony/providers/`), else 400. `provider` may only name the configuration's own provider.",
        "properties": {
            "provider": {"anyOf": refs},
            "account_sid": cred("The stored provider's account_sid pattern."),
            "api_key": cred("Alias of account_sid."),
            "auth_token": cred("The stored provider's auth_token pattern; replaces the stored one at once."),
            "api_secret": cred("Alias of auth_token."),
            "name": non_blank(100), "active": {"type": "boolean"},
            "base_url": url_field(), "sip_url": url_field(), "meta_json": meta_json()},
        "minProperties": 1, "additionalProperties": false,
        "not": {"anyOf": [{"required": ["account_sid", "api_key"]},
                          {"required": ["auth_token", "api_secret"]}]}})
}

fn create_body(catalog: &ProviderCatalog) -> Value {
    let branches: Vec<Value> = catalog.all().iter().map(create_branch).collect();
    json!({"oneOf": branches,
           "description": "One branch per provider of the catalog: `provider` names it (slug, id, or id as a string) and the credentials follow its patterns. `api_key`/`api_secret` are accepted as aliases of `account_sid`/`auth_token` (one of each pair)."})
}

fn e164() -> Value {
    json!({"type": "string", "pattern": "^\\+[1-9][0-9]{7,14}$", "not": no_control(),
           "description": "Strict E.164: `+`, then 8 to 15 digits, the first not 0."})
}

fn bridge_body(create: bool) -> Value {
    let mut properties = json!({
        "name": non_blank(100),
        "description": nullable(json!({"type": "string", "maxLength": 1000,
            "not": {"type": "string", "pattern": "[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]"}})),
        "status": {"enum": ["ACTIVE", "INACTIVE", "DRAFT"]},
        "region": {"enum": ["IN", "US", "EU", "AUS", "UAE", null]},
        "number_ids": {"type": "array", "maxItems": 1000, "items": id_schema(),
            "description": "Ids of the organization's numbers not on another bridge (else 400); replaces the set on PATCH."}
    });
    if create {
        properties["slug"] = json!({"type": "string", "maxLength": 63,
            "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "not": no_control()});
        object(properties, &["name"])
    } else {
        let mut schema = object(properties, &[]);
        schema["minProperties"] = json!(1);
        schema
    }
}

fn component_schemas() -> Value {
    let provider_details = object(
        json!({"id": {"type": "integer"}, "slug": {"type": "string"},
               "name": {"type": "string"}, "icon": {"type": "string"}}),
        &["id", "slug", "name", "icon"],
    );
    let verification = nullable(object(
        json!({"status": {"enum": ["valid", "invalid", "unreachable"]}, "checked_at": timestamp()}),
        &["status", "checked_at"],
    ));
    let credential_field = json!({"type": "object",
        "properties": {"label": {"type": "string"}, "pattern": {"type": "string"},
                       "hint": {"type": "string"}, "secret": {"const": true}},
        "required": ["label", "pattern", "hint"], "additionalProperties": false});
    let bridge_props = json!({"id": {"type": "integer"}, "name": {"type": "string"},
        "slug": {"type": "string"}, "status": {"enum": ["ACTIVE", "INACTIVE", "DRAFT"]},
        "region": {"enum": ["IN", "US", "EU", "AUS", "UAE", null]},
        "description": {"type": ["string", "null"]}, "created_at": timestamp()});
    let mut detail_props = bridge_props.clone();
    detail_props["updated_at"] = timestamp();
    detail_props["numbers"] = json!({"type": "array", "items": object(
        json!({"id": {"type": "integer"}, "number_id": {"type": "integer"},
               "number": {"type": "string"}, "provider_config_id": {"type": ["integer", "null"]},
               "status": {"enum": ["CONNECTED", "NOT_CONNECTED"]}}),
        &["id", "number_id", "number", "provider_config_id", "status"])});
    let bridge_required = [
        "id",
        "name",
        "slug",
        "status",
        "region",
        "description",
        "created_at",
    ];
    let mut detail_required = bridge_required.to_vec();
    detail_required.extend(["updated_at", "numbers"]);
    json!({
        "JsonValue": json_value_schema(),
        "Error": {"type": "object",
            "properties": {"status_code": {"type": "integer"}, "message": {"type": "string"},
                "code": {"enum": ["validation_error", "org_handle_required", "not_authenticated",
                    "invalid_token", "invalid_credentials", "forbidden_organization",
                    "permission_denied", "not_found", "method_not_allowed", "conflict",
                    "precondition_failed", "payload_too_large", "unsupported_media_type",
                    "idempotency_key_reused", "rate_limited", "internal_error", "unavailable"]},
                "errors": {"type": "object", "description": "Messages by field; `non_field_errors` for the body as a whole.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "data": {"description": "What a conflict depends on (the delete guard lists `connections`)."}},
            "required": ["status_code", "message", "code"], "additionalProperties": false},
        "Organization": object(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "domain_handle": {"type": "string"}, "role": {"enum": ["owner", "admin", "member", "viewer"]},
            "created_at": timestamp()}), &["id", "name", "domain_handle", "role", "created_at"]),
        "Provider": object(json!({"id": {"type": "integer"}, "slug": {"type": "string"},
            "name": {"type": "string"}, "description": {"type": "string"}, "icon": {"type": "string"},
            "credentials": object(json!({"account_sid": credential_field, "auth_token": credential_field}),
                &["account_sid", "auth_token"])}),
            &["id", "slug", "name", "description", "icon", "credentials"]),
        "ProviderConfig": object(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "provider": {"type": "string"}, "provider_details": provider_details,
            "account_sid": {"type": "string"}, "auth_token_last4": {"type": "string"},
            "active": {"type": "boolean"}, "base_url": {"type": ["string", "null"]},
            "sip_url": {"type": ["string", "null"]}, "meta_json": {"type": "object"},
            "org_handle": {"type": "string"}, "created_at": timestamp(), "updated_at": timestamp(),
            "verification": verification}),
            &["id", "name", "provider", "provider_details", "account_sid", "auth_token_last4",
              "active", "base_url", "sip_url", "meta_json", "org_handle", "created_at",
              "updated_at", "verification"]),
        "Number": object(json!({"id": {"type": "integer"}, "number": {"type": "string"},
            "active": {"type": "boolean"}, "state": {"enum": ["ASSIGNED", "NOT_ASSIGNED"]},
            "bridge_slug": {"type": ["string", "null"]}}),
            &["id", "number", "active", "state", "bridge_slug"]),
        "Bridge": object(bridge_props, &bridge_required),
        "BridgeDetail": object(detail_props, &detail_required),
        "AuditEvent": object(json!({"id": {"type": "integer"},
            "action": {"enum": ["created", "updated", "rotated", "deleted", "connected", "disconnected", "verified"]},
            "provider_config_id": {"type": ["integer", "null"]}, "user_id": {"type": ["integer", "null"]},
            "token_id": {"type": ["integer", "null"]}, "request_id": {"type": ["string", "null"]},
            "changes": {"type": "object"}, "created_at": timestamp()}),
            &["id", "action", "provider_config_id", "user_id", "token_id", "request_id", "changes", "created_at"]),
        "Token": object(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "prefix": {"type": "string"}, "created_at": timestamp(),
            "last_used_at": nullable(timestamp()), "expires_at": nullable(timestamp())}),
            &["id", "name", "prefix", "created_at", "last_used_at", "expires_at"]),
        "CreatedToken": object(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "token": {"type": "string"}, "prefix": {"type": "string"}, "created_at": timestamp(),
            "expires_at": nullable(timestamp())}),
            &["id", "name", "token", "prefix", "created_at", "expires_at"]),
        "Login": object(json!({"id": {"type": "integer"}, "token": {"type": "string"},
            "expires_at": nullable(timestamp())}), &["id", "token", "expires_at"]),
    })
}

fn header(description: &str, required: bool, schema: Value) -> Value {
    json!({"description": description, "required": required, "schema": schema})
}

fn request_id_header() -> Value {
    header(
        "The request's id: the client's `X-Request-Id` when it is 1-128 characters of `[A-Za-z0-9._-]`, else a generated UUID.",
        true,
        json!({"type": "string"}),
    )
}

/// Standard answers, one per status, in `components.responses`.
fn component_responses() -> Value {
    let error = |description: &str, extra: Value| {
        let mut headers = json!({"X-Request-Id": request_id_header()});
        if let Value::Object(extra) = extra {
            for (name, value) in extra {
                headers[name] = value;
            }
        }
        json!({"description": description, "headers": headers,
               "content": {"application/json": {"schema": schema_ref("Error")}}})
    };
    let retry_after = || {
        header(
            "Seconds to wait.",
            true,
            json!({"type": "string", "pattern": "^[0-9]+$"}),
        )
    };
    let www = || header("`Token`.", true, json!({"const": "Token"}));
    json!({
        "BadRequest": error("`validation_error` (malformed JSON or query, wrong types, unknown fields, values failing a rule; `errors` by field) or `org_handle_required`.", json!(null)),
        "Unauthorized": error("`not_authenticated` or `invalid_token`.", json!({"WWW-Authenticate": www()})),
        "Forbidden": error("`forbidden_organization` (unknown organization or not a member) or `permission_denied` (role).", json!(null)),
        "NotFound": error("`not_found`: unknown id, or another organization's.", json!(null)),
        "Conflict": error("`conflict`: what the message names already exists or still depends on the object (`data` lists it), or an `Idempotency-Key` request still running.", json!(null)),
        "PreconditionFailed": error("`precondition_failed`: `If-Match` is not the current `ETag`.", json!(null)),
        "PayloadTooLarge": error("`payload_too_large`: body over the limit (16 KiB by default).", json!(null)),
        "UnsupportedMediaType": error("`unsupported_media_type`: a body that is not `application/json`.", json!(null)),
        "IdempotencyKeyReused": error("`idempotency_key_reused`: the key was used with another request.", json!(null)),
        "TooManyRequests": error("`rate_limited`.", json!({"Retry-After": retry_after()})),
        "InternalError": error("`internal_error`: opaque; the cause is logged.", json!(null)),
        "Unavailable": error("`unavailable`: the database is unreachable or the pool exhausted.", json!({"Retry-After": retry_after()})),
    })
}

fn rate_limit_headers() -> Value {
    json!({
        "X-RateLimit-Limit": header("Burst size of the token's bucket.", false, json!({"type": "string"})),
        "X-RateLimit-Remaining": header("Requests left in the bucket.", false, json!({"type": "string"})),
        "X-RateLimit-Reset": header("Seconds until the bucket is full again.", false, json!({"type": "string"})),
    })
}

fn success(description: &str, schema: Option<Value>, access: Access, etag: bool) -> Value {
    let mut headers = json!({"X-Request-Id": request_id_header()});
    if access != Access::Public
        && let (Value::Object(headers), Value::Object(extra)) = (&mut headers, rate_limit_headers())
    {
        headers.extend(extra);
    }
    if etag {
        headers["ETag"] = header(
            "Strong validator of the configuration's version, for `If-Match`.",
            true,
            json!({"type": "string"}),
        );
    }
    let mut response = json!({"description": description, "headers": headers});
    if let Some(schema) = schema {
        response["content"] = json!({"application/json": {"schema": schema}});
    }
    response
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": schema})
}

fn page_params() -> Vec<Value> {
    vec![
        query_param(
            "page",
            "Page number, from 1; a page past the end is empty.",
            json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
        ),
        query_param(
            "page_size",
            "Items per page, 1-100 (default 50).",
            json!({"type": "integer", "minimum": 1, "maximum": 100}),
        ),
    ]
}

fn audit_params() -> Vec<Value> {
    let mut params = vec![
        query_param(
            "action",
            "Only events of this action.",
            json!({"enum": ["created", "updated", "rotated", "deleted", "connected", "disconnected", "verified"]}),
        ),
        query_param(
            "from",
            "Events at or after this time (RFC 3339).",
            json!({"type": "string", "format": "date-time"}),
        ),
        query_param(
            "to",
            "Events at or before this time (RFC 3339); not before `from` (400).",
            json!({"type": "string", "format": "date-time"}),
        ),
    ];
    params.extend(page_params());
    params
}

fn verify_param() -> Value {
    query_param(
        "verify",
        "`true`: check the credentials with the provider before saving (400 when refused or unreachable).",
        json!({"enum": ["true", "false"]}),
    )
}

fn idempotency_param() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "description": "Same key and same request within 24 h replays the first answer (`Idempotent-Replayed: true`); another request: 422.",
        "schema": {"type": "string", "pattern": "^[!-~](?:[ -~]{0,253}[!-~])?$"}})
}

fn if_match_param() -> Value {
    json!({"name": "If-Match", "in": "header", "required": false,
        "description": "The configuration's current `ETag` (or `*`); anything else is 412.",
        "schema": {"type": "string"}})
}

fn path_param(name: &str) -> Value {
    let schema = if name == "id" {
        id_schema()
    } else {
        json!({"type": "string", "minLength": 1})
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

/// What one operation takes and answers, beyond what its access implies.
struct Shape {
    summary: String,
    tag: &'static str,
    query: Vec<Value>,
    headers: Vec<Value>,
    body: Option<(Value, bool)>,
    status: u16,
    answer: Option<Value>,
    etag: bool,
    /// Statuses the operation itself adds (400 for bodies, 404, 409, 412, 422).
    errors: Vec<u16>,
}

fn shape(route: &RouteSpec, catalog: &ProviderCatalog) -> Shape {
    let relative = route.path.strip_prefix(API_BASE).unwrap_or(&route.path);
    let (config_base, rest) = match CONFIG_PATHS
        .iter()
        .find_map(|base| relative.strip_prefix(base).map(|rest| (true, rest)))
    {
        Some(found) => found,
        None => (false, relative),
    };
    let method = route.method.as_str();
    let mut shape = Shape {
        summary: String::new(),
        tag: "telephony",
        query: Vec::new(),
        headers: Vec::new(),
        body: None,
        status: 200,
        answer: None,
        etag: false,
        errors: Vec::new(),
    };
    let config = || envelope(schema_ref("ProviderConfig"));
    if config_base {
        shape.tag = "provider configurations";
        match (method, rest) {
            ("GET", "") => {
                shape.summary = "List the organization's provider configurations".into();
                shape.query.push(query_param(
                    "provider",
                    "Only this provider (slug or id).",
                    json!({"anyOf": catalog.all().iter().map(provider_ref).collect::<Vec<_>>()}),
                ));
                shape.query.push(query_param(
                    "active",
                    "Only active or inactive ones.",
                    json!({"enum": ["true", "false"]}),
                ));
                shape.query.extend(page_params());
                shape.answer = Some(list_envelope(schema_ref("ProviderConfig")));
                shape.errors = vec![400];
            }
            ("POST", "") => {
                shape.summary = "Create a provider configuration".into();
                shape.query.push(verify_param());
                shape.headers.push(idempotency_param());
                shape.body = Some((create_body(catalog), true));
                shape.status = 201;
                shape.answer = Some(config());
                shape.etag = true;
                shape.errors = vec![400, 409, 422];
            }
            ("GET", "/{id}") => {
                shape.summary = "Get a provider configuration".into();
                shape.answer = Some(config());
                shape.etag = true;
                shape.errors = vec![404];
            }
            ("PATCH", "/{id}") => {
                shape.summary =
                    "Update a provider configuration (a new auth_token rotates it)".into();
                shape.query.push(verify_param());
                shape.headers.push(if_match_param());
                shape.body = Some((update_body(catalog), true));
                shape.answer = Some(config());
                shape.etag = true;
                shape.errors = vec![400, 404, 409, 412];
            }
            ("DELETE", "/{id}") => {
                shape.summary = "Delete a provider configuration".into();
                shape.headers.push(if_match_param());
                shape.status = 204;
                shape.errors = vec![404, 409, 412];
            }
            ("POST", "/{id}/verify") => {
                shape.summary = "Verify the stored credentials with the provider".into();
                shape.headers.push(idempotency_param());
                shape.body = Some((
                    json!({"type": "object", "maxProperties": 0, "description": "Optional; when sent, `{}`."}),
                    false,
                ));
                shape.answer = Some(config());
                shape.etag = true;
                shape.errors = vec![400, 404, 409, 422];
            }
            ("GET", "/{id}/history") => {
                shape.summary = "A configuration's audit events, newest first".into();
                shape.query = audit_params();
                shape.answer = Some(list_envelope(schema_ref("AuditEvent")));
                shape.errors = vec![400, 404];
            }
            _ => {}
        }
        return shape;
    }
    match (method, relative) {
        ("GET", "/health/live") => {
            shape.tag = "operations";
            shape.summary = "Liveness".into();
            shape.answer = Some(object(json!({"status": {"const": "ok"}}), &["status"]));
        }
        ("GET", "/health/ready") => {
            shape.tag = "operations";
            shape.summary =
                "Readiness: database reachable and migrations current (else 503)".into();
            shape.answer = Some(json!({"type": "object", "properties": {
                "status": {"enum": ["ok", "unavailable"]}, "database": {"type": "string"},
                "migrations": {"type": "string"}}, "required": ["status"]}));
        }
        ("GET", "/metrics") => {
            shape.tag = "operations";
            shape.summary = "Prometheus metrics (text format)".into();
        }
        ("GET", "/openapi.json") => {
            shape.tag = "operations";
            shape.summary = "This OpenAPI document".into();
            shape.answer = Some(json!({"type": "object", "required": ["openapi", "paths"]}));
        }
        ("GET", "/docs") => {
            shape.tag = "operations";
            shape.summary = "The API reference page (HTML)".into();
        }
        ("GET", "/organizations") => {
            shape.tag = "identity";
            shape.summary = "The caller's organizations and roles".into();
            shape.answer = Some(list_envelope(schema_ref("Organization")));
        }
        ("POST", "/auth/login") => {
            shape.tag = "identity";
            shape.summary = "Log in with email and password; answers a new token".into();
            shape.body = Some((
                object(
                    json!({"email": {"type": "string"}, "password": {"type": "string"}}),
                    &["email", "password"],
                ),
                true,
            ));
            shape.answer = Some(envelope(schema_ref("Login")));
            shape.errors = vec![400];
        }
        ("GET", "/auth/tokens") => {
            shape.tag = "identity";
            shape.summary = "The caller's live tokens (never the secret)".into();
            shape.answer = Some(list_envelope(schema_ref("Token")));
        }
        ("POST", "/auth/tokens") => {
            shape.tag = "identity";
            shape.summary = "Issue a token for the caller (shown this once)".into();
            shape.body = Some((
                object(
                    json!({"name": text(1, 100),
                           "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}}),
                    &["name"],
                ),
                true,
            ));
            shape.status = 201;
            shape.answer = Some(envelope(schema_ref("CreatedToken")));
            shape.errors = vec![400];
        }
        ("DELETE", "/auth/tokens/{id}") => {
            shape.tag = "identity";
            shape.summary = "Revoke one of the caller's tokens".into();
            shape.status = 204;
            shape.errors = vec![404];
        }
        ("GET", "/telephony/providers") => {
            shape.summary = "The provider catalog with each provider's credential formats".into();
            shape.answer = Some(list_envelope(schema_ref("Provider")));
        }
        ("GET", "/telephony/numbers") => {
            shape.tag = "bridges and numbers";
            shape.summary = "The organization's numbers".into();
            shape.query.push(query_param(
                "state",
                "Only numbers on a bridge or not.",
                json!({"enum": ["ASSIGNED", "NOT_ASSIGNED"]}),
            ));
            shape.query.extend(page_params());
            shape.answer = Some(list_envelope(schema_ref("Number")));
            shape.errors = vec![400];
        }
        ("POST", "/telephony/numbers") => {
            shape.tag = "bridges and numbers";
            shape.summary = "Add a number".into();
            shape.body = Some((object(json!({"number": e164()}), &["number"]), true));
            shape.status = 201;
            shape.answer = Some(envelope(schema_ref("Number")));
            shape.errors = vec![400, 409];
        }
        ("DELETE", "/telephony/numbers/{id}") => {
            shape.tag = "bridges and numbers";
            shape.summary = "Delete a number (409 while on a bridge)".into();
            shape.status = 204;
            shape.errors = vec![404, 409];
        }
        ("GET", "/telephony/bridges") => {
            shape.tag = "bridges and numbers";
            shape.summary = "The organization's bridges".into();
            shape.query = page_params();
            shape.answer = Some(list_envelope(schema_ref("Bridge")));
            shape.errors = vec![400];
        }
        ("POST", "/telephony/bridges") => {
            shape.tag = "bridges and numbers";
            shape.summary = "Create a bridge".into();
            shape.body = Some((bridge_body(true), true));
            shape.status = 201;
            shape.answer = Some(envelope(schema_ref("BridgeDetail")));
            shape.errors = vec![400, 409];
        }
        ("GET", "/telephony/bridges/{slug}") => {
            shape.tag = "bridges and numbers";
            shape.summary = "Get a bridge with its numbers".into();
            shape.answer = Some(envelope(schema_ref("BridgeDetail")));
            shape.errors = vec![404];
        }
        ("PATCH", "/telephony/bridges/{slug}") => {
            shape.tag = "bridges and numbers";
            shape.summary = "Update a bridge (`number_ids` replaces its numbers)".into();
            shape.body = Some((bridge_body(false), true));
            shape.answer = Some(envelope(schema_ref("BridgeDetail")));
            shape.errors = vec![400, 404, 409];
        }
        ("DELETE", "/telephony/bridges/{slug}") => {
            shape.tag = "bridges and numbers";
            shape.summary = "Delete a bridge; its numbers go back to NOT_ASSIGNED".into();
            shape.status = 204;
            shape.errors = vec![404];
        }
        ("POST", "/telephony/bridges/{slug}/connect-provider") => {
            shape.tag = "bridges and numbers";
            shape.summary = "Connect a provider configuration to a number of the bridge".into();
            shape.body = Some((
                object(
                    json!({"provider_config_id": {"oneOf": [id_schema(),
                        {"type": "string", "pattern": "^0*[1-9][0-9]*$", "maxLength": 19,
                         "not": no_control()}]},
                        "phone_number": e164()}),
                    &["provider_config_id", "phone_number"],
                ),
                true,
            ));
            shape.answer = Some(envelope(schema_ref("BridgeDetail")));
            shape.errors = vec![400, 404];
        }
        ("POST", "/telephony/bridges/{slug}/disconnect-provider") => {
            shape.tag = "bridges and numbers";
            shape.summary =
                "Disconnect the provider configuration from a number of the bridge".into();
            shape.body = Some((
                object(json!({"phone_number": e164()}), &["phone_number"]),
                true,
            ));
            shape.answer = Some(envelope(schema_ref("BridgeDetail")));
            shape.errors = vec![400, 404];
        }
        ("GET", "/audit-events") => {
            shape.tag = "audit";
            shape.summary =
                "The organization's audit events, newest first (owners and admins)".into();
            shape.query = audit_params();
            shape.answer = Some(list_envelope(schema_ref("AuditEvent")));
            shape.errors = vec![400];
        }
        _ => {}
    }
    shape
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// The OpenAPI operation of one route.
fn operation(route: &RouteSpec, catalog: &ProviderCatalog) -> Value {
    let shape = shape(route, catalog);
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(path_param)
        .collect();
    parameters.extend(shape.query);
    parameters.extend(shape.headers);
    let mut responses = Map::new();
    let description = match shape.status {
        201 => "Created.",
        204 => "Done; no body.",
        _ => "OK.",
    };
    let mut ok = success(description, shape.answer, route.access, shape.etag);
    if route.path == "/metrics" {
        ok["content"] = json!({"text/plain": {"schema": {"type": "string"}}});
    } else if route.path == "/docs" {
        ok["content"] = json!({"text/html": {"schema": {"type": "string"}}});
    }
    responses.insert(shape.status.to_string(), ok);
    let mut errors: Vec<(u16, &str)> = Vec::new();
    let authenticated = route.access != Access::Public;
    let org = matches!(
        route.access,
        Access::OrgRead | Access::OrgWrite | Access::OrgAdmin
    );
    let has_body = shape.body.is_some();
    if org || shape.errors.contains(&400) || has_body {
        errors.push((400, "BadRequest"));
    }
    if authenticated {
        errors.push((401, "Unauthorized"));
    }
    if org {
        errors.push((403, "Forbidden"));
    }
    if shape.errors.contains(&404) {
        errors.push((404, "NotFound"));
    }
    if shape.errors.contains(&409) {
        errors.push((409, "Conflict"));
    }
    if shape.errors.contains(&412) {
        errors.push((412, "PreconditionFailed"));
    }
    if has_body {
        errors.push((413, "PayloadTooLarge"));
        errors.push((415, "UnsupportedMediaType"));
    }
    if shape.errors.contains(&422) {
        errors.push((422, "IdempotencyKeyReused"));
    }
    if authenticated {
        errors.push((429, "TooManyRequests"));
    }
    let touches_database = route.path.starts_with(API_BASE) && route.path != OPENAPI_PATH;
    if touches_database {
        errors.push((500, "InternalError"));
        errors.push((503, "Unavailable"));
    }
    for (status, name) in errors {
        responses.insert(status.to_string(), response_ref(name));
    }
    if route.path == "/health/ready" {
        responses.insert(
            "503".into(),
            json!({"description": "Not ready.", "headers": {"X-Request-Id": request_id_header()},
                   "content": {"application/json": {"schema": {"type": "object",
                       "properties": {"status": {"const": "unavailable"}}, "required": ["status"]}}}}),
        );
    }
    if route.path == "/api/v2/platform/auth/login" {
        responses.insert(
            "401".into(),
            json!({"description": "`invalid_credentials`: unknown email or wrong password (one answer for both).",
                   "headers": {"X-Request-Id": request_id_header()},
                   "content": {"application/json": {"schema": schema_ref("Error")}}}),
        );
        responses.insert(
            "429".into(),
            json!({"description": "`rate_limited`: too many failed logins for this email or client address.",
                   "headers": {"X-Request-Id": request_id_header(),
                               "Retry-After": header("Seconds to wait.", true, json!({"type": "string"}))},
                   "content": {"application/json": {"schema": schema_ref("Error")}}}),
        );
    }
    let operation_id = format!(
        "{}{}",
        route.method.as_str().to_ascii_lowercase(),
        route
            .path
            .strip_prefix(API_BASE)
            .unwrap_or(&route.path)
            .split(['/', '-', '.'])
            .filter(|part| !part.is_empty())
            .map(|part| {
                let part = part.trim_start_matches('{').trim_end_matches('}');
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect::<String>()
    );
    let mut operation = json!({
        "operationId": operation_id,
        "summary": shape.summary,
        "tags": [shape.tag],
        "parameters": parameters,
        "responses": responses,
    });
    operation["security"] = match route.access {
        Access::Public => json!([]),
        Access::Token => json!([{"token": []}]),
        _ => json!([{"token": [], "org_handle": []}]),
    };
    if let Some(access) = match route.access {
        Access::OrgWrite => Some("Owners, admins and members (viewers: 403)."),
        Access::OrgAdmin => Some("Owners and admins only."),
        _ => None,
    } {
        operation["description"] = json!(access);
    }
    if let Some((schema, required)) = shape.body {
        operation["requestBody"] = json!({"required": required,
            "content": {"application/json": {"schema": schema}}});
    }
    if route.path.contains("/provider-configurations") {
        operation["deprecated"] = json!(true);
        operation["description"] = json!(
            "Singular spelling kept for older clients; the same as under `/telephony/providers-configurations`."
        );
    }
    operation
}

/// The whole OpenAPI 3.1 document for `catalog`.
#[must_use]
pub fn document(catalog: &ProviderCatalog) -> Value {
    let mut paths = Map::new();
    for route in route_table() {
        let item = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = operation(&route, catalog);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Telephony provider configurations, bridges and numbers (Unpod Platform API v2 compatible). Every route also answers with a trailing slash. Errors use one envelope: `{status_code, message, code, errors?, data?}`; every answer carries `X-Request-Id`.",
        },
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "responses": component_responses(),
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "`Token <token>` (the keyword is case-insensitive)."},
                "org_handle": {"type": "apiKey", "in": "header", "name": "Org-Handle",
                    "description": "The `domain_handle` of the organization the request acts in; the caller must be a member."},
            },
        },
        "tags": [
            {"name": "provider configurations"}, {"name": "bridges and numbers"},
            {"name": "telephony"}, {"name": "identity"}, {"name": "audit"}, {"name": "operations"},
        ],
    })
}

/// Whether `method` is one an OpenAPI path item names.
#[must_use]
pub fn documented(document: &Value, method: &Method, path: &str) -> bool {
    document["paths"][path][method.as_str().to_ascii_lowercase()].is_object()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_an_operation_of_an_openapi_3_1_document() {
        let document = document(&ProviderCatalog::default());
        assert_eq!(document["openapi"], "3.1.0");
        for route in route_table() {
            assert!(
                documented(&document, &route.method, &route.path),
                "{route:?} is missing from the OpenAPI document"
            );
        }
        let mut ids: Vec<&str> = Vec::new();
        for item in document["paths"]
            .as_object()
            .into_iter()
            .flat_map(Map::values)
        {
            for operation in item.as_object().into_iter().flat_map(Map::values) {
                let id = operation["operationId"].as_str().unwrap_or_default();
                assert!(!id.is_empty() && !ids.contains(&id), "{id}");
                ids.push(id);
                assert!(
                    !operation["summary"].as_str().unwrap_or_default().is_empty(),
                    "{id}"
                );
            }
        }
    }
}
