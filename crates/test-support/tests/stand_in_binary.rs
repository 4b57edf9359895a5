//! `switchboard-stand-in` as walk-throughs run it: it prints the port it listens on,
//! answers for the credentials given with `--accept` only, refuses bad arguments
//! without repeating a secret, and stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard-stand-in");

#[test]
fn the_binary_serves_what_it_was_told_to_accept() {
    let mut child = Command::new(BINARY)
        .args([
            "--port",
            "0",
            "--accept",
            "twilio:AC1:tok",
            "--accept",
            "vonage:key1:sec:ret",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("announces its address");
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening on http://...")
        .to_owned();
    let statuses = switchboard_test_support::block_on(async {
        let client = reqwest::Client::new();
        let get = |path: &str, user: &str, password: &str| {
            client
                .get(format!("{base_url}{path}"))
                .basic_auth(user, Some(password))
                .send()
        };
        [
            get("/2010-04-01/Accounts/AC1.json", "AC1", "tok").await,
            get("/2010-04-01/Accounts/AC1.json", "AC1", "wrong").await,
            get("/2010-04-01/Accounts/AC2.json", "AC2", "tok").await,
            get("/account/get-balance", "key1", "sec:ret").await,
            get("/nowhere", "AC1", "tok").await,
        ]
        .map(|answer| answer.expect("answered").status().as_u16())
    });
    assert_eq!(statuses, [200, 401, 401, 200, 404]);
    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "stops on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bad_arguments_are_refused_without_the_secret() {
    let output = Command::new(BINARY)
        .args(["--accept", "nowhere:AC1:hunter2"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown provider"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
