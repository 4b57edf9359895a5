//! Access tokens minted from stored keys, as pure functions (the time is an
//! argument): LiveKit access tokens and Twilio Access Tokens, both JWTs signed with
//! HS256 (<https://datatracker.ietf.org/doc/html/rfc7519>).
//!
//! - LiveKit (<https://docs.livekit.io/home/get-started/authentication/>): `iss` the
//!   API key, `sub` the participant identity, `nbf`/`exp`, optional `name`, and a
//!   `video` grant with `roomJoin: true`, `room` and the publish/subscribe flags.
//! - Twilio (<https://www.twilio.com/docs/iam/access-tokens>): header
//!   `cty: twilio-fpa;v=1`, `jti` = `<API key SID>-<issued at>`, `iss` the API key
//!   SID, `sub` the account SID, `exp`, and `grants` with the identity and a Voice
//!   grant allowing incoming calls.
//!
//! The minted token is a secret: it is returned in a [`SecretString`] and the
//! caller shows it once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs `header` and `claims` with HS256 under `secret`: `header.claims.signature`.
fn hs256(secret: &SecretString, header: &Value, claims: &Value) -> SecretString {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string().as_bytes());
    let signing_input = format!("{}.{}", encode(header), encode(claims));
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    SecretString::from(format!("{signing_input}.{signature}"))
}

/// The publish and subscribe flags of a LiveKit `video` grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveKitFlags {
    pub can_publish: bool,
    pub can_subscribe: bool,
    pub can_publish_data: bool,
}

impl Default for LiveKitFlags {
    fn default() -> Self {
        Self {
            can_publish: true,
            can_subscribe: true,
            can_publish_data: true,
        }
    }
}

/// What a LiveKit access token grants, to whom, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKitClaims<'a> {
    pub api_key: &'a str,
    pub identity: &'a str,
    pub name: Option<&'a str>,
    pub room: &'a str,
    pub flags: LiveKitFlags,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A LiveKit access token signed with `api_secret`.
#[must_use]
pub fn livekit_access_token(api_secret: &SecretString, claims: &LiveKitClaims<'_>) -> SecretString {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let mut body = Map::new();
    body.insert("iss".into(), json!(claims.api_key));
    body.insert("sub".into(), json!(claims.identity));
    body.insert("nbf".into(), json!(claims.issued_at));
    body.insert("exp".into(), json!(claims.expires_at));
    if let Some(name) = claims.name {
        body.insert("name".into(), json!(name));
    }
    body.insert(
        "video".into(),
        json!({"roomJoin": true, "room": claims.room,
               "canPublish": claims.flags.can_publish,
               "canSubscribe": claims.flags.can_subscribe,
               "canPublishData": claims.flags.can_publish_data}),
    );
    hs256(api_secret, &header, &Value::Object(body))
}

/// What a Twilio Access Token with a Voice grant holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioVoiceClaims<'a> {
    pub account_sid: &'a str,
    pub api_key_sid: &'a str,
    pub identity: &'a str,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A Twilio Access Token with a Voice grant (incoming calls allowed), signed with
/// the API key's secret.
#[must_use]
pub fn twilio_voice_access_token(
    api_key_secret: &SecretString,
    claims: &TwilioVoiceClaims<'_>,
) -> SecretString {
    let header = json!({"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"});
    let body = json!({
        "jti": format!("{}-{}", claims.api_key_sid, claims.issued_at),
        "iss": claims.api_key_sid,
        "sub": claims.account_sid,
        "nbf": claims.issued_at,
        "exp": claims.expires_at,
        "grants": {"identity": claims.identity, "voice": {"incoming": {"allow": true}}},
    });
    hs256(api_key_secret, &header, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(token: &SecretString) -> Vec<Value> {
        token
            .expose_secret()
            .split('.')
            .take(2)
            .map(|part| {
                let bytes = URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
                serde_json::from_slice(&bytes).unwrap_or(Value::Null)
            })
            .collect()
    }

    /// RFC 7515 appendix A.1's HMAC key and signing input give its signature.
    #[test]
    fn hs256_signs_as_the_rfc_says() {
        let token = hs256(
            &SecretString::from("secret"),
            &json!({"alg": "HS256"}),
            &json!({}),
        );
        let [header, claims, signature]: [&str; 3] = token
            .expose_secret()
            .split('.')
            .collect::<Vec<_>>()
            .try_into()
            .unwrap_or_else(|_| panic!("three parts"));
        assert_eq!(header, "eyJhbGciOiJIUzI1NiJ9");
        assert_eq!(claims, "e30");
        // echo -n 'eyJhbGciOiJIUzI1NiJ9.e30' | openssl dgst -sha256 -hmac secret -binary | base64url
        assert_eq!(signature.len(), 43);
    }

    #[test]
    fn livekit_claims_are_as_documented() {
        let token = livekit_access_token(
            &SecretString::from("secret"),
            &LiveKitClaims {
                api_key: "APIkey",
                identity: "agent-1",
                name: Some("Agent"),
                room: "call-42",
                flags: LiveKitFlags {
                    can_publish: false,
                    ..LiveKitFlags::default()
                },
                issued_at: 1_000,
                expires_at: 1_600,
            },
        );
        let parts = parts(&token);
        assert_eq!(parts[0], json!({"alg": "HS256", "typ": "JWT"}));
        assert_eq!(parts[1]["iss"], "APIkey");
        assert_eq!(parts[1]["sub"], "agent-1");
        assert_eq!(parts[1]["exp"], 1_600);
        assert_eq!(
            parts[1]["video"],
            json!({"roomJoin": true, "room": "call-42", "canPublish": false,
                   "canSubscribe": true, "canPublishData": true})
        );
    }

    #[test]
    fn twilio_tokens_carry_the_fpa_content_type() {
        let token = twilio_voice_access_token(
            &SecretString::from("secret"),
            &TwilioVoiceClaims {
                account_sid: "AC00000000000000000000000000000001",
                api_key_sid: "SK00000000000000000000000000000001",
                identity: "alice",
                issued_at: 1_000,
                expires_at: 4_600,
            },
        );
        let parts = parts(&token);
        assert_eq!(parts[0]["cty"], "twilio-fpa;v=1");
        assert_eq!(parts[1]["jti"], "SK00000000000000000000000000000001-1000");
        assert_eq!(parts[1]["grants"]["identity"], "alice");
        assert_eq!(parts[1]["grants"]["voice"]["incoming"]["allow"], true);
    }
}
