//! Each typed request helper of `TestApp` against the real server: the route it
//! names exists and answers as the contract says, so a helper with a wrong path or
//! body fails here rather than in a suite that relies on it.

use serde_json::json;
use switchboard_domain::identity::Role;
use switchboard_test_support::{Backend, PASSWORD, spawn_app, twilio_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_helper_reaches_its_route() {
    let app = spawn_app(Backend::Sqlite).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);

    assert_eq!(app.organizations(&owner).await.status, 200);
    assert_eq!(app.providers(&owner).await.status, 200);

    let created = app.create_config(&owner, &twilio_body(1)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("an id");
    assert_eq!(app.get_config(&owner, id).await.status, 200);
    let listed = app.list_configs(&owner, "?page_size=5").await;
    assert_eq!(
        (listed.status, listed.body["count"].as_i64()),
        (200, Some(1))
    );
    let patched = app
        .patch_config(&owner, id, &json!({"name": "Renamed"}))
        .await;
    assert_eq!(patched.body["data"]["name"], "Renamed", "{}", patched.text);
    // Verification reaches the closed port of the test profile: unreachable.
    let verified = app.verify_config(&owner, id).await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(
        verified.body["data"]["verification"]["status"],
        "unreachable"
    );
    let history = app.config_history(&owner, id, "?page_size=10").await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(app.audit_events(&owner, "").await.status, 200);

    let number = app.add_number(&owner, "+14155550100").await;
    assert_eq!(number.status, 201, "{}", number.text);
    let number_id = number.body["data"]["id"].as_i64().expect("an id");
    let spare = app.add_number(&owner, "+14155550101").await;
    let spare_id = spare.body["data"]["id"].as_i64().expect("an id");
    assert_eq!(app.list_numbers(&owner, "").await.body["count"], 2);
    let bridge = app
        .create_bridge(&owner, &json!({"name": "Main", "number_ids": [number_id]}))
        .await;
    assert_eq!(bridge.status, 201, "{}", bridge.text);
    assert_eq!(app.get_bridge(&owner, "main").await.status, 200);
    assert_eq!(app.list_bridges(&owner, "").await.body["count"], 1);
    let renamed = app
        .patch_bridge(&owner, "main", &json!({"name": "Main line"}))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let connection = json!({"provider_config_id": id, "phone_number": "+14155550100"});
    let connected = app.connect_provider(&owner, "main", &connection).await;
    assert_eq!(connected.status, 200, "{}", connected.text);
    let number_only = json!({"phone_number": "+14155550100"});
    let disconnected = app.disconnect_provider(&owner, "main", &number_only).await;
    assert_eq!(disconnected.status, 200, "{}", disconnected.text);
    assert_eq!(app.delete_bridge(&owner, "main").await.status, 204);
    assert_eq!(app.delete_number(&owner, spare_id).await.status, 204);
    assert_eq!(app.delete_config(&owner, id).await.status, 204);

    let login = app.login(&owner.email, PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = app.create_token(&owner, &json!({"name": "ci"})).await;
    assert_eq!(token.status, 201, "{}", token.text);
    let token_id = token.body["data"]["id"].as_i64().expect("an id");
    assert_eq!(app.list_tokens(&owner).await.status, 200);
    assert_eq!(app.revoke_token(&owner, token_id).await.status, 204);
    app.stop().await;
}
