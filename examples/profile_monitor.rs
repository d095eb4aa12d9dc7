//! Feeds a `Monitor` the input of `benches/monitor.rs` (1-second samples of 6 metrics under the
//! default-like triggers), for profilers: `cargo run --release --example profile_monitor`.
//!
//! Environment:
//! - `SECONDS`: how many seconds of data (3600);
//! - `WHAT`: `monitor` (the default: a decision after every push, as the bench) or `batch`
//!   (`check_rollback` once over the whole input, the telemetry indexed first).
//!
//! Per-second cost: run under `valgrind --tool=callgrind` with `SECONDS` at N and 2N and divide
//! the difference by N (building the input is in both).
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, missing_docs)]

use std::hint::black_box;

use changegate::{ChangeRequest, Measurement, Monitor, PolicySet, Telemetry};
use chrono::{DateTime, TimeDelta, Utc};

#[path = "../benches/common/mod.rs"]
mod common;
use common::Rng;

/// The policy of `benches/monitor.rs`.
const POLICY: &str = "timezone: UTC
environments:
  production:
    rollback:
      levels:
        - {name: feature_flag, budget: 2m}
        - {name: traffic_routing, budget: 5m}
        - {name: full_system, budget: 10m}
      triggers:
        - {name: emergency-latency, metric: latency_seconds, aggregation: p95, window: 5m, above: 3s, for: 2m, level: traffic_routing}
        - {name: error-rate, metric: error_rate, aggregation: avg, window: 5m, above: 5%, for: 1m, level: feature_flag}
        - {name: error-budget-burn, burn_rate: {metric: error_rate, objective: 99.9%, long: 1h, short: 5m, factor: 14.4}, level: traffic_routing}
        - {name: security-failure, event: security_failure, window: 10m, level: full_system}
";

const METRICS: [&str; 6] = [
    "latency_seconds",
    "error_rate",
    "cpu",
    "memory",
    "cache_hit_rate",
    "cost",
];

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .into()
}

/// As `hour()` in `benches/monitor.rs`, for `seconds` seconds.
fn samples(seconds: i64) -> Vec<Measurement> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(seconds as usize * METRICS.len());
    for s in 0..seconds {
        let at = start() + TimeDelta::seconds(s);
        for (i, metric) in METRICS.iter().enumerate() {
            let noise = rng.below(1000) as f64 / 1000.0;
            let value = match i {
                0 => 0.2 + noise,
                1 => noise / 1000.0,
                _ => 10.0 * noise,
            };
            out.push(Measurement::new(*metric, at, Some(value)));
        }
    }
    out
}

fn main() {
    let var = |k: &str| std::env::var(k).ok();
    let seconds: i64 = var("SECONDS").and_then(|s| s.parse().ok()).unwrap_or(3_600);
    let what = var("WHAT").unwrap_or_else(|| "monitor".to_owned());
    let policy =
        PolicySet::from_sources("bench", [("policy.yaml".to_owned(), POLICY.to_owned())]).unwrap();
    let dep = ChangeRequest::from_yaml(
        "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
         start: 2026-12-01T10:00:00Z\nduration: 1h\n",
        "deployment.yaml",
    )
    .unwrap();
    let input = samples(seconds);
    if what == "batch" {
        let end = start() + TimeDelta::seconds(seconds - 1);
        let telemetry = Telemetry::new(input);
        black_box(policy.check_rollback(&dep, &telemetry, end).outcome);
        return;
    }
    let mut monitor = Monitor::new(&policy, dep, start()).with_tolerance(TimeDelta::seconds(2));
    for m in input {
        black_box(monitor.push_measurement(m).unwrap().outcome);
    }
    black_box(monitor.decision().outcome);
}
