//! The gates question as a user meets it: `check_gates` over built telemetry with the bundle
//! tests/cases/bundles/gates (one environment per behaviour), the `fn gates(ctx)` hook of
//! tests/cases/bundles/gates-hook, and load errors that name the field and its line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use changegate::{
    ChangeRequest, Decision, Event, LoadError, Measurement, PolicySet, Severity, Telemetry,
};
use chrono::{DateTime, FixedOffset, TimeDelta};
use serde_json::{Value, json};

const NOW: &str = "2026-12-01T10:00:00Z";

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(NOW).unwrap()
}

/// `secs` seconds from now (negative: before).
fn at(secs: i64) -> DateTime<FixedOffset> {
    now() + TimeDelta::seconds(secs)
}

fn bundle(name: &str) -> PolicySet {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases/bundles")
        .join(name);
    PolicySet::load(dir).unwrap()
}

fn deployment(environment: &str) -> ChangeRequest {
    ChangeRequest::new(
        "dep-1",
        ["search"],
        environment,
        "feature",
        at(-3600),
        TimeDelta::hours(2),
    )
}

fn check(policy: &PolicySet, env: &str, telemetry: &Telemetry) -> Decision {
    policy.check_gates(&deployment(env), telemetry, now())
}

fn rules(d: &Decision) -> Vec<(&str, Severity)> {
    d.findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity))
        .collect()
}

/// `metric` measured every 10s up to now, one value each (the last at `now`).
fn series(metric: &str, values: &[Option<f64>]) -> Vec<Measurement> {
    let n = values.len() as i64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Measurement::new(metric, at(10 * (i as i64 + 1 - n)), *v))
        .collect()
}

fn values(xs: &[f64]) -> Vec<Option<f64>> {
    xs.iter().copied().map(Some).collect()
}

/// 1, 2, ... 20.
fn one_to_twenty() -> Vec<Option<f64>> {
    values(&(1..=20).map(f64::from).collect::<Vec<_>>())
}

fn policy_with_gate(gate: &str) -> Result<PolicySet, LoadError> {
    PolicySet::from_sources(
        "bundle",
        [(
            "policy.yaml".to_owned(),
            format!(
                "timezone: UTC\nenvironments:\n  production:\n    gates:\n      rules:\n        - {gate}\n"
            ),
        )],
    )
}

#[test]
fn every_aggregation_passes_at_its_threshold_and_fails_just_over() {
    let t = Telemetry::new(series("m", &one_to_twenty()));
    let exact = [
        ("last", 20.0),
        ("avg", 10.5),
        ("min", 1.0),
        ("max", 20.0),
        ("p50", 10.0),
        ("p90", 18.0),
        ("p95", 19.0),
        ("p99", 20.0),
        ("count", 20.0),
        ("rate", 0.1),
    ];
    for (agg, value) in exact {
        let at_threshold = policy_with_gate(&format!(
            "{{name: g, metric: m, aggregation: {agg}, window: 5m, max: {value}}}"
        ))
        .unwrap();
        let d = check(&at_threshold, "production", &t);
        assert_eq!(d.outcome.as_str(), "allow", "{agg}: {:?}", d.findings);
        assert_eq!(
            d.details["gates"]["results"][0]["observed"],
            json!(value),
            "{agg}"
        );
        assert_eq!(d.details["gates"]["results"][0]["status"], "pass", "{agg}");
        // The observed value just over the threshold fails: `min` as a lower bound, the rest
        // as upper bounds.
        let (bound, limit) = if agg == "min" {
            ("min", value + 1e-9)
        } else {
            ("max", value - 1e-9)
        };
        let over = policy_with_gate(&format!(
            "{{name: g, metric: m, aggregation: {agg}, window: 5m, {bound}: {limit}}}"
        ))
        .unwrap();
        let d = check(&over, "production", &t);
        assert_eq!(rules(&d), [("gate_failed", Severity::Deny)], "{agg}");
        let f = &d.findings[0];
        assert_eq!(f.details["bound"], bound, "{agg}");
        assert_eq!(f.details["observed"], json!(value), "{agg}");
        assert_eq!(f.details["aggregation"], agg);
        assert_eq!(f.details["window"], "5m");
        assert_eq!(f.details["samples"], 20);
        assert!(
            f.message.contains(&format!("{agg} of m over 5m is "))
                && f.message.contains("(20 samples)"),
            "{agg}: {}",
            f.message
        );
    }
    // The bundle's environment with all ten at their thresholds.
    let d = check(&bundle("gates"), "aggregations", &t);
    assert_eq!(d.outcome.as_str(), "allow", "{:?}", d.findings);
    assert_eq!(d.details["gates"]["results"].as_array().unwrap().len(), 10);
}

