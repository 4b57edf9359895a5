//! Login, the token lifecycle over the API, expiry, last use, and per-token rate
//! limits (contract sections 1, 3 and 8), on SQLite and PostgreSQL.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, on_both_backends, spawn_app, spawn_app_on,
};

const INVALID_LOGIN: &str =
    r#"{"status_code":401,"message":"Invalid email or password.","code":"invalid_credentials"}"#;
const INVALID_TOKEN: &str =
    r#"{"status_code":401,"message":"Invalid token.","code":"invalid_token"}"#;

async fn login(app: &TestApp, body: &Value) -> Answer {
    app.call(Method::POST, "/auth/login/", None, None, Some(body), &[])
        .await
}

fn user_with_password(app: &TestApp, email: &str, password: &str) {
    app.services
        .identity
        .create_user(email, &SecretString::from(password))
        .expect("user created");
}

async fn logins(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    user_with_password(&app, "ops@acme.test", "correct horse battery");
    app.services
        .identity
        .add_member("acme", "ops@acme.test", Role::Admin)
        .expect("member");

    let answer = login(
        &app,
        &json!({"email": "OPS@acme.test", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["message"], "Logged in successfully.");
    let token = answer.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(answer.body["data"]["id"].is_i64());
    assert!(
        answer.body["data"]["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let orgs = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(orgs.status, 200);
    assert_eq!(orgs.body["data"][0]["role"], "admin");

    // Wrong password and unknown email: one identical answer.
    let wrong = login(
        &app,
        &json!({"email": "ops@acme.test", "password": "wrong password"}),
    )
    .await;
    let unknown = login(
        &app,
        &json!({"email": "ghost@acme.test", "password": "wrong password"}),
    )
    .await;
    let not_an_email = login(&app, &json!({"email": "nope", "password": "x"})).await;
    for answer in [&wrong, &unknown, &not_an_email] {
        assert_eq!(answer.status, 401);
        assert_eq!(answer.text, INVALID_LOGIN);
        assert!(!answer.text.contains("wrong password"));
    }
    // Malformed bodies are 400, wrong media types 415.
    for body in [
        json!({"email": "ops@acme.test"}),
        json!({"email": 1, "password": "x"}),
        json!({"email": "a", "password": "b", "remember": true}),
    ] {
        let answer = login(&app, &body).await;
        assert_eq!(answer.status, 400, "{body}");
    }
    let answer = app
        .client
        .post(app.api("/auth/login/"))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 415);
}

async fn failed_logins_are_throttled(backend: Backend) {
    let database = TestDatabase::new(backend);
    let app = spawn_app_on(database, |settings| {
        settings.auth.login_email_failures_per_minute = 3;
    })
    .await;
    user_with_password(&app, "ops@acme.test", "correct horse battery");
    user_with_password(&app, "dev@acme.test", "correct horse battery");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            login(
                &app,
                &json!({"email": "ops@acme.test", "password": "guess"}),
            )
            .await
            .status,
        );
    }
    assert_eq!(&statuses[..3], &[401, 401, 401], "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
    let blocked = login(
        &app,
        &json!({"email": "ops@acme.test", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(
        blocked.status, 429,
        "a blocked email waits, even with the right password"
    );
    assert!(blocked.header("retry-after").is_some());
    assert_eq!(blocked.body["code"], "rate_limited");
    let other = login(
        &app,
        &json!({"email": "dev@acme.test", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(other.status, 200, "another email is not affected");
}

async fn token_lifecycle(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    let other = app.user_in("acme", Role::Member);

    let created = app
        .call(
            Method::POST,
            "/auth/tokens/",
            Some(&user.token),
            None,
            Some(&json!({"name": "ci", "expires_in_days": 7})),
            &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["message"], "Token created successfully.");
    let data = &created.body["data"];
    let new_token = data["token"].as_str().expect("token").to_owned();
    let new_id = data["id"].as_i64().expect("id");
    assert!(new_token.starts_with(data["prefix"].as_str().expect("prefix")));
    assert!(data["expires_at"].is_string());
    assert_eq!(
        app.call(
            Method::GET,
            "/organizations/",
            Some(&new_token),
            None,
            None,
            &[]
        )
        .await
        .status,
        200
    );

    let listed = app
        .call(
            Method::GET,
            "/auth/tokens/",
            Some(&user.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["count"], 2);
    assert!(!listed.text.contains(&new_token) && !listed.text.contains(&user.token));
    let item = listed.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["id"] == new_id)
        .expect("listed")
        .clone();
    assert_eq!(item["name"], "ci");
    assert!(item["last_used_at"].is_string(), "used once above: {item}");
    let first_use = item["last_used_at"].clone();
    // Used again within the minute: last_used_at is not rewritten.
    app.call(
        Method::GET,
        "/organizations/",
        Some(&new_token),
        None,
        None,
        &[],
    )
    .await;
    let listed = app
        .call(
            Method::GET,
            "/auth/tokens/",
            Some(&user.token),
            None,
            None,
            &[],
        )
        .await;
    let again = listed.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["id"] == new_id)
        .expect("listed")["last_used_at"]
        .clone();
    assert_eq!(again, first_use);

    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x", "expires_in_days": 0}),
        json!({"name": "x", "expires_in_days": "7"}),
        json!({"name": "x", "scope": "all"}),
    ] {
        let answer = app
            .call(
                Method::POST,
                "/auth/tokens/",
                Some(&user.token),
                None,
                Some(&body),
                &[],
            )
            .await;
        assert_eq!(answer.status, 400, "{body}");
    }

    // Another user's token id is not found; one's own is revoked at once.
    let foreign = app
        .call(
            Method::DELETE,
            &format!("/auth/tokens/{new_id}/"),
            Some(&other.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(foreign.status, 404);
    assert_eq!(
        app.call(
            Method::GET,
            "/organizations/",
            Some(&new_token),
            None,
            None,
            &[]
        )
        .await
        .status,
        200
    );
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/auth/tokens/{new_id}/"),
            Some(&user.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(revoked.status, 204);
    let after = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&new_token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!((after.status, after.text.as_str()), (401, INVALID_TOKEN));
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/auth/tokens/{new_id}/"),
            Some(&user.token),
            None,
            None,
            &[]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            "/auth/tokens/abc/",
            Some(&user.token),
            None,
            None,
            &[]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.call(Method::GET, "/auth/tokens/", None, None, None, &[])
            .await
            .status,
        401
    );

    // Expiry: a token past its expiry fails on its very next request.
    let expiring = app
        .call(
            Method::POST,
            "/auth/tokens/",
            Some(&user.token),
            None,
            Some(&json!({"name": "short", "expires_in_days": 1})),
            &[],
        )
        .await;
    let expiring_token = expiring.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let expiring_id = expiring.body["data"]["id"].as_i64().expect("id");
    assert_eq!(
        app.call(
            Method::GET,
            "/organizations/",
            Some(&expiring_token),
            None,
            None,
            &[]
        )
        .await
        .status,
        200
    );
    let sql = format!(
        "UPDATE api_tokens SET expires_at = '2020-01-01 00:00:00' WHERE id = {expiring_id}"
    );
    match backend {
        Backend::Sqlite => {
            SqliteConnection::establish(app.database.url().trim_start_matches("sqlite://"))
                .expect("sqlite")
                .batch_execute(&sql)
                .expect("expired")
        }
        Backend::Postgres => PgConnection::establish(app.database.url())
            .expect("pg")
            .batch_execute(&sql)
            .expect("expired"),
    }
    let after = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&expiring_token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!((after.status, after.text.as_str()), (401, INVALID_TOKEN));
}

async fn per_token_rate_limits(backend: Backend) {
    let database = TestDatabase::new(backend);
    let app = spawn_app_on(database, |settings| {
        settings.rate_limit.per_second = 2;
        settings.rate_limit.burst = 5;
    })
    .await;
    app.organization("acme");
    let flooder = app.user_in("acme", Role::Member);
    let calm = app.user_in("acme", Role::Member);

    let first = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&flooder.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(first.header("x-ratelimit-limit"), Some("5"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("4"));
    assert!(first.header("x-ratelimit-reset").is_some());
    // The IETF fields say the same: a bucket of 5 refilled at 2 a second (3 s from
    // empty), 4 left, full again in 1 s.
    assert_eq!(first.header("ratelimit-policy"), Some("\"token\";q=5;w=3"));
    assert_eq!(first.header("ratelimit"), Some("\"token\";r=4;t=1"));

    let flood = (0..30).map(|_| {
        app.call(
            Method::GET,
            "/telephony/providers-configurations/",
            Some(&flooder.token),
            Some("acme"),
            None,
            &[],
        )
    });
    let steady = async {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(
                app.call(
                    Method::GET,
                    "/telephony/providers-configurations/",
                    Some(&calm.token),
                    Some("acme"),
                    None,
                    &[],
                )
                .await
                .status,
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        statuses
    };
    let (flooded, calm_statuses) = tokio::join!(futures_util::future::join_all(flood), steady);
    let limited: Vec<&Answer> = flooded.iter().filter(|a| a.status == 429).collect();
    assert!(
        limited.len() >= 20,
        "{:?}",
        flooded.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(flooded.iter().all(|a| a.status == 200 || a.status == 429));
    for answer in &limited {
        assert_eq!(
            answer.text,
            r#"{"status_code":429,"message":"Too many requests.","code":"rate_limited"}"#
        );
        assert!(
            answer
                .header("retry-after")
                .is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1))
        );
        assert_eq!(answer.header("x-ratelimit-remaining"), Some("0"));
    }
    assert_eq!(
        calm_statuses,
        vec![200; 4],
        "another token's requests are not slowed"
    );
    // The rate limit comes after authentication and before Org-Handle checks: a
    // request without Org-Handle is 429 (not 400) once the bucket is empty. The
    // bucket refills while a busy machine runs other tests, so keep asking until
    // it is empty; every answer must be one of the two.
    let mut saw_limit = false;
    for _ in 0..40 {
        let answer = app
            .call(
                Method::GET,
                "/telephony/providers-configurations/",
                Some(&flooder.token),
                None,
                None,
                &[],
            )
            .await;
        assert!(
            answer.status == 429 || answer.status == 400,
            "{}",
            answer.text
        );
        if answer.status == 429 {
            saw_limit = true;
            break;
        }
    }
    assert!(
        saw_limit,
        "the rate limit answers before the missing Org-Handle"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&flooder.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "the bucket refills");
}

on_both_backends!(
    logins,
    failed_logins_are_throttled,
    token_lifecycle,
    per_token_rate_limits
);
