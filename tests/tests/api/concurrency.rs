//! End-to-end tests of `ETag` and `If-Match` on provider configurations, on SQLite
//! and PostgreSQL: stale tags are 412 and change nothing, in the contract's order of
//! errors, of two PATCHes racing from the same tag exactly one succeeds, and
//! concurrent rotations without a tag all succeed, one after the other.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, on_both_backends, spawn_app, twilio_sid, twilio_token,
};

const CONFIGS: &str = "/telephony/providers-configurations/";
const PRECONDITION_FAILED: &str = r#"{"status_code":412,"message":"The resource has changed since it was read.","code":"precondition_failed"}"#;

async fn create(app: &TestApp, token: &str, n: u32) -> Answer {
    let body =
        json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": twilio_token(n)});
    let answer = app
        .call(
            Method::POST,
            CONFIGS,
            Some(token),
            Some("acme"),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer
}

async fn patch(app: &TestApp, token: &str, path: &str, tag: Option<&str>, body: &Value) -> Answer {
    let headers: Vec<(&str, &str)> = tag.map(|tag| ("If-Match", tag)).into_iter().collect();
    app.call(
        Method::PATCH,
        path,
        Some(token),
        Some("acme"),
        Some(body),
        &headers,
    )
    .await
}

async fn delete(app: &TestApp, token: &str, path: &str, tag: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = tag.map(|tag| ("If-Match", tag)).into_iter().collect();
    app.call(
        Method::DELETE,
        path,
        Some(token),
        Some("acme"),
        None,
        &headers,
    )
    .await
}

async fn get(app: &TestApp, token: &str, path: &str) -> Answer {
    app.call(Method::GET, path, Some(token), Some("acme"), None, &[])
        .await
}

async fn stale_tags_are_412_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = owner.token.as_str();
    let created = create(&app, token, 1).await;
    let id = created.body["data"]["id"].as_i64().expect("id");
    let path = format!("{CONFIGS}{id}/");
    let v1 = created.header("etag").expect("etag").to_owned();
    assert_eq!(v1, format!("\"{id}-1\""));
    assert_eq!(
        get(&app, token, &path).await.header("etag"),
        Some(v1.as_str())
    );

    // The current tag lets the change through and yields a new tag.
    let renamed = patch(&app, token, &path, Some(&v1), &json!({"name": "First"})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let v2 = renamed.header("etag").expect("etag").to_owned();
    assert_eq!(v2, format!("\"{id}-2\""));

    // The old tag is stale now: 412 for PATCH and DELETE, and nothing changes.
    let stale = patch(&app, token, &path, Some(&v1), &json!({"name": "Lost"})).await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.text, PRECONDITION_FAILED);
    let stale = delete(&app, token, &path, Some(&v1)).await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.text, PRECONDITION_FAILED);
    let current = get(&app, token, &path).await;
    assert_eq!(current.status, 200);
    assert_eq!(current.body["data"]["name"], "First");
    assert_eq!(current.header("etag"), Some(v2.as_str()));

    // Strong comparison: a weak tag never matches; a list matches any member; `*`
    // matches any existing configuration; a tag of another configuration is stale.
    let weak = format!("W/{v2}");
    assert_eq!(
        patch(&app, token, &path, Some(&weak), &json!({"name": "W"}))
            .await
            .status,
        412
    );
    let other = format!("\"{}-2\"", id + 1000);
    assert_eq!(
        patch(&app, token, &path, Some(&other), &json!({"name": "O"}))
            .await
            .status,
        412
    );
    let list = format!("{v1}, {v2}");
    let listed = patch(&app, token, &path, Some(&list), &json!({"name": "Listed"})).await;
    assert_eq!(listed.status, 200);
    let any = patch(&app, token, &path, Some("*"), &json!({"name": "Any"})).await;
    assert_eq!(any.status, 200);
    let v4 = any.header("etag").expect("etag").to_owned();
    assert_eq!(v4, format!("\"{id}-4\""));

    // Without If-Match a change proceeds (as the Unpod API does).
    let blind = patch(&app, token, &path, None, &json!({"active": false})).await;
    assert_eq!(blind.status, 200);
    assert_eq!(blind.header("etag").expect("etag"), format!("\"{id}-5\""));

    // The contract's order: shapes (400), role (403), existence (404), If-Match
    // (412), the provider's rules (400).
    let bad_shape = patch(&app, token, &path, Some(&v1), &json!({"name": ""})).await;
    assert_eq!(bad_shape.status, 400);
    let viewer = app.user_in("acme", Role::Viewer);
    let denied = patch(&app, &viewer.token, &path, Some(&v1), &json!({"name": "V"})).await;
    assert_eq!(denied.status, 403);
    let missing = patch(
        &app,
        token,
        &format!("{CONFIGS}999999/"),
        Some(&v1),
        &json!({"name": "M"}),
    )
    .await;
    assert_eq!(missing.status, 404);
    let missing = delete(&app, token, &format!("{CONFIGS}999999/"), Some("*")).await;
    assert_eq!(missing.status, 404);
    let stale_and_bad_token = patch(
        &app,
        token,
        &path,
        Some(&v1),
        &json!({"auth_token": "not-hex"}),
    )
    .await;
    assert_eq!(stale_and_bad_token.status, 412);
    let current_and_bad_token = patch(
        &app,
        token,
        &path,
        Some(&format!("\"{id}-5\"")),
        &json!({"auth_token": "not-hex"}),
    )
    .await;
    assert_eq!(current_and_bad_token.status, 400);

    // DELETE with the current tag, and `*` on a deleted configuration is 404.
    let current = get(&app, token, &path).await;
    let tag = current.header("etag").expect("etag").to_owned();
    assert_eq!(delete(&app, token, &path, Some(&tag)).await.status, 204);
    assert_eq!(delete(&app, token, &path, Some("*")).await.status, 404);
    assert_eq!(get(&app, token, &path).await.status, 404);
}

