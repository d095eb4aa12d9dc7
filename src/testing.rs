//! Policy tests: data-driven cases that state what a policy must decide.
//!
//! A case is one YAML file: a request, an optional calendar and policy bundle, `now`, and the
//! expected decision. The Rust tests of this crate run every `tests/cases/**/*.yaml` through this
//! module; a `changegate test` command and the Python bindings can run a bundle's own cases the
//! same way.
//!
//! ```yaml
//! description: exactly 24h notice is enough
//! policy: ../bundles/new-york   # optional, relative to the case file; absent = the default
//! now: 2026-11-25T09:00:00Z
//! request: {id: dep-1, service: search, environment: production, type: feature, ...}
//! calendar: {deployments: [...], blackouts: [...]}   # optional
//! check: risk                  # optional: `schedule` (the default), `risk`, `approvals`,
//!                              # `readiness`, `gates` or `rollback`
//! validation: [...]            # optional validation results (ValidationResults::from_yaml)
//! history: {changes: [...]}    # optional history (History::from_yaml)
//! approvals: [...]             # optional approvals besides the request's (Approval::list_from_yaml)
//! directory: {people: {...}}   # optional directory, laid over the bundle's (Directory::from_yaml)
//! risk_level: high             # optional: a level already assessed (approvals, readiness)
//! measurements: [{metric: error_rate, at: ..., value: 0.002, labels: {path: cached}}]
//!                              # optional, for `check: gates`/`rollback` (Measurement::list_from_yaml)
//! baseline: [...]              # optional baseline measurements (relative gates)
//! events: [{kind: security_failure, at: ..., source: waf}]   # optional (Event::list_from_yaml)
//! rollbacks: [{level: feature_flag, at: ...}]   # optional, performed (RollbackDone::list_from_yaml)
//! expect:
//!   outcome: deny                # allow | warn | pending | deny (the decision's `outcome`)
//!   findings:                    # the exact list of (rule, severity), in order
//!     - rule: blackout
//!       severity: deny
//!       details: {blackout: weekend-freeze}   # optional, a subset of the finding's details
//!       message_contains: weekend-freeze      # optional, a string or a list of strings
//!       source: policies/policy.yaml:16       # optional: exact, or `file:*` for any line
//!                                             # (in a bundle's own tests, also relative to
//!                                             # the bundle: `policy.yaml:16`)
//!   includes:                    # optional: findings that must be among the actual ones, in
//!     - rule: policy_error       #   any order, each matched by a different finding (same
//!       severity: deny           #   keys as `findings`); with `includes:` or `absent:` and
//!       message_contains: threw  #   no `findings:`, the list is not compared exactly
//!   absent: [blackout]           # optional: rule ids that must not produce any finding
//!   trace: [...]                 # optional, exactly what scripts printed
//!   risk:                        # optional, for `check: risk`: each part when given
//!     score: 25                  #   exactly
//!     level: medium              #   exactly
//!     factors: {change_type: 10, failure_rate: 15}   # every factor that scored, exactly
//!     missing: [history]         #   exactly, in order
//!     override: payments-holiday-season              # the override that matched
//!   approvals:                   # optional, for `check: approvals`/`readiness`: each part when given
//!     state: pending             #   satisfied | pending | denied, exactly
//!     rules: {release: satisfied, engineering: pending}   # every applicable rule, exactly
//!     used: [alice@example.com]  #   who filled a slot, exactly, in order
//!     ignored: {bob@example.com: requester}   # every ignored vote's person and reason, exactly
//!     deadline: 2026-12-01T19:00:00+00:00     # exactly, as written in details
//!   details: {questions: {approvals: pending}}   # optional, a subset of the decision's details
//! ```
//!
//! A `check: approvals` case runs [`PolicySet::check_approvals`], a `check: readiness` case
//! [`PolicySet::evaluate`], each with all the evidence the case gives (calendar, validation,
//! history, approvals, directory, risk level).
//! A `check: gates` case runs [`PolicySet::check_gates`], a `check: rollback` case
//! [`PolicySet::check_rollback`], each with the case's `measurements`, `baseline`, `events` and
//! `rollbacks` (the request is the deployment).
//! A `check: risk` case runs [`PolicySet::assess_risk`] with the case's `validation` and
//! `history` (absent ones are missing evidence). A schedule case with `validation` or
//! `history` runs [`PolicySet::check_schedule_with_risk`], so the risk level drives the
//! `stricter:` schedule rules; without them, [`PolicySet::check_schedule`].
//!
//! The request and calendar are read by the same parsers as every other input
//! ([`ChangeRequest::from_yaml`], [`Calendar::from_yaml`]); an error in them, or in the case
//! itself, is an [`InputError`] that names the case file, the line and the field.
//!
//! What is compared ([`Case::check`]):
//! - `outcome` exactly, and `allowed` must agree with it (true for `allow` and `warn`);
//! - when `findings:` is given (or none of `findings:`, `includes:`, `absent:`: then no
//!   finding is expected), the findings' `(rule, severity)` list exactly, in order; then, finding by finding, the
//!   expected `details` as a subset of the actual ones (objects key by key, recursively; any
//!   other value equal), every `message_contains` part as a substring of the message, and the
//!   `source` exactly or, written `file:*`, as `file:` and any line number;
//! - `includes:` findings as a subset, in any order (each compared like a `findings` item);
//! - no finding of any `absent:` rule;
//! - `trace` exactly, when given.
//!
//! A bundle can carry its own cases in `tests/**/*.yaml` beside its `policy.yaml` (the loader
//! skips that folder: it is not part of the bundle or its digest). [`run_bundle_tests`] runs
//! them, a case without `policy:` against that bundle, and measures their [`Coverage`];
//! `changegate test` is its command-line face.
//!
//! # Example
//!
//! ```
//! use changegate::PolicySet;
//! use changegate::testing::Case;
//!
//! let case = Case::from_yaml(
//!     "description: a Saturday change is frozen\n\
//!      now: 2026-11-25T09:00:00Z\n\
//!      request: {id: dep-1, service: search, environment: production, type: feature,\n\
//!                start: '2026-12-05T10:00:00+01:00', duration: 1h}\n\
//!      expect:\n  outcome: allow\n",
//!     "cases/saturday.yaml",
//! )?;
//! let outcome = case.check(&PolicySet::builtin()?);
//! assert!(!outcome.passed());
//! assert_eq!(outcome.mismatches()[0].field(), "outcome");
//! // The report says what differed: `outcome: expected `allow`, got `deny`` and the findings.
//! assert!(outcome.to_string().contains("+ blackout deny"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;

