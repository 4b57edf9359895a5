//! Provider configurations: an organization's credentials for one provider account,
//! and the validation of what clients send to create or change one.
//!
//! Validation happens in two steps, following the contract's order of errors:
//! field shapes (lengths, control characters, URL forms, and for a create the
//! provider's format rules), then, for a change, the format rules of the stored
//! provider once the configuration has been found.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::credentials::{CheckMode, CredentialInput, Credentials, SentValue, last4};
use super::provider::{
    IDENTIFIER_ALIAS, IDENTIFIER_OLD_ALIAS, PRIMARY_SECRET_ALIAS, PRIMARY_SECRET_OLD_ALIAS,
};
use super::{KeyId, Provider, ProviderCatalog, ProviderId, StoredSecret, Verification};
use crate::identity::OrgId;
use crate::shared::{NON_FIELD_ERRORS, Timestamp, ValidationErrors, has_control_chars};
use crate::validation::{self as rules, Validate, ValidationError};

/// The field that held the encrypted credential before fields were data (the
/// binding of format-1 blobs, and what `auth_token` names on the wire).
pub const AUTH_TOKEN_FIELD: &str = "auth_token";

/// Database id of a provider configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderConfigId(pub i64);

/// A provider named by slug (`"twilio"`) or by id (`3` or `"3"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum ProviderRef {
    Slug(String),
    Id(i64),
}

impl ProviderRef {
    /// The catalog entry this reference names.
    #[must_use]
    pub fn resolve<'c>(&self, catalog: &'c ProviderCatalog) -> Option<&'c Provider> {
        match self {
            Self::Id(id) => catalog.by_id(ProviderId(*id)),
            Self::Slug(slug) => match slug.parse::<i64>() {
                Ok(id) => catalog.by_id(ProviderId(id)),
                Err(_) => catalog.by_slug(slug),
            },
        }
    }
}

/// A stored configuration. The secrets stay sealed, as the bytes storage holds
/// (checked only when opened); `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub id: ProviderConfigId,
    /// Random identity of the row, chosen before insertion and bound into the
    /// credentials' associated data.
    pub uid: String,
    pub org_id: OrgId,
    pub provider_id: ProviderId,
    pub name: String,
    /// The identifier's value (what the wire shows as `account_sid`).
    pub account_sid: String,
    /// Every secret of the configuration, sealed in one blob (format 2), or the
    /// single `auth_token` of a row written before fields were data (format 1).
    pub auth_token: StoredSecret,
    /// The primary secret's last four.
    pub auth_token_last4: String,
    /// Every non-secret credential field, by catalog name (the identifier too).
    pub public_fields: Map<String, Value>,
    /// The last four of each secret that is set, by catalog name; its keys are the
    /// names the sealed blob is bound to.
    pub secret_last4: BTreeMap<String, String>,
    /// 1 after migration or create, +1 on every change of a secret.
    pub credential_version: i64,
    pub active: bool,
    pub base_url: Option<String>,
    pub sip_url: Option<String>,
    pub meta_json: Map<String, Value>,
    /// The last check of the credentials against the provider's API; `None` when
    /// never checked, or when the credentials changed since.
    pub verification: Option<Verification>,
    /// Incremented on every change; the `ETag` and the compare-and-set of updates.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ProviderConfig {
    /// The key that sealed the credentials; `None` when the stored bytes are not an
    /// envelope.
    #[must_use]
    pub fn auth_token_key_id(&self) -> Option<KeyId> {
        self.auth_token.key_id()
    }

    /// The names of the stored secrets (what the sealed blob is bound to), sorted.
    #[must_use]
    pub fn secret_names(&self) -> Vec<&str> {
        self.secret_last4.keys().map(String::as_str).collect()
    }
}

