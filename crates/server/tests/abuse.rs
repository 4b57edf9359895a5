//! Abuse tests of the real `switchboard` binary (red-team findings M3, L4 and M5):
//! parallel guesses at one email's password, and slow request bodies. They start
//! processes and take tens of seconds, so they are ignored by default; `.ci/run` runs
//! them with
//! `cargo test -p switchboard-server --test abuse -- --ignored --test-threads=1`.
//! Each prints what it did and what it saw, is bounded in time and stops by itself.

#![expect(
    clippy::expect_used,
    reason = "abuse scenarios: a failed step is a test failure"
)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use switchboard_server::settings::Loaded;
use switchboard_server::{Profile, startup};
use switchboard_test_support::process::{
    ServerProcess, TEST_HMAC_KEY, TEST_KEY, free_port, get_status, server_command,
};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

/// Starts the binary in the development profile (migrations at start) over a SQLite
/// file in `dir`, with the test keys and `extra` settings.
fn start_server(dir: &Path, port: u16, extra: &[(&str, &str)]) -> ServerProcess {
    let mut command = server_command(BINARY, dir, "development", port);
    command.env("SWITCHBOARD__DATABASE__URL", database_url(dir));
    for (name, value) in extra {
        command.env(name, value);
    }
    ServerProcess::start(&mut command, port, Duration::from_secs(120))
}

/// Whether the server answers `GET /health/live`.
fn live(port: u16) -> bool {
    get_status(port, "/health/live") == Some(200)
}

/// The server's resident memory in KiB.
fn rss_kib(server: &ServerProcess) -> u64 {
    server
        .memory_kib("VmRSS")
        .expect("/proc/<pid>/status has VmRSS (these tests run on Linux)")
}

fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("abuse.db").display())
}

/// Services wired like the server over its database and keys (to create a user).
fn services_over(dir: &Path) -> switchboard_server::Services {
    let mut settings =
        switchboard_test_support::test_settings(&database_url(dir), dir.to_path_buf());
    settings.crypto.keys = SecretString::from(format!("1:{TEST_KEY}"));
    settings.auth.token_hmac_key = SecretString::from(TEST_HMAC_KEY);
    startup::services(&Loaded {
        profile: Profile::Test,
        settings,
        notes: Vec::new(),
    })
    .expect("services wire")
}

/// M3 and L4: 300 parallel wrong passwords for one email, from one client address
/// (behind a trusted proxy), are limited exactly as sequential ones: at most the
/// per-email limit are checked (401), the rest refused (429). Then the right
/// password from another address logs in.
#[test]
#[ignore = "abuse test: run by .ci/run"]
fn parallel_wrong_logins_are_limited_like_sequential_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    // Defaults: 10 failures a minute per email, 30 per address.
    let server = start_server(
        dir.path(),
        port,
        &[("SWITCHBOARD__SERVER__TRUSTED_PROXIES", "127.0.0.1,::1")],
    );
    services_over(dir.path())
        .identity
        .create_user(
            "owner@acme.test",
            &SecretString::from("correct horse battery"),
        )
        .expect("user");
    let runtime = switchboard_test_support::runtime();
    let (statuses, took) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client");
        let started = Instant::now();
        let attempts = (0..300).map(|n| {
            client
                .post(server.url("/api/v2/platform/auth/login/"))
                .header("X-Forwarded-For", "203.0.113.9")
                .json(&json!({"email": "owner@acme.test", "password": format!("guess {n}")}))
                .send()
        });
        let statuses: Vec<u16> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(|response| response.expect("answered").status().as_u16())
            .collect();
        (statuses, started.elapsed())
    });
    let checked = statuses.iter().filter(|status| **status == 401).count();
    let refused = statuses.iter().filter(|status| **status == 429).count();
    println!(
        "300 parallel wrong logins in {took:?}: {checked} checked (401), {refused} refused (429)"
    );
    assert_eq!(checked + refused, 300, "only 401 and 429: {statuses:?}");
    // The per-email bucket holds 10 and refills one cell every 6 s: whatever the
    // burst took longer than that could let one more through per 6 s.
    let slack = usize::try_from(took.as_secs() / 6).expect("small") + 1;
    assert!(
        (10..=10 + slack).contains(&checked),
        "{checked} checked; the limit is 10 (+{slack} for {took:?})"
    );
    let owner = runtime.block_on(async {
        reqwest::Client::new()
            .post(server.url("/api/v2/platform/auth/login/"))
            .header("X-Forwarded-For", "198.51.100.7")
            .json(&json!({"email": "owner@acme.test", "password": "correct horse battery"}))
            .send()
            .await
            .expect("answered")
    });
    assert_eq!(
        owner.status(),
        200,
        "the owner, from another address, logs in"
    );
}

