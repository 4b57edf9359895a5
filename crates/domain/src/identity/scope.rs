//! Scopes of API tokens (contract section 11): what a token may be used for, on top
//! of what its holder's role allows. A token's rights are its role's rights narrowed
//! to its scopes.
//!
//! Tokens stored before scopes existed, login tokens and tokens created without
//! `scopes` hold every scope except `credentials:reveal` ([`ScopeSet::legacy`]).
//! `credentials:reveal` may only be used by owners and admins, or by a service
//! account whose role is `member` or above ([`Role::may_use`]).

use std::fmt;
use std::str::FromStr;

use super::Role;

/// One scope a token may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    ConfigurationsRead,
    ConfigurationsWrite,
    BridgesRead,
    BridgesWrite,
    CredentialsUse,
    CredentialsReveal,
    AuditRead,
    WebhooksManage,
}

impl Scope {
    /// Every scope, in the contract's order.
    pub const ALL: [Self; 8] = [
        Self::ConfigurationsRead,
        Self::ConfigurationsWrite,
        Self::BridgesRead,
        Self::BridgesWrite,
        Self::CredentialsUse,
        Self::CredentialsReveal,
        Self::AuditRead,
        Self::WebhooksManage,
    ];

    /// The wire and storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigurationsRead => "configurations:read",
            Self::ConfigurationsWrite => "configurations:write",
            Self::BridgesRead => "bridges:read",
            Self::BridgesWrite => "bridges:write",
            Self::CredentialsUse => "credentials:use",
            Self::CredentialsReveal => "credentials:reveal",
            Self::AuditRead => "audit:read",
            Self::WebhooksManage => "webhooks:manage",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or(())
    }
}

/// A name that is not a scope (never repeated in messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope")]
pub struct UnknownScope;

/// A set of scopes (a small bit set: cheap to copy on every request).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u16);

impl ScopeSet {
    /// No scope.
    #[must_use]
    pub fn empty() -> Self {
        Self(0)
    }

    /// Every scope.
    #[must_use]
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    /// What tokens without stored scopes hold: every scope except
    /// `credentials:reveal`.
    #[must_use]
    pub fn legacy() -> Self {
        Self::all().without(Scope::CredentialsReveal)
    }

    /// Whether `scope` is in the set.
    #[must_use]
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The set with `scope` added.
    #[must_use]
    pub fn with(self, scope: Scope) -> Self {
        Self(self.0 | scope.bit())
    }

    /// The set with `scope` removed.
    #[must_use]
    pub fn without(self, scope: Scope) -> Self {
        Self(self.0 & !scope.bit())
    }

    /// Whether every scope of `self` is in `other`.
    #[must_use]
    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The scopes of the set, in the contract's order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }

    /// The scopes' names, in the contract's order (the wire form).
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }

    /// The stored form: the names separated by single spaces.
    #[must_use]
    pub fn to_stored(self) -> String {
        self.names().join(" ")
    }

    /// Parses the stored form.
    ///
    /// # Errors
    /// [`UnknownScope`] for an unknown name.
    pub fn from_stored(text: &str) -> Result<Self, UnknownScope> {
        Self::parse_names(text.split_whitespace())
    }

    /// Parses names sent by a client; the first unknown name is the error (the
    /// caller must not echo it).
    ///
    /// # Errors
    /// [`UnknownScope`] when a name is not a scope.
    pub fn parse_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownScope> {
        names
            .into_iter()
            .map(|name| name.parse::<Scope>().map_err(|()| UnknownScope))
            .collect::<Result<Self, UnknownScope>>()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, scope| bits | scope.bit()))
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// What a token may do beyond its holder's role: its scopes, and whether its holder
/// is a service account (which may reveal with role `member`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants {
    pub scopes: ScopeSet,
    pub service_account: bool,
}

impl Grants {
    /// The grants of a token with `stored` scopes (`None`: stored before scopes, or
    /// without them: [`ScopeSet::legacy`]).
    #[must_use]
    pub fn of(stored: Option<ScopeSet>, service_account: bool) -> Self {
        Self {
            scopes: stored.unwrap_or_else(ScopeSet::legacy),
            service_account,
        }
    }

    /// Whether a holder with `role` may use `scope` through this token: the token
    /// carries it and the role allows it.
    #[must_use]
    pub fn allow(self, role: Role, scope: Scope) -> bool {
        self.scopes.contains(scope) && role.may_use(scope, self.service_account)
    }
}

impl Role {
    /// Whether a holder of this role may ever use `scope` (a service account when
    /// `service_account`). Viewers read; members also write and use credentials;
    /// owners and admins also read the audit trail, manage webhooks and reveal;
    /// a service account with role `member` may reveal too.
    #[must_use]
    pub fn may_use(self, scope: Scope, service_account: bool) -> bool {
        match scope {
            Scope::ConfigurationsRead | Scope::BridgesRead => true,
            Scope::ConfigurationsWrite | Scope::BridgesWrite | Scope::CredentialsUse => {
                self.can_write()
            }
            Scope::AuditRead | Scope::WebhooksManage => matches!(self, Self::Owner | Self::Admin),
            Scope::CredentialsReveal => {
                matches!(self, Self::Owner | Self::Admin)
                    || (service_account && self == Self::Member)
            }
        }
    }

    /// Every scope this role could use.
    #[must_use]
    pub fn usable_scopes(self, service_account: bool) -> ScopeSet {
        Scope::ALL
            .into_iter()
            .filter(|scope| self.may_use(*scope, service_account))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_unknown_names_fail() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("credentials:*".parse::<Scope>().is_err());
        let set = ScopeSet::all();
        assert_eq!(ScopeSet::from_stored(&set.to_stored()), Ok(set));
        assert_eq!(ScopeSet::from_stored(""), Ok(ScopeSet::empty()));
        assert!(ScopeSet::parse_names(["bridges:read", "root"]).is_err());
    }

    #[test]
    fn legacy_tokens_hold_everything_but_reveal() {
        let legacy = ScopeSet::legacy();
        assert!(!legacy.contains(Scope::CredentialsReveal));
        assert_eq!(legacy.iter().count(), Scope::ALL.len() - 1);
        assert!(legacy.is_subset_of(ScopeSet::all()));
        assert!(!ScopeSet::all().is_subset_of(legacy));
        assert_eq!(Grants::of(None, false).scopes, legacy);
    }

    #[test]
    fn rights_are_role_and_scopes() {
        let reveal = Grants::of(Some(ScopeSet::all()), false);
        assert!(reveal.allow(Role::Owner, Scope::CredentialsReveal));
        assert!(reveal.allow(Role::Admin, Scope::CredentialsReveal));
        assert!(!reveal.allow(Role::Member, Scope::CredentialsReveal));
        let service = Grants::of(Some(ScopeSet::all()), true);
        assert!(service.allow(Role::Member, Scope::CredentialsReveal));
        assert!(!service.allow(Role::Viewer, Scope::CredentialsReveal));
        let narrow = Grants::of(
            Some(ScopeSet::empty().with(Scope::ConfigurationsRead)),
            false,
        );
        assert!(narrow.allow(Role::Owner, Scope::ConfigurationsRead));
        assert!(!narrow.allow(Role::Owner, Scope::ConfigurationsWrite));
        assert!(!Grants::of(None, false).allow(Role::Viewer, Scope::CredentialsUse));
        assert_eq!(
            Role::Viewer.usable_scopes(false),
            ScopeSet::empty()
                .with(Scope::ConfigurationsRead)
                .with(Scope::BridgesRead)
        );
    }
}
