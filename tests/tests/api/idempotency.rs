//! End-to-end tests of `Idempotency-Key` (contract section 1) on SQLite and
//! PostgreSQL: replay without a second write, 422 for another body, 409 while the
//! first request runs, independence across organizations and tokens, the order of
//! errors, and malformed keys.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::stand_in::{Provider, StandIn, StandInConfig};
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, on_both_backends, spawn_app, spawn_app_on, twilio_sid,
    twilio_token,
};

const CONFIGS: &str = "/telephony/providers-configurations/";

fn twilio_body(n: u32) -> Value {
    json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": twilio_token(n)})
}

async fn post(app: &TestApp, token: &str, org: &str, key: &str, body: &Value) -> Answer {
    app.call(
        Method::POST,
        CONFIGS,
        Some(token),
        Some(org),
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

async fn count(app: &TestApp, token: &str, org: &str) -> u64 {
    let answer = app
        .call(Method::GET, CONFIGS, Some(token), Some(org), None, &[])
        .await;
    assert_eq!(answer.status, 200);
    answer.body["count"].as_u64().expect("count")
}

async fn replay_mismatch_and_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);

    // The first answer, then the same answer again without a second write.
    let first = post(&app, &owner.token, "acme", "create-1", &twilio_body(1)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    // Same object, other key order and spacing: the same request.
    let reordered: Value = serde_json::from_str(&format!(
        r#"{{ "auth_token" : "{}", "account_sid":"{}", "provider": "twilio" }}"#,
        twilio_token(1),
        twilio_sid(1)
    ))
    .expect("json");
    let again = post(&app, &owner.token, "acme", "create-1", &reordered).await;
    assert_eq!(again.status, 201);
    assert_eq!(
        again.text, first.text,
        "the stored body is replayed byte for byte"
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(
        again.header("content-type"),
        Some("application/json"),
        "{:?}",
        again.headers
    );
    assert!(again.header("x-request-id").is_some());
    assert_eq!(count(&app, &owner.token, "acme").await, 1);

    // The same key with another body: 422, and nothing written.
    let other = post(&app, &owner.token, "acme", "create-1", &twilio_body(2)).await;
    assert_eq!(other.status, 422);
    assert_eq!(
        other.text,
        r#"{"status_code":422,"message":"Idempotency-Key was already used with a different request.","code":"idempotency_key_reused"}"#
    );
    assert_eq!(count(&app, &owner.token, "acme").await, 1);

    // Errors of shape come first (400), even with a reused key.
    let malformed = post(
        &app,
        &owner.token,
        "acme",
        "create-1",
        &json!({"provider": "twilio", "account_sid": "nope", "auth_token": twilio_token(2)}),
    )
    .await;
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    let unknown_field = post(
        &app,
        &owner.token,
        "acme",
        "create-1",
        &json!({"colour": 1}),
    )
    .await;
    assert_eq!(unknown_field.status, 400);

    // ...and the key check before the role (403): a viewer reusing a key is 422.
    let viewer = app.user_in("acme", Role::Viewer);
    let denied = post(&app, &viewer.token, "acme", "v-1", &twilio_body(3)).await;
    assert_eq!(denied.status, 403);
    let denied_again = post(&app, &viewer.token, "acme", "v-1", &twilio_body(3)).await;
    assert_eq!(denied_again.status, 403);
    assert_eq!(denied_again.header("idempotent-replayed"), Some("true"));
    let reused = post(&app, &viewer.token, "acme", "v-1", &twilio_body(4)).await;
    assert_eq!(reused.status, 422);

    // A stored conflict is replayed too: the answer a key got is its answer.
    let duplicate = post(&app, &owner.token, "acme", "dup-1", &twilio_body(1)).await;
    assert_eq!(duplicate.status, 409);
    let duplicate_again = post(&app, &owner.token, "acme", "dup-1", &twilio_body(1)).await;
    assert_eq!(duplicate_again.status, 409);
    assert_eq!(duplicate_again.text, duplicate.text);

    // Without a key, every POST runs.
    let plain = app.create_config(&owner, &twilio_body(5)).await;
    assert_eq!(plain.status, 201);
    assert_eq!(plain.header("idempotent-replayed"), None);

    // Keys: 1 to 255 printable ASCII characters, one header.
    for bad in ["k".repeat(256), "tab\tkey".to_owned()] {
        let answer = post(&app, &owner.token, "acme", &bad, &twilio_body(6)).await;
        assert_eq!(answer.status, 400, "{bad:?}");
        assert_eq!(
            answer.body["errors"]["non_field_errors"][0],
            "Idempotency-Key must be 1 to 255 printable ASCII characters."
        );
    }
    let longest = post(
        &app,
        &owner.token,
        "acme",
        &"k".repeat(255),
        &twilio_body(6),
    )
    .await;
    assert_eq!(longest.status, 201);
    let answer = app
        .client
        .post(app.api(CONFIGS))
        .header("Authorization", format!("Token {}", owner.token))
        .header("Org-Handle", "acme")
        .header("Idempotency-Key", "a")
        .header("Idempotency-Key", "b")
        .json(&twilio_body(7))
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 400);

    // Authentication and organization checks come before the key.
    let answer = post(&app, "not-a-token", "acme", "create-1", &twilio_body(1)).await;
    assert_eq!(answer.status, 401);
    let answer = post(&app, &owner.token, "other-org", "create-1", &twilio_body(1)).await;
    assert_eq!(answer.status, 403);
    assert_eq!(count(&app, &owner.token, "acme").await, 3);
}

async fn keys_are_scoped_to_organization_and_token(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("globex");
    let owner = app.user_in("acme", Role::Owner);
    app.services
        .identity
        .add_member("globex", &owner.email, Role::Owner)
        .expect("member");

    // One token, one key, two organizations: two independent requests.
    let in_acme = post(&app, &owner.token, "acme", "shared-key", &twilio_body(1)).await;
    let in_globex = post(&app, &owner.token, "globex", "shared-key", &twilio_body(1)).await;
    assert_eq!((in_acme.status, in_globex.status), (201, 201));
    assert_eq!(in_globex.header("idempotent-replayed"), None);
    assert_ne!(in_acme.body["data"]["id"], in_globex.body["data"]["id"]);
    assert_eq!(in_globex.body["data"]["org_handle"], "globex");
    // A different body under the same key in the other organization is no reuse.
    let globex_other = post(&app, &owner.token, "globex", "other-key", &twilio_body(2)).await;
    assert_eq!(globex_other.status, 201);
    let acme_other = post(&app, &owner.token, "acme", "other-key", &twilio_body(3)).await;
    assert_eq!(acme_other.status, 201);

    // Another token of the same user has keys of its own.
    let second = app
        .services
        .identity
        .issue_token(&owner.email, "second", None)
        .expect("token");
    let second = second.token.expose().to_owned();
    let with_second = post(&app, &second, "acme", "shared-key", &twilio_body(4)).await;
    assert_eq!(with_second.status, 201);
    assert_eq!(with_second.header("idempotent-replayed"), None);
    assert_eq!(count(&app, &owner.token, "acme").await, 3);
    assert_eq!(count(&app, &owner.token, "globex").await, 2);
}

async fn a_key_in_flight_is_409(backend: Backend) {
    let database = TestDatabase::new(backend);
    // A provider that answers after 2 s: the verify request holds its key that long.
    let stand_in = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, &twilio_sid(1), &twilio_token(1))
            .delay(&twilio_sid(1), Duration::from_millis(2000)),
    );
    let base_url = stand_in.base_url.clone();
    let app = spawn_app_on(database, move |settings| {
        settings.verify.twilio_base_url = base_url;
        settings.verify.timeout_ms = 5000;
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let created = app.create_config(&owner, &twilio_body(1)).await;
    assert_eq!(created.status, 201);
    let verify = format!("{CONFIGS}{}/verify/", created.body["data"]["id"]);

    let first = {
        let (client, url, token) = (app.client.clone(), app.api(&verify), owner.token.clone());
        tokio::spawn(async move {
            let response = client
                .post(url)
                .header("Authorization", format!("Token {token}"))
                .header("Org-Handle", "acme")
                .header("Idempotency-Key", "verify-1")
                .send()
                .await
                .expect("sent");
            Answer::from(response).await
        })
    };
    // Wait until the stand-in has the first call, then try the same key again.
    for _ in 0..100 {
        if stand_in.calls() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stand_in.calls(), 1);
    let busy = app
        .call(
            Method::POST,
            &verify,
            Some(&owner.token),
            Some("acme"),
            None,
            &[("Idempotency-Key", "verify-1")],
        )
        .await;
    assert_eq!(busy.status, 409, "{}", busy.text);
    assert_eq!(busy.body["code"], "conflict");
    assert_eq!(
        busy.body["message"],
        "A request with this Idempotency-Key is still being processed."
    );

    let first = first.await.expect("joined");
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["data"]["verification"]["status"], "valid");
    // Once done, the key replays the answer without calling the provider again.
    let replayed = app
        .call(
            Method::POST,
            &verify,
            Some(&owner.token),
            Some("acme"),
            None,
            &[("Idempotency-Key", "verify-1")],
        )
        .await;
    assert_eq!(replayed.status, 200);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.text, first.text);
    assert_eq!(stand_in.calls(), 1);
    stand_in.stop().await;
}

on_both_backends!(
    replay_mismatch_and_errors,
    keys_are_scoped_to_organization_and_token,
    a_key_in_flight_is_409,
);
