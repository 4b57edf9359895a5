//! Connecting and disconnecting a configuration is in its audit history (written in
//! the same transaction), and the bridge and number POSTs honour `Idempotency-Key`.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::json;
use switchboard_domain::identity::Role;
use switchboard_test_support::{Backend, on_both_backends, spawn_app, twilio_sid, twilio_token};

async fn connections_are_audited_and_posts_are_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let (token, org) = (Some(owner.token.as_str()), Some("acme"));
    let config = app
        .call(Method::POST, "/telephony/providers-configurations/", token, org, Some(&json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1)})), &[])
        .await;
    let config_id = config.body["data"]["id"].as_i64().expect("config");

    // A number added twice with one key: one number, the answer replayed.
    let number_body = json!({"number": "+14155550100"});
    let headers = [("Idempotency-Key", "number-1")];
    let first = app
        .call(
            Method::POST,
            "/telephony/numbers/",
            token,
            org,
            Some(&number_body),
            &headers,
        )
        .await;
    assert_eq!(first.status, 201);
    let again = app
        .call(
            Method::POST,
            "/telephony/numbers/",
            token,
            org,
            Some(&number_body),
            &headers,
        )
        .await;
    assert_eq!(again.status, 201, "replayed, not a 409 duplicate");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    let number_id = first.body["data"]["id"].as_i64().expect("number");

    let bridge = app
        .call(
            Method::POST,
            "/telephony/bridges/",
            token,
            org,
            Some(&json!({"name": "Front desk", "number_ids": [number_id]})),
            &[("Idempotency-Key", "bridge-1")],
        )
        .await;
    assert_eq!(bridge.status, 201);
    let replayed = app
        .call(
            Method::POST,
            "/telephony/bridges/",
            token,
            org,
            Some(&json!({"name": "Front desk", "number_ids": [number_id]})),
            &[("Idempotency-Key", "bridge-1")],
        )
        .await;
    assert_eq!(
        replayed.body["data"]["slug"], "front-desk",
        "no second bridge `front-desk-2`"
    );
    let mismatch = app
        .call(
            Method::POST,
            "/telephony/bridges/",
            token,
            org,
            Some(&json!({"name": "Other"})),
            &[("Idempotency-Key", "bridge-1")],
        )
        .await;
    assert_eq!(mismatch.status, 422);

    let connect = json!({"provider_config_id": config_id, "phone_number": "+14155550100"});
    for _ in 0..2 {
        let answer = app
            .call(
                Method::POST,
                "/telephony/bridges/front-desk/connect-provider/",
                token,
                org,
                Some(&connect),
                &[
                    ("Idempotency-Key", "connect-1"),
                    ("X-Request-Id", "req-connect"),
                ],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let answer = app
        .call(
            Method::POST,
            "/telephony/bridges/front-desk/disconnect-provider/",
            token,
            org,
            Some(&json!({"phone_number": "+14155550100"})),
            &[("X-Request-Id", "req-disconnect")],
        )
        .await;
    assert_eq!(answer.status, 200);

    let history = app
        .call(
            Method::GET,
            &format!("/telephony/providers-configurations/{config_id}/history/"),
            token,
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    let events = history.body["data"].as_array().expect("events");
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "connected").count(),
        1,
        "the replayed connect wrote no second event: {actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "disconnected").count(),
        1,
        "{actions:?}"
    );
    let connected = events
        .iter()
        .find(|e| e["action"] == "connected")
        .expect("connected event");
    assert_eq!(connected["request_id"], "req-connect");
    assert!(connected["changes"].to_string().contains("front-desk"));
    assert!(connected["changes"].to_string().contains("+14155550100"));
    assert!(!history.text.contains(&twilio_token(1)));
}

on_both_backends!(connections_are_audited_and_posts_are_idempotent);
