#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The hostile scripts of `tests/hostile/`, one bundle per class of attack. Each bundle holds a
//! hostile script (`hostile.rhai`), a healthy one that runs after it (`z_healthy.rhai`) and
//! `expect.yaml`:
//!
//! ```yaml
//! message: "..."        # a policy_error deny of hostile.rhai whose message contains this
//! rule: sorted          # instead of policy_error: the hostile script's own finding
//! line: 3               # the finding's source line, when given
//! limit: cost budget    # the limit the policy_error names in its details (with the cost)
//! labels: 9000          # the request carries this many labels
//! deployments: 1000     # the calendar holds this many deployments overlapping the request
//! load_error: "..."     # the bundle must not load; the error names hostile.rhai and this
//! ```
//!
//! Every bundle is also run on a thread with a 2 MiB stack, and the decision stays bounded.

use std::path::{Path, PathBuf};

use changegate::{Calendar, ChangeRequest, Decision, PolicySet};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The cost budget of one hook call (`limits::COST_BUDGET`).
const COST_BUDGET: u64 = 1_000_000;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn request(labels: u64) -> ChangeRequest {
    let mut yaml = "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
                    start: 2026-12-01T22:00:00+01:00\nduration: 2h\n"
        .to_owned();
    if labels > 0 {
        yaml.push_str("labels:\n");
        for i in 0..labels {
            yaml.push_str(&format!("  l{i}: {i}\n"));
        }
    }
    ChangeRequest::from_yaml(&yaml, "request.yaml").unwrap()
}

fn calendar(deployments: u64) -> Calendar {
    if deployments == 0 {
        return Calendar::default();
    }
    let mut yaml = "deployments:\n".to_owned();
    for i in 0..deployments {
        yaml.push_str(&format!(
            "  - {{id: other-{i}, service: svc-{i}, environment: production, type: feature, \
             start: 2026-12-01T21:00:00+01:00, duration: 3h, labels: {{team: t{i}}}}}\n"
        ));
    }
    Calendar::from_yaml(&yaml, "calendar.yaml").unwrap()
}

fn bundles() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("hostile");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    // HOSTILE_ONLY=name runs one bundle (for debugging a crash).
    if let Ok(only) = std::env::var("HOSTILE_ONLY") {
        dirs.retain(|d| d.ends_with(&only));
        return dirs;
    }
    dirs.sort();
    assert!(dirs.len() >= 15, "found only {} bundles", dirs.len());
    dirs
}

fn expect(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("expect.yaml")).unwrap();
    yaml::from_str(&text).unwrap()
}

/// Runs one bundle and checks it; `Err` says what did not match.
fn run(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let e = expect(dir);
    let text = |k: &str| e.get(k).and_then(Value::as_str);
    let num = |k: &str| e.get(k).and_then(Value::as_u64).unwrap_or(0);
    let loaded = PolicySet::load(dir);
    if let Some(wanted) = text("load_error") {
        return match loaded {
            Ok(_) => Err(format!("{name}: loaded, expected a load error")),
            Err(err) => {
                let msg = err.to_string();
                if msg.contains(wanted) && msg.contains("hostile.rhai") {
                    Ok(())
                } else {
                    Err(format!(
                        "{name}: load error `{msg}` lacks `{wanted}` or the file"
                    ))
                }
            }
        };
    }
    let policy = loaded.map_err(|err| format!("{name}: does not load: {err}"))?;
    let (request, calendar) = (request(num("labels")), calendar(num("deployments")));
    let started = std::time::Instant::now();
    let decision = policy.check_schedule(&request, &calendar, now());
    // For a look at the times (`--nocapture`); nothing asserts on the wall clock.
    eprintln!("{name}: check took {:?}", started.elapsed());
    check(&name, &e, &decision)
}

fn check(name: &str, e: &Value, d: &Decision) -> Result<(), String> {
    let text = |k: &str| e.get(k).and_then(Value::as_str);
    let all = || {
        format!(
            "{:#?}",
            d.findings
                .iter()
                .map(|f| (&f.rule, &f.message, &f.source, &f.details))
                .collect::<Vec<_>>()
        )
    };
    if d.allowed {
        return Err(format!("{name}: allowed"));
    }
    let rule = text("rule").unwrap_or("policy_error");
    let wanted = text("message").unwrap_or("");
    let found = d.findings.iter().find(|f| {
        f.rule.as_str() == rule
            && f.source
                .as_deref()
                .is_some_and(|s| s.contains("hostile.rhai"))
            && f.message.contains(wanted)
    });
    let Some(found) = found else {
        let head: String = all().chars().take(3000).collect();
        return Err(format!(
            "{name}: no `{rule}` of hostile.rhai with `{wanted}` in {head}"
        ));
    };
    if rule == "policy_error" && !found.message.contains("hostile.rhai") {
        return Err(format!(
            "{name}: the policy_error does not name the script: {}",
            found.message
        ));
    }
    if let Some(line) = e.get("line").and_then(Value::as_u64) {
        let source = found.source.clone().unwrap_or_default();
        if !source.ends_with(&format!(":{line}")) {
            return Err(format!("{name}: source {source}, expected line {line}"));
        }
    }
    if let Some(limit) = text("limit") {
        if found.details.get("limit").and_then(Value::as_str) != Some(limit) {
            return Err(format!(
                "{name}: details {:?} lack limit {limit}",
                found.details
            ));
        }
        let cost = found
            .details
            .get("cost")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        // Stopped once the budget is spent, by at most one query's worth more.
        if !(COST_BUDGET..=COST_BUDGET + 100_000).contains(&cost) {
            return Err(format!("{name}: cost {cost} outside the budget"));
        }
    }
    if !d.findings.iter().any(|f| f.rule.as_str() == "healthy") {
        return Err(format!(
            "{name}: the healthy script did not report: {}",
            all()
        ));
    }
    // Memory bounds: every message cut at 4 KiB, at most 100 findings a script, a decision
    // well under 1 MiB of JSON.
    if let Some(f) = d.findings.iter().find(|f| f.message.len() > 4096 + 256) {
        return Err(format!("{name}: a message of {} bytes", f.message.len()));
    }
    if d.findings.len() > 2 * 100 + 10 {
        return Err(format!("{name}: {} findings", d.findings.len()));
    }
    let json = d.to_json().to_string().len();
    if json > 1024 * 1024 {
        return Err(format!("{name}: {json} bytes of JSON"));
    }
    Ok(())
}

