//! Aggregations over a window of samples, computed from the slice (the gates, the script
//! functions and the test oracles use this form; the rollback sweep and the monitor keep the
//! same aggregates incrementally in [`super::window`]).
//!
//! Semantics, shared by both forms:
//! - a window of length `w` ending at `t` holds the samples with `t - w < at <= t`;
//! - a sample without a value (`None`) is missing: counted in `missing`, never aggregated;
//! - a NaN sample is counted in `nan`; any NaN makes every aggregate but `count` NaN;
//! - `samples` counts the values that are neither missing nor NaN;
//! - with no such value, every aggregate but `count` is `None` (no data); `count` is the
//!   number of values (`0.0` when none);
//! - `last` is the latest value (ties: the last given); `avg` the mean; `min`/`max`;
//! - `pNN` is the nearest-rank percentile: sorted ascending, the value at rank
//!   `ceil(NN * n / 100)` (1-based, at least 1);
//! - `rate` is the per-second increase of a counter: the sum, over consecutive values, of
//!   the difference (or of the new value, when the counter went down: a reset), divided by
//!   the seconds between the first and last value; `None` with fewer than two values or when
//!   they share one instant.

use std::fmt;

use crate::telemetry::Sample;

/// How a window of samples is reduced to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Aggregation {
    Last,
    Avg,
    Min,
    Max,
    P50,
    P90,
    P95,
    P99,
    Count,
    Rate,
}

impl Aggregation {
    pub const ALL: [Aggregation; 10] = [
        Aggregation::Last,
        Aggregation::Avg,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::P50,
        Aggregation::P90,
        Aggregation::P95,
        Aggregation::P99,
        Aggregation::Count,
        Aggregation::Rate,
    ];

