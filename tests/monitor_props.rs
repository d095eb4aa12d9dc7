#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The monitor against the batch check, and the batch sweep against a brute-force oracle:
//! random streams of measurements (values, missing, NaN; two series of one metric), events
//! and rollbacks performed, pushed out of order within the tolerance. After every push the
//! monitor's decision equals `check_rollback` over the committed evidence at `monitor.now()`,
//! and each trigger's state, `since` and `fired_at` equal the oracle's (which evaluates every
//! condition from scratch at every instant it may change).

use changegate::{
    ChangeRequest, Decision, Event, Measurement, Monitor, PolicySet, RollbackDone, Telemetry,
};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::Value;

/// Every kind of trigger and aggregation, on windows of seconds.
const POLICY: &str = "timezone: UTC
environments:
  production:
    rollback:
      levels:
        - {name: a, budget: 5s}
        - {name: b, budget: 10s}
        - {name: c, budget: 20s}
      triggers:
        - {name: avg, metric: m1, aggregation: avg, window: 5s, above: 0.5, for: 3s, level: a}
        - {name: p90, metric: m1, aggregation: p90, window: 7s, below: 0.25, on_missing: fire, level: b}
        - {name: max-x, metric: m2, labels: {k: x}, aggregation: max, window: 4s, above: 1, for: 2s, on_missing: ignore, level: c}
        - {name: rate, metric: m2, aggregation: rate, window: 6s, above: 0.5, for: 1s, on_missing: fire, level: a}
        - {name: last, metric: m2, aggregation: last, window: 3s, above: 0.75, for: 1s, level: b}
        - {name: min, metric: m1, aggregation: min, window: 4s, above: 0.125, level: a}
        - {name: count, metric: m2, aggregation: count, window: 4s, below: 2, for: 2s, level: a}
        - {name: p50, metric: m2, aggregation: p50, window: 5s, above: 1, level: b}
        - {name: events, event: e, window: 5s, min_count: 2, for: 2s, level: b}
        - {name: burn, burn_rate: {metric: m1, objective: 50%, long: 8s, short: 3s, factor: 1}, for: 1s, level: c}
";

fn policy() -> PolicySet {
    PolicySet::from_sources("p", [("policy.yaml".to_owned(), POLICY.to_owned())]).unwrap()
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .into()
}

fn deployment() -> ChangeRequest {
    ChangeRequest::from_yaml(
        "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
         start: 2026-12-01T10:00:02Z\nduration: 1h\n",
        "deployment.yaml",
    )
    .unwrap()
}

#[derive(Debug, Clone)]
enum What {
    M1(Option<f64>),
    M2(&'static str, Option<f64>),
    Event,
    Rollback(&'static str),
}

fn what() -> impl Strategy<Value = What> {
    let value = prop_oneof![
        10 => (0i32..17).prop_map(|v| Some(f64::from(v) / 8.0)),
        1 => Just(None),
        1 => Just(Some(f64::NAN)),
    ];
    prop_oneof![
        4 => value.clone().prop_map(What::M1),
        4 => (prop_oneof![Just("x"), Just("y")], value).prop_map(|(k, v)| What::M2(k, v)),
        2 => Just(What::Event),
        1 => prop_oneof![Just("a"), Just("b"), Just("c"), Just("z")].prop_map(What::Rollback),
    ]
}

/// (instant in ms after the start, delay in ms within the tolerance, what).
fn stream(tolerance: i64) -> impl Strategy<Value = Vec<(i64, i64, What)>> {
    prop::collection::vec((0i64..6, 0..=tolerance / 250, what()), 1..70).prop_map(|raw| {
        let mut at = 0;
        let mut items: Vec<(i64, i64, What)> = raw
            .into_iter()
            .map(|(gap, delay, w)| {
                at += gap * 250;
                (at, delay * 250, w)
            })
            .collect();
        // Arrival order: by instant plus delay (stable, so ties keep the stream's order).
        items.sort_by_key(|(at, delay, _)| at + delay);
        items
    })
}

fn push(monitor: &mut Monitor, at: DateTime<Utc>, w: &What) -> Decision {
    let r = match w {
        What::M1(v) => monitor.push_measurement(Measurement::new("m1", at, *v)),
        What::M2(k, v) => {
            monitor.push_measurement(Measurement::new("m2", at, *v).with_label("k", *k))
        }
        What::Event => monitor.push_event(Event::new("e", at)),
        What::Rollback(l) => monitor.push_rollback(RollbackDone::new(*l, at)),
    };
    r.unwrap().clone()
}

fn triggers(d: &Decision) -> Vec<(String, String, Value, Value)> {
    d.details["rollback"]["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["state"].as_str().unwrap().to_owned(),
                t["since"].clone(),
                t["fired_at"].clone(),
            )
        })
        .collect()
}

