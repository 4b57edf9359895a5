//! Conversions between the domain's UTC timestamps and the naive UTC timestamps the
//! portable schema stores, and [`StoredTime`], a stored timestamp read without
//! chrono's format-string parser on SQLite.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, SubsecRound};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;
use switchboard_domain::shared::Timestamp as DomainTimestamp;

use crate::connection::MultiBackend;

/// The stored form of `at`: naive UTC, truncated to microseconds so that both
/// backends return exactly what was written.
pub(crate) fn to_db(at: DomainTimestamp) -> NaiveDateTime {
    at.trunc_subsecs(6).naive_utc()
}

/// The domain form of a stored time.
pub(crate) fn from_db(at: NaiveDateTime) -> DomainTimestamp {
    at.and_utc()
}

/// A `TIMESTAMP` column as read by the rows on every request's path (a
/// configuration, a token).
///
/// SQLite stores timestamps as text (`2026-12-06 17:25:00.123456`, as Diesel writes
/// them). Diesel reads that text by trying up to eighteen chrono format strings in
/// turn; for a list of 50 configurations (three timestamps each) that was about a
/// tenth of the request's CPU (docs/performance.md). This reads the layout Diesel
/// writes (and SQLite's own `CURRENT_TIMESTAMP`, with `T` or a space) directly and
/// hands anything else to Diesel's reader, so every text Diesel accepts still reads
/// the same. PostgreSQL's binary form goes to Diesel unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub(crate) struct StoredTime(pub(crate) NaiveDateTime);

impl StoredTime {
    /// The domain form.
    pub(crate) fn utc(self) -> DomainTimestamp {
        from_db(self.0)
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTime {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(at) = parse_plain(value.read_text()) {
            return Ok(Self(at));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for StoredTime {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, MultiBackend> for StoredTime {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`), optionally followed by `.` and one to nine
/// digits of a second, and nothing else; `None` for any other text.
fn parse_plain(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b' ' | b'T')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        bytes[from..to].iter().try_fold(0u32, |sum, &byte| {
            byte.is_ascii_digit()
                .then(|| sum * 10 + u32::from(byte - b'0'))
        })
    };
    let year = i32::try_from(number(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5, 7)?, number(8, 10)?)?;
    let nanos = match &bytes[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let value = number(20, bytes.len())?;
            // Nine digits in all: ".5" is 500 000 000 ns.
            value * 10u32.pow(u32::try_from(9 - digits.len()).ok()?)
        }
        _ => return None,
    };
    let time =
        NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_reads(text: &str) -> Option<NaiveDateTime> {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    }

    #[test]
    fn reads_what_diesel_writes_as_chrono_does() {
        let start = NaiveDate::from_ymd_opt(2026, 12, 6)
            .and_then(|d| d.and_hms_nano_opt(17, 25, 0, 0))
            .expect("a date");
        for step in [
            0i64,
            1,
            999,
            1_000,
            123_456_000,
            999_999_999,
            86_399_999_999_999,
        ] {
            let at = start + chrono::Duration::nanoseconds(step * 7_919);
            for text in [
                at.format("%F %T%.f").to_string(),
                at.format("%FT%T%.f").to_string(),
                at.format("%F %T").to_string(),
                at.format("%F %T%.3f").to_string(),
            ] {
                assert_eq!(parse_plain(&text), chrono_reads(&text), "{text}");
                assert!(parse_plain(&text).is_some(), "{text}");
            }
        }
    }

    #[test]
    fn anything_else_is_left_to_diesel() {
        for text in [
            "",
            "2026-12-06",
            "2026-12-06 17:25",
            "2026-12-06 17:25:00Z",
            "2026-12-06 17:25:00+00:00",
            "2026-12-06 17:25:00.",
            "2026-12-06 17:25:00.1234567890",
            "2026-13-06 17:25:00",
            "2026-02-30 17:25:00",
            "2026-12-06 24:00:00",
            "2026-12-06 17:25:0x",
            "2026/12/06 17:25:00",
            "+2026-12-06 17:25:00",
            "2026-12-06 17:25:00.-5",
            "2461015.5",
        ] {
            assert_eq!(parse_plain(text), None, "{text}");
        }
    }

    #[test]
    fn fractions_are_scaled_to_nanoseconds() {
        let read = |text: &str| parse_plain(text).map(|at| at.and_utc().timestamp_subsec_nanos());
        assert_eq!(read("2026-12-06 17:25:00.5"), Some(500_000_000));
        assert_eq!(read("2026-12-06 17:25:00.000001"), Some(1_000));
        assert_eq!(read("2026-12-06 17:25:00.123456789"), Some(123_456_789));
    }
}
