//! The provider catalog: which telephony providers a configuration can name, and the
//! format rules of each provider's two credential fields.
//!
//! The catalog is data (seeded by migrations); its patterns are compiled once when the
//! catalog is loaded, never per request.

use regex::Regex;

/// Database id of a catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(pub i64);

/// A catalog row as stored.
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

/// The format rule of one credential field.
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

/// A catalog entry with compiled rules.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: ProviderId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub account_sid: CredentialRule,
    pub auth_token: CredentialRule,
}

/// The whole catalog, in display order.
#[derive(Debug, Clone, Default)]
pub struct ProviderCatalog {
    providers: Vec<Provider>,
}

impl ProviderCatalog {
    /// Compiles the stored rows.
    ///
    /// # Errors
    /// A message naming the provider whose pattern does not compile.
    pub fn from_records(records: Vec<ProviderRecord>) -> Result<Self, String> {
        let providers = records
            .into_iter()
            .map(|record| {
                let compile = |label: &str, pattern: &str, hint: &str| {
                    CredentialRule::new(label, pattern, hint)
                        .map_err(|error| format!("provider {}: bad pattern: {error}", record.slug))
                };
                Ok(Provider {
                    account_sid: compile(
                        &record.account_sid_label,
                        &record.account_sid_pattern,
                        &record.account_sid_hint,
                    )?,
                    auth_token: compile(
                        &record.auth_token_label,
                        &record.auth_token_pattern,
                        &record.auth_token_hint,
                    )?,
                    id: record.id,
                    slug: record.slug,
                    name: record.name,
                    description: record.description,
                    icon: record.icon,
                })
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
}
