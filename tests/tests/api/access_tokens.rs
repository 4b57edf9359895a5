//! `POST .../{id}/access-tokens/` (contract section 11): a service account with
//! `credentials:use` mints a LiveKit access token from the stored key and secret
//! (right identity, room, grants and expiry; HS256 under the stored secret), the
//! secret never shown. LiveKit's own verifier checks the minted token in
//! `reference_livekit_accepts_minted_tokens` (ignored; `scripts/reference/check.sh`).

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestUser, on_both_backends, spawn_app, twilio_body,
};

use crate::service_accounts::{robot, service_account};

const API_KEY: &str = "APIlivekit0001";
const API_SECRET: &str = "livekit-api-secret-of-at-least-32-chars";

pub(crate) async fn mint(app: &TestApp, user: &TestUser, id: i64, body: &Value) -> Answer {
    app.call(
        Method::POST,
        &format!("/telephony/providers-configurations/{id}/access-tokens/"),
        Some(&user.token),
        Some(&user.org),
        Some(body),
        &[],
    )
    .await
}

pub(crate) async fn livekit_config(app: &TestApp, owner: &TestUser) -> i64 {
    let created = app
        .create_config(
            owner,
            &json!({"provider": "livekit", "account_sid": API_KEY, "auth_token": API_SECRET}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["data"]["id"].as_i64().expect("id")
}

fn claims(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    (decode(parts[0]), decode(parts[1]))
}

async fn service_accounts_mint_livekit_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = livekit_config(&app, &owner).await;
    let account = service_account(&app, &owner, "member").await;
    let runtime = robot(&app, &owner, account, &["credentials:use"]).await;

    let answer = mint(
        &app,
        &runtime,
        id,
        &json!({"identity": "agent-7", "room": "call-42", "name": "Agent Seven",
                "ttl_seconds": 900, "grants": {"can_publish_data": false}}),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(!answer.text.contains(API_SECRET));
    let token = answer.body["data"]["token"].as_str().expect("token");
    let (header, body) = claims(token);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(body["iss"], API_KEY);
    assert_eq!(body["sub"], "agent-7");
    assert_eq!(body["name"], "Agent Seven");
    assert_eq!(
        body["video"],
        json!({"roomJoin": true, "room": "call-42", "canPublish": true,
               "canSubscribe": true, "canPublishData": false})
    );
    let nbf = body["nbf"].as_i64().expect("nbf");
    assert_eq!(body["exp"].as_i64().expect("exp") - nbf, 900);
    let expires_at = answer.body["data"]["expires_at"].as_str().expect("expiry");
    assert!(expires_at.ends_with('Z'));

    // The default lifetime is 600 seconds.
    let answer = mint(&app, &runtime, id, &json!({"identity": "a", "room": "r"})).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let (_, body) = claims(answer.body["data"]["token"].as_str().expect("token"));
    assert_eq!(
        body["exp"].as_i64().expect("exp") - body["nbf"].as_i64().expect("nbf"),
        600
    );

    // Bad requests: lifetimes out of range, no room, unknown grants, no identity.
    for bad in [
        json!({"identity": "a", "room": "r", "ttl_seconds": 59}),
        json!({"identity": "a", "room": "r", "ttl_seconds": 21_601}),
        json!({"identity": "a"}),
        json!({"identity": "a", "room": "r", "grants": {"room_admin": true}}),
        json!({"identity": "a", "room": "r", "grants": {"can_publish": "yes"}}),
        json!({"room": "r"}),
        json!({"identity": "", "room": "r"}),
        json!({"identity": "a", "room": "r", "api_secret": "x"}),
    ] {
        let answer = mint(&app, &runtime, id, &bad).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
    }

    // Twilio configurations without an API key: 400 (with one: below). No scope:
    // 403. Viewer: 403.
    let twilio = app.create_config(&owner, &twilio_body(9)).await;
    let twilio = twilio.body["data"]["id"].as_i64().expect("id");
    let answer = mint(
        &app,
        &runtime,
        twilio,
        &json!({"identity": "a", "room": "r"}),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let reader = robot(&app, &owner, account, &["configurations:read"]).await;
    let answer = mint(&app, &reader, id, &json!({"identity": "a", "room": "r"})).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    let viewer = app.user_in("acme", Role::Viewer);
    let answer = mint(&app, &viewer, id, &json!({"identity": "a", "room": "r"})).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    // Another organization: 404.
    app.organization("beta");
    let stranger = app.user_in("beta", Role::Owner);
    let answer = mint(&app, &stranger, id, &json!({"identity": "a", "room": "r"})).await;
    assert_eq!(answer.status, 404, "{}", answer.text);
}

/// Twilio configurations holding an API key mint Twilio Access Tokens with a Voice
/// grant, body `{"identity", "ttl_seconds"?}`.
async fn twilio_configurations_with_an_api_key_mint_voice_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let secret = "TwilioApiKeySecretOf32Characters";
    let created = app
        .create_config(
            &owner,
            &json!({"provider": "twilio", "account_sid": "AC00000000000000000000000000000042",
                    "auth_token": "00000000000000000000000000000042",
                    "api_key_sid": "SK00000000000000000000000000000042", "api_key_secret": secret}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("id");
    let account = service_account(&app, &owner, "member").await;
    let runtime = robot(&app, &owner, account, &["credentials:use"]).await;
    let answer = mint(
        &app,
        &runtime,
        id,
        &json!({"identity": "alice", "ttl_seconds": 3600}),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert!(!answer.text.contains(secret));
    let (header, body) = claims(answer.body["data"]["token"].as_str().expect("token"));
    assert_eq!(header["cty"], "twilio-fpa;v=1");
    assert_eq!(body["iss"], "SK00000000000000000000000000000042");
    assert_eq!(body["sub"], "AC00000000000000000000000000000042");
    assert_eq!(body["grants"]["identity"], "alice");
    assert_eq!(body["grants"]["voice"]["incoming"]["allow"], true);
    assert_eq!(
        body["exp"].as_i64().expect("exp") - body["nbf"].as_i64().expect("nbf"),
        3600
    );
}

on_both_backends!(
    service_accounts_mint_livekit_tokens,
    twilio_configurations_with_an_api_key_mint_voice_tokens
);

/// LiveKit's own verifier accepts a token minted through the route.
#[tokio::test]
#[ignore = "needs the reference venv: scripts/reference/check.sh"]
async fn reference_livekit_accepts_minted_tokens() {
    let python = std::env::var("SWITCHBOARD_REFERENCE_PYTHON")
        .expect("run scripts/reference/check.sh (it sets SWITCHBOARD_REFERENCE_PYTHON)");
    let app = spawn_app(Backend::Sqlite).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = livekit_config(&app, &owner).await;
    let account = service_account(&app, &owner, "member").await;
    let runtime = robot(&app, &owner, account, &["credentials:use"]).await;
    let answer = mint(
        &app,
        &runtime,
        id,
        &json!({"identity": "agent-7", "room": "call-42", "grants": {"can_publish": false}}),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let token = answer.body["data"]["token"].as_str().expect("token");
    let script = format!(
        "{}/../scripts/reference/providers.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let output = std::process::Command::new(python)
        .args([
            script.as_str(),
            "verify-livekit",
            API_KEY,
            API_SECRET,
            token,
            "agent-7",
            "call-42",
        ])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "LiveKit's verifier refused the token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let claims: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(claims["identity"], "agent-7");
    assert_eq!(claims["room"], "call-42");
    assert_eq!(claims["room_join"], true);
    assert_eq!(claims["can_publish"], false);
    assert_eq!(claims["can_subscribe"], true);
}
