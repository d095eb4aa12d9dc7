//! Plain data: change requests (and the scheduled deployments of a calendar, which have the
//! same shape), one-off blackouts, the evidence of the risk question (`evidence`) and of the
//! approvals question (`approvals`).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::Serialize;

use crate::time::{Interval, add_saturating, format_duration};

/// The identifier of a deployment (`dep-1042`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct DeploymentId(String);

impl DeploymentId {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for DeploymentId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for DeploymentId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for DeploymentId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A request to deploy, or a deployment already in the calendar.
///
/// Parse one with [`ChangeRequest::from_yaml`] (YAML or JSON text) or build it with
/// [`ChangeRequest::new`]. Times keep the offset they were written with; checks compare them
/// as UTC instants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRequest {
    /// Unique identifier.
    pub id: DeploymentId,
    /// The services the change touches (at least one).
    pub services: Vec<String>,
    /// Target environment, e.g. `production`.
    pub environment: String,
    /// Change type, e.g. `feature`, `hotfix`, `emergency`; policies match on it.
    #[serde(rename = "type")]
    pub change_type: String,
    /// When the change starts.
    pub start: DateTime<FixedOffset>,
    /// How long it occupies the services; the change occupies `[start, start + duration)`.
    #[serde(serialize_with = "ser_duration")]
    pub duration: TimeDelta,
    /// Who asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// When it was asked for; advance notice is measured from here (the check's `now` when
    /// absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<DateTime<FixedOffset>>,
    /// Deployments that must have finished before this one starts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DeploymentId>,
    /// Free-form data, visible to scripts.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, serde_json::Value>,
    /// What is deployed (a digest such as `sha256:...`); approvals may bind to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// Who wrote the change; like the requester, they cannot approve it unless a rule allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Who (or which bot) triggered it; cannot approve it unless a rule allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggered_by: Option<String>,
    /// Approvals and rejections given so far.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<Approval>,
    /// An emergency bypass, when one was invoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlass>,
}

fn ser_duration<S: serde::Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

impl ChangeRequest {
    /// A request with the required fields and nothing else.
    ///
    /// # Example
    /// ```
    /// use changegate::ChangeRequest;
    /// let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T22:00:00+01:00").unwrap();
    /// let req = ChangeRequest::new("dep-1", ["checkout"], "production", "feature", start, chrono::TimeDelta::hours(2));
    /// assert_eq!(req.end().to_rfc3339(), "2026-12-02T00:00:00+01:00");
    /// ```
    pub fn new<S: Into<String>>(
        id: impl Into<String>,
        services: impl IntoIterator<Item = S>,
        environment: impl Into<String>,
        change_type: impl Into<String>,
        start: DateTime<FixedOffset>,
        duration: TimeDelta,
    ) -> Self {
        Self {
            id: DeploymentId(id.into()),
            services: services.into_iter().map(Into::into).collect(),
            environment: environment.into(),
            change_type: change_type.into(),
            start,
            duration,
            requested_by: None,
            requested_at: None,
            depends_on: Vec::new(),
            labels: BTreeMap::new(),
            artifact: None,
            authors: Vec::new(),
            triggered_by: None,
            approvals: Vec::new(),
            break_glass: None,
        }
    }

    /// When the change ends (exclusive), in the offset of `start`: `start + duration`.
    ///
    /// Parsed requests always have an end far inside what chrono represents (durations read
    /// from text are at most 100 years). For a hand-built request whose end would lie beyond
    /// the limits of chrono's range, the end saturates at the latest (or, for a negative
    /// duration, earliest) instant changegate works with, about 262 000 years from now; it
    /// never panics (docs/time-semantics.md, "Extreme values").
    ///
    /// # Example
    /// ```
    /// use changegate::ChangeRequest;
    /// let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T22:00:00+01:00").unwrap();
    /// let req = ChangeRequest::new("dep-1", ["checkout"], "production", "feature", start, chrono::TimeDelta::MAX);
    /// assert_eq!(req.end(), chrono::DateTime::<chrono::Utc>::MAX_UTC - chrono::TimeDelta::days(1));
    /// ```
    pub fn end(&self) -> DateTime<FixedOffset> {
        add_saturating(self.start.with_timezone(&Utc), self.duration)
            .with_timezone(self.start.offset())
    }

    /// The UTC interval `[start, end)` the change occupies: at least one second long (a
    /// hand-built zero or negative duration still occupies the instant it names), saturating
    /// like [`ChangeRequest::end`].
    pub(crate) fn interval(&self) -> Interval {
        Interval::occupied(self.start.with_timezone(&Utc), self.duration)
    }
}

/// A one-off freeze listed in a calendar, e.g. during an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blackout {
    /// Name shown in findings.
    pub name: String,
    /// First instant of the freeze.
    pub from: DateTime<FixedOffset>,
    /// First instant after the freeze.
    pub to: DateTime<FixedOffset>,
    /// Environments it applies to; all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
    /// Services it applies to; all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
}

impl Blackout {
    /// Whether the blackout applies to `request` (its environment and any of its services).
    pub fn applies_to(&self, request: &ChangeRequest) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|envs| envs.contains(&request.environment))
            && self
                .services
                .as_ref()
                .is_none_or(|s| request.services.iter().any(|x| s.contains(x)))
    }
}

mod approvals;
mod evidence;
mod telemetry;
pub use approvals::{Approval, ApprovalCondition, BreakGlass, Directory, Person, Vote};
pub use evidence::{
    ChangeOutcome, HistoryEntry, Incident, IncidentSeverity, RiskLevel, ValidationResult,
    ValidationStatus,
};
pub use telemetry::{Event, Measurement, RollbackDone};
