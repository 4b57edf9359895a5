//! `POST /telephony/numbers/import/` (contract sections 11 and 16) on SQLite and
//! PostgreSQL, against the provider stand-in on loopback serving Twilio's
//! `IncomingPhoneNumbers.json` in pages of two (`next_page_uri`), Telnyx's
//! `phone_numbers` and Plivo's `Number` listings, checking basic or bearer
//! authentication.
//!
//! Two pages become numbers linked to the configuration; a second run adds none;
//! two runs at once add each number once; provider errors (500, 401, a body that is
//! not JSON, a timeout) answer 502 `provider_error` with no secret and nothing the
//! provider said; scopes, roles, organizations, inactive configurations and
//! providers without a listing are refused; the configuration can still be deleted;
//! the import is audited, recorded as `number.imported` events and counted in
//! `switchboard_credential_uses_total{kind="import"}`; the literal path is not the
//! `{id}` route.

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
    Answer, Backend, TestApp, TestDatabase, TestUser, on_both_backends, spawn_app_on, twilio_body,
    twilio_sid, twilio_token,
};

use crate::service_accounts::{robot, service_account};

const IMPORT: &str = "/telephony/numbers/import/";
const TIMEOUT_MS: u64 = 800;

/// Account 1's numbers: three E.164 numbers and a short code, two a page.
const ACCOUNT_ONE: [&str; 4] = ["+14155550101", "+14155550102", "55555", "+14155550103"];

const PLIVO_ID: &str = "MAXXXXXXXXXXXXXXXXXX";
const PLIVO_TOKEN: &str = "Zjc4YWQ0MTNhMTNhNjFkMTc2NmY5MmRmNzY5ZGVh";
const TELNYX_ACCOUNT: &str = "123e4567-e89b-12d3-a456-426614174000";
const TELNYX_KEY: &str = "KEY0123456789abcdefghijKLMN";

/// The stand-in's accounts: 1 with four numbers, 2 answering 500, 3 configured
/// here with a wrong token (401), 4 answering a body that is not JSON, 5 slower
/// than the timeout, 6 with two numbers (for concurrent runs); a Plivo and a Telnyx
/// account with two numbers each.
fn stand_in() -> StandIn {
    StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, &twilio_sid(1), &twilio_token(1))
            .numbers(&twilio_sid(1), &ACCOUNT_ONE)
            .fail(&twilio_sid(2), 500)
            .accept(Provider::Twilio, &twilio_sid(3), &twilio_token(30))
            .accept(Provider::Twilio, &twilio_sid(4), &twilio_token(4))
            .garble(&twilio_sid(4))
            .delay(&twilio_sid(5), Duration::from_millis(3000))
            .accept(Provider::Twilio, &twilio_sid(6), &twilio_token(6))
            .numbers(
                &twilio_sid(6),
                &["+14155550601", "+14155550602", "+14155550603"],
            )
            .accept(Provider::Plivo, PLIVO_ID, PLIVO_TOKEN)
            .numbers(PLIVO_ID, &["4930123401", "4930123402"])
            .accept(Provider::Telnyx, TELNYX_ACCOUNT, TELNYX_KEY)
            .numbers(TELNYX_ACCOUNT, &["+13125550701", "+13125550702"]),
    )
}

async fn app_with(backend: Backend, stand_in: &StandIn) -> TestApp {
    let base_url = stand_in.base_url.clone();
    spawn_app_on(TestDatabase::new(backend), move |settings| {
        settings.verify.twilio_base_url = base_url.clone();
        settings.verify.plivo_base_url = base_url.clone();
        settings.verify.telnyx_base_url = base_url;
        settings.verify.timeout_ms = TIMEOUT_MS;
    })
    .await
}

async fn import(app: &TestApp, user: &TestUser, body: &Value) -> Answer {
    app.call(
        Method::POST,
        IMPORT,
        Some(&user.token),
        Some(&user.org),
        Some(body),
        &[],
    )
    .await
}