use std::fmt;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::calendar::Calendar;
use crate::config::case::read_case;
use crate::config::{InputLimits, read_input_file};
use crate::decision::{Decision, Finding};
use crate::error::{InputError, LoadError, Location};
use crate::evidence::Evidence;
use crate::model::ChangeRequest;
use crate::policy::PolicySet;
use crate::telemetry::Telemetry;

pub use bundle::{
    BundleTestError, COVERAGE_KINDS, CaseResult, Coverage, CoverageItem, SCRIPT_LINES_NOTE,
    TestReport, filter_matches, find_bundle_tests, run_bundle_tests,
};

/// What a case expects the decision to be.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Expectation {
    /// The expected `outcome`, as text (`allow`, `warn`, `deny`).
    pub outcome: String,
    /// The expected findings: exactly these `(rule, severity)`, in this order (when
    /// [`Expectation::findings_exact`]).
    pub findings: Vec<ExpectedFinding>,
    /// Whether `findings` is compared exactly: true when the case gives `findings:`, or gives
    /// none of `findings:`, `includes:` and `absent:` (then no finding is expected).
    pub findings_exact: bool,
    /// `includes:` findings that must be among the actual ones, in any order, each matched by
    /// a different finding (a subset).
    pub includes: Vec<ExpectedFinding>,
    /// `absent:` rule ids that must not have produced any finding.
    pub absent: Vec<String>,
    /// What scripts must have printed, exactly; `None` when the case does not say.
    pub trace: Option<Vec<String>>,
    /// For `check: risk`, what `details.risk` must say; `None` when the case does not say.
    pub risk: Option<ExpectedRisk>,
    /// For `check: approvals` and `readiness`, what `details.approvals` must say.
    pub approvals: Option<ExpectedApprovals>,
    /// A subset of the decision's `details` (objects key by key, recursively).
    pub details: Option<Value>,
}

/// What an approvals or readiness case expects of `details.approvals`; each part is compared
/// when given.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExpectedApprovals {
    /// `satisfied`, `pending` or `denied`, exactly.
    pub state: Option<String>,
    /// Every applicable rule by name with its status, exactly.
    pub rules: Option<std::collections::BTreeMap<String, String>>,
    /// Who filled a slot, exactly, in order.
    pub used: Option<Vec<String>>,
    /// Every ignored vote's person and reason, exactly.
    pub ignored: Option<std::collections::BTreeMap<String, String>>,
    /// `details.approvals.deadline`, exactly.
    pub deadline: Option<String>,
    /// `details.approvals.expires_at`, exactly.
    pub expires_at: Option<String>,
}

/// The question a case asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaseCheck {
    Schedule,
    Risk,
    Approvals,
    Readiness,
    Gates,
    Rollback,
}

/// What a risk case expects of `details.risk`; each part is compared when given.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExpectedRisk {
    /// The score, exactly.
    pub score: Option<u64>,
    /// The level, exactly (`low`, `medium`, `high`, `critical`).
    pub level: Option<String>,
    /// Every factor that scored, by name, with its points: exactly these.
    pub factors: Option<std::collections::BTreeMap<String, u64>>,
    /// The evidence listed as missing, exactly, in order.
    pub missing: Option<Vec<String>>,
    /// The name of the override that matched.
    pub override_name: Option<String>,
}

/// One finding a case expects.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExpectedFinding {
    /// The rule id.
    pub rule: String,
    /// The severity, as text (`warn`, `deny`).
    pub severity: String,
    /// A subset of the finding's `details` (objects compared key by key, recursively).
    pub details: Option<Value>,
    /// Parts the message must contain.
    pub message_contains: Vec<String>,
    /// The finding's source: `file:line` exactly, or `file:*` for any line of `file`.
    pub source: Option<String>,
}

/// One policy test case, read and validated.
#[derive(Debug, Clone)]
pub struct Case {
    path: PathBuf,
    description: String,
    policy: Option<PathBuf>,
    now: DateTime<Utc>,
    request: ChangeRequest,
    calendar: Calendar,
    check: CaseCheck,
    evidence: Evidence,
    telemetry: Telemetry,
    expect: Expectation,
    /// For a bundle's own tests: the bundle's label, so that an expected `source` may also be
    /// written relative to the bundle (`policy.yaml:12`).
    source_root: Option<String>,
}

