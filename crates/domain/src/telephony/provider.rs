//! The provider catalog: which telephony providers a configuration can name, and
//! every field of each provider's credentials (name, label, type, required, secret,
//! format rules, which field is the identifier and which the primary secret).
//!
//! The catalog is one data file, `crates/domain/catalog/providers.toml`, compiled
//! into the binary and parsed once ([`ProviderCatalog::builtin`]); storage holds a
//! copy of it written by `migrate` (ids never change). Patterns are compiled when
//! the catalog is loaded, never per request.

use std::collections::BTreeSet;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};

/// The catalog data file, as compiled into the binary.
pub const CATALOG_TOML: &str = include_str!("../../catalog/providers.toml");

/// Names no credential field may take: they are the configuration's own fields.
pub const RESERVED_FIELD_NAMES: [&str; 7] = [
    "provider",
    "name",
    "active",
    "base_url",
    "sip_url",
    "meta_json",
    "credentials",
];

/// The name every provider's identifier also answers to (and what the configuration
/// object shows it as).
pub const IDENTIFIER_ALIAS: &str = "account_sid";
/// The name every provider's primary secret also answers to.
pub const PRIMARY_SECRET_ALIAS: &str = "auth_token";
/// Older clients' alias of the identifier (only where no field has this name).
pub const IDENTIFIER_OLD_ALIAS: &str = "api_key";
/// Older clients' alias of the primary secret (only where no field has this name).
pub const PRIMARY_SECRET_OLD_ALIAS: &str = "api_secret";

/// Longest value of a `string` field without its own `max_length`.
const DEFAULT_MAX_CHARS: usize = 256;
/// Longest `url` value.
const URL_MAX_CHARS: usize = 255;
/// Longest `pem` value (8 KiB).
const PEM_MAX_CHARS: usize = 8192;

/// Database id of a catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(pub i64);

/// A catalog row as stored before credential fields were data (the identifier and
/// primary secret columns). Still the shape of those columns; used by tests that
/// build small catalogs of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub id: ProviderId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub account_sid_label: String,
    pub account_sid_pattern: String,
    pub account_sid_hint: String,
    pub auth_token_label: String,
    pub auth_token_pattern: String,
    pub auth_token_hint: String,
}

/// The format rule of one credential field (label, pattern, hint).
#[derive(Debug, Clone)]
pub struct CredentialRule {
    pub label: String,
    pub pattern: String,
    /// Human description used in error messages: "must look like {hint}".
    pub hint: String,
    regex: Regex,
}

impl CredentialRule {
    /// Compiles a rule.
    ///
    /// # Errors
    /// The pattern's compilation error.
    pub fn new(label: &str, pattern: &str, hint: &str) -> Result<Self, regex::Error> {
        Ok(Self {
            label: label.to_owned(),
            pattern: pattern.to_owned(),
            hint: hint.to_owned(),
            regex: Regex::new(pattern)?,
        })
    }

    /// Whether `value` satisfies the rule.
    #[must_use]
    pub fn accepts(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    /// The message for a value that breaks the rule (never the value itself).
    #[must_use]
    pub fn message(&self) -> String {
        format!("must look like {}", self.hint)
    }
}

/// The type of a credential field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// A line of text.
    String,
    /// An absolute URL with one of the field's schemes.
    Url,
    /// A JSON integer in the field's range.
    Integer,
    /// One of the field's choices.
    Enum,
    /// A PEM block (newlines allowed), up to 8 KiB.
    Pem,
}

impl FieldType {
    /// The name the catalog and the wire use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Url => "url",
            Self::Integer => "integer",
            Self::Enum => "enum",
            Self::Pem => "pem",
        }
    }
}

/// One credential field of a provider, its rules compiled.
#[derive(Debug, Clone)]
pub struct CredentialField {
    pub name: String,
    pub label: String,
    pub kind: FieldType,
    pub required: bool,
    pub secret: bool,
    pub identifier: bool,
    pub primary_secret: bool,
    /// The pattern as written in the catalog.
    pub pattern: Option<String>,
    /// Completes "must look like ..." when the pattern is not matched.
    pub hint: Option<String>,
    pub choices: Vec<String>,
    /// Longest value in characters (text types).
    pub max_length: usize,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Filled in on create when the field is not sent.
    pub default: Option<Value>,
    /// Schemes a `url` field accepts (lowercase, without `:`).
    pub schemes: Vec<String>,
    regex: Option<Regex>,
}

impl CredentialField {
    /// Whether the compiled pattern (if any) accepts `value`.
    #[must_use]
    pub fn pattern_accepts(&self, value: &str) -> bool {
        self.regex
            .as_ref()
            .is_none_or(|regex| regex.is_match(value))
    }

