//! SLO gates: is the change healthy enough to continue or promote? Each gate reduces a metric
//! over a window ending at `now` ([`super::aggregate`]) and compares it with absolute
//! thresholds and/or thresholds relative to the baseline; the evaluation is pass, warn, fail
//! or inconclusive per gate plus a weighted score.
//!
//! Semantics (docs/policy-authoring.md, "Gates", is the reference for authors):
//! - A gate reads the samples of the series its selector picks (metric, and labels every
//!   selected series carries) in the window `now - window < at <= now`: measurements dated
//!   after `now` have not happened yet and are never counted.
//! - Data first: a NaN in the window applies `on_nan`; fewer values than
//!   `max(min_samples, 1)` (`min_samples` alone for `count`), or an aggregate without a value
//!   (`rate` over fewer than two instants), applies `on_missing`; a relative bound whose
//!   baseline aggregate over the same window has no value (or is NaN) applies `on_missing`
//!   with the reason `no baseline` (unless an absolute bound of the gate already fails on the
//!   value). `fail` fails the gate, `inconclusive` makes it
//!   inconclusive (the decision is `pending`), `pass` passes it with a `gate_no_data` warning:
//!   missing data never passes silently.
//! - Bounds are inclusive: `value == max` passes. The gate fails beyond `max`/`min` or a
//!   relative maximum (`baseline + |baseline| * max_increase`, `baseline - |baseline| *
//!   max_decrease`), warns beyond a `warn_` bound, and passes otherwise. The first bound
//!   crossed, in the order `max`, `min`, `max_increase`, `max_decrease` (then the `warn_`
//!   ones in the same order), is the one the finding names.
//! - Score: `sum(weight * s) / sum(weight)` over the conclusive gates (pass 1, warn 0.5, fail
//!   0); none conclusive: no score. With `score:`, a score below `warn` denies and one below
//!   `pass` warns (`gate_score`), and a failed gate denies only when it is `key` (else it
//!   warns and the score decides). Without `score:`, every failed gate denies.
//! - Findings, one per gate at most, in the order written, then the score's: `gate_failed`,
//!   `gate_warning` (warn), `gate_inconclusive` (pending), `gate_no_data` (warn),
//!   `gate_score`. Each carries the values behind it (see [`GateResult::finding_details`]).

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use super::aggregate::{Aggregate, Aggregation, aggregate, window};
use crate::decision::{Finding, Severity};
use crate::telemetry::{Selector, Telemetry, millis};

/// A gate failed (deny when it is key or the section has no `score:`; warn otherwise).
pub(crate) const FAILED: &str = "gate_failed";
/// A gate is in its warning band.
pub(crate) const WARNING: &str = "gate_warning";
/// A gate had too little data (or a NaN, or no baseline) and its policy is `inconclusive`.
pub(crate) const INCONCLUSIVE: &str = "gate_inconclusive";
/// A gate had too little data (or a NaN, or no baseline) and its policy is `pass`.
pub(crate) const NO_DATA: &str = "gate_no_data";
/// The weighted score is below `score.pass` (warn) or `score.warn` (deny).
pub(crate) const SCORE: &str = "gate_score";

/// What a gate (or a trigger) does when its window holds no usable data (too few samples, no
/// baseline) or a NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MissingData {
    /// The gate fails.
    Fail,
    /// The gate is inconclusive: the outcome is `pending` (the safe default).
    Inconclusive,
    /// The gate passes, with a visible `gate_no_data` warning.
    Pass,
}

/// Absolute bounds. A value passes when `min <= value <= max`, and warns (still passing)
/// beyond `warn_min`/`warn_max`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Bounds {
    pub max: Option<f64>,
    pub warn_max: Option<f64>,
    pub min: Option<f64>,
    pub warn_min: Option<f64>,
}

/// Bounds relative to the baseline's aggregate over the same window, as fractions
/// (`max_increase: 10%` is `0.1`): fail above `baseline * (1 + max_increase)` or below
/// `baseline * (1 - max_decrease)`; warn beyond the `warn_` ones.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Relative {
    pub max_increase: Option<f64>,
    pub warn_increase: Option<f64>,
    pub max_decrease: Option<f64>,
    pub warn_decrease: Option<f64>,
}

impl Relative {
    pub fn is_set(&self) -> bool {
        self.max_increase.is_some()
            || self.warn_increase.is_some()
            || self.max_decrease.is_some()
            || self.warn_decrease.is_some()
    }
}

/// One gate.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub name: String,
    pub selector: Selector,
    pub aggregation: Aggregation,
    pub window: TimeDelta,
    pub bounds: Bounds,
    pub relative: Relative,
    /// Fewer values than this in the window is missing data (default 1; `count` gates 0).
    pub min_samples: usize,
    /// Its weight in the score (default 1).
    pub weight: f64,
    /// A failed key gate fails the whole evaluation, whatever the score.
    pub key: bool,
    pub on_missing: MissingData,
    pub on_nan: MissingData,
    /// `file:line` of the gate in policy.yaml.
    pub source: String,
}