fn oracle(
    p: &PolicySet,
    tel: &Telemetry,
    now: DateTime<Utc>,
) -> Vec<(String, String, Value, Value)> {
    let time = |t: Option<DateTime<Utc>>| t.map_or(Value::Null, |t| Value::from(t.to_rfc3339()));
    p.rollback_oracle(&deployment(), tel, now)
        .into_iter()
        .map(|(n, s, since, fired)| (n, s, time(since), time(fired)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn the_monitor_decides_as_check_rollback_after_every_push(
        tolerance in prop_oneof![Just(0i64), Just(1000), Just(2500)],
        items in stream(2500),
    ) {
        let p = policy();
        let dep = deployment();
        let mut monitor = Monitor::new(&p, dep.clone(), start())
            .with_tolerance(TimeDelta::milliseconds(tolerance));
        // Only the delays within this run's tolerance: re-sort by the arrival they give.
        let mut items = items;
        for item in &mut items {
            item.1 = item.1.min(tolerance);
        }
        items.sort_by_key(|(at, delay, _)| at + delay);
        for (at, _, w) in &items {
            let at = start() + TimeDelta::milliseconds(*at);
            let got = push(&mut monitor, at, w);
            let now = monitor.now();
            let batch = p.check_rollback(&dep, &monitor.committed(), now);
            prop_assert_eq!(got.to_json(), batch.to_json(), "at {} ({:?})", now, w);
            prop_assert_eq!(&got, monitor.decision());
            prop_assert_eq!(triggers(&got), oracle(&p, &monitor.committed(), now));
        }
    }

    #[test]
    fn the_batch_sweep_agrees_with_the_oracle_at_any_instant(
        items in stream(0),
        now in 0i64..40_000,
    ) {
        let p = policy();
        let mut measurements = Vec::new();
        let mut events = Vec::new();
        let mut rollbacks = Vec::new();
        for (at, _, w) in &items {
            let at = start() + TimeDelta::milliseconds(*at);
            match w {
                What::M1(v) => measurements.push(Measurement::new("m1", at, *v)),
                What::M2(k, v) => measurements.push(Measurement::new("m2", at, *v).with_label("k", *k)),
                What::Event => events.push(Event::new("e", at)),
                What::Rollback(l) => rollbacks.push(RollbackDone::new(*l, at)),
            }
        }
        let tel = Telemetry::new(measurements).with_events(events).with_rollbacks(rollbacks);
        let now = start() + TimeDelta::milliseconds(now);
        let d = p.check_rollback(&deployment(), &tel, now);
        prop_assert_eq!(triggers(&d), oracle(&p, &tel, now));
    }
}

#[test]
fn late_samples_within_the_tolerance_wait_and_older_ones_are_rejected() {
    let p = policy();
    let mut monitor = Monitor::new(&p, deployment(), start()).with_tolerance(TimeDelta::seconds(2));
    let at = |s: i64| start() + TimeDelta::seconds(s);
    monitor
        .push_measurement(Measurement::new("m1", at(10), Some(1.0)))
        .unwrap();
    assert_eq!(monitor.now(), at(8));
    assert_eq!(monitor.waiting(), 1);
    // Within the tolerance: waits, then is committed in time order.
    monitor
        .push_measurement(Measurement::new("m1", at(9), Some(0.5)))
        .unwrap();
    assert_eq!(monitor.waiting(), 2);
    monitor
        .push_measurement(Measurement::new("m1", at(12), Some(0.5)))
        .unwrap();
    assert_eq!(monitor.now(), at(10));
    assert_eq!(monitor.committed().measurement_count(), 1);
    monitor.push_event(Event::new("e", at(13))).unwrap();
    assert_eq!(monitor.committed().measurement_count(), 2);
    // Older than the watermark (at(11)): rejected, naming the metric and the instants.
    let err = monitor
        .push_measurement(Measurement::new("m2", at(10), Some(0.5)))
        .unwrap_err();
    assert!(err.message.contains("`m2`"), "{err}");
    assert!(err.message.contains("2026-12-01T10:00:10+00:00"), "{err}");
    assert!(
        err.message.contains("watermark 2026-12-01T10:00:11+00:00"),
        "{err}"
    );
    assert_eq!(err.field.as_deref(), Some("at"));
    // Before the start: rejected.
    let mut fresh = Monitor::new(&p, deployment(), start());
    let err = fresh
        .push_event(Event::new("e", start() - TimeDelta::seconds(1)))
        .unwrap_err();
    assert!(err.message.contains("before the monitor's start"), "{err}");
    // Same instant, several series: accepted with no tolerance.
    let mut m = Monitor::new(&p, deployment(), start());
    for k in ["x", "y", "x"] {
        m.push_measurement(Measurement::new("m2", at(3), Some(1.0)).with_label("k", k))
            .unwrap();
    }
    assert_eq!(m.waiting(), 3);
    m.push_measurement(Measurement::new("m1", at(4), Some(1.0)))
        .unwrap();
    assert_eq!(m.committed().measurement_count(), 3);
}

#[test]
fn a_monitor_of_an_environment_without_rollback_allows() {
    let p = PolicySet::from_sources(
        "p",
        [(
            "policy.yaml".to_owned(),
            "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
        )],
    )
    .unwrap();
    let mut m = Monitor::new(&p, deployment(), start());
    let d = m
        .push_measurement(Measurement::new("m1", start(), Some(1.0)))
        .unwrap();
    assert_eq!(d.outcome.as_str(), "allow");
    assert!(d.details["rollback"]["level"].is_null());
}

#[test]
fn far_instants_and_huge_tolerances_saturate() {
    let p = policy();
    let mut m =
        Monitor::new(&p, deployment(), DateTime::<Utc>::MIN_UTC).with_tolerance(TimeDelta::MAX);
    for at in [
        DateTime::<Utc>::MIN_UTC,
        start(),
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MIN_UTC,
    ] {
        let d = m
            .push_measurement(Measurement::new("m1", at, Some(f64::MAX)))
            .unwrap();
        let _ = d.to_json();
        m.push_event(Event::new("e", at)).unwrap();
    }
    let mut m = Monitor::new(&p, deployment(), DateTime::<Utc>::MIN_UTC);
    for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        m.push_measurement(Measurement::new("m2", at, Some(-f64::MAX)).with_label("k", "x"))
            .unwrap();
        m.push_rollback(RollbackDone::new("c", at)).unwrap();
    }
    let batch = p.check_rollback(&deployment(), &m.committed(), m.now());
    assert_eq!(m.decision().to_json(), batch.to_json());
}
