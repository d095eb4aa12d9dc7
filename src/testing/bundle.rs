//! A bundle's own tests (`changegate test`): every case under the bundle's `tests/` folder, run
//! against that bundle, and what they exercised of it (coverage).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Case, CaseCheck, CaseError, CaseOutcome, find_cases};
use crate::error::{InputError, LoadError};
use crate::policy::PolicySet;
use crate::rules::schedule::ScheduleCtx;

/// The folder of a bundle's own tests (the loader skips it too).
const TESTS_DIR: &str = "tests";

/// The kinds of things coverage counts, in report order.
pub const COVERAGE_KINDS: [&str; 8] = [
    "rules",
    "blackouts",
    "windows",
    "risk",
    "approvals",
    "gates",
    "triggers",
    "scripts",
];

/// What coverage does not measure, said in every report rather than shown as a number.
pub const SCRIPT_LINES_NOTE: &str = "script line coverage is not measured (rhai is not instrumented); \
     a script counts as covered when one of its hooks produced a finding";

/// The result of one case file of a bundle's tests.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CaseResult {
    /// The case ran; it passed or failed ([`CaseOutcome::passed`]).
    Ran(Box<CaseOutcome>),
    /// The case file is invalid, or the bundle it names does not load.
    Invalid {
        /// The case file.
        path: PathBuf,
        /// Why it could not run.
        error: CaseError,
    },
}

impl CaseResult {
    /// The case file's path.
    pub fn path(&self) -> &Path {
        match self {
            CaseResult::Ran(o) => o.path(),
            CaseResult::Invalid { path, .. } => path,
        }
    }

    /// `passed`, `failed` or `invalid`.
    pub fn status(&self) -> &'static str {
        match self {
            CaseResult::Ran(o) if o.passed() => "passed",
            CaseResult::Ran(_) => "failed",
            CaseResult::Invalid { .. } => "invalid",
        }
    }

    /// What the case is about (empty for an invalid case).
    pub fn description(&self) -> &str {
        match self {
            CaseResult::Ran(o) => o.description(),
            CaseResult::Invalid { .. } => "",
        }
    }

    /// The difference between the expectation and the decision, one line per mismatch
    /// (with the findings diff indented under it), or the error of an invalid case; empty when
    /// the case passed.
    pub fn diff(&self) -> String {
        match self {
            CaseResult::Ran(o) if o.passed() => String::new(),
            CaseResult::Ran(o) => {
                let lines: Vec<String> = o.mismatches().iter().map(|m| m.to_string()).collect();
                lines.join("\n")
            }
            CaseResult::Invalid {
                error: CaseError::Case(e),
                ..
            } => match e.field.as_deref() {
                Some(field) if !e.message.contains(field) => format!("{e} (field `{field}`)"),
                _ => e.to_string(),
            },
            CaseResult::Invalid { error, .. } => error.to_string(),
        }
    }
}

/// One thing coverage counts: a rule, blackout, window, ... of one environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct CoverageItem {
    /// One of [`COVERAGE_KINDS`].
    pub kind: &'static str,
    /// The environment (`*` for scripts, which belong to the whole bundle).
    pub environment: String,
    /// The rule id, blackout, window, factor, approval rule, gate, trigger or script file.
    pub name: String,
}

/// What a bundle's tests exercised, out of what the bundle configures.
///
/// Per kind, an item is covered when at least one case:
/// - `rules` (the built-in schedule rules an environment configures): produced a finding of
///   that rule id;
/// - `blackouts`: produced a `blackout` finding naming it;
/// - `windows` (preferred windows): checked a change (schedule or readiness) that ran inside it;
/// - `risk` (factors, and overrides as `override <name>`): scored points / matched;
/// - `approvals` (rules by name): applied to a change (listed in `details.approvals.rules`);
/// - `gates`: were evaluated on data (status `pass`, `warn` or `fail`);
/// - `triggers` (rollback triggers): fired;
/// - `scripts`: produced a finding (see [`SCRIPT_LINES_NOTE`]).
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    items: BTreeMap<CoverageItem, bool>,
}

impl Coverage {
    /// Every item the bundle configures, with whether the tests exercised it.
    pub fn items(&self) -> impl Iterator<Item = (&CoverageItem, bool)> {
        self.items.iter().map(|(i, c)| (i, *c))
    }