async fn config(app: &TestApp, owner: &TestUser, body: &Value) -> i64 {
    let created = app.create_config(owner, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["data"]["id"].as_i64().expect("id")
}

/// The organization's numbers by number: `(provider_config_id, state)`.
async fn numbers(app: &TestApp, user: &TestUser) -> Vec<(String, Value, String)> {
    let listed = app.list_numbers(user, "?page_size=100").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let mut numbers: Vec<(String, Value, String)> = listed.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|number| {
            (
                number["number"].as_str().expect("number").to_owned(),
                number["provider_config_id"].clone(),
                number["state"].as_str().expect("state").to_owned(),
            )
        })
        .collect();
    numbers.sort_by(|a, b| a.0.cmp(&b.0));
    numbers
}

/// The value of `switchboard_credential_uses_total{kind="import"}` (0 when absent).
async fn import_uses(app: &TestApp) -> f64 {
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix("switchboard_credential_uses_total{kind=\"import\"} ")
                .and_then(|value| value.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

async fn two_pages_become_linked_numbers_once(backend: Backend) {
    let stand_in = stand_in();
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, &twilio_body(1)).await;
    // A number the organization has already: counted as existing, left unlinked.
    assert_eq!(app.add_number(&owner, "+14155550102").await.status, 201);
    let account = service_account(&app, &owner, "member").await;
    let provisioner = robot(&app, &owner, account, &["bridges:write", "bridges:read"]).await;
    let uses_before = import_uses(&app).await;

    let first = import(&app, &provisioner, &json!({"provider_config_id": id})).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["message"], "Numbers imported successfully.");
    let data = &first.body["data"];
    assert_eq!(
        (&data["imported"], &data["existing"], &data["skipped"]),
        (&json!(2), &json!(1), &json!(1)),
        "{}",
        first.text
    );
    let listed: Vec<(&str, bool)> = data["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .map(|number| {
            (
                number["number"].as_str().expect("number"),
                number["imported"].as_bool().expect("flag"),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("+14155550101", true),
            ("+14155550102", false),
            ("+14155550103", true)
        ]
    );
    assert!(!first.text.contains(&twilio_token(1)));
    // Two pages, each with the account's basic authentication.
    let pages: Vec<_> = stand_in
        .requests()
        .into_iter()
        .filter(|request| request.path.contains("/IncomingPhoneNumbers.json"))
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[1].path.contains("Page=1"), "{pages:?}");
    for page in &pages {
        assert!(
            page.authorization
                .as_deref()
                .is_some_and(|value| value.starts_with("Basic ")),
            "{page:?}"
        );
    }
    assert_eq!(
        numbers(&app, &owner).await,
        [
            (
                "+14155550101".to_owned(),
                json!(id),
                "NOT_ASSIGNED".to_owned()
            ),
            (
                "+14155550102".to_owned(),
                Value::Null,
                "NOT_ASSIGNED".to_owned()
            ),
            (
                "+14155550103".to_owned(),
                json!(id),
                "NOT_ASSIGNED".to_owned()
            ),
        ]
    );

    // A second run adds nothing.
    let second = import(&app, &owner, &json!({"provider_config_id": id.to_string()})).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(
        (
            &second.body["data"]["imported"],
            &second.body["data"]["existing"]
        ),
        (&json!(0), &json!(3))
    );
    assert_eq!(numbers(&app, &owner).await.len(), 3);
    assert!(import_uses(&app).await >= uses_before + 2.0);

    // Audited (with the token, without a secret), and one number.imported event
    // per created number.
    let audit = app.audit_events(&owner, "?action=numbers_imported").await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert_eq!(audit.body["count"], 2, "{}", audit.text);
    let counts: Vec<(Value, Value)> = audit.body["data"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| {
            assert_eq!(event["provider_config_id"], json!(id));
            (
                event["changes"]["imported"].clone(),
                event["changes"]["existing"].clone(),
            )
        })
        .collect();
    assert!(counts.contains(&(json!(2), json!(1))), "{counts:?}");
    assert!(counts.contains(&(json!(0), json!(3))), "{counts:?}");
    assert!(!audit.text.contains(&twilio_token(1)));
    let events = app
        .call(
            Method::GET,
            "/events/?limit=100",
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    let imported: Vec<&Value> = events.body["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["type"] == "number.imported")
        .collect();
    assert_eq!(imported.len(), 2, "{}", events.text);
    for event in imported {
        assert_eq!(event["data"]["provider_config_id"], json!(id));
        assert_eq!(event["data"]["state"], "NOT_ASSIGNED");
    }
    assert!(!events.text.contains(&twilio_token(1)));

    // A link never blocks a delete: the numbers stay, unlinked.
    let deleted = app.delete_config(&owner, id).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(
        numbers(&app, &owner)
            .await
            .iter()
            .all(|(_, config, _)| config.is_null())
    );
    assert_eq!(numbers(&app, &owner).await.len(), 3);
}

async fn provider_errors_are_502_without_secrets(backend: Backend) {
    let stand_in = stand_in();
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    // 500, a wrong token (401), not JSON, slower than the timeout.
    for (n, token) in [
        (2, twilio_token(2)),
        (3, twilio_token(3)),
        (4, twilio_token(4)),
        (5, twilio_token(5)),
    ] {
        let id = config(
            &app,
            &owner,
            &json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": token}),
        )
        .await;
        let answer = import(&app, &owner, &json!({"provider_config_id": id})).await;
        assert_eq!(answer.status, 502, "account {n}: {}", answer.text);
        assert_eq!(answer.body["code"], "provider_error");
        assert_eq!(answer.body["status_code"], 502);
        for leak in [
            token.as_str(),
            "Authenticate",
            "20003",
            "stand-in",
            "not JSON",
            "Internal Server Error",
        ] {
            assert!(!answer.text.contains(leak), "{leak}: {}", answer.text);
        }
    }
    assert!(numbers(&app, &owner).await.is_empty(), "nothing imported");
    assert_eq!(
        app.audit_events(&owner, "?action=numbers_imported")
            .await
            .body["count"],
        0
    );
}

async fn access_is_checked(backend: Backend) {
    let stand_in = stand_in();
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, &twilio_body(1)).await;
    let body = json!({"provider_config_id": id});

    // A token without bridges:write, and a viewer: 403 before the provider is asked.
    let account = service_account(&app, &owner, "member").await;
    let user = robot(
        &app,
        &owner,
        account,
        &["bridges:read", "credentials:use", "configurations:write"],
    )
    .await;
    let refused = import(&app, &user, &body).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.body["code"], "permission_denied");
    let viewer = app.user_in("acme", Role::Viewer);
    assert_eq!(import(&app, &viewer, &body).await.status, 403);
    assert_eq!(stand_in.calls(), 0, "the provider was never asked");

    // Another organization's configuration, or an unknown one: 404.
    app.organization("beta");
    let stranger = app.user_in("beta", Role::Owner);
    let foreign = import(&app, &stranger, &body).await;
    assert_eq!(foreign.status, 404, "{}", foreign.text);
    assert_eq!(
        import(&app, &owner, &json!({"provider_config_id": 999_999}))
            .await
            .status,
        404
    );
    // Bodies: missing, wrong type, unknown field.
    for bad in [
        json!({}),
        json!({"provider_config_id": "x"}),
        json!({"provider_config_id": 0}),
        json!({"provider_config_id": id, "extra": 1}),
    ] {
        let answer = import(&app, &owner, &bad).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
        assert_eq!(answer.body["code"], "validation_error");
    }
    // A provider without a number listing: 400.
    let vonage = config(
        &app,
        &owner,
        &json!({"provider": "vonage", "account_sid": "abcdef12", "auth_token": "Abcdef1234567890"}),
    )
    .await;
    let unsupported = import(&app, &owner, &json!({"provider_config_id": vonage})).await;
    assert_eq!(unsupported.status, 400, "{}", unsupported.text);
    assert_eq!(unsupported.body["code"], "validation_error");
    // An inactive configuration: 409, like reveal.
    let inactive = app
        .patch_config(&owner, id, &json!({"active": false}))
        .await;
    assert_eq!(inactive.status, 200, "{}", inactive.text);
    let answer = import(&app, &owner, &body).await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.body["code"], "configuration_inactive");
    assert_eq!(stand_in.calls(), 0, "the provider was never asked");

    // The literal segment is not the {id} route: other methods are 405 naming
    // POST, and the {id} route still answers for numbers.
    for method in [Method::GET, Method::DELETE, Method::PATCH] {
        let answer = app
            .call(
                method.clone(),
                IMPORT,
                Some(&owner.token),
                Some("acme"),
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 405, "{method}: {}", answer.text);
        assert_eq!(answer.body["code"], "method_not_allowed");
        assert_eq!(answer.header("allow"), Some("POST"), "{method}");
    }
    let added = app.add_number(&owner, "+14155550199").await;
    let number = added.body["data"]["id"].as_i64().expect("id");
    assert_eq!(app.delete_number(&owner, number).await.status, 204);
    assert_eq!(app.delete_number(&owner, number).await.status, 404);
}

