//! Bridges: an organization's routing objects that tie its phone numbers to provider
//! configurations. Value objects (slug, status, region), the stored shapes, and the
//! validation of what clients send to create, change, connect and disconnect.
//!
//! Validation here covers field shapes only; whether the numbers and configurations a
//! request names exist, belong to the organization and are free is decided by the
//! repository, inside the transaction that makes the change.

use std::collections::BTreeSet;
use std::fmt;

use super::{E164, PhoneNumberId, ProviderConfigId};
use crate::identity::OrgId;
use crate::shared::{NON_FIELD_ERRORS, Timestamp, ValidationErrors};
use crate::validation::{self as rules, Validate, ValidationError};

/// Database id of a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BridgeId(pub i64);

/// A bridge's slug, unique within its organization: lowercase ASCII letters and
/// digits in groups joined by single hyphens, 1 to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BridgeSlug(String);

/// Why a slug was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BridgeSlugError {
    #[error("must be 1 to 63 characters long")]
    Length,
    #[error("may hold only lowercase letters and digits, in groups joined by single hyphens")]
    Characters,
}

impl BridgeSlug {
    /// Longest accepted slug.
    pub const MAX_LEN: usize = 63;
    /// Longest base a generated slug starts from, leaving room for a `-<n>` suffix.
    pub const GENERATED_BASE_MAX_LEN: usize = 50;
    /// The base used when a name holds no ASCII letter or digit.
    pub const FALLBACK_BASE: &'static str = "bridge";

    /// Checks `text` against the slug rules.
    ///
    /// # Errors
    /// [`BridgeSlugError`] naming the first rule broken.
    pub fn parse(text: &str) -> Result<Self, BridgeSlugError> {
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(BridgeSlugError::Length);
        }
        let groups_ok = text
            .split('-')
            .all(|group| !group.is_empty() && group.bytes().all(is_slug_byte));
        if !groups_ok {
            return Err(BridgeSlugError::Characters);
        }
        Ok(Self(text.to_owned()))
    }

    /// The slug a name suggests: lowercase ASCII letters and digits, every other run
    /// of characters one hyphen, at most [`Self::GENERATED_BASE_MAX_LEN`] characters;
    /// [`Self::FALLBACK_BASE`] when nothing is left.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        let mut slug = String::new();
        let mut separated = false;
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                let hyphen = separated && !slug.is_empty();
                if slug.len() + usize::from(hyphen) + 1 > Self::GENERATED_BASE_MAX_LEN {
                    break;
                }
                if hyphen {
                    slug.push('-');
                }
                separated = false;
                slug.push(c.to_ascii_lowercase());
            } else {
                separated = true;
            }
        }
        if slug.is_empty() {
            Self(Self::FALLBACK_BASE.to_owned())
        } else {
            Self(slug)
        }
    }

    /// The first slug of the series `base`, `base-2`, `base-3`, ... that is not in
    /// `taken`. A base too long for a suffix is shortened first.
    #[must_use]
    pub fn first_free(base: &Self, taken: &BTreeSet<String>) -> Self {
        if !taken.contains(base.as_str()) {
            return base.clone();
        }
        let mut stem = base.as_str();
        if stem.len() > Self::GENERATED_BASE_MAX_LEN {
            stem = stem[..Self::GENERATED_BASE_MAX_LEN].trim_end_matches('-');
        }
        // At most `taken.len()` candidates are taken, so this ends.
        let mut n: usize = 2;
        loop {
            let candidate = format!("{stem}-{n}");
            if !taken.contains(&candidate) {
                return Self(candidate);
            }
            n = n.saturating_add(1);
        }
    }

    /// The slug as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_slug_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

impl fmt::Display for BridgeSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bridge's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BridgeStatus {
    Active,
    Inactive,
    Draft,
}

impl BridgeStatus {
    /// Every status, in wire order.
    pub const ALL: [Self; 3] = [Self::Active, Self::Inactive, Self::Draft];