/// What a client sent, already checked for JSON types by the edge. Absent fields are
/// `None`; an explicit `null` for a nullable field is `Some(None)`. Credential fields
/// travel in `credentials` by the names the client sent; `account_sid` and
/// `auth_token` are shorthands for entries under those names.
///
/// The fixed fields' rules are declared here (`validator`); the credential fields
/// are the catalog's ([`Credentials::check`]).
#[derive(Debug, Default, Validate)]
pub struct ProviderConfigDraft {
    #[validate(custom(function = "provider_ref_shape"))]
    pub provider: Option<ProviderRef>,
    pub account_sid: Option<String>,
    pub auth_token: Option<SecretString>,
    pub credentials: CredentialInput,
    #[validate(
        custom(function = "rules::no_control"),
        custom(function = "rules::not_empty"),
        custom(function = "rules::max_chars::<100>"),
        custom(function = "rules::not_blank")
    )]
    pub name: Option<String>,
    pub active: Option<bool>,
    #[validate(custom(function = "rules::configuration_url"))]
    pub base_url: Option<Option<String>>,
    #[validate(custom(function = "rules::configuration_url"))]
    pub sip_url: Option<Option<String>>,
    #[validate(
        custom(function = "rules::json_without_control"),
        custom(function = "rules::json_max_bytes::<4096>")
    )]
    pub meta_json: Option<Map<String, Value>>,
}

impl ProviderConfigDraft {
    /// Every credential entry, the shorthands first.
    fn credential_input(&mut self) -> CredentialInput {
        let mut input = CredentialInput::new(self.credentials.nested);
        if let Some(sid) = self.account_sid.take() {
            input.push(IDENTIFIER_ALIAS, SentValue::Text(SecretString::from(sid)));
        }
        if let Some(token) = self.auth_token.take() {
            input.push(AUTH_TOKEN_FIELD, SentValue::Text(token));
        }
        for name in self
            .credentials
            .names()
            .map(str::to_owned)
            .collect::<Vec<_>>()
        {
            if let Some(value) = self.credentials.get(&name) {
                input.push(name, value.clone());
            }
        }
        input
    }
}

const REQUIRED: &str = "This field is required.";

/// A valid create request.
#[derive(Debug)]
pub struct CreateProviderConfig {
    pub provider_id: ProviderId,
    pub name: String,
    /// The identifier's value.
    pub account_sid: String,
    pub credentials: Credentials,
    pub active: bool,
    pub base_url: Option<String>,
    pub sip_url: Option<String>,
    pub meta_json: Map<String, Value>,
}

/// Adds the messages of `more` for fields `errors` has none for yet.
fn merge_new(errors: &mut ValidationErrors, more: &ValidationErrors) {
    for (field, messages) in more.fields() {
        if !errors.has(field) {
            for message in messages {
                errors.add(field, message.clone());
            }
        }
    }
}

impl CreateProviderConfig {
    /// Validates a create: shapes, required fields, the provider's existence and its
    /// fields' rules.
    ///
    /// # Errors
    /// Every problem found, by field.
    pub fn validate(
        mut draft: ProviderConfigDraft,
        catalog: &ProviderCatalog,
    ) -> Result<Self, ValidationErrors> {
        let input = draft.credential_input();
        let mut errors = shape_errors(&draft, &input, catalog);
        let provider = match &draft.provider {
            None => {
                errors.add("provider", REQUIRED);
                None
            }
            Some(reference) => {
                let found = reference.resolve(catalog);
                if found.is_none() {
                    errors.add("provider", UNKNOWN_PROVIDER);
                }
                found
            }
        };
        let credentials = match provider {
            Some(provider) => match Credentials::check(provider, &input, CheckMode::Create) {
                Ok(credentials) => Some(credentials),
                Err(more) => {
                    merge_new(&mut errors, &more);
                    None
                }
            },
            None => {
                // Without a provider, the fields every provider requires, under the
                // names older clients send.
                for names in [
                    [IDENTIFIER_ALIAS, IDENTIFIER_OLD_ALIAS],
                    [PRIMARY_SECRET_ALIAS, PRIMARY_SECRET_OLD_ALIAS],
                ] {
                    if !input.nested && !input.names().any(|sent| names.contains(&sent)) {
                        errors.add(names[0], REQUIRED);
                    }
                }
                None
            }
        };
        errors.into_result()?;
        let (Some(provider), Some(credentials)) = (provider, credentials) else {
            return Err(ValidationErrors::single(NON_FIELD_ERRORS, REQUIRED));
        };
        let account_sid = credentials
            .identifier(provider)
            .map(str::to_owned)
            .ok_or_else(|| ValidationErrors::single("account_sid", REQUIRED))?;
        let name = draft
            .name
            .unwrap_or_else(|| format!("{} {}", provider.name, last_chars(&account_sid, 4)));
        Ok(Self {
            provider_id: provider.id,
            name,
            account_sid,
            credentials,
            active: draft.active.unwrap_or(true),
            base_url: draft.base_url.flatten(),
            sip_url: draft.sip_url.flatten(),
            meta_json: draft.meta_json.unwrap_or_default(),
        })
    }
}

