#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests for `changegate::time`: the interval-set algebra, and "an instant is blocked
//! iff some occurrence contains it" for weekly windows in zones with unusual DST rules, where
//! `Window::for_each_overlapping` is compared with a predicate written directly on local time.
//!
//! At DST transitions the local-time predicate needs the documented resolution rule
//! (`time::resolve_local`): a local time in a gap moves forward by the gap's length, one in a
//! fold takes the earlier instant. The tests implement that rule a second, independent way (from
//! the zone's offsets, not from chrono's `LocalResult`), check `resolve_local` against it, and
//! check that away from transitions the plain wall-clock comparison gives the same answer.

use std::sync::OnceLock;

use changegate::time::{Interval, IntervalSet, Recurrence, Window, resolve_local};
use chrono::{
    DateTime, Datelike, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Interval sets, on a minute grid so that touching and overlapping intervals are common.

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn at(minute: i64) -> DateTime<Utc> {
    base() + TimeDelta::minutes(minute)
}

fn raw_intervals() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((0i64..1_000, 1i64..200), 0..12)
}

fn set_of(raw: &[(i64, i64)]) -> IntervalSet {
    raw.iter()
        .map(|&(s, len)| Interval::new(at(s), at(s + len)).unwrap())
        .collect()
}

fn in_raw(raw: &[(i64, i64)], t: DateTime<Utc>) -> bool {
    raw.iter().any(|&(s, len)| at(s) <= t && t < at(s + len))
}

/// Sorted, disjoint and not touching: the one representation of a set.
fn is_canonical(set: &IntervalSet) -> bool {
    set.intervals()
        .windows(2)
        .all(|w| w[0].end() < w[1].start())
}