    /// The message of a value that breaks the pattern (never the value itself).
    #[must_use]
    pub fn pattern_message(&self) -> String {
        match &self.hint {
            Some(hint) => format!("must look like {hint}"),
            None => "has an invalid format".to_owned(),
        }
    }

    /// The public description of the field (contract section 10), in catalog order
    /// of keys.
    #[must_use]
    pub fn describe(&self) -> Value {
        let mut out = json!({
            "name": self.name, "label": self.label, "type": self.kind.as_str(),
            "required": self.required, "secret": self.secret,
        });
        let fields = out.as_object_mut();
        if let Some(fields) = fields {
            if let Some(pattern) = &self.pattern {
                fields.insert("pattern".into(), json!(pattern));
            }
            if let Some(hint) = &self.hint {
                fields.insert("hint".into(), json!(hint));
            }
            if !self.choices.is_empty() {
                fields.insert("choices".into(), json!(self.choices));
            }
            if self.kind != FieldType::Integer {
                fields.insert("max_length".into(), json!(self.max_length));
            }
            if let Some(min) = self.min {
                fields.insert("min".into(), json!(min));
            }
            if let Some(max) = self.max {
                fields.insert("max".into(), json!(max));
            }
            if let Some(default) = &self.default {
                fields.insert("default".into(), default.clone());
            }
            if !self.schemes.is_empty() {
                fields.insert("schemes".into(), json!(self.schemes));
            }
            if self.identifier {
                fields.insert("identifier".into(), json!(true));
            }
            if self.primary_secret {
                fields.insert("primary_secret".into(), json!(true));
            }
        }
        out
    }
}

/// A catalog entry with compiled rules.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: ProviderId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    /// The identifier's rule (what `account_sid` names), for older clients.
    pub account_sid: CredentialRule,
    /// The primary secret's rule (what `auth_token` names), for older clients.
    pub auth_token: CredentialRule,
    /// Every credential field, in form order.
    pub fields: Vec<CredentialField>,
    /// The positions in `fields` in the order of the fields' names (the key order of
    /// a configuration's `credentials` view), sorted once when the catalog loads.
    pub name_order: Vec<usize>,
}

impl Provider {
    /// The field named `name` (its own name, never an alias).
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&CredentialField> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The field a client means by `sent`: the provider's own field of that name,
    /// else the identifier for `account_sid`/`api_key` and the primary secret for
    /// `auth_token`/`api_secret` (a provider's own field wins over an alias).
    #[must_use]
    pub fn resolve(&self, sent: &str) -> Option<&CredentialField> {
        if let Some(field) = self.field(sent) {
            return Some(field);
        }
        match sent {
            IDENTIFIER_ALIAS | IDENTIFIER_OLD_ALIAS => Some(self.identifier()),
            PRIMARY_SECRET_ALIAS | PRIMARY_SECRET_OLD_ALIAS => Some(self.primary_secret()),
            _ => None,
        }
    }

    /// The identifier field (exactly one per provider; checked at load).
    #[must_use]
    pub fn identifier(&self) -> &CredentialField {
        self.fields
            .iter()
            .find(|field| field.identifier)
            .unwrap_or(&self.fields[0])
    }

    /// The primary secret field (exactly one per provider; checked at load).
    #[must_use]
    pub fn primary_secret(&self) -> &CredentialField {
        self.fields
            .iter()
            .find(|field| field.primary_secret)
            .unwrap_or(&self.fields[0])
    }

    /// The secret fields, in form order.
    pub fn secret_fields(&self) -> impl Iterator<Item = &CredentialField> {
        self.fields.iter().filter(|field| field.secret)
    }

    /// The fields as the catalog route and the database copy describe them.
    #[must_use]
    pub fn describe_fields(&self) -> Value {
        Value::Array(self.fields.iter().map(CredentialField::describe).collect())
    }
}

/// The whole catalog, in display order.
#[derive(Debug, Clone, Default)]
pub struct ProviderCatalog {
    providers: Vec<Provider>,
}

/// The data file's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    provider: Vec<ProviderEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    id: i64,
    slug: String,
    name: String,
    description: String,
    icon: String,
    field: Vec<FieldEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldEntry {
    name: String,
    label: String,
    #[serde(rename = "type")]
    kind: FieldType,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
    #[serde(default)]
    identifier: bool,
    #[serde(default)]
    primary_secret: bool,
    pattern: Option<String>,
    hint: Option<String>,
    #[serde(default)]
    choices: Vec<String>,
    max_length: Option<usize>,
    min: Option<i64>,
    max: Option<i64>,
    default: Option<Value>,
    #[serde(default)]
    schemes: Vec<String>,
}

