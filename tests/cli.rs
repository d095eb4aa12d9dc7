#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `changegate` binary as a CI pipeline runs it: exit codes 0 (allowed, warnings
//! included), 1 (denied), 2 (invalid input or policy) and 3 (pending); `--format json` equal to the
//! library's `Decision::to_json`; text output and error reports snapshotted with insta
//! (`tests/snapshots/cli__*.snap`; in CI, where `CI` is set, insta never writes snapshots and a
//! difference fails the test).
//!
//! Inputs are files in `tests/data/cli/`, `tests/cases/bundles/` and `examples/`, passed as
//! paths relative to the package root, so outputs hold no machine-specific paths.

use std::path::Path;
use std::process::{Command, Output};

use changegate::{Calendar, ChangeRequest, PolicySet};
use chrono::{DateTime, Utc};

const NOW: &str = "2026-11-25T09:00:00Z";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the changegate binary runs")
}

fn check(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    run(&all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Snapshots with the policy digest and the line numbers inside the default scripts masked:
/// both change whenever a policy file is edited, which is not what these snapshots are about.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"sha256:[0-9a-f]{64}", "sha256:[digest]"),
            (r"\[(policies/[a-z_]+\.rhai):[0-9]+\]", "[$1:N]"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

/// The decision the library gives for the same files, as JSON.
fn library_json(
    request: &str,
    calendar: Option<&str>,
    policy: Option<&str>,
    now: &str,
) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(request)).unwrap();
    let request = ChangeRequest::from_yaml(&text, request).unwrap();
    let calendar = match calendar {
        Some(path) => {
            Calendar::from_yaml(&std::fs::read_to_string(root.join(path)).unwrap(), path).unwrap()
        }
        None => Calendar::default(),
    };
    let policy = match policy {
        Some(dir) => PolicySet::load(dir).unwrap(),
        None => PolicySet::builtin().unwrap(),
    };
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(now)
        .unwrap()
        .with_timezone(&Utc);
    policy.check_schedule(&request, &calendar, now).to_json()
}

fn cli_json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(o)))
}

// ---------------------------------------------------------------------------------------------
// Exit codes and text output

