//! The shared rate-limit stores through the real application (contract section 14):
//! with `store = "postgres"` the per-token limit lives in the service's own database
//! (an UNLOGGED table), answers carry the IETF headers, and a store that does not
//! answer lets requests through when `fail_open` (counting
//! `switchboard_rate_limit_store_errors_total`) or is 503 with `Retry-After` when
//! not, for authenticated requests and logins alike. (Three replicas sharing one
//! Redis: `crates/server/tests/replicas.rs`.)

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use diesel::prelude::*;
use reqwest::Method;
use secrecy::SecretString;
use switchboard_domain::identity::Role;
use switchboard_server::settings::RateLimitStore;
use switchboard_test_support::{
    Backend, TestApp, TestDatabase, on_both_backends, postgres_only, spawn_app_on,
};

const CONFIGS: &str = "/telephony/providers-configurations/";

/// The sum of `switchboard_rate_limit_store_errors_total` in the served metrics.
async fn store_errors(app: &TestApp, store: &str) -> f64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    text.lines()
        .filter(|line| line.starts_with("switchboard_rate_limit_store_errors_total"))
        .filter(|line| line.contains(&format!("store=\"{store}\"")))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |total, value| total + value)
}

postgres_only! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_postgres_store_keeps_buckets_in_the_database() {
        let database = TestDatabase::postgres();
        let url = database.url().to_owned();
        let app = spawn_app_on(database, |settings| {
            settings.rate_limit.store = RateLimitStore::Postgres;
            settings.rate_limit.per_second = 1;
            settings.rate_limit.burst = 4;
        })
        .await;
        app.organization("acme");
        let member = app.user_in("acme", Role::Member);
        let errors_before = store_errors(&app, "postgres").await;
        let mut statuses = Vec::new();
        for _ in 0..6 {
            let answer = app.list_configs(&member, "").await;
            if statuses.is_empty() {
                assert_eq!(answer.header("ratelimit-policy"), Some("\"token\";q=4;w=4"));
                assert!(
                    answer.header("ratelimit").is_some_and(|value| value.starts_with("\"token\";r=")),
                    "{:?}",
                    answer.header("ratelimit")
                );
            }
            statuses.push(answer.status);
        }
        // Four cells; a busy machine may refill one in between, or let a check
        // through that the store did not answer within 25 ms (counted).
        let let_through = store_errors(&app, "postgres").await - errors_before;
        let served = statuses.iter().filter(|status| **status == 200).count();
        assert!(
            served >= 4 && served as f64 <= 5.0 + let_through,
            "{statuses:?} ({let_through} let through)"
        );
        assert!(statuses.iter().all(|status| *status == 200 || *status == 429), "{statuses:?}");
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut connection = PgConnection::establish(&url).expect("connects");
        let buckets = diesel::sql_query(
            "SELECT count(*) AS n FROM rate_limit_buckets WHERE key LIKE 'switchboard:rl:v1:token:4:%'",
        )
        .get_result::<Count>(&mut connection)
        .expect("counted");
        assert!(buckets.n >= 1, "the token's bucket is a row");
    }
}

on_both_backends!(an_unreachable_store_fails_open_or_closed);

async fn an_unreachable_store_fails_open_or_closed(backend: Backend) {
    // Nothing listens on port 1: a Redis that is down.
    let down = |fail_open: bool| {
        move |settings: &mut switchboard_server::settings::Settings| {
            settings.rate_limit.store = RateLimitStore::Redis;
            settings.redis.url = SecretString::from("redis://127.0.0.1:1/0");
            settings.rate_limit.fail_open = fail_open;
        }
    };
    let open = spawn_app_on(TestDatabase::new(backend), down(true)).await;
    open.organization("acme");
    let member = open.user_in("acme", Role::Member);
    let before = store_errors(&open, "redis").await;
    for _ in 0..3 {
        let answer = open.list_configs(&member, "").await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let after = store_errors(&open, "redis").await;
    assert!(after >= before + 3.0, "{before} -> {after}");

    let closed = spawn_app_on(TestDatabase::new(backend), down(false)).await;
    closed.organization("acme");
    let member = closed.user_in("acme", Role::Member);
    let answer = closed
        .call(
            Method::GET,
            CONFIGS,
            Some(&member.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(
        answer.text,
        r#"{"status_code":503,"message":"Service temporarily unavailable.","code":"unavailable"}"#
    );
    assert!(answer.header("retry-after").is_some());
    let login = closed.login("nobody@example.com", "a password").await;
    assert_eq!(login.status, 503, "{}", login.text);
}