    /// The wire and stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Draft => "DRAFT",
        }
    }

    /// Reads the wire form (exact spelling).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// Where a bridge's traffic is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    In,
    Us,
    Eu,
    Aus,
    Uae,
}

impl Region {
    /// Every region, in wire order.
    pub const ALL: [Self; 5] = [Self::In, Self::Us, Self::Eu, Self::Aus, Self::Uae];

    /// The wire and stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "IN",
            Self::Us => "US",
            Self::Eu => "EU",
            Self::Aus => "AUS",
            Self::Uae => "UAE",
        }
    }

    /// Reads the wire form (exact spelling).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|region| region.as_str() == text)
    }
}

/// A stored bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    pub id: BridgeId,
    pub org_id: OrgId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub status: BridgeStatus,
    pub region: Option<Region>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A number on a bridge, with the configuration connected to it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeNumber {
    pub number_id: PhoneNumberId,
    pub number: E164,
    pub provider_config_id: Option<ProviderConfigId>,
}

/// A bridge with its numbers (ordered by number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeDetail {
    pub bridge: Bridge,
    pub numbers: Vec<BridgeNumber>,
}

/// A bridge number a provider configuration is connected to (what blocks deleting
/// that configuration).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BridgeConnection {
    pub bridge_slug: String,
    pub number: E164,
}

/// What a client sent for a bridge, already checked for JSON types by the edge.
/// Absent fields are `None`; an explicit `null` for a nullable field is `Some(None)`.
///
/// The rules create and change share are declared here (`validator`); `slug` has
/// a rule per operation (its form on create, "cannot be changed" on PATCH).
#[derive(Debug, Default, Clone, Validate)]
pub struct BridgeDraft {
    #[validate(
        custom(function = "rules::no_control"),
        custom(function = "rules::max_chars::<100>"),
        custom(function = "rules::not_empty"),
        custom(function = "rules::not_blank")
    )]
    pub name: Option<String>,
    pub slug: Option<String>,
    #[validate(
        custom(function = "rules::no_control_multiline"),
        custom(function = "rules::max_chars::<1000>")
    )]
    pub description: Option<Option<String>>,
    #[validate(custom(function = "bridge_status"))]
    pub status: Option<String>,
    #[validate(custom(function = "bridge_region"))]
    pub region: Option<Option<String>>,
    #[validate(
        custom(function = "at_most_max_ids"),
        custom(function = "positive_ids")
    )]
    pub number_ids: Option<Vec<i64>>,
}

fn bridge_status(text: &str) -> Result<(), ValidationError> {
    match BridgeStatus::parse(text) {
        Some(_) => Ok(()),
        None => Err(ValidationError::new("choice")
            .with_message("must be one of ACTIVE, INACTIVE, DRAFT".into())),
    }
}

fn bridge_region(text: &str) -> Result<(), ValidationError> {
    match Region::parse(text) {
        Some(_) => Ok(()),
        None => Err(ValidationError::new("choice")
            .with_message("must be one of IN, US, EU, AUS, UAE, or null".into())),
    }
}

fn at_most_max_ids(ids: &[i64]) -> Result<(), ValidationError> {
    if ids.len() > MAX_NUMBER_IDS {
        return Err(ValidationError::new("length")
            .with_message(format!("must hold at most {MAX_NUMBER_IDS} ids").into()));
    }
    Ok(())
}

fn positive_ids(ids: &[i64]) -> Result<(), ValidationError> {
    if ids.iter().any(|id| *id <= 0) {
        return Err(
            ValidationError::new("ids").with_message("must hold positive integer ids".into())
        );
    }
    Ok(())
}

/// Most numbers one request may put on a bridge.
pub const MAX_NUMBER_IDS: usize = 1000;
const REQUIRED: &str = "This field is required.";

/// A valid create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBridge {
    pub name: String,
    /// `None`: generate one from the name.
    pub slug: Option<BridgeSlug>,
    pub description: Option<String>,
    pub status: BridgeStatus,
    pub region: Option<Region>,
    /// Sorted, without repeats.
    pub number_ids: Vec<PhoneNumberId>,
}