#[test]
fn warn_bands_and_the_failure_message() {
    let policy = bundle("gates");
    let latency = |vals: &[f64]| {
        let mut ms = series("latency_seconds", &values(vals));
        for m in &mut ms {
            m.labels.insert("path".into(), "generated".into());
        }
        // Another path, far over the bound, is not selected.
        ms.push(
            Measurement::new("latency_seconds", at(-5), Some(9.0)).with_label("path", "cached"),
        );
        Telemetry::new(ms)
    };
    let d = check(&policy, "latency", &latency(&[1.0, 1.1, 1.2]));
    assert_eq!(d.outcome.as_str(), "allow", "{:?}", d.findings);
    let d = check(&policy, "latency", &latency(&[1.0, 1.1, 1.3]));
    assert_eq!(rules(&d), [("gate_warning", Severity::Warn)]);
    assert!(d.allowed);
    let d = check(&policy, "latency", &latency(&[1.0, 1.5, 1.62]));
    assert_eq!(rules(&d), [("gate_failed", Severity::Deny)]);
    let f = &d.findings[0];
    assert!(
        f.message.contains(
            "p95 of latency_seconds{path=generated} over 5m is 1.62 > max 1.5 (3 samples)"
        ),
        "{}",
        f.message
    );
    assert_eq!(
        f.details.get("threshold"),
        Some(&json!({"max": 1.5, "warn_max": 1.2}))
    );
    assert_eq!(f.details["labels"], json!({"path": "generated"}));
    assert_eq!(f.details["gate"], "latency-generated");
    assert_eq!(f.details["metric"], "latency_seconds");
    assert_eq!(
        f.source
            .as_deref()
            .map(|s| s.ends_with("gates/policy.yaml:23")),
        Some(true),
        "{:?}",
        f.source
    );
    // min bands.
    let hits = |v: f64| Telemetry::new(series("cache_hit_rate", &values(&[v])));
    assert_eq!(
        check(&policy, "hit-rate", &hits(0.85)).outcome.as_str(),
        "allow"
    );
    assert_eq!(
        rules(&check(&policy, "hit-rate", &hits(0.84))),
        [("gate_warning", Severity::Warn)]
    );
    assert_eq!(
        check(&policy, "hit-rate", &hits(0.8)).outcome.as_str(),
        "warn"
    );
    assert_eq!(
        rules(&check(&policy, "hit-rate", &hits(0.79))),
        [("gate_failed", Severity::Deny)]
    );
}

#[test]
fn min_samples_and_measurements_after_now() {
    let policy = bundle("gates");
    let mut ms: Vec<Measurement> = [(-20, 1.0), (-10, 1.0)]
        .iter()
        .map(|(s, v)| {
            Measurement::new("latency_seconds", at(*s), Some(*v)).with_label("path", "generated")
        })
        .collect();
    // A third sample, but a second after now: it has not happened yet.
    ms.push(Measurement::new("latency_seconds", at(1), Some(1.0)).with_label("path", "generated"));
    let d = check(&policy, "latency", &Telemetry::new(ms.clone()));
    assert_eq!(rules(&d), [("gate_inconclusive", Severity::Pending)]);
    assert_eq!(d.findings[0].details["samples"], 2);
    assert_eq!(d.findings[0].details["min_samples"], 3);
    assert!(
        d.findings[0]
            .message
            .contains("has 2 samples, fewer than the 3 needed"),
        "{}",
        d.findings[0].message
    );
    // At the third sample's instant it counts.
    let later = policy.check_gates(&deployment("latency"), &Telemetry::new(ms), at(1));
    assert_eq!(later.outcome.as_str(), "allow", "{:?}", later.findings);
}

