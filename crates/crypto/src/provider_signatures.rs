//! Providers' webhook signatures, checked with a stored secret that never leaves
//! this module's callers.
//!
//! Twilio's `X-Twilio-Signature` (<https://www.twilio.com/docs/usage/security>):
//! base64 of HMAC-SHA1, keyed by the account's auth token, over the full URL of the
//! request followed by each POST parameter, sorted by name, as its name then its
//! value (no separators). Parameters with several values contribute each distinct
//! value under their name, values sorted (as Twilio's own libraries compute it).
//! The comparison is constant-time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

use switchboard_domain::telephony::{
    AccessTokenMinter, LiveKitGrant, SignedWebhook, WebhookSignatures,
};

use crate::access_tokens::{
    LiveKitClaims, LiveKitFlags, TwilioVoiceClaims, livekit_access_token, twilio_voice_access_token,
};

type HmacSha1 = Hmac<Sha1>;

impl AccessTokenMinter for ProviderSignatures {
    fn livekit(
        &self,
        api_key: &str,
        api_secret: &SecretString,
        grant: &LiveKitGrant,
        issued_at: i64,
        expires_at: i64,
    ) -> SecretString {
        livekit_access_token(
            api_secret,
            &LiveKitClaims {
                api_key,
                identity: &grant.identity,
                name: grant.name.as_deref(),
                room: &grant.room,
                flags: LiveKitFlags {
                    can_publish: grant.can_publish,
                    can_subscribe: grant.can_subscribe,
                    can_publish_data: grant.can_publish_data,
                },
                issued_at,
                expires_at,
            },
        )
    }

    fn twilio_voice(
        &self,
        account_sid: &str,
        api_key_sid: &str,
        api_key_secret: &SecretString,
        identity: &str,
        issued_at: i64,
        expires_at: i64,
    ) -> SecretString {
        twilio_voice_access_token(
            api_key_secret,
            &TwilioVoiceClaims {
                account_sid,
                api_key_sid,
                identity,
                issued_at,
                expires_at,
            },
        )
    }
}

/// [`WebhookSignatures`] for the schemes of this module (Twilio), and
/// [`AccessTokenMinter`] over [`crate::access_tokens`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ProviderSignatures;

impl WebhookSignatures for ProviderSignatures {
    fn matches(&self, slug: &str, secret: &SecretString, webhook: &SignedWebhook) -> Option<bool> {
        match slug {
            "twilio" => Some(twilio_signature_matches(
                secret,
                &webhook.url,
                &webhook.params,
                &webhook.signature,
            )),
            _ => None,
        }
    }
}

/// The string Twilio signs: the URL, then every parameter's name and value, sorted
/// by name (and by value within a name).
#[must_use]
pub fn twilio_signed_payload(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // Twilio's libraries take each name's distinct values.
    sorted.dedup();
    let mut payload = String::from(url);
    for (name, value) in sorted {
        payload.push_str(name);
        payload.push_str(value);
    }
    payload
}

/// Twilio's signature of `url` and `params` under `auth_token` (base64).
#[must_use]
pub fn twilio_signature(
    auth_token: &SecretString,
    url: &str,
    params: &[(String, String)],
) -> String {
    STANDARD.encode(twilio_mac(auth_token, url, params).finalize().into_bytes())
}

fn twilio_mac(auth_token: &SecretString, url: &str, params: &[(String, String)]) -> HmacSha1 {
    // HMAC takes keys of any length.
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(auth_token.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(twilio_signed_payload(url, params).as_bytes());
    mac
}

/// Whether `signature` (base64, as sent in `X-Twilio-Signature`) is Twilio's
/// signature of `url` and `params` under `auth_token`; compared in constant time.
#[must_use]
pub fn twilio_signature_matches(
    auth_token: &SecretString,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(sent) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    twilio_mac(auth_token, url, params)
        .verify_slice(&sent)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    /// The example of Twilio's security documentation; the signature as Twilio's
    /// Python library 9.13.0 computes it (`RequestValidator("12345")
    /// .compute_signature(url, params)`).
    #[test]
    fn twilios_documented_example() {
        let token = SecretString::from("12345");
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let body = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let expected = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        assert_eq!(twilio_signature(&token, url, &body), expected);
        assert!(twilio_signature_matches(&token, url, &body, expected));
        let mut tampered = body.clone();
        tampered[2].1 = "1235".into();
        assert!(!twilio_signature_matches(&token, url, &tampered, expected));
        assert!(!twilio_signature_matches(
            &token,
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &body,
            expected
        ));
        assert!(!twilio_signature_matches(&token, url, &body, "not base64!"));
    }

    #[test]
    fn parameters_are_sorted_by_name() {
        let sorted = params(&[("A", "1"), ("B", "2")]);
        let unsorted = params(&[("B", "2"), ("A", "1")]);
        assert_eq!(
            twilio_signed_payload("u", &sorted),
            twilio_signed_payload("u", &unsorted)
        );
        assert_eq!(twilio_signed_payload("u", &sorted), "uA1B2");
    }
}
