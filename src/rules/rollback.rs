//! Rollback triggers and levels: should the change roll back, how far, by when? A trigger is a
//! condition on a metric aggregate, an event kind or a burn rate, sustained for a duration
//! before it fires; the decision names the level the firing triggers demand (escalating past
//! rollbacks already performed whose budget ran out) and its deadline.
//!
//! TODO(rollback helper): the sweep (condition state over time), the decision and
//! `details.rollback`.

use chrono::TimeDelta;

use super::aggregate::Aggregation;
use crate::telemetry::Selector;

/// A rollback level, in escalation order (the first is the lightest).
#[derive(Debug, Clone)]
pub(crate) struct Level {
    pub name: String,
    /// How long the rollback may take, from when it is demanded.
    pub budget: TimeDelta,
    pub source: String,
}

/// Strict comparison of a trigger's value with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `value > threshold`
    Above,
    /// `value < threshold`
    Below,
}

/// What a trigger watches.
#[derive(Debug, Clone)]
pub(crate) enum Condition {
    /// An aggregate of a metric over a window ending at each instant, above or below a
    /// threshold.
    Metric {
        selector: Selector,
        aggregation: Aggregation,
        window: TimeDelta,
        op: Op,
        threshold: f64,
    },
    /// At least `min_count` events of `kind` within the window.
    Event {
        kind: String,
        window: TimeDelta,
        min_count: usize,
    },
    /// Multi-window burn rate (SRE workbook): the metric is an error ratio; the burn rate over
    /// a window is its average divided by the error budget `1 - objective`; the condition holds
    /// when both the long and the short window burn faster than `factor`.
    BurnRate {
        selector: Selector,
        objective: f64,
        long: TimeDelta,
        short: TimeDelta,
        factor: f64,
    },
}

/// What a trigger does when its window holds no data (or a NaN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnMissing {
    /// The condition counts as holding.
    Fire,
    /// The condition counts as not holding.
    Ignore,
    /// Neither: the decision is `pending` ("keep watching") while the trigger has no data
    /// (the default).
    Inconclusive,
}

/// One trigger.
#[derive(Debug, Clone)]
pub(crate) struct Trigger {
    pub name: String,
    pub condition: Condition,
    /// How long the condition must hold without a break before the trigger fires (`for:`).
    pub sustain: TimeDelta,
    pub on_missing: OnMissing,
    /// The level it demands: an index into [`RollbackRules::levels`].
    pub level: usize,
    pub source: String,
}

/// An environment's `rollback:` section.
#[derive(Debug, Clone, Default)]
pub(crate) struct RollbackRules {
    pub levels: Vec<Level>,
    pub triggers: Vec<Trigger>,
    pub source: String,
}

impl RollbackRules {
    /// The index of the level named `name`.
    pub fn level(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.name == name)
    }
}
