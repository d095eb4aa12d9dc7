//! Recurring windows: how a window repeats ([`Recurrence`]: weekly, yearly, once, cron, rrule,
//! the events of an iCalendar file), in which zone ([`Window`]), its occurrences over a query
//! ([`Occurrences`], expanded lazily) and its short human description.
//!
//! Local times are turned into instants by [`resolve_local`], the one rule for DST gaps and
//! folds. Queries are bounded to [`earliest`] and [`latest`] first, so that the local dates
//! walked here always exist (docs/time-semantics.md, "Extreme values").

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use super::interval::{earliest, latest};
use super::recur::{CronSpan, RuleSpan};
use super::{Interval, IntervalSet, format_duration, resolve_local};

/// More than any UTC offset a zone has had (today's extremes are -12:00 and +14:00; some
/// historical local mean times came close to 16 hours).
const OFFSET_SLACK: TimeDelta = TimeDelta::hours(16);

/// How a window repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recurrence {
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
pub(crate) struct Window {
    recurrence: Recurrence,
    tz: Tz,
}

impl Window {
    /// A window repeating as `recurrence`, in local time of `tz`.
    pub(crate) fn new(recurrence: Recurrence, tz: Tz) -> Self {
        Self { recurrence, tz }
    }

    /// The zone the window's local times are in.
    pub(crate) fn tz(&self) -> Tz {
        self.tz
    }

    /// Every occurrence that overlaps `query`, in order of start, expanded lazily: stop early
    /// and the rest is never computed.
    ///
    /// Local times are resolved by [`resolve_local`]; an occurrence whose end does not come
    /// after its start once resolved (both in one DST gap) is left out. A query reaching past
    /// [`earliest`] or [`latest`] is cut there.
    ///
    /// Fail closed: where the occurrences could not be computed (past [`MAX_CRON_PERIODS`] or
    /// the RRULE occurrence limit), the rest of the query is yielded as one occurrence, so a
    /// blackout blocks it. [`Window::for_each_computed`] leaves that part out instead.
    pub(crate) fn occurrences(&self, query: Interval) -> Occurrences<'_> {
        self.occurrences_in(query, true)
    }

    /// [`Window::occurrences`], with the part that could not be computed yielded as covered
    /// (`fail_closed`) or left out and reported by [`Occurrences::truncation`].
    fn occurrences_in(&self, query: Interval, fail_closed: bool) -> Occurrences<'_> {
        let tz = self.tz;
        let Some(bounded) = Interval::new(query.start().max(earliest()), query.end().min(latest()))
        else {
            return Occurrences {
                window: self,
                query,
                state: State::Done,
                fail_closed,
                truncation: None,
            };
        };
        let mut truncation = None;
        let state = match &self.recurrence {
            Recurrence::Once(iv) => State::Once(Some(*iv)),
            // The local dates are bracketed from UTC with a slack wider than any UTC offset
            // (no zone lookup needed); occurrences outside the query are filtered out anyway.
            Recurrence::Weekly { end_days, .. } => State::Days {
                date: slack_before(bounded)
                    .date_naive()
                    .checked_sub_signed(TimeDelta::days(i64::from(*end_days) + 1))
                    .unwrap_or(NaiveDate::MIN),
                last: slack_after(bounded).date_naive(),
            },
            Recurrence::Yearly { .. } => State::Years {
                year: slack_before(bounded).year().saturating_sub(1),
                last: slack_after(bounded).year(),
            },
            Recurrence::Cron(span) => {
                let (lo, hi) = local_bounds(tz, bounded);
                State::Cron {
                    span,
                    cursor: Some(span.walk_origin(lo)),
                    hi,
                    work: 0,
                }
            }
            Recurrence::Rule(rule) => {
                let (lo, hi) = local_bounds(tz, bounded);
                let found = rule.starts_overlapping(lo, hi);
                let mut items: Vec<Interval> = found
                    .starts
                    .into_iter()
                    .filter_map(|s| {
                        let (from, to) = rule.occurrence(tz, s);
                        Interval::new(from, to)
                    })
                    .collect();
                // Where the occurrences could not be computed (too many to expand from the
                // nearest anchor), the rest of the query counts as covered when failing closed.
                if let Some(t) = found.truncated {
                    let from = resolve_local(tz, t).max(bounded.start());
                    if let Some(rest) = Interval::new(from, bounded.end()) {
                        truncation = Some(Truncation {
                            from,
                            limit: Limit::RuleOccurrences,
                        });
                        if fail_closed {
                            items.push(rest);
                            items.sort_unstable();
                        }
                    }
                }
                State::Buffer(items.into_iter())
            }
            Recurrence::Calendar { events, .. } => {
                let mut items = Vec::new();
                for event in events {
                    let mut occ = event.occurrences_in(query, fail_closed);
                    items.extend(&mut occ);
                    truncation = Truncation::earliest(truncation, occ.truncation);
                }
                items.sort_unstable();
                State::Buffer(items.into_iter())
            }
        };
        Occurrences {
            window: self,
            query,
            state,
            fail_closed,
            truncation,
        }
    }

    /// Calls `f` with every occurrence that overlaps `query` and could be computed, in order
    /// of start; returns where computing stopped at a limit, if it did. Unlike
    /// [`Window::for_each_overlapping`], the part past the limit is not passed to `f`: a
    /// preferred window must not count as met where it could not be checked.
    pub(crate) fn for_each_computed(
        &self,
        query: &Interval,
        mut f: impl FnMut(Interval),
    ) -> Option<Truncation> {
        let mut occ = self.occurrences_in(*query, false);
        for iv in &mut occ {
            f(iv);
        }
        occ.truncation
    }

    /// Calls `f` with every occurrence that overlaps `query`, in order of start.
    pub(crate) fn for_each_overlapping(&self, query: &Interval, mut f: impl FnMut(Interval)) {
        for occ in self.occurrences(*query) {
            f(occ);
        }
    }

    /// The instants of `query` that some occurrence covers.
    pub(crate) fn covered(&self, query: Interval) -> IntervalSet {
        let q = IntervalSet::from(query);
        self.occurrences(query)
            .collect::<IntervalSet>()
            .intersection(&q)
    }
}