/// A change whose field shapes are valid; the provider's rules are checked once the
/// stored configuration is known ([`ProviderConfigChanges::check_against`]).
#[derive(Debug)]
pub struct ProviderConfigChanges {
    provider: Option<ProviderRef>,
    credentials: CredentialInput,
    pub name: Option<String>,
    pub active: Option<bool>,
    pub base_url: Option<Option<String>>,
    pub sip_url: Option<Option<String>>,
    pub meta_json: Option<Map<String, Value>>,
}

impl ProviderConfigChanges {
    /// Checks the shapes of a PATCH body. An empty change is refused.
    ///
    /// # Errors
    /// Every shape problem, by field; `non_field_errors` for an empty body.
    pub fn validate_shapes(
        mut draft: ProviderConfigDraft,
        catalog: &ProviderCatalog,
    ) -> Result<Self, ValidationErrors> {
        let credentials = draft.credential_input();
        let errors = shape_errors(&draft, &credentials, catalog);
        errors.into_result()?;
        let changes = Self {
            provider: draft.provider,
            credentials,
            name: draft.name,
            active: draft.active,
            base_url: draft.base_url,
            sip_url: draft.sip_url,
            meta_json: draft.meta_json,
        };
        if changes.is_empty() {
            return Err(ValidationErrors::single(
                NON_FIELD_ERRORS,
                "Provide at least one field to update.",
            ));
        }
        Ok(changes)
    }

    fn is_empty(&self) -> bool {
        self.provider.is_none()
            && self.credentials.is_empty()
            && self.name.is_none()
            && self.active.is_none()
            && self.base_url.is_none()
            && self.sip_url.is_none()
            && self.meta_json.is_none()
    }

    /// Whether the change sends any credential field.
    #[must_use]
    pub fn touches_credentials(&self) -> bool {
        !self.credentials.is_empty()
    }

    /// Checks the change against the stored configuration's provider: `provider`, if
    /// sent, must name that same provider, and credential fields must be its own (or
    /// aliases) and follow its rules. Returns the checked credential fields.
    ///
    /// # Errors
    /// Every problem found, by field.
    pub fn check_against(
        &self,
        provider: &Provider,
        catalog: &ProviderCatalog,
    ) -> Result<Credentials, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Some(reference) = &self.provider
            && reference.resolve(catalog).map(|p| p.id) != Some(provider.id)
        {
            errors.add(
                "provider",
                "cannot be changed; create a new configuration for another provider",
            );
        }
        match Credentials::check(provider, &self.credentials, CheckMode::Change) {
            Ok(credentials) => {
                errors.into_result()?;
                Ok(credentials)
            }
            Err(more) => {
                merge_new(&mut errors, &more);
                Err(errors)
            }
        }
    }
}

/// The message of a `provider` that names no provider of the catalog.
const UNKNOWN_PROVIDER: &str = "must be the slug or id of a provider in the catalog";

