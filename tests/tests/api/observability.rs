//! `GET /metrics`: Prometheus text with request counts and latency by route template
//! and status, pool usage and rate-limit rejections; `/health/ready` reports
//! migrations.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use switchboard_domain::identity::Role;
use switchboard_test_support::{Backend, TestDatabase, on_both_backends, spawn_app_on};

async fn metrics_describe_requests_pools_and_limits(backend: Backend) {
    let database = TestDatabase::new(backend);
    let app = spawn_app_on(database, |settings| {
        settings.rate_limit.per_second = 1;
        settings.rate_limit.burst = 2;
    })
    .await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    for _ in 0..4 {
        app.call(
            Method::GET,
            "/telephony/providers-configurations/",
            Some(&user.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    }
    app.call(
        Method::GET,
        "/telephony/providers-configurations/424242/",
        None,
        None,
        None,
        &[],
    )
    .await;

    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/plain"))
    );
    let text = response.text().await.expect("body");
    for needle in [
        r#"http_requests_total{method="GET",route="/api/v2/platform/telephony/providers-configurations",status="200"}"#,
        r#"http_requests_total{method="GET",route="/api/v2/platform/telephony/providers-configurations",status="429"}"#,
        r#"http_requests_total{method="GET",route="/api/v2/platform/telephony/providers-configurations/{id}",status="401"}"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/api/v2/platform/telephony/providers-configurations",status="200",le="0.005"}"#,
        r#"db_pool_connections_idle{pool="reader"}"#,
        r#"db_pool_connections_in_use{pool="reader"}"#,
        r#"rate_limited_total{kind="token"}"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    // SQLite's group commit, read at each scrape. (PostgreSQL has none, but the
    // recorder is the test process's, shared with the SQLite cases.)
    if matches!(backend, Backend::Sqlite) {
        for name in [
            "\nswitchboard_db_group_commits_total ",
            "\nswitchboard_db_group_commit_writes_total ",
        ] {
            assert!(text.contains(name), "missing {name:?} in:\n{text}");
        }
    }
    assert!(!text.contains(&user.token));
    assert!(!text.contains("424242"), "raw paths are not labels");
}

on_both_backends!(metrics_describe_requests_pools_and_limits);