#[test]
fn relative_gates_with_and_without_a_baseline() {
    let policy = bundle("gates");
    let current = |v: f64| series("latency_seconds", &values(&[v]));
    let base = series("latency_seconds", &values(&[2.0, 2.0]));
    let with = |v: f64| Telemetry::new(current(v)).with_baseline(base.clone());
    assert_eq!(
        check(&policy, "relative", &with(2.5)).outcome.as_str(),
        "allow"
    );
    assert_eq!(
        rules(&check(&policy, "relative", &with(2.6))),
        [("gate_warning", Severity::Warn)]
    );
    assert_eq!(
        check(&policy, "relative", &with(3.0)).outcome.as_str(),
        "warn"
    );
    let d = check(&policy, "relative", &with(3.2));
    assert_eq!(rules(&d), [("gate_failed", Severity::Deny)]);
    assert_eq!(d.findings[0].details["baseline"], 2.0);
    assert_eq!(d.findings[0].details["bound"], "max_increase");
    assert_eq!(
        d.findings[0].details["threshold"],
        json!({"max_increase": 0.5, "warn_increase": 0.25})
    );
    assert!(
        d.findings[0]
            .message
            .contains("is 3.2 > 3 (max_increase 50% over the baseline 2)"),
        "{}",
        d.findings[0].message
    );
    assert_eq!(d.details["gates"]["results"][0]["baseline"], 2.0);
    // No baseline: on_missing (inconclusive by default), never a pass.
    let d = check(&policy, "relative", &Telemetry::new(current(2.0)));
    assert_eq!(rules(&d), [("gate_inconclusive", Severity::Pending)]);
    assert_eq!(d.findings[0].details["reason"], "no baseline");
    assert_eq!(d.findings[0].details["baseline"], Value::Null);
    assert!(
        d.findings[0].message.contains("no baseline"),
        "{}",
        d.findings[0].message
    );
    // A baseline outside the window is no baseline either.
    let old = vec![Measurement::new("latency_seconds", at(-301), Some(2.0))];
    let d = check(
        &policy,
        "relative",
        &Telemetry::new(current(2.0)).with_baseline(old),
    );
    assert_eq!(d.outcome.as_str(), "pending");
}

#[test]
fn missing_data_and_nan_under_each_policy() {
    let policy = bundle("gates");
    let empty = Telemetry::default();
    let nulls = Telemetry::new(series("error_rate", &[None, None]));
    let nan = Telemetry::new(series("error_rate", &[Some(0.001), Some(f64::NAN)]));
    for (telemetry, prefix, count_key) in [
        (&empty, "missing", "missing"),
        (&nulls, "missing", "missing"),
        (&nan, "nan", "nan"),
    ] {
        for (policy_name, expected, outcome) in [
            ("fail", ("gate_failed", Severity::Deny), "deny"),
            ("pass", ("gate_no_data", Severity::Warn), "warn"),
            (
                "inconclusive",
                ("gate_inconclusive", Severity::Pending),
                "pending",
            ),
        ] {
            let env = format!("{prefix}-{policy_name}");
            let d = check(&policy, &env, telemetry);
            assert_eq!(rules(&d), [expected], "{env}");
            assert_eq!(d.outcome.as_str(), outcome, "{env}");
            let f = &d.findings[0];
            assert_eq!(f.details["reason"], count_key, "{env}");
            let status = if policy_name == "pass" {
                "pass"
            } else {
                policy_name
            };
            assert_eq!(d.details["gates"]["results"][0]["status"], status, "{env}");
            assert_eq!(
                d.details["gates"]["results"][0]["reason"], count_key,
                "{env}"
            );
        }
    }
    let d = check(&policy, "missing-inconclusive", &nulls);
    assert_eq!(d.findings[0].details["missing"], 2);
    assert_eq!(d.findings[0].details["samples"], 0);
    let d = check(&policy, "nan-inconclusive", &nan);
    assert_eq!(d.findings[0].details["nan"], 1);
    assert_eq!(d.findings[0].details["observed"], Value::Null);
    // A NaN is judged by on_nan even where on_missing would pass.
    let d = check(&policy, "missing-pass", &nan);
    assert_eq!(rules(&d), [("gate_inconclusive", Severity::Pending)]);
}