/// A slug of 1 to 64 bytes without control characters (an id is any integer; the
/// catalog decides whether it names a provider).
fn provider_ref_shape(reference: &ProviderRef) -> Result<(), ValidationError> {
    match reference {
        ProviderRef::Slug(slug)
            if slug.is_empty() || slug.len() > 64 || has_control_chars(slug) =>
        {
            Err(ValidationError::new("provider").with_message(UNKNOWN_PROVIDER.into()))
        }
        _ => Ok(()),
    }
}

/// The field problems that do not depend on the provider.
fn shape_errors(
    draft: &ProviderConfigDraft,
    credentials: &CredentialInput,
    catalog: &ProviderCatalog,
) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    // The fixed fields (name, URLs, meta_json), by their declared rules; then the
    // credential fields, by the catalog's. Their names never overlap.
    if let Err(fixed) = rules::validate(draft) {
        errors.merge(fixed);
    }
    errors.merge(credentials.shape_errors(catalog));
    errors
}

fn last_chars(text: &str, count: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars[chars.len().saturating_sub(count)..].iter().collect()
}

/// The part of a credential shown back to clients: its last four characters, or
/// `****` for a credential shorter than 12 characters.
#[must_use]
pub fn auth_token_last4(token: &SecretString) -> String {
    last4(token)
}

