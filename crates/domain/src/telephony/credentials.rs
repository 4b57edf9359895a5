//! A configuration's credentials as data: the values a client sent (by the names it
//! sent them under), checked against the provider's catalog entry by one validator,
//! and the result: public fields as a JSON map and secret fields as
//! [`SecretString`]s (Debug redacted), sealed together in one blob.
//!
//! Sealing (envelope format 3): the secrets are one JSON object, encrypted once,
//! bound to organization, row, credential version and the sorted names of the
//! secret fields ([`AssociatedData::for_version`]), so that a blob of one version
//! cannot pass for another (staged rotation keeps several versions of a row). Blobs
//! of format 2 (the same without the version) and format 1 (a single `auth_token`,
//! written before fields were data) stay readable until a rewrap moves them to
//! format 3; format 1 opens as the provider's primary secret.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::provider::{CredentialField, FieldType, IDENTIFIER_ALIAS, PRIMARY_SECRET_ALIAS};
use super::{
    AssociatedData, CipherError, EnvelopeError, Provider, ProviderCatalog, SealedSecret,
    SecretCipher, StoredSecret,
};
use crate::identity::OrgId;
use crate::shared::{ValidationErrors, has_control_chars};

/// Table name bound into the associated data of configuration credentials.
pub const CREDENTIALS_TABLE: &str = "provider_configurations";
/// The field name format-1 blobs were bound to.
const FORMAT1_FIELD: &str = "auth_token";
/// Secrets shorter than this show `****` as their last four.
const LAST4_MIN_CHARS: usize = 12;

const REQUIRED: &str = "This field is required.";
const NO_CONTROL: &str = "must not contain control characters";

/// A value a client sent for a credential field, its JSON type not yet checked
/// against the provider. Text is held as a secret (it may be one); `Debug` shows the
/// kind only.
#[derive(Clone)]
pub enum SentValue {
    Text(SecretString),
    Integer(i64),
    /// Another JSON type (a type error once the field is known).
    Other,
}

impl fmt::Debug for SentValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text(_) => "Text",
            Self::Integer(_) => "Integer",
            Self::Other => "Other",
        })
    }
}

/// The credential fields of one request, by the names the client sent, in order.
#[derive(Debug, Clone, Default)]
pub struct CredentialInput {
    entries: Vec<(String, SentValue)>,
    /// Whether they came inside `"credentials": {...}` (else flat).
    pub nested: bool,
}

impl CredentialInput {
    /// An empty input.
    #[must_use]
    pub fn new(nested: bool) -> Self {
        Self {
            entries: Vec::new(),
            nested,
        }
    }

    /// Adds a sent field.
    pub fn push(&mut self, sent_name: impl Into<String>, value: SentValue) {
        self.entries.push((sent_name.into(), value));
    }

    /// Whether nothing was sent.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sent names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// The value sent under `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&SentValue> {
        self.entries
            .iter()
            .find(|(sent, _)| sent == name)
            .map(|(_, value)| value)
    }

    /// Checks what holds whatever the provider (before it is known): every name is
    /// some provider's field or an alias (else `non_field_errors`, without the name),
    /// and each value has a JSON type and size some provider's field of that name
    /// takes.
    #[must_use]
    pub fn shape_errors(&self, catalog: &ProviderCatalog) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        let mut unknown = false;
        for (name, value) in &self.entries {
            let fields: Vec<&CredentialField> = catalog.fields_named(name).collect();
            if fields.is_empty() {
                unknown = true;
                continue;
            }
            let accepted = fields
                .iter()
                .any(|field| value_error(field, value).is_none());
            if !accepted && let Some(message) = fields.first().and_then(|f| value_error(f, value)) {
                errors.add(name, message);
            }
        }
        if unknown {
            errors.add(crate::shared::NON_FIELD_ERRORS, "Unknown field.");
        }
        errors
    }
}

/// The shape problem of `value` for `field` that does not depend on the pattern:
/// JSON type, control characters, length, range.
fn value_error(field: &CredentialField, value: &SentValue) -> Option<String> {
    match (field.kind, value) {
        (FieldType::Integer, SentValue::Integer(number)) => {
            let (min, max) = (field.min.unwrap_or(i64::MIN), field.max.unwrap_or(i64::MAX));
            (!(min..=max).contains(number)).then(|| format!("must be between {min} and {max}"))
        }
        (FieldType::Integer, _) => Some("must be an integer".to_owned()),
        (_, SentValue::Text(text)) => {
            let text = text.expose_secret();
            let control = if field.kind == FieldType::Pem {
                text.chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            } else {
                has_control_chars(text)
            };
            let chars = text.chars().count();
            if control {
                Some(NO_CONTROL.to_owned())
            } else if chars == 0 {
                Some("must not be empty".to_owned())
            } else if chars > field.max_length {
                Some(format!("must be at most {} characters", field.max_length))
            } else {
                None
            }
        }
        (_, _) => Some("must be a string".to_owned()),
    }
}