impl CreateBridge {
    /// Status of a bridge created without one.
    pub const DEFAULT_STATUS: BridgeStatus = BridgeStatus::Active;

    /// Validates a create: `name` is required, everything else optional.
    ///
    /// # Errors
    /// Every problem found, by field.
    pub fn validate(draft: BridgeDraft) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if draft.name.is_none() {
            errors.add("name", REQUIRED);
        }
        let slug = match draft.slug.as_deref().map(BridgeSlug::parse) {
            None => None,
            Some(Ok(slug)) => Some(slug),
            Some(Err(error)) => {
                errors.add("slug", error.to_string());
                None
            }
        };
        let common = common_fields(&draft, &mut errors);
        errors.into_result()?;
        Ok(Self {
            name: draft.name.unwrap_or_default(),
            slug,
            description: draft.description.flatten(),
            status: common.status.unwrap_or(Self::DEFAULT_STATUS),
            region: common.region.flatten(),
            number_ids: common.number_ids.unwrap_or_default(),
        })
    }

    /// The slug to use, or to start the generated series from.
    #[must_use]
    pub fn slug_base(&self) -> BridgeSlug {
        self.slug
            .clone()
            .unwrap_or_else(|| BridgeSlug::from_name(&self.name))
    }
}

/// A valid change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<BridgeStatus>,
    pub region: Option<Option<Region>>,
    /// The new set of numbers (sorted, without repeats), replacing the old one.
    pub number_ids: Option<Vec<PhoneNumberId>>,
}

impl BridgeChanges {
    /// Validates a PATCH: `slug` cannot change, `name` cannot be null, an empty change
    /// is refused.
    ///
    /// # Errors
    /// Every problem found, by field; `non_field_errors` for an empty body.
    pub fn validate(draft: BridgeDraft) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if draft.slug.is_some() {
            errors.add("slug", "cannot be changed");
        }
        let common = common_fields(&draft, &mut errors);
        errors.into_result()?;
        let changes = Self {
            name: draft.name,
            description: draft.description,
            status: common.status,
            region: common.region,
            number_ids: common.number_ids,
        };
        if changes == Self::default() {
            return Err(ValidationErrors::single(
                NON_FIELD_ERRORS,
                "Provide at least one field to update.",
            ));
        }
        Ok(changes)
    }
}

struct CommonFields {
    status: Option<BridgeStatus>,
    region: Option<Option<Region>>,
    number_ids: Option<Vec<PhoneNumberId>>,
}

/// Checks the fields create and change share (their declared rules) and reads them.
fn common_fields(draft: &BridgeDraft, errors: &mut ValidationErrors) -> CommonFields {
    if let Err(declared) = rules::validate(draft) {
        errors.merge(declared);
    }
    let status = draft.status.as_deref().and_then(BridgeStatus::parse);
    let region = draft
        .region
        .as_ref()
        .map(|region| region.as_deref().and_then(Region::parse));
    let number_ids = draft.number_ids.as_ref().map(|ids| {
        let unique: BTreeSet<i64> = ids.iter().copied().collect();
        unique.into_iter().map(PhoneNumberId).collect()
    });
    CommonFields {
        status,
        region,
        number_ids,
    }
}

/// What a client sent to connect or disconnect a configuration, checked for JSON
/// types by the edge. The fields' rules are declared here (`validator`); which
/// fields an operation takes is the operation's.
#[derive(Debug, Default, Clone, Validate)]
pub struct ConnectionDraft {
    #[validate(range(min = 1, message = "must be a positive integer id"))]
    pub provider_config_id: Option<i64>,
    #[validate(custom(function = "rules::e164"))]
    pub phone_number: Option<String>,
}

