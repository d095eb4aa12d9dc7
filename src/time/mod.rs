//! Instants, durations, half-open intervals, interval sets and recurring local-time windows.
//!
//! Every instant is UTC inside; every interval is half-open `[start, end)`. Recurring windows
//! are written in the local time of an IANA zone and follow wall-clock time across DST; a local
//! time that does not exist or exists twice is resolved by [`resolve_local`], the one rule used
//! everywhere (see docs/time-semantics.md).

use std::fmt;

mod recur;

pub use recur::{CronPattern, CronSpan, MAX_RULE_OCCURRENCES, RuleSpan};

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// A half-open interval of UTC instants, `[start, end)`, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Interval {
    /// The interval `[start, end)`, or `None` when it would be empty (`end <= start`).
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    /// `[start, end)`, stretched to one second when `end` is not after `start`.
    pub fn at_least_one_second(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            start,
            end: end.max(start + TimeDelta::seconds(1)),
        }
    }

    /// The first instant inside the interval.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after the interval.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether the two intervals share at least one instant.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `t` lies inside `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether `other` lies entirely inside this interval.
    pub fn covers(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// How long the interval lasts.
    pub fn length(&self) -> TimeDelta {
        self.end - self.start
    }
}

/// A set of instants stored as sorted, disjoint, non-adjacent half-open intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntervalSet {
    items: Vec<Interval>,
}