/// The format problem of a text `value` for `field` (pattern, choices, URL form,
/// PEM armour); never names the value.
fn format_error(field: &CredentialField, value: &str) -> Option<String> {
    match field.kind {
        FieldType::Enum if !field.choices.iter().any(|choice| choice == value) => {
            Some(format!("must be one of: {}", field.choices.join(", ")))
        }
        FieldType::Url if !url_has_scheme(value, &field.schemes) => Some(format!(
            "must be an absolute URL with scheme {}",
            field.schemes.join(" or ")
        )),
        FieldType::Url if url_has_password(value) => {
            Some("must not carry a password (user:password@)".to_owned())
        }
        FieldType::Pem if !is_pem(value) => {
            Some("must be a PEM block (-----BEGIN ...----- to -----END ...-----)".to_owned())
        }
        _ if !field.pattern_accepts(value) => Some(field.pattern_message()),
        _ => None,
    }
}

fn url_has_scheme(url: &str, schemes: &[String]) -> bool {
    let lower = url.to_ascii_lowercase();
    if url.chars().any(char::is_whitespace) {
        return false;
    }
    schemes.iter().any(|scheme| {
        lower
            .strip_prefix(scheme.as_str())
            .and_then(|rest| rest.strip_prefix("://"))
            .is_some_and(|rest| {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
                !host.is_empty() && !host.starts_with(':')
            })
    })
}