/// Most periods of a cron window computed for one query. A cron window that fires every
/// minute against a request lasting years would otherwise enumerate millions of periods; past
/// this many, the rest of the query is answered fail-closed as covered by the window (a
/// blackout blocks it), or left out and reported ([`Window::for_each_computed`]: a preferred
/// window does not count as met there).
pub(crate) const MAX_CRON_PERIODS: usize = 100_000;

/// Which limit stopped the computation of a window's occurrences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// [`MAX_CRON_PERIODS`] periods of a cron window.
    CronPeriods,
    /// [`MAX_RULE_OCCURRENCES`](super::recur::MAX_RULE_OCCURRENCES) occurrences of an RRULE.
    RuleOccurrences,
}

impl fmt::Display for Limit {
    /// E.g. `more than 100000 periods of a cron window`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::CronPeriods => write!(f, "more than {MAX_CRON_PERIODS} periods of cron window"),
            Limit::RuleOccurrences => write!(
                f,
                "more than {} occurrences of recurrence rule window",
                super::recur::MAX_RULE_OCCURRENCES
            ),
        }
    }
}

/// Where the occurrences of a window over a query stopped being computed: from `from` to the
/// end of the query, they are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Truncation {
    /// The first instant not computed.
    pub(crate) from: DateTime<Utc>,
    /// The limit that was reached.
    pub(crate) limit: Limit,
}

