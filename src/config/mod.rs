//! Reading YAML (and JSON, a subset of it): requests, calendars and `policy.yaml`. The only
//! module that imports the YAML crate. Every error names the file, line, column and field.
//!
//! - `yaml`: the reader with positions (deserialize, describe a parser error, locate a field);
//! - `input`: the input documents (request, calendar);
//! - `windows`: the window forms (`weekly`, `yearly`, `once`, `cron`, `rrule`, `ics`), with
//!   `ics` reading iCalendar files;
//! - `schedule`: the schedule section of an environment;
//! - `validation`, `risk`, `approvals`: the other sections of an environment (`approvals` also
//!   reads `break_glass:`);
//! - `evidence`: the evidence documents (validation results, history, approvals, directory);
//! - `telemetry`: the gates and rollback evidence (measurements, events, rollbacks performed),
//!   also as JSON lines;
//! - `bundle`: the policy document's schema (`timezone`, `environments`);
//! - `schema`: the JSON Schemas of these documents and of the decision, derived from the
//!   serde types above (`changegate::schemas()`, docs/schema/).
//!
//! This file holds the entry points.

mod approvals;
mod bundle;
pub(crate) mod case;
pub(crate) mod evidence;
mod gates;
mod ics;
mod input;
mod limits;
mod risk;
mod rollback;
mod schedule;
mod schema;
mod telemetry;
mod validation;
mod windows;
mod yaml;

pub(crate) use bundle::{BundleFiles, EnvironmentPolicy, PolicyConfig};
pub(crate) use input::check_calendar;
pub(crate) use limits::strip_bom;
pub use limits::{DEFAULT_MAX_DEPTH, DEFAULT_MAX_INPUT_BYTES, InputLimits, read_input_file};
pub use schema::schemas;
pub(crate) use yaml::locate_field;

use crate::calendar::Calendar;
use crate::error::{InputError, LoadError, LoadErrorKind, Location};
use crate::model::ChangeRequest;
use bundle::{PolicyCtx, PolicyDoc};
use input::{InputCtx, RequestDoc};

impl ChangeRequest {
    /// Parses a request from YAML or JSON text; `origin` (a file name) is used in errors.
    ///
    /// # Errors
    /// Unknown or missing fields, times without an offset, bad durations, `end` before `start`:
    /// each names the field and its line and column.
    ///
    /// # Example
    /// ```
    /// use changegate::ChangeRequest;
    /// let req = ChangeRequest::from_yaml("id: dep-1\nservice: checkout\nenvironment: production\n\
    ///     type: feature\nstart: 2026-12-01T22:00:00+01:00\nduration: 2h\n", "request.yaml").unwrap();
    /// assert_eq!(req.services, ["checkout"]);
    /// let err = ChangeRequest::from_yaml("id: dep-1\nstrat: x\n", "request.yaml").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `strat`"));
    /// ```
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, InputError> {
        Self::from_yaml_with_limits(text, origin, &InputLimits::default())
    }

    /// [`ChangeRequest::from_yaml`] with other [`InputLimits`] than the defaults.
    ///
    /// # Errors
    /// As [`ChangeRequest::from_yaml`], and text larger or nested deeper than `limits`.
    pub fn from_yaml_with_limits(
        text: &str,
        origin: &str,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        let ctx = InputCtx::new(text, origin, limits);
        let doc: RequestDoc = ctx.parse("request")?;
        ctx.request(doc, &[])
    }
}

