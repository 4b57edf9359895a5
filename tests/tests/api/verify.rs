//! End-to-end tests of credential verification (contract section 6) on SQLite and
//! PostgreSQL, against a stand-in of Twilio's API started on loopback: a valid pair,
//! a wrong token, a provider slower than the timeout and one answering 500; the
//! stored `verification`, its audit event, `?verify=true` on create and PATCH, and
//! no token in any answer, event or log line (logs captured at trace level).

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::stand_in::{Provider, StandIn, StandInConfig};
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, on_both_backends, spawn_app_on, twilio_sid,
    twilio_token,
};

use crate::logs::log_buffer;

const CONFIGS: &str = "/telephony/providers-configurations/";
/// The server's verification timeout in these tests.
const TIMEOUT_MS: u64 = 800;

/// The stand-in's accounts: 1 valid, 2 valid but configured here with a wrong
/// token, 3 slower than the timeout, 4 broken (500).
fn stand_in() -> StandIn {
    StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, &twilio_sid(1), &twilio_token(1))
            .accept(Provider::Twilio, &twilio_sid(2), &twilio_token(20))
            .delay(&twilio_sid(3), Duration::from_millis(3000))
            .fail(&twilio_sid(4), 500)
            .accept(Provider::Twilio, &twilio_sid(5), &twilio_token(5))
            .accept(Provider::Twilio, &twilio_sid(6), &twilio_token(60)),
    )
}

async fn app_with(backend: Backend, stand_in: &StandIn) -> TestApp {
    let base_url = stand_in.base_url.clone();
    spawn_app_on(TestDatabase::new(backend), move |settings| {
        settings.verify.twilio_base_url = base_url;
        settings.verify.timeout_ms = TIMEOUT_MS;
    })
    .await
}