fn url_has_password(url: &str) -> bool {
    url.split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

fn is_pem(value: &str) -> bool {
    let trimmed = value.trim();
    trimmed.starts_with("-----BEGIN ")
        && trimmed.ends_with("-----")
        && trimmed.contains("\n")
        && trimmed.contains("-----END ")
}

/// Validated credential values: public fields and secrets, by catalog name.
/// `Debug` shows public values and secret names only.
#[derive(Clone, Default)]
pub struct Credentials {
    pub public: Map<String, Value>,
    pub secrets: BTreeMap<String, SecretString>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("public", &self.public)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How a set of sent fields is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// A create: required fields must be there; defaults fill the others.
    Create,
    /// A change: only what is sent.
    Change,
}

impl Credentials {
    /// The one validator built from the catalog: checks `input` against `provider`
    /// (names, aliases, types, lengths, formats; for a create also required fields
    /// and defaults). Errors are keyed by the name the client sent; a missing field
    /// by its catalog name, or for flat bodies by `account_sid`/`auth_token` for the
    /// identifier and primary secret (the names older clients send).
    ///
    /// # Errors
    /// Every problem found, by field; never a value.
    pub fn check(
        provider: &Provider,
        input: &CredentialInput,
        mode: CheckMode,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut out = Self::default();
        // Which sent name each catalog field was given under (the first one).
        let mut sent_as: BTreeMap<&str, &str> = BTreeMap::new();
        let mut unknown = false;
        for (sent, value) in &input.entries {
            let Some(field) = provider.resolve(sent) else {
                unknown = true;
                continue;
            };
            if let Some(first) = sent_as.get(field.name.as_str()) {
                let key = error_key(field, first, sent);
                errors.add(key, format!("send {first} or {sent}, not both"));
                continue;
            }
            sent_as.insert(&field.name, sent);
            if let Some(message) = value_error(field, value) {
                errors.add(sent, message);
                continue;
            }
            match value {
                SentValue::Integer(number) => {
                    out.public.insert(field.name.clone(), Value::from(*number));
                }
                SentValue::Text(text) => {
                    if let Some(message) = format_error(field, text.expose_secret()) {
                        errors.add(sent, message);
                    } else if field.secret {
                        out.secrets.insert(field.name.clone(), text.clone());
                    } else {
                        out.public.insert(
                            field.name.clone(),
                            Value::from(text.expose_secret().to_owned()),
                        );
                    }
                }
                SentValue::Other => {}
            }
        }
        if unknown {
            errors.add(crate::shared::NON_FIELD_ERRORS, "Unknown field.");
        }
        if mode == CheckMode::Create {
            for field in &provider.fields {
                if sent_as.contains_key(field.name.as_str()) {
                    continue;
                }
                if field.required {
                    let key = match (input.nested, field.identifier, field.primary_secret) {
                        (false, true, _) => IDENTIFIER_ALIAS,
                        (false, _, true) => PRIMARY_SECRET_ALIAS,
                        _ => field.name.as_str(),
                    };
                    errors.add(key, REQUIRED);
                } else if let Some(default) = &field.default {
                    out.public.insert(field.name.clone(), default.clone());
                }
            }
        }
        errors.into_result()?;
        Ok(out)
    }

    /// The identifier's value, when set.
    #[must_use]
    pub fn identifier<'a>(&'a self, provider: &Provider) -> Option<&'a str> {
        self.public
            .get(&provider.identifier().name)
            .and_then(Value::as_str)
    }

    /// The primary secret, when set.
    #[must_use]
    pub fn primary_secret<'a>(&'a self, provider: &Provider) -> Option<&'a SecretString> {
        self.secrets.get(&provider.primary_secret().name)
    }

    /// Last-4 views of every secret, by name.
    #[must_use]
    pub fn secret_last4(&self) -> BTreeMap<String, String> {
        self.secrets
            .iter()
            .map(|(name, secret)| (name.clone(), last4(secret)))
            .collect()
    }

    /// Seals every secret in one blob (format 3), bound to `org`, the row `uid`,
    /// the credential `version` and the sorted secret names.
    ///
    /// # Errors
    /// [`CipherError::Seal`].
    pub fn seal(
        secrets: &BTreeMap<String, SecretString>,
        cipher: &dyn SecretCipher,
        org: OrgId,
        uid: &str,
        version: i64,
    ) -> Result<SealedSecret, CipherError> {
        let plain: Map<String, Value> = secrets
            .iter()
            .map(|(name, secret)| (name.clone(), Value::from(secret.expose_secret())))
            .collect();
        let text = SecretString::from(
            serde_json::to_string(&Value::Object(plain)).map_err(|_| CipherError::Seal)?,
        );
        let names: Vec<&str> = secrets.keys().map(String::as_str).collect();
        cipher.seal(
            &text,
            &AssociatedData::for_version(org, CREDENTIALS_TABLE, uid, version, &names),
        )
    }

    /// Opens a stored blob: format 3 as a map bound to `names` (the stored secret
    /// names) and the credential `version`, format 2 as a map bound to `names`,
    /// format 1 as the single secret `names[0]` (the primary secret).
    ///
    /// # Errors
    /// [`CipherError`]: a malformed blob, an unknown key, failed authentication.
    pub fn open(
        stored: &StoredSecret,
        names: &[&str],
        cipher: &dyn SecretCipher,
        org: OrgId,
        uid: &str,
        version: i64,
    ) -> Result<BTreeMap<String, SecretString>, CipherError> {
        let sealed = stored.parse()?;
        if sealed.format() == SealedSecret::FORMAT_V1 {
            let binding = AssociatedData::for_field(org, CREDENTIALS_TABLE, uid, FORMAT1_FIELD);
            let secret = cipher.open(&sealed, &binding)?;
            let name = names.first().copied().unwrap_or(FORMAT1_FIELD);
            return Ok(BTreeMap::from([(name.to_owned(), secret)]));
        }
        let mut sorted: Vec<&str> = names.to_vec();
        sorted.sort_unstable();
        let binding = if sealed.format() == SealedSecret::FORMAT_V2 {
            AssociatedData::for_secrets(org, CREDENTIALS_TABLE, uid, &sorted)
        } else {
            AssociatedData::for_version(org, CREDENTIALS_TABLE, uid, version, &sorted)
        };
        let plain = cipher.open(&sealed, &binding)?;
        let map: Map<String, Value> = serde_json::from_str(plain.expose_secret())
            .map_err(|_| CipherError::Envelope(EnvelopeError::UnknownVersion))?;
        map.into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name, SecretString::from(text))),
                _ => Err(CipherError::NotUtf8),
            })
            .collect()
    }
}

/// The error key of a field sent twice (under `first` and `second`): its catalog
/// name when one of them is, else the older clients' name, else the first.
fn error_key<'a>(field: &'a CredentialField, first: &'a str, second: &'a str) -> &'a str {
    if first == field.name || second == field.name {
        return &field.name;
    }
    for name in [IDENTIFIER_ALIAS, PRIMARY_SECRET_ALIAS] {
        if first == name || second == name {
            return name;
        }
    }
    first
}

