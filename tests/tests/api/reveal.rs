//! `POST .../{id}/reveal/` (contract section 11): only with `credentials:reveal`
//! (owners and admins, or service accounts of role member and above), audited
//! before the secret leaves, `Cache-Control: no-store`, never for an inactive
//! configuration, another organization's id is 404, limited per token, counted, and
//! never stored for `Idempotency-Key`.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::json;
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, TestUser, on_both_backends, spawn_app, spawn_app_on,
    twilio_body, twilio_sid, twilio_token,
};

use crate::service_accounts::{robot, service_account};

/// A token of `user` with `scopes`, as a [`TestUser`].
pub(crate) async fn scoped(app: &TestApp, user: &TestUser, scopes: &[&str]) -> TestUser {
    let answer = app
        .create_token(user, &json!({"name": "scoped", "scopes": scopes}))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    TestUser {
        token: answer.body["data"]["token"]
            .as_str()
            .expect("token")
            .to_owned(),
        ..user.clone()
    }
}

pub(crate) async fn reveal(app: &TestApp, user: &TestUser, id: i64) -> Answer {
    reveal_with(app, user, id, &[]).await
}

async fn reveal_with(app: &TestApp, user: &TestUser, id: i64, headers: &[(&str, &str)]) -> Answer {
    app.call(
        Method::POST,
        &format!("/telephony/providers-configurations/{id}/reveal/"),
        Some(&user.token),
        Some(&user.org),
        None,
        headers,
    )
    .await
}

async fn config(app: &TestApp, owner: &TestUser, n: u32) -> i64 {
    let created = app.create_config(owner, &twilio_body(n)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["data"]["id"].as_i64().expect("id")
}

async fn only_reveal_scopes_reveal_and_each_reveal_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, 1).await;
    let revealer = scoped(&app, &owner, &["credentials:reveal"]).await;
    let answer = reveal_with(&app, &revealer, id, &[("X-Request-Id", "reveal-req-1")]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let data = &answer.body["data"];
    assert_eq!(data["id"], id);
    assert_eq!(data["provider"], "twilio");
    assert!(data["version"].as_i64().is_some_and(|v| v >= 1));
    assert_eq!(data["credentials"]["account_sid"], twilio_sid(1));
    assert_eq!(data["credentials"]["auth_token"], twilio_token(1));
    assert!(data["previous"].is_null());

    // The audit event names the token, the request and the client address, and
    // never the secret.
    let events = app
        .audit_events(&owner, "?action=credentials_revealed")
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    assert_eq!(events.body["count"], 1, "{}", events.text);
    let event = &events.body["data"][0];
    assert_eq!(event["provider_config_id"], id);
    assert_eq!(event["request_id"], "reveal-req-1");
    assert_eq!(event["changes"]["client_address"], "127.0.0.1");
    let tokens = app.list_tokens(&owner).await;
    let token_id = tokens.body["data"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|token| token["scopes"] == json!(["credentials:reveal"]))
        .expect("the revealing token")["id"]
        .clone();
    assert_eq!(event["token_id"], token_id);
    assert!(event["user_id"].is_i64());
    assert!(!events.text.contains(&twilio_token(1)));

    // Without the scope: the owner's own unnarrowed token, a member's login token.
    let refused = reveal(&app, &owner, id).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.body["code"], "permission_denied");
    let member = app.user_in("acme", Role::Member);
    let login = app
        .login(&member.email, switchboard_test_support::PASSWORD)
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let member_login = TestUser {
        token: login.body["data"]["token"]
            .as_str()
            .expect("token")
            .to_owned(),
        ..member.clone()
    };
    for user in [&member, &member_login] {
        let refused = reveal(&app, user, id).await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert!(!refused.text.contains(&twilio_token(1)));
    }
    // Only the one reveal was audited.
    let events = app
        .audit_events(&owner, "?action=credentials_revealed")
        .await;
    assert_eq!(events.body["count"], 1, "{}", events.text);
}

async fn service_accounts_reveal_only_with_the_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("beta");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, 2).await;
    let account = service_account(&app, &owner, "member").await;
    let user = robot(
        &app,
        &owner,
        account,
        &["credentials:use", "configurations:read"],
    )
    .await;
    let refused = reveal(&app, &user, id).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let revealer = robot(&app, &owner, account, &["credentials:reveal"]).await;
    let answer = reveal(&app, &revealer, id).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body["data"]["credentials"]["auth_token"],
        twilio_token(2)
    );

    // Another organization's revealer gets 404 for this id.
    let stranger = app.user_in("beta", Role::Owner);
    let stranger = scoped(&app, &stranger, &["credentials:reveal"]).await;
    let foreign = reveal(&app, &stranger, id).await;
    assert_eq!(foreign.status, 404, "{}", foreign.text);
    assert!(!foreign.text.contains(&twilio_token(2)));
    // ... and 403 naming this organization.
    let foreign = app
        .call(
            Method::POST,
            &format!("/telephony/providers-configurations/{id}/reveal/"),
            Some(&stranger.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(foreign.status, 403, "{}", foreign.text);
}

async fn inactive_configurations_are_never_revealed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, 3).await;
    let patched = app
        .patch_config(&owner, id, &json!({"active": false}))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let revealer = scoped(&app, &owner, &["credentials:reveal"]).await;
    let refused = reveal(&app, &revealer, id).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.body["code"], "configuration_inactive");
    assert!(!refused.text.contains(&twilio_token(3)));
    let missing = reveal(&app, &revealer, id + 1000).await;
    assert_eq!(missing.status, 404, "{}", missing.text);
}