#[test]
fn key_gates_and_weighted_totals() {
    let policy = bundle("gates");
    let t = |a: f64, b: f64, c: f64| {
        Telemetry::new(vec![
            Measurement::new("a", at(-1), Some(a)),
            Measurement::new("b", at(-1), Some(b)),
            Measurement::new("c", at(-1), Some(c)),
        ])
    };
    let d = check(&policy, "scored", &t(0.0, 0.0, 0.0));
    assert_eq!(d.outcome.as_str(), "allow");
    assert_eq!(d.details["gates"]["score"], 1.0);
    assert_eq!(d.details["gates"]["pass"], 0.9);
    assert_eq!(d.details["gates"]["warn"], 0.6);
    // b warns: (2 + 0.5 + 1) / 4 = 0.875 < pass.
    let d = check(&policy, "scored", &t(0.0, 0.7, 0.0));
    assert_eq!(
        rules(&d),
        [
            ("gate_warning", Severity::Warn),
            ("gate_score", Severity::Warn)
        ]
    );
    assert_eq!(d.details["gates"]["score"], 0.875);
    // b fails, not key: (2 + 0 + 1) / 4 = 0.75: the score only warns.
    let d = check(&policy, "scored", &t(0.0, 2.0, 0.0));
    assert_eq!(
        rules(&d),
        [
            ("gate_failed", Severity::Warn),
            ("gate_score", Severity::Warn)
        ]
    );
    assert!(d.allowed);
    // a fails (weight 2): 0.5 < warn: denied by the score.
    let d = check(&policy, "scored", &t(2.0, 0.0, 0.0));
    assert_eq!(
        rules(&d),
        [
            ("gate_failed", Severity::Warn),
            ("gate_score", Severity::Deny)
        ]
    );
    assert_eq!(d.findings[1].details["score"], 0.5);
    // c, the key gate, fails: denied whatever the score (0.75).
    let d = check(&policy, "scored", &t(0.0, 0.0, 2.0));
    assert_eq!(
        rules(&d),
        [
            ("gate_failed", Severity::Deny),
            ("gate_score", Severity::Warn)
        ]
    );
    assert_eq!(d.findings[0].details["key"], true);
    // An inconclusive gate is left out of the score.
    let partial = Telemetry::new(vec![
        Measurement::new("a", at(-1), Some(0.0)),
        Measurement::new("b", at(-1), Some(0.0)),
    ]);
    let d = check(&policy, "scored", &partial);
    assert_eq!(rules(&d), [("gate_inconclusive", Severity::Pending)]);
    assert_eq!(d.details["gates"]["score"], 1.0);
}

#[test]
fn no_gates_allows_and_an_unknown_environment_denies() {
    let policy = bundle("gates");
    let d = check(&policy, "no-gates", &Telemetry::default());
    assert_eq!(d.outcome.as_str(), "allow");
    assert_eq!(d.check.as_str(), "gates");
    assert_eq!(d.details["gates"]["results"], json!([]));
    assert_eq!(d.details["gates"]["score"], Value::Null);
    let d = check(&policy, "prod", &Telemetry::default());
    assert_eq!(rules(&d), [("unknown_environment", Severity::Deny)]);
    assert!(d.details.is_empty());
}