impl IntervalSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The intervals of the set, sorted and disjoint.
    pub fn intervals(&self) -> &[Interval] {
        &self.items
    }

    /// Whether the set holds no instant.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `t` is in the set.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let i = self.items.partition_point(|iv| iv.end <= t);
        self.items.get(i).is_some_and(|iv| iv.contains(t))
    }

    /// Whether every instant of `interval` is in the set.
    pub fn covers(&self, interval: &Interval) -> bool {
        let i = self.items.partition_point(|iv| iv.end <= interval.start);
        self.items.get(i).is_some_and(|iv| iv.covers(interval))
    }

    /// The union of both sets.
    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        self.items
            .iter()
            .chain(other.items.iter())
            .copied()
            .collect()
    }

    /// The instants in both sets.
    pub fn intersection(&self, other: &IntervalSet) -> IntervalSet {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while let (Some(a), Some(b)) = (self.items.get(i), other.items.get(j)) {
            if let Some(iv) = Interval::new(a.start.max(b.start), a.end.min(b.end)) {
                out.push(iv);
            }
            if a.end <= b.end {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet { items: out }
    }

    /// The instants of this set that are not in `other`.
    pub fn difference(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        let mut j = 0;
        for a in &self.items {
            let mut cursor = a.start;
            while let Some(b) = other.items.get(j) {
                if b.end <= cursor {
                    j += 1;
                    continue;
                }
                if b.start >= a.end {
                    break;
                }
                if let Some(iv) = Interval::new(cursor, b.start) {
                    out.push(iv);
                }
                cursor = cursor.max(b.end);
                if b.end >= a.end {
                    break;
                }
                j += 1;
            }
            if let Some(iv) = Interval::new(cursor, a.end) {
                out.push(iv);
            }
        }
        IntervalSet { items: out }
    }
}

impl IntervalSet {
    /// The instants of `range` that are not in the set.
    pub fn complement_within(&self, range: Interval) -> IntervalSet {
        IntervalSet::from(range).difference(self)
    }

    /// The part of the set inside `range`.
    pub fn clip(&self, range: Interval) -> IntervalSet {
        self.intersection(&IntervalSet::from(range))
    }

    /// Adds the instants of `interval`.
    pub fn insert(&mut self, interval: Interval) {
        let i = self.items.partition_point(|iv| iv.end < interval.start);
        let mut merged = interval;
        let mut j = i;
        while let Some(iv) = self.items.get(j) {
            if iv.start > merged.end {
                break;
            }
            merged.start = merged.start.min(iv.start);
            merged.end = merged.end.max(iv.end);
            j += 1;
        }
        self.items.splice(i..j, [merged]);
    }

    /// The interval of the set that contains `t`.
    pub fn interval_containing(&self, t: DateTime<Utc>) -> Option<Interval> {
        let i = self.items.partition_point(|iv| iv.end <= t);
        self.items.get(i).filter(|iv| iv.contains(t)).copied()
    }

    /// The intervals that end after `t`, in order (the first may contain `t`).
    pub fn from_instant(&self, t: DateTime<Utc>) -> &[Interval] {
        let i = self.items.partition_point(|iv| iv.end <= t);
        self.items.get(i..).unwrap_or_default()
    }

    /// Every interval `[s, e)` widened to `[s - before, e + after)`, merged.
    pub fn widen(&self, before: TimeDelta, after: TimeDelta) -> IntervalSet {
        self.items
            .iter()
            .filter_map(|iv| Interval::new(iv.start - before, iv.end + after))
            .collect()
    }

    /// The total length of the set.
    pub fn total(&self) -> TimeDelta {
        self.items
            .iter()
            .fold(TimeDelta::zero(), |acc, iv| acc + (iv.end - iv.start))
    }
}

impl From<Interval> for IntervalSet {
    fn from(interval: Interval) -> Self {
        IntervalSet {
            items: vec![interval],
        }
    }
}

impl FromIterator<Interval> for IntervalSet {
    fn from_iter<I: IntoIterator<Item = Interval>>(iter: I) -> Self {
        let mut items: Vec<Interval> = iter.into_iter().collect();
        items.sort_unstable();
        let mut merged: Vec<Interval> = Vec::with_capacity(items.len());
        for iv in items {
            match merged.last_mut() {
                Some(last) if iv.start <= last.end => last.end = last.end.max(iv.end),
                _ => merged.push(iv),
            }
        }
        IntervalSet { items: merged }
    }
}

/// Parses a duration such as `90m`, `2h30m`, `1d`, `1w2d` or `45s`.
///
/// Units are `w`, `d`, `h`, `m` and `s`, each at most once and largest first; a day is 24
/// hours. The result is positive.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    const UNITS: [(char, i64); 5] = [
        ('w', 7 * 86_400),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ];
    let bad = || {
        format!(
            "invalid duration `{text}`, expected a number and a unit such as `90m`, `2h30m` or `1d`"
        )
    };
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
        let pos = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == c)
            .ok_or_else(bad)?;
        let n: i64 = digits.parse().map_err(|_| bad())?;
        let (_, secs) = UNITS[next_unit + pos];
        total = n
            .checked_mul(secs)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        next_unit += pos + 1;
        digits.clear();
    }
    if !digits.is_empty() || total <= 0 || total > 366 * 86_400 * 100 {
        return Err(bad());
    }
    Ok(TimeDelta::seconds(total))
}

/// Formats a duration the way [`parse_duration`] reads it, e.g. `2h30m`.
pub fn format_duration(d: TimeDelta) -> String {
    let mut secs = d.num_seconds();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if secs < 0 {
        out.push('-');
        secs = -secs;
    }
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if secs >= size {
            out.push_str(&(secs / size).to_string());
            out.push(unit);
            secs %= size;
        }
    }
    out
}

/// Writes a UTC instant as RFC 3339 with `Z`, e.g. `2026-12-07T05:00:00Z`: the form of every
/// UTC instant in decisions and answers.
pub fn format_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 instant that carries an offset (`Z` or `+01:00`).
pub fn parse_instant(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
        if NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S").is_ok()
            || NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").is_ok()
        {
            format!("`{text}` has no UTC offset; write it as RFC 3339 with an offset, e.g. `{text}Z` or `{text}+01:00`")
        } else {
            format!("invalid time `{text}`, expected RFC 3339 with an offset such as `2026-12-01T22:00:00+01:00`")
        }
    })
}

