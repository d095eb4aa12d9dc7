//! The evidence of the gates and rollback questions, indexed once: measurements grouped into
//! series (one per metric and label set) sorted by time, the baseline's measurements the same
//! way, events by kind, and the rollbacks already performed. A window query is a binary search
//! over a series, never a scan of the evidence.
//!
//! Instants are kept to the millisecond (`Sample::at`, milliseconds since the Unix epoch).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{Event, Measurement, RollbackDone};

/// One value of a series: when (milliseconds since the Unix epoch) and what (`None`: no data).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    pub at: i64,
    pub value: Option<f64>,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Which series a gate or trigger reads: a metric and labels every selected series carries
/// (other labels may differ; several matching series are merged in time order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Selector {
    pub metric: String,
    pub labels: Vec<(String, String)>,
}

impl Selector {
    pub fn metric(metric: impl Into<String>) -> Self {
        Self {
            metric: metric.into(),
            labels: Vec::new(),
        }
    }

    /// Whether a series with `labels` is selected (the metric being checked by the caller).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|x| x == v))
    }
}

/// One series: a metric with one label set, its samples sorted by time (ties in the order
/// given).
#[derive(Debug, Clone, Default)]
pub(crate) struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

/// Measurements grouped into series.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeriesSet {
    series: Vec<Series>,
    /// metric -> its series' indexes in `series`, in the order first seen.
    by_metric: HashMap<String, Vec<usize>>,
    len: usize,
}

impl SeriesSet {
    fn new(measurements: &[Measurement]) -> Self {
        let mut set = Self::default();
        for m in measurements {
            set.push(m);
        }
        set
    }

    /// Adds one measurement in its place (at the end when it is the latest of its series).
    pub fn push(&mut self, m: &Measurement) {
        let sample = Sample {
            at: millis(m.at),
            value: m.value,
        };
        let ids = self.by_metric.entry(m.metric.clone()).or_default();
        let id = match ids.iter().find(|&&i| self.series[i].labels == m.labels) {
            Some(&i) => i,
            None => {
                self.series.push(Series {
                    labels: m.labels.clone(),
                    samples: Vec::new(),
                });
                ids.push(self.series.len() - 1);
                self.series.len() - 1
            }
        };
        let samples = &mut self.series[id].samples;
        let at = samples.partition_point(|s| s.at <= sample.at);
        samples.insert(at, sample);
        self.len += 1;
    }

    /// The samples of every series `selector` selects, in time order: borrowed when one series
    /// matches, merged (stable: ties in series order) when several do, empty when none does.
    pub fn select(&self, selector: &Selector) -> Cow<'_, [Sample]> {
        let Some(ids) = self.by_metric.get(&selector.metric) else {
            return Cow::Borrowed(&[]);
        };
        let mut matching = ids
            .iter()
            .map(|&i| &self.series[i])
            .filter(|s| selector.matches(&s.labels));
        let Some(first) = matching.next() else {
            return Cow::Borrowed(&[]);
        };
        let rest: Vec<&Series> = matching.collect();
        if rest.is_empty() {
            return Cow::Borrowed(&first.samples);
        }
        let mut all: Vec<Sample> = first.samples.clone();
        for s in rest {
            all.extend_from_slice(&s.samples);
        }
        all.sort_by_key(|s| s.at);
        Cow::Owned(all)
    }

    /// How many measurements were added.
    pub fn len(&self) -> usize {
        self.len
    }
}

/// Measurements, the baseline's measurements, events and rollbacks performed, indexed once:
/// the evidence of [`crate::PolicySet::check_gates`] and [`crate::PolicySet::check_rollback`].
///
/// Cloning is cheap (the data sits behind an `Arc`).
///
/// # Example
/// ```
/// use changegate::{Measurement, Telemetry};
/// let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap();
/// let telemetry = Telemetry::new(vec![
///     Measurement::new("error_rate", at, Some(0.002)),
///     Measurement::new("error_rate", at, None),
/// ]);
/// assert_eq!(telemetry.measurement_count(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Telemetry {
    inner: Arc<TelemetryData>,
}

