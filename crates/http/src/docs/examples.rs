//! Examples of the API reference: one request body and one success answer for each
//! operation that has them, keyed by operation id, and one error answer per
//! standard error status. The reference page shows them, generated clients carry
//! them in their docs, and the client tests (`scripts/clients/run.sh`, Redocly's
//! `no-invalid-media-type-examples`) check that each one matches its schema.
//!
//! Adding a route with a JSON body or a JSON answer: add its examples here; the
//! unit test of `super::openapi` fails for an operation without them. Knows no
//! handler.

use serde_json::{Value, json};

const CREATED_AT: &str = "2026-12-06T09:30:00.000000Z";
const UPDATED_AT: &str = "2026-12-06T09:41:12.345678Z";

fn envelope(status: u16, message: &str, data: Value) -> Value {
    json!({"status_code": status, "message": message, "data": data})
}

fn list(message: &str, items: Vec<Value>) -> Value {
    json!({"count": items.len(), "status_code": 200, "message": message, "data": items})
}

fn provider_config() -> Value {
    json!({
        "id": 7, "name": "Main line", "provider": "twilio",
        "provider_details": {"id": 1, "slug": "twilio", "name": "Twilio",
                             "icon": "/static/providers/twilio.svg"},
        "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token_last4": "3210",
        "active": true, "base_url": null, "sip_url": "sip:pbx.example.com",
        "meta_json": {"region": "us1", "team": "support"}, "org_handle": "acme",
        "created_at": CREATED_AT, "updated_at": UPDATED_AT,
        "verification": {"status": "valid", "checked_at": UPDATED_AT},
        "credentials": {"account_sid": "AC0123456789abcdef0123456789abcdef",
                        "auth_token": {"set": true, "last4": "3210"},
                        "api_key_sid": null, "api_key_secret": {"set": false}}
    })
}

fn rotation(status: &str) -> Value {
    let promoted = status == "promoted";
    json!({"id": 4, "status": status, "version": 3, "created_at": CREATED_AT,
           "verified_at": UPDATED_AT, "promoted_at": if promoted { json!(UPDATED_AT) } else { Value::Null },
           "cancelled_at": null,
           "previous_expires_at": if promoted { json!("2026-12-07T09:41:12.345678Z") } else { Value::Null },
           "verification": {"status": "valid", "checked_at": UPDATED_AT},
           "credentials": {"auth_token": {"set": true, "last4": "3210"}}})
}

fn number(state: &str, bridge: Option<&str>) -> Value {
    json!({"id": 3, "number": "+14155550100", "active": true, "state": state,
           "bridge_slug": bridge, "provider_config_id": bridge.map(|_| 7)})
}

fn bridge() -> Value {
    json!({"id": 2, "name": "Front desk", "slug": "front-desk", "status": "ACTIVE",
           "region": "US", "description": null, "created_at": CREATED_AT})
}

fn bridge_detail(connected: bool) -> Value {
    let mut detail = bridge();
    detail["updated_at"] = json!(UPDATED_AT);
    detail["numbers"] = json!([{"id": 5, "number_id": 3, "number": "+14155550100",
        "provider_config_id": if connected { json!(7) } else { Value::Null },
        "status": if connected { "CONNECTED" } else { "NOT_CONNECTED" }}]);
    detail
}

fn audit_event() -> Value {
    json!({"id": 17, "action": "rotated", "provider_config_id": 7, "user_id": 1,
           "token_id": 4, "request_id": "0b6e4c1a-5d7e-4f7c-9a51-6b0f1e2d3c4b",
           "changes": {"fields": ["name", "auth_token"],
                       "auth_token_last4": {"old": "cdef", "new": "3210"}},
           "created_at": UPDATED_AT})
}

fn provider() -> Value {
    json!({"id": 1, "slug": "twilio", "name": "Twilio",
           "description": "Programmable voice and SMS.",
           "icon": "/static/providers/twilio.svg",
           "credentials": {
               "account_sid": {"label": "Account SID", "pattern": "^AC[0-9a-fA-F]{32}$",
                               "hint": "AC followed by 32 hexadecimal characters"},
               "auth_token": {"label": "Auth Token", "pattern": "^[0-9a-fA-F]{32}$",
                              "hint": "32 hexadecimal characters", "secret": true}},
           "fields": [
               {"name": "account_sid", "label": "Account SID", "type": "string",
                "required": true, "secret": false, "identifier": true,
                "pattern": "^AC[0-9a-fA-F]{32}$", "hint": "AC followed by 32 hexadecimal characters"},
               {"name": "auth_token", "label": "Auth Token", "type": "string",
                "required": true, "secret": true, "primary_secret": true,
                "pattern": "^[0-9a-fA-F]{32}$", "hint": "32 hexadecimal characters"}]})
}