/// The key under which duplicates are detected: account SIDs compare without regard
/// to letter case.
#[must_use]
pub fn account_sid_key(account_sid: &str) -> String {
    account_sid.to_lowercase()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::telephony::ProviderRecord;

    fn catalog() -> ProviderCatalog {
        let record = |id, slug: &str, sid: &str, token: &str| ProviderRecord {
            id: ProviderId(id),
            slug: slug.into(),
            name: slug.to_uppercase(),
            description: String::new(),
            icon: String::new(),
            account_sid_label: "SID".into(),
            account_sid_pattern: sid.into(),
            account_sid_hint: "a SID".into(),
            auth_token_label: "Token".into(),
            auth_token_pattern: token.into(),
            auth_token_hint: "a token".into(),
        };
        ProviderCatalog::from_records(vec![
            record(1, "twilio", "^AC[0-9a-fA-F]{32}$", "^[0-9a-fA-F]{32}$"),
            record(2, "sip", "^[ -~]{1,256}$", "^[ -~]{1,256}$"),
        ])
        .expect("patterns compile")
    }

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn twilio_draft() -> ProviderConfigDraft {
        ProviderConfigDraft {
            provider: Some(ProviderRef::Slug("twilio".into())),
            account_sid: Some(SID.into()),
            auth_token: Some(SecretString::from(TOKEN)),
            ..ProviderConfigDraft::default()
        }
    }

    #[test]
    fn a_valid_create_gets_defaults() {
        let create = CreateProviderConfig::validate(twilio_draft(), &catalog()).expect("valid");
        assert_eq!(create.provider_id, ProviderId(1));
        assert_eq!(create.name, "TWILIO cdef");
        assert!(create.active);
        assert!(create.meta_json.is_empty());
    }

    #[test]
    fn providers_resolve_by_slug_id_and_numeric_string() {
        let catalog = catalog();
        for reference in [
            ProviderRef::Slug("twilio".into()),
            ProviderRef::Id(1),
            ProviderRef::Slug("1".into()),
        ] {
            assert_eq!(
                reference.resolve(&catalog).map(|p| p.id),
                Some(ProviderId(1))
            );
        }
        assert!(ProviderRef::Slug("nope".into()).resolve(&catalog).is_none());
    }

    #[test]
    fn missing_and_malformed_fields_are_reported_without_values() {
        let errors = CreateProviderConfig::validate(ProviderConfigDraft::default(), &catalog())
            .expect_err("invalid");
        for field in ["provider", "account_sid", "auth_token"] {
            assert_eq!(errors.fields()[field], vec![REQUIRED.to_owned()]);
        }
        let mut draft = twilio_draft();
        draft.account_sid = Some("AC-secret-looking-value".into());
        draft.auth_token = Some(SecretString::from("my-secret-sentinel"));
        let errors = CreateProviderConfig::validate(draft, &catalog()).expect_err("invalid");
        let text = format!("{errors:?}");
        assert!(errors.has("account_sid") && errors.has("auth_token"));
        assert!(!text.contains("secret-looking") && !text.contains("sentinel"));
    }

    #[test]
    fn shapes_are_checked() {
        let mut draft = twilio_draft();
        draft.name = Some("x".repeat(101));
        draft.base_url = Some(Some("http://insecure.example".into()));
        draft.sip_url = Some(Some("sip:trunk@example.com".into()));
        draft.meta_json = Some(Map::from_iter([("k".to_owned(), Value::from("a\u{0}b"))]));
        let errors = CreateProviderConfig::validate(draft, &catalog()).expect_err("invalid");
        assert!(errors.has("name") && errors.has("base_url") && errors.has("meta_json"));
        assert!(!errors.has("sip_url"));
        let mut draft = twilio_draft();
        draft.auth_token = Some(SecretString::from("0123456789abcdef0123456789abcde\u{0}"));
        let errors = CreateProviderConfig::validate(draft, &catalog()).expect_err("invalid");
        assert_eq!(
            errors.fields()["auth_token"],
            vec![rules::NO_CONTROL.to_owned()]
        );
    }

    #[test]
    fn the_fixed_fields_rules_are_declared_on_the_draft() {
        // `validate()` is the derived one: without the derive or a rule, this fails.
        let draft = ProviderConfigDraft {
            provider: Some(ProviderRef::Slug("x".repeat(65))),
            name: Some("  ".into()),
            base_url: Some(Some("http://example.com".into())),
            sip_url: Some(Some("sip:trunk:pw@example.com".into())),
            meta_json: Some(Map::from_iter([(
                "k".to_owned(),
                Value::from("x".repeat(5000)),
            )])),
            ..ProviderConfigDraft::default()
        };
        let errors = rules::errors_from(&draft.validate().expect_err("invalid"));
        assert_eq!(errors.fields()["provider"], vec![UNKNOWN_PROVIDER]);
        assert_eq!(errors.fields()["name"], vec![rules::NOT_BLANK]);
        assert_eq!(errors.fields()["base_url"], vec![rules::CONTRACT_URL]);
        assert_eq!(errors.fields()["sip_url"], vec![rules::URL_PASSWORD]);
        assert_eq!(
            errors.fields()["meta_json"],
            vec!["must be at most 4096 bytes when serialized"]
        );
        let draft = ProviderConfigDraft {
            name: Some(format!("{}\u{1}", "n".repeat(100))),
            base_url: Some(None),
            ..ProviderConfigDraft::default()
        };
        let errors = rules::errors_from(&draft.validate().expect_err("invalid"));
        assert_eq!(
            errors.fields()["name"],
            vec![rules::NO_CONTROL, "must be at most 100 characters"]
        );
        assert_eq!(errors.fields().len(), 1);
        assert!(ProviderConfigDraft::default().validate().is_ok());
    }

    #[test]
    fn urls_follow_the_contract() {
        for good in [
            "https://api.example.com/x",
            "wss://a.b",
            "sip:a@b",
            "SIPS:a@b",
        ] {
            assert!(rules::contract_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://a",
            "https://",
            "ftp://a",
            "sip:",
            "https://a b",
            "/relative",
        ] {
            assert!(rules::contract_url(bad).is_err(), "{bad}");
        }
        assert!(rules::contract_url(&format!("https://{}", "a".repeat(250))).is_err());
    }

    #[test]
    fn urls_with_a_password_are_refused_without_echoing_it() {
        for (field, url) in [
            ("base_url", "https://user:hunter2@example.com/"),
            ("base_url", "https://:hunter2@example.com"),
            ("base_url", "wss://user:hunter2@example.com/socket"),
            ("base_url", "https://user:hunter2@with@at@example.com"),
            ("sip_url", "sip:trunk:hunter2@example.com"),
            ("sip_url", "SIPS:trunk:hunter2@example.com;transport=tls"),
            ("sip_url", "sip:trunk:@example.com"),
        ] {
            let mut draft = twilio_draft();
            if field == "base_url" {
                draft.base_url = Some(Some(url.into()));
            } else {
                draft.sip_url = Some(Some(url.into()));
            }
            let errors = CreateProviderConfig::validate(draft, &catalog()).expect_err(url);
            assert!(errors.has(field), "{url}");
            assert!(!format!("{errors:?}").contains("hunter2"));
        }
        for (field, url) in [
            ("sip_url", "sip:trunk@example.com"),
            ("sip_url", "sip:example.com:5060"),
            ("sip_url", "sips:trunk@example.com:5061;transport=tls"),
            ("base_url", "https://api@example.com/v1"),
            ("base_url", "https://example.com:8443/path?user=a:b@c"),
        ] {
            let mut draft = twilio_draft();
            if field == "base_url" {
                draft.base_url = Some(Some(url.into()));
            } else {
                draft.sip_url = Some(Some(url.into()));
            }
            assert!(
                CreateProviderConfig::validate(draft, &catalog()).is_ok(),
                "{url}"
            );
        }
    }

    #[test]
    fn an_empty_patch_is_refused_and_provider_cannot_change() {
        let errors =
            ProviderConfigChanges::validate_shapes(ProviderConfigDraft::default(), &catalog())
                .expect_err("empty");
        assert!(errors.has(NON_FIELD_ERRORS));
        let catalog = catalog();
        let twilio = catalog.by_slug("twilio").expect("seeded");
        let same = ProviderConfigChanges::validate_shapes(
            ProviderConfigDraft {
                provider: Some(ProviderRef::Slug("twilio".into())),
                ..ProviderConfigDraft::default()
            },
            &catalog,
        )
        .expect("shape ok");
        assert!(same.check_against(twilio, &catalog).is_ok());
        let other = ProviderConfigChanges::validate_shapes(
            ProviderConfigDraft {
                provider: Some(ProviderRef::Slug("sip".into())),
                auth_token: Some(SecretString::from("short")),
                ..ProviderConfigDraft::default()
            },
            &catalog,
        )
        .expect("shape ok");
        let errors = other.check_against(twilio, &catalog).expect_err("refused");
        assert!(errors.has("provider") && errors.has("auth_token"));
    }

    #[test]
    fn last4_never_reveals_a_short_secret() {
        assert_eq!(auth_token_last4(&SecretString::from(TOKEN)), "cdef");
        assert_eq!(auth_token_last4(&SecretString::from("abc")), "****");
        assert_eq!(account_sid_key("ACab"), "acab");
    }

    proptest! {
        #[test]
        fn validation_never_panics(sid in ".{0,300}", token in ".{0,300}", name in ".{0,120}") {
            let draft = ProviderConfigDraft {
                provider: Some(ProviderRef::Slug("twilio".into())),
                account_sid: Some(sid),
                auth_token: Some(SecretString::from(token)),
                name: Some(name),
                ..ProviderConfigDraft::default()
            };
            let _ = CreateProviderConfig::validate(draft, &catalog());
        }

        #[test]
        fn twilio_format_accepts_exactly_its_shape(sid in "AC[0-9a-fA-F]{32}", token in "[0-9a-f]{32}") {
            let draft = ProviderConfigDraft {
                provider: Some(ProviderRef::Id(1)),
                account_sid: Some(sid),
                auth_token: Some(SecretString::from(token)),
                ..ProviderConfigDraft::default()
            };
            prop_assert!(CreateProviderConfig::validate(draft, &catalog()).is_ok());
        }
    }
}
