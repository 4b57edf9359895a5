//! Fault test of the real `switchboard` binary on SQLite with its storage full
//! (red-team finding L10): the server's file-size limit (`RLIMIT_FSIZE`) is lowered
//! under it, with `SIGXFSZ` ignored, so that every write that extends a file fails
//! with `EFBIG`, as on a full disk. Writes must answer 503 `unavailable` with
//! `Retry-After` (never 500), reads go on, `/health/ready` is 503 with
//! `database_writes: failing`; once the limit is lifted, writes and readiness
//! recover without a restart and nothing acknowledged is lost.
//!
//! Ignored by default (it starts a process and changes its limits); `.ci/run` runs
//! it with `--ignored`.

#![expect(
    clippy::expect_used,
    reason = "fault scenarios: a failed step is a test failure"
)]

use std::time::{Duration, Instant};

use rustix::process::{Pid, Resource, Rlimit, prlimit};
use serde_json::{Value, json};
use switchboard_test_support::process::{ServerProcess, free_port, server_command};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method, format!("{}{path}", self.base))
                .timeout(Duration::from_secs(20))
                .header("Authorization", format!("Token {}", self.token))
                .header("Org-Handle", "default");
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the server answers");
            Answer {
                status: response.status().as_u16(),
                retry_after: response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
                body: response.json().await.unwrap_or_default(),
            }
        })
    }

    fn create(&self, n: u32) -> Answer {
        self.send(
            reqwest::Method::POST,
            "/api/v2/platform/telephony/providers-configurations/",
            Some(
                json!({"provider": "twilio", "account_sid": format!("AC{n:032x}"),
                        "auth_token": format!("{n:032x}")}),
            ),
        )
    }

    fn ready(&self) -> Answer {
        self.send(reqwest::Method::GET, "/health/ready", None)
    }
}

fn set_file_size_limit(pid: u32, bytes: Option<u64>) {
    let pid = Pid::from_raw(i32::try_from(pid).expect("pid fits")).expect("a pid");
    prlimit(
        Some(pid),
        Resource::Fsize,
        Rlimit {
            current: bytes,
            maximum: None,
        },
    )
    .expect("the limit is set");
}

#[test]
#[ignore = "fault test of the real binary: run by .ci/run with --ignored"]
fn a_full_disk_answers_503_and_readiness_says_so_until_writes_work_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("full.db");
    let port = free_port();
    // `trap '' XFSZ` is inherited through exec: a write past the limit fails with
    // EFBIG instead of killing the process.
    let mut command = server_command("sh", dir.path(), "development", port);
    command
        .arg("-c")
        .arg("trap '' XFSZ; exec \"$0\"")
        .arg(BINARY)
        .env(
            "SWITCHBOARD__DATABASE__URL",
            format!("sqlite://{}", database.display()),
        )
        .env("SWITCHBOARD__RATE_LIMIT__PER_SECOND", "0")
        .env("SWITCHBOARD__RATE_LIMIT__PER_USER_PER_SECOND", "0");
    let mut server = ServerProcess::start(&mut command, port, Duration::from_secs(60));
    let token = server.first_token().expect("the first token");
    let client = Client {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
        token,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.ready().body["unreadable_credentials"].is_null() {
        assert!(Instant::now() < deadline, "readiness never settled");
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut acknowledged = Vec::new();
    for n in 0..5 {
        let answer = client.create(n);
        assert_eq!(answer.status, 201, "{}", answer.body);
        acknowledged.push(n);
    }
    let ready = client.ready();
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["database_writes"], "ok");

    // The disk fills: no file may grow past 1 KiB (every WAL frame lies beyond it).
    set_file_size_limit(server.pid(), Some(1024));
    let mut refused = 0;
    for n in 100..120 {
        let answer = client.create(n);
        match answer.status {
            201 => acknowledged.push(n),
            503 => {
                refused += 1;
                assert_eq!(answer.body["code"], "unavailable", "{}", answer.body);
                assert_eq!(answer.retry_after.as_deref(), Some("1"));
            }
            other => panic!("a write answered {other} on a full disk: {}", answer.body),
        }
    }
    println!(
        "full disk: {refused} of 20 writes refused with 503, {} acknowledged",
        acknowledged.len() - 5
    );
    assert!(refused >= 19, "writes must fail while the disk is full");
    let list = client.send(
        reqwest::Method::GET,
        "/api/v2/platform/telephony/providers-configurations/?page_size=100",
        None,
    );
    assert_eq!(list.status, 200, "reads go on: {}", list.body);
    let ready = client.ready();
    println!("readiness on a full disk: {} {}", ready.status, ready.body);
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.body["database_writes"], "failing", "{}", ready.body);
    assert_eq!(ready.body["database"], "ok", "{}", ready.body);
    assert_eq!(ready.retry_after.as_deref(), Some("1"));
    // Readiness keeps saying so while the disk is full (its probe write fails too).
    assert_eq!(client.ready().status, 503);

    // Space again: readiness recovers by itself, then writes do, without a restart.
    set_file_size_limit(server.pid(), None);
    let ready = client.ready();
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["database_writes"], "ok");
    for n in 200..205 {
        let answer = client.create(n);
        assert_eq!(answer.status, 201, "{}", answer.body);
        acknowledged.push(n);
    }

    assert!(
        server.stop().is_some(),
        "the server did not stop on SIGTERM"
    );
    let logs = server.stderr_lines();
    assert!(
        logs.iter().all(|line| !line.contains("internal error")),
        "no write was a 500: {logs:?}"
    );

    // Every acknowledged write is there, and the file is sound.
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut connection =
        SqliteConnection::establish(database.to_str().expect("utf-8 path")).expect("opens");
    let check: Check = diesel::sql_query("PRAGMA integrity_check")
        .get_result(&mut connection)
        .expect("integrity check runs");
    assert_eq!(check.integrity_check, "ok");
    #[derive(QueryableByName)]
    struct Sid {
        #[diesel(sql_type = diesel::sql_types::Text)]
        account_sid: String,
    }
    let stored: Vec<Sid> = diesel::sql_query("SELECT account_sid FROM provider_configurations")
        .load(&mut connection)
        .expect("rows read");
    for n in &acknowledged {
        let sid = format!("AC{n:032x}");
        assert!(
            stored.iter().any(|row| row.account_sid == sid),
            "acknowledged write {n} was lost"
        );
    }
}