impl Case {
    /// Reads a case from YAML (or JSON) text; `path` is the case file's path, used in errors and
    /// to resolve the case's `policy:` (relative to the file's folder).
    ///
    /// # Errors
    /// Unknown or missing fields, an empty `description`, a `now` without an offset, a request
    /// or calendar that does not parse: each names the file, line and field.
    ///
    /// # Example
    /// ```
    /// use changegate::testing::Case;
    /// let text = "description: x\nnow: 2026-11-25T09:00:00\n\
    ///     request: {id: d, service: s, environment: production, type: feature,\n\
    ///               start: '2026-12-01T22:00:00+01:00', duration: 1h}\n\
    ///     expect: {outcome: allow}\n";
    /// let err = Case::from_yaml(text, "c.yaml").unwrap_err();
    /// assert_eq!(err.field.as_deref(), Some("now"));
    /// assert!(err.to_string().starts_with("c.yaml:2:1: `2026-11-25T09:00:00` has no UTC offset"));
    /// ```
    pub fn from_yaml(text: &str, path: impl AsRef<Path>) -> Result<Self, InputError> {
        Self::from_yaml_with_limits(text, path, &InputLimits::default())
    }

    /// [`Case::from_yaml`] with other [`InputLimits`] than the defaults.
    ///
    /// # Errors
    /// As [`Case::from_yaml`], and text larger or nested deeper than `limits`.
    pub fn from_yaml_with_limits(
        text: &str,
        path: impl AsRef<Path>,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        let path = path.as_ref();
        let file = read_case(text, &path.display().to_string(), limits)?;
        let policy = file.policy.map(|rel| {
            let dir = path.parent().unwrap_or(Path::new(""));
            normalize(&dir.join(rel))
        });
        Ok(Self {
            path: path.to_path_buf(),
            description: file.description,
            policy,
            now: file.now,
            request: file.request,
            calendar: file.calendar,
            check: file.check,
            evidence: file.evidence,
            telemetry: file.telemetry,
            expect: file.expect,
            source_root: None,
        })
    }

    /// Reads the case file at `path` (see [`Case::from_yaml`]) through the same capped reader
    /// as every other input ([`read_input_file`] with the default [`InputLimits`]): a file
    /// larger than 16 MiB, or one that is not a regular file (a directory, a FIFO, a device), is
    /// an error naming it, never a hang or unbounded memory.
    ///
    /// # Errors
    /// The file cannot be read, is not a regular file or is too large, or its content is not a
    /// valid case.
    ///
    /// # Example
    /// ```
    /// use changegate::testing::Case;
    /// let err = Case::load("/").unwrap_err();
    /// assert!(err.message.contains("not a regular file"), "{err}");
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Self, InputError> {
        Self::load_with_limits(path, &InputLimits::default())
    }

    /// [`Case::load`] with other [`InputLimits`] than the defaults.
    ///
    /// # Errors
    /// As [`Case::load`], with `limits` instead of the defaults.
    pub fn load_with_limits(
        path: impl AsRef<Path>,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        let path = path.as_ref();
        let text = read_input_file(path, limits)?;
        Self::from_yaml_with_limits(&text, path, limits)
    }

    /// The case file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the case is about.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The bundle folder the case names, resolved against the case file's folder (`a/../b`
    /// folded, the file system untouched); `None` for the default bundle.
    pub fn policy(&self) -> Option<&Path> {
        self.policy.as_deref()
    }

    /// The time of the check.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The request to check.
    pub fn request(&self) -> &ChangeRequest {
        &self.request
    }

    /// The calendar it is checked against (empty when the case gives none).
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The measurements, baseline, events and rollbacks performed of a `check: gates` or
    /// `check: rollback` case (empty for other cases).
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// The expected decision.
    pub fn expectation(&self) -> &Expectation {
        &self.expect
    }

    /// Checks the case's request with `policy` (whatever the case names) and compares the
    /// decision with the expectation.
    pub fn check(&self, policy: &PolicySet) -> CaseOutcome {
        let has_evidence = self.evidence.validation.is_some() || self.evidence.history.is_some();
        let (request, now) = (&self.request, self.now);
        let decision = match self.check {
            CaseCheck::Risk => policy.assess_risk(request, &self.evidence.risk(), now),
            CaseCheck::Approvals => policy.check_approvals(request, &self.evidence, now),
            CaseCheck::Readiness => policy.evaluate(request, &self.evidence, now),
            CaseCheck::Gates => policy.check_gates(request, &self.telemetry, now),
            CaseCheck::Rollback => policy.check_rollback(request, &self.telemetry, now),
            CaseCheck::Schedule if has_evidence => {
                policy.check_schedule_with_risk(request, &self.calendar, &self.evidence.risk(), now)
            }
            CaseCheck::Schedule => policy.check_schedule(request, &self.calendar, now),
        };
        let mismatches = compare(&self.expect, &decision, self.source_root.as_deref());
        CaseOutcome {
            path: self.path.clone(),
            description: self.description.clone(),
            decision,
            mismatches,
        }
    }
}

