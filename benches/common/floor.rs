//! The floor for `check_schedule`: the default bundle's built-in schedule rules
//! (`policies/policy.yaml`, production) written by hand over plain data and a per-service sorted
//! index, with no changegate type, so the bench can say how far the library is from what the
//! question costs natively.
//!
//! What it answers is what the built-in rules decide: which rules fire (as a bit set) and so the
//! outcome. It writes no messages and no details (a finding's text is the library's job, and
//! the bench request passes most rules anyway). Times are UTC seconds; intervals half-open.
//!
//! The rules, as `policies/policy.yaml` states them for production:
//! - advance notice 24h from `requested_at` (or `now`), hotfix and emergency exempt;
//! - max duration 8h;
//! - blackout `holiday-freeze` Dec 20 00:00 to Jan 3 00:00 every year, and `weekend-freeze`
//!   Fri 16:00 to Mon 06:00 every week (emergency exempt), both in Europe/Berlin local time;
//!   plus the calendar's one-off blackouts;
//! - preferred window Mon-Thu 22:00 to 06:00 next day, Europe/Berlin (a warning outside it);
//! - conflicts: another deployment of one of the services in the environment overlaps;
//! - concurrency: at most 3 at once in the environment, the request included (peak by sweep);
//! - dependencies: each must be in the calendar and end by the start;
//! - and `start_in_past`, which has no policy key: the start may not be before `now`.

use std::collections::HashMap;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

const BERLIN: Tz = chrono_tz::Europe::Berlin;
const HOUR: i64 = 3_600;
const NOTICE: i64 = 24 * HOUR;
const MAX_DURATION: i64 = 8 * HOUR;
const MAX_CONCURRENT: usize = 3;

/// Bits of [`Verdict::denied`], one per rule.
pub const ADVANCE_NOTICE: u8 = 1;
/// See [`ADVANCE_NOTICE`].
pub const MAX_DURATION_RULE: u8 = 1 << 1;
/// See [`ADVANCE_NOTICE`].
pub const BLACKOUT: u8 = 1 << 2;
/// See [`ADVANCE_NOTICE`].
pub const CONFLICT: u8 = 1 << 3;
/// See [`ADVANCE_NOTICE`].
pub const CONCURRENCY: u8 = 1 << 4;
/// See [`ADVANCE_NOTICE`].
pub const DEPENDENCY: u8 = 1 << 5;
/// See [`ADVANCE_NOTICE`].
pub const START_IN_PAST: u8 = 1 << 6;

/// A deployment or request, as plain data.
#[derive(Debug, Clone)]
pub struct Change {
    pub id: String,
    pub services: Vec<String>,
    pub environment: String,
    pub change_type: String,
    /// UTC seconds.
    pub start: i64,
    /// UTC seconds, exclusive.
    pub end: i64,
    pub requested_at: Option<i64>,
    pub depends_on: Vec<String>,
}

/// A one-off freeze.
#[derive(Debug, Clone)]
pub struct OneOff {
    pub start: i64,
    pub end: i64,
    pub environments: Option<Vec<String>>,
    pub services: Option<Vec<String>>,
}

/// Deployments sorted by start, with the longest duration, so an overlap query is two binary
/// searches and a walk over the candidates.
#[derive(Default)]
struct Sorted {
    /// (start, end, index into `Floor::changes`)
    spans: Vec<(i64, i64, usize)>,
    longest: i64,
}

impl Sorted {
    fn push(&mut self, start: i64, end: i64, idx: usize) {
        self.spans.push((start, end, idx));
        self.longest = self.longest.max(end - start);
    }

    fn overlapping(&self, start: i64, end: i64) -> impl Iterator<Item = &(i64, i64, usize)> {
        let lo = self.spans.partition_point(|s| s.0 <= start - self.longest);
        let hi = self.spans.partition_point(|s| s.0 < end);
        self.spans
            .get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .filter(move |s| s.1 > start)
    }
}

/// The calendar, indexed: by environment, by (environment, service), by id.
pub struct Floor {
    changes: Vec<Change>,
    by_env: HashMap<String, Sorted>,
    by_service: HashMap<String, HashMap<String, Sorted>>,
    by_id: HashMap<String, usize>,
    one_offs: Vec<OneOff>,
}

/// What the rules found: the rules that deny (bits above) and whether the preferred-window
/// warning fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub denied: u8,
    pub warned: bool,
}

impl Verdict {
    /// `allow`, `warn` or `deny`, as the library's `Outcome::as_str`.
    pub fn outcome(self) -> &'static str {
        if self.denied != 0 {
            "deny"
        } else if self.warned {
            "warn"
        } else {
            "allow"
        }
    }
}

impl Floor {
    pub fn new(changes: Vec<Change>, one_offs: Vec<OneOff>) -> Self {
        let mut by_env: HashMap<String, Sorted> = HashMap::new();
        let mut by_service: HashMap<String, HashMap<String, Sorted>> = HashMap::new();
        let mut by_id = HashMap::new();
        for (i, c) in changes.iter().enumerate() {
            by_id.insert(c.id.clone(), i);
            by_env
                .entry(c.environment.clone())
                .or_default()
                .push(c.start, c.end, i);
            let services = by_service.entry(c.environment.clone()).or_default();
            for s in &c.services {
                services
                    .entry(s.clone())
                    .or_default()
                    .push(c.start, c.end, i);
            }
        }
        let sort = |s: &mut Sorted| s.spans.sort_unstable();
        by_env.values_mut().for_each(sort);
        by_service
            .values_mut()
            .flat_map(HashMap::values_mut)
            .for_each(sort);
        Self {
            changes,
            by_env,
            by_service,
            by_id,
            one_offs,
        }
    }

