//! Red-team findings about how the `switchboard` binary starts (`docs/security.md`),
//! against the real binary:
//!
//! - L7: a configuration error names the setting and the expected type, never the
//!   rejected value (a key pasted into the wrong variable must not reach stderr).
//! - L8: without `SWITCHBOARD_PROFILE`, a configured database URL means production
//!   (no bootstrap, no token printed); no URL means development, as `cargo run` uses.
//! - L9: a key id used by stored secrets but not configured stops the start in
//!   production (naming the ids and counts, never key bytes); in development the
//!   server starts and `/health/ready` is 503 naming them, with the count of stored
//!   secrets that do not open.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a failed step is a test failure"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::Value;
use switchboard_application::WriteOptions;
use switchboard_domain::identity::Role;
use switchboard_domain::telephony::{ProviderConfigDraft, ProviderRef};
use switchboard_server::settings::Loaded;
use switchboard_server::{Profile, startup};
use switchboard_test_support::process::{
    SECOND_TEST_KEY, ServerProcess, TEST_HMAC_KEY, TEST_KEY, clean_command, free_port,
};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

/// The binary in `dir`, with none of the test's `SWITCHBOARD*` variables.
fn switchboard(dir: &Path) -> Command {
    clean_command(BINARY, dir)
}

/// Runs the binary to its end (it must refuse to start) and returns its stderr.
fn refused(command: &mut Command) -> String {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    assert!(!output.status.success(), "it must exit non-zero");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn configuration_errors_name_the_setting_never_the_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("x.db").display());
    for (variable, setting) in [
        (
            "SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID",
            "crypto.primary_key_id",
        ),
        ("SWITCHBOARD__SERVER__PORT", "server.port"),
        ("SWITCHBOARD__LOG__FORMAT", "log.format"),
        ("SWITCHBOARD__SERVER__WORKERS", "server.workers"),
    ] {
        for profile in [None, Some("production")] {
            let mut command = switchboard(dir.path());
            command
                .env("SWITCHBOARD__DATABASE__URL", &database)
                .env("SWITCHBOARD__CRYPTO__KEYS", format!("1:{TEST_KEY}"))
                .env("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", TEST_HMAC_KEY)
                .env(variable, SECOND_TEST_KEY);
            if let Some(profile) = profile {
                command.env("SWITCHBOARD_PROFILE", profile);
            }
            let stderr = refused(&mut command);
            assert!(
                stderr.contains(setting) && stderr.contains(variable),
                "{variable}: the message names the setting: {stderr}"
            );
            assert!(
                !stderr.contains(SECOND_TEST_KEY) && !stderr.contains(&SECOND_TEST_KEY[..12]),
                "{variable}: the rejected value was printed: {stderr}"
            );
        }
    }
}

/// A migrated SQLite database in `dir` and the settings the tests' services use.
fn prepared_database(dir: &Path) -> (String, switchboard_server::Settings) {
    let url = format!("sqlite://{}", dir.join("switchboard.db").display());
    let mut settings = switchboard_test_support::test_settings(&url, dir.to_path_buf());
    settings.crypto.keys = SecretString::from(format!("1:{TEST_KEY}"));
    settings.crypto.primary_key_id = 1;
    settings.auth.token_hmac_key = SecretString::from(TEST_HMAC_KEY);
    switchboard_persistence::Database::connect(
        &startup::database_settings(&settings).expect("database settings"),
    )
    .expect("database opens")
    .run_pending_migrations()
    .expect("migrations apply");
    (url, settings)
}

fn services(settings: &switchboard_server::Settings) -> switchboard_server::Services {
    startup::services(&Loaded {
        profile: Profile::Production,
        settings: settings.clone(),
        notes: Vec::new(),
    })
    .expect("services wire")
}

/// Starts `command` on a free port and waits until it answers.
fn start(command: &mut Command) -> ServerProcess {
    let port = free_port();
    command.env("SWITCHBOARD__SERVER__PORT", port.to_string());
    ServerProcess::start(command, port, Duration::from_secs(60))
}