/// Reads the case file at `path` (the same as [`Case::load`]).
///
/// # Errors
/// The file cannot be read, or its content is not a valid case.
pub fn load_case(path: impl AsRef<Path>) -> Result<Case, InputError> {
    Case::load(path)
}

/// Every case file under `dir`: `*.yaml` and `*.yml`, recursively, in sorted order, skipping
/// folders named `bundles` (where cases keep the bundles they name).
///
/// # Errors
/// A folder that cannot be read, named in the error.
pub fn find_cases(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    collect_cases(dir.as_ref(), &mut out)?;
    Ok(out)
}

fn collect_cases(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let unreadable = |e: std::io::Error| InputError {
        location: Location {
            file: dir.display().to_string(),
            line: None,
            column: None,
        },
        field: None,
        message: format!("cannot read the case folder: {e}"),
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        entries.push(entry.map_err(unreadable)?.path());
    }
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "bundles") {
                continue;
            }
            collect_cases(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs a case against the bundle it names, or `default_policy` when it names none.
///
/// # Errors
/// The named bundle does not load.
///
/// # Example
/// ```
/// use changegate::PolicySet;
/// use changegate::testing::{Case, run_case};
/// let case = Case::from_yaml(
///     "description: a weeknight change is allowed\nnow: 2026-11-25T09:00:00Z\n\
///      request: {id: dep-1, service: search, environment: production, type: feature,\n\
///                start: '2026-12-01T22:00:00+01:00', duration: 2h}\n\
///      expect: {outcome: allow}\n",
///     "weeknight.yaml",
/// )?;
/// let outcome = run_case(&case, &PolicySet::builtin()?)?;
/// assert!(outcome.passed(), "{outcome}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_case(case: &Case, default_policy: &PolicySet) -> Result<CaseOutcome, CaseError> {
    match &case.policy {
        None => Ok(case.check(default_policy)),
        Some(dir) => {
            let policy = PolicySet::load(dir).map_err(|error| CaseError::Policy {
                case: case.path.clone(),
                error: Box::new(error),
            })?;
            Ok(case.check(&policy))
        }
    }
}

/// Loads the case file at `path` and runs it (see [`run_case`]).
///
/// # Errors
/// The case file is not a valid case, or the bundle it names does not load.
pub fn run_case_file(
    path: impl AsRef<Path>,
    default_policy: &PolicySet,
) -> Result<CaseOutcome, CaseError> {
    let case = Case::load(path).map_err(CaseError::Case)?;
    run_case(&case, default_policy)
}

/// A case that could not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// The case file cannot be read or is not a valid case.
    #[error(transparent)]
    Case(InputError),
    /// The bundle the case names does not load.
    #[error("the policy of case `{}` does not load: {error}", case.display())]
    Policy {
        /// The case file.
        case: PathBuf,
        /// Why the bundle does not load.
        error: Box<LoadError>,
    },
}

/// The result of running a case: the decision and every way it differs from the expectation.
///
/// Its `Display` is the report a person reads: the case, each mismatch, a `-` expected / `+`
/// actual diff of the findings when they differ, and the actual findings.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    path: PathBuf,
    description: String,
    decision: Decision,
    mismatches: Vec<Mismatch>,
}

impl CaseOutcome {
    /// Whether the decision matched the expectation in every respect.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// The ways the decision differs from the expectation; empty when the case passed.
    pub fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }

    /// The decision the policy gave.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The case file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the case is about.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl fmt::Display for CaseOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "passed" } else { "failed" };
        write!(
            f,
            "{}: {verdict} ({})",
            self.path.display(),
            self.description
        )?;
        if self.passed() {
            return Ok(());
        }
        for m in &self.mismatches {
            write!(f, "\n  {m}")?;
        }
        write!(
            f,
            "\n  actual findings:{}",
            describe(&self.decision.findings)
        )
    }
}

/// One way a decision differs from its case's expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    field: String,
    expected: String,
    actual: String,
    diff: Vec<String>,
}

impl Mismatch {
    fn new(field: impl Into<String>, expected: String, actual: String) -> Self {
        Self {
            field: field.into(),
            expected,
            actual,
            diff: Vec::new(),
        }
    }

    /// What differs, as a path into the expectation: `outcome`, `allowed`, `findings`,
    /// `findings[1].details`, `findings[0].message_contains`, `findings[2].source`, `trace`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What the case expected, as text.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// What the decision has, as text.
    pub fn actual(&self) -> &str {
        &self.actual
    }

    /// For `findings`: one line per finding, `  ` in both, `- ` expected only, `+ ` actual only.
    /// Empty for the other fields.
    pub fn diff(&self) -> &[String] {
        &self.diff
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.field, self.expected, self.actual
        )?;
        for line in &self.diff {
            write!(f, "\n      {line}")?;
        }
        Ok(())
    }
}

