//! The adapter against a stand-in provider on loopback: the request each provider
//! gets (path and authentication), and how answers, slowness and silence map to
//! outcomes.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use switchboard_domain::telephony::{CredentialVerifier, CredentialsToVerify, VerificationStatus};
use switchboard_verify::{HttpCredentialVerifier, VerifierSettings};

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    authorization: Option<String>,
}

/// A stand-in answering every request with `status` after `delay`.
struct StandIn {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn stand_in(status: u16, delay: Duration) -> StandIn {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let record = record.clone();
            thread::spawn(move || answer(stream, status, delay, &record));
        }
    });
    StandIn { base_url, seen }
}

fn answer(stream: TcpStream, status: u16, delay: Duration, record: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    record.lock().expect("lock").push(Seen {
        request_line: request_line.trim().to_owned(),
        authorization,
    });
    thread::sleep(delay);
    let body = if status == 200 {
        r#"{"ok":true}"#
    } else {
        r#"{"error":"no"}"#
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn verifier_for(base_url: &str, timeout_ms: u64) -> HttpCredentialVerifier {
    HttpCredentialVerifier::new(VerifierSettings {
        twilio_base_url: base_url.to_owned(),
        plivo_base_url: format!("{base_url}/"),
        vonage_base_url: base_url.to_owned(),
        telnyx_base_url: base_url.to_owned(),
        timeout: Duration::from_millis(timeout_ms),
    })
    .expect("valid settings")
}

fn check(
    verifier: &HttpCredentialVerifier,
    provider: &str,
    sid: &str,
    token: &str,
) -> VerificationStatus {
    let token = SecretString::from(token);
    verifier
        .verify(
            provider,
            &CredentialsToVerify {
                account_sid: sid,
                auth_token: &token,
            },
        )
        .expect("supported")
}

#[test]
fn each_provider_gets_its_who_am_i_call() {
    let stand_in = stand_in(200, Duration::ZERO);
    let verifier = verifier_for(&stand_in.base_url, 2000);
    let cases = [
        (
            "twilio",
            "AC0123456789abcdef0123456789abcdef",
            "GET /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json HTTP/1.1",
            // base64("AC0123456789abcdef0123456789abcdef:tok")
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2s=",
        ),
        (
            "plivo",
            "MAXXXXXXXXXXXXXXXXXX",
            "GET /v1/Account/MAXXXXXXXXXXXXXXXXXX/ HTTP/1.1",
            "Basic TUFYWFhYWFhYWFhYWFhYWFhYWFg6dG9r",
        ),
        (
            "vonage",
            "abcdef01",
            "GET /account/get-balance HTTP/1.1",
            "Basic YWJjZGVmMDE6dG9r",
        ),
        (
            "telnyx",
            "00000000-0000-0000-0000-000000000000",
            "GET /v2/balance HTTP/1.1",
            "Bearer tok",
        ),
    ];
    for (provider, sid, request_line, authorization) in cases {
        assert_eq!(
            check(&verifier, provider, sid, "tok"),
            VerificationStatus::Valid
        );
        let seen = stand_in
            .seen
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("seen");
        assert_eq!(seen.request_line, request_line, "{provider}");
        assert_eq!(
            seen.authorization.as_deref(),
            Some(authorization),
            "{provider}"
        );
        assert!(!seen.request_line.contains("tok"), "no secret in the URL");
    }
}

#[test]
fn refusals_are_invalid_and_failures_unreachable() {
    for (status, expected) in [
        (401, VerificationStatus::Invalid),
        (403, VerificationStatus::Invalid),
        (404, VerificationStatus::Invalid),
        (500, VerificationStatus::Unreachable),
        (503, VerificationStatus::Unreachable),
        (429, VerificationStatus::Unreachable),
        (302, VerificationStatus::Unreachable),
    ] {
        let stand_in = stand_in(status, Duration::ZERO);
        let verifier = verifier_for(&stand_in.base_url, 2000);
        assert_eq!(
            check(&verifier, "twilio", "AC1", "tok"),
            expected,
            "{status}"
        );
    }
}

#[test]
fn a_slow_provider_is_unreachable_within_the_timeout() {
    let stand_in = stand_in(200, Duration::from_secs(3));
    let verifier = verifier_for(&stand_in.base_url, 300);
    let started = Instant::now();
    assert_eq!(
        check(&verifier, "twilio", "AC1", "tok"),
        VerificationStatus::Unreachable
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the timeout holds"
    );
}

#[test]
fn a_closed_port_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let verifier = verifier_for(&base_url, 1000);
    assert_eq!(
        check(&verifier, "vonage", "abcdef01", "tok"),
        VerificationStatus::Unreachable
    );
}
