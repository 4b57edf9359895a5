//! The adapter against a stand-in provider on loopback: the request each provider
//! gets (path and authentication), and how answers, slowness and silence map to
//! outcomes.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use switchboard_domain::telephony::{CredentialVerifier, CredentialsToVerify, VerificationStatus};
use switchboard_test_support::stand_in::{Provider, Rule, StandIn, StandInConfig};
use switchboard_verify::{HttpCredentialVerifier, VerifierSettings};

/// A stand-in answering every request with `status`.
fn answering(status: u16) -> StandIn {
    StandIn::start(StandInConfig::new().otherwise(Rule {
        delay: Duration::ZERO,
        status: Some(status),
    }))
}

fn verifier_for(base_url: &str, timeout_ms: u64) -> HttpCredentialVerifier {
    let settings = VerifierSettings {
        timeout: Duration::from_millis(timeout_ms),
        ..VerifierSettings::default()
    };
    HttpCredentialVerifier::new(
        settings
            .with_base_url("twilio", base_url)
            .with_base_url("plivo", format!("{base_url}/"))
            .with_base_url("vonage", base_url)
            .with_base_url("telnyx", base_url),
    )
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
    let stand_in = StandIn::start(cases.iter().fold(
        StandInConfig::new(),
        |config, (provider, sid, _, _)| {
            config.accept(
                Provider::from_slug(provider).expect("a stand-in provider"),
                sid,
                "tok",
            )
        },
    ));
    let verifier = verifier_for(&stand_in.base_url, 2000);
    for (provider, sid, request_line, authorization) in cases {
        assert_eq!(
            check(&verifier, provider, sid, "tok"),
            VerificationStatus::Valid
        );
        let seen = stand_in.requests().last().cloned().expect("seen");
        assert_eq!(seen.request_line(), request_line, "{provider}");
        assert_eq!(
            seen.authorization.as_deref(),
            Some(authorization),
            "{provider}"
        );
        assert!(!seen.path.contains("tok"), "no secret in the URL");
        // The provider refuses another secret: the credentials are invalid.
        assert_eq!(
            check(&verifier, provider, sid, "other"),
            VerificationStatus::Invalid,
            "{provider}"
        );
    }
    assert_eq!(stand_in.calls(), 8);
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
        let stand_in = answering(status);
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
    let stand_in = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, "AC1", "tok")
            .delay("AC1", Duration::from_secs(3)),
    );
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
