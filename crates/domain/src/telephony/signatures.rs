//! Using a stored secret without revealing it (contract section 11): checking a
//! provider's webhook signature, and minting a provider's access token; the ports
//! the cryptography adapter implements.

use secrecy::SecretString;

use crate::validation::{self as rules, Validate};

/// The providers whose webhook signatures can be checked, by catalog slug.
pub const SIGNATURE_PROVIDERS: [&str; 1] = ["twilio"];

/// A webhook as the provider signed it: the full URL it was sent to, its POST
/// parameters, and the signature it carried.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedWebhook {
    pub url: String,
    pub params: Vec<(String, String)>,
    pub signature: String,
}

impl std::fmt::Debug for SignedWebhook {
    /// The URL only: parameters may carry callers' data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedWebhook")
            .field("params", &self.params.len())
            .finish_non_exhaustive()
    }
}

/// Checks providers' webhook signatures (constant-time comparisons).
pub trait WebhookSignatures: Send + Sync {
    /// Whether `webhook` carries the signature of provider `slug` under `secret`;
    /// `None` when the provider has no scheme here.
    fn matches(&self, slug: &str, secret: &SecretString, webhook: &SignedWebhook) -> Option<bool>;
}

/// What a LiveKit access token grants: a participant identity (and display name)
/// joining one room, with its publish and subscribe flags, for `ttl_seconds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKitGrant {
    pub identity: String,
    pub name: Option<String>,
    pub room: String,
    pub can_publish: bool,
    pub can_subscribe: bool,
    pub can_publish_data: bool,
}

/// The texts of an access-token request (`identity`, `room`, `name`), their rule
/// declared with `validator` (see [`crate::validation`]): 1 to 256 characters, no
/// control character. An answer names the first field broken, in this order.
#[derive(Debug, Validate)]
pub struct AccessTokenRequest<'a> {
    #[validate(custom(function = "rules::grant_text"))]
    pub identity: Option<&'a str>,
    #[validate(custom(function = "rules::grant_text"))]
    pub room: Option<&'a str>,
    #[validate(custom(function = "rules::grant_text"))]
    pub name: Option<&'a str>,
}

impl AccessTokenRequest<'_> {
    /// The fields in the order their errors take precedence.
    pub const FIELDS: [&'static str; 3] = ["identity", "room", "name"];
}

/// Mints providers' access tokens (JWTs) from stored keys.
pub trait AccessTokenMinter: Send + Sync {
    /// A LiveKit access token for `grant`, signed with `api_secret`, issued by
    /// `api_key` at `issued_at` and expiring at `expires_at` (Unix seconds).
    fn livekit(
        &self,
        api_key: &str,
        api_secret: &SecretString,
        grant: &LiveKitGrant,
        issued_at: i64,
        expires_at: i64,
    ) -> SecretString;

    /// A Twilio Access Token with a Voice grant (incoming calls) for `identity`,
    /// signed with the API key's secret.
    fn twilio_voice(
        &self,
        account_sid: &str,
        api_key_sid: &str,
        api_key_secret: &SecretString,
        identity: &str,
        issued_at: i64,
        expires_at: i64,
    ) -> SecretString;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::{GRANT_TEXT, errors_from};

    #[test]
    fn access_token_texts_carry_their_rule() {
        // `validate()` is the derived one: without the derive or a rule, this fails.
        let long = "r".repeat(257);
        let errors = errors_from(
            &AccessTokenRequest {
                identity: Some(" "),
                room: Some(&long),
                name: Some("a\u{0}"),
            }
            .validate()
            .expect_err("invalid"),
        );
        for field in AccessTokenRequest::FIELDS {
            assert_eq!(errors.fields()[field], vec![GRANT_TEXT], "{field}");
        }
        assert!(
            AccessTokenRequest {
                identity: Some("agent-7"),
                room: None,
                name: None,
            }
            .validate()
            .is_ok()
        );
    }
}