    /// `(covered, total)` of one kind, or of every kind with `None`.
    pub fn count(&self, kind: Option<&str>) -> (usize, usize) {
        let of_kind = self
            .items
            .iter()
            .filter(|(i, _)| kind.is_none_or(|k| i.kind == k));
        let (mut covered, mut total) = (0, 0);
        for (_, c) in of_kind {
            total += 1;
            if *c {
                covered += 1;
            }
        }
        (covered, total)
    }

    /// The covered share in percent (100 when there is nothing to cover).
    pub fn percent(&self, kind: Option<&str>) -> f64 {
        let (covered, total) = self.count(kind);
        percent(covered, total)
    }

    /// The items the tests never exercised.
    pub fn uncovered(&self) -> impl Iterator<Item = &CoverageItem> {
        self.items.iter().filter(|(_, c)| !**c).map(|(i, _)| i)
    }

    /// The part of the coverage about one environment (scripts included).
    pub fn for_environment(&self, environment: &str) -> Coverage {
        Coverage {
            items: self
                .items
                .iter()
                .filter(|(i, _)| i.environment == environment || i.environment == "*")
                .map(|(i, c)| (i.clone(), *c))
                .collect(),
        }
    }

    /// The coverage as JSON: `{kinds: {rules: {covered, total, percent}, ...}, covered, total,
    /// percent, uncovered: [{kind, environment, name}], script_lines: "..."}`.
    pub fn to_json(&self) -> Value {
        let mut kinds = serde_json::Map::new();
        for kind in COVERAGE_KINDS {
            let (covered, total) = self.count(Some(kind));
            kinds.insert(
                kind.to_owned(),
                json!({"covered": covered, "total": total, "percent": percent(covered, total)}),
            );
        }
        let (covered, total) = self.count(None);
        let uncovered: Vec<Value> = self
            .uncovered()
            .map(|i| json!({"kind": i.kind, "environment": i.environment, "name": i.name}))
            .collect();
        json!({
            "kinds": kinds,
            "covered": covered,
            "total": total,
            "percent": percent(covered, total),
            "uncovered": uncovered,
            "script_lines": SCRIPT_LINES_NOTE,
        })
    }

    fn configure(&mut self, kind: &'static str, environment: &str, name: impl Into<String>) {
        self.items
            .entry(item(kind, environment, name))
            .or_insert(false);
    }

    /// Marks an item covered, if the bundle configures it.
    fn hit(&mut self, kind: &'static str, environment: &str, name: impl Into<String>) {
        if let Some(c) = self.items.get_mut(&item(kind, environment, name)) {
            *c = true;
        }
    }
}

fn item(kind: &'static str, environment: &str, name: impl Into<String>) -> CoverageItem {
    CoverageItem {
        kind,
        environment: environment.to_owned(),
        name: name.into(),
    }
}

fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 {
        return 100.0;
    }
    // Counts of rules are small: the conversions are exact.
    #[allow(clippy::cast_precision_loss)]
    let p = covered as f64 * 100.0 / total as f64;
    (p * 10.0).round() / 10.0
}

/// What running a bundle's tests gave: one result per case file, in path order, and the
/// coverage.
#[derive(Debug, Clone)]
pub struct TestReport {
    cases: Vec<CaseResult>,
    coverage: Coverage,
}

impl TestReport {
    /// Every case file's result, in path order.
    pub fn cases(&self) -> &[CaseResult] {
        &self.cases
    }

    /// What the tests exercised of the bundle.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// How many cases passed, failed, and could not run.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for c in &self.cases {
            match c.status() {
                "passed" => counts.0 += 1,
                "failed" => counts.1 += 1,
                _ => counts.2 += 1,
            }
        }
        counts
    }

    /// Whether every case ran and passed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.status() == "passed")
    }
}

/// Why a bundle's tests could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleTestError {
    /// The bundle does not load.
    #[error(transparent)]
    Policy(Box<LoadError>),
    /// The bundle's `tests/` folder cannot be read.
    #[error(transparent)]
    Folder(InputError),
}

