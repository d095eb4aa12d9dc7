//! The aggregates of [`super::aggregate`] kept incrementally over a sliding window: amortized
//! O(1) per sample for last/avg/min/max/count/rate, O(log n) for percentiles. The rollback
//! sweep (batch and streaming alike) runs on these.
//!
//! A [`WindowAgg`] holds the samples of one window, `end - len < at <= end`, as the window's
//! end moves forward: [`WindowAgg::push`] adds a sample (in time order, ties in the order
//! given), [`WindowAgg::expire`] drops the samples the window left. [`WindowAgg::get`] is
//! [`super::aggregate::aggregate`] over the same samples, with the same semantics (missing,
//! NaN, `count`, nearest-rank percentiles, `rate` with counter resets):
//!
//! - every sample is kept in one deque (to expire it and count `missing` and `nan`), the
//!   values in a second (`last`, `rate`, the running sums);
//! - `avg`: a running sum; `rate`: a running sum of the increases between consecutive values.
//!   Both are recomputed from the deque (in order, as the slice form adds) when it empties,
//!   after as many removals as it holds values, and when the sum stopped being finite, so
//!   that they never drift; with values exact in binary (multiples of 1/8 and the like) they
//!   equal the slice form bit for bit;
//! - `min`/`max`: a monotonic deque of the values that can still become the extreme;
//! - `pNN`: an ordered multiset of the values in their total order: up to 1024 values a
//!   sorted vector (the element read at its nearest rank); beyond, a `BTreeMap` from the
//!   value to its count with a cursor on the element of the current nearest rank, which
//!   moves at most a step or two per change: O(log n) per sample.
//!
//! Nothing here can panic or overflow: instants saturate.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;

use super::aggregate::{Aggregate, Aggregation, rank};
use crate::telemetry::Sample;

/// One aggregate of a sliding window, kept as the window moves forward.
#[derive(Debug, Clone)]
pub(crate) struct WindowAgg {
    agg: Aggregation,
    len_ms: i64,
    /// Every sample in the window: when, and its value (`None`: missing).
    entries: VecDeque<(i64, Option<f64>)>,
    /// How many of them are values (neither missing nor NaN).
    n: usize,
    /// `last` and `rate`: the values in the window, in order.
    values: VecDeque<(i64, f64)>,
    /// How many values were ever pushed, and removed: the indexes of the next ones.
    pushed: u64,
    popped: u64,
    missing: usize,
    nan: usize,
    /// `avg`: the sum of the values; `rate`: the sum of the increases between them.
    sum: f64,
    /// Removals since `sum` was last recomputed from the window.
    removals: usize,
    /// `min`/`max`: (index, value) of the values that can still become the extreme, in order.
    mono: VecDeque<(u64, f64)>,
    /// `pNN`: the values, ordered.
    order: Option<OrderStat>,
}

/// A value that counts: neither missing nor NaN.
fn counted(v: Option<f64>) -> Option<f64> {
    v.filter(|v| !v.is_nan())
}

impl WindowAgg {
    /// An empty window of `len_ms` milliseconds reduced with `agg`.
    pub fn new(agg: Aggregation, len_ms: i64) -> Self {
        Self {
            agg,
            len_ms: len_ms.max(1),
            entries: VecDeque::new(),
            n: 0,
            values: VecDeque::new(),
            pushed: 0,
            popped: 0,
            missing: 0,
            nan: 0,
            sum: 0.0,
            removals: 0,
            mono: VecDeque::new(),
            order: agg.percentile().map(OrderStat::new),
        }
    }

    /// Whether the values themselves are kept in order (`last`, `rate`).
    fn keeps_values(&self) -> bool {
        matches!(self.agg, Aggregation::Last | Aggregation::Rate)
    }

