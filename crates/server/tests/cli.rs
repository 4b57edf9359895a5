//! The `switchboard` binary as a command-line tool (issue 18): `--help` and
//! `--version` answer without touching the folder they run in; `--check` loads the
//! settings, opens the database and checks migrations and keys, explains what is
//! wrong and writes nothing; the start banner on standard error names the profile,
//! the settings files and the database without its password; `--config-dir` adds a
//! settings folder; and the compose health check command (`switchboard health`)
//! passes under dash against a running server and fails against a closed port.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a failed step is a test failure"
)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use switchboard_server::startup;
use switchboard_test_support::process::{TEST_HMAC_KEY, TEST_KEY, clean_command, free_port};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");
/// The binary in `dir`, with none of the test's `SWITCHBOARD*` variables.
fn switchboard(dir: &Path) -> Command {
    clean_command(BINARY, dir)
}

/// The binary in production with keys and `database`.
fn production(dir: &Path, database: &str) -> Command {
    let mut command = switchboard(dir);
    command
        .env("SWITCHBOARD_PROFILE", "production")
        .env("SWITCHBOARD__DATABASE__URL", database)
        .env("SWITCHBOARD__CRYPTO__KEYS", format!("1:{TEST_KEY}"))
        .env("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "1")
        .env("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", TEST_HMAC_KEY);
    command
}

fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("readable")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// A migrated SQLite database at `dir/name`; its URL.
fn migrated(dir: &Path, name: &str) -> String {
    let url = format!("sqlite://{}", dir.join(name).display());
    let mut settings = switchboard_test_support::test_settings(&url, dir.to_path_buf());
    settings.crypto.keys = SecretString::from(format!("1:{TEST_KEY}"));
    switchboard_persistence::Database::connect(
        &startup::database_settings(&settings).expect("database settings"),
    )
    .expect("database opens")
    .run_pending_migrations()
    .expect("migrations apply");
    url
}

#[test]
fn help_and_version_answer_and_touch_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        vec!["--help"],
        vec!["-h"],
        vec!["--version"],
        vec!["-V"],
        vec!["health", "--help"],
    ] {
        let (output, stdout, stderr) = run(switchboard(dir.path()).args(&args));
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(!stdout.contains("first token"), "{args:?}: {stdout}");
        if args[0].contains('V') || args[0] == "--version" {
            assert_eq!(
                stdout.trim(),
                format!("switchboard {}", env!("CARGO_PKG_VERSION"))
            );
        } else {
            assert!(stdout.contains("Usage"), "{args:?}: {stdout}");
        }
    }
    let (_, help, _) = run(switchboard(dir.path()).arg("--help"));
    for option in ["--check", "--config-dir", "health", "SWITCHBOARD_PROFILE"] {
        assert!(help.contains(option), "--help names {option}: {help}");
    }
    // An unknown option is a usage error (exit 2), not a start.
    let (output, _, stderr) = run(switchboard(dir.path()).arg("--bogus"));
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        entries(dir.path()).is_empty(),
        "no data/, keys or database created: {:?}",
        entries(dir.path())
    );
}

#[test]
fn check_explains_what_is_wrong_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");

    // A fresh development folder: nothing to check yet, and nothing is created.
    let (output, stdout, stderr) = run(switchboard(dir.path()).arg("--check"));
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("fresh development installation"),
        "{stdout}"
    );
    assert!(stderr.contains("profile development"), "banner: {stderr}");
    assert!(
        stdout.contains("verification URLs, trusted proxies and CORS origins: valid"),
        "{stdout}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    // ... and its settings are checked all the same: a start would refuse this one.
    let (output, _, stderr) = run(switchboard(dir.path())
        .env(
            "SWITCHBOARD__CORS__ALLOWED_ORIGINS",
            "https://ok.example,not a url",
        )
        .arg("--check"));
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("not an origin"), "{stderr}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

    // Production, a database that does not exist: named, and not created.
    let missing = dir.path().join("missing.db");
    let (output, _, stderr) =
        run(production(dir.path(), &format!("sqlite://{}", missing.display())).arg("--check"));
    assert!(!output.status.success());
    assert!(
        stderr.contains("no SQLite database at") && stderr.contains("missing.db"),
        "{stderr}"
    );
    assert!(stderr.contains("switchboard-admin migrate"), "{stderr}");
    assert!(!missing.exists(), "--check must not create the database");

    // Pending migrations: an empty SQLite file.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("empty file");
    let (output, _, stderr) =
        run(production(dir.path(), &format!("sqlite://{}", empty.display())).arg("--check"));
    assert!(!output.status.success());
    assert!(stderr.contains("pending"), "{stderr}");

    // A malformed key: named by id and variable, never its bytes.
    let url = migrated(dir.path(), "good.db");
    let (output, _, stderr) = run(production(dir.path(), &url)
        .env("SWITCHBOARD__CRYPTO__KEYS", "1:c2VjcmV0LWJ1dC1zaG9ydA==")
        .arg("--check"));
    assert!(!output.status.success());
    assert!(stderr.contains("encryption key 1"), "{stderr}");
    assert!(!stderr.contains("c2VjcmV0LWJ1dC1zaG9ydA"), "{stderr}");

    // All good: every step said, exit 0, and the banner names profile and database.
    let (output, stdout, stderr) = run(production(dir.path(), &url).arg("--check"));
    assert!(output.status.success(), "{stderr}");
    for step in [
        "encryption keys: ids 1, primary 1",
        "migrations:",
        "stored secrets: 0",
        "check passed",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
    assert!(
        stderr.contains("profile production") && stderr.contains("good.db"),
        "{stderr}"
    );
    assert!(!stdout.contains(TEST_KEY) && !stderr.contains(TEST_KEY));
    assert!(!stdout.contains(TEST_HMAC_KEY) && !stderr.contains(TEST_HMAC_KEY));
}

switchboard_test_support::postgres_only! {
    /// On PostgreSQL, `--check` says how the connection travels: the test server is
    /// on loopback, so there is nothing to warn about (the warnings themselves are
    /// unit tests of `switchboard_persistence::postgres_transport`, which never
    /// connect anywhere).
    #[test]
    fn check_says_how_the_postgres_connection_travels() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = switchboard_test_support::TestDatabase::postgres();
        switchboard_persistence::Database::connect(&database.settings())
            .expect("database opens")
            .run_pending_migrations()
            .expect("migrations apply");
        let (output, stdout, stderr) = run(production(dir.path(), database.url())
            .env_remove("PGHOST")
            .env_remove("PGSSLMODE")
            .arg("--check"));
        assert!(output.status.success(), "{stderr}");
        assert!(
            stdout.contains("database connection: local (Unix socket or loopback)"),
            "{stdout}"
        );
        assert!(!stdout.contains("warning:"), "{stdout}");
    }
}

