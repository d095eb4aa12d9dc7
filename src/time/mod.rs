//! Reading and writing durations and instants: [`parse_duration`], [`format_duration`],
//! [`parse_instant`] and [`format_utc`], with [`TimeParseError`] when the text is not one.
//!
//! These are the forms every face of changegate reads and writes (`duration: 2h30m`,
//! `start: 2026-12-01T22:00:00+01:00`), so a tool built on the crate can check its own
//! arguments with the same words.
//!
//! Inside the crate this module also holds the time model (docs/time-semantics.md): every
//! instant is UTC, every interval half-open `[start, end)` (`interval`); recurring windows
//! are written in the local time of an IANA zone and follow the wall clock across DST
//! (`window`, with the cron and rrule forms in `recur`); a local time that does not exist or
//! exists twice is resolved by one rule used everywhere (`local`).

mod interval;
mod local;
mod recur;
mod text;
mod window;

#[cfg(test)]
mod testkit;

pub use text::{
    TimeParseError, TimeParseErrorKind, format_duration, format_utc, parse_duration, parse_instant,
};

pub(crate) use interval::{Interval, IntervalSet, add_saturating, latest};
pub(crate) use local::resolve_local;
pub(crate) use recur::{CronPattern, CronSpan, RuleSpan};
pub(crate) use text::{format_local, last_writable, parse_local_time, parse_weekday};
pub(crate) use window::{Recurrence, Truncation, Window};