impl Calendar {
    /// Parses a calendar (`deployments:` and `blackouts:`) from YAML or JSON text and indexes it.
    ///
    /// # Errors
    /// Like [`ChangeRequest::from_yaml`] for each deployment; also a blackout whose `to` is not
    /// after its `from`, and two deployments with the same id.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, InputError> {
        Self::from_yaml_with_limits(text, origin, &InputLimits::default())
    }

    /// [`Calendar::from_yaml`] with other [`InputLimits`] than the defaults.
    ///
    /// # Errors
    /// As [`Calendar::from_yaml`], and text larger or nested deeper than `limits`.
    pub fn from_yaml_with_limits(
        text: &str,
        origin: &str,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        InputCtx::new(text, origin, limits).calendar()
    }

    /// [`Calendar::from_yaml_with_limits`], and a check against `policy`: every environment the
    /// calendar's deployments and blackouts name must be one the policy knows. A calendar
    /// entry for an unknown environment would silently never apply, so it is an error naming
    /// the field, with a "did you mean" (`prod` -> `production`). The CLI reads calendars so.
    ///
    /// # Errors
    /// As [`Calendar::from_yaml`], and an environment the policy does not know.
    ///
    /// # Example
    /// ```
    /// use changegate::{Calendar, InputLimits, PolicySet};
    /// let policy = PolicySet::builtin()?;
    /// let text = "blackouts:\n  - {name: x, from: 2026-12-01T00:00:00Z, to: 2026-12-02T00:00:00Z, environments: [prod]}\n";
    /// let err = Calendar::from_yaml_checked(text, "c.yaml", &policy, &InputLimits::default())
    ///     .unwrap_err();
    /// assert!(err.message.contains("did you mean `production`?"), "{err}");
    /// # Ok::<(), changegate::LoadError>(())
    /// ```
    pub fn from_yaml_checked(
        text: &str,
        origin: &str,
        policy: &crate::PolicySet,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        let known: Vec<&str> = policy.environments().collect();
        InputCtx::new(text, origin, limits).calendar_for(&known)
    }
}

/// Parses and validates `policy.yaml`; `origin` names the file in errors and finding sources;
/// `bundle` holds the calendar files it may name.
pub(crate) fn parse_policy(
    text: &str,
    origin: &str,
    bundle: &BundleFiles,
    limits: &InputLimits,
) -> Result<PolicyConfig, LoadError> {
    let text = strip_bom(text);
    let doc: PolicyDoc =
        yaml::from_yaml(text, limits).map_err(|(message, pos, field)| LoadError {
            kind: LoadErrorKind::Config,
            location: Location::new(origin, pos),
            field,
            message,
        })?;
    PolicyCtx {
        text,
        origin,
        bundle,
    }
    .policy(doc)
}

impl crate::evidence::ValidationResults {
    /// Parses validation results, a list of `{category, check, status?, value?, at, url?}`,
    /// from YAML or JSON text; `origin` (a file name) is used in errors.
    ///
    /// # Errors
    /// Unknown or missing fields, an unknown `status`, a time without an offset, a result
    /// with neither `status` nor `value`: each names the field, its line and column.
    ///
    /// # Example
    /// ```
    /// use changegate::ValidationResults;
    /// let r = ValidationResults::from_yaml(
    ///     "- {category: code_quality, check: coverage, value: 0.83, at: 2026-12-01T08:00:00Z}\n",
    ///     "validation.yaml").unwrap();
    /// assert_eq!(r.results()[0].value, Some(0.83));
    /// let err = ValidationResults::from_yaml(
    ///     "- {category: tests, check: unit, status: pased, at: 2026-12-01T08:00:00Z}\n",
    ///     "validation.yaml").unwrap_err();
    /// assert!(err.to_string().contains("unknown variant `pased`"), "{err}");
    /// ```
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, InputError> {
        Self::from_yaml_with_limits(text, origin, &InputLimits::default())
    }

    /// [`ValidationResults::from_yaml`] with other [`InputLimits`] than the defaults.
    ///
    /// # Errors
    /// As [`ValidationResults::from_yaml`], and text larger or nested deeper than `limits`.
    pub fn from_yaml_with_limits(
        text: &str,
        origin: &str,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        InputCtx::new(text, origin, limits).validation_results()
    }
}

impl crate::history::History {
    /// Parses a history (`changes:`, each a deployment plus `outcome` and optional
    /// `incidents`) from YAML or JSON text and indexes it.
    ///
    /// # Errors
    /// Like [`ChangeRequest::from_yaml`] for each change; also an unknown `outcome` or
    /// incident `severity`.
    ///
    /// # Example
    /// ```
    /// use changegate::{ChangeOutcome, History};
    /// let h = History::from_yaml("changes:\n  - {id: d1, service: checkout, environment: production, \
    ///     type: feature, start: 2026-11-01T22:00:00Z, duration: 1h, outcome: rolled_back, \
    ///     incidents: [{severity: p2}]}\n", "history.yaml").unwrap();
    /// assert_eq!(h.entries()[0].outcome, ChangeOutcome::RolledBack);
    /// let err = History::from_yaml("changes:\n  - id: d1\n    outcom: failed\n", "h.yaml").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `outcom`"), "{err}");
    /// ```
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, InputError> {
        Self::from_yaml_with_limits(text, origin, &InputLimits::default())
    }

