//! The evidence of the gates and rollback questions, as given: measurements (`{metric, at,
//! value, labels}`; `value` may be missing or NaN), events (`{kind, at, source}`) and the
//! rollbacks already performed (`{level, at}`). [`crate::Telemetry`] indexes them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One measurement of a metric at an instant.
///
/// `value` is `None` when the source had no data for that instant (an empty query result);
/// it may also be NaN. Neither is ever counted as a good value: the gate or trigger that reads
/// it applies its missing-data policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// The metric's name (`error_rate`).
    pub metric: String,
    /// When it was measured.
    pub at: DateTime<Utc>,
    /// The value; `None`: the source had no data.
    pub value: Option<f64>,
    /// The series' labels (`{path: cached}`); gates and triggers select series by them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Measurement {
    /// A measurement without labels.
    pub fn new(
        metric: impl Into<String>,
        at: impl Into<DateTime<Utc>>,
        value: Option<f64>,
    ) -> Self {
        Self {
            metric: metric.into(),
            at: at.into(),
            value,
            labels: BTreeMap::new(),
        }
    }

    /// The same measurement with a label added.
    #[must_use]
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }
}

/// Something that happened that a rollback trigger may watch for: `security_failure`,
/// `health_check_failed`, `infrastructure_failure`, ... (any kind the policy names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// What happened (`security_failure`).
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who reported it (free text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Event {
    /// An event without a source.
    pub fn new(kind: impl Into<String>, at: impl Into<DateTime<Utc>>) -> Self {
        Self {
            kind: kind.into(),
            at: at.into(),
            source: None,
        }
    }
}

/// A rollback already performed: which level, and when it was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackDone {
    /// The level's name, as the policy's `rollback.levels` names it.
    pub level: String,
    /// When it was performed.
    pub at: DateTime<Utc>,
}

impl RollbackDone {
    /// A rollback to `level` performed at `at`.
    pub fn new(level: impl Into<String>, at: impl Into<DateTime<Utc>>) -> Self {
        Self {
            level: level.into(),
            at: at.into(),
        }
    }
}