impl ConnectionDraft {
    /// The declared rules' messages for `field` (the operation takes it).
    fn declared_errors(&self, field: &str, errors: &mut ValidationErrors) {
        if let Err(declared) = rules::validate(self)
            && let Some(messages) = declared.fields().get(field)
        {
            for message in messages {
                errors.add(field, message.clone());
            }
        }
    }
}

/// A valid connect request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectProvider {
    pub provider_config_id: ProviderConfigId,
    pub phone_number: E164,
}

impl ConnectProvider {
    /// Both fields are required; the number must be strict E.164.
    ///
    /// # Errors
    /// Every problem found, by field.
    pub fn validate(draft: ConnectionDraft) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if draft.provider_config_id.is_none() {
            errors.add("provider_config_id", REQUIRED);
        }
        draft.declared_errors("provider_config_id", &mut errors);
        let config = draft
            .provider_config_id
            .filter(|id| *id > 0)
            .map(ProviderConfigId);
        let number = phone_number(&draft, &mut errors);
        errors.into_result()?;
        match (config, number) {
            (Some(provider_config_id), Some(phone_number)) => Ok(Self {
                provider_config_id,
                phone_number,
            }),
            _ => Err(ValidationErrors::single(NON_FIELD_ERRORS, REQUIRED)),
        }
    }
}

/// A valid disconnect request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisconnectProvider {
    pub phone_number: E164,
}

impl DisconnectProvider {
    /// `phone_number` is required and must be strict E.164; `provider_config_id` is
    /// not accepted.
    ///
    /// # Errors
    /// Every problem found, by field.
    pub fn validate(draft: ConnectionDraft) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if draft.provider_config_id.is_some() {
            errors.add("provider_config_id", "Unknown field.");
        }
        let number = phone_number(&draft, &mut errors);
        errors.into_result()?;
        number
            .map(|phone_number| Self { phone_number })
            .ok_or_else(|| ValidationErrors::single(NON_FIELD_ERRORS, REQUIRED))
    }
}

