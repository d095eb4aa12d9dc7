#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The default bundle's gates and rollback (policies/policy.yaml, production): the production
//! report's four SLO gates pass on a healthy rollout and each fails on its own metric; the
//! scheduler report's triggers demand their levels and escalate through all three.

use changegate::{
    ChangeRequest, Decision, Event, Measurement, Outcome, PolicySet, RollbackDone, Telemetry,
};
use chrono::{DateTime, TimeDelta, Utc};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T22:00:00Z")
        .unwrap()
        .into()
}

fn deployment() -> ChangeRequest {
    ChangeRequest::from_yaml(
        "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
         start: 2026-12-01T22:00:00Z\nduration: 1h\n",
        "deployment.yaml",
    )
    .unwrap()
}

/// `minutes` of 1-second samples from t0 of the report's metrics, healthy unless `tweak`
/// changes a value: (metric, labels, second) -> value.
fn rollout(minutes: i64, tweak: &dyn Fn(&str, &str, i64) -> Option<f64>) -> Vec<Measurement> {
    let mut out = Vec::new();
    for s in 0..minutes * 60 {
        let at = t0() + TimeDelta::seconds(s);
        let healthy: [(&str, &str, f64); 6] = [
            ("latency_seconds", "generated", 0.9),
            ("latency_seconds", "cached", 0.12),
            ("error_rate", "", 0.002),
            ("cost_budget", "", 0.55),
            ("cache_hit_rate", "", 0.91),
            ("cpu", "", 0.4),
        ];
        for (metric, path, value) in healthy {
            let v = tweak(metric, path, s).or(Some(value));
            let mut m = Measurement::new(metric, at, v);
            if !path.is_empty() {
                m = m.with_label("path", path);
            }
            out.push(m);
        }
    }
    out
}

fn rules(d: &Decision) -> Vec<(&str, &str)> {
    d.findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity.as_str()))
        .collect()
}

#[test]
fn a_healthy_rollout_passes_every_gate_and_triggers_nothing() {
    let policy = PolicySet::builtin().unwrap();
    let telemetry = Telemetry::new(rollout(10, &|_, _, _| None));
    let now = t0() + TimeDelta::minutes(10);
    let gates = policy.check_gates(&deployment(), &telemetry, now);
    assert_eq!(gates.outcome, Outcome::Allow, "{:?}", rules(&gates));
    assert_eq!(
        gates.details["gates"]["results"].as_array().unwrap().len(),
        5
    );
    let rollback = policy.check_rollback(&deployment(), &telemetry, now);
    assert_eq!(rollback.outcome, Outcome::Allow, "{:?}", rules(&rollback));
    assert!(rollback.details["rollback"]["level"].is_null());
}

#[test]
fn each_report_gate_fails_on_its_own_metric() {
    let policy = PolicySet::builtin().unwrap();
    let now = t0() + TimeDelta::minutes(10);
    let cases: [(&str, &str, f64, &str); 5] = [
        ("latency_seconds", "generated", 1.6, "latency-generated"),
        ("latency_seconds", "cached", 0.31, "latency-cached"),
        ("error_rate", "", 0.011, "error-rate"),
        ("cost_budget", "", 0.81, "cost-budget"),
        ("cache_hit_rate", "", 0.79, "cache-hit-rate"),
    ];
    for (metric, path, bad, gate) in cases {
        let telemetry = Telemetry::new(rollout(10, &|m, p, _| {
            (m == metric && p == path).then_some(bad)
        }));
        let d = policy.check_gates(&deployment(), &telemetry, now);
        let failed: Vec<&str> = d
            .findings
            .iter()
            .filter(|f| f.rule.as_str() == "gate_failed")
            .map(|f| f.details["gate"].as_str().unwrap())
            .collect();
        assert_eq!(failed, [gate], "{metric}{path}: {:?}", rules(&d));
        // Latency and errors are key gates; cost and hit rate fail the score (4 of 5 pass:
        // 0.8, below the 0.9 pass line and above the 0.75 warn line, so a warning).
        let key = gate.starts_with("latency") || gate == "error-rate";
        let expect = if key { Outcome::Deny } else { Outcome::Warn };
        assert_eq!(d.outcome, expect, "{gate}: {:?}", rules(&d));
    }
}

#[test]
fn no_data_is_pending_never_a_pass() {
    let policy = PolicySet::builtin().unwrap();
    let telemetry = Telemetry::new(rollout(10, &|m, _, _| {
        (m == "error_rate").then_some(f64::NAN)
    }));
    let now = t0() + TimeDelta::minutes(10);
    let d = policy.check_gates(&deployment(), &telemetry, now);
    assert_eq!(d.outcome, Outcome::Pending, "{:?}", rules(&d));
    let d = policy.check_gates(&deployment(), &Telemetry::default(), now);
    assert_eq!(d.outcome, Outcome::Pending, "{:?}", rules(&d));
}

