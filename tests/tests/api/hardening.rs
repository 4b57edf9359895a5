//! Findings of the red-team run (`docs/security.md`), each reproduced against the
//! real server on SQLite and PostgreSQL:
//!
//! - M1: a malformed stored credential (bad format byte, truncated, empty) breaks
//!   only the uses of that secret: lists, reads, renames and deletes work, a PATCH
//!   that sends a new secret repairs the row, and verify or a PATCH that needs the old
//!   secret answers 409 `credentials_unreadable`; the log names the configuration and
//!   the organization.
//! - L5: a token minted by a token never outlives it and dies with it; a user holds
//!   at most 200 live tokens.
//! - L9: readiness names the key ids stored secrets use that the keyring lacks
//!   (503), and counts the stored secrets that do not open.
//! - L11: `base_url`/`sip_url` with a password in the user part are refused.
//! - L12: a NUL in a bridge slug is 404 (PostgreSQL refused the byte with a 500).

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_domain::telephony::ProviderConfigId;
use switchboard_test_support::stand_in::{Provider, StandIn, StandInConfig};
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, on_both_backends, spawn_app, spawn_app_on, twilio_sid,
    twilio_token,
};

use crate::logs::log_buffer;

const CONFIGS: &str = "/telephony/providers-configurations/";

