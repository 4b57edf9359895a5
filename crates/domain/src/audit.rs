//! Audit context: who changed which provider configuration, when, from which
//! request, and which fields changed.
//!
//! Events record field names only, never values; for the credential they record the
//! old and new `last4` (what clients already see), never the secret. Events are
//! written in the same transaction as the change they describe (the configuration
//! repository takes an [`AuditEntry`] with every write) and they outlive the
//! configuration: they name it by id, without a foreign key.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::identity::{OrgId, TokenId, UserId};
use crate::shared::{Page, PageRequest, RepositoryError, Timestamp};
use crate::telephony::{
    NewProviderConfig, ProviderConfig, ProviderConfigId, ProviderConfigUpdate, Verification,
};

/// Database id of an audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditEventId(pub i64);

/// What happened to a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Created,
    /// Changed without a new credential.
    Updated,
    /// Changed with a new credential (`auth_token`), possibly with other fields.
    Rotated,
    Deleted,
    /// Connected to a bridge number.
    Connected,
    /// Disconnected from a bridge number.
    Disconnected,
    /// Its credentials were checked against the provider's API.
    Verified,
    /// Its secrets were revealed to a token holding `credentials:reveal`.
    CredentialsRevealed,
    /// A staged rotation stored a pending version.
    RotationStarted,
    /// The provider's verdict on a pending version was recorded.
    RotationVerified,
    /// A pending version became current.
    RotationPromoted,
    /// A pending rotation was cancelled and its version erased.
    RotationCancelled,
    /// The previous version was erased (its window ended, was ended, or a newer
    /// promotion or a PATCH replaced it).
    PreviousExpired,
    /// Its account's phone numbers were imported (details: how many were created,
    /// existed already, or were skipped).
    NumbersImported,
}

impl AuditAction {
    /// Every action, in lifecycle order.
    pub const ALL: [Self; 14] = [
        Self::Created,
        Self::Updated,
        Self::Rotated,
        Self::Deleted,
        Self::Connected,
        Self::Disconnected,
        Self::Verified,
        Self::CredentialsRevealed,
        Self::RotationStarted,
        Self::RotationVerified,
        Self::RotationPromoted,
        Self::RotationCancelled,
        Self::PreviousExpired,
        Self::NumbersImported,
    ];

    /// The stored and wire form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Rotated => "rotated",
            Self::Deleted => "deleted",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
            Self::Verified => "verified",
            Self::CredentialsRevealed => "credentials_revealed",
            Self::RotationStarted => "rotation_started",
            Self::RotationVerified => "rotation_verified",
            Self::RotationPromoted => "rotation_promoted",
            Self::RotationCancelled => "rotation_cancelled",
            Self::PreviousExpired => "previous_expired",
            Self::NumbersImported => "numbers_imported",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an audit action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action")]
pub struct UnknownAuditAction;

impl FromStr for AuditAction {
    type Err = UnknownAuditAction;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or(UnknownAuditAction)
    }
}

/// Who made a change and from which request. Every part is optional: operator
/// tools have no token, and background work has no request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditActor {
    pub user_id: Option<UserId>,
    pub token_id: Option<TokenId>,
    pub request_id: Option<String>,
}

/// Key of the changed field names in [`AuditChanges::to_json`].
pub const CHANGED_FIELDS_KEY: &str = "fields";
/// Key of the credential's old and new `last4` in [`AuditChanges::to_json`].
pub const AUTH_TOKEN_LAST4_KEY: &str = "auth_token_last4";

/// What a change touched: field names, the credential's old and new `last4`, and
/// details that are not values of the configuration (a bridge slug, a verification
/// status). Never a field's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditChanges {
    fields: Vec<String>,
    auth_token_last4: Option<(Option<String>, Option<String>)>,
    details: Map<String, Value>,
}

impl AuditChanges {
    /// No change recorded yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a changed field's name.
    #[must_use]
    pub fn field(mut self, name: &str) -> Self {
        if !self.fields.iter().any(|known| known == name) {
            self.fields.push(name.to_owned());
        }
        self
    }

    /// Records the credential's `last4` before and after the change.
    #[must_use]
    pub fn auth_token_last4(mut self, old: Option<&str>, new: Option<&str>) -> Self {
        self.auth_token_last4 = Some((old.map(str::to_owned), new.map(str::to_owned)));
        self
    }