#[test]
fn triggers_demand_their_levels_and_escalate_through_all_three() {
    let policy = PolicySet::builtin().unwrap();
    // A healthy hour, then errors at 8% from minute 60 on: the error-rate trigger (avg 5m
    // above 5%, for 1m) fires a few minutes later, while the hour's average (the burn-rate
    // trigger's long window) is still below 14.4 x the 0.1% budget.
    let base = t0() + TimeDelta::minutes(60);
    let errors = rollout(90, &|m, _, s| {
        (m == "error_rate" && s >= 3600).then_some(0.08)
    });
    let telemetry = Telemetry::new(errors);
    let d = policy.check_rollback(&deployment(), &telemetry, base + TimeDelta::minutes(5));
    assert_eq!(d.outcome, Outcome::Deny, "{:?}", rules(&d));
    assert_eq!(
        d.details["rollback"]["level"],
        "feature_flag",
        "{:?}",
        rules(&d)
    );

    // A security failure demands the full system at once.
    let with_event = telemetry.clone().with_events(vec![Event::new(
        "security_failure",
        base + TimeDelta::minutes(4),
    )]);
    let d = policy.check_rollback(&deployment(), &with_event, base + TimeDelta::minutes(5));
    assert_eq!(
        d.details["rollback"]["level"],
        "full_system",
        "{:?}",
        rules(&d)
    );

    // Escalation: flag rolled back, still firing after its 2 minutes -> traffic routing;
    // routed, still firing after 5 -> full system.
    let done = base + TimeDelta::minutes(6);
    let after_flag = telemetry
        .clone()
        .with_rollbacks(vec![RollbackDone::new("feature_flag", done)]);
    let d = policy.check_rollback(&deployment(), &after_flag, done + TimeDelta::seconds(60));
    assert_eq!(d.outcome, Outcome::Pending, "in progress: {:?}", rules(&d));
    let d = policy.check_rollback(&deployment(), &after_flag, done + TimeDelta::seconds(121));
    assert_eq!(d.outcome, Outcome::Deny, "{:?}", rules(&d));
    assert_eq!(
        d.details["rollback"]["level"],
        "traffic_routing",
        "{:?}",
        rules(&d)
    );
    let routed = done + TimeDelta::minutes(3);
    let after_routing =
        after_flag.with_rollbacks(vec![RollbackDone::new("traffic_routing", routed)]);
    let d = policy.check_rollback(
        &deployment(),
        &after_routing,
        routed + TimeDelta::minutes(6),
    );
    assert_eq!(d.outcome, Outcome::Deny, "{:?}", rules(&d));
    assert_eq!(
        d.details["rollback"]["level"],
        "full_system",
        "{:?}",
        rules(&d)
    );
}

#[test]
fn the_monitor_flushed_or_advanced_equals_the_batch_check_over_everything_pushed() {
    use changegate::Monitor;
    let policy = PolicySet::builtin().unwrap();
    let samples = rollout(70, &|m, _, s| {
        (m == "error_rate" && s >= 3600).then_some(0.08)
    });
    let mut monitor = Monitor::new(&policy, deployment(), t0());
    for m in samples.iter().cloned() {
        monitor.push_measurement(m).unwrap();
    }
    // Without a flush, the latest instant still waits.
    assert_eq!(monitor.now(), samples.last().unwrap().at);
    assert!(monitor.waiting() > 0);
    let end = samples.last().unwrap().at + TimeDelta::milliseconds(1);
    let flushed = monitor.flush().to_json();
    assert_eq!(monitor.now(), end);
    assert_eq!(monitor.waiting(), 0);
    let all = Telemetry::new(samples.clone());
    assert_eq!(
        flushed,
        policy.check_rollback(&deployment(), &all, end).to_json()
    );
    assert_eq!(
        monitor.gates().to_json(),
        policy.check_gates(&deployment(), &all, end).to_json()
    );
    // Time passes without data: the decision follows the batch check at that instant, and
    // anything older is refused.
    let later = end + TimeDelta::minutes(20);
    let advanced = monitor.advance(later).to_json();
    assert_eq!(
        advanced,
        policy.check_rollback(&deployment(), &all, later).to_json()
    );
    let late = Measurement::new("error_rate", later - TimeDelta::seconds(1), Some(0.0));
    assert!(monitor.push_measurement(late).is_err());
}