/// The part of a secret shown back to clients: its last four characters, or `****`
/// for a secret shorter than 12 characters.
#[must_use]
pub fn last4(secret: &SecretString) -> String {
    let secret = secret.expose_secret();
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < LAST4_MIN_CHARS {
        "****".to_owned()
    } else {
        chars[chars.len() - 4..].iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ProviderCatalog {
        ProviderCatalog::builtin().expect("valid")
    }

    fn input(nested: bool, entries: &[(&str, SentValue)]) -> CredentialInput {
        let mut input = CredentialInput::new(nested);
        for (name, value) in entries {
            input.push(*name, value.clone());
        }
        input
    }

    fn text(value: &str) -> SentValue {
        SentValue::Text(SecretString::from(value))
    }

    #[test]
    fn aliases_fill_the_catalog_fields_and_defaults_apply() {
        let catalog = catalog();
        let sip = catalog.by_slug("sip").expect("sip");
        let checked = Credentials::check(
            sip,
            &input(
                false,
                &[
                    ("account_sid", text("trunk")),
                    ("auth_token", text("pw-0123456789")),
                ],
            ),
            CheckMode::Create,
        )
        .expect("valid");
        assert_eq!(checked.identifier(sip), Some("trunk"));
        assert_eq!(checked.public["port"], Value::from(5060));
        assert_eq!(checked.public["transport"], Value::from("udp"));
        assert_eq!(checked.secret_last4()["password"], "6789");
        assert!(!format!("{checked:?}").contains("pw-0123456789"));
    }

    #[test]
    fn errors_are_keyed_by_the_sent_name_and_never_echo() {
        let catalog = catalog();
        let sip = catalog.by_slug("sip").expect("sip");
        let errors = Credentials::check(
            sip,
            &input(
                true,
                &[
                    ("username", text("u")),
                    ("api_secret", text("SENTINEL\u{7}")),
                    ("port", SentValue::Integer(70000)),
                    ("transport", text("carrier-pigeon")),
                    ("colour", text("SENTINEL")),
                ],
            ),
            CheckMode::Create,
        )
        .expect_err("invalid");
        for key in ["api_secret", "port", "transport", "non_field_errors"] {
            assert!(errors.has(key), "{key}: {errors:?}");
        }
        assert!(!format!("{errors:?}").contains("SENTINEL"));
        let errors =
            Credentials::check(sip, &input(false, &[]), CheckMode::Create).expect_err("missing");
        assert!(errors.has("account_sid") && errors.has("auth_token"));
        let errors =
            Credentials::check(sip, &input(true, &[]), CheckMode::Create).expect_err("missing");
        assert!(errors.has("username") && errors.has("password"));
    }

    #[test]
    fn pem_and_url_fields_follow_their_type() {
        let catalog = catalog();
        let vonage = catalog.by_slug("vonage").expect("vonage");
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY-----\n";
        let ok = Credentials::check(
            vonage,
            &input(true, &[("private_key", text(pem))]),
            CheckMode::Change,
        )
        .expect("pem with newlines");
        assert!(ok.secrets.contains_key("private_key"));
        assert!(
            Credentials::check(
                vonage,
                &input(true, &[("private_key", text("not a key"))]),
                CheckMode::Change
            )
            .is_err()
        );
        let livekit = catalog.by_slug("livekit").expect("livekit");
        for (url, good) in [
            ("wss://lk.example.com", true),
            ("https://lk.example.com/x", true),
            ("http://lk.example.com", false),
            ("wss://user:pw@lk.example.com", false),
            ("wss://", false),
        ] {
            let result = Credentials::check(
                livekit,
                &input(true, &[("url", text(url))]),
                CheckMode::Change,
            );
            assert_eq!(result.is_ok(), good, "{url}");
        }
    }

    #[test]
    fn shapes_before_the_provider_is_known() {
        let catalog = catalog();
        let errors = input(
            false,
            &[
                ("port", text("5060")),
                ("password", SentValue::Integer(1)),
                ("whatever", text("x")),
            ],
        )
        .shape_errors(&catalog);
        assert!(errors.has("port") && errors.has("password") && errors.has("non_field_errors"));
        assert!(!errors.has("whatever"));
    }

    #[test]
    fn last4_never_reveals_a_short_secret() {
        assert_eq!(last4(&SecretString::from("0123456789abcdef")), "cdef");
        assert_eq!(last4(&SecretString::from("short")), "****");
    }
}