/// `a/b/../c` -> `a/c`, without touching the file system (so paths stay relative and the
/// finding sources of custom bundles read like `tests/cases/bundles/x/y.rhai:3`).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Compares `details.risk` with what a case expects of it.
fn compare_risk(expect: &ExpectedRisk, decision: &Decision, problems: &mut Vec<Mismatch>) {
    let actual = decision.details.get("risk").cloned().unwrap_or(Value::Null);
    let mut check = |field: &str, expected: Option<Value>, actual: Value| {
        if let Some(e) = expected {
            if e != actual {
                problems.push(Mismatch::new(
                    format!("risk.{field}"),
                    e.to_string(),
                    actual.to_string(),
                ));
            }
        }
    };
    check(
        "score",
        expect.score.map(Value::from),
        actual["score"].clone(),
    );
    check(
        "level",
        expect.level.clone().map(Value::from),
        actual["level"].clone(),
    );
    let factors: serde_json::Map<String, Value> = actual["factors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or("").to_owned(),
                f["points"].clone(),
            )
        })
        .collect();
    check(
        "factors",
        expect.factors.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Value::from(*v)))
                .collect()
        }),
        Value::Object(factors),
    );
    check(
        "missing",
        expect.missing.clone().map(Value::from),
        actual["missing"].clone(),
    );
    check(
        "override",
        expect.override_name.clone().map(Value::from),
        actual["override"]["name"].clone(),
    );
}

/// Compares `details.approvals` with what a case expects of it.
fn compare_approvals(
    expect: &ExpectedApprovals,
    decision: &Decision,
    problems: &mut Vec<Mismatch>,
) {
    let actual = decision
        .details
        .get("approvals")
        .cloned()
        .unwrap_or(Value::Null);
    let mut check = |field: &str, expected: Option<Value>, actual: Value| {
        if let Some(e) = expected {
            if e != actual {
                problems.push(Mismatch::new(
                    format!("approvals.{field}"),
                    e.to_string(),
                    actual.to_string(),
                ));
            }
        }
    };
    let pairs = |list: &Value, key: &str, value: &str| -> Value {
        Value::Object(
            list.as_array()
                .into_iter()
                .flatten()
                .map(|r| (r[key].as_str().unwrap_or("").to_owned(), r[value].clone()))
                .collect(),
        )
    };
    check(
        "state",
        expect.state.clone().map(Value::from),
        actual["state"].clone(),
    );
    check(
        "rules",
        expect.rules.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect()
        }),
        pairs(&actual["rules"], "name", "status"),
    );
    check(
        "used",
        expect.used.clone().map(Value::from),
        Value::Array(
            actual["used"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| u["by"].clone())
                .collect(),
        ),
    );
    check(
        "ignored",
        expect.ignored.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect()
        }),
        pairs(&actual["ignored"], "by", "reason"),
    );
    check(
        "deadline",
        expect.deadline.clone().map(Value::from),
        actual["deadline"].clone(),
    );
    check(
        "expires_at",
        expect.expires_at.clone().map(Value::from),
        actual["expires_at"].clone(),
    );
}

/// Whether `expected` is a subset of `actual`: objects key by key (recursively), everything
/// else equal.
fn is_subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| is_subset(v, av))),
        _ => expected == actual,
    }
}

/// `file:line` exactly, or `file:*` for any line of `file` (for the built-in scripts, which
/// other changes edit).
fn source_matches(expected: &str, actual: Option<&str>) -> bool {
    let Some(actual) = actual else {
        return false;
    };
    match expected.strip_suffix('*') {
        Some(prefix) if prefix.ends_with(':') => actual
            .strip_prefix(prefix)
            .is_some_and(|line| !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())),
        _ => expected == actual,
    }
}

fn describe(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return " none".to_owned();
    }
    findings
        .iter()
        .map(|f| {
            format!(
                "\n    - {{rule: {}, severity: {}, details: {}, source: {:?}, message: {:?}}}",
                f.rule,
                f.severity.as_str(),
                Value::Object(f.details.clone()),
                f.source.as_deref().unwrap_or(""),
                f.message
            )
        })
        .collect()
}

fn pairs_text(pairs: &[(&str, &str)]) -> String {
    let items: Vec<String> = pairs.iter().map(|(r, s)| format!("{r} {s}")).collect();
    format!("[{}]", items.join(", "))
}