/// The score thresholds: the weighted score (pass 1, warn 0.5, fail 0) passes at or above
/// `pass`, warns at or above `warn`, and fails below.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Score {
    pub pass: f64,
    pub warn: f64,
    pub source_line: usize,
    /// `file:line` of `score:` in policy.yaml.
    pub source: String,
}

/// An environment's `gates:` section.
#[derive(Debug, Clone, Default)]
pub(crate) struct GateRules {
    pub gates: Vec<Gate>,
    /// Without a score, every failed gate denies (as if every gate were key).
    pub score: Option<Score>,
    /// `file:line` of the section.
    pub source: String,
}

impl MissingData {
    /// Every policy, in the order listed to authors.
    pub const ALL: [MissingData; 3] = [
        MissingData::Fail,
        MissingData::Inconclusive,
        MissingData::Pass,
    ];

    /// The name policies use (`inconclusive`).
    pub fn name(self) -> &'static str {
        match self {
            MissingData::Fail => "fail",
            MissingData::Inconclusive => "inconclusive",
            MissingData::Pass => "pass",
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// How a gate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pass,
    Warn,
    Fail,
    Inconclusive,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Inconclusive => "inconclusive",
        }
    }

    /// Its part of the score (`None`: not counted).
    fn points(self) -> Option<f64> {
        match self {
            Status::Pass => Some(1.0),
            Status::Warn => Some(0.5),
            Status::Fail => Some(0.0),
            Status::Inconclusive => None,
        }
    }
}

/// Why a gate's data could not be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataProblem {
    /// A NaN in the window (`on_nan`).
    Nan,
    /// Fewer values than needed, or no aggregate (`on_missing`).
    Missing,
    /// A relative bound without a baseline value (`on_missing`).
    NoBaseline,
}

impl DataProblem {
    pub fn name(self) -> &'static str {
        match self {
            DataProblem::Nan => "nan",
            DataProblem::Missing => "missing",
            DataProblem::NoBaseline => "no baseline",
        }
    }
}

/// One bound, by the key that sets it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Crossed {
    /// `max`, `min`, `max_increase`, ... `warn_decrease`.
    pub key: &'static str,
    /// The limit the value was compared with (for a relative bound, computed from the
    /// baseline).
    pub limit: f64,
    /// The bound as written (for a relative one, the fraction).
    pub setting: f64,
    /// `>` or `<`.
    pub op: &'static str,
}

/// What one gate found.
#[derive(Debug, Clone)]
pub(crate) struct GateResult {
    pub name: String,
    pub status: Status,
    /// The aggregate (`None`: no data; NaN when the window held a NaN).
    pub observed: Option<f64>,
    /// The baseline's aggregate, for a gate with a relative bound.
    pub baseline: Option<f64>,
    pub agg: Aggregate,
    /// The values needed.
    pub min_samples: usize,
    /// Set when the status comes from `on_missing` / `on_nan`.
    pub problem: Option<DataProblem>,
    /// The bound crossed (fail or warn).
    pub crossed: Option<Crossed>,
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub aggregation: Aggregation,
    pub window: TimeDelta,
    pub weight: f64,
    pub key: bool,
    pub bounds: Bounds,
    pub relative: Relative,
    pub source: String,
}

/// `details.gates`, kept in an owned form and written as JSON when read.
#[derive(Debug, Clone, Default)]
pub(crate) struct GatesRecord {
    pub score: Option<f64>,
    pub pass: Option<f64>,
    pub warn: Option<f64>,
    pub results: Vec<GateResult>,
    /// `file:line` of the `gates:` section (`None`: the environment has none).
    pub source: Option<String>,
}

