//! SLO gates: is the change healthy enough to continue or promote? Each gate reduces a metric
//! over a window ending at `now` ([`super::aggregate`]) and compares it with absolute
//! thresholds and/or thresholds relative to the baseline; the evaluation is pass, warn, fail
//! or inconclusive per gate plus a weighted score.
//!
//! TODO(gates helper): `evaluate`, its findings and `details.gates`.

use chrono::TimeDelta;

use super::aggregate::Aggregation;
use crate::telemetry::Selector;

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
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Score {
    pub pass: f64,
    pub warn: f64,
    pub source_line: usize,
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