    /// Adds a sample (not earlier than any sample added before).
    pub fn push(&mut self, s: Sample) {
        self.entries.push_back((s.at, s.value));
        let v = match s.value {
            None => {
                self.missing = self.missing.saturating_add(1);
                return;
            }
            Some(v) if v.is_nan() => {
                self.nan = self.nan.saturating_add(1);
                return;
            }
            Some(v) => v,
        };
        match self.agg {
            Aggregation::Avg => self.sum += v,
            Aggregation::Rate => {
                if let Some(&(_, prev)) = self.values.back() {
                    self.sum += increase(prev, v);
                }
            }
            Aggregation::Min => {
                while self.mono.back().is_some_and(|&(_, b)| b >= v) {
                    self.mono.pop_back();
                }
                self.mono.push_back((self.pushed, v));
            }
            Aggregation::Max => {
                while self.mono.back().is_some_and(|&(_, b)| b <= v) {
                    self.mono.pop_back();
                }
                self.mono.push_back((self.pushed, v));
            }
            _ => {}
        }
        if let Some(o) = self.order.as_mut() {
            o.insert(v);
        }
        if self.keeps_values() {
            self.values.push_back((s.at, v));
        }
        self.n = self.n.saturating_add(1);
        self.pushed = self.pushed.wrapping_add(1);
        if !self.sum.is_finite() {
            self.recompute();
        }
    }

    /// Drops the samples that a window ending at `end` no longer holds (`at <= end - len`).
    pub fn expire(&mut self, end: i64) {
        let from = end.saturating_sub(self.len_ms);
        while let Some(&(at, value)) = self.entries.front() {
            if at > from {
                break;
            }
            self.entries.pop_front();
            match value {
                None => self.missing = self.missing.saturating_sub(1),
                Some(v) if v.is_nan() => self.nan = self.nan.saturating_sub(1),
                Some(v) => self.drop_value(v),
            }
        }
    }

    /// Removes the oldest value, `v`.
    fn drop_value(&mut self, v: f64) {
        let index = self.popped;
        self.popped = self.popped.wrapping_add(1);
        self.n = self.n.saturating_sub(1);
        if self.keeps_values() {
            self.values.pop_front();
        }
        match self.agg {
            Aggregation::Avg => self.sum -= v,
            Aggregation::Rate => {
                if let Some(&(_, next)) = self.values.front() {
                    self.sum -= increase(v, next);
                }
            }
            Aggregation::Min | Aggregation::Max
                if self.mono.front().is_some_and(|&(i, _)| i == index) =>
            {
                self.mono.pop_front();
            }
            _ => {}
        }
        if let Some(o) = self.order.as_mut() {
            o.remove(v);
        }
        self.removals = self.removals.saturating_add(1);
        if self.n == 0 || !self.sum.is_finite() || (self.removals >= self.n && self.removals >= 32)
        {
            self.recompute();
        }
    }

    /// Recomputes the running sum from the window, in order (as the slice form adds).
    fn recompute(&mut self) {
        self.removals = 0;
        self.sum = match self.agg {
            Aggregation::Avg => self.entries.iter().filter_map(|e| counted(e.1)).sum(),
            Aggregation::Rate => self
                .values
                .iter()
                .zip(self.values.iter().skip(1))
                .map(|(a, b)| increase(a.1, b.1))
                .sum(),
            _ => 0.0,
        };
    }

    /// When the oldest sample leaves the window (its `at + len`), if any.
    pub fn next_expiry(&self) -> Option<i64> {
        self.entries
            .front()
            .map(|&(at, _)| at.saturating_add(self.len_ms))
    }

