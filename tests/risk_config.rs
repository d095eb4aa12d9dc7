#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `validation:` and `risk:` sections of policy.yaml: a mistake fails the load with the
//! file, line and field, and a policy that would make risk non-monotonic is refused.

use changegate::{ChangeRequest, LoadError, PolicySet, RiskEvidence, RiskLevel};

fn load(env: &str) -> Result<PolicySet, LoadError> {
    let text = format!("timezone: UTC\nenvironments:\n  production:\n{env}");
    PolicySet::from_sources("b", [("policy.yaml".to_owned(), text)])
}

#[track_caller]
fn fails(env: &str, field: &str, line: usize, message: &str) {
    let err = load(env).unwrap_err();
    assert_eq!(err.field.as_deref(), Some(field), "{err}");
    assert_eq!(err.location.line, Some(line), "{err}");
    assert!(err.message.contains(message), "{err}");
}

#[test]
fn mistakes_name_the_field_and_line() {
    fails(
        "    risk:\n      levels: {medium: 30, high: 20, critical: 80}\n",
        "environments.production.risk.levels",
        5,
        "levels must rise",
    );
    fails(
        "    risk:\n      levels: {medium: 10, high: 20, critical: 30}\n      factors:\n        validation:\n          failed: 5\n          warning: 10\n",
        "environments.production.risk.factors.validation.warning",
        9,
        "a failure would lower the risk",
    );
    fails(
        "    validation:\n      categories:\n        tests:\n          checks:\n            coverage:\n              min: 0.9\n              max: 0.5\n",
        "environments.production.validation.categories.tests.checks.coverage.max",
        10,
        "nothing could pass",
    );
    fails(
        "    validation:\n      categories:\n        tests:\n          checks:\n            coverage:\n              min: 0.8\n              warn_min: 0.7\n",
        "environments.production.validation.categories.tests.checks.coverage.warn_min",
        10,
        "the warning band lies above `min`",
    );
    fails(
        "    risk:\n      levels: {medium: 10, high: 20, critical: 30}\n      factors:\n        failure_rate: {window: 90d, above: 1.5, points: 5}\n",
        "environments.production.risk.factors.failure_rate.above",
        7,
        "share of changes",
    );
    fails(
        "    preferred_window:\n      windows: [{name: w, weekly: {from: '22:00', to: '06:00'}}]\n      stricter:\n        - {when: {risk_at_least: high}, severity: warn}\n",
        "environments.production.preferred_window.stricter[0].severity",
        7,
        "can only be `deny`",
    );
    fails(
        "    advance_notice:\n      min: 24h\n      stricter:\n        - when: {risk_at_least: critical}\n          min: 12h\n",
        "environments.production.advance_notice.stricter[0].min",
        8,
        "must be longer",
    );
    let err = load("    risk:\n      levels: {medium: 10, high: 20, critical: 30}\n      factors:\n        colour: {points: 1}\n").unwrap_err();
    assert!(err.message.contains("unknown field `colour`"), "{err}");
    let err = load("    risk:\n      levels: {medium: 10, high: 20, critical: 30}\n      overrides:\n        - {name: o, at_least: severe}\n").unwrap_err();
    assert!(err.message.contains("unknown variant `severe`"), "{err}");
}

#[test]
fn a_custom_policy_scores_and_overrides_by_type() {
    let policy = load(
        "    risk:\n      levels: {medium: 5, high: 10, critical: 15}\n      factors:\n        change_type: {points: {db: 7}}\n      overrides:\n        - {name: first, when: {types: [db]}, at_least: high}\n        - {name: second, when: {types: [db]}, at_least: critical}\n",
    )
    .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T22:00:00Z").unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
    let db = ChangeRequest::new(
        "d",
        ["s"],
        "production",
        "db",
        start,
        chrono::TimeDelta::hours(1),
    );
    let d = policy.assess_risk(&db, &RiskEvidence::default(), now);
    // 7 is medium by score; the first override that matches (high) wins over the second.
    assert_eq!(d.risk_score(), Some(7));
    assert_eq!(d.risk_level(), Some(RiskLevel::High));
    assert_eq!(d.details["risk"]["override"]["name"], "first");
    // No validation section and no history factor: nothing is missing.
    assert_eq!(d.details["risk"]["missing"], serde_json::json!([]));
    let web = ChangeRequest::new(
        "w",
        ["s"],
        "production",
        "web",
        start,
        chrono::TimeDelta::hours(1),
    );
    assert_eq!(
        policy.risk_level(&web, &RiskEvidence::default(), now),
        Some(RiskLevel::Low)
    );
}