#[test]
fn the_banner_hides_the_database_password_and_names_the_config_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A PostgreSQL URL with a password, on a port where nothing listens.
    let url = format!(
        "postgres://switchboard:hunter2-secret@127.0.0.1:{}/switchboard",
        free_port()
    );
    let (output, _, stderr) = run(production(dir.path(), &url)
        .env("SWITCHBOARD__DATABASE__CONNECT_TIMEOUT_MS", "1000")
        .arg("--check"));
    assert!(!output.status.success(), "nothing listens: {stderr}");
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
    assert!(
        stderr.contains("postgres://switchboard:***@127.0.0.1"),
        "{stderr}"
    );

    // Settings from --config-dir: the file is named and its database used.
    let url = migrated(dir.path(), "from-config-dir.db");
    let config = dir.path().join("conf");
    std::fs::create_dir(&config).expect("config dir");
    std::fs::write(
        config.join("production.toml"),
        format!("[database]\nurl = \"{url}\"\n"),
    )
    .expect("settings file");
    let mut command = production(dir.path(), "");
    command.env_remove("SWITCHBOARD__DATABASE__URL");
    let (output, stdout, stderr) = run(command.arg("--config-dir").arg(&config).arg("--check"));
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("check passed"), "{stdout}");
    assert!(
        stderr.contains(&config.join("production.toml").display().to_string())
            && stderr.contains("from-config-dir.db"),
        "{stderr}"
    );
}

/// The `test` of the server's health check in docker-compose.yml, which must be a
/// `CMD-SHELL` string (the form Docker runs with the image's `/bin/sh`).
fn compose_health_command() -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docker-compose.yml"
    ))
    .expect("docker-compose.yml");
    let compose = yaml_rust2::YamlLoader::load_from_str(&text)
        .expect("YAML")
        .remove(0);
    let test = &compose["services"]["switchboard"]["healthcheck"]["test"];
    let parts: Vec<&str> = test
        .as_vec()
        .expect("a list")
        .iter()
        .filter_map(yaml_rust2::Yaml::as_str)
        .collect();
    assert_eq!(parts.first(), Some(&"CMD-SHELL"), "{parts:?}");
    parts.get(1).expect("a command").to_string()
}

/// Runs `command` with dash, as Debian's `/bin/sh` would, with the binary's folder
/// first on `PATH` (where the image installs it).
fn under_dash(command: &str, port: u16) -> Output {
    let folder = Path::new(BINARY).parent().expect("binary folder");
    let path = format!(
        "{}:{}",
        folder.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("dash")
        .arg("-c")
        .arg(command)
        .env_clear()
        .env("PATH", path)
        .env("SWITCHBOARD__SERVER__PORT", port.to_string())
        .output()
        .expect("dash runs (Debian's /bin/sh; apt-get install dash)")
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_compose_health_check_passes_under_dash_against_a_running_server() {
    let command = compose_health_command();
    assert!(command.contains("switchboard health"), "{command}");

    // Nothing listens yet: the check fails.
    let port = free_port();
    let output = under_dash(&command, port);
    assert!(!output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot reach"),
        "{output:?}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let url = migrated(dir.path(), "health.db");
    let mut child = production(dir.path(), &url)
        .env("SWITCHBOARD__SERVER__PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let output = loop {
        let output = under_dash(&command, port);
        if output.status.success() || Instant::now() > deadline {
            break output;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the server exited"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    stop(&mut child);
    assert!(
        output.status.success(),
        "the health check passes once ready: {output:?}"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("200"),
        "{output:?}"
    );
}
