//! The request rules of contract section 16 ("Requests", "Login throttling") and
//! the red-team findings they close, over real HTTP:
//! - L1: unknown fields and query parameters are refused without their names;
//! - L2: a JSON object naming a key twice (at any depth) is 400, and nothing is
//!   stored;
//! - L3: `Authorization` or `Org-Handle` sent twice is 400;
//! - M4: an email longer than 254 characters is 400 at login;
//! - L4: past the per-email limit, a correct password from an address that has not
//!   failed for that email still logs in; addresses come from `X-Forwarded-For`
//!   only behind a trusted proxy;
//! - M5: a body that does not arrive in time is 408 and its connection closed;
//! - answers carrying a token are never stored under `Idempotency-Key`.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, on_both_backends, spawn_app, spawn_app_on, twilio_sid,
    twilio_token,
};

const CONFIGS: &str = "/telephony/providers-configurations/";
/// A Twilio auth token's shape: what a pasted secret used as a key looks like.
const SECRET_KEY: &str = "5e7e5e7e5e7e5e7e5e7e5e7e5e7e5e7e";

fn non_field_errors(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.body["code"], "validation_error", "{}", answer.text);
    answer.body["errors"]["non_field_errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no non_field_errors in {}", answer.text))
        .iter()
        .map(|message| message.as_str().expect("text").to_owned())
        .collect()
}

/// POSTs raw bytes as JSON with the caller's headers.
async fn post_raw(app: &TestApp, path: &str, token: Option<&str>, body: &str) -> Answer {
    let mut request = app
        .client
        .post(app.api(path))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request
            .header("Authorization", format!("Token {token}"))
            .header("Org-Handle", "acme");
    }
    Answer::from(request.send().await.expect("sent")).await
}

async fn unknown_names_are_never_echoed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    let mut body =
        json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1)});
    body[SECRET_KEY] = json!(1);
    let answer = app
        .call(
            Method::POST,
            CONFIGS,
            Some(&user.token),
            Some("acme"),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(non_field_errors(&answer), ["Unknown field."]);
    assert!(!answer.text.contains(SECRET_KEY), "{}", answer.text);
    assert_eq!(answer.body["errors"].as_object().map(|e| e.len()), Some(1));

    let answer = app
        .call(
            Method::POST,
            "/auth/login/",
            None,
            None,
            Some(&json!({"email": user.email, "password": "x", SECRET_KEY: 1})),
            &[],
        )
        .await;
    assert_eq!(non_field_errors(&answer), ["Unknown field."]);
    assert!(!answer.text.contains(SECRET_KEY));

    for path in [
        format!("{CONFIGS}?{SECRET_KEY}=1"),
        format!("/telephony/numbers/?{SECRET_KEY}=1"),
        format!("/audit-events/?{SECRET_KEY}=1"),
    ] {
        let owner = app.user_in("acme", Role::Owner);
        let answer = app
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
            non_field_errors(&answer),
            ["Unknown query parameter."],
            "{path}"
        );
        assert!(!answer.text.contains(SECRET_KEY), "{path}: {}", answer.text);
    }
    app.stop().await;
}

