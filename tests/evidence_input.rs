#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Validation results and histories are read like requests: every error names the file, line,
//! column and field; unknown fields are rejected; the input limits apply.

use changegate::{
    ChangeOutcome, History, IncidentSeverity, InputLimits, ValidationResults, ValidationStatus,
};

#[test]
fn validation_results_read_from_yaml_and_json() {
    let yaml = "- {category: code_quality, check: coverage, value: 0.83, at: 2026-12-01T08:00:00Z}\n\
                - category: security\n  check: sast\n  status: failed\n  at: 2026-12-01T08:00:00+01:00\n  url: https://ci/1\n";
    let r = ValidationResults::from_yaml(yaml, "v.yaml").unwrap();
    assert_eq!(r.results().len(), 2);
    assert_eq!(r.results()[1].status, Some(ValidationStatus::Failed));
    assert_eq!(r.in_category("security").count(), 1);
    let json = r#"[{"category": "tests", "check": "unit", "status": "passed", "at": "2026-12-01T08:00:00Z"}]"#;
    let r = ValidationResults::from_yaml(json, "v.json").unwrap();
    assert_eq!(r.results()[0].check, "unit");
}

#[test]
fn validation_errors_name_file_line_column_and_field() {
    let text = "- {category: tests, check: unit, status: passed, at: 2026-12-01T08:00:00Z}\n\
                - category: tests\n  check: unit\n  at: 2026-12-01T08:00:00\n  status: passed\n";
    let err = ValidationResults::from_yaml(text, "v.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("[1].at"));
    assert_eq!(err.location.file, "v.yaml");
    assert_eq!(err.location.line, Some(4));
    assert!(err.message.contains("no UTC offset"), "{err}");

    let err = ValidationResults::from_yaml(
        "- category: tests\n  check: unit\n  staus: passed\n  at: 2026-12-01T08:00:00Z\n",
        "v.yaml",
    )
    .unwrap_err();
    assert!(err.message.contains("unknown field `staus`"), "{err}");
    assert_eq!(err.location.line, Some(3));

    let err = ValidationResults::from_yaml(
        "- {category: tests, check: unit, at: 2026-12-01T08:00:00Z}\n",
        "v.yaml",
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("[0].status"));
    assert!(err.message.contains("give `status`"), "{err}");

    let err = ValidationResults::from_yaml(
        "- {category: tests, check: unit, value: .nan, at: 2026-12-01T08:00:00Z}\n",
        "v.yaml",
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("[0].value"));
}

#[test]
fn history_reads_outcomes_and_incidents() {
    let text = "changes:\n  - id: d1\n    services: [payments, checkout]\n    environment: production\n    \
                type: feature\n    start: 2026-11-01T22:00:00Z\n    end: 2026-11-01T23:00:00Z\n    \
                outcome: succeeded_with_issues\n    incidents:\n      - {severity: p1, at: 2026-11-01T22:30:00Z}\n      - {severity: p4}\n";
    let h = History::from_yaml(text, "h.yaml").unwrap();
    let e = &h.entries()[0];
    assert_eq!(e.outcome, ChangeOutcome::SucceededWithIssues);
    assert_eq!(e.incidents[0].severity, IncidentSeverity::P1);
    assert!(e.incidents[1].at.is_none());
    assert_eq!(e.change.services, ["payments", "checkout"]);
}

#[test]
fn history_errors_name_the_field() {
    let text = "changes:\n  - id: d1\n    service: checkout\n    environment: production\n    type: feature\n    \
                start: 2026-11-01T22:00:00Z\n    duration: 1h\n    outcome: exploded\n";
    let err = History::from_yaml(text, "h.yaml").unwrap_err();
    assert!(err.message.contains("unknown variant `exploded`"), "{err}");
    assert_eq!(err.location.line, Some(8));

    let text = "changes:\n  - id: d1\n    service: checkout\n    environment: production\n    type: feature\n    \
                start: 2026-11-01T22:00:00Z\n    duration: 1h\n    outcome: failed\n    incidents: [{severity: p2, at: yesterday}]\n";
    let err = History::from_yaml(text, "h.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("changes[0].incidents[0].at"));

    let text = "changes:\n  - id: d1\n    service: checkout\n    environment: production\n    type: feature\n    \
                start: 2026-11-01T22:00:00Z\n    outcome: failed\n";
    let err = History::from_yaml(text, "h.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("changes[0].duration"));
}

#[test]
fn evidence_respects_the_input_limits() {
    let limits = InputLimits {
        max_bytes: 64,
        ..InputLimits::default()
    };
    let text =
        "- {category: tests, check: unit, status: passed, at: 2026-12-01T08:00:00Z}\n".repeat(4);
    let err = ValidationResults::from_yaml_with_limits(&text, "v.yaml", &limits).unwrap_err();
    assert!(err.message.contains("64"), "{err}");
    let deep = format!("changes: {}{}", "[".repeat(100), "]".repeat(100));
    let err = History::from_yaml(&deep, "h.yaml").unwrap_err();
    assert!(err.message.contains("deep"), "{err}");
}