/// The case files of the bundle in `bundle` (`tests/**/*.yaml` and `*.yml`, sorted), those
/// whose path (relative to `tests/`) or description match `filter` when given: a substring,
/// or a glob with `*` (any run of characters) and `?` (one character) matched against the
/// whole path. A bundle without `tests/` has no cases.
///
/// # Errors
/// A folder under `tests/` that cannot be read.
pub fn find_bundle_tests(bundle: impl AsRef<Path>) -> Result<Vec<PathBuf>, InputError> {
    let dir = bundle.as_ref().join(TESTS_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    find_cases(dir)
}

/// Whether a case (its path relative to the bundle's `tests/`, and its description) matches a
/// `--filter` pattern: a substring of either, or a glob (`*`, `?`) matching either whole.
pub fn filter_matches(pattern: &str, relative_path: &str, description: &str) -> bool {
    if pattern.contains(['*', '?']) {
        glob(pattern, relative_path) || glob(pattern, description)
    } else {
        relative_path.contains(pattern) || description.contains(pattern)
    }
}

/// `*` any run of characters (`/` included), `?` one character, anything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point, linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Runs the tests of the bundle in `bundle`: loads it (without its `tests/`), runs every case
/// under `tests/` that matches `filter` (see [`filter_matches`]), a case without `policy:`
/// against this bundle, and measures the [`Coverage`].
///
/// # Errors
/// The bundle does not load, or its `tests/` folder cannot be read. An invalid case file is
/// not an error: it is a [`CaseResult::Invalid`] in the report.
///
/// # Example
/// ```
/// use changegate::testing::run_bundle_tests;
/// let report = run_bundle_tests("policies", Some("weekend"))?;
/// assert!(report.passed());
/// assert!(report.coverage().count(Some("blackouts")).0 >= 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_bundle_tests(
    bundle: impl AsRef<Path>,
    filter: Option<&str>,
) -> Result<TestReport, BundleTestError> {
    // `./policies` and `policies` give the same finding sources.
    let normalized = super::normalize(bundle.as_ref());
    let bundle = if normalized.as_os_str().is_empty() {
        bundle.as_ref()
    } else {
        normalized.as_path()
    };
    let label = bundle.display().to_string();
    let policy = PolicySet::load(bundle).map_err(|e| BundleTestError::Policy(Box::new(e)))?;
    let paths = find_bundle_tests(bundle).map_err(BundleTestError::Folder)?;
    let tests_dir = bundle.join(TESTS_DIR);
    let mut coverage = configured(&policy);
    let mut cases = Vec::new();
    for path in paths {
        let relative = path
            .strip_prefix(&tests_dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let case = match Case::load(&path) {
            Ok(mut case) => {
                if case.policy().is_none() {
                    case.source_root = Some(label.clone());
                }
                case
            }
            Err(e) => {
                // An invalid file is reported whatever the filter: it would hide cases.
                if filter.is_none_or(|f| filter_matches(f, &relative, "")) {
                    cases.push(CaseResult::Invalid {
                        path,
                        error: CaseError::Case(e),
                    });
                }
                continue;
            }
        };
        if filter.is_some_and(|f| !filter_matches(f, &relative, case.description())) {
            continue;
        }
        match super::run_case(&case, &policy) {
            Ok(outcome) => {
                if case.policy().is_none() {
                    record(&mut coverage, &policy, &case, &outcome);
                }
                cases.push(CaseResult::Ran(Box::new(outcome)));
            }
            Err(error) => cases.push(CaseResult::Invalid { path, error }),
        }
    }
    Ok(TestReport { cases, coverage })
}

/// Everything the policy configures that coverage counts, none covered yet.
fn configured(policy: &PolicySet) -> Coverage {
    let mut c = Coverage::default();
    for env in policy.environments() {
        let Some(p) = policy.environment_policy(env) else {
            continue;
        };
        let s = &p.schedule;
        let rules = [
            (s.advance_notice.is_some(), "advance_notice"),
            (s.max_duration.is_some(), "max_duration"),
            (!s.blackouts.is_empty(), "blackout"),
            (s.preferred_window.is_some(), "preferred_window"),
            (s.conflicts.is_some(), "conflict"),
            (s.concurrency.is_some(), "concurrency"),
            (s.dependencies.is_some(), "dependency"),
        ];
        for (present, id) in rules {
            if present {
                c.configure("rules", env, id);
            }
        }
        for b in &s.blackouts {
            c.configure("blackouts", env, b.value.name.clone());
        }
        for w in s.preferred_window.iter().flat_map(|r| &r.value) {
            c.configure("windows", env, w.name.clone());
        }
        if let Some(r) = &p.risk {
            let factors = [
                (r.change_type.is_some(), "change_type"),
                (r.services.is_some(), "services"),
                (r.critical_services.is_some(), "critical_services"),
                (r.validation.is_some(), "validation"),
                (r.duration.is_some(), "duration"),
                (
                    r.outside_preferred_window.is_some(),
                    "outside_preferred_window",
                ),
                (r.failure_rate.is_some(), "failure_rate"),
                (r.incidents.is_some(), "incidents"),
            ];
            for (present, name) in factors {
                if present {
                    c.configure("risk", env, name);
                }
            }
            for o in &r.overrides {
                c.configure("risk", env, format!("override {}", o.name));
            }
        }
        for a in p.approvals.iter().flat_map(|a| &a.rules) {
            c.configure("approvals", env, a.name.clone());
        }
        for g in p.gates.iter().flat_map(|g| &g.gates) {
            c.configure("gates", env, g.name.clone());
        }
        for t in p.rollback.iter().flat_map(|r| &r.triggers) {
            c.configure("triggers", env, t.name.clone());
        }
    }
    for file in policy.files() {
        if file.ends_with(".rhai") {
            c.configure("scripts", "*", file.clone());
        }
    }
    c
}

/// Marks what one case of the bundle exercised.
fn record(c: &mut Coverage, policy: &PolicySet, case: &Case, outcome: &CaseOutcome) {
    let env = case.request().environment.as_str();
    let decision = outcome.decision();
    let scripts: BTreeSet<&String> = policy
        .files()
        .iter()
        .filter(|f| f.ends_with(".rhai"))
        .collect();
    for f in &decision.findings {
        let rule = f.rule.as_str();
        c.hit("rules", env, rule);
        if rule == "blackout" {
            if let Some(name) = f.details.get("blackout").and_then(Value::as_str) {
                c.hit("blackouts", env, name);
            }
        }
        if let Some(source) = &f.source {
            for s in &scripts {
                if source
                    .strip_prefix(s.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
                {
                    c.hit("scripts", "*", (*s).clone());
                }
            }
        }
    }
    let details = &decision.details;
    let list = |key: &str, field: &str| -> Vec<Value> {
        details
            .get(key)
            .and_then(|v| v.get(field))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for f in list("risk", "factors") {
        let scored = f.get("points").and_then(Value::as_u64).unwrap_or(0) > 0;
        if let (true, Some(name)) = (scored, f.get("name").and_then(Value::as_str)) {
            // `validation.security`: the `validation` factor, per category.
            c.hit("risk", env, name.split('.').next().unwrap_or(name));
        }
    }
    if let Some(name) = details
        .get("risk")
        .and_then(|r| r.get("override"))
        .and_then(|o| o.get("name"))
        .and_then(Value::as_str)
    {
        c.hit("risk", env, format!("override {name}"));
    }
    for r in list("approvals", "rules") {
        if let Some(name) = r.get("name").and_then(Value::as_str) {
            c.hit("approvals", env, name);
        }
    }
    for g in list("gates", "results") {
        let on_data = matches!(
            g.get("status").and_then(Value::as_str),
            Some("pass" | "warn" | "fail")
        );
        if let (true, Some(name)) = (on_data, g.get("name").and_then(Value::as_str)) {
            c.hit("gates", env, name);
        }
    }
    for t in list("rollback", "triggers") {
        let firing = t.get("state").and_then(Value::as_str) == Some("firing");
        if let (true, Some(name)) = (firing, t.get("name").and_then(Value::as_str)) {
            c.hit("triggers", env, name);
        }
    }
    if matches!(case.check, CaseCheck::Schedule | CaseCheck::Readiness) {
        let Some(rule) = policy
            .environment_policy(env)
            .and_then(|p| p.schedule.preferred_window.as_ref())
        else {
            return;
        };
        let ctx = ScheduleCtx::new(case.request(), case.calendar(), case.now());
        for w in rule.value.iter().filter(|w| w.touches(case.request())) {
            let mut inside = false;
            let _ = w.window.for_each_computed(&ctx.interval, |occ| {
                inside |= occ.covers(&ctx.interval);
            });
            if inside {
                c.hit("windows", env, w.name.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_texts() {
        assert!(glob("schedule/*.yaml", "schedule/a.yaml"));
        assert!(glob("*weekend*", "schedule/weekend-freeze.yaml"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(!glob("*.yml", "a.yaml"));
        assert!(glob("*", ""));
    }

    #[test]
    fn filters_are_substrings_or_globs() {
        assert!(filter_matches("weekend", "schedule/weekend.yaml", ""));
        assert!(filter_matches("freeze", "x.yaml", "the weekend freeze"));
        assert!(filter_matches("gates/*", "gates/latency.yaml", ""));
        assert!(!filter_matches("gates/*", "rollback/latency.yaml", "gates"));
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert!((percent(1, 3) - 33.3).abs() < 1e-9);
        assert!((percent(0, 0) - 100.0).abs() < 1e-9);
    }
}
