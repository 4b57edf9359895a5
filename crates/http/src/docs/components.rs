//! The shared parts of the OpenAPI document: component schemas (the wire views) and
//! the standard error answers, one per status. Knows no route.

use serde_json::{Value, json};

use crate::docs::examples;
use crate::docs::schema::{
    header, nullable, object, request_id_header, schema_ref, timestamp, view,
};

pub(crate) fn component_schemas() -> Value {
    let provider_details = view(
        json!({"id": {"type": "integer"}, "slug": {"type": "string"},
               "name": {"type": "string"}, "icon": {"type": "string"}}),
        &["id", "slug", "name", "icon"],
    );
    let verification = nullable(view(
        json!({"status": {"enum": ["valid", "invalid", "unreachable"]}, "checked_at": timestamp()}),
        &["status", "checked_at"],
    ));
    let credential_field = json!({"type": "object",
        "properties": {"label": {"type": "string"}, "pattern": {"type": "string"},
                       "hint": {"type": "string"}, "secret": {"type": "boolean", "const": true,
                           "description": "Present (and true) on write-only fields."}},
        "required": ["label", "pattern", "hint"]});
    let bridge_props = json!({"id": {"type": "integer"}, "name": {"type": "string"},
        "slug": {"type": "string"}, "status": {"enum": ["ACTIVE", "INACTIVE", "DRAFT"]},
        "region": {"enum": ["IN", "US", "EU", "AUS", "UAE", null]},
        "description": {"type": ["string", "null"]}, "created_at": timestamp()});
    let mut detail_props = bridge_props.clone();
    detail_props["updated_at"] = timestamp();
    detail_props["numbers"] = json!({"type": "array", "items": view(
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
    let mut schemas = json!({
        "Error": {"type": "object",
            "properties": {"status_code": {"type": "integer"}, "message": {"type": "string"},
                "code": {"type": "string",
                    "description": "Stable, machine-readable: `validation_error`, `org_handle_required`, `not_authenticated`, `invalid_token`, `invalid_credentials`, `forbidden_organization`, `permission_denied`, `not_found`, `method_not_allowed`, `conflict`, `token_limit`, `precondition_failed`, `credentials_unreadable`, `configuration_inactive`, `provider_error`, `payload_too_large`, `unsupported_media_type`, `idempotency_key_reused`, `rate_limited`, `request_timeout`, `internal_error`, `unavailable`; new codes may be added, so treat unknown ones by their status."},
                "errors": {"type": "object", "description": "Messages by field; `non_field_errors` for the body as a whole.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "data": {"description": "What a conflict depends on (the delete guard lists `connections`)."}},
            "required": ["status_code", "message", "code"]},
        "Organization": view(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "domain_handle": {"type": "string"}, "role": {"enum": ["owner", "admin", "member", "viewer"]},
            "created_at": timestamp()}), &["id", "name", "domain_handle", "role", "created_at"]),
        "Provider": view(json!({"id": {"type": "integer"}, "slug": {"type": "string"},
            "name": {"type": "string"}, "description": {"type": "string"}, "icon": {"type": "string"},
            "credentials": view(json!({"account_sid": credential_field, "auth_token": credential_field}),
                &["account_sid", "auth_token"]),
            "fields": {"type": "array", "description": "Every credential field, in form order.",
                "items": {"type": "object",
                    "properties": {"name": {"type": "string"}, "label": {"type": "string"},
                        "type": {"enum": ["string", "url", "integer", "enum", "pem"]},
                        "required": {"type": "boolean"}, "secret": {"type": "boolean"},
                        "pattern": {"type": "string"}, "hint": {"type": "string"},
                        "choices": {"type": "array", "items": {"type": "string"}},
                        "max_length": {"type": "integer"}, "min": {"type": "integer"},
                        "max": {"type": "integer"}, "default": {},
                        "schemes": {"type": "array", "items": {"type": "string"}},
                        "identifier": {"type": "boolean", "const": true},
                        "primary_secret": {"type": "boolean", "const": true}},
                    "required": ["name", "label", "type", "required", "secret"]}}}),
            &["id", "slug", "name", "description", "icon", "credentials", "fields"]),
        "ProviderConfig": view(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "provider": {"type": "string"}, "provider_details": provider_details,
            "account_sid": {"type": "string"}, "auth_token_last4": {"type": "string"},
            "active": {"type": "boolean"}, "base_url": {"type": ["string", "null"]},
            "sip_url": {"type": ["string", "null"]}, "meta_json": {"type": "object", "additionalProperties": true},
            "org_handle": {"type": "string"}, "created_at": timestamp(), "updated_at": timestamp(),
            "verification": verification,
            "credentials": {"type": "object",
                "description": "Every credential field of the provider: public ones with their value (null when not set), secret ones as {\"set\": true, \"last4\": ...} or {\"set\": false} (last4 is **** under 12 characters).",
                "additionalProperties": {"anyOf": [
                    {"type": ["string", "integer", "null"]},
                    {"type": "object", "properties": {"set": {"type": "boolean"}, "last4": {"type": "string"}},
                     "required": ["set"]}]}}}),
            &["id", "name", "provider", "provider_details", "account_sid", "auth_token_last4",
              "active", "base_url", "sip_url", "meta_json", "org_handle", "created_at",
              "updated_at", "verification", "credentials"]),
        "Number": view(json!({"id": {"type": "integer"}, "number": {"type": "string"},
            "active": {"type": "boolean"}, "state": {"enum": ["ASSIGNED", "NOT_ASSIGNED"]},
            "bridge_slug": {"type": ["string", "null"]},
            "provider_config_id": {"type": ["integer", "null"],
                "description": "The configuration the number is linked to: connected on its bridge, or the one it was imported from; null otherwise."}}),
            &["id", "number", "active", "state", "bridge_slug", "provider_config_id"]),
        "Bridge": view(bridge_props, &bridge_required),
        "BridgeDetail": view(detail_props, &detail_required),
        "AuditEvent": view(json!({"id": {"type": "integer"},
            "action": {"enum": ["created", "updated", "rotated", "deleted", "connected", "disconnected", "verified", "credentials_revealed", "rotation_started", "rotation_verified", "rotation_promoted", "rotation_cancelled", "previous_expired", "numbers_imported"]},
            "provider_config_id": {"type": ["integer", "null"]}, "user_id": {"type": ["integer", "null"]},
            "token_id": {"type": ["integer", "null"]}, "request_id": {"type": ["string", "null"]},
            "changes": {"type": "object", "additionalProperties": true,
                "description": "Names of the changed fields (`fields`), and for the credential its old and new `last4`; never values."}, "created_at": timestamp()}),
            &["id", "action", "provider_config_id", "user_id", "token_id", "request_id", "changes", "created_at"]),
        "Token": view(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "prefix": {"type": "string"}, "created_at": timestamp(),
            "last_used_at": nullable(timestamp()), "expires_at": nullable(timestamp()),
            "scopes": scope_list()}),
            &["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "scopes"]),
        "CreatedToken": view(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "token": {"type": "string"}, "prefix": {"type": "string"}, "created_at": timestamp(),
            "expires_at": nullable(timestamp()), "scopes": scope_list()}),
            &["id", "name", "token", "prefix", "created_at", "expires_at", "scopes"]),
        "ServiceAccount": view(json!({"id": {"type": "integer"}, "name": {"type": "string"},
            "role": {"enum": ["admin", "member", "viewer"]}, "created_at": timestamp(),
            "tokens": {"type": "array", "description": "In listings: the live tokens (never the secret).",
                       "items": {"$ref": "#/components/schemas/Token"}}}),
            &["id", "name", "role", "created_at"]),
        "Login": view(json!({"id": {"type": "integer"}, "token": {"type": "string"},
            "expires_at": nullable(timestamp())}), &["id", "token", "expires_at"]),
    });
    if let Value::Object(map) = &mut schemas {
        for (name, schema) in webhook_schemas() {
            map.insert(name.to_owned(), schema);
        }
    }
    schemas
}