/// The required, strict E.164 `phone_number` of a connection request.
fn phone_number(draft: &ConnectionDraft, errors: &mut ValidationErrors) -> Option<E164> {
    if draft.phone_number.is_none() {
        errors.add("phone_number", REQUIRED);
    }
    draft.declared_errors("phone_number", errors);
    draft
        .phone_number
        .as_deref()
        .and_then(|text| E164::parse(text).ok())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_shared_rules_are_declared_on_the_drafts() {
        // `validate()` is the derived one: without the derive or a rule, this fails.
        let draft = BridgeDraft {
            name: Some(String::new()),
            description: Some(Some("line\nbreak\u{0}".into())),
            status: Some("active".into()),
            region: Some(Some("MARS".into())),
            number_ids: Some(vec![0; MAX_NUMBER_IDS + 1]),
            ..BridgeDraft::default()
        };
        let errors = rules::errors_from(&draft.validate().expect_err("invalid"));
        assert_eq!(errors.fields()["name"], vec![rules::NOT_EMPTY]);
        assert_eq!(errors.fields()["description"], vec![rules::NO_CONTROL]);
        assert_eq!(
            errors.fields()["status"],
            vec!["must be one of ACTIVE, INACTIVE, DRAFT"]
        );
        assert_eq!(
            errors.fields()["region"],
            vec!["must be one of IN, US, EU, AUS, UAE, or null"]
        );
        assert_eq!(
            errors.fields()["number_ids"],
            vec![
                "must hold at most 1000 ids".to_owned(),
                "must hold positive integer ids".to_owned()
            ]
        );
        let fine = BridgeDraft {
            description: Some(Some("two\nlines\tok".into())),
            region: Some(None),
            ..BridgeDraft::default()
        };
        assert!(fine.validate().is_ok());
        let connection = ConnectionDraft {
            provider_config_id: Some(0),
            phone_number: Some("+1 415 555 0100".into()),
        };
        let errors = rules::errors_from(&connection.validate().expect_err("invalid"));
        assert_eq!(
            errors.fields()["provider_config_id"],
            vec!["must be a positive integer id"]
        );
        assert!(errors.has("phone_number"));
    }

    #[test]
    fn slugs_follow_their_rules() {
        for good in ["a", "my-bridge", "b2", "x-1-y", &"a".repeat(63)] {
            assert!(BridgeSlug::parse(good).is_ok(), "{good}");
        }
        assert_eq!(BridgeSlug::parse(""), Err(BridgeSlugError::Length));
        assert_eq!(
            BridgeSlug::parse(&"a".repeat(64)),
            Err(BridgeSlugError::Length)
        );
        for bad in ["My-Bridge", "-a", "a-", "a--b", "a_b", "a b", "café"] {
            assert_eq!(
                BridgeSlug::parse(bad),
                Err(BridgeSlugError::Characters),
                "{bad}"
            );
        }
    }

    #[test]
    fn names_suggest_slugs() {
        for (name, slug) in [
            ("My Bridge", "my-bridge"),
            ("  Sales -- EU / West!  ", "sales-eu-west"),
            ("Café Central", "caf-central"),
            ("ABC123", "abc123"),
            ("!!!", "bridge"),
            ("日本", "bridge"),
        ] {
            assert_eq!(BridgeSlug::from_name(name).as_str(), slug, "{name}");
        }
        let long = BridgeSlug::from_name(&"word ".repeat(40));
        assert!(long.as_str().len() <= BridgeSlug::GENERATED_BASE_MAX_LEN);
        assert!(BridgeSlug::parse(long.as_str()).is_ok());
    }

    #[test]
    fn the_first_free_slug_of_the_series_is_chosen() {
        let base = BridgeSlug::from_name("My Bridge");
        let taken = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            BridgeSlug::first_free(&base, &taken(&[])).as_str(),
            "my-bridge"
        );
        assert_eq!(
            BridgeSlug::first_free(&base, &taken(&["my-bridge"])).as_str(),
            "my-bridge-2"
        );
        assert_eq!(
            BridgeSlug::first_free(&base, &taken(&["my-bridge", "my-bridge-2", "my-bridge-4"]))
                .as_str(),
            "my-bridge-3"
        );
        let long = BridgeSlug::parse(&"a".repeat(63)).expect("valid");
        let next = BridgeSlug::first_free(&long, &taken(&[&"a".repeat(63)]));
        assert!(BridgeSlug::parse(next.as_str()).is_ok(), "{next}");
    }

    #[test]
    fn statuses_and_regions_have_exact_wire_names() {
        for status in BridgeStatus::ALL {
            assert_eq!(BridgeStatus::parse(status.as_str()), Some(status));
        }
        for region in Region::ALL {
            assert_eq!(Region::parse(region.as_str()), Some(region));
        }
        assert_eq!(BridgeStatus::parse("active"), None);
        assert_eq!(Region::parse("AU"), None);
    }

    #[test]
    fn a_create_needs_a_name_and_gets_defaults() {
        let errors = CreateBridge::validate(BridgeDraft::default()).expect_err("invalid");
        assert!(errors.has("name"));
        let create = CreateBridge::validate(BridgeDraft {
            name: Some("Main".into()),
            number_ids: Some(vec![3, 1, 3]),
            ..BridgeDraft::default()
        })
        .expect("valid");
        assert_eq!(create.status, BridgeStatus::Active);
        assert_eq!(create.region, None);
        assert_eq!(create.number_ids, vec![PhoneNumberId(1), PhoneNumberId(3)]);
        assert_eq!(create.slug_base().as_str(), "main");
    }

    #[test]
    fn bad_fields_are_reported_by_name() {
        let errors = CreateBridge::validate(BridgeDraft {
            name: Some(" ".into()),
            slug: Some("Bad Slug".into()),
            description: Some(Some("a\u{0}b".into())),
            status: Some("LIVE".into()),
            region: Some(Some("MARS".into())),
            number_ids: Some(vec![0]),
        })
        .expect_err("invalid");
        for field in [
            "name",
            "slug",
            "description",
            "status",
            "region",
            "number_ids",
        ] {
            assert!(errors.has(field), "{field}");
        }
        let multiline = CreateBridge::validate(BridgeDraft {
            name: Some("Main".into()),
            description: Some(Some("line one\nline two\ttabbed".into())),
            ..BridgeDraft::default()
        });
        assert!(multiline.is_ok());
    }

    #[test]
    fn changes_refuse_empty_bodies_and_slugs() {
        let errors = BridgeChanges::validate(BridgeDraft::default()).expect_err("empty");
        assert!(errors.has(NON_FIELD_ERRORS));
        let errors = BridgeChanges::validate(BridgeDraft {
            slug: Some("new".into()),
            ..BridgeDraft::default()
        })
        .expect_err("slug");
        assert!(errors.has("slug"));
        let changes = BridgeChanges::validate(BridgeDraft {
            region: Some(None),
            number_ids: Some(vec![]),
            ..BridgeDraft::default()
        })
        .expect("valid");
        assert_eq!(changes.region, Some(None));
        assert_eq!(changes.number_ids, Some(vec![]));
    }

    #[test]
    fn connections_need_a_configuration_and_a_strict_number() {
        let errors = ConnectProvider::validate(ConnectionDraft::default()).expect_err("invalid");
        assert!(errors.has("provider_config_id") && errors.has("phone_number"));
        let errors = ConnectProvider::validate(ConnectionDraft {
            provider_config_id: Some(-1),
            phone_number: Some("+1 415 555 0100".into()),
        })
        .expect_err("invalid");
        assert!(errors.has("provider_config_id") && errors.has("phone_number"));
        let connect = ConnectProvider::validate(ConnectionDraft {
            provider_config_id: Some(4),
            phone_number: Some("+14155550100".into()),
        })
        .expect("valid");
        assert_eq!(connect.provider_config_id, ProviderConfigId(4));
        assert!(
            DisconnectProvider::validate(ConnectionDraft {
                provider_config_id: Some(4),
                phone_number: Some("+14155550100".into()),
            })
            .is_err()
        );
        assert!(
            DisconnectProvider::validate(ConnectionDraft {
                provider_config_id: None,
                phone_number: Some("+14155550100".into()),
            })
            .is_ok()
        );
    }

    proptest! {
        #[test]
        fn generated_slugs_are_always_valid(name in ".{0,200}") {
            let slug = BridgeSlug::from_name(&name);
            prop_assert!(BridgeSlug::parse(slug.as_str()).is_ok(), "{}", slug);
            prop_assert!(slug.as_str().len() <= BridgeSlug::GENERATED_BASE_MAX_LEN);
        }

        #[test]
        fn slug_parsing_never_panics(text in ".{0,80}") {
            if let Ok(slug) = BridgeSlug::parse(&text) {
                prop_assert!(slug.as_str().len() <= BridgeSlug::MAX_LEN);
            }
        }

        #[test]
        fn series_candidates_are_valid_and_free(base in "[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,5}", count in 0usize..20) {
            let base = BridgeSlug::parse(&base).expect("valid base");
            let mut taken = BTreeSet::new();
            for _ in 0..count {
                let next = BridgeSlug::first_free(&base, &taken);
                prop_assert!(BridgeSlug::parse(next.as_str()).is_ok());
                prop_assert!(taken.insert(next.as_str().to_owned()));
            }
        }

        #[test]
        fn validation_never_panics(name in ".{0,120}", slug in ".{0,70}", status in ".{0,10}", region in ".{0,5}", ids in proptest::collection::vec(any::<i64>(), 0..5)) {
            let draft = BridgeDraft {
                name: Some(name),
                slug: Some(slug),
                description: None,
                status: Some(status),
                region: Some(Some(region)),
                number_ids: Some(ids),
            };
            let _ = CreateBridge::validate(draft.clone());
            let _ = BridgeChanges::validate(draft);
        }
    }
}