    /// The built-in production rules for `req` at `now` (UTC seconds).
    pub fn check(&self, req: &Change, now: i64) -> Verdict {
        let (start, end) = (req.start, req.end);
        let ty = req.change_type.as_str();
        let emergency = ty == "emergency";
        let mut denied = 0;
        if start < now {
            denied |= START_IN_PAST;
        }
        if !(ty == "hotfix" || emergency) && start - req.requested_at.unwrap_or(now) < NOTICE {
            denied |= ADVANCE_NOTICE;
        }
        if end - start > MAX_DURATION {
            denied |= MAX_DURATION_RULE;
        }
        if holiday_freeze(start, end) || (!emergency && weekend_freeze(start, end)) {
            denied |= BLACKOUT;
        }
        if self.one_offs.iter().any(|b| {
            b.start < end
                && b.end > start
                && b.environments
                    .as_ref()
                    .is_none_or(|e| e.contains(&req.environment))
                && b.services
                    .as_ref()
                    .is_none_or(|s| req.services.iter().any(|x| s.contains(x)))
        }) {
            denied |= BLACKOUT;
        }
        let warned = !in_preferred_window(start, end);
        if let Some(services) = self.by_service.get(&req.environment) {
            let conflict = req.services.iter().any(|s| {
                services.get(s).is_some_and(|idx| {
                    idx.overlapping(start, end)
                        .any(|&(_, _, i)| self.changes.get(i).is_some_and(|c| c.id != req.id))
                })
            });
            if conflict {
                denied |= CONFLICT;
            }
        }
        if let Some(idx) = self.by_env.get(&req.environment) {
            if self.peak_others(idx, req, start, end) + 1 > MAX_CONCURRENT {
                denied |= CONCURRENCY;
            }
        }
        for dep in &req.depends_on {
            let ends_in_time = self
                .by_id
                .get(dep)
                .and_then(|&i| self.changes.get(i))
                .is_some_and(|d| d.end <= start);
            if !ends_in_time {
                denied |= DEPENDENCY;
            }
        }
        Verdict { denied, warned }
    }

    /// The most other deployments running at one instant inside `[start, end)`: a sweep over
    /// their clipped starts (+1) and ends (-1), ends first at equal instants.
    fn peak_others(&self, idx: &Sorted, req: &Change, start: i64, end: i64) -> usize {
        let mut events: Vec<(i64, i32)> = Vec::new();
        for &(s, e, i) in idx.overlapping(start, end) {
            if self.changes.get(i).is_some_and(|c| c.id != req.id) {
                events.push((s.max(start), 1));
                events.push((e.min(end), -1));
            }
        }
        if events.len() < 2 * MAX_CONCURRENT {
            return events.len() / 2;
        }
        events.sort_unstable();
        let (mut running, mut peak) = (0i32, 0i32);
        for (_, delta) in events {
            running += delta;
            peak = peak.max(running);
        }
        usize::try_from(peak).unwrap_or(0)
    }
}

/// A Berlin wall-clock time as UTC seconds: the earlier instant in a fold, moved forward by the
/// gap (an hour in Berlin) in a gap.
fn berlin(date: NaiveDate, hour: u32) -> i64 {
    let local: NaiveDateTime = date.and_hms_opt(hour, 0, 0).unwrap_or_default();
    match BERLIN.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp(),
        LocalResult::None => BERLIN
            .from_local_datetime(&(local + chrono::TimeDelta::hours(1)))
            .earliest()
            .map_or(local.and_utc().timestamp(), |t| t.timestamp()),
    }
}

fn berlin_date(t: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&BERLIN)
        .date_naive()
}

/// Whether `[start, end)` overlaps Dec 20 00:00 - Jan 3 00:00 of some year, Berlin time.
fn holiday_freeze(start: i64, end: i64) -> bool {
    let mut year = berlin_date(start).year() - 1;
    loop {
        let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(year, 12, 20),
            NaiveDate::from_ymd_opt(year + 1, 1, 3),
        ) else {
            return false;
        };
        let from = berlin(from, 0);
        if from >= end {
            return false;
        }
        if berlin(to, 0) > start {
            return true;
        }
        year += 1;
    }
}

/// Whether `[start, end)` overlaps Fri 16:00 - Mon 06:00 of some week, Berlin time.
fn weekend_freeze(start: i64, end: i64) -> bool {
    let day = berlin_date(start);
    // The Friday on or before the start's local date: its freeze is the latest that can
    // already have begun.
    let back = (day.weekday().num_days_from_monday() + 7 - Weekday::Fri.num_days_from_monday()) % 7;
    let mut friday = day - Days::new(u64::from(back));
    loop {
        let from = berlin(friday, 16);
        if from >= end {
            return false;
        }
        if berlin(friday + Days::new(3), 6) > start {
            return true;
        }
        friday = friday + Days::new(7);
    }
}

/// Whether `[start, end)` lies inside one Mon-Thu 22:00 - 06:00 night, Berlin time (the nights
/// are 16 hours apart, so their union covers an interval only if one of them does).
fn in_preferred_window(start: i64, end: i64) -> bool {
    let day = berlin_date(start);
    [day - Days::new(1), day].into_iter().any(|d| {
        d.weekday().num_days_from_monday() <= Weekday::Thu.num_days_from_monday()
            && berlin(d, 22) <= start
            && end <= berlin(d + Days::new(1), 6)
    })
}