async fn duplicate_keys_are_refused_at_any_depth(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    let sid = twilio_sid(7);
    let later = "b".repeat(32);
    for body in [
        // The red-team's case: an invalid value, then a valid one that won.
        format!(
            r#"{{"provider":"twilio","account_sid":"{sid}","auth_token":"not-hex","auth_token":"{later}"}}"#
        ),
        format!(
            r#"{{"provider":"twilio","account_sid":"{sid}","auth_token":"{later}","meta_json":{{"k":1,"k":2}}}}"#
        ),
    ] {
        let answer = post_raw(&app, CONFIGS, Some(&user.token), &body).await;
        assert_eq!(
            non_field_errors(&answer),
            ["The body names a key more than once."]
        );
        assert!(!answer.text.contains(&later));
    }
    let answer = post_raw(
        &app,
        "/auth/login/",
        None,
        r#"{"email":"a@b.c","email":"d@e.f","password":"x"}"#,
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let list = app
        .call(
            Method::GET,
            CONFIGS,
            Some(&user.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(list.body["count"], 0, "nothing was stored");
    let answer = app
        .call(
            Method::GET,
            &format!("{CONFIGS}?page=1&page=2"),
            Some(&user.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        non_field_errors(&answer),
        ["The query names a parameter more than once."]
    );
    app.stop().await;
}

async fn duplicate_credential_headers_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("beta");
    let user = app.user_in("acme", Role::Member);
    let valid = format!("Token {}", user.token);
    for pair in [
        [valid.as_str(), "Token sbt_bad"],
        ["Token sbt_bad", valid.as_str()],
        [valid.as_str(), valid.as_str()],
    ] {
        let answer = app
            .call(
                Method::GET,
                "/auth/tokens/",
                None,
                None,
                None,
                &[("Authorization", pair[0]), ("Authorization", pair[1])],
            )
            .await;
        assert_eq!(
            non_field_errors(&answer),
            ["Send the Authorization header once."]
        );
    }
    let answer = app
        .call(
            Method::POST,
            "/telephony/bridges/",
            Some(&user.token),
            None,
            Some(&json!({"name": "Main"})),
            &[("Org-Handle", "beta"), ("Org-Handle", "acme")],
        )
        .await;
    assert_eq!(
        non_field_errors(&answer),
        ["Send the Org-Handle header once."]
    );
    let bridges = app
        .call(
            Method::GET,
            "/telephony/bridges/",
            Some(&user.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(bridges.body["count"], 0, "nothing was written");
    // One of each still works.
    let answer = app
        .call(
            Method::GET,
            "/auth/tokens/",
            Some(&user.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.stop().await;
}

fn user_with_password(app: &TestApp, email: &str, password: &str) {
    app.services
        .identity
        .create_user(email, &SecretString::from(password))
        .expect("user");
}

/// A login from the client address `forwarded_for`, as a trusted proxy reports it.
async fn login_from(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> Answer {
    let request = app
        .client
        .post(app.api("/auth/login/"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"email": email, "password": password}));
    Answer::from(request.send().await.expect("sent")).await
}

async fn guessing_cannot_lock_an_owner_out(backend: Backend) {
    let database = TestDatabase::new(backend);
    let app = spawn_app_on(database, |settings| {
        settings.auth.login_email_failures_per_minute = 3;
        settings.server.trusted_proxies = vec!["127.0.0.1".to_owned(), "::1".to_owned()];
    })
    .await;
    user_with_password(&app, "owner@acme.test", "correct horse battery");
    let guesser = "203.0.113.7";
    let mut statuses = Vec::new();
    for n in 0..6 {
        statuses.push(
            login_from(&app, guesser, "OWNER@acme.test ", &format!("guess {n}"))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
    let refused = login_from(&app, guesser, "owner@acme.test", "correct horse battery").await;
    assert_eq!(
        refused.status, 429,
        "the guessing address waits, right password or not"
    );
    assert!(refused.header("retry-after").is_some());
    let owner = login_from(
        &app,
        "198.51.100.1",
        "owner@acme.test",
        "correct horse battery",
    )
    .await;
    assert_eq!(
        owner.status, 200,
        "the owner is not locked out: {}",
        owner.text
    );
    // Over 254 characters is 400 before anything (and never a throttle key).
    let long = format!("{}@acme.test", "a".repeat(250));
    let answer = login_from(&app, guesser, &long, "x").await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.body["errors"]["email"].is_array(), "{}", answer.text);
    assert!(!answer.text.contains(&long));
    app.stop().await;

    // Without a trusted proxy, X-Forwarded-For is the client's own writing: every
    // attempt counts for the TCP peer.
    let database = TestDatabase::new(backend);
    let app = spawn_app_on(database, |settings| {
        settings.auth.login_email_failures_per_minute = 3;
    })
    .await;
    user_with_password(&app, "owner@acme.test", "correct horse battery");
    for n in 0..3 {
        let answer = login_from(&app, &format!("10.0.0.{n}"), "owner@acme.test", "guess").await;
        assert_eq!(answer.status, 401);
    }
    let spoofed = login_from(
        &app,
        "198.51.100.1",
        "owner@acme.test",
        "correct horse battery",
    )
    .await;
    assert_eq!(
        spoofed.status, 429,
        "a forged header from an untrusted peer changes nothing"
    );
    app.stop().await;
}

async fn answers_carrying_a_token_are_never_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let answer = app
            .call(
                Method::POST,
                "/auth/tokens/",
                Some(&user.token),
                None,
                Some(&json!({"name": "ci"})),
                &[("Idempotency-Key", "same-key-twice")],
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.header("idempotent-replayed"), None);
        tokens.push(answer.body["data"]["token"].clone());
    }
    assert_ne!(tokens[0], tokens[1], "each request minted its own token");
    assert!(tokens.iter().all(Value::is_string));
    app.stop().await;
}

/// Sends a request head promising a body, then one byte of it, and reads what
/// comes back until the server closes the connection.
fn trickle(port: u16) -> (String, Duration) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connected");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = Instant::now();
    stream
        .write_all(
            b"POST /api/v2/platform/auth/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .expect("sent");
    let mut answer = Vec::new();
    // Read to the end: the server must close the connection after its answer.
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

async fn a_body_that_does_not_arrive_in_time_is_cut(backend: Backend) {
    let database = TestDatabase::new(backend);
    let app = spawn_app_on(database, |settings| {
        settings.server.body_timeout_ms = 500;
    })
    .await;
    let port: u16 = app
        .base_url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port");
    let (answer, took) = tokio::task::spawn_blocking(move || trickle(port))
        .await
        .expect("joined");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(
            r#"{"status_code":408,"message":"The request body was not received in time.","code":"request_timeout"}"#
        ),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(took < Duration::from_secs(5), "cut after {took:?}");
    app.stop().await;
}

on_both_backends!(
    unknown_names_are_never_echoed,
    duplicate_keys_are_refused_at_any_depth,
    duplicate_credential_headers_are_refused,
    guessing_cannot_lock_an_owner_out,
    answers_carrying_a_token_are_never_stored,
    a_body_that_does_not_arrive_in_time_is_cut,
);
