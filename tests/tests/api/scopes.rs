//! Scopes on tokens (contract sections 11 and 16): `POST /auth/tokens/` takes
//! `scopes`, token objects show them, rights are the role's narrowed to the scopes,
//! a token never carries a scope its creator lacks, an unknown scope is 400 and a
//! scope the caller's role could not use is 403.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{Backend, TestUser, on_both_backends, spawn_app, twilio_body};

const LEGACY: [&str; 7] = [
    "configurations:read",
    "configurations:write",
    "bridges:read",
    "bridges:write",
    "credentials:use",
    "audit:read",
    "webhooks:manage",
];

fn names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("a list of scopes")
        .iter()
        .map(|name| name.as_str().expect("a scope name").to_owned())
        .collect()
}

/// A user like `user` holding the token of `answer` (a 201 of `POST /auth/tokens/`).
fn holding(user: &TestUser, answer: &Value) -> TestUser {
    TestUser {
        token: answer["data"]["token"]
            .as_str()
            .expect("token shown once")
            .to_owned(),
        ..user.clone()
    }
}

async fn tokens_show_their_scopes_and_legacy_tokens_all_but_reveal(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let listed = app.list_tokens(&owner).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(names(&listed.body["data"][0]["scopes"]), LEGACY);

    // Without `scopes`, the creating token's.
    let inherited = app.create_token(&owner, &json!({"name": "plain"})).await;
    assert_eq!(inherited.status, 201, "{}", inherited.text);
    assert_eq!(names(&inherited.body["data"]["scopes"]), LEGACY);

    let narrow = app
        .create_token(
            &owner,
            &json!({"name": "reader", "scopes": ["configurations:read", "configurations:read"]}),
        )
        .await;
    assert_eq!(narrow.status, 201, "{}", narrow.text);
    assert_eq!(
        names(&narrow.body["data"]["scopes"]),
        ["configurations:read"]
    );
    let listed = app.list_tokens(&owner).await;
    let reader = listed.body["data"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|token| token["name"] == "reader")
        .expect("listed");
    assert_eq!(names(&reader["scopes"]), ["configurations:read"]);
    assert!(reader.get("token").is_none());
}

async fn rights_are_the_role_narrowed_to_the_scopes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let created = app.create_config(&owner, &twilio_body(1)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("id");

    let answer = app
        .create_token(
            &owner,
            &json!({"name": "reader", "scopes": ["configurations:read"]}),
        )
        .await;
    let reader = holding(&owner, &answer.body);
    assert_eq!(app.get_config(&reader, id).await.status, 200);
    assert_eq!(app.list_configs(&reader, "").await.status, 200);
    for refused in [
        app.create_config(&reader, &twilio_body(2)).await,
        app.patch_config(&reader, id, &json!({"name": "renamed"}))
            .await,
        app.list_bridges(&reader, "").await,
        app.list_numbers(&reader, "").await,
        app.audit_events(&reader, "").await,
    ] {
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert_eq!(refused.body["code"], "permission_denied");
    }
    // The configuration is unchanged.
    assert_eq!(
        app.get_config(&owner, id).await.body["data"]["name"],
        created.body["data"]["name"]
    );

    // A viewer's token with every scope still cannot write: the role decides too.
    let viewer = app.user_in("acme", Role::Viewer);
    let refused = app.create_config(&viewer, &twilio_body(3)).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
}

async fn a_token_never_carries_a_scope_its_creator_lacks(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let answer = app
        .create_token(
            &owner,
            &json!({"name": "reader", "scopes": ["configurations:read"]}),
        )
        .await;
    let reader = holding(&owner, &answer.body);
    for wider in [
        json!({"name": "wider", "scopes": ["bridges:read"]}),
        json!({"name": "wider", "scopes": ["configurations:read", "configurations:write"]}),
        json!({"name": "reveal", "scopes": ["credentials:reveal"]}),
    ] {
        let refused = app.create_token(&reader, &wider).await;
        assert_eq!(refused.status, 403, "{wider}: {}", refused.text);
        assert_eq!(refused.body["code"], "permission_denied");
    }
    let same = app.create_token(&reader, &json!({"name": "same"})).await;
    assert_eq!(same.status, 201, "{}", same.text);
    assert_eq!(names(&same.body["data"]["scopes"]), ["configurations:read"]);
    let empty = app
        .create_token(&reader, &json!({"name": "none", "scopes": []}))
        .await;
    assert_eq!(empty.status, 201, "{}", empty.text);
    assert!(names(&empty.body["data"]["scopes"]).is_empty());

    // Only owners and admins grant credentials:reveal, from an unnarrowed token.
    let granted = app
        .create_token(
            &owner,
            &json!({"name": "revealer", "scopes": ["credentials:reveal"]}),
        )
        .await;
    assert_eq!(granted.status, 201, "{}", granted.text);
    assert_eq!(
        names(&granted.body["data"]["scopes"]),
        ["credentials:reveal"]
    );
    let member = app.user_in("acme", Role::Member);
    let refused = app
        .create_token(
            &member,
            &json!({"name": "revealer", "scopes": ["credentials:reveal"]}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    // A scope the caller's role could never use.
    let viewer = app.user_in("acme", Role::Viewer);
    let refused = app
        .create_token(
            &viewer,
            &json!({"name": "writer", "scopes": ["configurations:write"]}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let allowed = app
        .create_token(
            &viewer,
            &json!({"name": "reader", "scopes": ["bridges:read"]}),
        )
        .await;
    assert_eq!(allowed.status, 201, "{}", allowed.text);
}

async fn unknown_scopes_are_400_without_their_name(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    for body in [
        json!({"name": "x", "scopes": ["configurations:read", "Sk-Secret-Scope"]}),
        json!({"name": "x", "scopes": "configurations:read"}),
        json!({"name": "x", "scopes": [7]}),
    ] {
        let refused = app.create_token(&owner, &body).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.text);
        assert_eq!(refused.body["code"], "validation_error");
        assert!(
            refused.body["errors"]["scopes"].is_array(),
            "{}",
            refused.text
        );
        assert!(!refused.text.contains("Sk-Secret-Scope"));
    }
    // Nothing was issued.
    let listed = app
        .call(
            Method::GET,
            "/auth/tokens/",
            Some(&owner.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(listed.body["count"], 1, "{}", listed.text);
}

on_both_backends!(
    tokens_show_their_scopes_and_legacy_tokens_all_but_reveal,
    rights_are_the_role_narrowed_to_the_scopes,
    a_token_never_carries_a_scope_its_creator_lacks,
    unknown_scopes_are_400_without_their_name
);
