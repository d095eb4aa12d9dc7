//! Half-open intervals of UTC instants and sets of them.
//!
//! Every interval is `[start, end)` and never empty; a set is kept as sorted, disjoint,
//! non-adjacent intervals (one representation per set), so equality of sets is equality of
//! their instants.
//!
//! Arithmetic here saturates instead of overflowing: instants are kept between [`earliest`]
//! and [`latest`], a day inside chrono's own range, so that the wall-clock reading of any of
//! them in any zone or offset can still be represented (docs/time-semantics.md, "Extreme
//! values").

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Utc};

/// The earliest instant changegate works with: a day after the earliest one chrono represents,
/// so that its local time in any offset (all are under a day) exists.
pub(crate) fn earliest() -> DateTime<Utc> {
    // Computed once: every interval a rule builds is clamped to these bounds.
    static EARLIEST: LazyLock<DateTime<Utc>> = LazyLock::new(|| {
        DateTime::<Utc>::MIN_UTC
            .checked_add_signed(TimeDelta::days(1))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    });
    *EARLIEST
}

/// The latest instant changegate works with: a day before the latest one chrono represents.
pub(crate) fn latest() -> DateTime<Utc> {
    static LATEST: LazyLock<DateTime<Utc>> = LazyLock::new(|| {
        DateTime::<Utc>::MAX_UTC
            .checked_sub_signed(TimeDelta::days(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    });
    *LATEST
}

/// The longest a change occupies its services, as far as the rules are concerned: 36 600 days
/// (100 years), the longest duration text can give. A longer, hand-built duration is checked as
/// this long, so that no rule walks the occurrences of a window over millennia.
pub(crate) const LONGEST_OCCUPATION: TimeDelta = TimeDelta::days(36_600);

/// `t` moved into `[earliest(), latest()]`.
pub(crate) fn clamp_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    t.clamp(earliest(), latest())
}

/// `t + d`, saturating at [`earliest`] and [`latest`].
pub(crate) fn add_saturating(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    match t.checked_add_signed(d) {
        Some(x) => clamp_instant(x),
        None if d < TimeDelta::zero() => earliest(),
        None => latest(),
    }
}

/// `t + d`, saturating at the limits of chrono's range.
fn shift(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A half-open interval of UTC instants, `[start, end)`, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Interval {
    /// The interval `[start, end)`, or `None` when it would be empty (`end <= start`).
    pub(crate) fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    /// What a change starting at `start` and lasting `length` occupies: `[start, start +
    /// length)`, at least one second long (a hand-built zero or negative length still occupies
    /// the instant it names) and at most [`LONGEST_OCCUPATION`] (only a hand-built length can
    /// be longer), with both ends kept within [`earliest`] and [`latest`] (a start after
    /// `latest() - 1s` moves back to it; an end past [`latest`] saturates there).
    pub(crate) fn occupied(start: DateTime<Utc>, length: TimeDelta) -> Self {
        let one = TimeDelta::seconds(1);
        let last_start = add_saturating(latest(), -one);
        let start = clamp_instant(start).min(last_start);
        let length = length.clamp(one, LONGEST_OCCUPATION);
        Self {
            start,
            end: add_saturating(start, length),
        }
    }

    /// The first instant inside the interval.
    pub(crate) fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after the interval.
    pub(crate) fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether the two intervals share at least one instant.
    pub(crate) fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `t` lies inside `[start, end)`.
    pub(crate) fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether `other` lies entirely inside this interval.
    pub(crate) fn covers(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// How long the interval lasts.
    pub(crate) fn length(&self) -> TimeDelta {
        // Any two instants chrono represents are less than `TimeDelta::MAX` apart.
        self.end.signed_duration_since(self.start)
    }
}

/// A set of instants stored as sorted, disjoint, non-adjacent half-open intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IntervalSet {
    items: Vec<Interval>,
}

impl IntervalSet {
    /// The empty set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The intervals of the set, sorted and disjoint.
    pub(crate) fn intervals(&self) -> &[Interval] {
        &self.items
    }

    /// Whether the set holds no instant.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `t` is in the set.
    pub(crate) fn contains(&self, t: DateTime<Utc>) -> bool {
        let i = self.items.partition_point(|iv| iv.end <= t);
        self.items.get(i).is_some_and(|iv| iv.contains(t))
    }

    /// Whether every instant of `interval` is in the set.
    pub(crate) fn covers(&self, interval: &Interval) -> bool {
        let i = self.items.partition_point(|iv| iv.end <= interval.start);
        self.items.get(i).is_some_and(|iv| iv.covers(interval))
    }

    /// The union of both sets.
    #[cfg(test)] // only the property tests need it
    pub(crate) fn union(&self, other: &IntervalSet) -> IntervalSet {
        self.items
            .iter()
            .chain(other.items.iter())
            .copied()
            .collect()
    }

    /// The instants in both sets.
    pub(crate) fn intersection(&self, other: &IntervalSet) -> IntervalSet {
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
    pub(crate) fn difference(&self, other: &IntervalSet) -> IntervalSet {
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

    /// The instants of `range` that are not in the set.
    pub(crate) fn complement_within(&self, range: Interval) -> IntervalSet {
        IntervalSet::from(range).difference(self)
    }

    /// The part of the set inside `range`.
    pub(crate) fn clip(&self, range: Interval) -> IntervalSet {
        self.intersection(&IntervalSet::from(range))
    }

    /// Adds the instants of `interval`.
    pub(crate) fn insert(&mut self, interval: Interval) {
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
    #[cfg(test)] // only the property tests need it
    pub(crate) fn interval_containing(&self, t: DateTime<Utc>) -> Option<Interval> {
        let i = self.items.partition_point(|iv| iv.end <= t);
        self.items.get(i).filter(|iv| iv.contains(t)).copied()
    }

    /// Every interval `[s, e)` widened to `[s - before, e + after)`, merged; a widened end past
    /// what chrono represents saturates at its limit.
    pub(crate) fn widen(&self, before: TimeDelta, after: TimeDelta) -> IntervalSet {
        let back = TimeDelta::zero()
            .checked_sub(&before)
            .unwrap_or(TimeDelta::MAX);
        self.items
            .iter()
            .filter_map(|iv| Interval::new(shift(iv.start, back), shift(iv.end, after)))
            .collect()
    }

    /// The total length of the set.
    #[cfg(test)] // only the property tests need it
    pub(crate) fn total(&self) -> TimeDelta {
        self.items.iter().fold(TimeDelta::zero(), |acc, iv| {
            acc.checked_add(&iv.length()).unwrap_or(TimeDelta::MAX)
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::testkit::utc;

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

    /// The interval-set algebra, on a minute grid so that touching and overlapping intervals
    /// are common.
    mod laws {
        use chrono::{DateTime, TimeDelta, TimeZone, Utc};
        use proptest::prelude::*;

        use crate::time::{Interval, IntervalSet};

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
    }

    /// The interval algebra, checked point by point on the minute grid every endpoint lies on
    ///.
    mod membership {
        use chrono::{DateTime, TimeDelta, TimeZone, Utc};
        use proptest::prelude::*;

        use crate::time::{Interval, IntervalSet};

        fn base() -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        }

        fn minute(m: i64) -> DateTime<Utc> {
            base() + TimeDelta::minutes(m)
        }

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
    }
}