/// One slow client: the connection, when it was opened and closed, what it got.
struct Trickle {
    stream: TcpStream,
    opened: Instant,
    closed: Option<Instant>,
    answer: Vec<u8>,
}

impl Trickle {
    fn open(port: u16) -> Self {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connected");
        stream
            .write_all(
                b"POST /api/v2/platform/auth/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16000\r\n\r\n{",
            )
            .expect("head sent");
        stream.set_nonblocking(true).expect("non-blocking");
        Self {
            stream,
            opened: Instant::now(),
            closed: None,
            answer: Vec::new(),
        }
    }

    /// Reads what arrived, then sends one more byte; notes when the server closed.
    fn step(&mut self) {
        if self.closed.is_some() {
            return;
        }
        let mut buffer = [0_u8; 1024];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => {
                    self.closed = Some(Instant::now());
                    return;
                }
                Ok(read) => self.answer.extend_from_slice(&buffer[..read]),
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.closed = Some(Instant::now());
                    return;
                }
            }
        }
        if self.stream.write_all(b" ").is_err() {
            self.closed = Some(Instant::now());
        }
    }
}

/// M5: 300 connections that send a body one byte a second are all answered 408 and
/// cut within the body time limit (10 s) plus a few seconds, while others are
/// served; the server's memory comes back down once they are gone.
#[test]
#[ignore = "abuse test: run by .ci/run"]
fn slow_bodies_are_cut_and_their_memory_freed() {
    const CLIENTS: usize = 300;
    let body_timeout = Duration::from_secs(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let server = start_server(dir.path(), port, &[]);
    // Warm up: a few ordinary requests, so that the baseline holds what any
    // running server holds.
    for _ in 0..20 {
        assert!(live(port));
    }
    let rss_before = rss_kib(&server);
    let mut clients: Vec<Trickle> = (0..CLIENTS).map(|_| Trickle::open(port)).collect();
    let started = Instant::now();
    let mut rss_peak = rss_before;
    let mut worst_live = Duration::ZERO;
    while clients.iter().any(|client| client.closed.is_none())
        && started.elapsed() < body_timeout + Duration::from_secs(10)
    {
        for client in &mut clients {
            client.step();
        }
        rss_peak = rss_peak.max(rss_kib(&server));
        let asked = Instant::now();
        assert!(live(port), "others are served meanwhile");
        worst_live = worst_live.max(asked.elapsed());
        std::thread::sleep(Duration::from_secs(1));
    }
    let open = clients
        .iter()
        .filter(|client| client.closed.is_none())
        .count();
    let cut_after: Vec<Duration> = clients
        .iter()
        .filter_map(|client| Some(client.closed? - client.opened))
        .collect();
    let latest = cut_after.iter().max().copied().unwrap_or_default();
    let answered_408 = clients
        .iter()
        .filter(|client| client.answer.starts_with(b"HTTP/1.1 408"))
        .count();
    std::thread::sleep(Duration::from_secs(2));
    let rss_after = rss_kib(&server);
    println!(
        "{CLIENTS} slow bodies: {open} still open, {answered_408} answered 408, the last cut after {latest:?}; \
         others' worst latency {worst_live:?}; RSS {rss_before} KiB before, {rss_peak} KiB at most, {rss_after} KiB after"
    );
    assert_eq!(open, 0, "every slow body is cut");
    assert_eq!(answered_408, CLIENTS, "each with 408 request_timeout");
    assert!(
        latest <= body_timeout + Duration::from_secs(4),
        "cut within the body time limit plus a few seconds, not after {latest:?}"
    );
    assert!(worst_live < Duration::from_secs(1), "{worst_live:?}");
    assert!(
        rss_after <= rss_before + 8 * 1024,
        "memory comes back down: {rss_before} KiB before, {rss_after} KiB after"
    );
}
