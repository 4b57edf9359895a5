//! End-to-end tests of the audit trail on SQLite and PostgreSQL: the history of a
//! configuration after a full lifecycle with a rotation (who, when, which request,
//! which fields, last4 only, never a secret), events outliving the configuration,
//! the organization-wide trail for owners and admins with its filters and pages,
//! and no event for a write that failed.

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

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    request_id: &str,
    body: Option<&Value>,
) -> Answer {
    app.call(
        method,
        path,
        Some(token),
        Some("acme"),
        body,
        &[("X-Request-Id", request_id)],
    )
    .await
}

fn events(answer: &Answer) -> Vec<Value> {
    answer.body["data"].as_array().expect("list").clone()
}

async fn lifecycle_history(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let admin = app.user_in("acme", Role::Admin);
    let tokens = app
        .services
        .identity
        .list_tokens(&owner.email)
        .expect("tokens");
    let (owner_id, owner_token_id) = (tokens[0].user_id.0, tokens[0].id.0);
    let admin_tokens = app
        .services
        .identity
        .list_tokens(&admin.email)
        .expect("tokens");
    let first_token = twilio_token(1);
    let second_token = twilio_token(2);

    let created = send(
        &app,
        Method::POST,
        CONFIGS,
        &owner.token,
        "req-create",
        Some(&json!({"provider": "twilio", "account_sid": twilio_sid(1),
                     "auth_token": first_token, "sip_url": "sip:trunk@example.com"})),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.body["data"]["id"].as_i64().expect("id");
    let path = format!("{CONFIGS}{id}/");
    let renamed = send(
        &app,
        Method::PATCH,
        &path,
        &owner.token,
        "req-rename",
        Some(&json!({"name": "Main line", "active": true})),
    )
    .await;
    assert_eq!(renamed.status, 200);
    let rotated = send(
        &app,
        Method::PATCH,
        &path,
        &admin.token,
        "req-rotate",
        Some(&json!({"auth_token": second_token, "name": "Rotated line"})),
    )
    .await;
    assert_eq!(rotated.status, 200);
    assert_eq!(
        rotated.body["data"]["auth_token_last4"],
        &second_token[28..]
    );
    let deleted = send(
        &app,
        Method::DELETE,
        &path,
        &owner.token,
        "req-delete",
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);

    // The history outlives the configuration; newest first.
    let history = app
        .call(
            Method::GET,
            &format!("{path}history/"),
            Some(&admin.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(
        history.body["message"],
        "Provider configuration history fetched successfully."
    );
    assert_eq!(history.body["count"], 4);
    let trail = events(&history);
    let actions: Vec<&str> = trail.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["deleted", "rotated", "updated", "created"]);
    let request_ids: Vec<&str> = trail
        .iter()
        .filter_map(|e| e["request_id"].as_str())
        .collect();
    assert_eq!(
        request_ids,
        ["req-delete", "req-rotate", "req-rename", "req-create"]
    );
    for event in &trail {
        assert_eq!(event["provider_config_id"], id);
        assert!(
            event["created_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert!(event["id"].is_i64());
    }
    let (on_delete, on_rotate, on_update, on_create) = (&trail[0], &trail[1], &trail[2], &trail[3]);
    assert_eq!(on_create["user_id"], owner_id);
    assert_eq!(on_create["token_id"], owner_token_id);
    assert_eq!(on_rotate["user_id"], admin_tokens[0].user_id.0);
    assert_eq!(on_rotate["token_id"], admin_tokens[0].id.0);
    assert_eq!(
        on_create["changes"],
        json!({"fields": ["provider", "name", "account_sid", "auth_token", "active", "sip_url"],
               "auth_token_last4": {"old": null, "new": &first_token[28..]}})
    );
    // `active` was sent with its current value: not a change.
    assert_eq!(on_update["changes"], json!({"fields": ["name"]}));
    assert_eq!(
        on_rotate["changes"],
        json!({"fields": ["name", "auth_token"],
               "auth_token_last4": {"old": &first_token[28..], "new": &second_token[28..]}})
    );
    assert_eq!(on_delete["changes"], json!({"fields": []}));

    // No secret in any event, nor in any answer.
    for text in [&history.text, &created.text, &renamed.text, &rotated.text] {
        assert!(!text.contains(&first_token), "{text}");
        assert!(!text.contains(&second_token), "{text}");
    }

    // The organization-wide trail has the same events.
    let all = app
        .call(
            Method::GET,
            "/audit-events/",
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["message"], "Audit events fetched successfully.");
    assert_eq!(all.body["count"], 4);
    assert_eq!(events(&all), trail);
}

async fn trail_access_filters_and_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("globex");
    let owner = app.user_in("acme", Role::Owner);
    let outsider = app.user_in("globex", Role::Owner);
    let start = chrono::Utc::now();
    let mut ids = Vec::new();
    for n in 1..=3 {
        let body = json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": twilio_token(n)});
        let answer = app.create_config(&owner, &body).await;
        assert_eq!(answer.status, 201);
        ids.push(answer.body["data"]["id"].as_i64().expect("id"));
    }
    let rotate = json!({"auth_token": twilio_token(9)});
    let answer = app.patch_config(&owner, ids[0], &rotate).await;
    assert_eq!(answer.status, 200);
    // A write that fails records nothing: a duplicate create, a stale PATCH.
    let duplicate =
        json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1)});
    let answer = app.create_config(&owner, &duplicate).await;
    assert_eq!(answer.status, 409);
    let answer = app
        .call(
            Method::PATCH,
            &format!("{CONFIGS}{}/", ids[1]),
            Some(&owner.token),
            Some("acme"),
            Some(&json!({"name": "x"})),
            &[("If-Match", "\"0-0\"")],
        )
        .await;
    assert_eq!(answer.status, 412);

    let list = |query: String, token: String| {
        let app = &app;
        async move {
            app.call(
                Method::GET,
                &format!("/audit-events/{query}"),
                Some(&token),
                Some("acme"),
                None,
                &[],
            )
            .await
        }
    };
    let all = list(String::new(), owner.token.clone()).await;
    assert_eq!(all.body["count"], 4);

    // Owners and admins read the trail; members and viewers do not.
    for (role, status) in [(Role::Admin, 200), (Role::Member, 403), (Role::Viewer, 403)] {
        let user = app.user_in("acme", role);
        let answer = list(String::new(), user.token.clone()).await;
        assert_eq!(answer.status, status, "{role}");
        if status == 403 {
            assert_eq!(answer.body["code"], "permission_denied");
            // A configuration's own history is readable by every member.
            let history = app
                .call(
                    Method::GET,
                    &format!("{CONFIGS}{}/history/", ids[0]),
                    Some(&user.token),
                    Some("acme"),
                    None,
                    &[],
                )
                .await;
            assert_eq!(history.status, 200);
            assert_eq!(history.body["count"], 2);
        }
    }
    // Query shapes come before the role: 400, not 403.
    let member = app.user_in("acme", Role::Member);
    assert_eq!(
        list("?action=renamed".into(), member.token.clone())
            .await
            .status,
        400
    );

    // Filters: action, time range; pages.
    let rotated = list("?action=rotated".into(), owner.token.clone()).await;
    assert_eq!(rotated.body["count"], 1);
    assert_eq!(rotated.body["data"][0]["provider_config_id"], ids[0]);
    let created = list("?action=created&page_size=2".into(), owner.token.clone()).await;
    assert_eq!(created.body["count"], 3);
    assert_eq!(events(&created).len(), 2);
    assert_eq!(created.body["data"][0]["provider_config_id"], ids[2]);
    let page2 = list(
        "?action=created&page_size=2&page=2".into(),
        owner.token.clone(),
    )
    .await;
    assert_eq!(events(&page2).len(), 1);
    assert_eq!(page2.body["data"][0]["provider_config_id"], ids[0]);
    let past = list("?page=9".into(), owner.token.clone()).await;
    assert_eq!(
        (past.body["count"].clone(), past.body["data"].clone()),
        (json!(4), json!([]))
    );
    let since =
        (start - chrono::TimeDelta::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until =
        (start - chrono::TimeDelta::seconds(60)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let future = (chrono::Utc::now() + chrono::TimeDelta::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        list(format!("?from={since}"), owner.token.clone())
            .await
            .body["count"],
        4
    );
    assert_eq!(
        list(format!("?from={since}&to={future}"), owner.token.clone())
            .await
            .body["count"],
        4
    );
    assert_eq!(
        list(format!("?to={until}"), owner.token.clone()).await.body["count"],
        0
    );
    assert_eq!(
        list(format!("?from={future}"), owner.token.clone())
            .await
            .body["count"],
        0
    );
    for bad in [
        "?from=yesterday",
        "?action=",
        "?page_size=101",
        "?colour=red",
    ] {
        assert_eq!(
            list(bad.into(), owner.token.clone()).await.status,
            400,
            "{bad}"
        );
    }
    let reversed = list(format!("?from={future}&to={since}"), owner.token.clone()).await;
    assert_eq!(reversed.status, 400);

    // Another organization sees none of it; its id is unknown here.
    let theirs = app
        .call(
            Method::GET,
            "/audit-events/",
            Some(&outsider.token),
            Some("globex"),
            None,
            &[],
        )
        .await;
    assert_eq!(theirs.body["count"], 0);
    let answer = app
        .call(
            Method::GET,
            &format!("{CONFIGS}{}/history/", ids[0]),
            Some(&outsider.token),
            Some("globex"),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 404);
    let answer = app
        .call(
            Method::GET,
            &format!("{CONFIGS}999999/history/"),
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 404);
    let answer = app
        .call(
            Method::GET,
            &format!("{CONFIGS}abc/history/"),
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 404);
}

on_both_backends!(lifecycle_history, trail_access_filters_and_pages);
