//! Optimistic concurrency: what a client asserts about the version of the object it
//! changes (HTTP `If-Match`), independent of how the version is spelled on the wire.
//!
//! A change checks the precondition against the version it read, then writes with a
//! compare-and-set on that same version, so that of two changes made from the same
//! version exactly one succeeds.

/// The client's assertion about the current version of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    /// No assertion: the change applies to whatever version is current.
    #[default]
    None,
    /// The object must exist, at any version (`If-Match: *`).
    Any,
    /// The current version must be one of these. An empty list matches nothing (the
    /// client sent only tags that cannot name a version of this object).
    Versions(Vec<i64>),
}

impl Precondition {
    /// Whether an object at `version` satisfies the assertion.
    #[must_use]
    pub fn admits(&self, version: i64) -> bool {
        match self {
            Self::None | Self::Any => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }

    /// Whether the client asserted anything.
    #[must_use]
    pub fn is_asserted(&self) -> bool {
        !matches!(self, Self::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_must_match_and_wildcards_match_anything() {
        assert!(Precondition::None.admits(3));
        assert!(Precondition::Any.admits(3));
        assert!(Precondition::Versions(vec![2, 3]).admits(3));
        assert!(!Precondition::Versions(vec![2]).admits(3));
        assert!(!Precondition::Versions(Vec::new()).admits(1));
        assert!(!Precondition::None.is_asserted());
        assert!(Precondition::Any.is_asserted());
    }
}