const TOKEN: &str = "sbt_4f2GqX9aLm3Rt7Vb1Nc8Zk5Hs0Pw6Ye2_1a2B3c";

fn service_account() -> Value {
    json!({"id": 3, "name": "call runtime", "role": "member", "created_at": CREATED_AT,
           "tokens": []})
}

fn webhook_endpoint() -> Value {
    json!({"id": 5, "url": "https://hooks.example.com/switchboard", "description": "Call runtime",
           "event_types": ["provider_configuration.updated"], "enabled": true,
           "disabled_reason": null, "previous_secret_expires_at": null,
           "created_at": CREATED_AT, "updated_at": UPDATED_AT})
}

fn webhook_delivery() -> Value {
    json!({"id": 41, "event_id": "evt_2f7b0c9e5d4a4c1b",
           "event_type": "provider_configuration.updated", "status": "succeeded", "attempts": 1,
           "last_status_code": 200, "next_attempt_at": null, "created_at": UPDATED_AT})
}

/// The example request body of `operation_id`.
pub(crate) fn request(operation_id: &str) -> Option<Value> {
    Some(match operation_id {
        "createProviderConfiguration" => json!({
            "provider": "twilio", "name": "Main line",
            "account_sid": "AC0123456789abcdef0123456789abcdef",
            "auth_token": "0123456789abcdef0123456789abcdef",
            "sip_url": "sip:pbx.example.com", "meta_json": {"region": "us1", "team": "support"}}),
        "updateProviderConfiguration" => {
            json!({"auth_token": "fedcba9876543210fedcba9876543210", "name": "Main line"})
        }
        "verifyProviderConfiguration" | "verifyProviderConfigurationRotation" => json!({}),
        "startProviderConfigurationRotation" => {
            json!({"auth_token": "fedcba9876543210fedcba9876543210"})
        }
        "promoteProviderConfigurationRotation" => {
            json!({"keep_previous_for_seconds": 86400, "require_verified": true})
        }
        "login" => json!({"email": "ops@acme.test", "password": "a long passphrase"}),
        "createToken" => json!({"name": "ci", "expires_in_days": 90}),
        "createNumber" => json!({"number": "+14155550100"}),
        "importNumbers" => json!({"provider_config_id": 7}),
        "createBridge" => json!({"name": "Front desk", "region": "US", "number_ids": [3]}),
        "updateBridge" => json!({"status": "INACTIVE", "number_ids": []}),
        "connectBridgeProvider" => {
            json!({"provider_config_id": 7, "phone_number": "+14155550100"})
        }
        "disconnectBridgeProvider" => json!({"phone_number": "+14155550100"}),
        "createServiceAccount" => json!({"name": "call runtime", "role": "member"}),
        "createServiceAccountToken" => json!({"name": "eu-west call runtime",
            "scopes": ["credentials:use", "configurations:read"], "expires_in_days": 90}),
        "checkProviderSignature" => json!({
            "url": "https://voice.example.com/twilio/incoming",
            "params": {"CallSid": "CA0123456789abcdef0123456789abcdef", "From": "+14155550100"},
            "signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}),
        "createProviderAccessToken" => json!({"identity": "agent-42", "room": "support-7",
            "ttl_seconds": 600, "grants": {"can_publish": true, "can_subscribe": true}}),
        "createWebhookEndpoint" => json!({"url": "https://hooks.example.com/switchboard",
            "description": "Call runtime", "event_types": ["provider_configuration.updated"]}),
        "updateWebhookEndpoint" => json!({"enabled": true}),
        _ => return None,
    })
}

/// The example success answer of `operation_id`.
pub(crate) fn answer(operation_id: &str) -> Option<Value> {
    Some(match operation_id {
        "getLiveness" => json!({"status": "ok"}),
        "getReadiness" => json!({"status": "ok", "database": "ok", "migrations": "current",
                                  "database_writes": "ok", "keys": "ok", "missing_keys": [],
                                  "unreadable_credentials": 0}),
        "getOpenApiDocument" => json!({"openapi": "3.1.0", "paths": {}}),
        "listOrganizations" => list(
            "Organizations fetched successfully.",
            vec![
                json!({"id": 1, "name": "Acme", "domain_handle": "acme", "role": "owner",
                        "created_at": CREATED_AT}),
            ],
        ),
        "login" => envelope(
            200,
            "Logged in successfully.",
            json!({"id": 4, "token": TOKEN, "expires_at": "2027-01-05T09:30:00.000000Z"}),
        ),
        "listTokens" => list(
            "Tokens fetched successfully.",
            vec![json!({"id": 4, "name": "laptop", "prefix": "sbt_4f2G",
                        "created_at": CREATED_AT, "last_used_at": UPDATED_AT,
                        "expires_at": null, "scopes": ["configurations:read", "configurations:write", "bridges:read", "bridges:write", "credentials:use", "audit:read", "webhooks:manage"]})],
        ),
        "createToken" => envelope(
            201,
            "Token created successfully.",
            json!({"id": 5, "name": "ci", "token": TOKEN, "prefix": "sbt_4f2G",
                   "created_at": CREATED_AT, "expires_at": "2027-03-06T09:30:00.000000Z",
                   "scopes": ["configurations:read", "configurations:write", "bridges:read", "bridges:write", "credentials:use", "audit:read", "webhooks:manage"]}),
        ),
        "listProviders" => list(
            "Telephony providers fetched successfully.",
            vec![provider()],
        ),
        "listProviderConfigurations" => list(
            "Provider configurations fetched successfully.",
            vec![provider_config()],
        ),
        "createProviderConfiguration" => envelope(
            201,
            "Provider configuration created successfully.",
            provider_config(),
        ),
        "getProviderConfiguration" => envelope(
            200,
            "Provider configuration fetched successfully.",
            provider_config(),
        ),
        "updateProviderConfiguration" => envelope(
            200,
            "Provider configuration updated successfully.",
            provider_config(),
        ),
        "verifyProviderConfiguration" => {
            envelope(200, "Provider configuration verified.", provider_config())
        }
        "startProviderConfigurationRotation" => envelope(201, "Rotation started.", {
            let mut pending = rotation("pending");
            pending["verified_at"] = Value::Null;
            pending["verification"] = Value::Null;
            pending
        }),
        "listProviderConfigurationRotations" => list(
            "Rotations fetched successfully.",
            vec![rotation("promoted")],
        ),
        "verifyProviderConfigurationRotation" => {
            envelope(200, "Pending credentials verified.", rotation("pending"))
        }
        "promoteProviderConfigurationRotation" => {
            envelope(200, "Rotation promoted.", provider_config())
        }
        "listProviderConfigurationHistory" => list(
            "Provider configuration history fetched successfully.",
            vec![audit_event()],
        ),
        "listAuditEvents" => list("Audit events fetched successfully.", vec![audit_event()]),
        "listNumbers" => list(
            "Numbers fetched successfully.",
            vec![number("ASSIGNED", Some("front-desk"))],
        ),
        "createNumber" => envelope(
            201,
            "Number added successfully.",
            number("NOT_ASSIGNED", None),
        ),
        "importNumbers" => {
            let mut created = number("NOT_ASSIGNED", None);
            created["id"] = json!(12);
            created["number"] = json!("+14155550123");
            created["provider_config_id"] = json!(7);
            created["imported"] = json!(true);
            let mut existing = number("ASSIGNED", Some("front-desk"));
            existing["imported"] = json!(false);
            envelope(
                200,
                "Numbers imported successfully.",
                json!({"imported": 1, "existing": 1, "skipped": 0,
                       "numbers": [created, existing]}),
            )
        }
        "listBridges" => list("Bridges fetched successfully.", vec![bridge()]),
        "createBridge" => envelope(201, "Bridge created successfully.", bridge_detail(false)),
        "getBridge" => envelope(200, "Bridge fetched successfully.", bridge_detail(true)),
        "updateBridge" => envelope(200, "Bridge updated successfully.", bridge_detail(true)),
        "connectBridgeProvider" => envelope(
            200,
            "Provider connected to bridge successfully.",
            bridge_detail(true),
        ),
        "disconnectBridgeProvider" => envelope(
            200,
            "Provider disconnected from bridge successfully.",
            bridge_detail(false),
        ),
        "listServiceAccounts" => list(
            "Service accounts fetched successfully.",
            vec![service_account()],
        ),
        "createServiceAccount" => envelope(
            201,
            "Service account created successfully.",
            service_account(),
        ),
        "createServiceAccountToken" => envelope(
            201,
            "Token created successfully.",
            json!({"id": 12, "name": "eu-west call runtime", "token": TOKEN, "prefix": "sbt_4f2G",
                   "created_at": CREATED_AT, "expires_at": "2027-03-06T09:30:00.000000Z",
                   "scopes": ["configurations:read", "credentials:use"]}),
        ),
        "revealProviderConfigurationCredentials" => envelope(
            200,
            "Credentials revealed.",
            json!({"id": 7, "provider": "twilio", "version": 3,
                   "credentials": {"account_sid": "AC0123456789abcdef0123456789abcdef",
                                   "auth_token": "0123456789abcdef0123456789abcdef"},
                   "previous": {"version": 2,
                                "credentials": {"account_sid": "AC0123456789abcdef0123456789abcdef",
                                                "auth_token": "fedcba9876543210fedcba9876543210"},
                                "expires_at": "2026-12-07T09:41:12.345678Z"}}),
        ),
        "checkProviderSignature" => envelope(
            200,
            "Signature checked.",
            json!({"valid": true, "matched": "current"}),
        ),
        "createProviderAccessToken" => envelope(
            201,
            "Access token created.",
            json!({"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudC00MiJ9.c2lnbmF0dXJl",
                   "expires_at": "2026-12-06T09:40:00.000000Z"}),
        ),
        "createWebhookEndpoint" | "rotateWebhookEndpointSecret" => envelope(
            if operation_id == "createWebhookEndpoint" {
                201
            } else {
                200
            },
            "Webhook endpoint saved.",
            {
                let mut endpoint = webhook_endpoint();
                endpoint["secret"] = json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
                endpoint
            },
        ),
        "listWebhookEndpoints" => list(
            "Webhook endpoints fetched successfully.",
            vec![webhook_endpoint()],
        ),
        "getWebhookEndpoint" | "updateWebhookEndpoint" => envelope(
            200,
            "Webhook endpoint fetched successfully.",
            webhook_endpoint(),
        ),
        "testWebhookEndpoint" => envelope(
            202,
            "Test event queued.",
            json!({"event_id": "evt_2f7b0c9e5d4a4c1b", "event_type": "webhook.test"}),
        ),
        "listWebhookDeliveries" => {
            list("Deliveries fetched successfully.", vec![webhook_delivery()])
        }
        "retryWebhookDelivery" => envelope(202, "Delivery queued.", webhook_delivery()),
        "listEvents" => {
            json!({"count": 1, "status_code": 200, "message": "Events fetched successfully.",
            "data": [{"id": "evt_2f7b0c9e5d4a4c1b", "type": "provider_configuration.updated",
                      "timestamp": UPDATED_AT, "organization": "acme",
                      "data": {"id": 7, "provider": "twilio", "auth_token_last4": "3210"}}],
            "next_after": "evt_2f7b0c9e5d4a4c1b"})
        }
        _ => return None,
    })
}

/// The example of a standard error answer (`components.responses`), by name.
pub(crate) fn error(name: &str) -> Value {
    let (status, code, message) = match name {
        "BadRequest" => (400, "validation_error", "Invalid request."),
        "Unauthorized" => (401, "invalid_token", "Invalid token."),
        "Forbidden" => (
            403,
            "permission_denied",
            "You do not have permission to perform this action.",
        ),
        "NotFound" => (404, "not_found", "Not found."),
        "Conflict" => (
            409,
            "conflict",
            "This provider configuration is connected to bridge numbers; disconnect them first.",
        ),
        "PreconditionFailed" => (
            412,
            "precondition_failed",
            "The resource has changed since it was read.",
        ),
        "RequestTimeout" => (
            408,
            "request_timeout",
            "The request body was not received in time.",
        ),
        "PayloadTooLarge" => (413, "payload_too_large", "Request body is too large."),
        "UnsupportedMediaType" => (
            415,
            "unsupported_media_type",
            "Content-Type must be application/json.",
        ),
        "IdempotencyKeyReused" => (
            422,
            "idempotency_key_reused",
            "Idempotency-Key was already used with a different request.",
        ),
        "TooManyRequests" => (429, "rate_limited", "Too many requests."),
        "Unavailable" => (503, "unavailable", "Service temporarily unavailable."),
        "BadGateway" => (
            502,
            "provider_error",
            "The provider's API failed or gave an answer that cannot be used; nothing was changed. Check the configuration's credentials, or try again later.",
        ),
        _ => (500, "internal_error", "Internal server error."),
    };
    let mut example = json!({"status_code": status, "message": message, "code": code});
    match status {
        400 => {
            example["errors"] = json!({"auth_token": ["must look like 32 hexadecimal characters"]});
        }
        409 => {
            example["data"] =
                json!({"connections": [{"bridge_slug": "front-desk", "number": "+14155550100"}]});
        }
        _ => {}
    }
    example
}