#[test]
fn allowed_exits_0() {
    let o = check(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    snapshot!("allowed", stdout(&o));
}

#[test]
fn warning_exits_0() {
    let o = check(&[
        "--request",
        "tests/data/cli/request-warn.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    snapshot!("warn", stdout(&o));
}

#[test]
fn denied_exits_1() {
    let o = check(&[
        "--request",
        "tests/data/cli/request-denied.yaml",
        "--calendar",
        "tests/data/cli/calendar.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    snapshot!("denied", stdout(&o));
}

#[test]
fn missing_calendar_means_empty() {
    // Without --calendar the denied request loses its conflict, team overlap and calendar
    // blackout, but keeps the rest.
    let args = [
        "--request",
        "tests/data/cli/request-denied.yaml",
        "--now",
        NOW,
        "--format",
        "json",
    ];
    let o = check(&args);
    assert_eq!(o.status.code(), Some(1));
    let json = cli_json(&o);
    assert_eq!(
        json,
        library_json("tests/data/cli/request-denied.yaml", None, None, NOW)
    );
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "blackout",
            "preferred_window",
            "dependency",
            "change_ticket"
        ]
    );
}

#[test]
fn script_trace_is_printed() {
    let o = check(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--policy",
        "tests/cases/bundles/hostile-two-scripts",
        "--now",
        NOW,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    snapshot!("policy_dir_with_trace", stdout(&o));
}

// ---------------------------------------------------------------------------------------------
// Pending: not allowed yet (exit code 3)

/// `tests/data/cli/bundle-pending`: a script records `pending` until the request names who
/// approved it.
const PENDING_BUNDLE: &str = "tests/data/cli/bundle-pending";

#[test]
fn pending_exits_3() {
    let request = "tests/data/cli/request-allowed.yaml";
    let o = check(&[
        "--request",
        request,
        "--policy",
        PENDING_BUNDLE,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let json = cli_json(&o);
    assert_eq!(json, library_json(request, None, Some(PENDING_BUNDLE), NOW));
    assert_eq!(json["schema"], 1);
    assert_eq!(json["check"], "schedule");
    assert_eq!(json["outcome"], "pending");
    assert_eq!(json["allowed"], false);
    let severities: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        severities,
        [("approval_note", "warn"), ("approval", "pending")]
    );
    assert_eq!(
        json["findings"][1]["source"],
        "tests/data/cli/bundle-pending/approval.rhai:6"
    );
    assert_eq!(
        json["findings"][1]["details"]["missing"],
        serde_json::json!(["release"])
    );

    let o = check(&[
        "--request",
        request,
        "--policy",
        PENDING_BUNDLE,
        "--now",
        NOW,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    snapshot!("pending", stdout(&o));
}

#[test]
fn pending_becomes_allowed_with_the_evidence() {
    let o = check(&[
        "--request",
        "tests/data/cli/request-approved.yaml",
        "--policy",
        PENDING_BUNDLE,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json = cli_json(&o);
    assert_eq!(json["outcome"], "warn");
    assert_eq!(json["allowed"], true);
}

// ---------------------------------------------------------------------------------------------
// JSON output is the library's decision

#[test]
fn json_equals_the_library_decision() {
    let cases: [(&str, Option<&str>, Option<&str>, i32); 6] = [
        ("tests/data/cli/request-allowed.yaml", None, None, 0),
        ("tests/data/cli/request-warn.yaml", None, None, 0),
        ("tests/data/cli/request.json", None, None, 0),
        (
            "tests/data/cli/request-denied.yaml",
            Some("tests/data/cli/calendar.yaml"),
            None,
            1,
        ),
        (
            "tests/data/cli/request-allowed.yaml",
            None,
            Some("tests/cases/bundles/hostile-two-scripts"),
            1,
        ),
        (
            "tests/data/cli/request-warn.yaml",
            Some("examples/calendar.yaml"),
            Some("policies"),
            0,
        ),
    ];
    for (request, calendar, policy, code) in cases {
        let mut args = vec!["--request", request, "--now", NOW, "--format", "json"];
        if let Some(c) = calendar {
            args.extend(["--calendar", c]);
        }
        if let Some(p) = policy {
            args.extend(["--policy", p]);
        }
        let o = check(&args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        let json = cli_json(&o);
        assert_eq!(
            json,
            library_json(request, calendar, policy, NOW),
            "{args:?}"
        );
        assert_eq!(json["allowed"], code == 0, "{args:?}");
    }
}

#[test]
fn examples_agree_with_the_library() {
    // The files in examples/ change with the docs; whatever they say, the CLI and the library
    // must agree, and the exit code must follow the decision.
    let mut requests: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("request") && (n.ends_with(".yaml") || n.ends_with(".json")))
            .map(|n| format!("examples/{n}"))
            .collect();
    requests.sort();
    assert!(!requests.is_empty(), "examples/ has no request");
    let calendar = "examples/calendar.yaml";
    let now = "2026-11-28T09:00:00Z";
    for request in &requests {
        let o = check(&[
            "--request",
            request,
            "--calendar",
            calendar,
            "--now",
            now,
            "--format",
            "json",
        ]);
        let json = cli_json(&o);
        assert_eq!(
            json,
            library_json(request, Some(calendar), None, now),
            "{request}"
        );
        let expected_code = if json["allowed"] == true { 0 } else { 1 };
        assert_eq!(o.status.code(), Some(expected_code), "{request}");
        // And the text form gives the same exit code.
        let o = check(&["--request", request, "--calendar", calendar, "--now", now]);
        assert_eq!(o.status.code(), Some(expected_code), "{request}");
        let verdict = json["outcome"].as_str().unwrap().to_uppercase();
        assert!(
            stdout(&o).starts_with(&verdict),
            "{request}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn default_bundle_equals_policy_dir() {
    let base = [
        "--request",
        "tests/data/cli/request-warn.yaml",
        "--now",
        NOW,
        "--format",
        "json",
    ];
    let builtin = cli_json(&check(&base));
    let mut args = base.to_vec();
    args.extend(["--policy", "policies"]);
    let dir = cli_json(&check(&args));
    assert_eq!(builtin, dir);
}

// ---------------------------------------------------------------------------------------------
// Invalid input: exit code 2, file:line:col and a snippet on stderr, nothing on stdout

#[track_caller]
fn invalid(args: &[&str]) -> String {
    let o = check(args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    assert_eq!(stdout(&o), "", "nothing on stdout for invalid input");
    let err = stderr(&o);
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn unknown_field_in_request() {
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-strat.yaml",
        "--now",
        NOW,
    ]);
    assert!(
        err.starts_with("error: tests/data/cli/request-strat.yaml:3:1: unknown field `strat`"),
        "{err}"
    );
    snapshot!("error_unknown_field", err);
}

#[test]
fn time_without_offset_in_request() {
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-no-offset.yaml",
        "--now",
        NOW,
    ]);
    assert!(
        err.starts_with("error: tests/data/cli/request-no-offset.yaml:5:1: "),
        "{err}"
    );
    snapshot!("error_no_offset", err);
}

#[test]
fn duplicate_id_in_calendar() {
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--calendar",
        "tests/data/cli/calendar-duplicate.yaml",
        "--now",
        NOW,
    ]);
    assert!(
        err.starts_with("error: tests/data/cli/calendar-duplicate.yaml:8:5: "),
        "{err}"
    );
    snapshot!("error_duplicate_id", err);
}

#[test]
fn broken_policy_dir() {
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--policy",
        "tests/data/cli/bundle-broken",
        "--now",
        NOW,
    ]);
    assert!(
        err.starts_with("error: tests/data/cli/bundle-broken/policy.yaml:7:5: "),
        "{err}"
    );
    snapshot!("error_policy", err);
}

#[test]
fn script_that_does_not_compile() {
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--policy",
        "tests/cases/bundles/broken-syntax",
        "--now",
        NOW,
    ]);
    assert!(
        err.starts_with("error: tests/cases/bundles/broken-syntax/broken.rhai:3:35: "),
        "{err}"
    );
    snapshot!("error_script", err);
}

#[test]
fn missing_files_and_bad_now() {
    let err = invalid(&[
        "--request",
        "tests/data/cli/no-such-request.yaml",
        "--now",
        NOW,
    ]);
    assert!(
        err.starts_with("error: tests/data/cli/no-such-request.yaml: cannot read"),
        "{err}"
    );
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--calendar",
        "tests/data/cli/no-such-calendar.yaml",
        "--now",
        NOW,
    ]);
    assert!(
        err.starts_with("error: tests/data/cli/no-such-calendar.yaml: cannot read"),
        "{err}"
    );
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--policy",
        "tests/data/cli/no-such-bundle",
        "--now",
        NOW,
    ]);
    assert!(err.contains("no-such-bundle"), "{err}");
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--now",
        "2026-11-25T09:00",
    ]);
    assert!(err.starts_with("error: --now: "), "{err}");
    assert!(err.contains("no UTC offset"), "{err}");
}