/// The webhook endpoints', deliveries' and events' views.
fn webhook_schemas() -> Vec<(&'static str, Value)> {
    let endpoint_props = json!({"id": {"type": "integer"},
        "url": {"type": "string"}, "description": {"type": "string"},
        "event_types": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"}, "disabled_reason": {"type": ["string", "null"]},
        "previous_secret_expires_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": timestamp(), "updated_at": timestamp()});
    let endpoint_required = [
        "id",
        "url",
        "description",
        "event_types",
        "enabled",
        "disabled_reason",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    ];
    let mut with_secret_props = endpoint_props.clone();
    with_secret_props["secret"] = json!({"type": "string", "pattern": "^whsec_",
        "description": "Shown in this answer only."});
    let mut with_secret_required = endpoint_required.to_vec();
    with_secret_required.push("secret");
    vec![
        (
            "WebhookEndpoint",
            object(endpoint_props, &endpoint_required),
        ),
        (
            "WebhookEndpointWithSecret",
            object(with_secret_props, &with_secret_required),
        ),
        (
            "WebhookDelivery",
            object(
                json!({"id": {"type": "integer"}, "event_id": {"type": "string"},
                       "event_type": {"type": "string"},
                       "status": {"enum": ["pending", "succeeded", "failed", "dead"]},
                       "attempts": {"type": "integer"},
                       "last_status_code": {"type": ["integer", "null"]},
                       "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                       "created_at": timestamp()}),
                &[
                    "id",
                    "event_id",
                    "event_type",
                    "status",
                    "attempts",
                    "last_status_code",
                    "next_attempt_at",
                    "created_at",
                ],
            ),
        ),
        (
            "Event",
            object(
                json!({"id": {"type": "string"}, "type": {"type": "string"},
                       "timestamp": timestamp(), "organization": {"type": "string"},
                       "data": {"type": "object"}}),
                &["id", "type", "timestamp", "organization", "data"],
            ),
        ),
    ]
}

/// Standard answers, one per status, in `components.responses`.
pub(crate) fn component_responses() -> Value {
    let error = |name: &str, description: &str, extra: Value| {
        let mut headers = json!({"X-Request-Id": request_id_header()});
        if let Value::Object(extra) = extra {
            for (name, value) in extra {
                headers[name] = value;
            }
        }
        json!({"description": description, "headers": headers,
               "content": {"application/json": {"schema": schema_ref("Error"),
                                                "example": examples::error(name)}}})
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
        "BadRequest": error("BadRequest", "`validation_error` (malformed JSON or query, wrong types, unknown fields, values failing a rule; `errors` by field) or `org_handle_required`.", json!(null)),
        "Unauthorized": error("Unauthorized", "`not_authenticated` or `invalid_token`.", json!({"WWW-Authenticate": www()})),
        "Forbidden": error("Forbidden", "`forbidden_organization` (unknown organization or not a member) or `permission_denied` (role).", json!(null)),
        "NotFound": error("NotFound", "`not_found`: unknown id, or another organization's.", json!(null)),
        "Conflict": error("Conflict", "`conflict`: what the message names already exists or still depends on the object (`data` lists it), or an `Idempotency-Key` request still running.", json!(null)),
        "PreconditionFailed": error("PreconditionFailed", "`precondition_failed`: `If-Match` is not the current `ETag`.", json!(null)),
        "PayloadTooLarge": error("PayloadTooLarge", "`payload_too_large`: body over the limit (16 KiB by default).", json!(null)),
        "UnsupportedMediaType": error("UnsupportedMediaType", "`unsupported_media_type`: a body that is not `application/json`.", json!(null)),
        "RequestTimeout": error("RequestTimeout", "`request_timeout`: the body did not arrive within the time limit (10 s by default); the connection is closed.", json!(null)),
        "IdempotencyKeyReused": error("IdempotencyKeyReused", "`idempotency_key_reused`: the key was used with another request.", json!(null)),
        "TooManyRequests": error("TooManyRequests", "`rate_limited`.", json!({"Retry-After": retry_after()})),
        "InternalError": error("InternalError", "`internal_error`: opaque; the cause is logged.", json!(null)),
        "BadGateway": error("BadGateway", "`provider_error`: the provider's API, called with the stored credential, failed (an error status, a timeout, a refused connection) or answered something unusable; nothing was changed, and nothing the provider said is repeated.", json!(null)),
        "Unavailable": error("Unavailable", "`unavailable`: the database is unreachable or the pool exhausted.", json!({"Retry-After": retry_after()})),
    })
}

/// A token's scopes.
fn scope_list() -> Value {
    let names: Vec<&str> = switchboard_domain::identity::Scope::ALL
        .iter()
        .map(|scope| scope.as_str())
        .collect();
    json!({"type": "array", "items": {"enum": names}})
}