fn log_lines() -> Vec<Value> {
    let bytes = log_buffer()
        .lock()
        .map(|bytes| bytes.clone())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[derive(QueryableByName)]
struct Blob {
    #[diesel(sql_type = Binary)]
    auth_token_ciphertext: Vec<u8>,
}

/// Reads or overwrites a configuration's stored credential, behind the API's back
/// (a partial restore, a bad disk, a hand edit).
macro_rules! on_connection {
    ($app:expr, $backend:expr, |$connection:ident| $body:expr) => {
        match $backend {
            Backend::Sqlite => {
                let path = $app
                    .database
                    .url()
                    .trim_start_matches("sqlite://")
                    .to_owned();
                let mut $connection = SqliteConnection::establish(&path).expect("sqlite opens");
                $body
            }
            Backend::Postgres => {
                let mut $connection =
                    PgConnection::establish($app.database.url()).expect("pg opens");
                $body
            }
        }
    };
}

fn stored_blob(app: &TestApp, backend: Backend, id: i64) -> Vec<u8> {
    on_connection!(app, backend, |connection| {
        diesel::sql_query("SELECT auth_token_ciphertext FROM provider_configurations WHERE id = $1")
            .bind::<BigInt, _>(id)
            .get_result::<Blob>(&mut connection)
            .expect("blob read")
            .auth_token_ciphertext
    })
}

fn store_blob(app: &TestApp, backend: Backend, id: i64, bytes: &[u8]) {
    on_connection!(app, backend, |connection| {
        diesel::sql_query(
            "UPDATE provider_configurations SET auth_token_ciphertext = $1 WHERE id = $2",
        )
        .bind::<Binary, _>(bytes)
        .bind::<BigInt, _>(id)
        .execute(&mut connection)
        .expect("blob written");
    });
}

async fn create_twilio(app: &TestApp, token: &str, n: u32) -> i64 {
    let answer = app
        .call(
            Method::POST,
            CONFIGS,
            Some(token),
            Some("acme"),
            Some(&json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": twilio_token(n)})), &[],
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.body["data"]["id"].as_i64().expect("id")
}

fn assert_unreadable(answer: &Answer) {
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(
        answer.body["code"], "credentials_unreadable",
        "{}",
        answer.text
    );
    let message = answer.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot be opened") && message.contains("every secret"),
        "{message}"
    );
}

async fn a_malformed_blob_breaks_only_the_uses_of_its_secret(backend: Backend) {
    let _logs = log_buffer();
    let database = TestDatabase::new(backend);
    let provider = StandIn::start((1..=4).fold(StandInConfig::new(), |config, n| {
        config.accept(Provider::Twilio, &twilio_sid(n), &twilio_token(n))
    }));
    let app = spawn_app_on(database, |settings| {
        settings.verify.twilio_base_url = provider.base_url.clone();
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = owner.token.as_str();
    let org = Some("acme");
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(create_twilio(&app, token, n).await);
    }
    let (bad_format, truncated, empty, healthy) = (ids[0], ids[1], ids[2], ids[3]);
    let mut blob = stored_blob(&app, backend, bad_format);
    blob[0] = 0x07;
    store_blob(&app, backend, bad_format, &blob);
    let blob = stored_blob(&app, backend, truncated);
    store_blob(&app, backend, truncated, &blob[..10]);
    store_blob(&app, backend, empty, &[]);

    // Lists and reads never open the secret.
    let answer = app
        .call(Method::GET, CONFIGS, Some(token), org, None, &[])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["count"], 4);
    let answer = app
        .call(
            Method::GET,
            &format!("{CONFIGS}?page_size=1&page=2"),
            Some(token),
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    for id in &ids {
        let answer = app
            .call(
                Method::GET,
                &format!("{CONFIGS}{id}/"),
                Some(token),
                org,
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(
            answer.body["data"]["auth_token_last4"]
                .as_str()
                .map(str::len),
            Some(4)
        );
    }
    let answer = app
        .call(
            Method::GET,
            &format!("{CONFIGS}{truncated}/history/"),
            Some(token),
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // What needs the old secret answers 409, for each kind of damage.
    for id in [bad_format, truncated, empty] {
        let answer = app
            .call(
                Method::POST,
                &format!("{CONFIGS}{id}/verify/"),
                Some(token),
                org,
                None,
                &[],
            )
            .await;
        assert_unreadable(&answer);
        let answer = app
            .call(
                Method::PATCH,
                &format!("{CONFIGS}{id}/?verify=true"),
                Some(token),
                org,
                Some(&json!({"name": "checked"})),
                &[],
            )
            .await;
        assert_unreadable(&answer);
    }
    let before = provider.calls();
    assert_eq!(before, 0, "nothing unreadable reached the provider");
    // The log names the configuration and its organization, never bytes.
    let organization = app
        .services
        .identity
        .organizations_of(
            app.services
                .identity
                .resolve(token, None)
                .expect("token works")
                .caller,
        )
        .expect("organizations")[0]
        .organization
        .id;
    let lines = log_lines();
    for id in [bad_format, truncated, empty] {
        assert!(
            lines.iter().any(|line| {
                line["fields"]["message"]
                    .as_str()
                    .is_some_and(|message| message.contains("cannot be opened"))
                    && line["fields"]["configuration"] == json!(id)
                    && line["fields"]["organization"] == json!(organization.0)
            }),
            "no log line names configuration {id} of organization {}",
            organization.0
        );
    }

    // A rename needs no secret; a PATCH that sends the secret replaces the blob.
    let answer = app
        .call(
            Method::PATCH,
            &format!("{CONFIGS}{bad_format}/"),
            Some(token),
            org,
            Some(&json!({"name": "renamed"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    for (id, n) in [(bad_format, 1), (truncated, 2)] {
        let answer = app
            .call(
                Method::PATCH,
                &format!("{CONFIGS}{id}/"),
                Some(token),
                org,
                Some(&json!({"auth_token": twilio_token(n)})),
                &[],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let revealed = app
            .services
            .provider_configs
            .reveal_credential(organization, ProviderConfigId(id))
            .expect("the repaired secret opens");
        assert_eq!(revealed.expose_secret(), twilio_token(n));
        let answer = app
            .call(
                Method::POST,
                &format!("{CONFIGS}{id}/verify/"),
                Some(token),
                org,
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["data"]["verification"]["status"], "valid");
    }
    // Deleting needs no secret either; the healthy row never noticed anything.
    let answer = app
        .call(
            Method::DELETE,
            &format!("{CONFIGS}{empty}/"),
            Some(token),
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    let answer = app
        .call(
            Method::POST,
            &format!("{CONFIGS}{healthy}/verify/"),
            Some(token),
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = app
        .call(Method::GET, CONFIGS, Some(token), org, None, &[])
        .await;
    assert_eq!(answer.body["count"], 3);
    app.stop().await;
    provider.stop().await;
}

async fn mint(app: &TestApp, parent: &str, body: &Value) -> Answer {
    app.call(
        Method::POST,
        "/auth/tokens/",
        Some(parent),
        None,
        Some(body),
        &[],
    )
    .await
}

fn expiry(answer: &Answer) -> Option<DateTime<Utc>> {
    answer.body["data"]["expires_at"]
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
}

async fn works(app: &TestApp, token: &str) -> u16 {
    app.call(Method::GET, "/auth/tokens/", Some(token), None, None, &[])
        .await
        .status
}

async fn a_minted_token_never_outlives_its_parent(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    let root = user.token.as_str();

    let short = mint(&app, root, &json!({"name": "short", "expires_in_days": 2})).await;
    assert_eq!(short.status, 201, "{}", short.text);
    let short_expiry = expiry(&short).expect("expires");
    let short_token = short.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let short_id = short.body["data"]["id"].as_i64().expect("id");

    // Past the parent's expiry: 400 on the field.
    let long = mint(
        &app,
        &short_token,
        &json!({"name": "long", "expires_in_days": 3650}),
    )
    .await;
    assert_eq!(long.status, 400, "{}", long.text);
    assert!(
        long.body["errors"]["expires_in_days"].is_array(),
        "{}",
        long.text
    );
    let over = mint(
        &app,
        &short_token,
        &json!({"name": "over", "expires_in_days": 3}),
    )
    .await;
    assert_eq!(over.status, 400, "{}", over.text);
    // Within it: accepted, and never past it.
    let same = mint(
        &app,
        &short_token,
        &json!({"name": "same", "expires_in_days": 2}),
    )
    .await;
    assert_eq!(same.status, 201, "{}", same.text);
    assert!(expiry(&same).expect("expires") <= short_expiry);
    let child = mint(&app, &short_token, &json!({"name": "child"})).await;
    assert_eq!(child.status, 201, "{}", child.text);
    assert_eq!(
        expiry(&child),
        Some(short_expiry),
        "without expires_in_days a child expires with its parent"
    );
    let child_token = child.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let grandchild = mint(&app, &child_token, &json!({"name": "grandchild"})).await;
    assert_eq!(grandchild.status, 201, "{}", grandchild.text);
    let grandchild_token = grandchild.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    for token in [&short_token, &child_token, &grandchild_token] {
        assert_eq!(works(&app, token).await, 200);
    }
    // A token without expiry mints tokens of any lifetime up to the maximum.
    let free = mint(
        &app,
        root,
        &json!({"name": "free", "expires_in_days": 3650}),
    )
    .await;
    assert_eq!(free.status, 201, "{}", free.text);
    let free_token = free.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();

    // Revoking the parent revokes its descendants, and nothing else.
    let answer = app
        .call(
            Method::DELETE,
            &format!("/auth/tokens/{short_id}/"),
            Some(root),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    for token in [&short_token, &child_token, &grandchild_token] {
        assert_eq!(works(&app, token).await, 401, "a descendant survived");
    }
    assert_eq!(works(&app, root).await, 200);
    assert_eq!(works(&app, &free_token).await, 200);

    // The operator's revoke cascades too.
    let parent = mint(&app, root, &json!({"name": "parent"})).await;
    let parent_id = parent.body["data"]["id"].as_i64().expect("id");
    let parent_token = parent.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let kid = mint(&app, &parent_token, &json!({"name": "kid"})).await;
    let kid_token = kid.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.services
        .identity
        .revoke_token(switchboard_domain::identity::TokenId(parent_id))
        .expect("revoked");
    assert_eq!(works(&app, &kid_token).await, 401);
    app.stop().await;
}

async fn a_user_holds_at_most_200_live_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let user = app.user_in("acme", Role::Member);
    let login = |app: &TestApp| {
        let email = user.email.clone();
        let client = app.client.clone();
        let url = app.api("/auth/login/");
        async move {
            let response = client
                .post(url)
                .json(&json!({"email": email, "password": "correct horse battery"}))
                .send()
                .await
                .expect("sent");
            Answer::from(response).await
        }
    };
    let first_login = login(&app).await;
    assert_eq!(first_login.status, 200, "{}", first_login.text);
    let first_login_token = first_login.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // The harness's token and the login token: 2 live; fill up to 190, then race 20
    // mints for the last 10 places.
    let mut last_id = 0;
    for n in 0..188 {
        let answer = mint(&app, &user.token, &json!({"name": format!("t{n}")})).await;
        assert_eq!(answer.status, 201, "token {n}: {}", answer.text);
        last_id = answer.body["data"]["id"].as_i64().expect("id");
    }
    let racing = (0..20).map(|n| {
        let app = &app;
        let token = user.token.clone();
        async move { mint(app, &token, &json!({"name": format!("race {n}")})).await }
    });
    let answers = futures_util::future::join_all(racing).await;
    let mut statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [[201; 10], [409; 10]].concat(),
        "exactly the free places"
    );
    let refused = mint(&app, &user.token, &json!({"name": "one too many"})).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.body["code"], "token_limit");
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
    assert_eq!(listed.body["count"], 200);

    // A login past the cap revokes the oldest login token instead.
    let second_login = login(&app).await;
    assert_eq!(second_login.status, 200, "{}", second_login.text);
    let second_token = second_login.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(works(&app, &second_token).await, 200);
    assert_eq!(works(&app, &first_login_token).await, 401);
    assert_eq!(works(&app, &user.token).await, 200, "api tokens stay");

    // A revoked token frees its place.
    let answer = app
        .call(
            Method::DELETE,
            &format!("/auth/tokens/{last_id}/"),
            Some(&user.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 204);
    let again = mint(&app, &user.token, &json!({"name": "fits again"})).await;
    assert_eq!(again.status, 201, "{}", again.text);

    // At the cap with no login token to give up, a login is refused too; an
    // operator's token past the cap as well.
    let full = app.user_in("acme", Role::Viewer);
    for n in 0..199 {
        app.services
            .identity
            .issue_token(&full.email, &format!("ops {n}"), None)
            .expect("issued");
    }
    let refused = app
        .services
        .identity
        .issue_token(&full.email, "one more", None);
    assert!(
        refused.is_err(),
        "the operator's token is refused past the cap"
    );
    let response = app
        .client
        .post(app.api("/auth/login/"))
        .json(&json!({"email": full.email, "password": "correct horse battery"}))
        .send()
        .await
        .expect("sent");
    let answer = Answer::from(response).await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.body["code"], "token_limit");
    app.stop().await;
}

async fn urls_with_a_password_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = Some(owner.token.as_str());
    let org = Some("acme");
    let secret = "PASSWORDSENTINEL";
    for (field, url) in [
        ("base_url", format!("https://user:{secret}@example.com/")),
        ("base_url", format!("wss://:{secret}@example.com")),
        ("sip_url", format!("sip:trunk:{secret}@example.com")),
        (
            "sip_url",
            format!("SIPS:trunk:{secret}@example.com;transport=tls"),
        ),
    ] {
        let answer = app
            .call(
                Method::POST,
                CONFIGS,
                token,
                org,
                Some(&json!({"provider": "sip", "account_sid": "trunk", "auth_token": "x", field: url})), &[],
            )
            .await;
        assert_eq!(answer.status, 400, "{url}: {}", answer.text);
        assert!(answer.body["errors"][field].is_array(), "{}", answer.text);
        assert!(!answer.text.contains(secret), "the error echoed the URL");
    }
    // A user part alone stays valid.
    let answer = app
        .call(
            Method::POST,
            CONFIGS,
            token,
            org,
            Some(
                &json!({"provider": "sip", "account_sid": "trunk", "auth_token": "x",
                "sip_url": "sip:trunk@example.com", "base_url": "https://api@example.com/v1"}),
            ),
            &[],
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let id = answer.body["data"]["id"].as_i64().expect("id");
    let answer = app
        .call(
            Method::PATCH,
            &format!("{CONFIGS}{id}/"),
            token,
            org,
            Some(&json!({"sip_url": format!("sip:trunk:{secret}@example.com")})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.body["errors"]["sip_url"].is_array());
    app.stop().await;
}

async fn a_nul_in_a_bridge_slug_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let viewer = app.user_in("acme", Role::Viewer);
    let owner = app.user_in("acme", Role::Owner);
    let org = Some("acme");
    let answer = app
        .call(
            Method::POST,
            "/telephony/bridges/",
            Some(&owner.token),
            org,
            Some(&json!({"name": "Main", "slug": "br-acme"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    for path in ["br-acme%00", "%00", "a%00b", "br%00acme"] {
        let answer = app
            .call(
                Method::GET,
                &format!("/telephony/bridges/{path}/"),
                Some(&viewer.token),
                org,
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 404, "GET {path}: {}", answer.text);
        let answer = app
            .call(
                Method::PATCH,
                &format!("/telephony/bridges/{path}/"),
                Some(&owner.token),
                org,
                Some(&json!({"name": "x"})),
                &[],
            )
            .await;
        assert_eq!(answer.status, 404, "PATCH {path}: {}", answer.text);
        let answer = app
            .call(
                Method::DELETE,
                &format!("/telephony/bridges/{path}/"),
                Some(&owner.token),
                org,
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 404, "DELETE {path}: {}", answer.text);
        for (action, body) in [
            (
                "connect-provider",
                json!({"provider_config_id": 1, "phone_number": "+14155550100"}),
            ),
            (
                "disconnect-provider",
                json!({"phone_number": "+14155550100"}),
            ),
        ] {
            let answer = app
                .call(
                    Method::POST,
                    &format!("/telephony/bridges/{path}/{action}/"),
                    Some(&owner.token),
                    org,
                    Some(&body),
                    &[],
                )
                .await;
            assert_eq!(answer.status, 404, "{action} {path}: {}", answer.text);
        }
    }
    // Viewers are still refused writes first, and the real bridge is untouched.
    let answer = app
        .call(
            Method::DELETE,
            "/telephony/bridges/br%00/",
            Some(&viewer.token),
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    let answer = app
        .call(
            Method::GET,
            "/telephony/bridges/br-acme/",
            Some(&viewer.token),
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.stop().await;
}

/// Fresh random key material in the keyring's `id:base64` form.
fn fresh_key() -> String {
    switchboard_crypto::generate_key_base64()
        .expose_secret()
        .to_owned()
}

async fn readiness_names_missing_keys_and_counts_unreadable_secrets(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let ready = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status(), 200);
    for n in 1..=2 {
        create_twilio(&app, &owner.token, n).await;
    }
    // One blob cut short; one secret written by a replica that has a second key.
    let blob = stored_blob(&app, backend, 2);
    store_blob(&app, backend, 2, &blob[..8]);
    let key_1 = app.settings.crypto.keys.expose_secret().to_owned();
    let mut two_keys = app.settings.clone();
    two_keys.crypto.keys = secrecy::SecretString::from(format!("{key_1},2:{}", fresh_key()));
    two_keys.crypto.primary_key_id = 2;
    let replica = switchboard_server::startup::wire(
        &two_keys,
        switchboard_server::startup::open_database(&two_keys, switchboard_server::Profile::Test)
            .expect("opens"),
    )
    .expect("wires");
    let actor = replica
        .identity
        .authenticate_in(&owner.token, "acme")
        .expect("actor");
    let draft = switchboard_domain::telephony::ProviderConfigDraft {
        provider: Some(switchboard_domain::telephony::ProviderRef::Slug(
            "twilio".into(),
        )),
        account_sid: Some(twilio_sid(3)),
        auth_token: Some(secrecy::SecretString::from(twilio_token(3))),
        ..Default::default()
    };
    replica
        .provider_configs
        .create_checked(
            &actor,
            replica.provider_configs.check_create(draft).expect("valid"),
            &switchboard_application::WriteOptions::default(),
        )
        .expect("created under key 2");

    // A server with key 1 only, started on that database.
    let services = switchboard_server::startup::wire(
        &app.settings,
        switchboard_server::startup::open_database(
            &app.settings,
            switchboard_server::Profile::Test,
        )
        .expect("opens"),
    )
    .expect("wires");
    let server =
        switchboard_server::Application::serve(&app.settings, services, None).expect("binds");
    let url = format!("http://127.0.0.1:{}/health/ready", server.port());
    let handle = server.handle();
    tokio::spawn(server.run_until_stopped());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (status, body) = loop {
        let response = app.client.get(&url).send().await.expect("sent");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("json");
        if !body["unreadable_credentials"].is_null() || std::time::Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    handle.stop(true).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["keys"], "missing", "{body}");
    assert_eq!(
        body["missing_keys"],
        json!([{"key_id": 2, "secrets": 1}]),
        "{body}"
    );
    assert_eq!(body["unreadable_credentials"], 2, "{body}");
    assert_eq!(body["database"], "ok", "{body}");
    assert!(!body.to_string().contains(&key_1[2..]), "no key material");
    app.stop().await;
}

on_both_backends!(
    readiness_names_missing_keys_and_counts_unreadable_secrets,
    a_malformed_blob_breaks_only_the_uses_of_its_secret,
    a_minted_token_never_outlives_its_parent,
    a_user_holds_at_most_200_live_tokens,
    urls_with_a_password_are_refused,
    a_nul_in_a_bridge_slug_is_not_found,
);