/// A number as JSON: `null` when it is not finite (NaN).
fn num(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

/// A number for people: at most 6 significant digits, no trailing zeros (`1.62`, `300`,
/// `0.000123`).
pub(crate) fn show(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let magnitude = v.abs().log10().floor();
    if !(-6.0..15.0).contains(&magnitude) {
        return format!("{v:e}");
    }
    // 0 ..= 11 decimals: six significant digits.
    let decimals = (5.0 - magnitude).clamp(0.0, 11.0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A fraction as a percentage (`0.1` -> `10%`).
fn percent(v: f64) -> String {
    format!("{}%", show(v * 100.0))
}

/// `metric{k=v,...}`.
fn series_name(metric: &str, labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        return metric.to_owned();
    }
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{metric}{{{}}}", parts.join(","))
}

fn samples_text(n: usize) -> String {
    if n == 1 {
        "1 sample".to_owned()
    } else {
        format!("{n} samples")
    }
}

impl Bounds {
    fn to_json(self, out: &mut Map<String, Value>) {
        for (k, v) in [
            ("max", self.max),
            ("warn_max", self.warn_max),
            ("min", self.min),
            ("warn_min", self.warn_min),
        ] {
            if let Some(v) = v {
                out.insert(k.into(), Value::from(v));
            }
        }
    }
}

impl Relative {
    fn to_json(self, out: &mut Map<String, Value>) {
        for (k, v) in [
            ("max_increase", self.max_increase),
            ("warn_increase", self.warn_increase),
            ("max_decrease", self.max_decrease),
            ("warn_decrease", self.warn_decrease),
        ] {
            if let Some(v) = v {
                out.insert(k.into(), Value::from(v));
            }
        }
    }
}

/// The first bound `value` crosses among `max`, `min`, `max_increase`, `max_decrease` (with
/// `warn`: their `warn_` forms).
fn first_crossed(
    value: f64,
    bounds: &Bounds,
    relative: &Relative,
    baseline: Option<f64>,
    warn: bool,
) -> Option<Crossed> {
    let (max, min, inc, dec) = if warn {
        (
            ("warn_max", bounds.warn_max),
            ("warn_min", bounds.warn_min),
            ("warn_increase", relative.warn_increase),
            ("warn_decrease", relative.warn_decrease),
        )
    } else {
        (
            ("max", bounds.max),
            ("min", bounds.min),
            ("max_increase", relative.max_increase),
            ("max_decrease", relative.max_decrease),
        )
    };
    let above = |(key, limit): (&'static str, Option<f64>), setting: Option<f64>| {
        limit.filter(|l| value > *l).map(|limit| Crossed {
            key,
            limit,
            setting: setting.unwrap_or(limit),
            op: ">",
        })
    };
    let below = |(key, limit): (&'static str, Option<f64>), setting: Option<f64>| {
        limit.filter(|l| value < *l).map(|limit| Crossed {
            key,
            limit,
            setting: setting.unwrap_or(limit),
            op: "<",
        })
    };
    let up = baseline.and_then(|b| inc.1.map(|x| b + b.abs() * x));
    let down = baseline.and_then(|b| dec.1.map(|x| b - b.abs() * x));
    above(max, None)
        .or_else(|| below(min, None))
        .or_else(|| above((inc.0, up), inc.1))
        .or_else(|| below((dec.0, down), dec.1))
}

impl Gate {
    /// The values needed in the window: `max(min_samples, 1)`, `min_samples` for `count`.
    fn needed(&self) -> usize {
        if self.aggregation == Aggregation::Count {
            self.min_samples
        } else {
            self.min_samples.max(1)
        }
    }

    /// Evaluates the gate over `telemetry` at `now_ms`.
    fn evaluate(&self, telemetry: &Telemetry, now_ms: i64) -> GateResult {
        let len = self.window.num_milliseconds();
        let samples = telemetry.measurements().select(&self.selector);
        let agg = aggregate(window(&samples, now_ms, len), self.aggregation);
        let baseline = if self.relative.is_set() {
            let base = telemetry.baseline().select(&self.selector);
            aggregate(window(&base, now_ms, len), self.aggregation).value
        } else {
            None
        };
        let needed = self.needed();
        let mut result = GateResult {
            name: self.name.clone(),
            status: Status::Pass,
            observed: agg.value,
            baseline,
            agg,
            min_samples: needed,
            problem: None,
            crossed: None,
            metric: self.selector.metric.clone(),
            labels: self.selector.labels.clone(),
            aggregation: self.aggregation,
            window: self.window,
            weight: self.weight,
            key: self.key,
            bounds: self.bounds,
            relative: self.relative,
            source: self.source.clone(),
        };
        let problem = if agg.nan > 0 {
            Some((DataProblem::Nan, self.on_nan))
        } else if agg.samples < needed || agg.value.is_none() {
            Some((DataProblem::Missing, self.on_missing))
        } else if self.relative.is_set() && !baseline.is_some_and(f64::is_finite) {
            Some((DataProblem::NoBaseline, self.on_missing))
        } else {
            None
        };
        if let Some((problem, policy)) = problem {
            // Without a baseline an absolute bound can still be judged: its failure is not
            // hidden behind the missing baseline.
            let absolute = agg
                .value
                .filter(|_| problem == DataProblem::NoBaseline)
                .and_then(|v| first_crossed(v, &self.bounds, &Relative::default(), None, false));
            if let Some(c) = absolute {
                result.status = Status::Fail;
                result.crossed = Some(c);
                return result;
            }
            result.problem = Some(problem);
            result.status = match policy {
                MissingData::Fail => Status::Fail,
                MissingData::Inconclusive => Status::Inconclusive,
                MissingData::Pass => Status::Pass,
            };
            return result;
        }
        let Some(value) = agg.value else {
            // Ruled out above (no value is missing data); kept total rather than assumed.
            result.problem = Some(DataProblem::Missing);
            result.status = Status::Inconclusive;
            return result;
        };
        let baseline = baseline.filter(|_| self.relative.is_set());
        if let Some(c) = first_crossed(value, &self.bounds, &self.relative, baseline, false) {
            result.status = Status::Fail;
            result.crossed = Some(c);
        } else if let Some(c) = first_crossed(value, &self.bounds, &self.relative, baseline, true) {
            result.status = Status::Warn;
            result.crossed = Some(c);
        }
        result
    }
}

impl GateResult {
    /// `p95 of latency_seconds{path=generated} over 5m`.
    fn what(&self) -> String {
        format!(
            "{} of {} over {}",
            self.aggregation,
            series_name(&self.metric, &self.labels),
            crate::time::format_duration(self.window)
        )
    }

    /// The bounds as JSON: `{max: 1.5, warn_max: 1.2, max_increase: 0.1}` (those set).
    fn threshold_json(&self) -> Value {
        let mut t = Map::new();
        self.bounds.to_json(&mut t);
        self.relative.to_json(&mut t);
        Value::Object(t)
    }

    /// Why the data could not be judged, for messages.
    fn problem_text(&self, problem: DataProblem) -> String {
        let what = self.what();
        match problem {
            DataProblem::Nan => format!(
                "{what} has {} NaN value{} ({} usable)",
                self.agg.nan,
                if self.agg.nan == 1 { "" } else { "s" },
                samples_text(self.agg.samples)
            ),
            DataProblem::Missing if self.agg.samples < self.min_samples => format!(
                "{what} has {}, fewer than the {} needed{}",
                samples_text(self.agg.samples),
                self.min_samples,
                if self.agg.missing > 0 {
                    format!(" ({} without a value)", self.agg.missing)
                } else {
                    String::new()
                }
            ),
            DataProblem::Missing => {
                format!("{what} has no value ({})", samples_text(self.agg.samples))
            }
            DataProblem::NoBaseline => format!(
                "{what} has no baseline to compare with ({} in the window)",
                samples_text(self.agg.samples)
            ),
        }
    }

    /// `is 1.62 > max 1.5`, or for a relative bound `is 1.3 > 1.21 (max_increase 10% over the
    /// baseline 1.1)`.
    fn crossed_text(&self, c: &Crossed) -> String {
        let observed = show(self.observed.unwrap_or(f64::NAN));
        if c.key.ends_with("increase") || c.key.ends_with("decrease") {
            format!(
                "is {observed} {} {} ({} {} over the baseline {})",
                c.op,
                show(c.limit),
                c.key,
                percent(c.setting),
                show(self.baseline.unwrap_or(f64::NAN))
            )
        } else {
            format!("is {observed} {} {} {}", c.op, c.key, show(c.limit))
        }
    }

    /// The finding's details: `{gate, metric, labels?, aggregation, window, observed,
    /// baseline?, threshold, samples, missing, nan, min_samples, key, weight, reason?,
    /// bound?, limit?}`.
    fn finding_details(&self) -> Map<String, Value> {
        let mut d = Map::new();
        d.insert("gate".into(), self.name.clone().into());
        d.insert("metric".into(), self.metric.clone().into());
        if !self.labels.is_empty() {
            d.insert("labels".into(), self.labels_json());
        }
        d.insert("aggregation".into(), self.aggregation.name().into());
        d.insert(
            "window".into(),
            crate::time::format_duration(self.window).into(),
        );
        d.insert("observed".into(), num(self.observed));
        if self.relative.is_set() {
            d.insert("baseline".into(), num(self.baseline));
        }
        d.insert("threshold".into(), self.threshold_json());
        d.insert("samples".into(), self.agg.samples.into());
        d.insert("missing".into(), self.agg.missing.into());
        d.insert("nan".into(), self.agg.nan.into());
        d.insert("min_samples".into(), self.min_samples.into());
        d.insert("key".into(), self.key.into());
        d.insert("weight".into(), self.weight.into());
        if let Some(p) = self.problem {
            d.insert("reason".into(), p.name().into());
        }
        if let Some(c) = &self.crossed {
            d.insert("bound".into(), c.key.into());
            d.insert("limit".into(), Value::from(c.limit));
        }
        d
    }

    fn labels_json(&self) -> Value {
        Value::Object(
            self.labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect(),
        )
    }

    /// Its entry in `details.gates.results`.
    fn to_json(&self) -> Value {
        let mut d = Map::new();
        d.insert("name".into(), self.name.clone().into());
        d.insert("status".into(), self.status.name().into());
        d.insert("observed".into(), num(self.observed));
        d.insert("baseline".into(), num(self.baseline));
        d.insert("samples".into(), self.agg.samples.into());
        d.insert("missing".into(), self.agg.missing.into());
        d.insert("nan".into(), self.agg.nan.into());
        d.insert("min_samples".into(), self.min_samples.into());
        d.insert("metric".into(), self.metric.clone().into());
        if !self.labels.is_empty() {
            d.insert("labels".into(), self.labels_json());
        }
        d.insert("aggregation".into(), self.aggregation.name().into());
        d.insert(
            "window".into(),
            crate::time::format_duration(self.window).into(),
        );
        d.insert("threshold".into(), self.threshold_json());
        d.insert("weight".into(), self.weight.into());
        d.insert("key".into(), self.key.into());
        d.insert(
            "reason".into(),
            self.problem.map_or(Value::Null, |p| p.name().into()),
        );
        d.insert(
            "bound".into(),
            self.crossed.map_or(Value::Null, |c| c.key.into()),
        );
        d.insert("source".into(), self.source.clone().into());
        Value::Object(d)
    }

    /// The gate's finding, if it has one; `scored`: the section has `score:`.
    fn finding(&self, scored: bool) -> Option<Finding> {
        let name = crate::error::quote(&self.name);
        let (rule, severity, message) = match (self.status, self.problem) {
            (Status::Pass, None) => return None,
            (Status::Pass, Some(p)) => (
                NO_DATA,
                Severity::Warn,
                format!(
                    "gate `{name}` taken as passed ({}: pass) although {}",
                    policy_key(p),
                    self.problem_text(p)
                ),
            ),
            (Status::Inconclusive, p) => {
                let p = p.unwrap_or(DataProblem::Missing);
                (
                    INCONCLUSIVE,
                    Severity::Pending,
                    format!(
                        "gate `{name}` is inconclusive ({}: inconclusive): {}",
                        policy_key(p),
                        self.problem_text(p)
                    ),
                )
            }
            (Status::Warn, _) => (
                WARNING,
                Severity::Warn,
                format!(
                    "gate `{name}` warns: {} {} ({})",
                    self.what(),
                    self.crossed
                        .map(|c| self.crossed_text(&c))
                        .unwrap_or_default(),
                    samples_text(self.agg.samples)
                ),
            ),
            (Status::Fail, p) => {
                let severity = if self.key || !scored {
                    Severity::Deny
                } else {
                    Severity::Warn
                };
                let body = match (p, self.crossed) {
                    (Some(p), _) => {
                        format!(" ({}: fail): {}", policy_key(p), self.problem_text(p))
                    }
                    (None, Some(c)) => format!(
                        ": {} {} ({})",
                        self.what(),
                        self.crossed_text(&c),
                        samples_text(self.agg.samples)
                    ),
                    (None, None) => format!(": {}", self.what()),
                };
                let tail = match (self.key, scored) {
                    (true, _) => "; a key gate fails the evaluation",
                    (false, true) => "; the score decides",
                    (false, false) => "",
                };
                (
                    FAILED,
                    severity,
                    format!("gate `{name}` failed{body}{tail}"),
                )
            }
        };
        let mut f = Finding::new(rule, severity, message, Some(self.source.clone()));
        f.details = self.finding_details();
        Some(f)
    }
}

/// The key that set the policy applied for `problem`.
fn policy_key(problem: DataProblem) -> &'static str {
    match problem {
        DataProblem::Nan => "on_nan",
        DataProblem::Missing | DataProblem::NoBaseline => "on_missing",
    }
}

impl GatesRecord {
    /// `details.gates`: `{score, pass, warn, results}`.
    pub fn to_json(&self) -> Value {
        let mut d = Map::new();
        d.insert("score".into(), num(self.score));
        d.insert("pass".into(), num(self.pass));
        d.insert("warn".into(), num(self.warn));
        d.insert(
            "results".into(),
            Value::Array(self.results.iter().map(GateResult::to_json).collect()),
        );
        d.insert(
            "source".into(),
            self.source.clone().map_or(Value::Null, Value::from),
        );
        Value::Object(d)
    }
}

/// The weighted score of `results`' conclusive gates; `None` when none is (or their weights
/// sum to zero).
fn score(results: &[GateResult]) -> Option<f64> {
    let (mut sum, mut weights) = (0.0, 0.0);
    for r in results {
        if let Some(p) = r.status.points() {
            sum += r.weight * p;
            weights += r.weight;
        }
    }
    (weights > 0.0).then(|| sum / weights)
}

impl GateRules {
    /// Evaluates every gate over `telemetry` at `now`, pushing their findings (and the
    /// score's) to `out`; returns what `details.gates` shows.
    pub fn evaluate(
        &self,
        telemetry: &Telemetry,
        now: DateTime<Utc>,
        out: &mut Vec<Finding>,
    ) -> GatesRecord {
        let now_ms = millis(now);
        let results: Vec<GateResult> = self
            .gates
            .iter()
            .map(|g| g.evaluate(telemetry, now_ms))
            .collect();
        let scored = self.score.is_some();
        out.extend(results.iter().filter_map(|r| r.finding(scored)));
        let total = score(&results);
        if let (Some(s), Some(t)) = (total, self.score.as_ref()) {
            let counts = |st: Status| results.iter().filter(|r| r.status == st).count();
            let summary = format!(
                "{} passed, {} warned, {} failed, {} inconclusive",
                counts(Status::Pass),
                counts(Status::Warn),
                counts(Status::Fail),
                counts(Status::Inconclusive)
            );
            let finding = if s < t.warn {
                Some((
                    Severity::Deny,
                    format!(
                        "gate score {} is below the warn threshold {} (pass {}): {summary}",
                        show(s),
                        show(t.warn),
                        show(t.pass)
                    ),
                ))
            } else if s < t.pass {
                Some((
                    Severity::Warn,
                    format!(
                        "gate score {} is below the pass threshold {} (warn {}): {summary}",
                        show(s),
                        show(t.pass),
                        show(t.warn)
                    ),
                ))
            } else {
                None
            };
            if let Some((severity, message)) = finding {
                out.push(
                    Finding::new(SCORE, severity, message, Some(t.source.clone()))
                        .with_detail("score", s)
                        .with_detail("pass", t.pass)
                        .with_detail("warn", t.warn),
                );
            }
        }
        GatesRecord {
            score: total,
            pass: self.score.as_ref().map(|s| s.pass),
            warn: self.score.as_ref().map(|s| s.warn),
            results,
            source: Some(self.source.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Measurement;

    const NOW: &str = "2026-12-01T10:00:00Z";

    fn at(offset_secs: i64) -> DateTime<Utc> {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339(NOW).unwrap().into();
        now + TimeDelta::seconds(offset_secs)
    }

    fn now() -> DateTime<Utc> {
        at(0)
    }

    fn gate(name: &str, agg: Aggregation) -> Gate {
        Gate {
            name: name.into(),
            selector: Selector::metric("lat"),
            aggregation: agg,
            window: TimeDelta::minutes(5),
            bounds: Bounds::default(),
            relative: Relative::default(),
            min_samples: if agg == Aggregation::Count { 0 } else { 1 },
            weight: 1.0,
            key: false,
            on_missing: MissingData::Inconclusive,
            on_nan: MissingData::Inconclusive,
            source: format!("p.yaml:{}", name.len()),
        }
    }

    fn with_max(mut g: Gate, max: f64, warn_max: Option<f64>) -> Gate {
        g.bounds.max = Some(max);
        g.bounds.warn_max = warn_max;
        g
    }

    /// Measurements of `lat` at -60s, -50s, ... with these values.
    fn series(values: &[Option<f64>]) -> Vec<Measurement> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Measurement::new("lat", at(-60 + 10 * i as i64), *v))
            .collect()
    }

    fn run(rules: &GateRules, t: &Telemetry) -> (Vec<Finding>, GatesRecord) {
        let mut out = Vec::new();
        let record = rules.evaluate(t, now(), &mut out);
        (out, record)
    }

    fn one(g: Gate, t: &Telemetry) -> (Vec<Finding>, GateResult) {
        let rules = GateRules {
            gates: vec![g],
            score: None,
            source: "p.yaml:3".into(),
        };
        let (out, mut record) = run(&rules, t);
        (out, record.results.remove(0))
    }

    fn rules_of(out: &[Finding]) -> Vec<(&str, Severity)> {
        out.iter().map(|f| (f.rule.as_str(), f.severity)).collect()
    }

    #[test]
    fn bounds_are_inclusive_and_warn_bands_warn() {
        let t = Telemetry::new(series(&[Some(1.0), Some(1.5)]));
        let g = || with_max(gate("lat", Aggregation::Max), 1.5, Some(1.2));
        let (out, r) = one(g(), &t);
        assert_eq!(r.status, Status::Warn);
        assert_eq!(rules_of(&out), [(WARNING, Severity::Warn)]);
        assert_eq!(r.crossed.unwrap().key, "warn_max");
        assert!(
            out[0]
                .message
                .contains("max of lat over 5m is 1.5 > warn_max 1.2 (2 samples)"),
            "{}",
            out[0].message
        );
        // == max passes the fail bound (it warns here), just over fails.
        let t = Telemetry::new(series(&[Some(1.0), Some(1.5000001)]));
        let (out, r) = one(g(), &t);
        assert_eq!(r.status, Status::Fail);
        assert_eq!(rules_of(&out), [(FAILED, Severity::Deny)]);
        assert_eq!(out[0].details["bound"], "max");
        assert_eq!(out[0].details["threshold"]["max"], 1.5);
        assert_eq!(out[0].details["samples"], 2);
        let t = Telemetry::new(series(&[Some(1.0), Some(1.2)]));
        let (out, r) = one(g(), &t);
        assert_eq!((r.status, out.len()), (Status::Pass, 0));
    }

    #[test]
    fn min_bounds_fail_below_and_warn_in_their_band() {
        let mut g = gate("hits", Aggregation::Avg);
        g.bounds.min = Some(0.8);
        g.bounds.warn_min = Some(0.85);
        for (v, status) in [
            (0.8, Status::Warn),
            (0.79, Status::Fail),
            (0.85, Status::Pass),
            (0.9, Status::Pass),
        ] {
            let (_, r) = one(g.clone(), &Telemetry::new(series(&[Some(v)])));
            assert_eq!(r.status, status, "{v}");
        }
        let (out, _) = one(g, &Telemetry::new(series(&[Some(0.5)])));
        assert!(
            out[0].message.contains("is 0.5 < min 0.8"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn relative_bounds_compare_with_the_baseline() {
        let mut g = gate("lat", Aggregation::Avg);
        g.relative.max_increase = Some(0.5);
        g.relative.warn_increase = Some(0.25);
        let base = series(&[Some(2.0)]);
        let with = |v: f64| Telemetry::new(series(&[Some(v)])).with_baseline(base.clone());
        assert_eq!(one(g.clone(), &with(3.0)).1.status, Status::Warn);
        assert_eq!(one(g.clone(), &with(2.5)).1.status, Status::Pass);
        let (out, r) = one(g.clone(), &with(3.5));
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.baseline, Some(2.0));
        assert_eq!(out[0].details["baseline"], 2.0);
        assert_eq!(out[0].details["limit"], 3.0);
        assert!(
            out[0]
                .message
                .contains("is 3.5 > 3 (max_increase 50% over the baseline 2)"),
            "{}",
            out[0].message
        );
        // No baseline: on_missing, with the reason.
        let (out, r) = one(g.clone(), &Telemetry::new(series(&[Some(2.0)])));
        assert_eq!(r.status, Status::Inconclusive);
        assert_eq!(r.problem, Some(DataProblem::NoBaseline));
        assert_eq!(out[0].details["reason"], "no baseline");
        assert_eq!(rules_of(&out), [(INCONCLUSIVE, Severity::Pending)]);
        // A NaN baseline is no baseline either.
        let t = Telemetry::new(series(&[Some(2.0)])).with_baseline(series(&[Some(f64::NAN)]));
        assert_eq!(one(g.clone(), &t).1.problem, Some(DataProblem::NoBaseline));
        // Without a baseline an absolute bound still fails on its own.
        let mut both = g.clone();
        both.bounds.max = Some(2.5);
        let (out, r) = one(both.clone(), &Telemetry::new(series(&[Some(3.0)])));
        assert_eq!((r.status, r.problem), (Status::Fail, None));
        assert_eq!(out[0].details["bound"], "max");
        let (_, r) = one(both, &Telemetry::new(series(&[Some(2.0)])));
        assert_eq!(r.problem, Some(DataProblem::NoBaseline));
        // Decreases.
        let mut d = gate("thr", Aggregation::Avg);
        d.relative.max_decrease = Some(0.5);
        let with = |v: f64| Telemetry::new(series(&[Some(v)])).with_baseline(base.clone());
        assert_eq!(one(d.clone(), &with(1.0)).1.status, Status::Pass);
        assert_eq!(one(d, &with(0.9)).1.status, Status::Fail);
    }

    #[test]
    fn missing_data_follows_on_missing() {
        let mut g = with_max(gate("lat", Aggregation::P95), 1.0, None);
        g.min_samples = 3;
        let t = Telemetry::new(series(&[Some(0.1), None, Some(0.2)]));
        for (policy, status, finding) in [
            (
                MissingData::Inconclusive,
                Status::Inconclusive,
                Some((INCONCLUSIVE, Severity::Pending)),
            ),
            (
                MissingData::Fail,
                Status::Fail,
                Some((FAILED, Severity::Deny)),
            ),
            (
                MissingData::Pass,
                Status::Pass,
                Some((NO_DATA, Severity::Warn)),
            ),
        ] {
            g.on_missing = policy;
            let (out, r) = one(g.clone(), &t);
            assert_eq!(r.status, status, "{policy:?}");
            assert_eq!(r.problem, Some(DataProblem::Missing));
            assert_eq!(rules_of(&out), finding.into_iter().collect::<Vec<_>>());
            assert_eq!(out[0].details["samples"], 2);
            assert_eq!(out[0].details["missing"], 1);
            assert_eq!(out[0].details["min_samples"], 3);
            assert_eq!(out[0].details["observed"], 0.2);
            assert!(
                out[0]
                    .message
                    .contains("has 2 samples, fewer than the 3 needed (1 without a value)"),
                "{}",
                out[0].message
            );
        }
        // Enough samples: judged.
        g.min_samples = 2;
        assert_eq!(one(g, &t).1.status, Status::Pass);
    }

    #[test]
    fn nan_follows_on_nan() {
        let mut g = with_max(gate("lat", Aggregation::Avg), 1.0, None);
        let t = Telemetry::new(series(&[Some(0.1), Some(f64::NAN)]));
        for (policy, status, rule) in [
            (
                MissingData::Inconclusive,
                Status::Inconclusive,
                INCONCLUSIVE,
            ),
            (MissingData::Fail, Status::Fail, FAILED),
            (MissingData::Pass, Status::Pass, NO_DATA),
        ] {
            g.on_nan = policy;
            let (out, r) = one(g.clone(), &t);
            assert_eq!((r.status, r.problem), (status, Some(DataProblem::Nan)));
            assert_eq!(out[0].rule.as_str(), rule);
            assert_eq!(out[0].details["nan"], 1);
            assert_eq!(out[0].details["observed"], Value::Null);
            assert!(out[0].message.contains("on_nan"), "{}", out[0].message);
        }
        // NaN never passes silently even with enough other samples and on_missing: pass.
        g.on_nan = MissingData::Inconclusive;
        g.on_missing = MissingData::Pass;
        assert_eq!(one(g, &t).1.status, Status::Inconclusive);
    }

    #[test]
    fn count_gates_need_no_sample_and_rate_needs_two() {
        let mut g = gate("reqs", Aggregation::Count);
        g.bounds.min = Some(1.0);
        let (out, r) = one(g.clone(), &Telemetry::default());
        assert_eq!((r.status, r.observed), (Status::Fail, Some(0.0)));
        assert_eq!(out[0].details["bound"], "min");
        g.bounds.min = None;
        g.bounds.max = Some(0.0);
        assert_eq!(one(g, &Telemetry::default()).1.status, Status::Pass);
        let g = with_max(gate("r", Aggregation::Rate), 10.0, None);
        let (_, r) = one(g.clone(), &Telemetry::new(series(&[Some(1.0)])));
        assert_eq!(
            (r.status, r.problem),
            (Status::Inconclusive, Some(DataProblem::Missing))
        );
        let (_, r) = one(g, &Telemetry::new(series(&[Some(1.0), Some(2.0)])));
        assert_eq!((r.status, r.observed), (Status::Pass, Some(0.1)));
    }

    #[test]
    fn the_window_ends_at_now_and_excludes_its_start_and_the_future() {
        let g = with_max(gate("lat", Aggregation::Max), 1.0, None);
        let t = Telemetry::new(vec![
            Measurement::new("lat", at(-300), Some(9.0)),
            Measurement::new("lat", at(-299), Some(0.5)),
            Measurement::new("lat", at(0), Some(0.7)),
            Measurement::new("lat", at(1), Some(9.0)),
        ]);
        let (_, r) = one(g, &t);
        assert_eq!(
            (r.status, r.observed, r.agg.samples),
            (Status::Pass, Some(0.7), 2)
        );
    }

    #[test]
    fn labels_select_series() {
        let mut g = with_max(gate("lat", Aggregation::Max), 1.0, None);
        g.selector.labels = vec![("path".into(), "cached".into())];
        let t = Telemetry::new(vec![
            Measurement::new("lat", at(-10), Some(0.2)).with_label("path", "cached"),
            Measurement::new("lat", at(-10), Some(5.0)).with_label("path", "generated"),
        ]);
        let (out, r) = one(g.clone(), &t);
        assert_eq!((r.status, r.observed), (Status::Pass, Some(0.2)));
        assert!(out.is_empty());
        g.bounds.max = Some(0.1);
        let (out, _) = one(g, &t);
        assert!(
            out[0].message.contains("max of lat{path=cached} over 5m"),
            "{}",
            out[0].message
        );
        assert_eq!(out[0].details["labels"]["path"], "cached");
    }

    #[test]
    fn the_score_weighs_conclusive_gates_and_key_gates_deny() {
        let t = Telemetry::new(vec![
            Measurement::new("a", at(-10), Some(2.0)),
            Measurement::new("b", at(-10), Some(1.0)),
            Measurement::new("c", at(-10), Some(1.0)),
        ]);
        let g = |name: &str, weight: f64| {
            let mut g = with_max(gate(name, Aggregation::Last), 1.5, Some(0.5));
            g.selector = Selector::metric(name);
            g.weight = weight;
            g
        };
        // a fails (0), b and c warn (0.5): (0*2 + 0.5 + 0.5) / 4 = 0.25.
        let mut rules = GateRules {
            gates: vec![g("a", 2.0), g("b", 1.0), g("c", 1.0), g("d", 5.0)],
            score: Some(Score {
                pass: 0.9,
                warn: 0.25,
                source_line: 2,
                source: "p.yaml:2".into(),
            }),
            source: "p.yaml:1".into(),
        };
        let (out, record) = run(&rules, &t);
        assert_eq!(record.score, Some(0.25));
        assert_eq!(
            rules_of(&out),
            [
                (FAILED, Severity::Warn),
                (WARNING, Severity::Warn),
                (WARNING, Severity::Warn),
                (INCONCLUSIVE, Severity::Pending),
                (SCORE, Severity::Warn),
            ]
        );
        assert!(
            out[0].message.ends_with("; the score decides"),
            "{}",
            out[0].message
        );
        assert_eq!(out[4].source.as_deref(), Some("p.yaml:2"));
        // Just below warn: deny.
        rules.score.as_mut().unwrap().warn = 0.26;
        let (out, _) = run(&rules, &t);
        assert_eq!(out[4].severity, Severity::Deny);
        assert!(
            out[4].message.contains("below the warn threshold 0.26"),
            "{}",
            out[4].message
        );
        // A key gate denies whatever the score.
        rules.score.as_mut().unwrap().warn = 0.0;
        rules.score.as_mut().unwrap().pass = 0.0;
        rules.gates[0].key = true;
        let (out, _) = run(&rules, &t);
        assert_eq!(rules_of(&out)[0], (FAILED, Severity::Deny));
        assert_eq!(out.len(), 4);
        // Without a score every failed gate denies; the score is still reported.
        rules.score = None;
        rules.gates[0].key = false;
        let (out, record) = run(&rules, &t);
        assert_eq!(rules_of(&out)[0], (FAILED, Severity::Deny));
        assert_eq!(record.score, Some(0.25));
        let json = record.to_json();
        assert_eq!(json["pass"], Value::Null);
        assert_eq!(json["results"][3]["status"], "inconclusive");
        assert_eq!(json["results"][0]["bound"], "max");
        assert_eq!(json["results"][0]["observed"], 2.0);
    }

    #[test]
    fn no_conclusive_gate_means_no_score() {
        let rules = GateRules {
            gates: vec![with_max(gate("lat", Aggregation::Avg), 1.0, None)],
            score: Some(Score {
                pass: 0.9,
                warn: 0.5,
                source_line: 2,
                source: "p.yaml:2".into(),
            }),
            source: "p.yaml:1".into(),
        };
        let (out, record) = run(&rules, &Telemetry::default());
        assert_eq!(record.score, None);
        assert_eq!(rules_of(&out), [(INCONCLUSIVE, Severity::Pending)]);
        assert_eq!(record.to_json()["score"], Value::Null);
    }

    #[test]
    fn numbers_are_shown_short() {
        assert_eq!(show(1.62), "1.62");
        assert_eq!(show(300.0), "300");
        assert_eq!(show(0.1 + 0.2), "0.3");
        assert_eq!(show(0.000123), "0.000123");
        assert_eq!(show(-2.5), "-2.5");
        assert_eq!(show(f64::NAN), "NaN");
        assert_eq!(percent(0.1), "10%");
    }
}