/// Resolves a local wall-clock time in `tz` to one UTC instant.
///
/// The rule, used for every recurring window: a local time that exists once maps to that
/// instant; one that exists twice (a fall-back overlap) maps to the **earlier** of the two; one
/// that does not exist (a spring-forward gap) is moved **forward by the length of the gap**, so
/// `02:30` on a day Europe/Berlin jumps from 02:00 to 03:00 becomes `03:30` CEST. This is RFC
/// 5545's rule and jiff's `Disambiguation::Compatible`.
///
/// Answers are memoized per thread (a small direct-mapped cache): the same window boundaries
/// are resolved by check after check, and a zone lookup costs far more than the cache probe.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    /// Slots in the per-thread cache (a power of two).
    const SLOTS: usize = 512;
    type Slot = Option<(Tz, NaiveDateTime, DateTime<Utc>)>;
    thread_local! {
        static CACHE: std::cell::RefCell<Vec<Slot>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let stamp = local.and_utc().timestamp() as u64;
    let mixed = (stamp ^ ((tz as u64) << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let slot = (mixed >> 32) as usize % SLOTS;
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.is_empty() {
            cache.resize(SLOTS, None);
        }
        match cache.get(slot) {
            Some(Some((z, l, utc))) if *z == tz && *l == local => *utc,
            _ => {
                let utc = resolve_local_uncached(tz, local);
                if let Some(entry) = cache.get_mut(slot) {
                    *entry = Some((tz, local, utc));
                }
                utc
            }
        }
    })
}

/// [`resolve_local`] without the cache.
fn resolve_local_uncached(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: apply the offset in force just before the transition. A day before the
            // gap is well clear of it for every zone in the tz database.
            let probe = local.and_utc() - TimeDelta::days(1);
            let before = tz.offset_from_utc_datetime(&probe.naive_utc()).fix();
            local.and_utc() - TimeDelta::seconds(i64::from(before.local_minus_utc()))
        }
    }
}

/// More than any UTC offset a zone has had (today's extremes are -12:00 and +14:00; some
/// historical local mean times came close to 16 hours).
const OFFSET_SLACK: TimeDelta = TimeDelta::hours(16);

/// A day of the week and a local time, e.g. `fri 16:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekTime {
    /// The weekday.
    pub weekday: Weekday,
    /// The local time of day.
    pub time: NaiveTime,
}

/// How a window repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recurrence {
    /// One fixed range of instants.
    Once(Interval),
    /// Every week: starting on each of `days` at `from`, ending `end_days` days later at `to`
    /// (local time).
    Weekly {
        /// The weekdays an occurrence starts on.
        days: Vec<Weekday>,
        /// Local start time.
        from: NaiveTime,
        /// Whole days between the start date and the end date.
        end_days: u32,
        /// Local end time.
        to: NaiveTime,
    },
    /// Every year from a month, day and time to the next occurrence of another (crossing the
    /// new year when the end comes earlier in the calendar than the start).
    Yearly {
        /// `(month, day)` the window starts on.
        from_date: (u32, u32),
        /// Local start time.
        from_time: NaiveTime,
        /// `(month, day)` the window ends on.
        to_date: (u32, u32),
        /// Local end time.
        to_time: NaiveTime,
    },
    /// A GitLab-style freeze: from each start of a cron pattern to the next end (local time).
    Cron(CronSpan),
    /// An RFC 5545 rule with a local start and a length on the wall clock.
    Rule(RuleSpan),
    /// The events of an iCalendar file, each a window of its own (with its own zone).
    Calendar {
        /// The file the events come from, as named in the policy.
        name: String,
        /// The events.
        events: Vec<Window>,
    },
}

/// A recurrence in an IANA zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    recurrence: Recurrence,
    tz: Tz,
}

impl Window {
    /// A window repeating as `recurrence`, in local time of `tz`.
    pub fn new(recurrence: Recurrence, tz: Tz) -> Self {
        Self { recurrence, tz }
    }

    /// The zone the window's local times are in.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The recurrence.
    pub fn recurrence(&self) -> &Recurrence {
        &self.recurrence
    }