    /// The aggregate of the window, as [`super::aggregate::aggregate`] computes it.
    pub fn get(&self) -> Aggregate {
        let samples = self.n;
        let mut out = Aggregate {
            value: None,
            samples,
            missing: self.missing,
            nan: self.nan,
        };
        if self.agg == Aggregation::Count {
            out.value = Some(samples as f64);
            return out;
        }
        if self.nan > 0 {
            out.value = Some(f64::NAN);
            return out;
        }
        if samples == 0 {
            return out;
        }
        out.value = match self.agg {
            Aggregation::Last => self.values.back().map(|v| v.1),
            Aggregation::Avg => {
                // A sum that stopped being finite is recomputed, but the values' own sum may
                // overflow: as in the slice form.
                Some(self.sum / samples as f64)
            }
            Aggregation::Min | Aggregation::Max => self.mono.front().map(|v| v.1),
            Aggregation::P50 | Aggregation::P90 | Aggregation::P95 | Aggregation::P99 => {
                self.order.as_ref().and_then(OrderStat::value)
            }
            Aggregation::Rate => {
                let first = self.values.front().map_or(0, |v| v.0);
                let last = self.values.back().map_or(0, |v| v.0);
                let span = last.saturating_sub(first);
                (samples >= 2 && span != 0).then(|| self.sum / (span as f64 / 1000.0))
            }
            Aggregation::Count => Some(samples as f64),
        };
        out
    }
}

/// The increase of a counter from `a` to `b`: the difference, or `b` after a reset.
fn increase(a: f64, b: f64) -> f64 {
    let d = b - a;
    if d >= 0.0 { d } else { b }
}

/// `v` as a key ordered like [`f64::total_cmp`].
fn key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// The value of a [`key`].
fn unkey(k: u64) -> f64 {
    let b = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(b)
}

/// Up to this many values, a percentile's multiset is a sorted vector (an insertion or a
/// removal moves at most this many keys, 8 KiB: cheaper than a tree's nodes at this size);
/// beyond it, a tree. Back to the vector below half of it, so that a window hovering around
/// the bound does not convert back and forth.
const SMALL: usize = 1024;

/// A multiset of values (in [`f64::total_cmp`] order) that gives the element of the nearest
/// rank of percentile `p`. Up to [`SMALL`] values: a sorted vector, the element read at its
/// rank. Beyond: a `BTreeMap` of counts with a cursor on the element of the rank, which moves
/// at most a step or two per change; insertions and removals are O(log n), and so is keeping
/// the cursor.
#[derive(Debug, Clone)]
struct OrderStat {
    p: u32,
    /// The keys, sorted, while there are at most [`SMALL`] of them (and the tree is empty).
    small: Vec<u64>,
    /// Whether the values are in the tree.
    large: bool,
    counts: BTreeMap<u64, usize>,
    n: usize,
    /// In the tree: the key the element of the current rank sits at, and how many elements
    /// are below it.
    cursor: Option<(u64, usize)>,
}

impl OrderStat {
    fn new(p: u32) -> Self {
        Self {
            p,
            small: Vec::new(),
            large: false,
            counts: BTreeMap::new(),
            n: 0,
            cursor: None,
        }
    }

    fn insert(&mut self, v: f64) {
        if self.large {
            self.tree_insert(v);
            return;
        }
        let k = key(v);
        // After its ties: in order, the latest last (any place among equal keys would do).
        let i = self.small.partition_point(|&x| x <= k);
        self.small.insert(i, k);
        self.n = self.small.len();
        if self.n > SMALL {
            // Into the tree, the cursor on the element of the rank.
            let r = rank(self.p, self.n);
            self.cursor = self.small.get(r - 1).map(|&ck| {
                let below = self.small.partition_point(|&x| x < ck);
                (ck, below)
            });
            for &k in &self.small {
                let c = self.counts.entry(k).or_insert(0);
                *c = c.saturating_add(1);
            }
            self.small = Vec::new();
            self.large = true;
        }
    }

    fn remove(&mut self, v: f64) {
        if self.large {
            self.tree_remove(v);
            if self.n < SMALL / 2 {
                // Back into the vector.
                let mut small = Vec::with_capacity(SMALL);
                for (&k, &c) in &self.counts {
                    small.extend(std::iter::repeat_n(k, c));
                }
                self.small = small;
                self.counts.clear();
                self.cursor = None;
                self.large = false;
                self.n = self.small.len();
            }
            return;
        }
        let k = key(v);
        let i = self.small.partition_point(|&x| x < k);
        if self.small.get(i) == Some(&k) {
            self.small.remove(i);
        }
        self.n = self.small.len();
    }

