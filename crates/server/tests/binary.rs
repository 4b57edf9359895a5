//! The `switchboard` binary as an operator meets it: the development profile's first
//! start (generated keys, migrations, the first token on standard output), restarts,
//! graceful shutdown on SIGTERM, and the production profile refusing to start
//! without keys or with pending migrations, before it binds and without printing key
//! bytes.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a failed step is a test failure"
)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use switchboard_test_support::process::{clean_command, free_port, lines_of};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

/// The binary in `dir`, with none of the test's `SWITCHBOARD*` variables.
fn switchboard(dir: &Path) -> Command {
    clean_command(BINARY, dir)
}

fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    needle: &str,
    seen: &mut Vec<String>,
) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            seen.push(line.clone());
            if line.contains(needle) {
                return Some(line);
            }
        }
    }
    None
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn get_organizations(port: u16, token: &str) -> (u16, serde_json::Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/api/v2/platform/organizations/"
            ))
            .header("Authorization", format!("Token {token}"))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    })
}

#[test]
fn development_first_start_prints_a_working_token_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = switchboard(dir.path())
        .env("SWITCHBOARD__SERVER__PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stdout = lines_of(child.stdout.take().expect("stdout"));
    let stderr = lines_of(child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let line = wait_for_line(&stdout, "first token (shown once): ", &mut seen)
        .unwrap_or_else(|| panic!("no first token line; saw {seen:?}"));
    let token = line
        .trim_start_matches("first token (shown once): ")
        .trim()
        .to_owned();
    assert!(token.starts_with("sbt_"));
    let (status, body) = get_organizations(port, &token);
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["domain_handle"], "default");
    assert_eq!(body["data"][0]["role"], "owner");

    // Keys were generated once, readable by the owner only; the database is in data/.
    let keys = dir.path().join("data").join("dev-keys.toml");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&keys).expect("keys").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert!(dir.path().join("data").join("switchboard.db").exists());
    let mut logs = Vec::new();
    while let Ok(line) = stderr.try_recv() {
        logs.push(line);
    }
    assert!(
        logs.iter()
            .any(|line| line.contains("generated development keys")),
        "{logs:?}"
    );
    assert!(
        logs.iter().all(|line| !line.contains(&token)),
        "the token must not reach the logs"
    );

    // SIGTERM: a clean exit.
    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}");

    // A second start prints no token, and the first token still works.
    let mut child = switchboard(dir.path())
        .env("SWITCHBOARD__SERVER__PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server restarts");
    let stdout = lines_of(child.stdout.take().expect("stdout"));
    let stderr = lines_of(child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    assert!(
        wait_for_line(&stderr, "switchboard listening", &mut seen).is_some(),
        "{seen:?}"
    );
    let (status, _) = get_organizations(port, &token);
    assert_eq!(status, 200);
    assert!(terminate(&mut child).success());
    let printed: Vec<String> = stdout.try_iter().collect();
    assert!(
        printed.iter().all(|line| !line.contains("first token")),
        "{printed:?}"
    );
}

fn production_start(dir: &Path, envs: &[(&str, String)]) -> (bool, String, Duration) {
    let started = Instant::now();
    let mut command = switchboard(dir);
    command.env("SWITCHBOARD_PROFILE", "production");
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = command.output().expect("binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn production_refuses_to_start_without_keys_or_with_pending_migrations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let database = format!("sqlite://{}", dir.path().join("prod.db").display());
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let base = vec![
        ("SWITCHBOARD__SERVER__PORT", port.to_string()),
        ("SWITCHBOARD__DATABASE__URL", database.clone()),
    ];

    let (ok, stderr, elapsed) = production_start(dir.path(), &base);
    assert!(!ok);
    assert!(stderr.contains("SWITCHBOARD__CRYPTO__KEYS"), "{stderr}");
    assert!(elapsed < Duration::from_secs(20));

    let mut malformed = base.clone();
    malformed.push((
        "SWITCHBOARD__CRYPTO__KEYS",
        "1:c2VjcmV0LWJ1dC1zaG9ydA==".to_owned(),
    ));
    malformed.push(("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "1".to_owned()));
    malformed.push(("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", key.to_owned()));
    let (ok, stderr, _) = production_start(dir.path(), &malformed);
    assert!(!ok);
    assert!(stderr.contains("encryption key 1"), "{stderr}");
    assert!(
        !stderr.contains("c2VjcmV0LWJ1dC1zaG9ydA"),
        "key bytes must not be printed"
    );

    let mut no_hmac = base.clone();
    no_hmac.push(("SWITCHBOARD__CRYPTO__KEYS", format!("1:{key}")));
    no_hmac.push(("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "1".to_owned()));
    let (ok, stderr, _) = production_start(dir.path(), &no_hmac);
    assert!(!ok);
    assert!(
        stderr.contains("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY"),
        "{stderr}"
    );

    let mut pending = no_hmac.clone();
    pending.push(("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", key.to_owned()));
    // No database file: named, not created (production never creates one).
    let (ok, stderr, _) = production_start(dir.path(), &pending);
    assert!(!ok);
    assert!(
        stderr.contains("no SQLite database at") && stderr.contains("switchboard-admin migrate"),
        "{stderr}"
    );
    assert!(!dir.path().join("prod.db").exists());
    // An empty database: its migrations are pending.
    std::fs::write(dir.path().join("prod.db"), b"").expect("empty database file");
    let (ok, stderr, _) = production_start(dir.path(), &pending);
    assert!(!ok);
    assert!(stderr.contains("pending"), "{stderr}");
    assert!(!stderr.contains(key));

    let (ok, stderr, _) = production_start(
        dir.path(),
        &[
            ("SWITCHBOARD__DATABASE__URL", "sqlite://:memory:".to_owned()),
            ("SWITCHBOARD__CRYPTO__KEYS", format!("1:{key}")),
            ("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "1".to_owned()),
            ("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", key.to_owned()),
        ],
    );
    assert!(!ok);
    assert!(stderr.contains("memory"), "{stderr}");

    let (ok, stderr, _) =
        production_start(dir.path(), &[("SWITCHBOARD__SERVER__PROT", "1".to_owned())]);
    assert!(!ok, "unknown settings are refused");
    assert!(stderr.contains("prot"), "{stderr}");

    // Nothing was ever bound.
    assert!(TcpListener::bind(("127.0.0.1", port)).is_ok());
}
