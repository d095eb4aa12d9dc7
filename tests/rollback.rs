#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `check_rollback` end to end, with the bundle tests/cases/bundles/rollback: sustained
//! triggers one second before and after `for`, events, escalation across all three levels,
//! burn-rate windows, missing data under each policy, an environment without `rollback:`, and
//! load errors naming the field and line.

use std::path::PathBuf;

use changegate::{
    ChangeRequest, Decision, Event, LoadErrorKind, Measurement, PolicySet, RollbackDone, Telemetry,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

fn policy() -> PolicySet {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases/bundles/rollback");
    PolicySet::load(dir).unwrap()
}

/// 2026-12-01 at `hms` (UTC).
fn t(hms: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2026-12-01T{hms}Z"))
        .unwrap()
        .into()
}

fn stamp(hms: &str) -> String {
    t(hms).to_rfc3339()
}

/// The deployment: started at 10:00:00 in `environment`.
fn deployment(environment: &str) -> ChangeRequest {
    ChangeRequest::from_yaml(
        &format!(
            "id: dep-1\nservice: search\nenvironment: {environment}\ntype: feature\n\
             start: 2026-12-01T10:00:00Z\nduration: 1h\n"
        ),
        "deployment.yaml",
    )
    .unwrap()
}

/// `metric` every `every` seconds from `from` to `to` (inclusive), all `value`.
fn series(
    metric: &str,
    labels: &[(&str, &str)],
    from: &str,
    to: &str,
    every: i64,
    value: Option<f64>,
) -> Vec<Measurement> {
    let (from, to) = (t(from), t(to));
    let mut out = Vec::new();
    let mut at = from;
    while at <= to {
        let mut m = Measurement::new(metric, at, value);
        for (k, v) in labels {
            m = m.with_label(*k, *v);
        }
        out.push(m);
        at += TimeDelta::seconds(every);
    }
    out
}

fn rules(d: &Decision) -> Vec<(String, String)> {
    d.findings
        .iter()
        .map(|f| (f.rule.as_str().to_owned(), f.severity.as_str().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn rollback(d: &Decision) -> Value {
    d.details["rollback"].clone()
}

fn trigger<'a>(details: &'a Value, name: &str) -> &'a Value {
    details["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()
}

/// `m` and generated-path latency at 0.5s every 10s from 09:55 to 10:30 (the latency
/// trigger then has data and stays clear).
fn healthy(mut m: Vec<Measurement>) -> Vec<Measurement> {
    m.extend(series(
        "latency_seconds",
        &[("path", "generated")],
        "09:55:00",
        "10:30:00",
        10,
        Some(0.5),
    ));
    m
}

/// Generated-path latency at 4s every 10s from the start (and cached-path latency at 9s,
/// which the trigger does not select).
fn slow() -> Telemetry {
    let mut m = series(
        "latency_seconds",
        &[("path", "generated")],
        "10:00:00",
        "10:10:00",
        10,
        Some(4.0),
    );
    m.extend(series(
        "latency_seconds",
        &[("path", "cached")],
        "09:50:00",
        "10:10:00",
        10,
        Some(0.5),
    ));
    Telemetry::new(m)
}

#[test]
fn a_sustained_trigger_fires_when_for_has_elapsed_and_not_a_second_before() {
    let p = policy();
    let dep = deployment("production");
    let before = p.check_rollback(&dep, &slow(), t("10:01:59"));
    assert_eq!(before.outcome.as_str(), "warn", "{:?}", before.findings);
    assert_eq!(rules(&before), pairs(&[("rollback_watch", "warn")]));
    let f = &before.findings[0];
    assert_eq!(f.details["trigger"], "emergency-latency");
    assert_eq!(f.details["since"], stamp("10:00:00"));
    assert_eq!(f.details["observed"], 4.0);
    assert!(
        f.message.contains("fires at 2026-12-01T10:02:00+00:00"),
        "{}",
        f.message
    );
    assert!(rollback(&before)["level"].is_null());
    assert_eq!(
        trigger(&rollback(&before), "emergency-latency")["state"],
        "holding"
    );

    for now in ["10:02:00", "10:02:01"] {
        let d = p.check_rollback(&dep, &slow(), t(now));
        assert_eq!(d.outcome.as_str(), "deny", "{now}");
        assert!(!d.allowed);
        assert_eq!(
            rules(&d),
            pairs(&[("rollback", "deny"), ("rollback_trigger", "deny")])
        );
        let r = rollback(&d);
        assert_eq!(r["action"], "rollback");
        assert_eq!(r["level"], "traffic_routing");
        assert_eq!(r["deadline"], stamp("10:07:00"));
        let tr = trigger(&r, "emergency-latency");
        assert_eq!(tr["state"], "firing");
        assert_eq!(tr["fired_at"], stamp("10:02:00"));
        assert_eq!(tr["since"], stamp("10:00:00"));
        let f = &d.findings[1];
        assert_eq!(f.details["aggregation"], "p95");
        assert_eq!(f.details["window"], "5m");
        assert_eq!(f.details["threshold"], 3.0);
        assert_eq!(f.details["labels"], json!({"path": "generated"}));
        assert!(
            f.message
                .contains("p95 of latency_seconds{path=generated} over 5m is 4 > 3"),
            "{}",
            f.message
        );
        assert!(f.source.as_deref().unwrap().ends_with("policy.yaml:14"));
    }
    // Measurements after `now` have not happened yet.
    let early = p.check_rollback(&dep, &slow(), t("09:59:00"));
    assert_eq!(early.outcome.as_str(), "pending");
    assert_eq!(
        rules(&early),
        pairs(&[("rollback_inconclusive", "pending")])
    );
}

#[test]
fn a_break_in_the_condition_restarts_for() {
    let p = policy();
    let dep = deployment("production");
    // Error rate 12.5% from 10:00, then 0 from 10:00:30 to 10:05:20 (the 5m average falls
    // under 5% once enough zeros came in), then 12.5% again.
    let mut m = series("error_rate", &[], "10:00:00", "10:00:20", 10, Some(0.125));
    m.extend(series(
        "error_rate",
        &[],
        "10:00:30",
        "10:05:20",
        10,
        Some(0.0),
    ));
    m.extend(series(
        "error_rate",
        &[],
        "10:05:30",
        "10:20:00",
        10,
        Some(0.5),
    ));
    let tel = Telemetry::new(healthy(m));
    let d = p.check_rollback(&dep, &tel, t("10:00:30"));
    // 3 x 0.125 + 0 over 4 values: 0.09375 > 5%; held 30s of 1m.
    assert_eq!(rules(&d), pairs(&[("rollback_watch", "warn")]));
    let d = p.check_rollback(&dep, &tel, t("10:05:20"));
    assert_eq!(rules(&d), pairs(&[]));
    // 30 values in the window; 4 x 0.5 of them (10:05:30 .. 10:06:00) make it 1/15 > 5%:
    // true again, since 10:06:00.
    let d = p.check_rollback(&dep, &tel, t("10:05:50"));
    assert_eq!(rules(&d), pairs(&[]));
    let d = p.check_rollback(&dep, &tel, t("10:06:59"));
    assert_eq!(rules(&d), pairs(&[("rollback_watch", "warn")]));
    assert_eq!(d.findings[0].details["since"], stamp("10:06:00"));
    let d = p.check_rollback(&dep, &tel, t("10:07:00"));
    assert_eq!(
        rules(&d),
        pairs(&[("rollback", "deny"), ("rollback_trigger", "deny")])
    );
    assert_eq!(rollback(&d)["level"], "feature_flag");
    assert_eq!(rollback(&d)["deadline"], stamp("10:09:00"));
}

#[test]
fn events_fire_within_their_window_and_count_up_to_min_count() {
    let p = policy();
    let dep = deployment("production");
    let tel = Telemetry::new(healthy(Vec::new()))
        .with_events(vec![Event::new("security_failure", t("10:05:00"))]);
    let d = p.check_rollback(&dep, &tel, t("10:04:59"));
    assert_eq!(d.outcome.as_str(), "allow");
    for now in ["10:05:00", "10:14:59"] {
        let d = p.check_rollback(&dep, &tel, t(now));
        assert_eq!(d.outcome.as_str(), "deny", "{now}");
        let r = rollback(&d);
        assert_eq!(r["level"], "full_system");
        assert_eq!(r["deadline"], stamp("10:15:00"));
        assert_eq!(d.findings[1].details["event"], "security_failure");
        assert_eq!(d.findings[1].details["observed"], 1.0);
    }
    // The window is `now - 10m < at <= now`: gone at 10:15:00.
    let d = p.check_rollback(&dep, &tel, t("10:15:00"));
    assert_eq!(d.outcome.as_str(), "allow");

    let one = Telemetry::new(healthy(Vec::new()))
        .with_events(vec![Event::new("infrastructure_failure", t("10:01:00"))]);
    assert_eq!(
        p.check_rollback(&dep, &one, t("10:02:00")).outcome.as_str(),
        "allow"
    );
    let two = Telemetry::new(healthy(Vec::new())).with_events(vec![
        Event::new("infrastructure_failure", t("10:01:00")),
        Event::new("infrastructure_failure", t("10:03:00")),
        Event::new("health_check_failed", t("10:03:00")),
    ]);
    let d = p.check_rollback(&dep, &two, t("10:03:00"));
    assert_eq!(d.outcome.as_str(), "deny");
    assert_eq!(
        trigger(&rollback(&d), "infrastructure-failure")["observed"],
        2.0
    );
    assert_eq!(rollback(&d)["deadline"], stamp("10:13:00"));
    // 10:11:00: the first left the window.
    assert_eq!(
        p.check_rollback(&dep, &two, t("10:11:00")).outcome.as_str(),
        "allow"
    );
}

#[test]
fn escalation_goes_through_all_three_levels_then_asks_for_people() {
    let p = policy();
    let dep = deployment("production");
    let errors = series("error_rate", &[], "10:00:00", "10:30:00", 10, Some(0.125));
    let with = |done: &[(&str, &str)]| {
        Telemetry::new(healthy(errors.clone())).with_rollbacks(
            done.iter()
                .map(|(l, at)| RollbackDone::new(*l, t(at)))
                .collect(),
        )
    };
    // Fired at 10:01:00 (for 1m): feature_flag by 10:03:00.
    let d = p.check_rollback(&dep, &with(&[]), t("10:01:30"));
    assert_eq!(rollback(&d)["level"], "feature_flag");
    assert_eq!(rollback(&d)["deadline"], stamp("10:03:00"));

    let tel = with(&[("feature_flag", "10:01:30")]);
    let d = p.check_rollback(&dep, &tel, t("10:03:29"));
    assert_eq!(d.outcome.as_str(), "pending");
    assert_eq!(
        rules(&d),
        pairs(&[
            ("rollback_in_progress", "pending"),
            ("rollback_trigger", "pending")
        ])
    );
    assert_eq!(rollback(&d)["action"], "in_progress");
    assert_eq!(rollback(&d)["level"], "feature_flag");
    assert_eq!(rollback(&d)["deadline"], stamp("10:03:30"));
    assert_eq!(
        rollback(&d)["performed"],
        json!([{"level": "feature_flag", "at": stamp("10:01:30")}])
    );

    let d = p.check_rollback(&dep, &tel, t("10:03:30"));
    assert_eq!(
        rules(&d),
        pairs(&[
            ("rollback_escalation", "deny"),
            ("rollback_trigger", "deny")
        ])
    );
    assert_eq!(rollback(&d)["action"], "escalate");
    assert_eq!(rollback(&d)["level"], "traffic_routing");
    assert_eq!(rollback(&d)["deadline"], stamp("10:08:30"));
    assert_eq!(d.findings[0].details["from"], "feature_flag");

    let tel = with(&[
        ("feature_flag", "10:01:30"),
        ("traffic_routing", "10:04:00"),
    ]);
    let d = p.check_rollback(&dep, &tel, t("10:08:59"));
    assert_eq!(d.outcome.as_str(), "pending");
    assert_eq!(rollback(&d)["level"], "traffic_routing");
    let d = p.check_rollback(&dep, &tel, t("10:09:00"));
    assert_eq!(d.outcome.as_str(), "deny");
    assert_eq!(rollback(&d)["level"], "full_system");
    assert_eq!(rollback(&d)["deadline"], stamp("10:19:00"));

    let tel = with(&[
        ("feature_flag", "10:01:30"),
        ("traffic_routing", "10:04:00"),
        ("full_system", "10:10:00"),
    ]);
    let d = p.check_rollback(&dep, &tel, t("10:19:59"));
    assert_eq!(d.outcome.as_str(), "pending");
    let d = p.check_rollback(&dep, &tel, t("10:20:00"));
    assert_eq!(d.outcome.as_str(), "deny");
    assert_eq!(rollback(&d)["action"], "manual");
    assert_eq!(rollback(&d)["level"], "full_system");
    assert_eq!(rollback(&d)["deadline"], stamp("10:20:00"));
    assert!(
        d.findings[0].message.contains("manual intervention"),
        "{}",
        d.findings[0].message
    );
    // A rollback recorded after `now` has not happened yet.
    let d = p.check_rollback(&dep, &with(&[("feature_flag", "10:05:00")]), t("10:02:00"));
    assert_eq!(rollback(&d)["action"], "rollback");
    assert_eq!(rollback(&d)["performed"], json!([]));
    // A performed level the policy does not know is a warning and does not count.
    let d = p.check_rollback(&dep, &with(&[("dns_flip", "10:01:40")]), t("10:02:00"));
    assert_eq!(
        rules(&d),
        pairs(&[
            ("rollback", "deny"),
            ("rollback_trigger", "deny"),
            ("rollback_unknown_level", "warn")
        ])
    );
}

#[test]
fn the_burn_rate_fires_only_when_both_windows_burn() {
    let p = policy();
    let dep = deployment("burn");
    let now = t("11:00:00");
    let check = |m: Vec<Measurement>| p.check_rollback(&dep, &Telemetry::new(m), now);
    // 12.5% errors for the whole hour: both burn 12.5x > 10.
    let d = check(series(
        "error_rate",
        &[],
        "10:00:30",
        "11:00:00",
        60,
        Some(0.125),
    ));
    assert_eq!(d.outcome.as_str(), "deny");
    let r = rollback(&d);
    let tr = trigger(&r, "error-budget-burn");
    assert_eq!(tr["state"], "firing");
    assert!((tr["observed"].as_f64().unwrap() - 12.5).abs() < 1e-9);
    assert!((tr["observed_short"].as_f64().unwrap() - 12.5).abs() < 1e-9);
    assert_eq!(rollback(&d)["level"], "traffic_routing");
    // For 0s: fired as the first sample came in.
    assert_eq!(tr["fired_at"], stamp("10:00:30"));
    // The long window burns, the short one recovered.
    let mut m = series("error_rate", &[], "10:00:30", "10:54:30", 60, Some(0.125));
    m.extend(series(
        "error_rate",
        &[],
        "10:55:30",
        "11:00:00",
        60,
        Some(0.0),
    ));
    let d = check(m);
    assert_eq!(d.outcome.as_str(), "allow", "{:?}", d.findings);
    assert_eq!(
        trigger(&rollback(&d), "error-budget-burn")["state"],
        "clear"
    );
    // A short spike: the short window burns, the long one does not.
    let mut m = series("error_rate", &[], "10:00:30", "10:54:30", 60, Some(0.0));
    m.extend(series(
        "error_rate",
        &[],
        "10:55:30",
        "11:00:00",
        60,
        Some(0.125),
    ));
    let d = check(m);
    assert_eq!(d.outcome.as_str(), "allow");
    // No data: inconclusive (the default).
    let d = check(Vec::new());
    assert_eq!(rules(&d), pairs(&[("rollback_inconclusive", "pending")]));
}

#[test]
fn missing_data_follows_each_policy() {
    let p = policy();
    let empty = Telemetry::default();
    let nan = Telemetry::new(series(
        "saturation",
        &[],
        "10:00:00",
        "10:02:00",
        10,
        Some(f64::NAN),
    ));
    let none = Telemetry::new(series("saturation", &[], "10:00:00", "10:02:00", 10, None));
    for tel in [&empty, &nan, &none] {
        // fire: true from the deployment's start; for 30s.
        let d = p.check_rollback(&deployment("fire"), tel, t("10:00:29"));
        assert_eq!(rules(&d), pairs(&[("rollback_watch", "warn")]));
        let d = p.check_rollback(&deployment("fire"), tel, t("10:00:30"));
        assert_eq!(d.outcome.as_str(), "deny");
        assert_eq!(rollback(&d)["level"], "feature_flag");
        assert_eq!(rollback(&d)["deadline"], stamp("10:02:30"));
        assert_eq!(
            trigger(&rollback(&d), "saturation")["fired_at"],
            stamp("10:00:30")
        );
        // ignore: never fires, and says nothing.
        let d = p.check_rollback(&deployment("ignore"), tel, t("10:01:00"));
        assert_eq!(d.outcome.as_str(), "allow");
        assert!(d.findings.is_empty());
        assert_eq!(trigger(&rollback(&d), "saturation")["state"], "clear");
        // inconclusive: keep watching.
        let d = p.check_rollback(&deployment("inconclusive"), tel, t("10:01:00"));
        assert_eq!(d.outcome.as_str(), "pending");
        assert_eq!(rules(&d), pairs(&[("rollback_inconclusive", "pending")]));
        assert!(
            d.findings[0].message.contains("keep watching"),
            "{}",
            d.findings[0].message
        );
    }
    let d = p.check_rollback(&deployment("inconclusive"), &nan, t("10:01:00"));
    assert_eq!(d.findings[0].details["nan"], 6);
    // Data again: decided on it.
    let mut m = series("saturation", &[], "10:00:00", "10:02:00", 10, None);
    m.extend(series(
        "saturation",
        &[],
        "10:02:10",
        "10:03:00",
        10,
        Some(0.5),
    ));
    let d = p.check_rollback(&deployment("fire"), &Telemetry::new(m), t("10:03:00"));
    assert_eq!(d.outcome.as_str(), "allow");
}

#[test]
fn no_rollback_section_allows_with_a_null_level_and_unknown_environments_deny() {
    let p = policy();
    let d = p.check_rollback(&deployment("staging"), &slow(), t("10:05:00"));
    assert_eq!(d.outcome.as_str(), "allow");
    assert!(d.findings.is_empty());
    assert_eq!(d.check.as_str(), "rollback");
    assert!(rollback(&d)["level"].is_null());
    assert!(rollback(&d)["deadline"].is_null());
    assert_eq!(rollback(&d)["triggers"], json!([]));
    let d = p.check_rollback(&deployment("prod"), &slow(), t("10:05:00"));
    assert_eq!(d.outcome.as_str(), "deny");
    assert_eq!(d.findings[0].rule.as_str(), "unknown_environment");
}

#[test]
fn far_instants_and_huge_windows_saturate() {
    let text = "timezone: UTC\nenvironments:\n  production:\n    rollback:\n      levels:\n        - {name: all, budget: 5000w}\n      triggers:\n        - name: t\n          metric: m\n          aggregation: rate\n          window: 5000w\n          above: 0\n          for: 5000w\n          on_missing: fire\n          level: all\n";
    let p = PolicySet::from_sources("b", [("policy.yaml".to_owned(), text.to_owned())]).unwrap();
    let dep = deployment("production");
    let far = DateTime::<Utc>::MAX_UTC;
    let tel = Telemetry::new(vec![
        Measurement::new("m", DateTime::<Utc>::MIN_UTC, Some(1.0)),
        Measurement::new("m", far, Some(f64::MAX)),
    ]);
    let d = p.check_rollback(&dep, &tel, far);
    assert_eq!(d.outcome.as_str(), "deny");
    let _ = d.to_json();
    let d = p.check_rollback(&dep, &tel, DateTime::<Utc>::MIN_UTC);
    let _ = d.to_json();
}

fn load(section: &str) -> changegate::LoadError {
    let text = format!(
        "timezone: UTC\nenvironments:\n  production:\n    rollback:\n      levels:\n        - {{name: feature_flag, budget: 2m}}\n        - {{name: full_system, budget: 10m}}\n      triggers:\n{section}"
    );
    PolicySet::from_sources("b", [("policy.yaml".to_owned(), text)]).unwrap_err()
}

#[track_caller]
fn fails(section: &str, field: &str, line: usize, message: &str) {
    let err = load(section);
    assert_eq!(err.kind, LoadErrorKind::Config, "{err}");
    assert_eq!(err.location.file, "b/policy.yaml", "{err}");
    assert_eq!(
        err.field.as_deref(),
        Some(format!("environments.production.rollback.{field}").as_str()),
        "{err}"
    );
    assert_eq!(err.location.line, Some(line), "{err}");
    assert!(err.message.contains(message), "{err}");
}

#[test]
fn load_errors_name_the_field_and_the_line() {
    let metric = "        - name: lat\n          metric: latency_seconds\n          aggregation: p95\n          window: 5m\n";
    fails(
        &format!("{metric}          above: 3s\n          level: ful_system\n"),
        "triggers[0].level",
        14,
        "unknown rollback level `ful_system` (did you mean `full_system`?); the levels are \
         `feature_flag`, `full_system`",
    );
    fails(
        &format!(
            "{metric}          above: 3s\n          below: 1s\n          level: full_system\n"
        ),
        "triggers[0].below",
        14,
        "both `above` and `below`",
    );
    fails(
        &format!("{metric}          above: fast\n          level: full_system\n"),
        "triggers[0].above",
        13,
        "`above` must be a number, a duration",
    );
    fails(
        &format!(
            "{metric}          above: 3s\n          for: 2 minutes\n          level: full_system\n"
        ),
        "triggers[0].for",
        14,
        "`for` must be a duration",
    );
    fails(
        &format!(
            "{metric}          above: 3s\n          on_missing: pass\n          level: full_system\n"
        ),
        "triggers[0].on_missing",
        14,
        "expected `fire`, `ignore` or `inconclusive`",
    );
    fails(
        "        - name: sec\n          event: security_failure\n          metric: x\n          window: 10m\n          level: full_system\n",
        "triggers[0]",
        9,
        "exactly one of `metric`, `event` and `burn_rate`, not `metric` and `event`",
    );
    fails(
        "        - name: sec\n          event: security_failure\n          window: 10m\n          level: full_system\n        - name: sec\n          event: x\n          window: 1m\n          level: full_system\n",
        "triggers[1].name",
        13,
        "appears more than once",
    );
    fails(
        "        - name: burn\n          burn_rate: {metric: e, objective: 1.5, long: 1h, short: 5m, factor: 14.4}\n          level: full_system\n",
        "triggers[0].burn_rate.objective",
        10,
        "strictly between 0 and 1",
    );
    fails(
        "        - name: burn\n          burn_rate:\n            metric: e\n            objective: 99.9%\n            long: 5m\n            short: 1h\n            factor: 14.4\n          level: full_system\n",
        "triggers[0].burn_rate.short",
        14,
        "must be shorter than `long`",
    );
    fails(
        "        - name: burn\n          burn_rate:\n            metric: e\n            objective: 99.9%\n            long: 1h\n            short: 5m\n            factor: 0\n          level: full_system\n",
        "triggers[0].burn_rate.factor",
        15,
        "`factor` must be a number above 0",
    );
    fails(
        "        - name: sec\n          event: security_failure\n          window: 10m\n          min_count: 0\n          level: full_system\n",
        "triggers[0].min_count",
        12,
        "at least 1",
    );
    let err = PolicySet::from_sources(
        "b",
        [(
            "policy.yaml".to_owned(),
            "timezone: UTC\nenvironments:\n  production:\n    rollback:\n      levels:\n        - {name: a, budget: 2m}\n        - {name: a, budget: 5m}\n".to_owned(),
        )],
    )
    .unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("environments.production.rollback.levels[1].name"),
        "{err}"
    );
    assert_eq!(err.location.line, Some(7), "{err}");
    let err = PolicySet::from_sources(
        "b",
        [(
            "policy.yaml".to_owned(),
            "timezone: UTC\nenvironments:\n  production:\n    rollback:\n      levels:\n        - name: a\n          budget: soon\n".to_owned(),
        )],
    )
    .unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("environments.production.rollback.levels[0].budget"),
        "{err}"
    );
    assert_eq!(err.location.line, Some(7), "{err}");
    let err = PolicySet::from_sources(
        "b",
        [(
            "policy.yaml".to_owned(),
            "timezone: UTC\nenvironments:\n  production:\n    rollback:\n      levls: []\n"
                .to_owned(),
        )],
    )
    .unwrap_err();
    assert!(err.message.contains("unknown field `levls`"), "{err}");
}