/// Every instant worth asking about: each minute of the grid and a second either side of it.
fn probes() -> impl Iterator<Item = DateTime<Utc>> {
    (-5i64..1_210).flat_map(|m| {
        let t = at(m);
        [t - TimeDelta::seconds(1), t, t + TimeDelta::seconds(1)]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn set_laws(a in raw_intervals(), b in raw_intervals(), c in raw_intervals()) {
        let (sa, sb, sc) = (set_of(&a), set_of(&b), set_of(&c));
        let empty = IntervalSet::new();
        for s in [&sa, &sb, &sa.union(&sb), &sa.intersection(&sb), &sa.difference(&sb)] {
            prop_assert!(is_canonical(s), "not canonical: {s:?}");
        }
        // Commutativity and associativity.
        prop_assert_eq!(sa.union(&sb), sb.union(&sa));
        prop_assert_eq!(sa.intersection(&sb), sb.intersection(&sa));
        prop_assert_eq!(sa.union(&sb).union(&sc), sa.union(&sb.union(&sc)));
        prop_assert_eq!(
            sa.intersection(&sb).intersection(&sc),
            sa.intersection(&sb.intersection(&sc))
        );
        // A = (A ∩ B) ∪ (A \ B), and the two parts are disjoint.
        prop_assert_eq!(sa.intersection(&sb).union(&sa.difference(&sb)), sa.clone());
        prop_assert!(sa.intersection(&sb).intersection(&sa.difference(&sb)).is_empty());
        // (A \ B) ∩ B = ∅ and (A \ B) ∪ B = A ∪ B.
        prop_assert!(sa.difference(&sb).intersection(&sb).is_empty());
        prop_assert_eq!(sa.difference(&sb).union(&sb), sa.union(&sb));
        // Distributivity, and De Morgan inside C.
        prop_assert_eq!(
            sa.intersection(&sb.union(&sc)),
            sa.intersection(&sb).union(&sa.intersection(&sc))
        );
        prop_assert_eq!(
            sc.difference(&sa.union(&sb)),
            sc.difference(&sa).intersection(&sc.difference(&sb))
        );
        // Identities.
        prop_assert_eq!(sa.union(&empty), sa.clone());
        prop_assert!(sa.intersection(&empty).is_empty());
        prop_assert_eq!(sa.difference(&empty), sa.clone());
        prop_assert!(sa.difference(&sa).is_empty());
        prop_assert_eq!(sa.intersection(&sa), sa.clone());
        prop_assert_eq!(sa.is_empty(), a.is_empty());
    }

    #[test]
    fn membership_agrees_with_the_source_intervals(a in raw_intervals(), b in raw_intervals()) {
        let (sa, sb) = (set_of(&a), set_of(&b));
        let (union, inter, diff) = (sa.union(&sb), sa.intersection(&sb), sa.difference(&sb));
        for t in probes() {
            let (x, y) = (in_raw(&a, t), in_raw(&b, t));
            prop_assert_eq!(sa.contains(t), x, "A at {}", t);
            prop_assert_eq!(union.contains(t), x || y, "A ∪ B at {}", t);
            prop_assert_eq!(inter.contains(t), x && y, "A ∩ B at {}", t);
            prop_assert_eq!(diff.contains(t), x && !y, "A \\ B at {}", t);
        }
    }

    #[test]
    fn covers_agrees_with_membership(a in raw_intervals(), s in 0i64..1_100, len in 1i64..150) {
        let sa = set_of(&a);
        let iv = Interval::new(at(s), at(s + len)).unwrap();
        // On the minute grid, `iv` is covered iff each of its minutes is in the set.
        let every_minute = (s..s + len).all(|m| in_raw(&a, at(m)));
        prop_assert_eq!(sa.covers(&iv), every_minute);
        prop_assert_eq!(sa.covers(&iv), sa.intersection(&[iv].into_iter().collect()).intervals() == [iv]);
    }
}

// ---------------------------------------------------------------------------------------------
// Zones and their transitions.

const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
];

fn zone(i: usize) -> Tz {
    ZONES[i].parse().unwrap()
}

fn offset_at(tz: Tz, t: DateTime<Utc>) -> TimeDelta {
    TimeDelta::seconds(i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}

/// Every instant in 2025-2028 at which the zone's offset changes, found by scanning by the
/// quarter hour and narrowing to the minute.
fn transitions(tz_index: usize) -> &'static [DateTime<Utc>] {
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
fn resolve_by_offsets(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
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
fn readings(tz: Tz, local: NaiveDateTime) -> usize {
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
    fn local_bounds(&self, date: chrono::NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
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
    (1u8..128, time_of_day(), 0u32..=7, time_of_day()).prop_map(|(mask, from, end_days, to)| {
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
    })
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
    let first =
        q.start().with_timezone(&tz).date_naive() - TimeDelta::days(i64::from(w.end_days) + 2);
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
    fn resolve_local_follows_the_documented_rule(
        tz_index in 0..ZONES.len(),
        pick in any::<prop::sample::Index>(),
        minutes in -180i64..180,
    ) {
        let tz = zone(tz_index);
        let transition = *pick.get(transitions(tz_index));
        // Local wall-clock times around the transition, on the minute.
        let local = transition.with_timezone(&tz).naive_local() + TimeDelta::minutes(minutes);
        let resolved = resolve_local(tz, local);
        prop_assert_eq!(resolved, resolve_by_offsets(tz, local), "{} in {}", local, tz);
        let reads = resolved.with_timezone(&tz).naive_local();
        match readings(tz, local) {
            // Exists once, or twice (the earlier instant): reads as asked.
            1 | 2 => prop_assert_eq!(reads, local),
            // In a gap: reads later by the gap's length.
            _ => {
                let gap = offset_at(tz, transition) - offset_at(tz, transition - TimeDelta::hours(1));
                prop_assert_eq!(reads - local, gap, "{} in {}", local, tz);
            }
        }
        // Round trip: an instant's own wall-clock reading resolves back to it, unless it is the
        // second pass through a fold, which resolves to the first.
        let instant = transition + TimeDelta::minutes(minutes);
        let back = resolve_local(tz, instant.with_timezone(&tz).naive_local());
        if back != instant {
            prop_assert!(back < instant);
            prop_assert_eq!(
                back.with_timezone(&tz).naive_local(),
                instant.with_timezone(&tz).naive_local()
            );
        }
    }

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

#[test]
fn transitions_found_match_known_dates() {
    // Spot checks that the scan finds what the tz database says.
    let expect = [
        (0, "2026-03-29T01:00:00Z"),
        (0, "2026-10-25T01:00:00Z"),
        (1, "2026-03-08T07:00:00Z"),
        (1, "2026-11-01T06:00:00Z"),
        (2, "2026-04-04T15:00:00Z"),
        (2, "2026-10-03T15:30:00Z"),
    ];
    for (i, t) in expect {
        let t = DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        assert!(
            transitions(i).contains(&t),
            "{} at {t}: {:?}",
            ZONES[i],
            transitions(i)
        );
    }
}