    /// Adds a detail that is not a value of the configuration (for a bridge
    /// connection: `bridge` and `phone_number`). The reserved keys `fields` and
    /// `auth_token_last4` are ignored.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        if key != CHANGED_FIELDS_KEY && key != AUTH_TOKEN_LAST4_KEY {
            self.details.insert(key.to_owned(), value.into());
        }
        self
    }

    /// The changed field names, in the order they were added.
    #[must_use]
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The stored form: `{"fields": [...], "auth_token_last4": {"old", "new"}?, ...details}`.
    #[must_use]
    pub fn to_json(&self) -> Map<String, Value> {
        let mut map = self.details.clone();
        map.insert(
            CHANGED_FIELDS_KEY.to_owned(),
            Value::from(self.fields.clone()),
        );
        if let Some((old, new)) = &self.auth_token_last4 {
            let mut last4 = Map::new();
            last4.insert(
                "old".to_owned(),
                old.clone().map_or(Value::Null, Value::from),
            );
            last4.insert(
                "new".to_owned(),
                new.clone().map_or(Value::Null, Value::from),
            );
            map.insert(AUTH_TOKEN_LAST4_KEY.to_owned(), Value::Object(last4));
        }
        map
    }

    /// What creating `config` sets: every field given a value.
    #[must_use]
    pub fn of_create(config: &NewProviderConfig) -> Self {
        let mut changes = Self::new()
            .field("provider")
            .field("name")
            .field("account_sid")
            .field("auth_token")
            .field("active");
        if config.base_url.is_some() {
            changes = changes.field("base_url");
        }
        if config.sip_url.is_some() {
            changes = changes.field("sip_url");
        }
        if !config.meta_json.is_empty() {
            changes = changes.field("meta_json");
        }
        changes = changes.auth_token_last4(None, Some(&config.auth_token_last4));
        if let Some(verification) = &config.verification {
            changes = changes.verification(verification);
        }
        changes
    }

    /// What applying `update` to `current` changes, and whether that is a rotation
    /// (a new credential) or a plain update. Fields sent with their current value
    /// are not listed; a credential sent is always a rotation (the old one cannot be
    /// compared without decrypting it).
    #[must_use]
    pub fn of_update(
        current: &ProviderConfig,
        update: &ProviderConfigUpdate,
    ) -> (AuditAction, Self) {
        let mut changes = Self::new();
        if update
            .name
            .as_ref()
            .is_some_and(|name| *name != current.name)
        {
            changes = changes.field("name");
        }
        if update
            .account_sid
            .as_ref()
            .is_some_and(|sid| *sid != current.account_sid)
        {
            changes = changes.field("account_sid");
        }
        let rotated = update.auth_token.is_some();
        if let Some((_, last4)) = &update.auth_token {
            changes = changes
                .field("auth_token")
                .auth_token_last4(Some(&current.auth_token_last4), Some(last4));
        }
        if update.active.is_some_and(|active| active != current.active) {
            changes = changes.field("active");
        }
        if update
            .base_url
            .as_ref()
            .is_some_and(|url| *url != current.base_url)
        {
            changes = changes.field("base_url");
        }
        if update
            .sip_url
            .as_ref()
            .is_some_and(|url| *url != current.sip_url)
        {
            changes = changes.field("sip_url");
        }
        if update
            .meta_json
            .as_ref()
            .is_some_and(|meta| *meta != current.meta_json)
        {
            changes = changes.field("meta_json");
        }
        if let Some(Some(verification)) = &update.verification {
            changes = changes.verification(verification);
        }
        let action = if rotated {
            AuditAction::Rotated
        } else {
            AuditAction::Updated
        };
        (action, changes)
    }

    /// Records a verification outcome (its status, never the provider's answer).
    #[must_use]
    pub fn verification(self, verification: &Verification) -> Self {
        self.detail("verification_status", verification.status.as_str())
    }
}

/// An event to record with a write. The repository adds the organization and the
/// configuration's id (for a create, known only once the row exists).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub actor: AuditActor,
    pub action: AuditAction,
    pub changes: AuditChanges,
    pub at: Timestamp,
}

impl AuditEntry {
    /// An entry for `action` by `actor` at `at`.
    #[must_use]
    pub fn new(
        actor: AuditActor,
        action: AuditAction,
        changes: AuditChanges,
        at: Timestamp,
    ) -> Self {
        Self {
            actor,
            action,
            changes,
            at,
        }
    }

    /// A configuration connected to a bridge number (for the bridges context).
    #[must_use]
    pub fn connected(actor: AuditActor, bridge: &str, phone_number: &str, at: Timestamp) -> Self {
        let changes = AuditChanges::new()
            .detail("bridge", bridge)
            .detail("phone_number", phone_number);
        Self::new(actor, AuditAction::Connected, changes, at)
    }