/// A line diff of two lists (longest common subsequence): `  ` in both, `- ` only in
/// `expected`, `+ ` only in `actual`, in list order.
fn diff_lines(expected: &[String], actual: &[String]) -> Vec<String> {
    let (n, m) = (expected.len(), actual.len());
    // lcs[i][j]: the longest common subsequence of expected[i..] and actual[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for (i, e) in expected.iter().enumerate().rev() {
        for (j, a) in actual.iter().enumerate().rev() {
            let here = if e == a {
                lcs.get(i + 1)
                    .and_then(|r| r.get(j + 1))
                    .map_or(0, |v| v + 1)
            } else {
                let down = lcs.get(i + 1).and_then(|r| r.get(j)).copied().unwrap_or(0);
                let right = lcs.get(i).and_then(|r| r.get(j + 1)).copied().unwrap_or(0);
                down.max(right)
            };
            if let Some(cell) = lcs.get_mut(i).and_then(|r| r.get_mut(j)) {
                *cell = here;
            }
        }
    }
    let at = |i: usize, j: usize| lcs.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        match (expected.get(i), actual.get(j)) {
            (Some(e), Some(a)) if e == a => {
                out.push(format!("  {e}"));
                i += 1;
                j += 1;
            }
            (Some(e), Some(_)) if at(i + 1, j) >= at(i, j + 1) => {
                out.push(format!("- {e}"));
                i += 1;
            }
            (_, Some(a)) => {
                out.push(format!("+ {a}"));
                j += 1;
            }
            (Some(e), None) => {
                out.push(format!("- {e}"));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// How finding `f` differs from `e` in details, message and source (not rule and severity);
/// `label` prefixes the fields (`findings[0]`).
fn finding_problems(
    label: &str,
    e: &ExpectedFinding,
    f: &Finding,
    root: Option<&str>,
) -> Vec<Mismatch> {
    let mut problems = Vec::new();
    if let Some(details) = &e.details {
        let actual = Value::Object(f.details.clone());
        if !is_subset(details, &actual) {
            problems.push(Mismatch::new(
                format!("{label}.details"),
                format!("({}) details to contain {details}", e.rule),
                actual.to_string(),
            ));
        }
    }
    for part in &e.message_contains {
        if !f.message.contains(part.as_str()) {
            problems.push(Mismatch::new(
                format!("{label}.message_contains"),
                format!("({}) a message containing {part:?}", e.rule),
                format!("{:?}", f.message),
            ));
        }
    }
    if let Some(source) = &e.source {
        let relative = root.map(|r| format!("{}/{source}", r.trim_end_matches('/')));
        let matched = source_matches(source, f.source.as_deref())
            || relative.is_some_and(|r| source_matches(&r, f.source.as_deref()));
        if !matched {
            problems.push(Mismatch::new(
                format!("{label}.source"),
                format!("({}) source {source:?}", e.rule),
                format!("{:?}", f.source),
            ));
        }
    }
    problems
}

fn compare(expect: &Expectation, decision: &Decision, root: Option<&str>) -> Vec<Mismatch> {
    let mut problems = Vec::new();
    if let Some(risk) = &expect.risk {
        compare_risk(risk, decision, &mut problems);
    }
    if let Some(approvals) = &expect.approvals {
        compare_approvals(approvals, decision, &mut problems);
    }
    if let Some(details) = &expect.details {
        let actual = Value::Object((*decision.details).clone());
        if !is_subset(details, &actual) {
            problems.push(Mismatch::new(
                "details",
                format!("a subset: {details}"),
                actual.to_string(),
            ));
        }
    }
    let outcome = decision.outcome.as_str();
    if outcome != expect.outcome {
        problems.push(Mismatch::new(
            "outcome",
            format!("`{}`", expect.outcome),
            format!("`{outcome}`"),
        ));
    }
    // `allowed` is true exactly for the outcomes that let the change proceed.
    let allowed = matches!(outcome, "allow" | "warn");
    if decision.allowed != allowed {
        problems.push(Mismatch::new(
            "allowed",
            format!("{allowed} with outcome `{outcome}`"),
            decision.allowed.to_string(),
        ));
    }
    let actual: Vec<(&str, &str)> = decision
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity.as_str()))
        .collect();
    let wanted: Vec<(&str, &str)> = expect
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity.as_str()))
        .collect();
    if expect.findings_exact && actual != wanted {
        let lines = |pairs: &[(&str, &str)]| -> Vec<String> {
            pairs.iter().map(|(r, s)| format!("{r} {s}")).collect()
        };
        let mut m = Mismatch::new("findings", pairs_text(&wanted), pairs_text(&actual));
        m.diff = diff_lines(&lines(&wanted), &lines(&actual));
        problems.push(m);
    } else if expect.findings_exact {
        for (i, (e, f)) in expect.findings.iter().zip(&decision.findings).enumerate() {
            problems.extend(finding_problems(&format!("findings[{i}]"), e, f, root));
        }
    }
    // `includes:`: each expected finding matched by a different actual one, in any order.
    let mut used = vec![false; decision.findings.len()];
    for (i, e) in expect.includes.iter().enumerate() {
        let same_kind =
            |f: &Finding| f.rule.as_str() == e.rule && f.severity.as_str() == e.severity;
        let found = decision.findings.iter().enumerate().find(|(j, f)| {
            !used.get(*j).copied().unwrap_or(true)
                && same_kind(f)
                && finding_problems("", e, f, root).is_empty()
        });
        match found {
            Some((j, _)) => {
                if let Some(u) = used.get_mut(j) {
                    *u = true;
                }
            }
            None => {
                // The closest candidate's differences say why it did not match.
                let why = decision
                    .findings
                    .iter()
                    .find(|f| same_kind(f))
                    .map(|f| {
                        let parts: Vec<String> = finding_problems("", e, f, root)
                            .iter()
                            .map(|m| format!("{} (got {})", m.expected, m.actual))
                            .collect();
                        format!("a `{}` finding that differs: {}", e.rule, parts.join("; "))
                    })
                    .unwrap_or_else(|| format!("findings {}", pairs_text(&actual)));
                let mut m = Mismatch::new(
                    format!("includes[{i}]"),
                    format!("a finding {} {}", e.rule, e.severity),
                    why,
                );
                m.diff = vec![format!("- {} {}", e.rule, e.severity)];
                problems.push(m);
            }
        }
    }
    // `absent:`: rules that must not fire.
    for (i, rule) in expect.absent.iter().enumerate() {
        let fired: Vec<&Finding> = decision
            .findings
            .iter()
            .filter(|f| f.rule.as_str() == rule)
            .collect();
        if !fired.is_empty() {
            let mut m = Mismatch::new(
                format!("absent[{i}]"),
                format!("no `{rule}` finding"),
                format!(
                    "{} ({:?})",
                    fired.len(),
                    fired.first().map(|f| f.message.as_str()).unwrap_or("")
                ),
            );
            m.diff = fired
                .iter()
                .map(|f| format!("+ {} {}", f.rule, f.severity.as_str()))
                .collect();
            problems.push(m);
        }
    }
    if let Some(trace) = &expect.trace {
        if &decision.trace != trace {
            problems.push(Mismatch::new(
                "trace",
                format!("{trace:?}"),
                format!("{:?}", decision.trace),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEKNIGHT: &str = "description: a weeknight change with 24h notice\n\
        now: 2026-11-25T09:00:00Z\n\
        request:\n  id: dep-1\n  service: search\n  environment: production\n  type: feature\n  \
        start: 2026-12-01T22:00:00+01:00\n  duration: 9h\n";

    fn builtin() -> PolicySet {
        PolicySet::builtin().unwrap()
    }

    #[test]
    fn a_right_expectation_passes() {
        let text = format!(
            "{WEEKNIGHT}expect:\n  outcome: deny\n  findings:\n    - rule: max_duration\n      \
             severity: deny\n      details: {{max: 8h}}\n      message_contains: [lasts 9h]\n      \
             source: 'policies/policy.yaml:*'\n    - {{rule: preferred_window, severity: warn}}\n"
        );
        let case = Case::from_yaml(&text, "cases/ok.yaml").unwrap();
        let outcome = run_case(&case, &builtin()).unwrap();
        assert!(outcome.passed(), "{outcome}");
        assert!(
            outcome
                .to_string()
                .ends_with("passed (a weeknight change with 24h notice)")
        );
    }

    #[test]
    fn a_wrong_expectation_fails_with_a_diff() {
        // The change is too long (max_duration deny) and runs past 06:00, outside the preferred
        // window (a warning); the case expects only a blackout.
        let text = format!(
            "{WEEKNIGHT}expect:\n  outcome: warn\n  findings:\n    - {{rule: max_duration, severity: deny}}\n    \
             - {{rule: blackout, severity: deny}}\n"
        );
        let case = Case::from_yaml(&text, "cases/wrong.yaml").unwrap();
        let outcome = case.check(&builtin());
        assert!(!outcome.passed());
        let fields: Vec<&str> = outcome.mismatches().iter().map(Mismatch::field).collect();
        assert_eq!(fields, ["outcome", "findings"]);
        let findings = &outcome.mismatches()[1];
        assert_eq!(
            findings.diff(),
            [
                "  max_duration deny",
                "- blackout deny",
                "+ preferred_window warn"
            ]
        );
        let report = outcome.to_string();
        assert!(report.starts_with("cases/wrong.yaml: failed ("), "{report}");
        assert!(
            report.contains("outcome: expected `warn`, got `deny`"),
            "{report}"
        );
        assert!(report.contains("\n      - blackout deny"), "{report}");
        assert!(
            report.contains("\n      + preferred_window warn"),
            "{report}"
        );
        assert!(report.contains("actual findings:"), "{report}");
    }

    #[test]
    fn each_kind_of_mismatch_is_reported() {
        let text = format!(
            "{WEEKNIGHT}expect:\n  outcome: warn\n  findings:\n    - rule: max_duration\n      \
             severity: deny\n      details: {{max: 4h}}\n      message_contains: [lasts 9h, lasts 10h]\n      \
             source: 'policies/other.yaml:*'\n    - {{rule: preferred_window, severity: warn}}\n  \
             trace: [hello]\n"
        );
        let outcome = Case::from_yaml(&text, "c.yaml").unwrap().check(&builtin());
        let fields: Vec<&str> = outcome.mismatches().iter().map(Mismatch::field).collect();
        assert_eq!(
            fields,
            [
                "outcome",
                "findings[0].details",
                "findings[0].message_contains",
                "findings[0].source",
                "trace"
            ]
        );
        assert!(outcome.mismatches()[2].expected().contains("lasts 10h"));
        assert_eq!(outcome.mismatches()[4].actual(), "[]");
    }

    #[test]
    fn errors_name_the_case_file_line_and_field() {
        let bad_start = WEEKNIGHT.replace("22:00:00+01:00", "22:00:00");
        let err = Case::from_yaml(
            &format!("{bad_start}expect: {{outcome: allow}}\n"),
            "c.yaml",
        )
        .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("request.start"));
        assert_eq!(
            (err.location.file.as_str(), err.location.line),
            ("c.yaml", Some(8))
        );
        assert!(err.message.contains("has no UTC offset"), "{err}");

        let typo = WEEKNIGHT.replace("  type:", "  typ:");
        let err =
            Case::from_yaml(&format!("{typo}expect: {{outcome: allow}}\n"), "c.yaml").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("request.typ"));
        assert!(err.message.contains("unknown field `typ`"), "{err}");

        let err = Case::from_yaml(&format!("{WEEKNIGHT}expect: {{outcom: allow}}\n"), "c.yaml")
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("expect.outcom"));
        assert_eq!(err.location.line, Some(10));

        let cal = "calendar:\n  deployments:\n    - {id: d, service: s, environment: production, \
                   type: feature, start: 2026-12-01T22:00:00+01:00}\n";
        let err = Case::from_yaml(
            &format!("{WEEKNIGHT}{cal}expect: {{outcome: allow}}\n"),
            "c.yaml",
        )
        .unwrap_err();
        assert_eq!(
            err.field.as_deref(),
            Some("calendar.deployments[0].duration")
        );
        assert_eq!(err.location.line, Some(12));

        let empty = WEEKNIGHT.replace("a weeknight change with 24h notice", "' '");
        let err =
            Case::from_yaml(&format!("{empty}expect: {{outcome: allow}}\n"), "c.yaml").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("description"));
        assert_eq!(err.location.line, Some(1));
    }

    #[test]
    fn the_policy_is_relative_to_the_case_file() {
        let text = format!("policy: ../bundles/x\n{WEEKNIGHT}expect: {{outcome: allow}}\n");
        let case = Case::from_yaml(&text, "tests/cases/a/b.yaml").unwrap();
        assert_eq!(case.policy(), Some(Path::new("tests/cases/bundles/x")));
        let err = run_case(&case, &builtin()).unwrap_err();
        assert!(matches!(err, CaseError::Policy { .. }), "{err}");
    }

    #[test]
    fn gates_and_rollback_cases_read_their_telemetry() {
        let base = "description: gates\nnow: 2026-12-01T10:00:00Z\ncheck: gates\n\
            request: {id: d, service: s, environment: production, type: feature,\n  \
            start: '2026-12-01T09:00:00Z', duration: 1h}\n";
        let text = format!(
            "{base}measurements:\n  - {{metric: error_rate, at: 2026-12-01T09:59:00Z, value: 0.1}}\n  \
             - {{metric: error_rate, at: 2026-12-01T09:59:30Z, value: .nan, labels: {{path: x}}}}\n\
             baseline: [{{metric: error_rate, at: 2026-11-30T09:59:00Z, value: null}}]\n\
             events: [{{kind: security_failure, at: 2026-12-01T09:58:00Z}}]\n\
             rollbacks: [{{level: feature_flag, at: 2026-12-01T09:58:30Z}}]\n\
             expect: {{outcome: allow}}\n"
        );
        let case = Case::from_yaml(&text, "c.yaml").unwrap();
        assert_eq!(case.check, CaseCheck::Gates);
        let t = case.telemetry();
        assert_eq!(
            (t.measurement_count(), t.baseline_count(), t.event_count()),
            (2, 1, 1)
        );
        assert_eq!(t.rollbacks()[0].level, "feature_flag");

        let bad = format!(
            "{base}measurements:\n  - {{metric: error_rate, at: 2026-12-01T09:59:00Z, value: 0.1}}\n  \
             - metric: error_rate\n    at: 2026-12-01T09:59:30Z\n    value: lots\n\
             expect: {{outcome: allow}}\n"
        );
        let err = Case::from_yaml(&bad, "c.yaml").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("measurements[1].value"), "{err}");
        assert_eq!(err.location.line, Some(10), "{err}");

        let rollback = text.replace("check: gates", "check: rollback");
        let case = Case::from_yaml(&rollback, "c.yaml").unwrap();
        assert_eq!(case.check, CaseCheck::Rollback);
    }

    #[test]
    fn includes_and_absent_match_a_subset() {
        let ok = format!(
            "{WEEKNIGHT}expect:\n  outcome: deny\n  includes:\n    - {{rule: preferred_window, severity: warn}}\n    \
             - {{rule: max_duration, severity: deny, message_contains: lasts 9h}}\n  absent: [blackout]\n"
        );
        let outcome = Case::from_yaml(&ok, "c.yaml").unwrap().check(&builtin());
        assert!(outcome.passed(), "{outcome}");

        let wrong = format!(
            "{WEEKNIGHT}expect:\n  outcome: deny\n  includes:\n    - {{rule: max_duration, severity: deny, message_contains: lasts 10h}}\n    \
             - {{rule: blackout, severity: deny}}\n  absent: [preferred_window]\n"
        );
        let outcome = Case::from_yaml(&wrong, "c.yaml").unwrap().check(&builtin());
        let fields: Vec<&str> = outcome.mismatches().iter().map(Mismatch::field).collect();
        assert_eq!(fields, ["includes[0]", "includes[1]", "absent[0]"]);
        assert!(
            outcome.mismatches()[0].actual().contains("lasts 10h"),
            "{outcome}"
        );
        assert_eq!(outcome.mismatches()[2].diff(), ["+ preferred_window warn"]);

        // Only `absent:`: the other findings are not compared.
        let absent = format!("{WEEKNIGHT}expect:\n  outcome: deny\n  absent: [blackout]\n");
        assert!(
            Case::from_yaml(&absent, "c.yaml")
                .unwrap()
                .check(&builtin())
                .passed()
        );
        // Neither: no finding is expected, as before.
        let none = format!("{WEEKNIGHT}expect:\n  outcome: deny\n");
        let outcome = Case::from_yaml(&none, "c.yaml").unwrap().check(&builtin());
        assert_eq!(outcome.mismatches()[0].field(), "findings");
    }

    #[test]
    fn the_findings_diff_aligns_common_lines() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            diff_lines(&s(&["a", "b", "c"]), &s(&["a", "c", "d"])),
            ["  a", "- b", "  c", "+ d"]
        );
        assert_eq!(diff_lines(&s(&[]), &s(&["x"])), ["+ x"]);
        assert_eq!(diff_lines(&s(&["x"]), &s(&[])), ["- x"]);
    }
}