/// `GET path`: the status and the JSON body (0 and null when nothing answers).
fn get(server: &ServerProcess, path: &str) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let Ok(response) = reqwest::Client::new()
            .get(server.url(path))
            .timeout(Duration::from_secs(10))
            .send()
            .await
        else {
            return (0, Value::Null);
        };
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    })
}

/// Stops the server; the lines it wrote to standard output and standard error.
fn stop(mut server: ServerProcess) -> (Vec<String>, Vec<String>) {
    server.stop();
    (server.stdout_lines(), server.stderr_lines())
}

#[test]
fn without_a_profile_a_configured_database_means_production() {
    // A database migrated by the admin binary, with no organization yet.
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, settings) = prepared_database(dir.path());
    let running = start(
        switchboard(dir.path())
            .env("SWITCHBOARD__DATABASE__URL", &url)
            .env("SWITCHBOARD__CRYPTO__KEYS", format!("1:{TEST_KEY}"))
            .env("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "1")
            .env("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", TEST_HMAC_KEY),
    );
    let (stdout, stderr) = stop(running);
    assert!(
        stdout.iter().all(|line| !line.contains("first token")),
        "production never prints a token: {stdout:?}"
    );
    assert!(
        stderr
            .iter()
            .any(|line| line.contains("switchboard listening") && line.contains("production")),
        "{stderr:?}"
    );
    assert_eq!(
        services(&settings)
            .identity
            .create_organization("First", "first")
            .map(|organization| organization.id.0)
            .ok(),
        Some(1),
        "no organization was bootstrapped"
    );
    assert!(!dir.path().join("data").exists(), "no development keys");

    // Without a database URL (what `cargo run --release` does): development, and
    // its first start prints the owner's token.
    let dir = tempfile::tempdir().expect("temp dir");
    // It prints the token before it listens: all of it is read by the time it stops.
    let running = start(&mut switchboard(dir.path()));
    let (printed, stderr) = stop(running);
    assert!(
        printed
            .iter()
            .any(|line| line.starts_with("first token (shown once): sbt_")),
        "{printed:?} {stderr:?}"
    );
}

/// Stores three configurations: under key 1, under key 2, and one whose blob is then
/// cut short.
fn store_secrets_under_two_keys(dir: &Path) -> (String, i64) {
    let (url, mut settings) = prepared_database(dir);
    let first = services(&settings);
    first
        .identity
        .create_organization("Acme", "acme")
        .expect("organization");
    first
        .identity
        .create_user("ops@acme.test", &SecretString::from("a long passphrase"))
        .expect("user");
    first
        .identity
        .add_member("acme", "ops@acme.test", Role::Owner)
        .expect("member");
    let token = first
        .identity
        .issue_token("ops@acme.test", "t", None)
        .expect("token");
    let draft = |n: u32| ProviderConfigDraft {
        provider: Some(ProviderRef::Slug("twilio".into())),
        account_sid: Some(format!("AC{n:032x}")),
        auth_token: Some(SecretString::from(format!("{n:032x}"))),
        ..Default::default()
    };
    let actor = first
        .identity
        .authenticate_in(token.token.expose(), "acme")
        .expect("actor");
    let check = |draft| {
        first
            .provider_configs
            .check_create(draft)
            .expect("a valid create")
    };
    first
        .provider_configs
        .create_checked(&actor, check(draft(1)), &WriteOptions::default())
        .expect("created");
    let corrupt = first
        .provider_configs
        .create_checked(&actor, check(draft(3)), &WriteOptions::default())
        .expect("created")
        .id
        .0;
    settings.crypto.keys = SecretString::from(format!("1:{TEST_KEY},2:{SECOND_TEST_KEY}"));
    settings.crypto.primary_key_id = 2;
    services(&settings)
        .provider_configs
        .create_checked(&actor, check(draft(2)), &WriteOptions::default())
        .expect("created");
    use diesel::prelude::*;
    let mut connection =
        SqliteConnection::establish(url.trim_start_matches("sqlite://")).expect("sqlite opens");
    diesel::sql_query(format!(
        "UPDATE provider_configurations SET auth_token_ciphertext = substr(auth_token_ciphertext, 1, 9) WHERE id = {corrupt}"
    ))
    .execute(&mut connection)
    .expect("blob cut");
    (url, corrupt)
}