async fn reveals_are_never_stored_for_idempotency_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, 4).await;
    let revealer = scoped(&app, &owner, &["credentials:reveal"]).await;
    for _ in 0..2 {
        let answer = reveal_with(&app, &revealer, id, &[("Idempotency-Key", "same-key")]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    // Each was a reveal of its own.
    let events = app
        .audit_events(&owner, "?action=credentials_revealed")
        .await;
    assert_eq!(events.body["count"], 2, "{}", events.text);
}

async fn secret_uses_have_their_own_limit_per_token(backend: Backend) {
    let app = spawn_app_on(TestDatabase::new(backend), |settings| {
        settings.rate_limit.secret_use_per_second = 1;
        settings.rate_limit.secret_use_burst = 2;
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, 5).await;
    let revealer = scoped(&app, &owner, &["credentials:reveal"]).await;
    let other = scoped(&app, &owner, &["credentials:reveal"]).await;
    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(reveal(&app, &revealer, id).await.status);
        }
        statuses
    };
    assert_eq!(&statuses[..2], &[200, 200]);
    let limited = reveal(&app, &revealer, id).await;
    assert_eq!(limited.status, 429, "{statuses:?} {}", limited.text);
    assert_eq!(limited.body["code"], "rate_limited");
    assert!(limited.header("retry-after").is_some());
    assert!(!limited.text.contains(&twilio_token(5)));
    // Other requests of that token still pass; another token has its own bucket.
    assert_eq!(app.get_config(&owner, id).await.status, 200);
    assert_eq!(reveal(&app, &other, id).await.status, 200);

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("switchboard_credential_uses_total{kind=\"reveal\"}")),
        "{metrics}"
    );
    assert!(!metrics.contains(&twilio_token(5)));
}

/// A configuration with several secrets reveals every field, and its version is
/// the credential version (it moves with a secret, not with a rename).
async fn every_field_of_a_multi_secret_configuration_is_revealed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let created = app
        .create_config(
            &owner,
            &json!({"provider": "twilio", "account_sid": twilio_sid(6), "auth_token": twilio_token(6),
                    "api_key_sid": "SK00000000000000000000000000000006",
                    "api_key_secret": "ApiKeySecretOfTheSixthConfig0006"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("id");
    let account = service_account(&app, &owner, "member").await;
    let revealer = robot(&app, &owner, account, &["credentials:reveal"]).await;
    let answer = reveal(&app, &revealer, id).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let credentials = &answer.body["data"]["credentials"];
    assert_eq!(credentials["account_sid"], twilio_sid(6));
    assert_eq!(credentials["auth_token"], twilio_token(6));
    assert_eq!(
        credentials["api_key_sid"],
        "SK00000000000000000000000000000006"
    );
    assert_eq!(
        credentials["api_key_secret"],
        "ApiKeySecretOfTheSixthConfig0006"
    );
    assert_eq!(answer.body["data"]["version"], 1);
    let renamed = app
        .patch_config(&owner, id, &json!({"name": "renamed"}))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(reveal(&app, &revealer, id).await.body["data"]["version"], 1);
    let rotated = app
        .patch_config(
            &owner,
            id,
            &json!({"api_key_secret": "ANewApiKeySecretForTheSixth00006"}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let answer = reveal(&app, &revealer, id).await;
    assert_eq!(answer.body["data"]["version"], 2, "{}", answer.text);
    assert_eq!(
        answer.body["data"]["credentials"]["api_key_secret"],
        "ANewApiKeySecretForTheSixth00006"
    );
    assert_eq!(
        answer.body["data"]["credentials"]["auth_token"],
        twilio_token(6)
    );
}

on_both_backends!(
    every_field_of_a_multi_secret_configuration_is_revealed,
    only_reveal_scopes_reveal_and_each_reveal_is_audited,
    service_accounts_reveal_only_with_the_scope,
    inactive_configurations_are_never_revealed,
    reveals_are_never_stored_for_idempotency_keys,
    secret_uses_have_their_own_limit_per_token
);
