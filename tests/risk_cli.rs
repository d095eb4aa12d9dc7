//! `changegate risk` and `changegate check --validation/--history`, run as the real binary on
//! the files in tests/risk_cli/ (taken from the cases in tests/cases/risk/).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/risk_cli");

/// Runs the binary in tests/risk_cli/ (so the files are named as given): code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .current_dir(DIR)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The output without its last line (`policy sha256:...`, which changes with the bundle).
fn without_digest(text: &str) -> &str {
    let body = text.strip_suffix('\n').unwrap();
    let (body, last) = body.rsplit_once('\n').unwrap();
    assert!(last.starts_with("policy sha256:"), "{text}");
    body
}

const NOW: &str = "2026-11-25T09:00:00Z";

#[test]
fn risk_text_shows_level_score_factor_table_missing_and_mitigations() {
    let (code, out, err) = run(&[
        "risk",
        "--request",
        "request.yaml",
        "--validation",
        "validation.yaml",
        "--history",
        "history.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 0, "{err}");
    let expected = "\
ALLOW dep-1 (search in production, 2026-12-01T22:00:00+01:00 .. 2026-12-02T00:00:00+01:00)
risk: MEDIUM (score 30)
  factor                   points  reason [source]
  change_type                  10  change type: type `feature` [policies/policy.yaml:50]
  validation.code_quality      20  validation: `code_quality` check `coverage` failed: value 0.79 is below the minimum 0.8 [policies/policy.yaml:67]
missing: none
mitigations:
  - match the rollout to the change type (feature flag for features, canary for infrastructure)
  - fix or re-run the failed, missing or stale validation checks before the start";
    assert_eq!(without_digest(&out), expected);
}

#[test]
fn risk_json_is_the_decision_with_details_risk() {
    let (code, out, err) = run(&[
        "risk",
        "--request",
        "request.yaml",
        "--validation",
        "validation.yaml",
        "--history",
        "history.yaml",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["check"], "risk");
    assert_eq!(json["outcome"], "allow");
    assert_eq!(json["allowed"], true);
    let risk = &json["details"]["risk"];
    assert_eq!(risk["score"], 30);
    assert_eq!(risk["level"], "medium");
    let factors: Vec<(&str, i64)> = risk["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["points"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        factors,
        [("change_type", 10), ("validation.code_quality", 20)]
    );
    assert_eq!(risk["missing"], serde_json::json!([]));
    assert_eq!(risk["mitigations"].as_array().unwrap().len(), 2);
}

#[test]
fn risk_without_evidence_lists_it_missing_and_denies_with_exit_1() {
    let (code, out, err) = run(&["risk", "--request", "request.yaml", "--now", NOW]);
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("DENY dep-1 "), "{out}");
    assert!(out.contains("risk: CRITICAL (score "), "{out}");
    assert!(
        out.contains("\nmissing: validation.code_quality, "),
        "{out}"
    );
    assert!(out.contains(", history\n"), "{out}");
    assert!(
        out.contains("  deny validation_missing: `security` has no result"),
        "{out}"
    );

    let (code, out, _) = run(&[
        "risk",
        "--request",
        "request.yaml",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["outcome"], "deny");
    assert_eq!(json["details"]["risk"]["level"], "critical");
    let missing = json["details"]["risk"]["missing"].as_array().unwrap();
    assert_eq!(missing.last().unwrap(), "history");
}

#[test]
fn an_evidence_error_names_file_line_and_field_with_exit_2() {
    let (code, out, err) = run(&[
        "risk",
        "--request",
        "request.yaml",
        "--validation",
        "bad-validation.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.starts_with("error: bad-validation.yaml:3:3: "), "{err}");
    assert!(err.contains("unknown field `stauts`"), "{err}");
    assert!(err.contains("3 |   stauts: passed\n"), "{err}");

    // The same through check, for a history.
    let (code, out, err) = run(&[
        "check",
        "--request",
        "request.yaml",
        "--history",
        "bad-history.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.starts_with("error: bad-history.yaml:8:14: "), "{err}");
    assert!(err.contains("changes[0].outcome"), "{err}");
    assert!(err.contains("unknown variant `exploded`"), "{err}");
}

#[test]
fn an_unreadable_evidence_file_or_bad_now_is_invalid_input() {
    let (code, _, err) = run(&[
        "risk",
        "--request",
        "request.yaml",
        "--history",
        "no-such-history.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-history.yaml"), "{err}");

    let (code, _, err) = run(&["risk", "--request", "request.yaml", "--now", "tomorrow"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: --now"), "{err}");
}

#[test]
fn max_input_bytes_limits_the_evidence_files() {
    let (code, _, err) = run(&[
        "risk",
        "--request",
        "request.yaml",
        "--validation",
        "validation.yaml",
        "--now",
        NOW,
        "--max-input-bytes",
        "300",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("validation.yaml"), "{err}");
}

#[test]
fn check_with_evidence_denies_a_high_risk_change_outside_the_preferred_window() {
    let base = ["check", "--request", "high-request.yaml", "--now", NOW];
    // Without evidence: the plain schedule check, which only warns.
    let (code, out, err) = run(&base);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("WARN dep-1 "), "{out}");
    assert!(out.contains("  warn preferred_window: "), "{out}");

    // With it: the risk is high (55) and the preferred window denies.
    let mut args = base.to_vec();
    args.extend([
        "--validation",
        "high-validation.yaml",
        "--history",
        "high-history.yaml",
    ]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("DENY dep-1 "), "{out}");
    assert!(
        out.contains("  deny preferred_window: runs outside the preferred window: `weeknights` (Mon,Tue,Wed,Thu 22:00 - 06:00 next day Europe/Berlin); a `high` risk change must run inside it ["),
        "{out}"
    );

    args.extend(["--format", "json"]);
    let (code, out, _) = run(&args);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["check"], "schedule");
    assert_eq!(json["outcome"], "deny");
    assert_eq!(json["findings"][0]["rule"], "preferred_window");
    assert_eq!(json["findings"][0]["details"]["risk_level"], "high");
}

#[test]
fn check_with_critical_risk_needs_48h_notice() {
    let base = [
        "check",
        "--request",
        "critical-request.yaml",
        "--now",
        "2026-11-30T15:00:00Z",
    ];
    let (code, out, err) = run(&base);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ALLOW dep-1 "), "{out}");

    // An empty validation list and no history: every category is missing, the risk critical.
    let mut args = base.to_vec();
    args.extend(["--validation", "empty-validation.yaml"]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("DENY dep-1 "), "{out}");
    assert!(
        out.contains("  deny advance_notice: gives 1d6h notice, 2d is required in `production` (risk `critical`) ["),
        "{out}"
    );
}