#[test]
fn a_used_key_that_is_not_configured_stops_production_and_fails_readiness_in_development() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, _) = store_secrets_under_two_keys(dir.path());
    let only_key_1 = |command: &mut Command| {
        command
            .env("SWITCHBOARD__DATABASE__URL", &url)
            .env("SWITCHBOARD__CRYPTO__KEYS", format!("1:{TEST_KEY}"))
            .env("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "1")
            .env("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", TEST_HMAC_KEY)
            .env("SWITCHBOARD__SERVER__PORT", free_port().to_string());
    };

    // Production and test refuse to start, naming the key id and its count.
    for profile in ["production", "test"] {
        let mut command = switchboard(dir.path());
        only_key_1(&mut command);
        command.env("SWITCHBOARD_PROFILE", profile);
        let stderr = refused(&mut command);
        assert!(
            stderr.contains("key 2 (1 secret)") && stderr.contains("not configured"),
            "{profile}: {stderr}"
        );
        assert!(
            !stderr.contains(TEST_KEY) && !stderr.contains(SECOND_TEST_KEY),
            "{stderr}"
        );
    }
    // `--check` says the same, and exits non-zero, without starting.
    let mut command = switchboard(dir.path());
    only_key_1(&mut command);
    let output = command
        .env("SWITCHBOARD_PROFILE", "production")
        .arg("--check")
        .output()
        .expect("check runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("key 2 (1 secret)") && stderr.contains("not configured"),
        "--check: {stderr}"
    );
    assert!(!stderr.contains(TEST_KEY) && !stderr.contains(SECOND_TEST_KEY));

    // Development starts, and readiness says what is wrong until the key is back.
    let mut command = switchboard(dir.path());
    only_key_1(&mut command);
    command.env("SWITCHBOARD_PROFILE", "development");
    let running = start(&mut command);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        let (status, body) = get(&running, "/health/ready");
        if !body["unreadable_credentials"].is_null() || Instant::now() > deadline {
            break (status, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (_, stderr) = stop(running);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable", "{body}");
    assert_eq!(body["database"], "ok", "{body}");
    assert_eq!(body["keys"], "missing", "{body}");
    assert_eq!(
        body["missing_keys"],
        serde_json::json!([{"key_id": 2, "secrets": 1}]),
        "{body}"
    );
    // The key-2 secret and the cut one do not open.
    assert_eq!(body["unreadable_credentials"], 2, "{body}");
    assert!(
        stderr.iter().any(|line| line.contains("key 2 (1 secret)")),
        "the start warns: {stderr:?}"
    );
    assert!(stderr.iter().all(|line| !line.contains(SECOND_TEST_KEY)));

    // With both keys: ready, and the cut secret is still counted (not a 503).
    let mut command = switchboard(dir.path());
    command
        .env("SWITCHBOARD_PROFILE", "production")
        .env("SWITCHBOARD__DATABASE__URL", &url)
        .env(
            "SWITCHBOARD__CRYPTO__KEYS",
            format!("1:{TEST_KEY},2:{SECOND_TEST_KEY}"),
        )
        .env("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "2")
        .env("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", TEST_HMAC_KEY);
    let running = start(&mut command);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        let (status, body) = get(&running, "/health/ready");
        if !body["unreadable_credentials"].is_null() || Instant::now() > deadline {
            break (status, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    stop(running);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["keys"], "ok", "{body}");
    assert_eq!(body["unreadable_credentials"], 1, "{body}");
}
