//! Evidence the risk question reads: validation results (what pre-deployment checks found)
//! and past changes with their outcome (the history). changegate never runs a check or
//! watches a deployment itself; callers pass what they know.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ChangeRequest;

/// What a validation check reported.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ValidationStatus {
    /// The check passed.
    Passed,
    /// The check passed with a warning.
    Warning,
    /// The check did not run; it is not evidence of anything.
    Skipped,
    /// The check failed.
    Failed,
    /// The check could not complete; counts as failed.
    Error,
}

impl ValidationStatus {
    /// Every status, in the order they are listed to users.
    pub const ALL: [ValidationStatus; 5] = [
        ValidationStatus::Passed,
        ValidationStatus::Failed,
        ValidationStatus::Warning,
        ValidationStatus::Skipped,
        ValidationStatus::Error,
    ];

    /// `passed`, `failed`, `warning`, `skipped` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationStatus::Passed => "passed",
            ValidationStatus::Warning => "warning",
            ValidationStatus::Skipped => "skipped",
            ValidationStatus::Failed => "failed",
            ValidationStatus::Error => "error",
        }
    }

    /// The status named `name`, if any.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for ValidationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One result of a pre-deployment check, e.g. `{category: code_quality, check: coverage,
/// value: 0.83, at: ...}`.
///
/// The status may be given, derived from `value` by the policy's thresholds, or both: a
/// threshold in the policy always decides when there is a value (the policy, not the tool
/// that ran the check, says what passes).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ValidationResult {
    /// The category, e.g. `security`.
    pub category: String,
    /// The check inside the category, e.g. `coverage`.
    pub check: String,
    /// What the check reported, when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ValidationStatus>,
    /// A measured value, compared with the policy's thresholds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// When the check ran; results older than the policy's `max_age` are stale.
    pub at: DateTime<FixedOffset>,
    /// Where to read more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ValidationResult {
    /// A result with a status and no value.
    ///
    /// # Example
    /// ```
    /// use changegate::{ValidationResult, ValidationStatus};
    /// let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap();
    /// let r = ValidationResult::new("security", "sast", ValidationStatus::Passed, at);
    /// assert_eq!(r.status, Some(ValidationStatus::Passed));
    /// ```
    pub fn new(
        category: impl Into<String>,
        check: impl Into<String>,
        status: ValidationStatus,
        at: DateTime<FixedOffset>,
    ) -> Self {
        Self {
            category: category.into(),
            check: check.into(),
            status: Some(status),
            value: None,
            at,
            url: None,
        }
    }

    /// A measured result without a status: the policy's thresholds decide.
    pub fn measured(
        category: impl Into<String>,
        check: impl Into<String>,
        value: f64,
        at: DateTime<FixedOffset>,
    ) -> Self {
        Self {
            category: category.into(),
            check: check.into(),
            status: None,
            value: Some(value),
            at,
            url: None,
        }
    }
}

/// How a past change went.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeOutcome {
    /// It went as planned.
    Succeeded,
    /// It completed, with problems worth noting.
    SucceededWithIssues,
    /// It failed.
    Failed,
    /// It was rolled back.
    RolledBack,
}

impl ChangeOutcome {
    /// Every outcome.
    pub const ALL: [ChangeOutcome; 4] = [
        ChangeOutcome::Succeeded,
        ChangeOutcome::SucceededWithIssues,
        ChangeOutcome::Failed,
        ChangeOutcome::RolledBack,
    ];

    /// `succeeded`, `succeeded_with_issues`, `failed` or `rolled_back`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOutcome::Succeeded => "succeeded",
            ChangeOutcome::SucceededWithIssues => "succeeded_with_issues",
            ChangeOutcome::Failed => "failed",
            ChangeOutcome::RolledBack => "rolled_back",
        }
    }

    /// The outcome named `name`, if any.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the change counts as failed for the change failure rate: `failed` and
    /// `rolled_back`.
    pub fn is_failure(self) -> bool {
        matches!(self, ChangeOutcome::Failed | ChangeOutcome::RolledBack)
    }
}

impl fmt::Display for ChangeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad an incident was, `p1` (worst) to `p4`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum IncidentSeverity {
    /// Critical.
    P1,
    /// Major.
    P2,
    /// Minor.
    P3,
    /// Low.
    P4,
}

impl IncidentSeverity {
    /// Every severity, worst first.
    pub const ALL: [IncidentSeverity; 4] = [
        IncidentSeverity::P1,
        IncidentSeverity::P2,
        IncidentSeverity::P3,
        IncidentSeverity::P4,
    ];

    /// `p1`, `p2`, `p3` or `p4`.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentSeverity::P1 => "p1",
            IncidentSeverity::P2 => "p2",
            IncidentSeverity::P3 => "p3",
            IncidentSeverity::P4 => "p4",
        }
    }

    /// The severity named `name`, if any.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for IncidentSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incident a past change caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Incident {
    /// How bad it was.
    pub severity: IncidentSeverity,
    /// When it started, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<FixedOffset>>,
}

impl Incident {
    /// An incident of this severity.
    pub fn new(severity: IncidentSeverity, at: Option<DateTime<FixedOffset>>) -> Self {
        Self { severity, at }
    }
}

/// A past change: a calendar deployment plus how it went and the incidents it caused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The change, in the shape of a request.
    #[serde(flatten)]
    pub change: ChangeRequest,
    /// How it went.
    pub outcome: ChangeOutcome,
    /// Incidents it caused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<Incident>,
}

impl HistoryEntry {
    /// A past change with its outcome and no incident.
    pub fn new(change: ChangeRequest, outcome: ChangeOutcome) -> Self {
        Self {
            change,
            outcome,
            incidents: Vec::new(),
        }
    }

    /// Adds an incident it caused.
    pub fn with_incident(mut self, incident: Incident) -> Self {
        self.incidents.push(incident);
        self
    }
}

/// How risky a change is, in the order `low` < `medium` < `high` < `critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RiskLevel {
    /// Below the `medium` threshold.
    Low,
    /// At least the `medium` threshold.
    Medium,
    /// At least the `high` threshold.
    High,
    /// At least the `critical` threshold.
    Critical,
}

impl RiskLevel {
    /// Every level, lowest first.
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];

    /// `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }

    /// The level named `name`, if any.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