impl FieldEntry {
    fn compile(self, slug: &str) -> Result<CredentialField, String> {
        let at = |problem: &str| format!("provider {slug}, field {}: {problem}", self.name);
        let regex = match &self.pattern {
            Some(pattern) => {
                Some(Regex::new(pattern).map_err(|error| at(&format!("bad pattern: {error}")))?)
            }
            None => None,
        };
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(at("names are lowercase letters, digits and underscores"));
        }
        if RESERVED_FIELD_NAMES.contains(&self.name.as_str()) {
            return Err(at("the name is reserved"));
        }
        if (self.kind == FieldType::Enum) == self.choices.is_empty() {
            return Err(at("choices are given exactly for enum fields"));
        }
        if (self.kind == FieldType::Url) == self.schemes.is_empty() {
            return Err(at("schemes are given exactly for url fields"));
        }
        if self.kind == FieldType::Integer && (self.pattern.is_some() || self.max_length.is_some())
        {
            return Err(at(
                "integer fields take min and max, not patterns or lengths",
            ));
        }
        if self.kind != FieldType::Integer && (self.min.is_some() || self.max.is_some()) {
            return Err(at("only integer fields take min and max"));
        }
        if (self.identifier || self.primary_secret) && !self.required {
            return Err(at("the identifier and the primary secret are required"));
        }
        if self.identifier && (self.secret || self.kind != FieldType::String) {
            return Err(at("the identifier is a non-secret string"));
        }
        if self.primary_secret && (!self.secret || self.kind != FieldType::String) {
            return Err(at("the primary secret is a secret string"));
        }
        if self.secret && self.default.is_some() {
            return Err(at("secret fields have no default"));
        }
        let max_length = self.max_length.unwrap_or(match self.kind {
            FieldType::Pem => PEM_MAX_CHARS,
            FieldType::Url => URL_MAX_CHARS,
            FieldType::String | FieldType::Enum | FieldType::Integer => DEFAULT_MAX_CHARS,
        });
        Ok(CredentialField {
            name: self.name,
            label: self.label,
            kind: self.kind,
            required: self.required,
            secret: self.secret,
            identifier: self.identifier,
            primary_secret: self.primary_secret,
            pattern: self.pattern,
            hint: self.hint,
            choices: self.choices,
            max_length,
            min: self.min,
            max: self.max,
            default: self.default,
            schemes: self
                .schemes
                .into_iter()
                .map(|scheme| scheme.to_ascii_lowercase())
                .collect(),
            regex,
        })
    }
}

impl ProviderEntry {
    fn compile(self) -> Result<Provider, String> {
        let slug = self.slug;
        let fields = self
            .field
            .into_iter()
            .map(|field| field.compile(&slug))
            .collect::<Result<Vec<_>, String>>()?;
        let mut names = BTreeSet::new();
        for field in &fields {
            if !names.insert(field.name.as_str()) {
                return Err(format!("provider {slug}: field {} twice", field.name));
            }
        }
        let count = |pick: fn(&CredentialField) -> bool| fields.iter().filter(|f| pick(f)).count();
        if count(|f| f.identifier) != 1 || count(|f| f.primary_secret) != 1 {
            return Err(format!(
                "provider {slug}: exactly one identifier and one primary secret"
            ));
        }
        let rule = |pick: fn(&CredentialField) -> bool| {
            let field = fields.iter().find(|f| pick(f)).ok_or("missing field")?;
            let pattern = field.pattern.clone().unwrap_or_else(|| ".+".to_owned());
            CredentialRule::new(
                &field.label,
                &pattern,
                field.hint.as_deref().unwrap_or("a valid value"),
            )
            .map_err(|error| error.to_string())
        };
        let account_sid = rule(|f| f.identifier).map_err(|e| format!("provider {slug}: {e}"))?;
        let auth_token = rule(|f| f.primary_secret).map_err(|e| format!("provider {slug}: {e}"))?;
        let mut name_order: Vec<usize> = (0..fields.len()).collect();
        name_order.sort_by(|&a, &b| fields[a].name.cmp(&fields[b].name));
        Ok(Provider {
            id: ProviderId(self.id),
            slug,
            name: self.name,
            description: self.description,
            icon: self.icon,
            account_sid,
            auth_token,
            fields,
            name_order,
        })
    }
}

