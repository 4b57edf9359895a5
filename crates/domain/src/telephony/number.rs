//! Phone numbers: an organization's E.164 numbers, the strict E.164 value object, and
//! whether a number is on a bridge.
//!
//! A number belongs to one organization and sits on at most one bridge at a time. It
//! may be linked to a provider configuration: by a connection on its bridge, or by
//! an import from that configuration's account (contract section 16). This module
//! knows nothing of how numbers are stored or served.

use std::fmt;

use super::ProviderConfigId;
use crate::identity::OrgId;
use crate::shared::Timestamp;
use crate::validation::{self as rules, Validate};

/// Database id of a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumberId(pub i64);

/// A phone number in strict E.164 form: `+`, then 8 to 15 digits in all, the first of
/// which (the country code's) is not `0`. No spaces, dashes, dots or parentheses:
/// the stored form is the canonical form, so equal numbers are equal strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// Why a phone number was refused. Messages never repeat the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    #[error(
        "must be an E.164 number: '+' followed by 8 to 15 digits, without spaces or punctuation"
    )]
    Format,
    #[error("must not start with a country code of 0")]
    LeadingZero,
}

/// `POST /telephony/numbers/`: a strict E.164 number (its rule declared with
/// `validator`; see [`crate::validation`]).
#[derive(Debug, Validate)]
pub struct NumberRequest<'a> {
    #[validate(custom(function = "rules::e164"))]
    pub number: &'a str,
}

impl E164 {
    /// Fewest digits accepted (country code included).
    pub const MIN_DIGITS: usize = 8;
    /// Most digits E.164 allows (country code included).
    pub const MAX_DIGITS: usize = 15;

    /// Checks `text` against strict E.164.
    ///
    /// # Errors
    /// [`E164Error`] naming the rule broken.
    pub fn parse(text: &str) -> Result<Self, E164Error> {
        let digits = text.strip_prefix('+').ok_or(E164Error::Format)?;
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(E164Error::Format);
        }
        if digits.starts_with('0') {
            return Err(E164Error::LeadingZero);
        }
        Ok(Self(text.to_owned()))
    }

    /// The number as text (with its `+`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a number is on a bridge (the wire's `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberState {
    Assigned,
    NotAssigned,
}

impl NumberState {
    /// The wire form: `ASSIGNED` or `NOT_ASSIGNED`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "ASSIGNED",
            Self::NotAssigned => "NOT_ASSIGNED",
        }
    }

    /// Reads the wire form (exact spelling).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ASSIGNED" => Some(Self::Assigned),
            "NOT_ASSIGNED" => Some(Self::NotAssigned),
            _ => None,
        }
    }
}

/// The bridge a number is on, as seen from the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPlacement {
    pub bridge_id: super::BridgeId,
    pub bridge_slug: String,
    /// The provider configuration connected to this number on that bridge.
    pub provider_config_id: Option<ProviderConfigId>,
}

/// A stored phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub id: PhoneNumberId,
    pub org_id: OrgId,
    pub number: E164,
    pub active: bool,
    /// `None` while the number is on no bridge.
    pub placement: Option<NumberPlacement>,
    /// The configuration the number is linked to: connected on its bridge, or the
    /// one it was imported from (`None` unless imported or connected).
    pub provider_config_id: Option<ProviderConfigId>,
    pub created_at: Timestamp,
}

impl PhoneNumber {
    /// `ASSIGNED` when the number is on a bridge.
    #[must_use]
    pub fn state(&self) -> NumberState {
        if self.placement.is_some() {
            NumberState::Assigned
        } else {
            NumberState::NotAssigned
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn strict_e164_is_accepted() {
        for good in [
            "+14155550100",
            "+919876543210",
            "+4930123456",
            "+12345678",
            "+123456789012345",
        ] {
            assert_eq!(
                E164::parse(good).map(|n| n.as_str().to_owned()),
                Ok(good.to_owned()),
                "{good}"
            );
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "+",
            "14155550100",
            "+1 415 555 0100",
            "+1-415-555-0100",
            "+1(415)5550100",
            "+1234567",
            "+1234567890123456",
            "++14155550100",
            "+14155550100 ",
            " +14155550100",
            "+1415555010a",
            "+١٤١٥٥٥٥٠١٠٠",
            "0014155550100",
        ] {
            assert_eq!(E164::parse(bad), Err(E164Error::Format), "{bad:?}");
        }
        assert_eq!(E164::parse("+04155550100"), Err(E164Error::LeadingZero));
    }

    #[test]
    fn number_requests_carry_the_e164_rule() {
        let errors = crate::validation::errors_from(
            &NumberRequest {
                number: "+0123456789",
            }
            .validate()
            .expect_err("leading zero"),
        );
        assert_eq!(
            errors.fields()["number"],
            vec!["must not start with a country code of 0"]
        );
        assert!(
            NumberRequest {
                number: "+14155550100"
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn errors_never_repeat_the_value() {
        let error = E164::parse("+1SECRET99").expect_err("refused");
        assert!(!error.to_string().contains("SECRET"));
    }

    #[test]
    fn states_have_wire_names() {
        for state in [NumberState::Assigned, NumberState::NotAssigned] {
            assert_eq!(NumberState::parse(state.as_str()), Some(state));
        }
        assert_eq!(NumberState::parse("assigned"), None);
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_accepts_only_strict_e164(text in ".{0,40}") {
            if let Ok(number) = E164::parse(&text) {
                let digits = &number.as_str()[1..];
                prop_assert!(number.as_str().starts_with('+'));
                prop_assert!((8..=15).contains(&digits.len()));
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(!digits.starts_with('0'));
            }
        }

        #[test]
        fn every_strict_e164_number_is_accepted(number in "\\+[1-9][0-9]{7,14}") {
            prop_assert_eq!(E164::parse(&number).map(|n| n.as_str().to_owned()), Ok(number));
        }

        #[test]
        fn numbers_with_separators_are_refused(head in "[1-9][0-9]{3}", tail in "[0-9]{4,8}", sep in "[ .()/-]") {
            let text = format!("+{head}{sep}{tail}");
            prop_assert!(E164::parse(&text).is_err());
        }
    }
}