fn run_all() -> Vec<String> {
    bundles().iter().filter_map(|d| run(d).err()).collect()
}

#[test]
fn hostile_bundles_fail_closed() {
    let failures = run_all();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn hostile_bundles_fail_closed_on_a_2_mib_stack() {
    let failures = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(run_all)
        .unwrap()
        .join()
        .expect("no stack overflow, no panic");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn policy_yaml() -> (String, String) {
    (
        "policy.yaml".to_owned(),
        "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
    )
}

#[test]
fn a_huge_source_is_a_load_error_naming_the_file() {
    let mut script = "fn schedule(request) {}\n".to_owned();
    while script.len() <= 256 * 1024 {
        script.push_str("// padding padding padding padding padding padding padding padding\n");
    }
    let err = PolicySet::from_sources("b", [policy_yaml(), ("huge.rhai".to_owned(), script)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("huge.rhai") && err.contains("more than the limit of 262144 bytes"),
        "{err}"
    );
}

#[test]
fn a_wrong_hook_arity_names_the_line_of_the_fn() {
    let script = "// a comment\n\nfn schedule(request, extra) {\n}\n".to_owned();
    let err = PolicySet::from_sources("b", [policy_yaml(), ("arity.rhai".to_owned(), script)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("arity.rhai:3"), "{err}");
}

#[test]
fn forty_term_conditions_compile() {
    let and: Vec<String> = (0..40).map(|i| format!("request.id != \"x{i}\"")).collect();
    let plus: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let script = format!(
        "fn schedule(request) {{\n    if {} {{\n        warn(\"sum\", `${{{}}}`);\n    }}\n}}\n",
        and.join(" && "),
        plus.join(" + ")
    );
    let policy =
        PolicySet::from_sources("b", [policy_yaml(), ("long.rhai".to_owned(), script)]).unwrap();
    let d = policy.check_schedule(&request(0), &Calendar::default(), now());
    assert_eq!(d.findings.len(), 1, "{:?}", d.findings);
    assert_eq!(d.findings[0].message, "780");
}

#[test]
fn a_legitimate_calendar_script_stays_within_the_budget() {
    // 200 overlapping deployments read a few times each: well within the cost budget.
    let script = "fn schedule(request) {\n    let n = 0;\n    for i in 0..3 {\n        for d in overlapping_deployments() {\n            n += d.services.len() + d.labels.len();\n        }\n    }\n    warn(\"count\", `${n}`);\n}\n";
    let policy = PolicySet::from_sources(
        "b",
        [policy_yaml(), ("ok.rhai".to_owned(), script.to_owned())],
    )
    .unwrap();
    let d = policy.check_schedule(&request(200), &calendar(200), now());
    assert_eq!(d.findings.len(), 1, "{:?}", d.findings);
    assert_eq!(d.findings[0].message, "1200");
}

#[test]
fn reading_a_large_array_by_reference_is_not_charged_as_a_copy() {
    // Building a 10 000-item array with `push` and reading it back by index pass the variable by
    // reference: only copies (`let b = a;`, `f(a)`) are charged per item, so this stays within
    // the budget where 30 copies of the same array would not.
    let script = "fn schedule(request) {\n    let a = [];\n    for i in 0..10000 { a.push(i); }\n    let s = 0;\n    for i in 0..a.len() { s += a[i]; }\n    warn(\"sum\", `${s}`);\n}\n";
    let policy = PolicySet::from_sources(
        "b",
        [policy_yaml(), ("ok.rhai".to_owned(), script.to_owned())],
    )
    .unwrap();
    let d = policy.check_schedule(&request(0), &calendar(0), now());
    assert_eq!(d.findings.len(), 1, "{:?}", d.findings);
    assert_eq!(d.findings[0].message, "49995000");

    let copies = "fn schedule(request) {\n    let a = [];\n    a.pad(10000, 1);\n    let n = 0;\n    for i in 0..100 { let b = a; n += b.len(); }\n    warn(\"n\", `${n}`);\n}\n";
    let policy = PolicySet::from_sources(
        "b",
        [policy_yaml(), ("copies.rhai".to_owned(), copies.to_owned())],
    )
    .unwrap();
    let d = policy.check_schedule(&request(0), &calendar(0), now());
    assert_eq!(d.outcome, changegate::Outcome::Deny, "{:?}", d.findings);
    assert_eq!(d.findings[0].rule.as_str(), "policy_error");
    assert_eq!(d.findings[0].details["limit"], "cost budget");
}