impl Truncation {
    /// The one of `a` and `b` that starts earlier.
    pub(crate) fn earliest(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.from < a.from { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

/// The local wall-clock range to expand for `query`, a day wider on each side than the
/// query's own local times (so that any UTC offset, and a fold, is covered).
fn local_bounds(tz: Tz, query: Interval) -> (NaiveDateTime, NaiveDateTime) {
    let day = TimeDelta::days(1);
    let lo = query.start().with_timezone(&tz).naive_local();
    let hi = query.end().with_timezone(&tz).naive_local();
    (
        lo.checked_sub_signed(day).unwrap_or(NaiveDateTime::MIN),
        hi.checked_add_signed(day).unwrap_or(NaiveDateTime::MAX),
    )
}

/// The start of `query` moved back by more than any UTC offset.
fn slack_before(query: Interval) -> DateTime<Utc> {
    query
        .start()
        .checked_sub_signed(OFFSET_SLACK)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The end of `query` moved on by more than any UTC offset.
fn slack_after(query: Interval) -> DateTime<Utc> {
    query
        .end()
        .checked_add_signed(OFFSET_SLACK)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The occurrences of a [`Window`] that overlap a query, in order of start; see
/// [`Window::occurrences`].
#[derive(Debug)]
pub(crate) struct Occurrences<'a> {
    window: &'a Window,
    query: Interval,
    state: State<'a>,
    /// Whether the part past a limit is yielded as one covering occurrence.
    fail_closed: bool,
    /// Where computing stopped at a limit, once it has.
    truncation: Option<Truncation>,
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
        /// Periods computed so far for this query (bounded by [`MAX_CRON_PERIODS`]).
        work: usize,
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
                    match d.succ_opt() {
                        Some(next) => *date = next,
                        // The last date chrono has: nothing comes after it.
                        None => *last = d.pred_opt().unwrap_or(d),
                    }
                    let end_date = d.checked_add_signed(TimeDelta::days(i64::from(*end_days)));
                    if let (true, Some(end_date)) = (days.contains(&d.weekday()), end_date) {
                        let start = resolve_local(tz, d.and_time(*from));
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
                (
                    State::Cron {
                        span,
                        cursor,
                        hi,
                        work,
                    },
                    _,
                ) => {
                    let far = hi
                        .checked_add_signed(TimeDelta::days(1))
                        .unwrap_or(NaiveDateTime::MAX);
                    if *work >= MAX_CRON_PERIODS {
                        // Bounded work: the rest of the query is unknown; failing closed, it
                        // counts as covered.
                        let from = (*cursor)?;
                        *cursor = None;
                        let rest = Interval::new(resolve_local(tz, from), self.query.end());
                        self.state = State::Done;
                        if let Some(rest) = rest {
                            self.truncation = Some(Truncation {
                                from: rest.start(),
                                limit: Limit::CronPeriods,
                            });
                        }
                        return rest.filter(|_| self.fail_closed);
                    }
                    *work += 1;
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
            if iv.start() >= self.query.end() && !matches!(self.state, State::Buffer(_)) {
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
                    fmt_local(iv.start()),
                    fmt_local(iv.end()),
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

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, Utc, Weekday};

    use super::*;
    use crate::time::parse_instant;

    #[test]
    fn weekly_occurrences_follow_the_wall_clock() {
        let t = |s: &str| parse_instant(s).unwrap().with_timezone(&Utc);
        let weekend = Window::new(
            Recurrence::Weekly {
                days: vec![Weekday::Fri],
                from: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
                end_days: 3,
                to: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
            },
            "Europe/Berlin".parse().unwrap(),
        );
        let march = Interval::new(t("2026-03-20T00:00:00Z"), t("2026-04-01T00:00:00Z")).unwrap();
        let starts: Vec<String> = weekend
            .occurrences(march)
            .map(|o| o.start().to_rfc3339())
            .collect();
        // Friday 16:00 in Berlin is 15:00 UTC in winter and 14:00 UTC in summer.
        assert_eq!(
            starts,
            ["2026-03-20T15:00:00+00:00", "2026-03-27T15:00:00+00:00"]
        );
    }

    /// "An instant is blocked iff some occurrence contains it" for weekly windows in zones with
    /// unusual DST rules, where `Window::for_each_overlapping` is compared with a predicate
    /// written directly on local time.
    ///
    /// At DST transitions the local-time predicate needs the documented resolution rule
    /// (`resolve_local`): a local time in a gap moves forward by the gap's length, one in a fold
    /// takes the earlier instant. The helpers implement that rule a second, independent way
    /// (from the zone's offsets), and check that away from transitions the plain wall-clock
    /// comparison gives the same answer.
    mod weekly_by_local_time {
        use chrono::{
            DateTime, Datelike, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc, Weekday,
        };
        use chrono_tz::Tz;
        use proptest::prelude::*;

        use crate::time::testkit::{ZONES, readings, resolve_by_offsets, transitions, zone};
        use crate::time::{Interval, Recurrence, Window};

        // ---------------------------------------------------------------------------------------------
        // Weekly windows.

        #[derive(Debug, Clone)]
        struct Weekly {
            days: Vec<Weekday>,
            from: NaiveTime,
            end_days: u32,
            to: NaiveTime,
        }

        impl Weekly {
            fn window(&self, tz: Tz) -> Window {
                Window::new(
                    Recurrence::Weekly {
                        days: self.days.clone(),
                        from: self.from,
                        end_days: self.end_days,
                        to: self.to,
                    },
                    tz,
                )
            }

            /// The local start and end of the occurrence that starts on `date`, if one does.
            fn local_bounds(
                &self,
                date: chrono::NaiveDate,
            ) -> Option<(NaiveDateTime, NaiveDateTime)> {
                self.days.contains(&date.weekday()).then(|| {
                    (
                        date.and_time(self.from),
                        (date + TimeDelta::days(i64::from(self.end_days))).and_time(self.to),
                    )
                })
            }
        }

        /// Local times of day, most of them where the zones under test change their clocks (00:00 in
        /// Santiago, 01:00-03:00 in Europe and America, 02:00/02:30 on Lord Howe, 02:45/03:45 on
        /// Chatham), the rest anywhere.
        fn time_of_day() -> impl Strategy<Value = NaiveTime> {
            let special = prop::sample::select(vec![
                (0, 0),
                (0, 30),
                (1, 0),
                (1, 30),
                (1, 45),
                (2, 0),
                (2, 15),
                (2, 30),
                (2, 45),
                (3, 0),
                (3, 15),
                (3, 45),
                (4, 0),
                (23, 0),
                (23, 30),
            ]);
            prop_oneof![
                3 => special,
                1 => (0u32..24, prop::sample::select(vec![0u32, 15, 30, 45])),
            ]
            .prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap())
        }

        fn weekly() -> impl Strategy<Value = Weekly> {
            (1u8..128, time_of_day(), 0u32..=7, time_of_day()).prop_map(
                |(mask, from, end_days, to)| {
                    let days = (0..7)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| Weekday::try_from(i as u8).unwrap())
                        .collect();
                    // As policy.yaml builds them: a same-day window ends after it starts.
                    let end_days = if end_days == 0 && to <= from {
                        1
                    } else {
                        end_days
                    };
                    Weekly {
                        days,
                        from,
                        end_days,
                        to,
                    }
                },
            )
        }

        /// A query of up to ten days, usually starting within a few days of one of the zone's DST
        /// transitions.
        fn query(tz_index: usize) -> impl Strategy<Value = Interval> {
            let transitions = transitions(tz_index).to_vec();
            let start = prop_oneof![
                3 => (prop::sample::select(transitions), -5_760i64..1_440)
                    .prop_map(|(t, minutes)| t + TimeDelta::minutes(minutes)),
                1 => (0i64..3 * 365 * 1_440).prop_map(|m| {
                    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + TimeDelta::minutes(m)
                }),
            ];
            (start, 1i64..10 * 1_440)
                .prop_map(|(s, len)| Interval::new(s, s + TimeDelta::minutes(len)).unwrap())
        }

        fn zone_and_query() -> impl Strategy<Value = (usize, Interval)> {
            (0..ZONES.len()).prop_flat_map(|i| (Just(i), query(i)))
        }

        /// One occurrence as local time sees it: its wall-clock bounds, those bounds resolved by the
        /// documented rule, and whether both bounds read exactly once (neither in a gap nor a fold).
        struct LocalOccurrence {
            local: (NaiveDateTime, NaiveDateTime),
            resolved: (DateTime<Utc>, DateTime<Utc>),
            unambiguous: bool,
        }

        /// Every occurrence starting on a local date from well before `q` to just after it.
        fn local_occurrences(w: &Weekly, tz: Tz, q: &Interval) -> Vec<LocalOccurrence> {
            let first = q.start().with_timezone(&tz).date_naive()
                - TimeDelta::days(i64::from(w.end_days) + 2);
            let last = q.end().with_timezone(&tz).date_naive() + TimeDelta::days(1);
            let mut out = Vec::new();
            let mut d = first;
            while d <= last {
                if let Some((ls, le)) = w.local_bounds(d) {
                    out.push(LocalOccurrence {
                        local: (ls, le),
                        resolved: (resolve_by_offsets(tz, ls), resolve_by_offsets(tz, le)),
                        unambiguous: readings(tz, ls) == 1 && readings(tz, le) == 1,
                    });
                }
                d += TimeDelta::days(1);
            }
            out
        }

        /// Whether `t` is blocked, decided on local time: some occurrence has `start <= t < end` with
        /// its local bounds resolved by the documented rule. Also the plain wall-clock answer
        /// (`local start <= t's reading < local end`) where that is safe: `t` reads once, and every
        /// occurrence on which the two answers could differ has unambiguous bounds.
        fn blocked_by_local_time(
            occurrences: &[LocalOccurrence],
            tz: Tz,
            t: DateTime<Utc>,
        ) -> (bool, Option<bool>) {
            let local = t.with_timezone(&tz).naive_local();
            let mut by_rule = false;
            let mut by_wall_clock = false;
            let mut clean = readings(tz, local) == 1;
            for o in occurrences {
                let (s, e) = o.resolved;
                let rule = s < e && s <= t && t < e;
                let wall = o.local.0 <= local && local < o.local.1;
                by_rule |= rule;
                by_wall_clock |= wall;
                if rule || wall {
                    clean &= o.unambiguous;
                }
            }
            (by_rule, clean.then_some(by_wall_clock))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(192))]

            #[test]
            fn blocked_iff_some_occurrence_contains_it(w in weekly(), (tz_index, q) in zone_and_query()) {
                let tz = zone(tz_index);
                let window = w.window(tz);
                let mut occurrences = Vec::new();
                window.for_each_overlapping(&q, |iv| occurrences.push(iv));
                for pair in occurrences.windows(2) {
                    prop_assert!(pair[0].start() < pair[1].start(), "not in order of start: {occurrences:?}");
                }
                for occ in &occurrences {
                    prop_assert!(occ.overlaps(&q));
                    // Each occurrence's bounds are local times resolved by the rule.
                    let s_local = occ.start().with_timezone(&tz).naive_local();
                    let date = (0..=1)
                        .map(|back| s_local.date() - TimeDelta::days(back))
                        .find(|d| w.local_bounds(*d).is_some_and(|(ls, _)| resolve_by_offsets(tz, ls) == occ.start()));
                    prop_assert!(date.is_some(), "occurrence {occ:?} does not start at a resolved local start");
                    let (_, le) = w.local_bounds(date.unwrap()).unwrap();
                    prop_assert_eq!(occ.end(), resolve_by_offsets(tz, le));
                }
                // Probe the query: its bounds, each occurrence's bounds and a second either side, and
                // every 20 minutes.
                let mut probes: Vec<DateTime<Utc>> = vec![q.start(), q.end() - TimeDelta::seconds(1)];
                for occ in &occurrences {
                    for t in [occ.start(), occ.end()] {
                        probes.extend([t - TimeDelta::seconds(1), t, t + TimeDelta::seconds(1)]);
                    }
                }
                let mut t = q.start();
                while t < q.end() {
                    probes.push(t);
                    t += TimeDelta::minutes(20);
                }
                let local = local_occurrences(&w, tz, &q);
                for t in probes.into_iter().filter(|t| q.contains(*t)) {
                    let by_occurrence = occurrences.iter().any(|o| o.contains(t));
                    let (by_rule, by_wall_clock) = blocked_by_local_time(&local, tz, t);
                    prop_assert_eq!(by_occurrence, by_rule, "{} ({}) in {} for {:?}", t, t.with_timezone(&tz), tz, w);
                    if let Some(wall) = by_wall_clock {
                        prop_assert_eq!(by_occurrence, wall, "wall clock at {} ({}) for {:?}", t, t.with_timezone(&tz), w);
                    }
                }
            }
        }
    }

    /// Every recurrence form across DST in zones with unusual rules (Lord Howe's 30-minute
    /// shift, Chatham's 02:45, Santiago's midnight changes) over ten years.
    mod every_form {
        use chrono::{
            DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike, Utc, Weekday,
        };
        use chrono_tz::Tz;
        use proptest::prelude::*;

        use crate::time::recur::{CronPattern, CronSpan, RuleSpan};
        use crate::time::testkit::{ZONES, expected};
        use crate::time::{Interval, Recurrence, Window};

        fn base() -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        }

        fn zone() -> impl Strategy<Value = Tz> {
            (0..ZONES.len()).prop_map(|i| ZONES[i].parse::<Tz>().unwrap())
        }

        /// A local time of day, biased towards the small hours where DST changes happen.
        fn time_of_day() -> impl Strategy<Value = NaiveTime> {
            prop_oneof![
                (0u32..4, 0u32..4)
                    .prop_map(|(h, q)| NaiveTime::from_hms_opt(h, q * 15, 0).unwrap()),
                (0u32..24, 0u32..4)
                    .prop_map(|(h, q)| NaiveTime::from_hms_opt(h, q * 15, 0).unwrap()),
                Just(NaiveTime::from_hms_opt(2, 45, 0).unwrap()),
                Just(NaiveTime::from_hms_opt(23, 30, 0).unwrap()),
            ]
        }

        fn weekday() -> impl Strategy<Value = Weekday> {
            (0u8..7).prop_map(|d| Weekday::try_from(d).unwrap())
        }

        /// A query somewhere in ten years, days to weeks long.
        fn query() -> impl Strategy<Value = Interval> {
            (0i64..3650 * 24, 1i64..24 * 21).prop_map(|(start_h, len_h)| {
                let s = base() + TimeDelta::hours(start_h);
                Interval::new(s, s + TimeDelta::hours(len_h)).unwrap()
            })
        }

        /// Checks that `start` is `when` on some day `d` (the local date of `start` or the day before)
        /// for which `day_ok(d)`, resolved by the one rule.
        fn lands_on_rule(
            tz: Tz,
            start: DateTime<Utc>,
            when: NaiveTime,
            day_ok: impl Fn(NaiveDate) -> bool,
        ) -> bool {
            let date = start.with_timezone(&tz).date_naive();
            [date, date - TimeDelta::days(1)]
                .into_iter()
                .any(|d| day_ok(d) && expected(tz, d.and_time(when)) == start)
        }

        /// "An instant is blocked iff some occurrence contains it", asked twice: by a wide query, and
        /// by a query of one second around it (which needs the lazy expansion to look back far enough).
        fn blocked_iff_contained(
            window: &Window,
            query: Interval,
            probes: &[i64],
        ) -> Result<(), TestCaseError> {
            let occurrences: Vec<Interval> = window.occurrences(query).collect();
            let covered = window.covered(query);
            for p in probes {
                let t = query.start()
                    + TimeDelta::seconds(p.rem_euclid(query.length().num_seconds().max(1)));
                let narrow = Interval::new(t, t + TimeDelta::seconds(1)).unwrap();
                let inside = occurrences.iter().any(|o| o.contains(t));
                prop_assert_eq!(covered.contains(t), inside, "{}", t);
                prop_assert_eq!(window.occurrences(narrow).next().is_some(), inside, "{}", t);
            }
            prop_assert!(occurrences.windows(2).all(|w| w[0].start() <= w[1].start()));
            prop_assert!(occurrences.iter().all(|o| o.overlaps(&query)));
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(192))]

            #[test]
            fn weekly_occurrences_start_and_end_at_their_local_times(
                tz in zone(), day in weekday(), from in time_of_day(), to in time_of_day(),
                end_days in 0u32..4, query in query(), probes in prop::collection::vec(any::<i64>(), 16),
            ) {
                prop_assume!(end_days > 0 || to > from);
                let window = Window::new(Recurrence::Weekly { days: vec![day], from, end_days, to }, tz);
                for occ in window.occurrences(query) {
                    prop_assert!(lands_on_rule(tz, occ.start(), from, |d| d.weekday() == day), "start {}", occ.start());
                    let start_day = |d: NaiveDate| (d - TimeDelta::days(i64::from(end_days))).weekday() == day;
                    prop_assert!(lands_on_rule(tz, occ.end(), to, start_day), "end {}", occ.end());
                }
                // Every configured day in the query has its occurrence, unless it vanished in a gap.
                let mut d = query.start().with_timezone(&tz).date_naive() - TimeDelta::days(i64::from(end_days) + 1);
                let found: Vec<Interval> = window.occurrences(query).collect();
                while d <= query.end().with_timezone(&tz).date_naive() {
                    if d.weekday() == day {
                        let s = expected(tz, d.and_time(from));
                        let e = expected(tz, (d + TimeDelta::days(i64::from(end_days))).and_time(to));
                        if let Some(iv) = Interval::new(s, e).filter(|iv| iv.overlaps(&query)) {
                            prop_assert!(found.contains(&iv), "missing {:?}", iv);
                        }
                    }
                    d += TimeDelta::days(1);
                }
                blocked_iff_contained(&window, query, &probes)?;
            }

            #[test]
            fn cron_occurrences_start_at_their_local_times(
                tz in zone(), start_day in 0u32..7, end_day in 0u32..7, from in time_of_day(), to in time_of_day(),
                query in query(), probes in prop::collection::vec(any::<i64>(), 16),
            ) {
                let pattern = |t: NaiveTime, d: u32| format!("{} {} * * {d}", t.minute(), t.hour());
                let span = CronSpan::new(
                    CronPattern::parse(&pattern(from, start_day)).unwrap(),
                    CronPattern::parse(&pattern(to, end_day)).unwrap(),
                );
                let window = Window::new(Recurrence::Cron(span), tz);
                let dow = |d: NaiveDate, n: u32| d.weekday().num_days_from_sunday() == n;
                let found: Vec<Interval> = window.occurrences(query).collect();
                for occ in &found {
                    prop_assert!(lands_on_rule(tz, occ.start(), from, |d| dow(d, start_day)), "start {}", occ.start());
                    prop_assert!(lands_on_rule(tz, occ.end(), to, |d| dow(d, end_day)), "end {}", occ.end());
                    // GitLab's meaning: the end is the first end time after the start, so it is less
                    // than a week (and a DST change) away.
                    prop_assert!(occ.length() <= TimeDelta::days(7) + TimeDelta::hours(2));
                }
                blocked_iff_contained(&window, query, &probes)?;
            }

            #[test]
            fn rrule_occurrences_start_at_their_local_times(
                tz in zone(), which in 0usize..4, from in time_of_day(), hours in 1i64..30,
                query in query(), probes in prop::collection::vec(any::<i64>(), 16),
            ) {
                let rules = ["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SU", "FREQ=MONTHLY;BYDAY=-1SU", "FREQ=YEARLY;BYMONTH=3,4,9,10;BYDAY=1SU"];
                let start = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap().and_time(from);
                let length = TimeDelta::hours(hours);
                let rule = RuleSpan::new(rules[which], start, length, tz).unwrap();
                let window = Window::new(Recurrence::Rule(rule), tz);
                for occ in window.occurrences(query) {
                    prop_assert!(lands_on_rule(tz, occ.start(), from, |_| true), "start {}", occ.start());
                    if hours % 24 == 0 {
                        // Whole days: the same local time that many days later.
                        prop_assert!(lands_on_rule(tz, occ.end(), from, |_| true), "end {}", occ.end());
                    } else {
                        prop_assert_eq!(occ.length(), length);
                    }
                }
                blocked_iff_contained(&window, query, &probes)?;
            }

            #[test]
            fn yearly_windows_block_iff_contained(
                tz in zone(), query in query(), probes in prop::collection::vec(any::<i64>(), 16),
            ) {
                let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
                let window = Window::new(
                    Recurrence::Yearly { from_date: (12, 20), from_time: t(0), to_date: (1, 3), to_time: t(0) },
                    tz,
                );
                blocked_iff_contained(&window, query, &probes)?;
            }
        }
    }
}
