//! Secrets never leak, and sealed credentials stay bound to their row.
//!
//! The leak test creates configurations with sentinel credentials through the API
//! while the server logs at `trace` level into a buffer, then searches every response
//! body, every log line, the SQLite files (main, `-wal`, `-shm`) or a `pg_dump` of
//! the PostgreSQL database for the sentinels, the issued API tokens and the keys.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::json;
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::telephony::ProviderConfigId;
use switchboard_test_support::{Backend, TestApp, on_both_backends, spawn_app, twilio_sid};

use crate::logs::log_buffer;

const CONFIGS: &str = "/telephony/providers-configurations/";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn nothing_secret_leaks(backend: Backend) {
    let logs = log_buffer();
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = Some(owner.token.as_str());
    let org = Some("acme");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let sentinel = format!("SENTINEL{}", &run[..20]);
    let rotated = format!("ROTATED{}", &run[..20]);
    let hex_sentinel = run.clone();
    let mut bodies = Vec::new();

    let answer = app
        .create_config(
            &owner,
            &json!({"provider": "sip", "account_sid": "trunk", "auth_token": sentinel}),
        )
        .await;
    assert_eq!(answer.status, 201);
    let id = answer.body["data"]["id"].as_i64().expect("id");
    bodies.push(answer.text);
    let answer = app.create_config(&owner, &json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": hex_sentinel}))
        .await;
    assert_eq!(answer.status, 201);
    bodies.push(answer.text);
    // Errors that involve the secret: duplicate, bad format, unknown field holding it.
    for body in [
        json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": hex_sentinel}),
        json!({"provider": "twilio", "account_sid": twilio_sid(2), "auth_token": sentinel}),
        json!({"provider": "sip", "account_sid": "trunk2", "auth_token": sentinel, "extra": sentinel}),
        json!({"provider": "sip", "account_sid": sentinel, "api_secret": sentinel, "auth_token": sentinel}),
    ] {
        let answer = app.create_config(&owner, &body).await;
        assert!(
            answer.status == 400 || answer.status == 409,
            "{}",
            answer.text
        );
        bodies.push(answer.text);
    }
    let path = format!("{CONFIGS}{id}/");
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            org,
            Some(&json!({"auth_token": rotated})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 200);
    bodies.push(answer.text);
    for path in [path.as_str(), CONFIGS] {
        let answer = app.call(Method::GET, path, token, org, None, &[]).await;
        assert_eq!(answer.status, 200);
        bodies.push(answer.text);
    }
    let revealed = app
        .services
        .provider_configs
        .reveal_credential(OrgId(1), ProviderConfigId(id))
        .expect("opens");
    assert_eq!(revealed.expose_secret(), rotated);
    assert!(!format!("{revealed:?}").contains(&rotated));

    let secrets = [
        sentinel.clone(),
        rotated.clone(),
        hex_sentinel.clone(),
        owner.token.clone(),
        app.settings.crypto.keys.expose_secret().to_owned(),
        app.settings.auth.token_hmac_key.expose_secret().to_owned(),
    ];
    for body in &bodies {
        for secret in &secrets {
            assert!(
                !body.contains(secret.as_str()),
                "a response leaked a secret: {body}"
            );
        }
    }
    assert!(!format!("{:?}", app.settings).contains(app.settings.crypto.keys.expose_secret()));

    app.stop().await;
    let logs = logs.lock().map(|logs| logs.clone()).unwrap_or_default();
    assert!(
        contains(&logs, "request completed"),
        "the server logged at trace level"
    );
    for secret in &secrets {
        assert!(!contains(&logs, secret), "the logs leaked a secret");
    }

    let stored = stored_bytes(&app, backend);
    assert!(!stored.is_empty());
    assert!(contains(&stored, "trunk"), "the dump holds the data");
    for secret in &secrets {
        assert!(
            !contains(&stored, secret),
            "the database holds a secret in clear"
        );
    }
}

/// The database's bytes: SQLite files, or a `pg_dump` of the PostgreSQL database.
fn stored_bytes(app: &TestApp, backend: Backend) -> Vec<u8> {
    match backend {
        Backend::Sqlite => {
            let path = app
                .database
                .url()
                .trim_start_matches("sqlite://")
                .to_owned();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                if let Ok(file) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(file);
                }
            }
            bytes
        }
        Backend::Postgres => {
            let output = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(app.database.url())
                .output()
                .expect("pg_dump runs");
            assert!(output.status.success(), "pg_dump failed");
            output.stdout
        }
    }
}