    fn value(&self) -> Option<f64> {
        if self.large {
            self.cursor.map(|(k, _)| unkey(k))
        } else if self.n == 0 {
            None
        } else {
            self.small.get(rank(self.p, self.n) - 1).map(|&k| unkey(k))
        }
    }

    fn tree_insert(&mut self, v: f64) {
        let k = key(v);
        let c = self.counts.entry(k).or_insert(0);
        *c = c.saturating_add(1);
        self.n = self.n.saturating_add(1);
        self.cursor = match self.cursor {
            None => Some((k, 0)),
            Some((ck, below)) if k < ck => Some((ck, below.saturating_add(1))),
            other => other,
        };
        self.settle();
    }

    fn tree_remove(&mut self, v: f64) {
        let k = key(v);
        let Some(c) = self.counts.get_mut(&k) else {
            return;
        };
        *c = c.saturating_sub(1);
        let gone = *c == 0;
        if gone {
            self.counts.remove(&k);
        }
        self.n = self.n.saturating_sub(1);
        if self.n == 0 {
            self.cursor = None;
            return;
        }
        let Some((ck, below)) = self.cursor else {
            return;
        };
        if k < ck {
            self.cursor = Some((ck, below.saturating_sub(1)));
        } else if k == ck && gone {
            // The cursor's key is gone: the next key up has the same elements below it.
            let next = self
                .counts
                .range((Bound::Excluded(ck), Bound::Unbounded))
                .next();
            self.cursor = match next {
                Some((&nk, _)) => Some((nk, below)),
                None => self
                    .counts
                    .range(..ck)
                    .next_back()
                    .map(|(&pk, &pc)| (pk, below.saturating_sub(pc))),
            };
        }
        self.settle();
    }

