//! Property tests: the interval algebra, and every recurrence form across DST in zones with
//! unusual rules (Lord Howe's 30-minute shift, Chatham's 02:45, Santiago's midnight changes)
//! over ten years.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use changegate::time::{
    CronPattern, CronSpan, Interval, IntervalSet, Recurrence, RuleSpan, Window, resolve_local,
};
use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use proptest::prelude::*;

const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn minute(m: i64) -> DateTime<Utc> {
    base() + TimeDelta::minutes(m)
}

// ---------------------------------------------------------------------------------------------
// Interval algebra, checked point by point on the minute grid every endpoint lies on.

fn raw_set() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((0i64..600, 1i64..90), 0..10)
}

fn to_set(raw: &[(i64, i64)]) -> IntervalSet {
    raw.iter()
        .map(|(s, l)| Interval::new(minute(*s), minute(s + l)).unwrap())
        .collect()
}

fn member(raw: &[(i64, i64)], m: i64) -> bool {
    raw.iter().any(|(s, l)| *s <= m && m < s + l)
}

fn normal(set: &IntervalSet) -> bool {
    set.intervals()
        .windows(2)
        .all(|w| w[0].end() < w[1].start())
}

proptest! {
    #[test]
    fn algebra_agrees_with_membership(a in raw_set(), b in raw_set(), lo in 0i64..400, len in 1i64..400) {
        let (sa, sb) = (to_set(&a), to_set(&b));
        let range = Interval::new(minute(lo), minute(lo + len)).unwrap();
        let union = sa.union(&sb);
        let inter = sa.intersection(&sb);
        let diff = sa.difference(&sb);
        let comp = sa.complement_within(range);
        let widened = sa.widen(TimeDelta::minutes(30), TimeDelta::minutes(5));
        let mut inserted = sa.clone();
        for iv in sb.intervals() {
            inserted.insert(*iv);
        }
        for set in [&union, &inter, &diff, &comp, &widened, &inserted] {
            prop_assert!(normal(set), "{set:?}");
        }
        prop_assert_eq!(&inserted, &union);
        prop_assert_eq!(&union, &sb.union(&sa));
        prop_assert_eq!(&inter.union(&diff), &sa);
        prop_assert!(inter.intersection(&diff).is_empty());
        for m in -60..800 {
            let t = minute(m);
            let (x, y) = (member(&a, m), member(&b, m));
            prop_assert_eq!(sa.contains(t), x);
            prop_assert_eq!(union.contains(t), x || y);
            prop_assert_eq!(inter.contains(t), x && y);
            prop_assert_eq!(diff.contains(t), x && !y);
            prop_assert_eq!(comp.contains(t), range.contains(t) && !x);
            let near = (m - 5..=m + 30).any(|k| member(&a, k));
            prop_assert_eq!(widened.contains(t), near, "minute {}", m);
            prop_assert_eq!(sa.interval_containing(t).is_some(), x);
        }
        let total: i64 = (-60..800).filter(|m| member(&a, *m)).count() as i64;
        prop_assert_eq!(sa.total(), TimeDelta::minutes(total));
    }
}

// ---------------------------------------------------------------------------------------------
// The one rule for local times, computed independently of the library.

/// Where a configured local time lands: itself when it exists (the earlier instant when it
/// exists twice); when it falls in a gap, moved forward by the gap's length.
fn expected(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
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

fn zone() -> impl Strategy<Value = Tz> {
    (0..ZONES.len()).prop_map(|i| ZONES[i].parse::<Tz>().unwrap())
}

/// A local time of day, biased towards the small hours where DST changes happen.
fn time_of_day() -> impl Strategy<Value = NaiveTime> {
    prop_oneof![
        (0u32..4, 0u32..4).prop_map(|(h, q)| NaiveTime::from_hms_opt(h, q * 15, 0).unwrap()),
        (0u32..24, 0u32..4).prop_map(|(h, q)| NaiveTime::from_hms_opt(h, q * 15, 0).unwrap()),
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
        let t =
            query.start() + TimeDelta::seconds(p.rem_euclid(query.length().num_seconds().max(1)));
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
    fn resolve_local_round_trips(tz in zone(), minutes in 0i64..3650 * 1440) {
        let t = base() + TimeDelta::minutes(minutes);
        let local = t.with_timezone(&tz).naive_local();
        let back = resolve_local(tz, local);
        prop_assert_eq!(back, expected(tz, local));
        // Equal unless `t` is the later of two instants with the same local time.
        if back != t {
            prop_assert!(back < t);
            prop_assert_eq!(back.with_timezone(&tz).naive_local(), local);
        }
    }

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
