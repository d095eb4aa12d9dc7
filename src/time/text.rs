//! Reading and writing durations and instants as text: the forms requests, calendars, policies
//! and answers use.

use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday};

/// The longest duration [`parse_duration`] accepts, in seconds: 36 600 days (100 years of 366
/// days). Anything longer is a typo, and it keeps every sum of an instant and a duration read
/// from text far inside what chrono represents.
const MAX_DURATION_SECS: i64 = super::interval::LONGEST_OCCUPATION.num_seconds();

/// Text that is not a duration or an instant changegate can read.
///
/// Its message is lowercase and quotes the input in backticks, e.g. ``invalid duration `2
/// hours`, expected a number and a unit such as `90m`, `2h30m` or `1d` ``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .kind.message(.input))]
pub struct TimeParseError {
    kind: TimeParseErrorKind,
    input: String,
}

/// What is wrong with the text given to [`parse_duration`] or [`parse_instant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeParseErrorKind {
    /// Not a duration: no unit, an unknown unit, units out of order, or not positive.
    InvalidDuration,
    /// A duration longer than 36 600 days (100 years), including one too large to represent.
    DurationTooLong,
    /// A date and time without a UTC offset.
    MissingOffset,
    /// Not an RFC 3339 instant.
    InvalidInstant,
    /// A leap second (`23:59:60`): changegate counts time without them.
    LeapSecond,
    /// A year outside 0001 to 9999, in the offset written or in UTC: every instant
    /// changegate writes must be one it can read back.
    YearOutOfRange,
}

impl TimeParseErrorKind {
    fn message(self, text: &str) -> String {
        let text = crate::error::quote(text);
        match self {
            Self::InvalidDuration => format!(
                "invalid duration `{text}`, expected a number and a unit such as `90m`, `2h30m` or `1d`"
            ),
            Self::DurationTooLong => {
                format!("invalid duration `{text}`, expected at most 36600 days (100 years)")
            }
            Self::MissingOffset => format!(
                "`{text}` has no UTC offset; write it as RFC 3339 with an offset, e.g. `{text}Z` or `{text}+01:00`"
            ),
            Self::InvalidInstant => format!(
                "invalid time `{text}`, expected RFC 3339 with an offset such as `2026-12-01T22:00:00+01:00`"
            ),
            Self::LeapSecond => format!(
                "invalid time `{text}`: seconds `60` (a leap second) are not accepted; write `59` or the next minute"
            ),
            Self::YearOutOfRange => format!(
                "invalid time `{text}`: the year must be between 0001 and 9999 (in UTC as well)"
            ),
        }
    }
}

