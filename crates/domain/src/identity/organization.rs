//! Organizations, their `domain_handle` (what clients send as `Org-Handle`), and the
//! roles a member can hold.

use std::fmt;
use std::str::FromStr;

use crate::shared::Timestamp;

/// Database id of an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(pub i64);

/// An organization's handle: lowercase ASCII letters, digits and hyphens, 3 to 63
/// characters. (Leading, trailing and doubled hyphens are allowed: the contract
/// does not forbid them and existing handles may use them.)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainHandle(String);

/// Why a handle was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DomainHandleError {
    #[error("must be 3 to 63 characters long")]
    Length,
    #[error("may hold only lowercase letters, digits and hyphens")]
    Characters,
}

impl DomainHandle {
    /// Shortest accepted handle.
    pub const MIN_LEN: usize = 3;
    /// Longest accepted handle.
    pub const MAX_LEN: usize = 63;

    /// Checks `text` against the handle rules.
    ///
    /// # Errors
    /// [`DomainHandleError`] naming the first rule broken.
    pub fn parse(text: &str) -> Result<Self, DomainHandleError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len()) {
            return Err(DomainHandleError::Length);
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(DomainHandleError::Characters);
        }
        Ok(Self(text.to_owned()))
    }

    /// The handle as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a member may do in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Self; 4] = [Self::Owner, Self::Admin, Self::Member, Self::Viewer];

    /// The role's wire and storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }

    /// Whether the role may create, change and delete the organization's telephony
    /// objects. Viewers only read.
    #[must_use]
    pub fn can_write(self) -> bool {
        !matches!(self, Self::Viewer)
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or(())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An organization.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub domain_handle: DomainHandle,
    pub created_at: Timestamp,
}

/// An organization seen by one of its members, with the member's role.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationMembership {
    pub organization: Organization,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn handles_follow_the_contract() {
        assert!(DomainHandle::parse("acme").is_ok());
        assert!(DomainHandle::parse("a-1").is_ok());
        assert_eq!(DomainHandle::parse("ab"), Err(DomainHandleError::Length));
        assert_eq!(
            DomainHandle::parse(&"a".repeat(64)),
            Err(DomainHandleError::Length)
        );
        assert!(DomainHandle::parse(&"a".repeat(63)).is_ok());
        assert_eq!(
            DomainHandle::parse("Acme"),
            Err(DomainHandleError::Characters)
        );
        assert_eq!(
            DomainHandle::parse("ac_me"),
            Err(DomainHandleError::Characters)
        );
        assert_eq!(
            DomainHandle::parse("acmé"),
            Err(DomainHandleError::Characters)
        );
    }

    #[test]
    fn roles_round_trip_and_viewers_only_read() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
        assert!(!Role::Viewer.can_write());
        assert!(Role::Member.can_write());
    }

    proptest! {
        #[test]
        fn handle_parser_never_panics_and_accepts_only_valid(text in ".{0,80}") {
            if let Ok(handle) = DomainHandle::parse(&text) {
                prop_assert!((3..=63).contains(&handle.as_str().len()));
                prop_assert!(handle.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
        }

        #[test]
        fn valid_handles_are_accepted(text in "[a-z0-9-]{3,63}") {
            prop_assert!(DomainHandle::parse(&text).is_ok());
        }
    }
}