#[test]
fn the_gates_hook_reads_aggregates_and_events() {
    let policy = bundle("gates-hook");
    let latency = |v: f64| {
        Measurement::new("latency_seconds", at(-10), Some(v)).with_label("path", "generated")
    };
    // No latency data: the script waits; the built-in gate has no error data and passes it
    // visibly (on_missing: pass).
    let d = check(&policy, "production", &Telemetry::default());
    assert_eq!(
        rules(&d),
        [
            ("gate_no_data", Severity::Warn),
            ("latency_data", Severity::Pending)
        ]
    );
    assert!(
        d.findings[1]
            .source
            .as_deref()
            .unwrap()
            .ends_with("gates.rhai:8"),
        "{:?}",
        d.findings[1].source
    );
    let d = check(
        &policy,
        "production",
        &Telemetry::new(vec![
            latency(1.0),
            Measurement::new("error_rate", at(-5), Some(0.001)),
        ]),
    );
    assert_eq!(d.outcome.as_str(), "allow", "{:?}", d.findings);
    let d = check(
        &policy,
        "production",
        &Telemetry::new(vec![latency(1.0), latency(2.5)]),
    );
    assert_eq!(
        rules(&d),
        [
            ("gate_no_data", Severity::Warn),
            ("latency_slow", Severity::Deny)
        ]
    );
    assert_eq!(d.findings[1].details["p95"], 2.5);
    assert_eq!(d.findings[1].details["samples"], 2);
    let t = Telemetry::new(vec![
        latency(1.0),
        Measurement::new("error_rate", at(-5), Some(0.09)),
    ])
    .with_events(vec![
        Event::new("security_failure", at(-599)),
        Event::new("security_failure", at(-600)),
        Event::new("security_failure", at(5)),
    ]);
    let d = check(&policy, "production", &t);
    assert_eq!(
        rules(&d),
        [
            ("gate_failed", Severity::Deny),
            ("errors_high", Severity::Deny),
            ("security_event", Severity::Deny)
        ]
    );
    // Only the event inside (now - 10m, now] counts.
    assert_eq!(d.findings[2].details["count"], 1);
}

#[test]
fn rollback_to_in_the_gates_hook_fails_closed() {
    let policy = bundle("gates-hook");
    let d = check(&policy, "misuse", &Telemetry::default());
    assert_eq!(rules(&d), [("policy_error", Severity::Deny)]);
    assert!(
        d.findings[0]
            .message
            .contains("only `fn rollback(ctx)` can, not `fn gates(ctx)`"),
        "{}",
        d.findings[0].message
    );
}

#[test]
fn telemetry_functions_are_script_errors_in_other_hooks() {
    let policy = PolicySet::from_sources(
        "bundle",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
            ),
            (
                "s.rhai".to_owned(),
                "fn schedule(request) { if avg(\"x\", \"5m\") == () { deny(\"x\", \"y\"); } }\n"
                    .to_owned(),
            ),
        ],
    )
    .unwrap();
    let d = policy.check_schedule(
        &deployment("production"),
        &changegate::Calendar::default(),
        at(-7200),
    );
    assert_eq!(rules(&d), [("policy_error", Severity::Deny)]);
    assert!(
        d.findings[0].message.contains("`avg` reads the deployment's measurements and events, which only `fn gates(ctx)` and `fn rollback(ctx)` have, not `fn schedule(request)`"),
        "{}",
        d.findings[0].message
    );
    // Defining a function of the same name is refused at load.
    let err = PolicySet::from_sources(
        "bundle",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
            ),
            (
                "s.rhai".to_owned(),
                "fn p95(a, b) { 1 }\nfn gates(ctx) { }\n".to_owned(),
            ),
        ],
    )
    .unwrap_err();
    assert!(err.message.contains("hide changegate's own `p95`"), "{err}");
}

