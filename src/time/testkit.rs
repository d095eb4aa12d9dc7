//! Helpers shared by the time module's property tests: the zones under test, their DST
//! transitions, and the documented rule for local times computed independently of
//! [`super::resolve_local`] (from the zones' offsets, and from chrono's `LocalResult`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// Parses an RFC 3339 instant.
pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------------
// Zones and their transitions.

pub(crate) const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
];

pub(crate) fn zone(i: usize) -> Tz {
    ZONES[i].parse().unwrap()
}

pub(crate) fn offset_at(tz: Tz, t: DateTime<Utc>) -> TimeDelta {
    TimeDelta::seconds(i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}

/// Every instant in 2025-2028 at which the zone's offset changes, found by scanning by the
/// quarter hour and narrowing to the minute.
pub(crate) fn transitions(tz_index: usize) -> &'static [DateTime<Utc>] {
    static ALL: OnceLock<Vec<Vec<DateTime<Utc>>>> = OnceLock::new();
    &ALL.get_or_init(|| {
        (0..ZONES.len())
            .map(|i| {
                let tz = zone(i);
                let mut out = Vec::new();
                let mut t = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
                let end = Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap();
                let step = TimeDelta::minutes(15);
                while t < end {
                    if offset_at(tz, t) != offset_at(tz, t + step) {
                        let mut m = t;
                        while offset_at(tz, m) == offset_at(tz, t) {
                            m += TimeDelta::minutes(1);
                        }
                        out.push(m);
                    }
                    t += step;
                }
                assert!(out.len() >= 4, "{} has DST", ZONES[i]);
                out
            })
            .collect()
    })[tz_index]
}

/// The documented rule, from offsets alone: the instants whose wall-clock reading is `local`
/// (the earlier one in a fold); in a gap, the instant that reads later than `local` by the gap's
/// length, i.e. `local` taken with the offset in force before the gap.
pub(crate) fn resolve_by_offsets(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let near = local.and_utc();
    let mut offsets: Vec<TimeDelta> = (-2..=2)
        .map(|d| offset_at(tz, near + TimeDelta::days(d)))
        .collect();
    offsets.sort();
    offsets.dedup();
    let reads = |u: DateTime<Utc>| u.with_timezone(&tz).naive_local();
    let exact = offsets
        .iter()
        .map(|o| near - *o)
        .filter(|u| reads(*u) == local)
        .min();
    if let Some(u) = exact {
        return u;
    }
    // In a gap: of the candidates, the one that reads later than asked is the one taken with
    // the offset from before the gap.
    let forward: Vec<DateTime<Utc>> = offsets
        .iter()
        .map(|o| near - *o)
        .filter(|u| reads(*u) > local)
        .collect();
    assert_eq!(forward.len(), 1, "{local} in {tz}: {forward:?}");
    forward[0]
}

/// How `local` reads in `tz`: once, twice (a fold) or never (a gap).
pub(crate) fn readings(tz: Tz, local: NaiveDateTime) -> usize {
    let near = local.and_utc();
    let mut found: Vec<DateTime<Utc>> = (-2..=2)
        .map(|d| near - offset_at(tz, near + TimeDelta::days(d)))
        .filter(|u| u.with_timezone(&tz).naive_local() == local)
        .collect();
    found.sort();
    found.dedup();
    found.len()
}

// ---------------------------------------------------------------------------------------------
// The one rule for local times, computed independently of the library.

/// Where a configured local time lands: itself when it exists (the earlier instant when it
/// exists twice); when it falls in a gap, moved forward by the gap's length.
pub(crate) fn expected(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.with_timezone(&Utc).min(b.with_timezone(&Utc)),
        LocalResult::None => {
            let off = |t: NaiveDateTime| tz.offset_from_utc_datetime(&t).fix().local_minus_utc();
            let (before, after) = (
                off(local - TimeDelta::days(1)),
                off(local + TimeDelta::days(1)),
            );
            let gap = TimeDelta::seconds(i64::from(after - before));
            let moved = local + gap;
            let t = tz
                .from_local_datetime(&moved)
                .earliest()
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(t.with_timezone(&tz).naive_local(), moved);
            t
        }
    }
}