    /// A configuration disconnected from a bridge number (for the bridges context).
    #[must_use]
    pub fn disconnected(
        actor: AuditActor,
        bridge: &str,
        phone_number: &str,
        at: Timestamp,
    ) -> Self {
        let changes = AuditChanges::new()
            .detail("bridge", bridge)
            .detail("phone_number", phone_number);
        Self::new(actor, AuditAction::Disconnected, changes, at)
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub org_id: OrgId,
    pub provider_config_id: Option<ProviderConfigId>,
    pub user_id: Option<UserId>,
    pub token_id: Option<TokenId>,
    pub request_id: Option<String>,
    pub action: AuditAction,
    /// The stored form of [`AuditChanges`].
    pub changes: Map<String, Value>,
    pub created_at: Timestamp,
}

/// List filters; bounds are inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub provider_config_id: Option<ProviderConfigId>,
    pub action: Option<AuditAction>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Storage of audit events. Writes that change a configuration record their event
/// through the configuration repository, in the same transaction; this port records
/// events that accompany no write of that repository and reads the trail.
pub trait AuditRepository: Send + Sync {
    /// Records one event on its own.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn record(
        &self,
        org: OrgId,
        provider_config_id: Option<ProviderConfigId>,
        entry: &AuditEntry,
    ) -> Result<AuditEvent, RepositoryError>;

    /// One page of the organization's events matching `filter`, newest first, and
    /// the total.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn list(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::telephony::{KeyId, ProviderId, SealedSecret, VerificationStatus};

    fn current() -> ProviderConfig {
        ProviderConfig {
            id: ProviderConfigId(1),
            uid: "u".into(),
            org_id: OrgId(1),
            provider_id: ProviderId(1),
            name: "Main".into(),
            account_sid: "AC1".into(),
            auth_token: SealedSecret::from_parts(KeyId(1), &[0; 12], &[0; 16]).into(),
            auth_token_last4: "cdef".into(),
            public_fields: Map::new(),
            secret_last4: std::collections::BTreeMap::new(),
            credential_version: 1,
            active: true,
            base_url: None,
            sip_url: None,
            meta_json: Map::new(),
            verification: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn actions_round_trip_their_names() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
        }
        assert!("renamed".parse::<AuditAction>().is_err());
    }

    #[test]
    fn an_update_lists_only_fields_that_differ() {
        let update = ProviderConfigUpdate {
            name: Some("Main".into()),
            active: Some(false),
            base_url: Some(Some("https://x.example".into())),
            ..ProviderConfigUpdate::default()
        };
        let (action, changes) = AuditChanges::of_update(&current(), &update);
        assert_eq!(action, AuditAction::Updated);
        assert_eq!(changes.fields(), ["active", "base_url"]);
        assert_eq!(
            Value::Object(changes.to_json()),
            json!({"fields": ["active", "base_url"]})
        );
    }

    #[test]
    fn a_new_credential_is_a_rotation_with_last4_only() {
        let update = ProviderConfigUpdate {
            name: Some("Renamed".into()),
            auth_token: Some((
                SealedSecret::from_parts(KeyId(1), &[0; 12], &[0; 16]),
                "3210".into(),
            )),
            verification: Some(Some(Verification {
                status: VerificationStatus::Valid,
                checked_at: Utc::now(),
            })),
            ..ProviderConfigUpdate::default()
        };
        let (action, changes) = AuditChanges::of_update(&current(), &update);
        assert_eq!(action, AuditAction::Rotated);
        assert_eq!(
            Value::Object(changes.to_json()),
            json!({"fields": ["name", "auth_token"],
                   "auth_token_last4": {"old": "cdef", "new": "3210"},
                   "verification_status": "valid"})
        );
    }

    #[test]
    fn details_cannot_overwrite_reserved_keys() {
        let changes = AuditChanges::new()
            .field("name")
            .field("name")
            .detail("fields", "forged")
            .detail("bridge", "main");
        assert_eq!(
            Value::Object(changes.to_json()),
            json!({"fields": ["name"], "bridge": "main"})
        );
        let entry =
            AuditEntry::connected(AuditActor::default(), "main", "+14155550100", Utc::now());
        assert_eq!(entry.action, AuditAction::Connected);
        assert_eq!(entry.changes.to_json()["phone_number"], "+14155550100");
    }
}
