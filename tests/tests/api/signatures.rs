//! `POST .../{id}/signature-checks/` (contract section 11): a Twilio webhook
//! signature checked with the stored auth token, which never leaves the service.
//! The expected signatures were computed by Twilio's own library
//! (`tests/fixtures/twilio_signatures.json`, regenerated and diffed by
//! `scripts/reference/check.sh`): valid, a tampered parameter, a wrong URL.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestUser, on_both_backends, spawn_app, twilio_body, twilio_token,
};

use crate::service_accounts::{robot, service_account};

const FIXTURE: &str = include_str!("../../fixtures/twilio_signatures.json");

fn cases() -> Vec<Value> {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    fixture["cases"].as_array().expect("cases").clone()
}

pub(crate) async fn check(app: &TestApp, user: &TestUser, id: i64, body: &Value) -> Answer {
    app.call(
        Method::POST,
        &format!("/telephony/providers-configurations/{id}/signature-checks/"),
        Some(&user.token),
        Some(&user.org),
        Some(body),
        &[],
    )
    .await
}

async fn twilio_signatures_from_twilios_library_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let created = app.create_config(&owner, &twilio_body(7)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("id");
    let account = service_account(&app, &owner, "member").await;
    let runtime = robot(&app, &owner, account, &["credentials:use"]).await;

    for case in cases() {
        let name = case["name"].as_str().expect("name");
        assert_eq!(
            case["auth_token"],
            twilio_token(7),
            "fixture of another token"
        );
        let body =
            json!({"url": case["url"], "params": case["params"], "signature": case["signature"]});
        let valid = check(&app, &runtime, id, &body).await;
        assert_eq!(valid.status, 200, "{name}: {}", valid.text);
        assert_eq!(
            valid.body["data"],
            json!({"valid": true, "matched": "current"}),
            "{name}"
        );
        assert!(!valid.text.contains(&twilio_token(7)));

        // A tampered parameter, an added one, a wrong URL, a wrong signature.
        let mut tampered = body.clone();
        match tampered["params"]
            .as_object_mut()
            .expect("params")
            .iter_mut()
            .next()
        {
            Some((_, value)) => *value = json!(format!("{}0", value.as_str().expect("text"))),
            None => tampered["params"]["Extra"] = json!("1"),
        }
        let mut wrong_url = body.clone();
        wrong_url["url"] = json!(format!("{}/", case["url"].as_str().expect("url")));
        let mut wrong_signature = body.clone();
        wrong_signature["signature"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        for refused in [tampered, wrong_url, wrong_signature] {
            let answer = check(&app, &runtime, id, &refused).await;
            assert_eq!(answer.status, 200, "{name}: {}", answer.text);
            assert_eq!(
                answer.body["data"],
                json!({"valid": false, "matched": null}),
                "{name}: {refused}"
            );
        }
    }

    // Without credentials:use (a reader), or as a viewer: 403.
    let reader = robot(&app, &owner, account, &["configurations:read"]).await;
    let case = &cases()[0];
    let body =
        json!({"url": case["url"], "params": case["params"], "signature": case["signature"]});
    assert_eq!(check(&app, &reader, id, &body).await.status, 403);
    let viewer = app.user_in("acme", Role::Viewer);
    assert_eq!(check(&app, &viewer, id, &body).await.status, 403);
    // The same configuration in another organization's hands: 404.
    app.organization("beta");
    let stranger = app.user_in("beta", Role::Owner);
    assert_eq!(check(&app, &stranger, id, &body).await.status, 404);
}

async fn other_providers_and_bad_bodies_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let plivo = app
        .create_config(
            &owner,
            &json!({"provider": "plivo", "account_sid": "MAXXXXXXXXXXXXXXXXXX",
                    "auth_token": "Zjc4YWQ0MTNhMTNhNjFkMTc2NmY5MmRmNzY5ZGVh"}),
        )
        .await;
    assert_eq!(plivo.status, 201, "{}", plivo.text);
    let plivo = plivo.body["data"]["id"].as_i64().expect("id");
    let twilio = app.create_config(&owner, &twilio_body(8)).await;
    let twilio = twilio.body["data"]["id"].as_i64().expect("id");
    let body = json!({"url": "https://x.test/", "params": {}, "signature": "abc="});
    let refused = check(&app, &owner, plivo, &body).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    for bad in [
        json!({"url": "https://x.test/", "params": {"a": 1}, "signature": "abc="}),
        json!({"url": "https://x.test/", "params": {}}),
        json!({"params": {}, "signature": "abc="}),
        json!({"url": "https://x.test/", "signature": "abc=", "auth_token": "x"}),
    ] {
        let answer = check(&app, &owner, twilio, &bad).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
    }
    // Repeated parameters are lists of values.
    let repeated =
        json!({"url": "https://x.test/", "params": {"a": ["1", "2"]}, "signature": "abc="});
    let answer = check(&app, &owner, twilio, &repeated).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["data"]["valid"], false);
}

on_both_backends!(
    twilio_signatures_from_twilios_library_are_checked,
    other_providers_and_bad_bodies_are_400
);
