//! Building blocks shared by every context: time, paging, validation errors and the
//! failure modes every repository has in common.
//!
//! Nothing here knows about a particular entity.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};

/// A point in time, always UTC, truncated to microseconds so that SQLite (which keeps
/// nanoseconds) and PostgreSQL (microseconds) return exactly what was written.
pub type Timestamp = DateTime<Utc>;

/// Source of the current time (a port, so that tests can pin it).
pub trait Clock: Send + Sync {
    /// The current time, truncated to microseconds.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now().trunc_subsecs(6)
    }
}

/// Why a repository call failed, independent of the operation.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The database cannot be reached, the pool is exhausted past its timeout, or
    /// the database is busy past its timeout. Retrying later may succeed (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, a corrupt row, a broken invariant (HTTP 500).
    #[error("repository failure: {0}")]
    Internal(String),
}

/// Per-field validation messages. Keys are field names (or `non_field_errors`);
/// messages never repeat the submitted value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    fields: BTreeMap<String, Vec<String>>,
}

/// Key under which problems of the body as a whole are reported.
pub const NON_FIELD_ERRORS: &str = "non_field_errors";

impl ValidationErrors {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding one message.
    #[must_use]
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Adds a message for `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Whether a message exists for `field`.
    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// Whether there is no message at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The messages, by field name.
    #[must_use]
    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.fields
    }

    /// Adds every message of `other`.
    pub fn merge(&mut self, other: Self) {
        for (field, messages) in other.fields {
            self.fields.entry(field).or_default().extend(messages);
        }
    }

    /// `Ok(())` when empty, else `Err(self)`.
    ///
    /// # Errors
    /// Returns the set itself when it holds any message.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.keys().map(String::as_str).collect();
        write!(f, "invalid fields: {}", names.join(", "))
    }
}

/// A page request: `page` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
}

impl PageRequest {
    /// Default number of items per page.
    pub const DEFAULT_PAGE_SIZE: u32 = 50;
    /// Largest accepted page size.
    pub const MAX_PAGE_SIZE: u32 = 100;

    /// Rows to skip before this page.
    #[must_use]
    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.page_size)
    }

    /// Rows on this page at most.
    #[must_use]
    pub fn limit(&self) -> i64 {
        i64::from(self.page_size)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: Self::DEFAULT_PAGE_SIZE,
        }
    }
}

/// One page of items and the total number of matching items across pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// True when `text` holds a control character (including NUL, DEL and the C1 range).
#[must_use]
pub fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_offsets_count_from_one() {
        let page = PageRequest {
            page: 3,
            page_size: 20,
        };
        assert_eq!(page.offset(), 40);
        assert_eq!(page.limit(), 20);
        assert_eq!(PageRequest::default().offset(), 0);
    }

    #[test]
    fn validation_errors_merge_and_report_names_only() {
        let mut errors = ValidationErrors::single("a", "bad");
        errors.merge(ValidationErrors::single("b", "worse"));
        errors.add("a", "again");
        assert_eq!(errors.fields()["a"].len(), 2);
        assert_eq!(errors.to_string(), "invalid fields: a, b");
        assert!(ValidationErrors::new().into_result().is_ok());
    }

    #[test]
    fn control_characters_are_found() {
        assert!(has_control_chars("a\u{0}b"));
        assert!(has_control_chars("a\nb"));
        assert!(has_control_chars("\u{7f}"));
        assert!(!has_control_chars("plain text é"));
    }
}

/// Why a write that can collide with an existing row failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A uniqueness rule refused the row (HTTP 409 at the edge).
    #[error("a row with the same unique key exists")]
    Duplicate,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}
