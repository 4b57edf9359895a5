//! Secrets never leak, and sealed credentials stay bound to their row.
//!
//! The leak test creates configurations with sentinel credentials through the API,
//! and has some of them verified with a stand-in of the provider (`POST .../verify/`,
//! `?verify=true` on create and PATCH) and their numbers imported (`POST
//! /telephony/numbers/import/`, accepted and refused), while the server logs at `trace` level into a
//! buffer through the server's own log filter. It then searches every response body,
//! the SQLite files (main, `-wal`, `-shm`) or a `pg_dump` of the PostgreSQL database,
//! and the log the way an attacker would: raw, in hex, in base64 at each of its three
//! alignments, and in the bytes of hex dumps joined across lines (a client that dumps
//! 16 bytes per line splits every header over several lines).

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::json;
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::telephony::ProviderConfigId;
use switchboard_test_support::stand_in::{Provider, StandIn, StandInConfig};
use switchboard_test_support::{
    Backend, TestApp, TestDatabase, on_both_backends, spawn_app, spawn_app_on, twilio_sid,
};

use crate::logs::log_buffer;

const CONFIGS: &str = "/telephony/providers-configurations/";

fn contains(haystack: &[u8], needle: &str) -> bool {
    contains_bytes(haystack, needle.as_bytes())
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// The forms in which `secret` could sit in a text: as is, in hex (both cases), and
/// in standard and URL-safe base64 at each of the three alignments it can have
/// inside a longer encoded value (only the characters that depend on the secret
/// alone: for `Authorization: Basic base64(sid:token)` the token starts 35 bytes in).
fn needle_forms(secret: &str) -> Vec<Vec<u8>> {
    let bytes = secret.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![
        bytes.to_vec(),
        hex.clone().into_bytes(),
        hex.to_uppercase().into_bytes(),
    ];
    for engine in [&STANDARD, &URL_SAFE] {
        for offset in 0..3_usize {
            let mut shifted = vec![0_u8; offset];
            shifted.extend_from_slice(bytes);
            let encoded = engine.encode(&shifted);
            // Skip the group the prefix touches, and the last group, which depends on
            // what follows the secret.
            let start = if offset == 0 { 0 } else { 4 };
            let end = encoded.trim_end_matches('=').len().saturating_sub(4);
            if end > start + 8 {
                forms.push(encoded.as_bytes()[start..end].to_vec());
            }
        }
    }
    forms
}

/// The bytes of every hex dump in `log`, joined across lines: on each line, runs of
/// at least four tokens of hex digits of one width (`4745 5420 2f32 ...`, `--` for
/// padding) are decoded, and the bytes of consecutive lines are concatenated, as an
/// attacker rebuilding a dump of 16 bytes per line would.
fn hex_dump_bytes(log: &[u8]) -> Vec<u8> {
    fn hex_width(token: &str) -> Option<usize> {
        let width = token.len();
        ([2, 4, 8].contains(&width) && token.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
            .then_some(width)
    }
    fn decode(run: &[&str], bytes: &mut Vec<u8>) {
        let digits: String = run.concat().chars().filter(|c| *c != '-').collect();
        for pair in digits.as_bytes().chunks_exact(2) {
            let pair = std::str::from_utf8(pair).unwrap_or("zz");
            if let Ok(byte) = u8::from_str_radix(pair, 16) {
                bytes.push(byte);
            }
        }
    }
    let text = String::from_utf8_lossy(log);
    let mut bytes = Vec::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '"')
            .filter(|token| !token.is_empty())
            .collect();
        let mut start = 0;
        while start < tokens.len() {
            let Some(width) = hex_width(tokens[start]) else {
                start += 1;
                continue;
            };
            let mut end = start + 1;
            while end < tokens.len() && hex_width(tokens[end]) == Some(width) {
                end += 1;
            }
            if end - start >= 4 {
                decode(&tokens[start..end], &mut bytes);
            }
            start = end;
        }
    }
    bytes
}

/// Where `secret` shows in `log` in any form an attacker would try, if it does.
fn leak_in_log(log: &[u8], secret: &str) -> Option<&'static str> {
    let squeezed: Vec<u8> = log
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let dumped = hex_dump_bytes(log);
    for form in needle_forms(secret) {
        if contains_bytes(log, &form) {
            return Some("the log as written");
        }
        if contains_bytes(&squeezed, &form) {
            return Some("the log without whitespace");
        }
        if contains_bytes(&dumped, &form) {
            return Some("hex dumps joined across lines");
        }
    }
    None
}