#[derive(Debug, Clone, Default)]
struct TelemetryData {
    measurements: SeriesSet,
    baseline: SeriesSet,
    /// kind -> the instants of its events, sorted.
    events: HashMap<String, Vec<i64>>,
    event_count: usize,
    /// Sorted by time (ties in the order given).
    rollbacks: Vec<RollbackDone>,
}

impl Telemetry {
    /// Indexes `measurements` (any order).
    pub fn new(measurements: Vec<Measurement>) -> Self {
        Self {
            inner: Arc::new(TelemetryData {
                measurements: SeriesSet::new(&measurements),
                ..TelemetryData::default()
            }),
        }
    }

    /// Adds the baseline's measurements, which relative gates (`max_increase`, ...) compare
    /// with.
    #[must_use]
    pub fn with_baseline(mut self, baseline: Vec<Measurement>) -> Self {
        Arc::make_mut(&mut self.inner).baseline = SeriesSet::new(&baseline);
        self
    }

    /// Adds events.
    #[must_use]
    pub fn with_events(mut self, events: Vec<Event>) -> Self {
        for e in &events {
            self.push_event(e);
        }
        self
    }

    /// Adds the rollbacks already performed.
    #[must_use]
    pub fn with_rollbacks(mut self, rollbacks: Vec<RollbackDone>) -> Self {
        for r in rollbacks {
            self.push_rollback(r);
        }
        self
    }

    /// Adds one measurement.
    pub fn push_measurement(&mut self, m: &Measurement) {
        Arc::make_mut(&mut self.inner).measurements.push(m);
    }

    /// Adds one baseline measurement.
    pub fn push_baseline(&mut self, m: &Measurement) {
        Arc::make_mut(&mut self.inner).baseline.push(m);
    }

    /// Adds one event.
    pub fn push_event(&mut self, e: &Event) {
        let data = Arc::make_mut(&mut self.inner);
        let times = data.events.entry(e.kind.clone()).or_default();
        let at = millis(e.at);
        let i = times.partition_point(|&t| t <= at);
        times.insert(i, at);
        data.event_count += 1;
    }

    /// Adds one rollback performed.
    pub fn push_rollback(&mut self, r: RollbackDone) {
        let data = Arc::make_mut(&mut self.inner);
        let i = data.rollbacks.partition_point(|x| x.at <= r.at);
        data.rollbacks.insert(i, r);
    }

    /// How many measurements it holds (baseline excluded).
    pub fn measurement_count(&self) -> usize {
        self.inner.measurements.len()
    }

    /// How many baseline measurements it holds.
    pub fn baseline_count(&self) -> usize {
        self.inner.baseline.len()
    }

    /// How many events it holds.
    pub fn event_count(&self) -> usize {
        self.inner.event_count
    }

    /// The rollbacks performed, sorted by time.
    pub fn rollbacks(&self) -> &[RollbackDone] {
        &self.inner.rollbacks
    }

    pub(crate) fn measurements(&self) -> &SeriesSet {
        &self.inner.measurements
    }

    pub(crate) fn baseline(&self) -> &SeriesSet {
        &self.inner.baseline
    }

    /// The instants of the events of `kind`, sorted.
    pub(crate) fn events(&self, kind: &str) -> &[i64] {
        self.inner.events.get(kind).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    #[test]
    fn series_are_sorted_and_selected_by_labels() {
        let t = Telemetry::new(vec![
            Measurement::new("lat", at("2026-12-01T10:00:02Z"), Some(2.0)).with_label("path", "a"),
            Measurement::new("lat", at("2026-12-01T10:00:01Z"), Some(1.0)).with_label("path", "a"),
            Measurement::new("lat", at("2026-12-01T10:00:01Z"), Some(5.0)).with_label("path", "b"),
        ]);
        let a = Selector {
            metric: "lat".into(),
            labels: vec![("path".into(), "a".into())],
        };
        let got: Vec<f64> = t
            .measurements()
            .select(&a)
            .iter()
            .filter_map(|s| s.value)
            .collect();
        assert_eq!(got, [1.0, 2.0]);
        let all: Vec<f64> = t
            .measurements()
            .select(&Selector::metric("lat"))
            .iter()
            .filter_map(|s| s.value)
            .collect();
        assert_eq!(all, [1.0, 5.0, 2.0]);
        assert!(
            t.measurements()
                .select(&Selector::metric("nope"))
                .is_empty()
        );
    }
}
