//! Number listings against the stand-in on loopback: each provider's paging is
//! followed to the last page with the right authentication, and refusals, broken
//! answers, slowness and closed ports are errors that carry nothing the provider
//! said.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::net::TcpListener;
use std::time::Duration;

use secrecy::SecretString;
use switchboard_domain::telephony::{CredentialsToVerify, NumberSource, NumberSourceError};
use switchboard_test_support::stand_in::{Provider, StandIn, StandInConfig};
use switchboard_verify::{HttpCredentialVerifier, VerifierSettings};

const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "0123456789abcdef0123456789abcdef";
const PLIVO_ID: &str = "MAXXXXXXXXXXXXXXXXXX";
const PLIVO_TOKEN: &str = "Zjc4YWQ0MTNhMTNhNjFkMTc2NmY5MmRmNzY5ZGVh";
const TELNYX_ACCOUNT: &str = "123e4567-e89b-12d3-a456-426614174000";
const TELNYX_KEY: &str = "KEY0123456789abcdefghijKLMN";

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

fn list(
    verifier: &HttpCredentialVerifier,
    provider: &str,
    id: &str,
    secret: &str,
) -> Result<Vec<String>, NumberSourceError> {
    let secret = SecretString::from(secret);
    verifier.list_numbers(
        provider,
        &CredentialsToVerify {
            account_sid: id,
            auth_token: &secret,
        },
    )
}

const FIVE: [&str; 5] = [
    "+14155550101",
    "+14155550102",
    "+14155550103",
    "+14155550104",
    "+14155550105",
];

#[test]
fn every_page_of_each_provider_is_read() {
    let plivo_numbers: Vec<String> = FIVE.iter().map(|n| n[1..].to_owned()).collect();
    let plivo_refs: Vec<&str> = plivo_numbers.iter().map(String::as_str).collect();
    let stand_in = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, TWILIO_SID, TWILIO_TOKEN)
            .accept(Provider::Plivo, PLIVO_ID, PLIVO_TOKEN)
            .accept(Provider::Telnyx, TELNYX_ACCOUNT, TELNYX_KEY)
            .numbers(TWILIO_SID, &FIVE)
            .numbers(PLIVO_ID, &plivo_refs)
            .numbers(TELNYX_ACCOUNT, &FIVE),
    );
    let verifier = verifier_for(&stand_in.base_url, 2000);
    assert_eq!(
        list(&verifier, "twilio", TWILIO_SID, TWILIO_TOKEN).expect("twilio"),
        FIVE
    );
    assert_eq!(
        list(&verifier, "telnyx", TELNYX_ACCOUNT, TELNYX_KEY).expect("telnyx"),
        FIVE
    );
    assert_eq!(
        list(&verifier, "plivo", PLIVO_ID, PLIVO_TOKEN).expect("plivo"),
        plivo_numbers
    );
    let requests = stand_in.requests();
    let lines: Vec<String> = requests.iter().map(|r| r.request_line()).collect();
    // Five numbers, two a page: three pages each.
    assert_eq!(
        lines,
        [
            format!(
                "GET /2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers.json?PageSize=1000 HTTP/1.1"
            ),
            format!(
                "GET /2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PA1 HTTP/1.1"
            ),
            format!(
                "GET /2010-04-01/Accounts/{TWILIO_SID}/IncomingPhoneNumbers.json?PageSize=2&Page=2&PageToken=PA2 HTTP/1.1"
            ),
            "GET /v2/phone_numbers?page%5Bnumber%5D=1&page%5Bsize%5D=250 HTTP/1.1".to_owned(),
            "GET /v2/phone_numbers?page%5Bnumber%5D=2&page%5Bsize%5D=250 HTTP/1.1".to_owned(),
            "GET /v2/phone_numbers?page%5Bnumber%5D=3&page%5Bsize%5D=250 HTTP/1.1".to_owned(),
            format!("GET /v1/Account/{PLIVO_ID}/Number/?limit=20&offset=0 HTTP/1.1"),
            format!("GET /v1/Account/{PLIVO_ID}/Number/?limit=2&offset=2 HTTP/1.1"),
            format!("GET /v1/Account/{PLIVO_ID}/Number/?limit=2&offset=4 HTTP/1.1"),
        ]
    );
    for request in &requests[..3] {
        // base64("AC0123456789abcdef0123456789abcdef:0123456789abcdef0123456789abcdef")
        assert_eq!(
            request.authorization.as_deref(),
            Some(
                "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjowMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg=="
            )
        );
    }
    for request in &requests[3..6] {
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {TELNYX_KEY}").as_str())
        );
    }
}

#[test]
fn refusals_and_broken_answers_are_errors_without_the_providers_words() {
    let stand_in = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, TWILIO_SID, TWILIO_TOKEN)
            .numbers(TWILIO_SID, &FIVE)
            .fail("AC00000000000000000000000000000500", 500)
            .garble("AC000000000000000000000000000000aa")
            .accept(
                Provider::Twilio,
                "AC000000000000000000000000000000aa",
                TWILIO_TOKEN,
            )
            .delay(
                "AC000000000000000000000000000000dd",
                Duration::from_millis(1500),
            ),
    );
    let verifier = verifier_for(&stand_in.base_url, 400);
    assert_eq!(
        list(
            &verifier,
            "twilio",
            TWILIO_SID,
            "ffffffffffffffffffffffffffffffff"
        ),
        Err(NumberSourceError::Status(401))
    );
    assert_eq!(
        list(
            &verifier,
            "twilio",
            "AC00000000000000000000000000000500",
            TWILIO_TOKEN
        ),
        Err(NumberSourceError::Status(500))
    );
    assert_eq!(
        list(
            &verifier,
            "twilio",
            "AC000000000000000000000000000000aa",
            TWILIO_TOKEN
        ),
        Err(NumberSourceError::Malformed("not JSON"))
    );
    assert_eq!(
        list(
            &verifier,
            "twilio",
            "AC000000000000000000000000000000dd",
            TWILIO_TOKEN
        ),
        Err(NumberSourceError::Unreachable("timeout"))
    );
    // A closed port: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let closed = verifier_for(&format!("http://127.0.0.1:{port}"), 400);
    assert!(matches!(
        list(&closed, "twilio", TWILIO_SID, TWILIO_TOKEN),
        Err(NumberSourceError::Unreachable(_))
    ));
    for error in [
        NumberSourceError::Status(401),
        NumberSourceError::Malformed("not JSON"),
    ] {
        assert!(!error.to_string().contains(TWILIO_TOKEN));
        assert!(!error.to_string().contains("Authenticate"));
    }
}