async fn concurrent_runs_add_each_number_once(backend: Backend) {
    let stand_in = stand_in();
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let id = config(&app, &owner, &twilio_body(6)).await;
    let body = json!({"provider_config_id": id});
    let (a, b, c) = tokio::join!(
        import(&app, &owner, &body),
        import(&app, &owner, &body),
        import(&app, &owner, &body)
    );
    let mut imported = 0;
    for answer in [&a, &b, &c] {
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(
            answer.body["data"]["imported"].as_u64().expect("count")
                + answer.body["data"]["existing"].as_u64().expect("count"),
            3
        );
        imported += answer.body["data"]["imported"].as_u64().expect("count");
    }
    assert_eq!(imported, 3, "each number created once");
    assert_eq!(numbers(&app, &owner).await.len(), 3);
}

async fn telnyx_and_plivo_numbers_are_imported(backend: Backend) {
    let stand_in = stand_in();
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let plivo = config(
        &app,
        &owner,
        &json!({"provider": "plivo", "account_sid": PLIVO_ID, "auth_token": PLIVO_TOKEN}),
    )
    .await;
    let telnyx = config(
        &app,
        &owner,
        &json!({"provider": "telnyx", "account_sid": TELNYX_ACCOUNT, "auth_token": TELNYX_KEY}),
    )
    .await;
    for id in [plivo, telnyx] {
        let answer = import(&app, &owner, &json!({"provider_config_id": id})).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["data"]["imported"], 2, "{}", answer.text);
        assert!(!answer.text.contains(PLIVO_TOKEN) && !answer.text.contains(TELNYX_KEY));
    }
    // Plivo writes numbers without their +: stored in E.164.
    assert_eq!(
        numbers(&app, &owner).await,
        [
            (
                "+13125550701".to_owned(),
                json!(telnyx),
                "NOT_ASSIGNED".to_owned()
            ),
            (
                "+13125550702".to_owned(),
                json!(telnyx),
                "NOT_ASSIGNED".to_owned()
            ),
            (
                "+4930123401".to_owned(),
                json!(plivo),
                "NOT_ASSIGNED".to_owned()
            ),
            (
                "+4930123402".to_owned(),
                json!(plivo),
                "NOT_ASSIGNED".to_owned()
            ),
        ]
    );
    // An imported number put on a bridge is connected there to its configuration
    // (the link is the connection): deleting that configuration is refused while
    // it stays, as for any connection; the other configuration's links never block.
    let listed = app.list_numbers(&owner, "?page_size=100").await;
    let on_bridge = listed.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|number| number["number"] == "+4930123401")
        .and_then(|number| number["id"].as_i64())
        .expect("imported number");
    let bridge = app
        .create_bridge(
            &owner,
            &json!({"name": "Berlin", "number_ids": [on_bridge]}),
        )
        .await;
    assert_eq!(bridge.status, 201, "{}", bridge.text);
    assert_eq!(
        bridge.body["data"]["numbers"][0]["provider_config_id"],
        json!(plivo)
    );
    assert_eq!(bridge.body["data"]["numbers"][0]["status"], "CONNECTED");
    let refused = app.delete_config(&owner, plivo).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(
        refused.body["data"]["connections"],
        json!([{"bridge_slug": "berlin", "number": "+4930123401"}])
    );
    assert_eq!(app.delete_config(&owner, telnyx).await.status, 204);
}

on_both_backends!(
    two_pages_become_linked_numbers_once,
    provider_errors_are_502_without_secrets,
    access_is_checked,
    concurrent_runs_add_each_number_once,
    telnyx_and_plivo_numbers_are_imported
);