impl ProviderCatalog {
    /// The catalog compiled into the binary ([`CATALOG_TOML`]).
    ///
    /// # Errors
    /// A message naming the entry that breaks a rule (a unit test keeps the shipped
    /// file valid).
    pub fn builtin() -> Result<Self, String> {
        Self::from_toml(CATALOG_TOML)
    }

    /// Parses and checks a catalog in the data file's format.
    ///
    /// # Errors
    /// A message naming the entry that breaks a rule.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let file: CatalogFile =
            toml::from_str(text).map_err(|error| format!("catalog data: {error}"))?;
        let providers = file
            .provider
            .into_iter()
            .map(ProviderEntry::compile)
            .collect::<Result<Vec<_>, String>>()?;
        let mut ids = BTreeSet::new();
        let mut slugs = BTreeSet::new();
        let mut previous = 0;
        for provider in &providers {
            if provider.id.0 <= previous {
                return Err(format!(
                    "provider {}: ids are positive and in increasing order",
                    provider.slug
                ));
            }
            previous = provider.id.0;
            if !ids.insert(provider.id) || !slugs.insert(provider.slug.as_str()) {
                return Err(format!("provider {}: id or slug twice", provider.slug));
            }
        }
        Ok(Self { providers })
    }

    /// A catalog of providers with two fields each, `account_sid` (the identifier)
    /// and `auth_token` (the primary secret), as stored rows described them before
    /// fields were data. For tests and benchmarks that need a small catalog.
    ///
    /// # Errors
    /// A message naming the provider whose pattern does not compile.
    pub fn from_records(records: Vec<ProviderRecord>) -> Result<Self, String> {
        let providers = records
            .into_iter()
            .map(|record| {
                let field =
                    |name: &str, label: &str, pattern: &str, hint: &str, secret| FieldEntry {
                        name: name.to_owned(),
                        label: label.to_owned(),
                        kind: FieldType::String,
                        required: true,
                        secret,
                        identifier: !secret,
                        primary_secret: secret,
                        pattern: Some(pattern.to_owned()),
                        hint: Some(hint.to_owned()),
                        choices: Vec::new(),
                        max_length: None,
                        min: None,
                        max: None,
                        default: None,
                        schemes: Vec::new(),
                    };
                ProviderEntry {
                    field: vec![
                        field(
                            IDENTIFIER_ALIAS,
                            &record.account_sid_label,
                            &record.account_sid_pattern,
                            &record.account_sid_hint,
                            false,
                        ),
                        field(
                            PRIMARY_SECRET_ALIAS,
                            &record.auth_token_label,
                            &record.auth_token_pattern,
                            &record.auth_token_hint,
                            true,
                        ),
                    ],
                    id: record.id.0,
                    slug: record.slug,
                    name: record.name,
                    description: record.description,
                    icon: record.icon,
                }
                .compile()
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self { providers })
    }

    /// Every entry.
    #[must_use]
    pub fn all(&self) -> &[Provider] {
        &self.providers
    }

    /// The entry with `slug`.
    #[must_use]
    pub fn by_slug(&self, slug: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.slug == slug)
    }

    /// The entry with `id`.
    #[must_use]
    pub fn by_id(&self, id: ProviderId) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// Whether some provider has a field named `name`, or `name` is one of the
    /// identifier's and primary secret's aliases: a key a configuration body may hold
    /// before its provider is known.
    #[must_use]
    pub fn is_credential_name(&self, name: &str) -> bool {
        [
            IDENTIFIER_ALIAS,
            IDENTIFIER_OLD_ALIAS,
            PRIMARY_SECRET_ALIAS,
            PRIMARY_SECRET_OLD_ALIAS,
        ]
        .contains(&name)
            || self.providers.iter().any(|p| p.field(name).is_some())
    }

    /// Every field named `name` across providers (for checks made before the
    /// provider is known).
    pub fn fields_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a CredentialField> {
        self.providers.iter().filter_map(move |p| p.resolve(name))
    }

    /// The stored rows' legacy columns of each provider (the identifier's and the
    /// primary secret's rules), as `migrate` writes them.
    #[must_use]
    pub fn records(&self) -> Vec<ProviderRecord> {
        self.providers
            .iter()
            .map(|p| ProviderRecord {
                id: p.id,
                slug: p.slug.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                icon: p.icon.clone(),
                account_sid_label: p.account_sid.label.clone(),
                account_sid_pattern: p.account_sid.pattern.clone(),
                account_sid_hint: p.account_sid.hint.clone(),
                auth_token_label: p.auth_token.label.clone(),
                auth_token_pattern: p.auth_token.pattern.clone(),
                auth_token_hint: p.auth_token.hint.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_order_lists_every_field_once_by_name() {
        let catalog = ProviderCatalog::builtin().expect("valid");
        for provider in catalog.all() {
            let names: Vec<&str> = provider
                .name_order
                .iter()
                .map(|&index| provider.fields[index].name.as_str())
                .collect();
            let mut expected: Vec<&str> = provider.fields.iter().map(|f| f.name.as_str()).collect();
            expected.sort_unstable();
            assert_eq!(names, expected, "{}", provider.slug);
        }
    }

    #[test]
    fn the_shipped_catalog_is_valid() {
        let catalog = ProviderCatalog::builtin().expect("the data file is valid");
        let slugs: Vec<&str> = catalog.all().iter().map(|p| p.slug.as_str()).collect();
        for slug in [
            "twilio",
            "plivo",
            "vonage",
            "telnyx",
            "exotel",
            "livekit",
            "vapi",
            "sip",
            "bandwidth",
        ] {
            assert!(slugs.contains(&slug), "{slug}");
        }
        for provider in catalog.all() {
            assert_eq!(
                provider.fields.iter().filter(|f| f.identifier).count(),
                1,
                "{}",
                provider.slug
            );
            assert_eq!(
                provider.fields.iter().filter(|f| f.primary_secret).count(),
                1,
                "{}",
                provider.slug
            );
            for field in &provider.fields {
                assert!(!RESERVED_FIELD_NAMES.contains(&field.name.as_str()));
                if let Some(pattern) = &field.pattern {
                    assert!(Regex::new(pattern).is_ok(), "{pattern}");
                }
            }
        }
    }

    #[test]
    fn ids_of_the_first_release_never_change() {
        let catalog = ProviderCatalog::builtin().expect("valid");
        for (id, slug) in [
            (1, "twilio"),
            (2, "plivo"),
            (3, "vonage"),
            (4, "telnyx"),
            (5, "exotel"),
            (6, "livekit"),
            (7, "vapi"),
            (8, "sip"),
        ] {
            assert_eq!(
                catalog.by_id(ProviderId(id)).map(|p| p.slug.as_str()),
                Some(slug)
            );
        }
    }

    #[test]
    fn aliases_name_the_identifier_and_primary_secret_unless_a_field_has_the_name() {
        let catalog = ProviderCatalog::builtin().expect("valid");
        let resolve = |slug: &str, sent: &str| {
            catalog
                .by_slug(slug)
                .and_then(|p| p.resolve(sent))
                .map(|f| f.name.clone())
        };
        assert_eq!(resolve("plivo", "account_sid").as_deref(), Some("auth_id"));
        assert_eq!(resolve("plivo", "api_key").as_deref(), Some("auth_id"));
        assert_eq!(resolve("sip", "api_secret").as_deref(), Some("password"));
        // Telnyx has a field named api_key: it is its secret, not the identifier.
        assert_eq!(resolve("telnyx", "api_key").as_deref(), Some("api_key"));
        assert_eq!(
            resolve("telnyx", "account_sid").as_deref(),
            Some("account_id")
        );
        assert_eq!(resolve("twilio", "colour"), None);
    }

    #[test]
    fn broken_catalogs_are_refused_with_the_entry_named() {
        let entry = |fields: &str| {
            format!(
                "[[provider]]\nid = 1\nslug = \"x\"\nname = \"X\"\ndescription = \"\"\nicon = \"\"\n{fields}"
            )
        };
        let id = "[[provider.field]]\nname = \"id\"\nlabel = \"Id\"\ntype = \"string\"\nrequired = true\nidentifier = true\n";
        let secret = "[[provider.field]]\nname = \"key\"\nlabel = \"Key\"\ntype = \"string\"\nrequired = true\nsecret = true\nprimary_secret = true\n";
        assert!(ProviderCatalog::from_toml(&entry(&format!("{id}{secret}"))).is_ok());
        for broken in [
            id.to_owned(),
            format!("{id}{secret}{}", secret.replace("\"key\"", "\"k2\"")),
            format!("{id}{}", secret.replace("\"key\"", "\"name\"")),
            format!(
                "{id}{secret}[[provider.field]]\nname = \"p\"\nlabel = \"P\"\ntype = \"string\"\npattern = \"(\"\n"
            ),
            format!(
                "{id}{secret}[[provider.field]]\nname = \"e\"\nlabel = \"E\"\ntype = \"enum\"\n"
            ),
        ] {
            let error = ProviderCatalog::from_toml(&entry(&broken)).expect_err(&broken);
            assert!(error.contains("provider x"), "{error}");
        }
    }
}
