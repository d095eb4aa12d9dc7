//! The generated editor files: the JSON Schemas in docs/schema/ and the Rhai definitions in
//! docs/script-api.d.rhai are what the code generates, every example and test document
//! validates against its schema, and known-bad documents do not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

const REGENERATE: &str =
    "regenerate with `cargo run --example write_schemas` and commit the result";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema(name: &str) -> Value {
    changegate::schemas()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no schema named `{name}`"))
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&schema(name))
        .unwrap_or_else(|e| panic!("the `{name}` schema is not a valid JSON Schema: {e}"))
}

/// A YAML (or JSON) file read as JSON, through serde.
fn read_yaml(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The errors of `doc` against the schema `name`, one line each.
fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(name: &str, validator: &jsonschema::Validator, doc: &Value, origin: &str) {
    let errs = errors(validator, doc);
    assert!(
        errs.is_empty(),
        "{origin} does not validate against the `{name}` schema:\n{}",
        errs.join("\n")
    );
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn the_schema_files_are_what_the_code_generates() {
    let schemas = changegate::schemas();
    let names: Vec<&str> = schemas.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "policy",
            "request",
            "calendar",
            "validation",
            "history",
            "approvals",
            "directory",
            "measurements",
            "events",
            "rollbacks",
            "decision"
        ]
    );
    for (name, schema) in schemas {
        let path = root().join(format!("docs/schema/{name}.schema.json"));
        let written = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; {REGENERATE}", path.display()));
        let mut generated = serde_json::to_string_pretty(&schema).unwrap();
        generated.push('\n');
        assert!(
            written == generated,
            "{} is not what `changegate::schemas()` generates: {REGENERATE}",
            path.display()
        );
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        // Each is itself a valid schema.
        validator(name);
    }
    let mut on_disk: Vec<String> = fs::read_dir(root().join("docs/schema"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = names.iter().map(|n| format!("{n}.schema.json")).collect();
    expected.sort();
    assert_eq!(
        on_disk, expected,
        "docs/schema holds a stale file: {REGENERATE}"
    );
}

#[test]
fn the_definitions_file_is_what_the_code_generates() {
    let path = root().join("docs/script-api.d.rhai");
    let written = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; {REGENERATE}", path.display()));
    assert!(
        written == changegate::script_definitions(),
        "{} is not what `changegate::script_definitions()` generates: {REGENERATE}",
        path.display()
    );
}

#[test]
fn the_definitions_document_every_policy_function_hook_and_type() {
    let defs = changegate::script_definitions();
    let lines: Vec<&str> = defs.lines().collect();
    // Each policy function (every overload) is declared with a doc comment right above it.
    let policy_functions = [
        "deny",
        "warn",
        "pending",
        "label",
        "within_hours",
        "now",
        "minutes_between",
        "next_local_time",
        "add_minutes",
        "overlapping_deployments",
        "overlapping_deployments_page",
        "count_overlapping_deployments",
        "overlapping_with_same_label",
        "overlapping_with_label",
        "deployments_between",
        "deployment",
        "add_risk",
        "risk_score",
        "approvals",
        "approved_by",
        "approvers_in_role",
        "count_in_role",
        "has_role",
        "roles_of",
        "risk_level",
        "avg",
        "min",
        "max",
        "last",
        "p50",
        "p90",
        "p95",
        "p99",
        "count",
        "rate",
        "samples",
        "baseline",
        "events",
        "rollback_to",
    ];
    for name in policy_functions {
        let declared: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with(&format!("fn {name}(")))
            .map(|(i, _)| i)
            .collect();
        assert!(!declared.is_empty(), "`{name}` is not in the definitions");
        let documented = declared
            .iter()
            .filter(|i| **i > 0 && lines[**i - 1].starts_with("///"))
            .count();
        assert!(
            documented > 0,
            "`{name}` has no documented declaration in the definitions"
        );
    }
    // The request's properties and the instant's, with their types.
    for getter in [
        "fn get start(this: Request) -> Instant;",
        "fn get services(this: Request) -> array;",
        "fn get hour(this: Instant) -> int;",
        "fn deny(rule: string, message: string) -> ();",
        "fn deny(rule: string, message: string, details: map) -> ();",
        "fn add_risk(points: int, reason: string) -> ();",
        "fn avg(metric: string, window: string) -> ?;",
        "fn approved_by(person: string) -> bool;",
    ] {
        assert!(defs.contains(getter), "no `{getter}` in:\n{defs}");
    }
    // Every hook, with its documentation.
    for hook in [
        "fn schedule(request: Request);",
        "fn risk(ctx: Request);",
        "fn approvals(ctx: Request);",
        "fn gates(ctx: Request);",
        "fn rollback(ctx: Request);",
    ] {
        let at = lines
            .iter()
            .position(|l| *l == hook)
            .unwrap_or_else(|| panic!("no `{hook}` in the definitions"));
        assert!(lines[at - 1].starts_with("/// "), "`{hook}` has no doc");
    }
    assert!(
        defs.contains("// Request: "),
        "the Request type is not described"
    );
    assert!(
        defs.contains("// Instant: "),
        "the Instant type is not described"
    );
    // The sandbox's packages are listed; what it removed (`eval`) is not.
    assert!(defs.contains("fn push("), "array functions are missing");
    assert!(
        !defs.contains("fn eval("),
        "`eval` is not available to scripts"
    );
}

#[test]
fn the_examples_and_bundles_validate_against_their_schemas() {
    let mut checked = 0;
    let policy = validator("policy");
    let mut policies = vec![root().join("policies/policy.yaml")];
    let mut bundles: Vec<PathBuf> = fs::read_dir(root().join("tests/cases/bundles"))
        .unwrap()
        .map(|e| e.unwrap().path().join("policy.yaml"))
        .filter(|p| p.exists())
        .collect();
    bundles.sort();
    policies.extend(bundles);
    for path in &policies {
        assert_valid(
            "policy",
            &policy,
            &read_yaml(path),
            &path.display().to_string(),
        );
        checked += 1;
    }
    for entry in fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let name = match stem.as_str() {
            s if s.starts_with("request") => "request",
            // The deployment the gates and rollback examples watch: a request.
            "deployment" => "request",
            other => other,
        };
        assert_valid(
            name,
            &validator(name),
            &read_yaml(&path),
            &path.display().to_string(),
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} files checked");
}

#[test]
fn the_documents_inside_the_test_cases_validate_against_their_schemas() {
    let mut cases = Vec::new();
    files(&root().join("tests/cases"), &mut cases);
    cases.retain(|p| !p.components().any(|c| c.as_os_str() == "bundles"));
    assert!(cases.len() > 100, "only {} case files", cases.len());
    let parts = [
        "request",
        "calendar",
        "validation",
        "history",
        "approvals",
        "directory",
        "measurements",
        "events",
        "rollbacks",
    ];
    let validators: Vec<jsonschema::Validator> = parts.iter().map(|p| validator(p)).collect();
    let mut checked = 0;
    for path in &cases {
        let case = read_yaml(path);
        for (part, validator) in parts.iter().zip(&validators) {
            // A null part is an empty document, which the readers accept.
            if let Some(doc) = case.get(part).filter(|d| !d.is_null()) {
                assert_valid(
                    part,
                    validator,
                    doc,
                    &format!("`{part}` of {}", path.display()),
                );
                checked += 1;
            }
        }
    }
    assert!(checked > cases.len(), "only {checked} documents checked");
}

#[test]
fn known_bad_documents_fail_their_schemas() {
    let request = validator("request");
    let good = json!({
        "id": "dep-1",
        "service": "checkout",
        "environment": "production",
        "type": "feature",
        "start": "2026-12-01T22:00:00+01:00",
        "duration": "2h30m",
    });
    assert_valid("request", &request, &good, "a good request");
    let with = |key: &str, value: Value| {
        let mut doc = good.clone();
        doc[key] = value;
        doc
    };
    for (bad, why) in [
        (with("strat", json!("x")), "additional"),
        (
            with("start", json!("2026-12-01T22:00:00")),
            "does not match",
        ),
        // An optional field: its schema is "a duration, or null".
        (
            with("duration", json!("2 hours")),
            "at `/duration`: \"2 hours\" is not valid",
        ),
        (with("services", json!("checkout")), "not of type"),
    ] {
        let errs = errors(&request, &bad).join("\n").to_lowercase();
        assert!(errs.contains(why), "{bad} gave: {errs}");
        // The reader refuses it too.
        let text = serde_json::to_string(&bad).unwrap();
        assert!(
            changegate::ChangeRequest::from_yaml(&text, "bad.json").is_err(),
            "{bad}"
        );
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("start");
    assert!(
        errors(&request, &missing)
            .join("\n")
            .contains("\"start\" is a required property"),
        "{:?}",
        errors(&request, &missing)
    );

    // Each bad policy next to the same policy with the mistake fixed: only the mistake fails.
    let policy = validator("policy");
    let env = |section: Value| json!({"timezone": "UTC", "environments": {"production": section}});
    let gate = |aggregation: &str| {
        env(json!({"gates": {"rules": [
            {"name": "g", "metric": "m", "aggregation": aggregation, "window": "5m", "max": 1}
        ]}}))
    };
    for (bad, fixed) in [
        (
            env(json!({"advance_notce": {"min": "1h"}})),
            env(json!({"advance_notice": {"min": "1h"}})),
        ),
        (
            env(json!({"max_duration": {"max": "8 hours"}})),
            env(json!({"max_duration": {"max": "8h"}})),
        ),
        (
            env(json!({"approvals": {"rules": [{"name": "r", "roles": ["a"], "min": 0}]}})),
            env(json!({"approvals": {"rules": [{"name": "r", "roles": ["a"], "min": "all"}]}})),
        ),
        (gate("mean"), gate("p95")),
        (
            env(json!({"blackouts": [{"name": "x", "weekly": {"from": "fri 16:00"}}]})),
            env(
                json!({"blackouts": [{"name": "x", "weekly": {"from": "fri 16:00", "to": "mon 06:00"}}]}),
            ),
        ),
        (
            json!({"environments": {}}),
            json!({"timezone": "UTC", "environments": {}}),
        ),
    ] {
        assert!(!policy.is_valid(&bad), "{bad} validates");
        assert_valid("policy", &policy, &fixed, &fixed.to_string());
        // The reader agrees on both.
        let load = |doc: &Value| {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join("policy.yaml"), doc.to_string()).unwrap();
            changegate::PolicySet::load(dir.path()).map(|_| ())
        };
        assert!(load(&bad).is_err(), "{bad} loads");
        assert!(load(&fixed).is_ok(), "{fixed}: {:?}", load(&fixed));
    }

    let approvals = validator("approvals");
    let approval =
        json!({"by": "a@example.com", "decision": "approve", "at": "2026-12-01T08:00:00Z"});
    assert_valid("approvals", &approvals, &json!([approval]), "a list");
    assert_valid(
        "approvals",
        &approvals,
        &json!({"approvals": [approval]}),
        "a document",
    );
    assert!(
        !approvals
            .is_valid(&json!([{"by": "a", "decision": "maybe", "at": "2026-12-01T08:00:00Z"}]))
    );

    // A decision the library made validates against the decision schema; a wrong one does not.
    let decision_schema = validator("decision");
    let policy_set = changegate::PolicySet::builtin().unwrap();
    let req = changegate::ChangeRequest::from_yaml(
        &serde_json::to_string(&good).unwrap(),
        "request.json",
    )
    .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let decision = policy_set.check_schedule(&req, &changegate::Calendar::default(), now);
    let value = decision.to_json();
    assert_valid("decision", &decision_schema, &value, "a schedule decision");
    let mut wrong = value.clone();
    wrong["outcome"] = json!("maybe");
    assert!(!decision_schema.is_valid(&wrong));
}
