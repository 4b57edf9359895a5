//! Every 429 of the request limits is counted in `rate_limited_total`, whatever kind
//! of route answered it: a token-only route, an organization route, the one-trip hot
//! read of one configuration, and a write; and a user's tokens together are limited
//! by the per-user bucket (L6), counted with `kind="user"`.
//!
//! The Prometheus recorder is process-wide, so the scenarios of this binary take
//! turns (a lock) and compare the counter before and after with exact counts.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::json;
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, on_both_backends, spawn_app_on, twilio_sid,
    twilio_token,
};

/// A route kind: its name, method, path, `Org-Handle` and body.
type Route<'a> = (
    &'a str,
    Method,
    String,
    Option<&'a str>,
    Option<serde_json::Value>,
);

/// One scenario at a time: they read and compare one process-wide counter.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CONFIGS: &str = "/telephony/providers-configurations/";

/// The value of `rate_limited_total{kind}` in the served metrics (0 before the
/// first).
async fn rate_limited(app: &TestApp, kind: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let prefix = format!("rate_limited_total{{kind=\"{kind}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |value| value.trim().parse().expect("a count"))
}

/// Sends `request` until it is refused with 429 (the token's bucket holds one
/// request; a busy machine may let it refill in between), returning the 429.
async fn until_limited<F, Fut>(request: F) -> Answer
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Answer>,
{
    for _ in 0..20 {
        let answer = request().await;
        if answer.status == 429 {
            return answer;
        }
        assert!(answer.status < 300, "{}", answer.text);
    }
    panic!("never limited");
}

async fn every_route_kind_counts_its_429s(backend: Backend) {
    let database = TestDatabase::new(backend);
    let _turn = TURN.lock().await;
    let app = spawn_app_on(database, |settings| {
        settings.rate_limit.per_second = 1;
        settings.rate_limit.burst = 1;
    })
    .await;
    app.organization("acme");
    let setup = app.user_in("acme", Role::Member);
    // The setup token's one request creates the configuration the hot read reads.
    let created = app
        .call(
            Method::POST,
            CONFIGS,
            Some(&setup.token),
            Some("acme"),
            Some(&json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1)})), &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let one = format!("{CONFIGS}{}/", created.body["data"]["id"]);

    let routes: [Route<'_>; 4] = [
        (
            "token-only route",
            Method::GET,
            "/organizations/".into(),
            None,
            None,
        ),
        (
            "organization route",
            Method::GET,
            CONFIGS.into(),
            Some("acme"),
            None,
        ),
        ("hot read of one", Method::GET, one, Some("acme"), None),
        (
            "write",
            Method::POST,
            "/telephony/bridges/".into(),
            Some("acme"),
            Some(json!({"name": "Main"})),
        ),
    ];
    for (kind, method, path, org, body) in routes {
        let user = app.user_in("acme", Role::Member);
        let before = rate_limited(&app, "token").await;
        let answer = until_limited(|| {
            app.call(
                method.clone(),
                &path,
                Some(&user.token),
                org,
                body.as_ref(),
                &[],
            )
        })
        .await;
        assert_eq!(answer.body["code"], "rate_limited", "{kind}");
        assert!(answer.header("retry-after").is_some(), "{kind}");
        assert_eq!(answer.header("x-ratelimit-remaining"), Some("0"), "{kind}");
        let after = rate_limited(&app, "token").await;
        assert_eq!(after - before, 1, "{kind}: the 429 is counted, once");
    }
    app.stop().await;
}

async fn a_users_tokens_share_the_per_user_limit(backend: Backend) {
    let database = TestDatabase::new(backend);
    let _turn = TURN.lock().await;
    let app = spawn_app_on(database, |settings| {
        // Each token alone may send plenty; the user's tokens together may not.
        settings.rate_limit.per_second = 1000;
        settings.rate_limit.burst = 1000;
        settings.rate_limit.per_user_per_second = 1;
        settings.rate_limit.per_user_burst = 5;
    })
    .await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    let other = app.user_in("acme", Role::Member);
    // Ten more tokens of the same user, minted out of band: each has a full bucket.
    let tokens: Vec<String> = (0..10)
        .map(|n| {
            app.services
                .identity
                .issue_token(&user.email, &format!("t{n}"), None)
                .expect("issued")
                .token
                .expose()
                .to_owned()
        })
        .collect();
    let before = rate_limited(&app, "user").await;
    let answers = futures_util::future::join_all(
        tokens
            .iter()
            .chain(std::iter::once(&user.token))
            .map(|token| app.call(Method::GET, "/organizations/", Some(token), None, None, &[])),
    )
    .await;
    let limited = answers.iter().filter(|answer| answer.status == 429).count() as u64;
    let served = answers.iter().filter(|answer| answer.status == 200).count();
    assert_eq!(limited as usize + served, answers.len());
    assert!(
        served <= 7,
        "at most the user's burst (5) and a refill or two were served: {served}"
    );
    for answer in answers.iter().filter(|answer| answer.status == 429) {
        assert_eq!(
            answer.text,
            r#"{"status_code":429,"message":"Too many requests.","code":"rate_limited"}"#
        );
        assert_eq!(
            answer.header("x-ratelimit-limit"),
            Some("5"),
            "the user's bucket"
        );
    }
    assert_eq!(rate_limited(&app, "user").await - before, limited);
    // Another user is not affected.
    let answer = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&other.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.stop().await;
}

on_both_backends!(
    every_route_kind_counts_its_429s,
    a_users_tokens_share_the_per_user_limit
);
