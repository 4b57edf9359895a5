//! Conversions between the domain's UTC timestamps and the naive UTC timestamps the
//! portable schema stores.

use chrono::{NaiveDateTime, SubsecRound};
use switchboard_domain::shared::Timestamp;

/// The stored form of `at`: naive UTC, truncated to microseconds so that both
/// backends return exactly what was written.
pub(crate) fn to_db(at: Timestamp) -> NaiveDateTime {
    at.trunc_subsecs(6).naive_utc()
}

/// The domain form of a stored time.
pub(crate) fn from_db(at: NaiveDateTime) -> Timestamp {
    at.and_utc()
}