    /// Moves the cursor to the key holding the element of the current rank.
    fn settle(&mut self) {
        if self.n == 0 {
            self.cursor = None;
            return;
        }
        let r = rank(self.p, self.n);
        while let Some((ck, below)) = self.cursor {
            let count = self.counts.get(&ck).copied().unwrap_or(0);
            if r <= below {
                let Some((&pk, &pc)) = self.counts.range(..ck).next_back() else {
                    return;
                };
                self.cursor = Some((pk, below.saturating_sub(pc)));
            } else if r > below.saturating_add(count) {
                let next = self
                    .counts
                    .range((Bound::Excluded(ck), Bound::Unbounded))
                    .next();
                let Some((&nk, _)) = next else {
                    return;
                };
                self.cursor = Some((nk, below.saturating_add(count)));
            } else {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::rules::aggregate::{aggregate, window};

    fn same(a: &Aggregate, b: &Aggregate) -> bool {
        let v = match (a.value, b.value) {
            (None, None) => true,
            (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
            _ => false,
        };
        v && a.samples == b.samples && a.missing == b.missing && a.nan == b.nan
    }

    /// Slides a window over `samples` to every instant a sample enters or leaves it, and
    /// compares with the slice form at each.
    fn check(samples: &[Sample], agg: Aggregation, len: i64) -> Result<(), TestCaseError> {
        let mut w = WindowAgg::new(agg, len);
        let mut instants: Vec<i64> = samples
            .iter()
            .flat_map(|s| [s.at, s.at.saturating_add(len)])
            .collect();
        instants.sort_unstable();
        instants.dedup();
        let mut next = 0;
        for &t in &instants {
            w.expire(t);
            while let Some(s) = samples.get(next).filter(|s| s.at <= t) {
                w.push(*s);
                next += 1;
            }
            let expected = aggregate(window(samples, t, len), agg);
            let got = w.get();
            prop_assert!(
                same(&got, &expected),
                "{agg} over {len}ms at {t}: got {got:?}, expected {expected:?}"
            );
        }
        Ok(())
    }

    fn sample() -> impl Strategy<Value = (i64, Option<f64>)> {
        (
            0i64..6,
            prop_oneof![
                8 => (-40i32..40).prop_map(|v| Some(f64::from(v) / 8.0)),
                1 => Just(None),
                1 => Just(Some(f64::NAN)),
            ],
        )
    }

    fn stream(raw: Vec<(i64, Option<f64>)>) -> Vec<Sample> {
        let mut at = 0i64;
        raw.into_iter()
            .map(|(gap, value)| {
                at += gap * 250;
                Sample { at, value }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_aggregate_equals_the_slice_form(
            raw in prop::collection::vec(sample(), 0..120),
            len in prop_oneof![Just(250i64), Just(1000), 1i64..3000],
        ) {
            let samples = stream(raw);
            for agg in Aggregation::ALL {
                check(&samples, agg, len)?;
            }
        }

        #[test]
        fn percentiles_of_many_ties_equal_the_slice_form(
            raw in prop::collection::vec((0i64..3, 0i32..4), 0..300),
            len in 500i64..5000,
        ) {
            let samples = stream(
                raw.into_iter().map(|(g, v)| (g, Some(f64::from(v)))).collect(),
            );
            for agg in [Aggregation::P50, Aggregation::P90, Aggregation::P95, Aggregation::P99] {
                check(&samples, agg, len)?;
            }
        }
    }

    #[test]
    fn percentiles_of_windows_larger_than_the_vector_equal_the_slice_form() {
        // 3000 samples, a window of up to 1500 (into the tree) that then drains (back into
        // the vector), with many ties and both zeros.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let samples: Vec<Sample> = (0..3000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let v = match x % 50 {
                    0 => -0.0,
                    1 => 0.0,
                    r => (r % 37) as f64 / 4.0,
                };
                Sample {
                    at: i,
                    value: Some(v),
                }
            })
            .collect();
        for agg in [Aggregation::P50, Aggregation::P95, Aggregation::P99] {
            check(&samples, agg, 1500).unwrap();
            check(&samples, agg, 1100).unwrap();
        }
    }

    #[test]
    fn signed_zeros_and_huge_values_do_not_break_it() {
        let xs = [
            Sample {
                at: 0,
                value: Some(-0.0),
            },
            Sample {
                at: 1,
                value: Some(0.0),
            },
            Sample {
                at: 2,
                value: Some(f64::MAX),
            },
            Sample {
                at: 3,
                value: Some(f64::MAX),
            },
            Sample {
                at: 4,
                value: Some(1.0),
            },
        ];
        for agg in Aggregation::ALL {
            if agg == Aggregation::Avg || agg == Aggregation::Rate {
                // Sums of doubles near the largest are not exact in any order: it stays a
                // number, and it is exact again once the huge values left.
                let mut w = WindowAgg::new(agg, 2);
                for s in &xs {
                    w.expire(s.at);
                    w.push(*s);
                    assert!(!w.get().value.is_some_and(f64::is_nan), "{agg}");
                }
                continue;
            }
            check(&xs, agg, 2).unwrap();
            check(&xs, agg, i64::MAX).unwrap();
        }
        let mut w = WindowAgg::new(Aggregation::Avg, i64::MAX);
        w.push(Sample {
            at: 1,
            value: Some(1.0),
        });
        w.expire(i64::MAX);
        assert_eq!(w.get().value, Some(1.0));
        assert_eq!(w.next_expiry(), Some(i64::MAX));
    }

    #[test]
    fn the_running_sum_is_recomputed_as_values_leave() {
        let mut w = WindowAgg::new(Aggregation::Avg, 10);
        for i in 0..10_000 {
            w.push(Sample {
                at: i,
                value: Some(0.1 * (i % 7) as f64),
            });
            w.expire(i);
        }
        let exact: f64 = (9_990..10_000).map(|i| 0.1 * (i % 7) as f64).sum::<f64>() / 10.0;
        assert!((w.get().value.unwrap() - exact).abs() < 1e-12);
    }
}