fn twilio(n: u32, token: &str) -> Value {
    json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": token})
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Answer {
    app.call(
        Method::POST,
        CONFIGS,
        Some(token),
        Some("acme"),
        Some(body),
        &[],
    )
    .await
}

async fn verify(app: &TestApp, token: &str, id: &Value) -> Answer {
    app.call(
        Method::POST,
        &format!("{CONFIGS}{id}/verify/"),
        Some(token),
        Some("acme"),
        None,
        &[],
    )
    .await
}

async fn outcomes_are_recorded(backend: Backend) {
    let logs = log_buffer();
    let stand_in = stand_in();
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let mut answers = Vec::new();

    let mut ids = Vec::new();
    for (n, token) in [
        (1, twilio_token(1)),
        (2, twilio_token(2)),
        (3, twilio_token(3)),
        (4, twilio_token(4)),
    ] {
        let created = create(&app, &owner.token, &twilio(n, &token)).await;
        assert_eq!(created.status, 201);
        assert_eq!(created.body["data"]["verification"], Value::Null);
        ids.push((
            created.body["data"]["id"].clone(),
            created.header("etag").map(str::to_owned),
        ));
        answers.push(created.text);
    }
    for ((id, tag), expected) in ids
        .iter()
        .zip(["valid", "invalid", "unreachable", "unreachable"])
    {
        let started = Instant::now();
        let answer = verify(&app, &owner.token, id).await;
        let took = started.elapsed();
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["message"], "Provider configuration verified.");
        assert_eq!(
            answer.body["data"]["verification"]["status"], expected,
            "{id}"
        );
        assert!(
            answer.body["data"]["verification"]["checked_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        // The representation changed: so did the tag.
        assert_ne!(answer.header("etag").map(str::to_owned), *tag);
        assert!(took < Duration::from_millis(TIMEOUT_MS + 1500), "{took:?}");
        let stored = app.get_config(&owner, id).await;
        assert_eq!(
            stored.body["data"]["verification"],
            answer.body["data"]["verification"]
        );
        answers.push(answer.text);
    }
    assert_eq!(stand_in.calls(), 4);

    // The audit event names the outcome, never the credential.
    let history = app
        .call(
            Method::GET,
            &format!("{CONFIGS}{}/history/?action=verified", ids[1].0),
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(history.body["count"], 1);
    assert_eq!(
        history.body["data"][0]["changes"],
        json!({"fields": [], "verification_status": "invalid"})
    );
    answers.push(history.text);

    // Roles, existence and providers without an adapter.
    let viewer = app.user_in("acme", Role::Viewer);
    assert_eq!(verify(&app, &viewer.token, &ids[0].0).await.status, 403);
    assert_eq!(
        verify(&app, &owner.token, &json!(999_999)).await.status,
        404
    );
    let sip = create(
        &app,
        &owner.token,
        &json!({"provider": "sip", "account_sid": "trunk-user", "auth_token": "sip-password-1"}),
    )
    .await;
    let answer = verify(&app, &owner.token, &sip.body["data"]["id"]).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["errors"]["non_field_errors"][0],
        "Credential verification is not available for this provider."
    );
    // A body, when sent, must be empty.
    let answer = app
        .call(
            Method::POST,
            &format!("{CONFIGS}{}/verify/", ids[0].0),
            Some(&owner.token),
            Some("acme"),
            Some(&json!({"force": true})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(stand_in.calls(), 4);

    assert_no_secret(
        &answers,
        &logs,
        &[
            twilio_token(1),
            twilio_token(2),
            twilio_token(3),
            twilio_token(4),
        ],
    );
    stand_in.stop().await;
}

async fn verify_before_saving(backend: Backend) {
    let logs = log_buffer();
    let stand_in = stand_in();
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let mut answers = Vec::new();
    let verified_create = format!("{CONFIGS}?verify=true");
    let post = |body: Value| {
        let (app, token, path) = (&app, owner.token.clone(), verified_create.clone());
        async move {
            app.call(
                Method::POST,
                &path,
                Some(&token),
                Some("acme"),
                Some(&body),
                &[],
            )
            .await
        }
    };

    // Valid: saved, with its outcome.
    let valid = post(twilio(5, &twilio_token(5))).await;
    assert_eq!(valid.status, 201, "{}", valid.text);
    assert_eq!(valid.body["data"]["verification"]["status"], "valid");
    // Refused: 400 on auth_token, nothing saved.
    let refused = post(twilio(6, &twilio_token(6))).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.body["errors"]["auth_token"],
        json!(["the provider rejected these credentials"])
    );
    // Unreachable (500, then slow): 400, nothing saved.
    for n in [4, 3] {
        let unreachable = post(twilio(n, &twilio_token(n))).await;
        assert_eq!(unreachable.status, 400);
        assert_eq!(
            unreachable.body["errors"]["non_field_errors"][0],
            "The provider could not be reached to verify the credentials; nothing was saved."
        );
        answers.push(unreachable.text);
    }
    // No adapter for the provider: 400 on provider.
    let sip = post(json!({"provider": "sip", "account_sid": "u", "auth_token": "p"})).await;
    assert_eq!(sip.status, 400);
    assert!(sip.body["errors"]["provider"].is_array());
    // Shapes before anything else; a bad flag is 400 too.
    let bad = app
        .call(
            Method::POST,
            &format!("{CONFIGS}?verify=yes"),
            Some(&owner.token),
            Some("acme"),
            Some(&twilio(7, &twilio_token(7))),
            &[],
        )
        .await;
    assert_eq!(bad.status, 400);
    let listed = app.list_configs(&owner, "").await;
    assert_eq!(listed.body["count"], 1);

    // PATCH with verify: a wrong new token is refused and changes nothing.
    let id = valid.body["data"]["id"].clone();
    let path = format!("{CONFIGS}{id}/");
    let refused = app
        .call(
            Method::PATCH,
            &format!("{path}?verify=true"),
            Some(&owner.token),
            Some("acme"),
            Some(&json!({"auth_token": twilio_token(55)})),
            &[],
        )
        .await;
    assert_eq!(refused.status, 400);
    let unchanged = app
        .call(
            Method::GET,
            &path,
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        unchanged.body["data"]["auth_token_last4"],
        valid.body["data"]["auth_token_last4"]
    );
    assert_eq!(unchanged.header("etag"), valid.header("etag"));
    // PATCH with verify of the stored credentials (a rename): checked and kept.
    let renamed = app
        .call(
            Method::PATCH,
            &format!("{path}?verify=true"),
            Some(&owner.token),
            Some("acme"),
            Some(&json!({"name": "Checked"})),
            &[],
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["data"]["verification"]["status"], "valid");
    // A new credential without verify clears the outcome (it was about the old one).
    let rotated = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner.token),
            Some("acme"),
            Some(&json!({"auth_token": twilio_token(56)})),
            &[],
        )
        .await;
    assert_eq!(rotated.status, 200);
    assert_eq!(rotated.body["data"]["verification"], Value::Null);
    let answer = verify(&app, &owner.token, &id).await;
    assert_eq!(answer.body["data"]["verification"]["status"], "invalid");
    answers.extend([
        valid.text,
        refused.text,
        renamed.text,
        rotated.text,
        answer.text,
    ]);

    assert_no_secret(
        &answers,
        &logs,
        &[
            twilio_token(5),
            twilio_token(6),
            twilio_token(55),
            twilio_token(56),
        ],
    );
    stand_in.stop().await;
}

/// No answer and no log line holds any of `secrets`.
fn assert_no_secret(answers: &[String], logs: &Arc<Mutex<Vec<u8>>>, secrets: &[String]) {
    let logs = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(
        logs.contains("credential verification"),
        "the verifier logs its outcomes"
    );
    for secret in secrets {
        for answer in answers {
            assert!(!answer.contains(secret.as_str()), "an answer holds a token");
        }
        assert!(!logs.contains(secret.as_str()), "a log line holds a token");
    }
}

on_both_backends!(outcomes_are_recorded, verify_before_saving);
