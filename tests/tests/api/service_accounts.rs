//! Service accounts (contract section 11): owners and admins create them, give them
//! scoped tokens (shown once), revoke those one by one, and delete the account,
//! whose tokens then fail at once. (That they never log in is a repository test:
//! `crates/persistence/tests/repositories.rs`.)

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestUser, on_both_backends, spawn_app, twilio_body,
};

/// `method` on `path` as `user` in its organization.
pub(crate) async fn as_user(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    app.call(method, path, Some(&user.token), Some(&user.org), body, &[])
        .await
}

/// Creates a service account with `role` as `user`; its id.
pub(crate) async fn service_account(app: &TestApp, user: &TestUser, role: &str) -> i64 {
    let created = as_user(
        app,
        user,
        Method::POST,
        "/service-accounts/",
        Some(&json!({"name": format!("robot {role}"), "role": role})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["data"]["id"].as_i64().expect("id")
}

/// A token of service account `id` with `scopes`, issued by `user`, as a
/// [`TestUser`] of `user`'s organization.
pub(crate) async fn robot(app: &TestApp, user: &TestUser, id: i64, scopes: &[&str]) -> TestUser {
    let issued = as_user(
        app,
        user,
        Method::POST,
        &format!("/service-accounts/{id}/tokens/"),
        Some(&json!({"name": "runtime", "scopes": scopes})),
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    TestUser {
        email: String::new(),
        token: issued.body["data"]["token"]
            .as_str()
            .expect("token shown once")
            .to_owned(),
        org: user.org.clone(),
    }
}

async fn owners_and_admins_manage_service_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let admin = app.user_in("acme", Role::Admin);
    let created = as_user(
        &app,
        &owner,
        Method::POST,
        "/service-accounts/",
        Some(&json!({"name": "call runtime", "role": "member"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.body["message"],
        "Service account created successfully."
    );
    let data = &created.body["data"];
    assert_eq!(data["name"], "call runtime");
    assert_eq!(data["role"], "member");
    assert!(
        data["created_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );
    let id = data["id"].as_i64().expect("id");

    // An admin issues a token; the listing shows it without its secret.
    let robot = robot(
        &app,
        &admin,
        id,
        &["configurations:read", "credentials:use"],
    )
    .await;
    let listed = as_user(&app, &admin, Method::GET, "/service-accounts/", None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["count"], 1);
    let tokens = &listed.body["data"][0]["tokens"];
    assert_eq!(tokens.as_array().map(Vec::len), Some(1), "{}", listed.text);
    assert_eq!(
        tokens[0]["scopes"],
        json!(["configurations:read", "credentials:use"])
    );
    assert!(!listed.text.contains(&robot.token));

    // The token acts as a member narrowed to its scopes.
    let config = app.create_config(&owner, &twilio_body(1)).await;
    let config_id = config.body["data"]["id"].as_i64().expect("config id");
    assert_eq!(app.get_config(&robot, config_id).await.status, 200);
    let refused = app.create_config(&robot, &twilio_body(2)).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    // It is a member of its organization only.
    let organizations = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&robot.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(organizations.body["count"], 1, "{}", organizations.text);
    assert_eq!(organizations.body["data"][0]["role"], "member");

    // Members and viewers cannot manage service accounts.
    for role in [Role::Member, Role::Viewer] {
        let user = app.user_in("acme", role);
        for (method, path, body) in [
            (
                Method::POST,
                "/service-accounts/".to_owned(),
                Some(json!({"name": "x", "role": "viewer"})),
            ),
            (Method::GET, "/service-accounts/".to_owned(), None),
            (Method::DELETE, format!("/service-accounts/{id}/"), None),
            (
                Method::POST,
                format!("/service-accounts/{id}/tokens/"),
                Some(json!({"name": "x", "scopes": []})),
            ),
        ] {
            let answer = as_user(&app, &user, method.clone(), &path, body.as_ref()).await;
            assert_eq!(answer.status, 403, "{method} {path}: {}", answer.text);
        }
    }
}

async fn bad_requests_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    for body in [
        json!({"name": "x", "role": "owner"}),
        json!({"name": "x", "role": "root"}),
        json!({"name": "", "role": "member"}),
        json!({"name": "x"}),
        json!({"name": "x", "role": "member", "password": "hunter2"}),
    ] {
        let answer = as_user(
            &app,
            &owner,
            Method::POST,
            "/service-accounts/",
            Some(&body),
        )
        .await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
    }
    let viewer = service_account(&app, &owner, "viewer").await;
    // A viewer account could never write nor reveal; unknown scopes are 400.
    for (scopes, status) in [
        (json!(["configurations:write"]), 403),
        (json!(["credentials:reveal"]), 403),
        (json!(["credentials:use"]), 403),
        (json!(["everything"]), 400),
    ] {
        let answer = as_user(
            &app,
            &owner,
            Method::POST,
            &format!("/service-accounts/{viewer}/tokens/"),
            Some(&json!({"name": "t", "scopes": scopes})),
        )
        .await;
        assert_eq!(answer.status, status, "{scopes}: {}", answer.text);
    }
    // `scopes` is required for a service account's token.
    let answer = as_user(
        &app,
        &owner,
        Method::POST,
        &format!("/service-accounts/{viewer}/tokens/"),
        Some(&json!({"name": "t"})),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text);

    // A narrowed token cannot give a service account more than it holds.
    let narrowed = app
        .create_token(
            &owner,
            &json!({"name": "narrow", "scopes": ["configurations:read"]}),
        )
        .await;
    let narrowed = TestUser {
        token: narrowed.body["data"]["token"]
            .as_str()
            .expect("token")
            .to_owned(),
        ..owner.clone()
    };
    let member = service_account(&app, &owner, "member").await;
    for scopes in [json!(["credentials:use"]), json!(["credentials:reveal"])] {
        let answer = as_user(
            &app,
            &narrowed,
            Method::POST,
            &format!("/service-accounts/{member}/tokens/"),
            Some(&json!({"name": "t", "scopes": scopes})),
        )
        .await;
        assert_eq!(answer.status, 403, "{scopes}: {}", answer.text);
    }
    // Owners grant reveal to a member account from an unnarrowed token.
    let answer = as_user(
        &app,
        &owner,
        Method::POST,
        &format!("/service-accounts/{member}/tokens/"),
        Some(&json!({"name": "t", "scopes": ["credentials:reveal"]})),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
}

async fn tokens_die_with_their_service_account(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("beta");
    let owner = app.user_in("acme", Role::Owner);
    let id = service_account(&app, &owner, "member").await;
    let first = robot(&app, &owner, id, &["bridges:read"]).await;
    let second = robot(&app, &owner, id, &["bridges:read"]).await;
    assert_eq!(app.list_numbers(&first, "").await.status, 200);

    // One token revoked: it fails at once, the other works.
    let listed = as_user(&app, &owner, Method::GET, "/service-accounts/", None).await;
    let token_id = listed.body["data"][0]["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|token| token["id"].as_i64().expect("token id"))
        .min()
        .expect("a token");
    let path = format!("/service-accounts/{id}/tokens/{token_id}/");
    let revoked = as_user(&app, &owner, Method::DELETE, &path, None).await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    assert_eq!(app.list_numbers(&first, "").await.status, 401);
    assert_eq!(app.list_numbers(&second, "").await.status, 200);
    let again = as_user(&app, &owner, Method::DELETE, &path, None).await;
    assert_eq!(again.status, 404, "{}", again.text);

    // Another organization's admin sees none of it.
    let stranger = app.user_in("beta", Role::Owner);
    let path = format!("/service-accounts/{id}/");
    let foreign = as_user(&app, &stranger, Method::DELETE, &path, None).await;
    assert_eq!(foreign.status, 404, "{}", foreign.text);
    let foreign = as_user(
        &app,
        &stranger,
        Method::POST,
        &format!("/service-accounts/{id}/tokens/"),
        Some(&json!({"name": "t", "scopes": ["bridges:read"]})),
    )
    .await;
    assert_eq!(foreign.status, 404, "{}", foreign.text);

    // Deleted: every token is 401 on its very next request.
    let deleted = as_user(&app, &owner, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let refused = app.list_numbers(&second, "").await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(refused.body["code"], "invalid_token");
    let listed = as_user(&app, &owner, Method::GET, "/service-accounts/", None).await;
    assert_eq!(listed.body["count"], 0, "{}", listed.text);
    let again = as_user(&app, &owner, Method::DELETE, &path, None).await;
    assert_eq!(again.status, 404, "{}", again.text);
}

on_both_backends!(
    owners_and_admins_manage_service_accounts,
    bad_requests_are_refused,
    tokens_die_with_their_service_account
);