#[test]
fn load_errors_name_the_field_and_line() {
    let load = |rules: &str| {
        PolicySet::from_sources(
            "bundle",
            [(
                "policy.yaml".to_owned(),
                format!(
                    "timezone: UTC\nenvironments:\n  production:\n    gates:\n      rules:\n{rules}"
                ),
            )],
        )
        .unwrap_err()
    };
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "        - {name: a, metric: m, aggregation: avg, window: 5m, max: 1}\n        - {name: b, metric: m, aggregation: avg, window: 5m, max: 1}\n        - name: c\n          metric: m\n          aggregation: avrage\n          window: 5m\n          max: 1\n",
            "environments.production.gates.rules[2].aggregation",
            10,
            "unknown aggregation `avrage` (did you mean `avg`?)",
        ),
        (
            "        - name: a\n          metric: m\n          aggregation: p95\n          window: 5m\n          max: 1.5s\n          warn_max: 2s\n",
            "environments.production.gates.rules[0].warn_max",
            11,
            "outside the pass band",
        ),
        (
            "        - name: a\n          metric: m\n          aggregation: p95\n          window: 5m\n          min_sample: 3\n          max: 1\n",
            "environments.production.gates.rules[0].min_sample",
            10,
            "did you mean `min_samples`?",
        ),
        (
            "        - name: a\n          metric: m\n          aggregation: p95\n          window: 5m\n",
            "environments.production.gates.rules[0]",
            6,
            "has no threshold",
        ),
        (
            "        - name: a\n          metric: m\n          aggregation: p95\n          window: 5m\n          max: 1.5 seconds\n",
            "environments.production.gates.rules[0].max",
            10,
            "a duration such as `1.5s`",
        ),
        (
            "        - {name: a, metric: m, aggregation: avg, window: 5m, max: 1}\n        - {name: a, metric: n, aggregation: avg, window: 5m, max: 1}\n",
            "environments.production.gates.rules[1].name",
            7,
            "gate `a` appears more than once",
        ),
    ];
    for (rules, field, line, message) in cases {
        let e = load(rules);
        assert_eq!(e.field.as_deref(), Some(*field), "{e}");
        assert_eq!(e.location.line, Some(*line), "{e}");
        assert!(e.message.contains(message), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("bundle/policy.yaml:{line}:")),
            "{e}"
        );
    }
}

/// The worked example of docs/policy-authoring.md, "Gates".
#[test]
fn the_documented_worked_example() {
    let policy = PolicySet::from_sources(
        "bundle",
        [(
            "policy.yaml".to_owned(),
            "timezone: UTC
environments:
  production:
    gates:
      score: {pass: 0.9, warn: 0.75}
      rules:
        - {name: latency-generated, metric: latency_seconds, labels: {path: generated},
           aggregation: p95, window: 5m, max: 1.5s, warn_max: 1.2s, min_samples: 30}
        - {name: latency-cached, metric: latency_seconds, labels: {path: cached},
           aggregation: p95, window: 5m, max: 300ms, min_samples: 30}
        - {name: error-rate, metric: error_rate, aggregation: avg, window: 5m, max: 1%,
           key: true, on_missing: fail}
        - {name: cost-budget, metric: cost_budget_used, aggregation: last, window: 1h, max: 80%}
        - {name: cache-hit-rate, metric: cache_hit_rate, aggregation: avg, window: 10m,
           min: 80%, warn_min: 85%}
"
            .to_owned(),
        )],
    )
    .unwrap();
    // 312 generated-path samples, the top 5% of them at 1.62s or more: p95 = 1.62.
    let mut ms = Vec::new();
    for i in 0..312 {
        let v = if i < 296 { 1.0 } else { 1.62 };
        ms.push(
            Measurement::new("latency_seconds", at(-(i % 290)), Some(v))
                .with_label("path", "generated"),
        );
        ms.push(
            Measurement::new("latency_seconds", at(-(i % 290)), Some(0.21))
                .with_label("path", "cached"),
        );
    }
    ms.push(Measurement::new("error_rate", at(-30), Some(0.004)));
    ms.push(Measurement::new("cost_budget_used", at(-600), Some(0.7)));
    ms.push(Measurement::new("cache_hit_rate", at(-60), Some(0.83)));
    let d = check(&policy, "production", &Telemetry::new(ms.clone()));
    assert_eq!(
        rules(&d),
        [
            ("gate_failed", Severity::Warn),
            ("gate_warning", Severity::Warn),
            ("gate_score", Severity::Deny)
        ]
    );
    assert!(
        d.findings[0].message.contains(
            "p95 of latency_seconds{path=generated} over 5m is 1.62 > max 1.5 (312 samples)"
        ),
        "{}",
        d.findings[0].message
    );
    let score = d.details["gates"]["score"].as_f64().unwrap();
    assert!((score - 0.7).abs() < 1e-12, "{score}");
    // Without error data: the key gate denies on its own.
    ms.retain(|m| m.metric != "error_rate");
    let d = check(&policy, "production", &Telemetry::new(ms));
    assert_eq!(
        d.findings_for("gate_failed")
            .filter(|f| f.severity == Severity::Deny)
            .count(),
        1
    );
}