#[derive(QueryableByName)]
struct BlobRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Binary)]
    auth_token_ciphertext: Vec<u8>,
}

macro_rules! swap_blobs {
    ($connection:expr, $a:expr, $b:expr) => {{
        let connection = &mut $connection;
        let rows: Vec<BlobRow> = diesel::sql_query(
            "SELECT id, auth_token_ciphertext FROM provider_configurations WHERE id IN ($1, $2)",
        )
        .bind::<BigInt, _>($a)
        .bind::<BigInt, _>($b)
        .load(connection)
        .expect("blobs read");
        assert_eq!(rows.len(), 2);
        for row in &rows {
            let other = rows.iter().find(|r| r.id != row.id).expect("two rows");
            diesel::sql_query(
                "UPDATE provider_configurations SET auth_token_ciphertext = $1 WHERE id = $2",
            )
            .bind::<Binary, _>(other.auth_token_ciphertext.clone())
            .bind::<BigInt, _>(row.id)
            .execute(connection)
            .expect("blob written");
        }
    }};
}

async fn swapped_ciphertexts_fail_to_open(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("other");
    let owner = app.user_in("acme", Role::Owner);
    let other = app.user_in("other", Role::Owner);
    let mut ids = Vec::new();
    for (user, org, account) in [
        (&owner, "acme", "a"),
        (&owner, "acme", "b"),
        (&other, "other", "c"),
    ] {
        let answer = app
            .call(Method::POST, CONFIGS, Some(&user.token), Some(org), Some(&json!({"provider": "sip", "account_sid": account, "auth_token": format!("secret-of-{account}")})), &[])
            .await;
        assert_eq!(answer.status, 201);
        ids.push(answer.body["data"]["id"].as_i64().expect("id"));
    }
    let reveal = |org: i64, id: i64| {
        app.services
            .provider_configs
            .reveal_credential(OrgId(org), ProviderConfigId(id))
            .map(|secret| secret.expose_secret().to_owned())
    };
    assert_eq!(reveal(1, ids[0]).ok().as_deref(), Some("secret-of-a"));
    assert_eq!(reveal(1, ids[1]).ok().as_deref(), Some("secret-of-b"));

    // Swap two rows of one organization, then a row with another organization's.
    for (a, b) in [(ids[0], ids[1]), (ids[1], ids[2])] {
        match backend {
            Backend::Sqlite => {
                let path = app
                    .database
                    .url()
                    .trim_start_matches("sqlite://")
                    .to_owned();
                let mut connection = SqliteConnection::establish(&path).expect("sqlite opens");
                swap_blobs!(connection, a, b);
            }
            Backend::Postgres => {
                let mut connection = PgConnection::establish(app.database.url()).expect("pg opens");
                swap_blobs!(connection, a, b);
            }
        }
    }
    assert!(reveal(1, ids[0]).is_err(), "a moved blob must not open");
    assert!(reveal(1, ids[1]).is_err(), "a moved blob must not open");
    assert!(
        reveal(2, ids[2]).is_err(),
        "a blob from another organization must not open"
    );
    // The API itself never needs to decrypt, so reads keep working.
    let answer = app.get_config(&owner, ids[0]).await;
    assert_eq!(answer.status, 200);
}

on_both_backends!(nothing_secret_leaks, swapped_ciphertexts_fail_to_open);