async fn racing_patches_let_exactly_one_win(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let created = create(&app, &owner.token, 1).await;
    let id = created.body["data"]["id"].as_i64().expect("id");
    let path = format!("{CONFIGS}{id}/");
    let url = app.api(&path);
    for round in 0..5 {
        let tag = get(&app, &owner.token, &path)
            .await
            .header("etag")
            .expect("etag")
            .to_owned();
        let racers: Vec<_> = (0..2)
            .map(|racer| {
                let (client, url, token, tag) = (
                    app.client.clone(),
                    url.clone(),
                    owner.token.clone(),
                    tag.clone(),
                );
                tokio::spawn(async move {
                    let response = client
                        .patch(url)
                        .header("Authorization", format!("Token {token}"))
                        .header("Org-Handle", "acme")
                        .header("If-Match", tag)
                        .json(&json!({"name": format!("round {round} racer {racer}")}))
                        .send()
                        .await
                        .expect("sent");
                    Answer::from(response).await
                })
            })
            .collect();
        let mut statuses = Vec::new();
        let mut winner = None;
        for racer in racers {
            let answer = racer.await.expect("joined");
            if answer.status == 200 {
                winner = Some(answer.body["data"]["name"].clone());
            }
            statuses.push(answer.status);
        }
        statuses.sort_unstable();
        assert_eq!(statuses, vec![200, 412], "round {round}");
        // The stored state is the winner's, one version later.
        let current = get(&app, &owner.token, &path).await;
        assert_eq!(Some(current.body["data"]["name"].clone()), winner);
        assert_eq!(
            current.header("etag").expect("etag"),
            format!("\"{id}-{}\"", round + 2)
        );
    }
    // One `updated` event per successful change: five rounds, five events.
    let history = app
        .call(
            Method::GET,
            &format!("{path}history/?action=updated"),
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(history.status, 200);
    assert_eq!(history.body["count"], 5);
}

/// Without `If-Match` a rotation is "last writer wins": racing rotations of one
/// configuration queue for it (no 409 however many race), each recorded once, and
/// the audit trail is one unbroken chain of last4 values (each rotation saw the one
/// before it).
async fn concurrent_rotations_without_a_tag_all_succeed(backend: Backend) {
    const RACERS: u32 = 24;
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let created = create(&app, &owner.token, 1).await;
    let id = created.body["data"]["id"].as_i64().expect("id");
    let path = format!("{CONFIGS}{id}/");
    let url = app.api(&path);
    let racers: Vec<_> = (0..RACERS)
        .map(|racer| {
            let (client, url, token) = (app.client.clone(), url.clone(), owner.token.clone());
            tokio::spawn(async move {
                let response = client
                    .patch(url)
                    .header("Authorization", format!("Token {token}"))
                    .header("Org-Handle", "acme")
                    .json(&json!({"auth_token": twilio_token(100 + racer)}))
                    .send()
                    .await
                    .expect("sent");
                Answer::from(response).await
            })
        })
        .collect();
    for racer in racers {
        let answer = racer.await.expect("joined");
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let current = get(&app, &owner.token, &path).await;
    assert_eq!(
        current.header("etag").expect("etag"),
        format!("\"{id}-{}\"", RACERS + 1)
    );
    let history = app
        .call(
            Method::GET,
            &format!("{path}history/?action=rotated&page_size=100"),
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(history.status, 200);
    assert_eq!(history.body["count"], RACERS);
    // Newest first: each rotation's old last4 is the next older rotation's new one,
    // and the oldest started from the token of the create.
    let events = history.body["data"].as_array().expect("events");
    let last4 = |event: &Value, which: &str| event["changes"]["auth_token_last4"][which].clone();
    for pair in events.windows(2) {
        assert_eq!(last4(&pair[0], "old"), last4(&pair[1], "new"), "{pair:?}");
    }
    let oldest = events.last().expect("an event");
    assert_eq!(last4(oldest, "old"), json!(&twilio_token(1)[28..]));
    assert_eq!(
        last4(&events[0], "new"),
        current.body["data"]["auth_token_last4"]
    );
}

on_both_backends!(
    stale_tags_are_412_and_change_nothing,
    racing_patches_let_exactly_one_win,
    concurrent_rotations_without_a_tag_all_succeed,
);
