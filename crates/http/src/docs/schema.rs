//! Builders of JSON Schema fragments for the API reference: string rules spelled
//! out as the handlers apply them (no control characters, lengths in characters, the
//! URL forms), envelopes, and parameters. Route modules describe their bodies with
//! these; the document itself is assembled in [`super::openapi`]. Knows no route.

use serde_json::{Value, json};
use switchboard_domain::telephony::Provider;

/// A string pattern refusing control characters (what `char::is_control` refuses).
pub(crate) const CONTROL: &str = "[\\u0000-\\u001f\\u007f-\\u009f]";
/// Characters `char::is_whitespace` calls whitespace, as a class body.
pub(crate) const WHITESPACE: &str = "\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/// Matches strings holding a control character (used under `not`, which leaves
/// other types alone).
pub(crate) fn no_control() -> Value {
    json!({"type": "string", "pattern": CONTROL})
}

/// A string of `min..=max` characters without control characters.
pub(crate) fn text(min: u64, max: u64) -> Value {
    json!({"type": "string", "minLength": min, "maxLength": max,
           "not": no_control()})
}

/// A `text` that is not blank (holds a character that is not whitespace).
pub(crate) fn non_blank(max: u64) -> Value {
    let mut schema = text(1, max);
    schema["pattern"] = json!(format!("[^{WHITESPACE}]"));
    schema
}

pub(crate) fn nullable(mut schema: Value) -> Value {
    if let Some(kind) = schema.get("type").cloned() {
        schema["type"] = json!([kind, "null"]);
    }
    schema
}

pub(crate) fn id_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": i64::MAX})
}

pub(crate) fn timestamp() -> Value {
    json!({"type": "string", "format": "date-time",
           "description": "UTC, RFC 3339 with microseconds and `Z`."})
}

/// A request body object: fields other than `properties` are refused (400).
pub(crate) fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required,
           "additionalProperties": false})
}

/// An answer object: `properties` are always there, and later versions may add
/// fields, so clients must accept (and may ignore) others.
pub(crate) fn view(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

pub(crate) fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The success envelope around `data`.
pub(crate) fn envelope(data: Value) -> Value {
    view(
        json!({"status_code": {"type": "integer"}, "message": {"type": "string"}, "data": data}),
        &["status_code", "message", "data"],
    )
}

/// The collection envelope around `items`.
pub(crate) fn list_envelope(item: Value) -> Value {
    view(
        json!({"count": {"type": "integer", "minimum": 0},
               "status_code": {"type": "integer"}, "message": {"type": "string"},
               "data": {"type": "array", "items": item}}),
        &["count", "status_code", "message", "data"],
    )
}

/// `meta_json` in request bodies: an open object. Its rules beyond that (no control
/// character in any string or key, at any depth; at most 4096 bytes serialized) are
/// in the description: JSON Schema could only say the first recursively, which
/// client generators cannot read (`openapi-python-client` drops the whole operation).
pub(crate) fn meta_json() -> Value {
    json!({"type": "object", "propertyNames": {"not": no_control()},
           "additionalProperties": true,
           "description": "Free-form object of your own (labels, routing hints); at most 4096 bytes when serialized (larger is 400); no control characters in its keys and strings, at any depth (else 400)."})
}

pub(crate) fn url_field() -> Value {
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
pub(crate) fn credential(pattern: &str, hint: &str) -> Value {
    let mut schema = text(1, 256);
    schema["pattern"] = json!(pattern);
    schema["description"] = json!(hint);
    schema
}

/// The ways a body may name `provider`: its slug, its id, or its id as a string
/// (with an optional `+` and leading zeros, as the server parses it).
pub(crate) fn provider_ref(provider: &Provider) -> Value {
    json!({"oneOf": [
        {"const": provider.slug},
        {"const": provider.id.0},
        {"type": "string", "maxLength": 64, "pattern": format!("^\\+?0*{}$", provider.id.0),
         "not": no_control()}
    ]})
}

pub(crate) fn e164() -> Value {
    json!({"type": "string", "pattern": "^\\+[1-9][0-9]{7,14}$", "not": no_control(),
           "description": "Strict E.164: `+`, then 8 to 15 digits, the first not 0."})
}

pub(crate) fn header(description: &str, required: bool, schema: Value) -> Value {
    json!({"description": description, "required": required, "schema": schema})
}

pub(crate) fn request_id_header() -> Value {
    header(
        "The request's id: the client's `X-Request-Id` when it is 1-128 characters of `[A-Za-z0-9._-]`, else a generated UUID.",
        true,
        json!({"type": "string"}),
    )
}

pub(crate) fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": schema})
}

pub(crate) fn page_params() -> Vec<Value> {
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

pub(crate) fn audit_params() -> Vec<Value> {
    let mut params = vec![
        query_param(
            "action",
            "Only events of this action.",
            json!({"enum": ["created", "updated", "rotated", "deleted", "connected", "disconnected", "verified", "credentials_revealed", "rotation_started", "rotation_verified", "rotation_promoted", "rotation_cancelled", "previous_expired", "numbers_imported"]}),
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

pub(crate) fn verify_param() -> Value {
    query_param(
        "verify",
        "`true`: check the credentials with the provider before saving (400 when refused or unreachable).",
        json!({"type": "boolean"}),
    )
}

pub(crate) fn path_param(name: &str) -> Value {
    let schema = if name == "id" || name == "rid" {
        id_schema()
    } else {
        json!({"type": "string", "minLength": 1})
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}