    /// Every occurrence that overlaps `query`, in order of start, expanded lazily: stop early
    /// and the rest is never computed.
    ///
    /// Local times are resolved by [`resolve_local`]; an occurrence whose end does not come
    /// after its start once resolved (both in one DST gap) is left out.
    ///
    /// # Example
    /// ```
    /// use changegate::time::{Interval, Recurrence, Window, parse_instant};
    /// use chrono::{NaiveTime, Utc, Weekday};
    /// let t = |s: &str| parse_instant(s).unwrap().with_timezone(&Utc);
    /// let weekend = Window::new(Recurrence::Weekly {
    ///     days: vec![Weekday::Fri], from: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
    ///     end_days: 3, to: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
    /// }, "Europe/Berlin".parse().unwrap());
    /// let march = Interval::new(t("2026-03-20T00:00:00Z"), t("2026-04-01T00:00:00Z")).unwrap();
    /// let starts: Vec<String> = weekend.occurrences(march).map(|o| o.start().to_rfc3339()).collect();
    /// // Friday 16:00 in Berlin is 15:00 UTC in winter and 14:00 UTC in summer.
    /// assert_eq!(starts, ["2026-03-20T15:00:00+00:00", "2026-03-27T15:00:00+00:00"]);
    /// ```
    pub fn occurrences(&self, query: Interval) -> Occurrences<'_> {
        let tz = self.tz;
        let state = match &self.recurrence {
            Recurrence::Once(iv) => State::Once(Some(*iv)),
            // The local dates are bracketed from UTC with a slack wider than any UTC offset
            // (no zone lookup needed); occurrences outside the query are filtered out anyway.
            Recurrence::Weekly { end_days, .. } => State::Days {
                date: (query.start - OFFSET_SLACK).date_naive()
                    - TimeDelta::days(i64::from(*end_days) + 1),
                last: (query.end + OFFSET_SLACK).date_naive(),
            },
            Recurrence::Yearly { .. } => State::Years {
                year: (query.start - OFFSET_SLACK).year() - 1,
                last: (query.end + OFFSET_SLACK).year(),
            },
            Recurrence::Cron(span) => {
                let (lo, hi) = local_bounds(tz, query);
                State::Cron {
                    span,
                    cursor: Some(span.walk_origin(lo)),
                    hi,
                }
            }
            Recurrence::Rule(rule) => {
                let (lo, hi) = local_bounds(tz, query);
                let items: Vec<Interval> = rule
                    .starts_overlapping(lo, hi)
                    .filter_map(|s| {
                        let (from, to) = rule.occurrence(tz, s);
                        Interval::new(from, to)
                    })
                    .collect();
                State::Buffer(items.into_iter())
            }
            Recurrence::Calendar { events, .. } => {
                let mut items: Vec<Interval> =
                    events.iter().flat_map(|w| w.occurrences(query)).collect();
                items.sort_unstable();
                State::Buffer(items.into_iter())
            }
        };
        Occurrences {
            window: self,
            query,
            state,
        }
    }

    /// Calls `f` with every occurrence that overlaps `query`, in order of start.
    pub fn for_each_overlapping(&self, query: &Interval, mut f: impl FnMut(Interval)) {
        for occ in self.occurrences(*query) {
            f(occ);
        }
    }

    /// The instants of `query` that some occurrence covers.
    pub fn covered(&self, query: Interval) -> IntervalSet {
        let q = IntervalSet::from(query);
        self.occurrences(query)
            .collect::<IntervalSet>()
            .intersection(&q)
    }
}

/// The local wall-clock range to expand for `query`, a day wider on each side than the
/// query's own local times (so that any UTC offset, and a fold, is covered).
fn local_bounds(tz: Tz, query: Interval) -> (NaiveDateTime, NaiveDateTime) {
    (
        query.start.with_timezone(&tz).naive_local() - TimeDelta::days(1),
        query.end.with_timezone(&tz).naive_local() + TimeDelta::days(1),
    )
}