impl TimeParseError {
    fn new(kind: TimeParseErrorKind, input: &str) -> Self {
        Self {
            kind,
            input: input.to_owned(),
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> TimeParseErrorKind {
        self.kind
    }

    /// The text that could not be read, as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// Parses a duration such as `90m`, `2h30m`, `1d`, `1w2d` or `45s`.
///
/// Units are `w`, `d`, `h`, `m` and `s`, each at most once and largest first; a day is 24
/// hours. The result is positive and at most 36 600 days (100 years).
///
/// # Errors
/// Text that is not such a duration ([`TimeParseErrorKind::InvalidDuration`]), or one longer
/// than 36 600 days, however many digits it has ([`TimeParseErrorKind::DurationTooLong`]).
///
/// # Example
/// ```
/// use changegate::time::{TimeParseErrorKind, parse_duration};
/// assert_eq!(parse_duration("2h30m")?, chrono::TimeDelta::minutes(150));
/// let err = parse_duration("2 hours").unwrap_err();
/// assert_eq!(err.kind(), TimeParseErrorKind::InvalidDuration);
/// assert_eq!(
///     err.to_string(),
///     "invalid duration `2 hours`, expected a number and a unit such as `90m`, `2h30m` or `1d`"
/// );
/// let err = parse_duration("1000000000d").unwrap_err();
/// assert_eq!(err.kind(), TimeParseErrorKind::DurationTooLong);
/// # Ok::<(), changegate::time::TimeParseError>(())
/// ```
pub fn parse_duration(text: &str) -> Result<TimeDelta, TimeParseError> {
    const UNITS: [(char, i64); 5] = [
        ('w', 7 * 86_400),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ];
    let bad = || TimeParseError::new(TimeParseErrorKind::InvalidDuration, text);
    let too_long = || TimeParseError::new(TimeParseErrorKind::DurationTooLong, text);
    let s = text.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut next_unit = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let (pos, secs) = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .find(|(_, (u, _))| *u == c)
            .map(|(i, (_, secs))| (i, *secs))
            .ok_or_else(bad)?;
        if digits.is_empty() {
            return Err(bad());
        }
        // Only digits are left in `digits`: a number that does not fit is too long.
        let n: i64 = digits.parse().map_err(|_| too_long())?;
        total = n
            .checked_mul(secs)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(too_long)?;
        next_unit = pos + 1;
        digits.clear();
    }
    if !digits.is_empty() || total <= 0 {
        return Err(bad());
    }
    if total > MAX_DURATION_SECS {
        return Err(too_long());
    }
    Ok(TimeDelta::seconds(total))
}

/// Formats a duration the way [`parse_duration`] reads it, e.g. `2h30m` (days are the largest
/// unit; a negative duration starts with `-`).
///
/// # Example
/// ```
/// use changegate::time::format_duration;
/// assert_eq!(format_duration(chrono::TimeDelta::minutes(150)), "2h30m");
/// assert_eq!(format_duration(chrono::TimeDelta::hours(49)), "2d1h");
/// ```
pub fn format_duration(d: TimeDelta) -> String {
    let secs = d.num_seconds();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if secs < 0 {
        out.push('-');
    }
    let mut rest = secs.unsigned_abs();
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if rest >= size {
            out.push_str(&(rest / size).to_string());
            out.push(unit);
            rest %= size;
        }
    }
    out
}

/// Writes a UTC instant as RFC 3339 with `Z`, e.g. `2026-12-07T05:00:00Z`: the form of every
/// UTC instant in decisions and answers.
///
/// # Example
/// ```
/// use changegate::time::{format_utc, parse_instant};
/// let t = parse_instant("2026-12-07T06:00:00+01:00")?;
/// assert_eq!(format_utc(t.to_utc()), "2026-12-07T05:00:00Z");
/// # Ok::<(), changegate::time::TimeParseError>(())
/// ```
///
/// Every instant written can be read back by [`parse_instant`]: one after
/// `9999-12-31T23:59:59Z` (the end of a recurring blackout's occurrence that starts in 9999,
/// say) is written as `9999-12-31T23:59:59Z`, one before year 1 as `0001-01-01T00:00:00Z`,
/// never `+10000-...`.
pub fn format_utc(t: DateTime<Utc>) -> String {
    use chrono::Datelike;
    let t = if t.year() > MAX_YEAR {
        last_writable()
    } else if t.year() < MIN_YEAR {
        first_writable()
    } else {
        t
    };
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// `t` as RFC 3339 in its own offset, or, when its year there is outside 0001 to 9999, as
/// [`format_utc`] writes it: text that [`parse_instant`] reads back.
pub(crate) fn format_local<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    use chrono::Datelike;
    if (MIN_YEAR..=MAX_YEAR).contains(&t.year()) {
        t.to_rfc3339()
    } else {
        format_utc(t.to_utc())
    }
}

/// `9999-12-31T23:59:59Z`: the last instant [`format_utc`] writes.
pub(crate) fn last_writable() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(MAX_YEAR, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// `0001-01-01T00:00:00Z`: the first instant [`format_utc`] writes.
fn first_writable() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(MIN_YEAR, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc())
}

/// Parses an RFC 3339 instant that carries an offset (`Z` or `+01:00`).
///
/// # Errors
/// A date and time without an offset ([`TimeParseErrorKind::MissingOffset`], the message
/// shows how to add one), or anything else that is not RFC 3339
/// ([`TimeParseErrorKind::InvalidInstant`]).
///
/// # Example
/// ```
/// use changegate::time::{TimeParseErrorKind, parse_instant};
/// assert!(parse_instant("2026-12-01T22:00:00+01:00").is_ok());
/// let err = parse_instant("2026-12-01T22:00:00").unwrap_err();
/// assert_eq!(err.kind(), TimeParseErrorKind::MissingOffset);
/// assert_eq!(err.input(), "2026-12-01T22:00:00");
/// ```
pub fn parse_instant(text: &str) -> Result<DateTime<FixedOffset>, TimeParseError> {
    use chrono::{Datelike, Timelike};
    let t = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
        let t = text.trim();
        if NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").is_ok()
            || NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").is_ok()
        {
            TimeParseError::new(TimeParseErrorKind::MissingOffset, text)
        } else {
            TimeParseError::new(TimeParseErrorKind::InvalidInstant, text)
        }
    })?;
    // chrono reads `:60` as a leap second, an instant one second short of the next minute's.
    if t.nanosecond() >= 1_000_000_000 {
        return Err(TimeParseError::new(TimeParseErrorKind::LeapSecond, text));
    }
    let years = MIN_YEAR..=MAX_YEAR;
    if !years.contains(&t.year()) || !years.contains(&t.naive_utc().year()) {
        return Err(TimeParseError::new(
            TimeParseErrorKind::YearOutOfRange,
            text,
        ));
    }
    Ok(t)
}