#[test]
fn errors_in_a_temporary_file_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.yaml");
    std::fs::write(&path, "id: dep-1\nservice: search\nenvironment: production\ntype: feature\nstart: 2026-12-01T22:00:00Z\nduration: 2 hours\n").unwrap();
    let path = path.to_str().unwrap();
    let err = invalid(&["--request", path, "--now", NOW]);
    let shown = err.replace(dir.path().to_str().unwrap(), "[tmp]");
    snapshot!("error_bad_duration", shown);
}

#[test]
fn usage_errors_are_not_decisions() {
    // clap's own usage errors also exit with 2; a pipeline treats them as invalid input.
    let o = run(&["check", "--now", NOW]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--request"), "{}", stderr(&o));
    let o = run(&["check", "--request", "x.yaml", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_decision_contract_example_is_what_the_cli_prints() {
    // docs/decision-contract.md opens with this command's JSON (the digest shortened).
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/decision-contract.md"),
    )
    .unwrap();
    let block = doc
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let mut documented: serde_json::Value = serde_json::from_str(block).unwrap();
    let o = check(&[
        "--request",
        "examples/request-friday.yaml",
        "--calendar",
        "examples/calendar.yaml",
        "--now",
        "2026-11-30T09:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let printed = cli_json(&o);
    assert!(
        documented["policy"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    documented["policy"]["digest"] = printed["policy"]["digest"].clone();
    assert_eq!(documented, printed);
}

// ---------------------------------------------------------------------------------------------
// Issue 8: input limits, bounded output.

#[test]
fn max_input_bytes_caps_every_file_and_names_the_flag() {
    let request = "tests/data/cli/request-allowed.yaml";
    let err = invalid(&[
        "--request",
        request,
        "--now",
        NOW,
        "--max-input-bytes",
        "10",
    ]);
    assert!(err.contains("larger than the limit of 10 bytes"), "{err}");
    assert!(err.contains("--max-input-bytes"), "{err}");
    // The policy's files too.
    let err = invalid(&[
        "--request",
        request,
        "--policy",
        "policies",
        "--now",
        NOW,
        "--max-input-bytes",
        "300",
    ]);
    assert!(err.contains("limit of 300 bytes"), "{err}");
    let o = check(&[
        "--request",
        request,
        "--now",
        NOW,
        "--max-input-bytes",
        "100000",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn a_fifo_or_device_as_input_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("calendar.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let request = "tests/data/cli/request-allowed.yaml";
    let mut calendars = vec!["/dev/zero".to_owned()];
    if made {
        calendars.push(fifo.to_str().unwrap().to_owned());
    }
    for calendar in &calendars {
        let err = invalid(&["--request", request, "--calendar", calendar, "--now", NOW]);
        assert!(err.contains("not a regular file"), "{err}");
    }
    let err = invalid(&["--request", "/dev/zero", "--now", NOW]);
    assert!(err.contains("not a regular file"), "{err}");
    let err = invalid(&["--request", "tests", "--now", NOW]);
    assert!(err.contains("a directory"), "{err}");
}

#[test]
fn a_calendar_environment_the_policy_does_not_know_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calendar.yaml");
    std::fs::write(
        &path,
        "blackouts:\n  - name: freeze\n    from: 2026-12-01T00:00:00Z\n    to: 2026-12-02T00:00:00Z\n    environments: [prod]\n",
    )
    .unwrap();
    let err = invalid(&[
        "--request",
        "tests/data/cli/request-allowed.yaml",
        "--calendar",
        path.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert!(
        err.contains("environment `prod` is not in the policy"),
        "{err}"
    );
    assert!(err.contains("did you mean `production`?"), "{err}");
    assert!(err.contains(":5:"), "names the line: {err}");
}

#[test]
fn error_snippets_quote_a_bounded_part_of_a_long_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.yaml");
    let long = "9".repeat(100_000);
    std::fs::write(
        &path,
        format!("id: dep-1\nservice: search\nenvironment: production\ntype: feature\nstart: 2026-12-01T22:00:00Z\nduration: {long}x\n"),
    )
    .unwrap();
    let err = invalid(&["--request", path.to_str().unwrap(), "--now", NOW]);
    assert!(err.len() < 2_000, "{} bytes: {}", err.len(), &err[..300]);
    assert!(
        err.contains("field `duration`") || err.contains("duration"),
        "{err}"
    );
}

#[test]
fn many_dependencies_print_one_bounded_decision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.yaml");
    let ids: Vec<String> = (0..100_000).map(|i| format!("dep-x{i}")).collect();
    std::fs::write(
        &path,
        format!("id: dep-1\nservice: search\nenvironment: production\ntype: feature\nstart: 2026-12-01T22:00:00Z\nduration: 2h\ndepends_on: [{}]\n", ids.join(", ")),
    )
    .unwrap();
    let o = check(&[
        "--request",
        path.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(o.stdout.len() < 1024 * 1024, "{}", o.stdout.len());
    let json = cli_json(&o);
    let deps: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "dependency")
        .collect();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0]["details"]["count"], 100_000);
}