/// The occurrences of a [`Window`] that overlap a query, in order of start; see
/// [`Window::occurrences`].
#[derive(Debug)]
pub struct Occurrences<'a> {
    window: &'a Window,
    query: Interval,
    state: State<'a>,
}

#[derive(Debug)]
enum State<'a> {
    Done,
    Once(Option<Interval>),
    Days {
        date: NaiveDate,
        last: NaiveDate,
    },
    Years {
        year: i32,
        last: i32,
    },
    Cron {
        span: &'a CronSpan,
        cursor: Option<NaiveDateTime>,
        hi: NaiveDateTime,
    },
    Buffer(std::vec::IntoIter<Interval>),
}

impl Occurrences<'_> {
    /// The next occurrence, overlapping the query or not; `None` when past it.
    fn step(&mut self) -> Option<Interval> {
        let tz = self.window.tz;
        loop {
            match (&mut self.state, &self.window.recurrence) {
                (State::Done, _) => return None,
                (State::Once(iv), _) => return iv.take(),
                (
                    State::Days { date, last },
                    Recurrence::Weekly {
                        days,
                        from,
                        end_days,
                        to,
                    },
                ) => {
                    if *date > *last {
                        return None;
                    }
                    let d = *date;
                    *date += TimeDelta::days(1);
                    if days.contains(&d.weekday()) {
                        let start = resolve_local(tz, d.and_time(*from));
                        let end_date = d + TimeDelta::days(i64::from(*end_days));
                        let end = resolve_local(tz, end_date.and_time(*to));
                        if let Some(iv) = Interval::new(start, end) {
                            return Some(iv);
                        }
                    }
                }
                (
                    State::Years { year, last },
                    Recurrence::Yearly {
                        from_date,
                        from_time,
                        to_date,
                        to_time,
                    },
                ) => {
                    if *year > *last {
                        return None;
                    }
                    let y = *year;
                    *year += 1;
                    let crosses = (*to_date, *to_time) <= (*from_date, *from_time);
                    let end_year = if crosses { y + 1 } else { y };
                    let (Some(sd), Some(ed)) = (
                        NaiveDate::from_ymd_opt(y, from_date.0, from_date.1),
                        NaiveDate::from_ymd_opt(end_year, to_date.0, to_date.1),
                    ) else {
                        continue; // 29 February in a year without one
                    };
                    let start = resolve_local(tz, sd.and_time(*from_time));
                    let end = resolve_local(tz, ed.and_time(*to_time));
                    if let Some(iv) = Interval::new(start, end) {
                        return Some(iv);
                    }
                }
                (State::Cron { span, cursor, hi }, _) => {
                    let far = *hi + TimeDelta::days(1);
                    let (s, e) = cursor.and_then(|c| span.period_from(c, far))?;
                    if s >= *hi {
                        *cursor = None;
                        return None;
                    }
                    *cursor = Some(e);
                    if let Some(iv) = Interval::new(resolve_local(tz, s), resolve_local(tz, e)) {
                        return Some(iv);
                    }
                }
                (State::Buffer(items), _) => return items.next(),
                _ => {
                    self.state = State::Done;
                    return None;
                }
            }
        }
    }
}

impl Iterator for Occurrences<'_> {
    type Item = Interval;

    fn next(&mut self) -> Option<Interval> {
        loop {
            let iv = self.step()?;
            if iv.start >= self.query.end && !matches!(self.state, State::Buffer(_)) {
                // Generated in order of start: nothing later can overlap.
                self.state = State::Done;
                return None;
            }
            if iv.overlaps(&self.query) {
                return Some(iv);
            }
        }
    }
}