/// The earliest year [`parse_instant`] accepts.
pub(crate) const MIN_YEAR: i32 = 1;
/// The latest year [`parse_instant`] accepts: RFC 3339 writes four digits, so a later instant
/// could be written (`+10000-...`) but not read back.
pub(crate) const MAX_YEAR: i32 = 9999;

/// Parses a weekday name: `mon`, `monday`, `Mon`, ...
pub(crate) fn parse_weekday(text: &str) -> Option<Weekday> {
    text.trim().parse::<Weekday>().ok()
}

/// Parses a local time of day, `HH:MM` or `HH:MM:SS`; `24:00` is not accepted (use `00:00`
/// of the next day).
pub(crate) fn parse_local_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("90m").unwrap(), TimeDelta::minutes(90));
        assert_eq!(parse_duration("2h30m").unwrap(), TimeDelta::minutes(150));
        assert_eq!(parse_duration("1d").unwrap(), TimeDelta::hours(24));
        assert_eq!(format_duration(TimeDelta::minutes(150)), "2h30m");
        for bad in ["", "5", "m", "30m2h", "2h2h", "-1h", "0m", "1x"] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn instant_without_offset_is_rejected_with_a_hint() {
        let err = parse_instant("2026-12-01T22:00:00")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no UTC offset"), "{err}");
        assert!(parse_instant("2026-12-01T22:00:00+01:00").is_ok());
    }

    #[test]
    fn leap_seconds_and_years_out_of_range_are_rejected() {
        let err = parse_instant("2026-12-31T23:59:60Z").unwrap_err();
        assert_eq!(err.kind(), TimeParseErrorKind::LeapSecond);
        assert!(err.to_string().contains("leap second"), "{err}");
        for bad in [
            "0000-06-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
        ] {
            let err = parse_instant(bad).unwrap_err();
            assert_eq!(err.kind(), TimeParseErrorKind::YearOutOfRange, "{bad}");
        }
        assert!(parse_instant("0001-01-01T00:00:00Z").is_ok());
        assert!(parse_instant("9999-12-31T23:59:59Z").is_ok());
    }

    #[test]
    fn long_input_is_quoted_in_part() {
        let long = "9".repeat(100_000);
        let err = parse_duration(&format!("{long}x")).unwrap_err().to_string();
        assert!(err.len() < 400, "{}", err.len());
        assert!(err.contains("100001 bytes"), "{err}");
    }
}