#[test]
fn the_log_search_finds_a_secret_in_a_split_hex_dump() {
    // What ureq-proto wrote at trace level: 16 bytes per line, hex then ASCII.
    let header = format!(
        "authorization: Basic {}\r\n",
        STANDARD.encode("AC0123456789abcdef0123456789abcdef:feedfacecafebeef0123456789abcdef")
    );
    let mut log = String::new();
    for chunk in header.as_bytes().chunks(16) {
        let hex: Vec<String> = chunk
            .chunks(2)
            .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        log.push_str(&format!(
            "TRACE ureq_proto::util: {} ........\n",
            hex.join(" ")
        ));
    }
    assert_eq!(
        leak_in_log(log.as_bytes(), "feedfacecafebeef0123456789abcdef"),
        Some("hex dumps joined across lines")
    );
    assert_eq!(leak_in_log(log.as_bytes(), "0000111122223333"), None);
}

async fn nothing_secret_leaks(backend: Backend) {
    let logs = log_buffer();
    let database = TestDatabase::new(backend);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let sentinel = format!("SENTINEL{}", &run[..20]);
    let rotated = format!("ROTATED{}", &run[..20]);
    let hex_sentinel = run.clone();
    // Twilio credentials the stand-in accepts (32 hex digits), and one it refuses.
    let verified = uuid::Uuid::new_v4().simple().to_string();
    let verified_rotated = uuid::Uuid::new_v4().simple().to_string();
    let refused = uuid::Uuid::new_v4().simple().to_string();
    // A staged rotation's new token (accepted by the stand-in).
    let staged = uuid::Uuid::new_v4().simple().to_string();
    let provider = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, &twilio_sid(7), &verified)
            .accept(Provider::Twilio, &twilio_sid(8), &verified_rotated)
            .accept(Provider::Twilio, &twilio_sid(8), &staged)
            .numbers(
                &twilio_sid(8),
                &["+14155550180", "+14155550181", "+14155550182"],
            ),
    );
    let app = spawn_app_on(database, |settings| {
        settings.verify.twilio_base_url = provider.base_url.clone();
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = Some(owner.token.as_str());
    let org = Some("acme");
    let mut bodies = Vec::new();

    // Verification sends the credentials to the provider: on create, on demand, on a
    // PATCH, and with credentials the provider refuses.
    let answer = app
        .call(
            Method::POST,
            &format!("{CONFIGS}?verify=true"),
            token,
            org,
            Some(&json!({"provider": "twilio", "account_sid": twilio_sid(7), "auth_token": verified})), &[],
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let verified_id = answer.body["data"]["id"].as_i64().expect("id");
    bodies.push(answer.text);
    let answer = app
        .call(
            Method::POST,
            &format!("{CONFIGS}{verified_id}/verify/"),
            token,
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["data"]["verification"]["status"], "valid");
    bodies.push(answer.text);
    let answer = app
        .call(
            Method::PATCH,
            &format!("{CONFIGS}{verified_id}/?verify=true"),
            token,
            org,
            Some(&json!({"auth_token": refused})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    bodies.push(answer.text);
    let answer = app
        .call(
            Method::PATCH,
            &format!("{CONFIGS}{verified_id}/?verify=true"),
            token,
            org,
            Some(&json!({"account_sid": twilio_sid(8), "auth_token": verified_rotated})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    bodies.push(answer.text);
    assert!(provider.calls() >= 4, "the provider was asked");

    // A staged rotation (contract section 12): start, list, verify with the
    // provider, promote with an overlap, list again. No answer shows a secret.
    let rotations = format!("{CONFIGS}{verified_id}/rotations/");
    let answer = app
        .call(
            Method::POST,
            &rotations,
            token,
            org,
            Some(&json!({"auth_token": staged})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let rotation = answer.body["data"]["id"].as_i64().expect("rotation id");
    bodies.push(answer.text);
    for (path, body) in [
        (format!("{rotations}{rotation}/verify/"), None),
        (
            format!("{rotations}{rotation}/promote/"),
            Some(json!({"keep_previous_for_seconds": 600, "require_verified": true})),
        ),
    ] {
        let answer = app
            .call(Method::POST, &path, token, org, body.as_ref(), &[])
            .await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        bodies.push(answer.text);
    }
    let answer = app
        .call(Method::GET, &rotations, token, org, None, &[])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["data"][0]["status"], "promoted");
    bodies.push(answer.text);

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
    let refused_id = answer.body["data"]["id"].as_i64().expect("id");
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

    // Machines (contract section 11): a reveal shows the secret in its own answer
    // only; a signature check and a service account's token never show it; the
    // audit trail of the reveal holds none of it. Tokens minted here are secrets
    // outside the one answer that shows them.
    let revealer = app
        .create_token(
            &owner,
            &json!({"name": "revealer", "scopes": ["credentials:reveal"]}),
        )
        .await;
    assert_eq!(revealer.status, 201, "{}", revealer.text);
    let revealer = revealer.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let answer = app
        .call(
            Method::POST,
            &format!("{CONFIGS}{id}/reveal/"),
            Some(&revealer),
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // A sip configuration: its primary secret is `password`.
    assert!(
        answer.body["data"]["credentials"]
            .as_object()
            .is_some_and(|fields| fields.values().any(|value| *value == json!(rotated))),
        "the reveal shows the secret"
    );
    let account = app
        .call(
            Method::POST,
            "/service-accounts/",
            token,
            org,
            Some(&json!({"name": "runtime", "role": "member"})),
            &[],
        )
        .await;
    assert_eq!(account.status, 201, "{}", account.text);
    bodies.push(account.text.clone());
    let account = account.body["data"]["id"].as_i64().expect("id");
    let machine = app
        .call(
            Method::POST,
            &format!("/service-accounts/{account}/tokens/"),
            token,
            org,
            Some(&json!({"name": "runtime", "scopes": ["credentials:use"]})),
            &[],
        )
        .await;
    assert_eq!(machine.status, 201, "{}", machine.text);
    let machine = machine.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let answer = app
        .call(
            Method::POST,
            &format!("{CONFIGS}{verified_id}/signature-checks/"),
            Some(&machine),
            org,
            Some(
                &json!({"url": "https://hooks.example.test/", "params": {"Body": sentinel},
                         "signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}),
            ),
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["data"]["valid"], false);
    bodies.push(answer.text);
    // Number import sends the secret to the provider (basic authentication) page
    // after page, and answers 502 for credentials the provider refuses: no answer,
    // audit event or log line holds the secret.
    for (config, status) in [(verified_id, 200), (refused_id, 502)] {
        let answer = app
            .call(
                Method::POST,
                "/telephony/numbers/import/",
                token,
                org,
                Some(&json!({"provider_config_id": config})),
                &[],
            )
            .await;
        assert_eq!(answer.status, status, "{}", answer.text);
        bodies.push(answer.text);
    }
    // A LiveKit access token minted from a secret: the token only in its own 201.
    let livekit = app
        .create_config(
            &owner,
            &json!({"provider": "livekit", "account_sid": "APIsentinel01", "auth_token": sentinel}),
        )
        .await;
    assert_eq!(livekit.status, 201, "{}", livekit.text);
    bodies.push(livekit.text.clone());
    let livekit = livekit.body["data"]["id"].as_i64().expect("id");
    let minted = app
        .call(
            Method::POST,
            &format!("{CONFIGS}{livekit}/access-tokens/"),
            Some(&machine),
            org,
            Some(&json!({"identity": "agent", "room": "call"})),
            &[],
        )
        .await;
    assert_eq!(minted.status, 201, "{}", minted.text);
    assert!(!minted.text.contains(&sentinel));
    let minted = minted.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    for path in [
        "/service-accounts/",
        "/audit-events/?action=credentials_revealed",
        "/audit-events/?action=numbers_imported",
        "/telephony/numbers/",
    ] {
        let answer = app.call(Method::GET, path, token, org, None, &[]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        bodies.push(answer.text);
    }

    let secrets = [
        sentinel.clone(),
        rotated.clone(),
        hex_sentinel.clone(),
        verified.clone(),
        verified_rotated.clone(),
        staged.clone(),
        refused.clone(),
        owner.token.clone(),
        revealer.clone(),
        machine.clone(),
        minted.clone(),
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
    provider.stop().await;
    let logs = logs.lock().map(|logs| logs.clone()).unwrap_or_default();
    assert!(
        contains(&logs, "request completed"),
        "the server logged at trace level"
    );
    assert!(
        contains(&logs, "credential verification answered"),
        "verification ran and logged"
    );
    for secret in &secrets {
        if let Some(place) = leak_in_log(&logs, secret) {
            panic!("the logs leaked a secret, found in {place}");
        }
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

/// Providers with several secrets (contract section 10): every secret of every
/// configuration stays out of responses (created, read, listed, patched, refused),
/// trace-level logs, the SQLite files and a `pg_dump`.
async fn no_secret_of_a_multi_secret_provider_leaks(backend: Backend) {
    let logs = log_buffer();
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let (token, org) = (Some(owner.token.as_str()), Some("acme"));
    let run = uuid::Uuid::new_v4().simple().to_string();
    // Each secret fits its field's format and carries a mark of this run.
    let twilio_token = run.clone();
    let twilio_key_secret = format!("SENTINELk{}", &run[..23]);
    let twilio_key_secret_rotated = format!("SENTINELr{}", &run[..23]);
    let pem_body = format!("SENTINELpem{}", &run[..24]);
    let private_key =
        format!("-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----\n");
    let vonage_secret = format!("SENTINEL{}", &run[..8]);
    let sip_password = format!("SENTINEL-sip-{}", &run[..16]);
    let sip_rotated = format!("SENTINEL-rot-{}", &run[..16]);
    let bandwidth_password = format!("SENTINEL-bw-{}", &run[..16]);
    let secrets = [
        twilio_token.clone(),
        twilio_key_secret.clone(),
        twilio_key_secret_rotated.clone(),
        pem_body.clone(),
        vonage_secret.clone(),
        sip_password.clone(),
        sip_rotated.clone(),
        bandwidth_password.clone(),
    ];
    let mut bodies = Vec::new();
    let mut ids = Vec::new();
    for body in [
        json!({"provider": "twilio", "credentials": {
            "account_sid": twilio_sid(41), "auth_token": twilio_token,
            "api_key_sid": "SK0123456789abcdef0123456789abcd41",
            "api_key_secret": twilio_key_secret}}),
        json!({"provider": "vonage", "api_key": "a1b2c3d5", "api_secret": vonage_secret,
               "application_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeee41", "private_key": private_key}),
        json!({"provider": "sip", "host": "sip.example.com", "username": "trunk-41",
               "password": sip_password}),
        json!({"provider": "bandwidth", "account_id": "9900041", "username": "api-41",
               "password": bandwidth_password}),
    ] {
        let answer = app.create_config(&owner, &body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        ids.push(answer.body["data"]["id"].as_i64().expect("id"));
        bodies.push(answer.text);
    }
    // Refused bodies holding secrets: a bad format beside them, an unknown field, a
    // duplicate.
    for body in [
        json!({"provider": "sip", "username": "trunk-42", "password": sip_password, "port": 0}),
        json!({"provider": "vonage", "api_key": "a1b2c3d6", "api_secret": vonage_secret,
               "private_key": pem_body}),
        json!({"provider": "sip", "credentials": {"username": "trunk-43", "password": sip_password,
               "colour": sip_password}}),
        json!({"provider": "sip", "username": "TRUNK-41", "password": sip_password}),
    ] {
        let answer = app.create_config(&owner, &body).await;
        assert!(
            answer.status == 400 || answer.status == 409,
            "{}",
            answer.text
        );
        bodies.push(answer.text);
    }
    for (id, patch) in [
        (ids[0], json!({"api_key_secret": twilio_key_secret_rotated})),
        (ids[2], json!({"credentials": {"password": sip_rotated}})),
    ] {
        let answer = app
            .call(
                Method::PATCH,
                &format!("{CONFIGS}{id}/"),
                token,
                org,
                Some(&patch),
                &[],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        bodies.push(answer.text);
    }
    for id in &ids {
        let answer = app
            .call(
                Method::GET,
                &format!("{CONFIGS}{id}/"),
                token,
                org,
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 200);
        bodies.push(answer.text);
    }
    let answer = app.call(Method::GET, CONFIGS, token, org, None, &[]).await;
    assert_eq!(answer.status, 200);
    bodies.push(answer.text);
    // The secrets are stored: the rotated ones open, the others stayed.
    let twilio = app
        .services
        .provider_configs
        .reveal_secrets(OrgId(1), ProviderConfigId(ids[0]))
        .expect("opens");
    assert_eq!(
        twilio["api_key_secret"].expose_secret(),
        twilio_key_secret_rotated
    );
    assert_eq!(twilio["auth_token"].expose_secret(), twilio_token);

    for body in &bodies {
        for secret in &secrets {
            assert!(
                !body.contains(secret.as_str()),
                "a response leaked a secret: {body}"
            );
        }
    }
    app.stop().await;
    let logs = logs.lock().map(|logs| logs.clone()).unwrap_or_default();
    assert!(
        contains(&logs, "request completed"),
        "the server logged at trace level"
    );
    for secret in &secrets {
        if let Some(place) = leak_in_log(&logs, secret) {
            panic!("the logs leaked a secret, found in {place}");
        }
    }
    let stored = stored_bytes(&app, backend);
    assert!(contains(&stored, "trunk-41"), "the dump holds the data");
    for secret in &secrets {
        assert!(
            !contains(&stored, secret),
            "the database holds a secret in clear"
        );
    }
}

on_both_backends!(
    nothing_secret_leaks,
    swapped_ciphertexts_fail_to_open,
    no_secret_of_a_multi_secret_provider_leaks,
);