impl fmt::Display for Window {
    /// A short human description, e.g. `Fri 16:00 - Mon 06:00 Europe/Berlin`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |t: &NaiveTime| t.format("%H:%M").to_string();
        match &self.recurrence {
            Recurrence::Once(iv) => {
                let fmt_local = |t: DateTime<Utc>| {
                    t.with_timezone(&self.tz)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                };
                write!(
                    f,
                    "{} - {} {}",
                    fmt_local(iv.start),
                    fmt_local(iv.end),
                    self.tz
                )
            }
            Recurrence::Weekly {
                days,
                from,
                end_days,
                to,
            } => {
                let names: Vec<String> = days.iter().map(|d| d.to_string()).collect();
                match (days.as_slice(), end_days) {
                    ([d], _) => write!(
                        f,
                        "{d} {} - {} {} {}",
                        hm(from),
                        (0..*end_days).fold(*d, |w, _| w.succ()),
                        hm(to),
                        self.tz
                    ),
                    (_, 0) => write!(
                        f,
                        "{} {} - {} {}",
                        names.join(","),
                        hm(from),
                        hm(to),
                        self.tz
                    ),
                    (_, 1) => write!(
                        f,
                        "{} {} - {} next day {}",
                        names.join(","),
                        hm(from),
                        hm(to),
                        self.tz
                    ),
                    _ => write!(
                        f,
                        "{} {} - {} days later {} {}",
                        names.join(","),
                        hm(from),
                        end_days,
                        hm(to),
                        self.tz
                    ),
                }
            }
            Recurrence::Yearly {
                from_date,
                from_time,
                to_date,
                to_time,
            } => {
                let md = |(m, d): (u32, u32)| {
                    NaiveDate::from_ymd_opt(2000, m, d)
                        .map(|x| x.format("%b %d").to_string())
                        .unwrap_or_default()
                };
                write!(
                    f,
                    "{} {} - {} {} {}",
                    md(*from_date),
                    hm(from_time),
                    md(*to_date),
                    hm(to_time),
                    self.tz
                )
            }
            Recurrence::Cron(span) => write!(
                f,
                "cron `{}` until `{}` {}",
                span.start(),
                span.end(),
                self.tz
            ),
            Recurrence::Rule(rule) => write!(
                f,
                "`{}` from {} for {} {}",
                rule.rule(),
                rule.start().format("%Y-%m-%d %H:%M"),
                format_duration(rule.length()),
                self.tz
            ),
            Recurrence::Calendar { name, events } => write!(
                f,
                "calendar `{name}`, {} event{}, {}",
                events.len(),
                if events.len() == 1 { "" } else { "s" },
                self.tz
            ),
        }
    }
}

/// Parses a weekday name: `mon`, `monday`, `Mon`, ...
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    text.trim().parse::<Weekday>().ok()
}

/// Parses a local time of day, `HH:MM` or `HH:MM:SS`; `24:00` is not accepted (use `00:00`
/// of the next day).
pub fn parse_local_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

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
        let err = parse_instant("2026-12-01T22:00:00").unwrap_err();
        assert!(err.contains("no UTC offset"), "{err}");
        assert!(parse_instant("2026-12-01T22:00:00+01:00").is_ok());
    }

    #[test]
    fn gap_moves_forward_and_overlap_takes_earlier() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(resolve_local(tz, gap), utc("2026-03-29T01:30:00Z"));
        let fold = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(resolve_local(tz, fold), utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn difference_and_intersection() {
        let iv = |a: &str, b: &str| Interval::new(utc(a), utc(b)).unwrap();
        let a: IntervalSet = [iv("2026-01-01T00:00:00Z", "2026-01-01T10:00:00Z")]
            .into_iter()
            .collect();
        let b: IntervalSet = [
            iv("2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"),
            iv("2026-01-01T05:00:00Z", "2026-01-01T12:00:00Z"),
        ]
        .into_iter()
        .collect();
        let d = a.difference(&b);
        assert_eq!(
            d.intervals(),
            &[
                iv("2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z"),
                iv("2026-01-01T03:00:00Z", "2026-01-01T05:00:00Z")
            ]
        );
        assert_eq!(a.intersection(&b).union(&d), a);
    }
}