/// Reading a window costs one unit per sample: a script that re-reads a long window in a loop
/// stops on the cost budget (and fails closed) long before the operations limit.
#[test]
fn reading_samples_is_charged_to_the_cost_budget() {
    let policy = PolicySet::from_sources(
        "bundle",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
            ),
            (
                "g.rhai".to_owned(),
                "fn gates(ctx) {\n    for i in 0..100 { p99(\"m\", \"5m\"); }\n}\n".to_owned(),
            ),
        ],
    )
    .unwrap();
    let start = at(-299);
    let ms: Vec<Measurement> = (0..200_000)
        .map(|i| Measurement::new("m", start + TimeDelta::milliseconds(i), Some(1.0)))
        .collect();
    let d = check(&policy, "production", &Telemetry::new(ms));
    assert_eq!(rules(&d), [("policy_error", Severity::Deny)]);
    assert_eq!(
        d.findings[0].details["limit"], "cost budget",
        "{}",
        d.findings[0].message
    );
    // The same script over a short series runs to the end.
    let d = check(
        &policy,
        "production",
        &Telemetry::new(series("m", &[Some(1.0)])),
    );
    assert_eq!(d.outcome.as_str(), "allow", "{:?}", d.findings);
}

#[test]
fn the_hook_compares_with_the_baseline() {
    let policy = PolicySet::from_sources(
        "bundle",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
            ),
            (
                "g.rhai".to_owned(),
                "fn gates(ctx) {\n    let now = ctx.avg(\"lat\", \"5m\");\n    let before = baseline(\"avg\", \"lat\", \"5m\");\n    if before == () { pending(\"no_baseline\", \"no baseline\"); return; }\n    if now > before * 1.2 { deny(\"slower\", `${now} vs ${before}`, #{now: now, before: before}); }\n}\n"
                    .to_owned(),
            ),
        ],
    )
    .unwrap();
    let current = series("lat", &values(&[1.0, 2.0]));
    let d = check(&policy, "production", &Telemetry::new(current.clone()));
    assert_eq!(rules(&d), [("no_baseline", Severity::Pending)]);
    let base = series("lat", &values(&[1.0, 1.0]));
    let d = check(
        &policy,
        "production",
        &Telemetry::new(current).with_baseline(base),
    );
    assert_eq!(rules(&d), [("slower", Severity::Deny)]);
    assert_eq!(d.findings[0].details["now"], 1.5);
    assert_eq!(d.findings[0].details["before"], 1.0);
}

/// The script of docs/policy-authoring.md, "`fn gates(ctx)` and `fn rollback(ctx)`", read from
/// the guide itself so that the two cannot drift.
#[test]
fn the_documented_hook_example_runs() {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy-authoring.md"),
    )
    .unwrap();
    let section = guide
        .split("### `fn gates(ctx)` and `fn rollback(ctx)`")
        .nth(1)
        .unwrap();
    let script = section
        .split("```rhai\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    assert!(script.contains("fn gates(ctx)") && script.contains("rollback_to"));
    let policy = PolicySet::from_sources(
        "bundle",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
            ),
            ("gates.rhai".to_owned(), script.to_owned()),
        ],
    )
    .unwrap();
    let latency = |v: f64| {
        Measurement::new("latency_seconds", at(-10), Some(v)).with_label("path", "generated")
    };
    let d = check(&policy, "production", &Telemetry::default());
    assert_eq!(rules(&d), [("latency_data", Severity::Pending)]);
    let d = check(&policy, "production", &Telemetry::new(vec![latency(1.0)]));
    assert_eq!(d.outcome.as_str(), "allow", "{:?}", d.findings);
    let t = Telemetry::new(vec![latency(2.0)])
        .with_events(vec![Event::new("security_failure", at(-60))]);
    let d = check(&policy, "production", &t);
    assert_eq!(
        rules(&d),
        [
            ("latency_slow", Severity::Deny),
            ("security_event", Severity::Deny)
        ]
    );
}