    /// [`History::from_yaml`] with other [`InputLimits`] than the defaults.
    ///
    /// # Errors
    /// As [`History::from_yaml`], and text larger or nested deeper than `limits`.
    pub fn from_yaml_with_limits(
        text: &str,
        origin: &str,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        InputCtx::new(text, origin, limits).history()
    }
}

impl crate::model::Directory {
    /// Parses a directory (`people: {alice@example.com: {roles: [release]}}`) from YAML or
    /// JSON text; `origin` (a file name) is used in errors.
    ///
    /// # Errors
    /// Unknown fields, a person or role that is empty: each names the field, its line and
    /// column. An empty text is an empty directory.
    ///
    /// # Example
    /// ```
    /// use changegate::Directory;
    /// let d = Directory::from_yaml(
    ///     "people:\n  alice@example.com: {roles: [release, engineering]}\n", "directory.yaml")
    ///     .unwrap();
    /// assert!(d.has_role("alice@example.com", "engineering"));
    /// let err = Directory::from_yaml("people:\n  bob@example.com: {role: [x]}\n", "d.yaml")
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("unknown field `role`"), "{err}");
    /// ```
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, InputError> {
        Self::from_yaml_with_limits(text, origin, &InputLimits::default())
    }

    /// [`Directory::from_yaml`](crate::Directory::from_yaml) with other [`InputLimits`].
    ///
    /// # Errors
    /// As `from_yaml`, and text larger or nested deeper than `limits`.
    pub fn from_yaml_with_limits(
        text: &str,
        origin: &str,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        InputCtx::new(text, origin, limits).directory()
    }
}

impl crate::model::Approval {
    /// Parses a list of approvals (`[{by, decision, at, role?, artifact?, comment?,
    /// conditions?}]`, or a document `approvals: [...]`) from YAML or JSON text; `origin` (a
    /// file name) is used in errors.
    ///
    /// # Errors
    /// Unknown fields, an unknown `decision`, a time without an offset, an unknown condition:
    /// each names the field, its line and column. An empty text is no approvals.
    ///
    /// # Example
    /// ```
    /// use changegate::{Approval, Vote};
    /// let list = Approval::list_from_yaml(
    ///     "- {by: bob@example.com, decision: approve, at: 2026-11-30T10:00:00Z, role: release}\n",
    ///     "approvals.yaml").unwrap();
    /// assert_eq!(list[0].decision, Vote::Approve);
    /// let doc = Approval::list_from_yaml(
    ///     "approvals:\n  - {by: bob@example.com, decision: reject, at: 2026-11-30T10:00:00Z}\n",
    ///     "approvals.yaml").unwrap();
    /// assert_eq!(doc[0].decision, Vote::Reject);
    /// let err = Approval::list_from_yaml(
    ///     "- by: bob@example.com\n  decision: approve\n  at: 2026-11-30T10:00:00\n", "a.yaml")
    ///     .unwrap_err();
    /// assert_eq!(err.field.as_deref(), Some("[0].at"), "{err}");
    /// ```
    pub fn list_from_yaml(text: &str, origin: &str) -> Result<Vec<Self>, InputError> {
        Self::list_from_yaml_with_limits(text, origin, &InputLimits::default())
    }

    /// [`Approval::list_from_yaml`](crate::Approval::list_from_yaml) with other
    /// [`InputLimits`].
    ///
    /// # Errors
    /// As `list_from_yaml`, and text larger or nested deeper than `limits`.
    pub fn list_from_yaml_with_limits(
        text: &str,
        origin: &str,
        limits: &InputLimits,
    ) -> Result<Vec<Self>, InputError> {
        InputCtx::new(text, origin, limits).approvals()
    }
}
