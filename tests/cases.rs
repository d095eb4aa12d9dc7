#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The data-driven cases: every `tests/cases/**/*.yaml` file is one case (a request, an optional
//! calendar and policy bundle, `now`, and the expected decision). Adding a case is adding a file.
//!
//! `tests/cases/bundles/` holds the policy bundles that cases name with `policy:`; it holds no
//! cases itself.
//!
//! The request and calendar of a case are written back out as YAML text and read with
//! [`ChangeRequest::from_yaml`] and [`Calendar::from_yaml`], so the real parser is exercised.
//! Every case runs; the test fails once at the end, listing every case that did not match.
//!
//! Case format:
//!
//! ```yaml
//! description: exactly 24h notice is enough
//! policy: ../bundles/new-york   # optional, relative to the case file; absent = built-in bundle
//! now: 2026-11-25T09:00:00Z
//! request: {id: dep-1, service: search, environment: production, type: feature, ...}
//! calendar: {deployments: [...], blackouts: [...]}   # optional
//! expect:
//!   outcome: deny                # allow | warn | deny
//!   findings:                    # the exact list of (rule, severity), in order
//!     - rule: blackout
//!       severity: deny
//!       details: {blackout: weekend-freeze}   # optional, a subset of the finding's details
//!       message_contains: weekend-freeze      # optional, a string or a list of strings
//!       source: policies/policy.yaml:16       # optional: exact, or `file:*` for any line
//!   trace: [...]                 # optional, exactly what scripts printed
//! ```

use std::path::{Component, Path, PathBuf};

use changegate::{Calendar, ChangeRequest, Decision, Finding, PolicySet};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    #[serde(default)]
    policy: Option<String>,
    now: String,
    request: yaml::Value,
    #[serde(default)]
    calendar: Option<yaml::Value>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    outcome: String,
    #[serde(default)]
    findings: Vec<ExpectFinding>,
    #[serde(default)]
    trace: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFinding {
    rule: String,
    severity: String,
    #[serde(default)]
    details: Option<Value>,
    #[serde(default)]
    message_contains: Option<OneOrMany>,
    #[serde(default)]
    source: Option<String>,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn collect_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "bundles") {
                continue;
            }
            collect_cases(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
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
    findings
        .iter()
        .map(|f| {
            format!(
                "\n      - {{rule: {}, severity: {}, details: {}, source: {:?}, message: {:?}}}",
                f.rule,
                f.severity.as_str(),
                Value::Object(f.details.clone()),
                f.source.as_deref().unwrap_or(""),
                f.message
            )
        })
        .collect()
}

fn compare(expect: &Expect, decision: &Decision) -> Vec<String> {
    let mut problems = Vec::new();
    if decision.outcome.as_str() != expect.outcome {
        problems.push(format!(
            "outcome is `{}`, expected `{}`",
            decision.outcome.as_str(),
            expect.outcome
        ));
    }
    if decision.allowed != (expect.outcome != "deny") {
        problems.push(format!(
            "allowed is {} with outcome `{}`",
            decision.allowed,
            decision.outcome.as_str()
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
    if actual != wanted {
        problems.push(format!("findings are {actual:?}, expected {wanted:?}"));
    } else {
        for (i, (e, f)) in expect.findings.iter().zip(&decision.findings).enumerate() {
            if let Some(details) = &e.details {
                let actual = Value::Object(f.details.clone());
                if !is_subset(details, &actual) {
                    problems.push(format!(
                        "findings[{i}] ({}) details are {actual}, expected to contain {details}",
                        e.rule
                    ));
                }
            }
            if let Some(parts) = &e.message_contains {
                for part in parts.items() {
                    if !f.message.contains(part) {
                        problems.push(format!(
                            "findings[{i}] ({}) message {:?} does not contain {part:?}",
                            e.rule, f.message
                        ));
                    }
                }
            }
            if let Some(source) = &e.source {
                if !source_matches(source, f.source.as_deref()) {
                    problems.push(format!(
                        "findings[{i}] ({}) source is {:?}, expected {source:?}",
                        e.rule, f.source
                    ));
                }
            }
        }
    }
    if let Some(trace) = &expect.trace {
        if &decision.trace != trace {
            problems.push(format!("trace is {:?}, expected {trace:?}", decision.trace));
        }
    }
    if !problems.is_empty() {
        problems.push(format!("actual findings:{}", describe(&decision.findings)));
    }
    problems
}

/// A sub-document as text for the real parsers: a string is taken as is, anything else is
/// written back out as YAML.
fn as_text(value: &yaml::Value) -> Result<String, String> {
    match value {
        yaml::Value::String(s) => Ok(s.clone()),
        other => yaml::to_string(other).map_err(|e| e.to_string()),
    }
}

fn run_case(path: &Path, builtin: &PolicySet) -> Result<(), Vec<String>> {
    let one = |s: String| vec![s];
    let text = std::fs::read_to_string(path).map_err(|e| one(format!("cannot read: {e}")))?;
    let case: Case = yaml::from_str(&text).map_err(|e| one(format!("not a valid case: {e}")))?;
    if case.description.trim().is_empty() {
        return Err(one("the case has no description".into()));
    }
    let policy = match &case.policy {
        None => builtin.clone(),
        Some(rel) => {
            let dir = path.parent().unwrap_or(Path::new(".")).join(rel);
            let dir = dir
                .strip_prefix(manifest_dir())
                .unwrap_or(&dir)
                .to_path_buf();
            PolicySet::load(normalize(&dir))
                .map_err(|e| one(format!("policy `{rel}` does not load: {e}")))?
        }
    };
    let now = changegate::time::parse_instant(&case.now).map_err(|e| one(e.to_string()))?;
    let request_text = as_text(&case.request).map_err(one)?;
    let request = ChangeRequest::from_yaml(&request_text, "request")
        .map_err(|e| one(format!("request does not parse: {e}\n{request_text}")))?;
    let calendar = match &case.calendar {
        None => Calendar::default(),
        Some(c) => {
            let calendar_text = as_text(c).map_err(one)?;
            Calendar::from_yaml(&calendar_text, "calendar")
                .map_err(|e| one(format!("calendar does not parse: {e}\n{calendar_text}")))?
        }
    };
    let decision = policy.check_schedule(&request, &calendar, now);
    let problems = compare(&case.expect, &decision);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[test]
fn data_driven_cases() {
    let root = manifest_dir().join("tests").join("cases");
    let mut paths = Vec::new();
    collect_cases(&root, &mut paths);
    let builtin = PolicySet::builtin().expect("the built-in bundle loads");
    let mut failures = Vec::new();
    for path in &paths {
        if let Err(problems) = run_case(path, &builtin) {
            let name = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string();
            failures.push(format!("{name}:\n    {}", problems.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n\n")
    );
    // Guards against a runner that silently finds nothing (a moved folder, a wrong filter).
    assert!(
        paths.len() >= 50,
        "expected the case folder to hold many cases, found {}",
        paths.len()
    );
}
