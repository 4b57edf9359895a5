//! Access tokens minted by `switchboard_crypto::access_tokens`, verified by the
//! providers' own libraries: LiveKit's `livekit-api` `TokenVerifier` and PyJWT
//! (Twilio's documented header and claims). Ignored by default: they need the venv
//! that `scripts/reference/check.sh` installs, which runs them with
//! `SWITCHBOARD_REFERENCE_PYTHON` set.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use switchboard_crypto::access_tokens::{
    LiveKitClaims, LiveKitFlags, TwilioVoiceClaims, livekit_access_token, twilio_voice_access_token,
};

fn python() -> String {
    std::env::var("SWITCHBOARD_REFERENCE_PYTHON")
        .expect("run scripts/reference/check.sh (it sets SWITCHBOARD_REFERENCE_PYTHON)")
}

fn script() -> String {
    format!(
        "{}/../../scripts/reference/providers.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn now() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(seconds).expect("fits")
}

/// Runs the reference script: its JSON output, or its error output.
fn reference(args: &[&str]) -> Result<Value, String> {
    let output = Command::new(python())
        .arg(script())
        .args(args)
        .output()
        .expect("python runs");
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("JSON"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn livekit(secret: &SecretString, issued_at: i64, expires_at: i64) -> SecretString {
    livekit_access_token(
        secret,
        &LiveKitClaims {
            api_key: "APIreference1",
            identity: "agent-7",
            name: Some("Agent Seven"),
            room: "call-42",
            flags: LiveKitFlags {
                can_publish: true,
                can_subscribe: true,
                can_publish_data: false,
            },
            issued_at,
            expires_at,
        },
    )
}

#[test]
#[ignore = "needs the reference venv: scripts/reference/check.sh"]
fn livekits_verifier_accepts_minted_tokens() {
    let secret = SecretString::from("livekit-secret-of-at-least-32-characters!");
    let issued_at = now();
    let token = livekit(&secret, issued_at, issued_at + 600);
    let verify = |secret: &str, token: &SecretString| {
        reference(&[
            "verify-livekit",
            "APIreference1",
            secret,
            token.expose_secret(),
            "agent-7",
            "call-42",
        ])
    };
    let claims = verify(secret.expose_secret(), &token).expect("LiveKit's verifier accepts it");
    assert_eq!(claims["identity"], "agent-7");
    assert_eq!(claims["name"], "Agent Seven");
    assert_eq!(claims["room"], "call-42");
    assert_eq!(claims["room_join"], true);
    assert_eq!(claims["can_publish"], true);
    assert_eq!(claims["can_subscribe"], true);
    assert_eq!(claims["can_publish_data"], false);

    // Another secret, or an expired token, is refused.
    assert!(verify("another-secret-of-at-least-32-characters", &token).is_err());
    let expired = livekit(&secret, issued_at - 7200, issued_at - 3600);
    assert!(verify(secret.expose_secret(), &expired).is_err());
}

#[test]
#[ignore = "needs the reference venv: scripts/reference/check.sh"]
fn twilio_access_tokens_decode_with_pyjwt() {
    let secret = SecretString::from("twilio-api-key-secret-32-characters!!");
    let issued_at = now();
    let token = twilio_voice_access_token(
        &secret,
        &TwilioVoiceClaims {
            account_sid: "AC00000000000000000000000000000007",
            api_key_sid: "SK00000000000000000000000000000007",
            identity: "alice",
            issued_at,
            expires_at: issued_at + 600,
        },
    );
    let decoded = reference(&[
        "verify-twilio",
        secret.expose_secret(),
        token.expose_secret(),
    ])
    .expect("PyJWT decodes the token");
    assert_eq!(decoded["header"]["cty"], "twilio-fpa;v=1");
    assert_eq!(decoded["header"]["alg"], "HS256");
    let claims = &decoded["claims"];
    assert_eq!(claims["iss"], "SK00000000000000000000000000000007");
    assert_eq!(claims["sub"], "AC00000000000000000000000000000007");
    assert_eq!(claims["grants"]["identity"], "alice");
    assert_eq!(claims["grants"]["voice"]["incoming"]["allow"], true);
    assert_eq!(claims["exp"], issued_at + 600);
    assert!(reference(&["verify-twilio", "wrong", token.expose_secret()]).is_err());
}