    /// The name policies use (`p95`).
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Last => "last",
            Aggregation::Avg => "avg",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::P50 => "p50",
            Aggregation::P90 => "p90",
            Aggregation::P95 => "p95",
            Aggregation::P99 => "p99",
            Aggregation::Count => "count",
            Aggregation::Rate => "rate",
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The percentile, for `p50` .. `p99`.
    pub fn percentile(self) -> Option<u32> {
        match self {
            Aggregation::P50 => Some(50),
            Aggregation::P90 => Some(90),
            Aggregation::P95 => Some(95),
            Aggregation::P99 => Some(99),
            _ => None,
        }
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The 1-based nearest rank of percentile `p` among `n` sorted values (`n >= 1`).
pub(crate) fn rank(p: u32, n: usize) -> usize {
    (u64::from(p) * n as u64).div_ceil(100).max(1) as usize
}

/// An aggregate and what it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Aggregate {
    /// `None`: no data (see the module's semantics).
    pub value: Option<f64>,
    /// Values counted (neither missing nor NaN).
    pub samples: usize,
    pub missing: usize,
    pub nan: usize,
}

/// The samples of the window of length `len_ms` ending at `end_ms` (`end - len < at <= end`),
/// from samples sorted by time.
pub(crate) fn window(samples: &[Sample], end_ms: i64, len_ms: i64) -> &[Sample] {
    let from = end_ms.saturating_sub(len_ms);
    let lo = samples.partition_point(|s| s.at <= from);
    let hi = samples.partition_point(|s| s.at <= end_ms);
    &samples[lo..hi.max(lo)]
}

/// Reduces `samples` (sorted by time) with `agg`.
pub(crate) fn aggregate(samples: &[Sample], agg: Aggregation) -> Aggregate {
    let mut out = Aggregate::default();
    let mut values: Vec<(i64, f64)> = Vec::with_capacity(samples.len());
    for s in samples {
        match s.value {
            None => out.missing += 1,
            Some(v) if v.is_nan() => out.nan += 1,
            Some(v) => values.push((s.at, v)),
        }
    }
    out.samples = values.len();
    if agg == Aggregation::Count {
        out.value = Some(values.len() as f64);
        return out;
    }
    if out.nan > 0 {
        out.value = Some(f64::NAN);
        return out;
    }
    if values.is_empty() {
        return out;
    }
    out.value = match agg {
        Aggregation::Last => values.last().map(|v| v.1),
        Aggregation::Avg => Some(values.iter().map(|v| v.1).sum::<f64>() / values.len() as f64),
        Aggregation::Min => values.iter().map(|v| v.1).reduce(f64::min),
        Aggregation::Max => values.iter().map(|v| v.1).reduce(f64::max),
        Aggregation::P50 | Aggregation::P90 | Aggregation::P95 | Aggregation::P99 => {
            let mut sorted: Vec<f64> = values.iter().map(|v| v.1).collect();
            sorted.sort_by(f64::total_cmp);
            let p = agg.percentile().unwrap_or(50);
            Some(sorted[rank(p, sorted.len()) - 1])
        }
        Aggregation::Rate => rate(&values),
        Aggregation::Count => unreachable!("handled above"),
    };
    out
}

/// The per-second increase of a counter over `values` (time, value), resets counted.
fn rate(values: &[(i64, f64)]) -> Option<f64> {
    let (first, last) = (values.first()?, values.last()?);
    if values.len() < 2 || last.0 == first.0 {
        return None;
    }
    let increase: f64 = values
        .windows(2)
        .map(|w| {
            let d = w[1].1 - w[0].1;
            if d >= 0.0 { d } else { w[1].1 }
        })
        .sum();
    Some(increase / ((last.0 - first.0) as f64 / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at: i64, v: Option<f64>) -> Sample {
        Sample { at, value: v }
    }

    #[test]
    fn window_is_open_at_the_start_and_closed_at_the_end() {
        let xs = [s(0, Some(1.0)), s(1000, Some(2.0)), s(2000, Some(3.0))];
        assert_eq!(window(&xs, 2000, 1000), &xs[2..]);
        assert_eq!(window(&xs, 1999, 1000), &xs[1..2]);
        assert!(window(&xs, -1, 10).is_empty());
    }

    #[test]
    fn aggregates_follow_the_documented_semantics() {
        let xs: Vec<Sample> = (1..=20)
            .map(|i| s(i * 1000, Some(f64::from(i as i32))))
            .collect();
        let v = |a| aggregate(&xs, a).value.unwrap();
        assert_eq!(v(Aggregation::Last), 20.0);
        assert_eq!(v(Aggregation::Avg), 10.5);
        assert_eq!(v(Aggregation::Min), 1.0);
        assert_eq!(v(Aggregation::Max), 20.0);
        assert_eq!(v(Aggregation::P50), 10.0);
        assert_eq!(v(Aggregation::P90), 18.0);
        assert_eq!(v(Aggregation::P95), 19.0);
        assert_eq!(v(Aggregation::P99), 20.0);
        assert_eq!(v(Aggregation::Count), 20.0);
        assert_eq!(v(Aggregation::Rate), 1.0);
        let reset = [s(0, Some(5.0)), s(1000, Some(7.0)), s(2000, Some(1.0))];
        assert_eq!(aggregate(&reset, Aggregation::Rate).value, Some(1.5));
    }

    #[test]
    fn missing_and_nan_are_never_values() {
        let xs = [s(0, None), s(1, Some(f64::NAN)), s(2, Some(1.0))];
        let a = aggregate(&xs, Aggregation::Avg);
        assert!(a.value.unwrap().is_nan());
        assert_eq!((a.samples, a.missing, a.nan), (1, 1, 1));
        assert_eq!(aggregate(&xs, Aggregation::Count).value, Some(1.0));
        let none = aggregate(&[s(0, None)], Aggregation::Max);
        assert_eq!(none.value, None);
        assert_eq!(aggregate(&[], Aggregation::Count).value, Some(0.0));
        assert_eq!(aggregate(&[s(0, Some(1.0))], Aggregation::Rate).value, None);
    }
}
