//! The streaming monitor and `check_rollback` on one hour of telemetry: 1-second samples of 6
//! metrics (21 600 samples, a healthy deployment: no trigger fires), under a policy with the
//! default-like triggers (p95 latency over 5m above 3s for 2m, average error rate over 5m
//! above 5% for 1m, an error-budget burn rate over 1h and 5m, a security-failure event).
//!
//! - `monitor`: a [`Monitor`] fed the hour sample by sample (tolerance 2s), its decision
//!   current after each push;
//! - `naive`: the same stream, every trigger's window recomputed from scratch on each sample
//!   (binary search for the window, then a scan, a sort for the percentile), over plain data;
//! - `floor`: the least work a monitor must do per sample, written by hand: reading each
//!   sample once and adding it up;
//! - `check_rollback`: the whole hour in one call at its end (the telemetry indexed once,
//!   outside the timing).
//!
//! Throughput is in samples; divide the monitor's time per sample by the 4 triggers for the
//! figure per sample per trigger. Run: `cargo bench --bench monitor`. Figures go to
//! docs/performance.md as ratios.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    missing_docs
)]

use std::hint::black_box;

use changegate::{ChangeRequest, Measurement, Monitor, PolicySet, Telemetry};
use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;
use common::Rng;

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
const SECONDS: i64 = 3_600;

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .into()
}

fn deployment() -> ChangeRequest {
    ChangeRequest::from_yaml(
        "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
         start: 2026-12-01T10:00:00Z\nduration: 1h\n",
        "deployment.yaml",
    )
    .unwrap()
}

/// One hour of 1-second samples of the 6 metrics, in time order.
fn hour() -> Vec<Measurement> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(SECONDS as usize * METRICS.len());
    for s in 0..SECONDS {
        let at = start() + TimeDelta::seconds(s);
        for (i, metric) in METRICS.iter().enumerate() {
            let noise = rng.below(1000) as f64 / 1000.0;
            let value = match i {
                0 => 0.2 + noise,    // latency: 0.2 .. 1.2 s
                1 => noise / 1000.0, // error rate: < 0.1%
                _ => 10.0 * noise,
            };
            out.push(Measurement::new(*metric, at, Some(value)));
        }
    }
    out
}

/// Every trigger's window recomputed from scratch on each sample, over plain data.
mod naive {
    /// Per metric: (second, value), in time order.
    #[derive(Default)]
    pub struct Naive {
        latency: Vec<(i64, f64)>,
        errors: Vec<(i64, f64)>,
        events: Vec<i64>,
        since: [Option<i64>; 4],
        scratch: Vec<f64>,
    }

    fn window(xs: &[(i64, f64)], now: i64, len: i64) -> &[(i64, f64)] {
        let lo = xs.partition_point(|x| x.0 <= now - len);
        &xs[lo..]
    }

    fn avg(xs: &[(i64, f64)]) -> Option<f64> {
        (!xs.is_empty()).then(|| xs.iter().map(|x| x.1).sum::<f64>() / xs.len() as f64)
    }

    impl Naive {
        /// Adds a sample of metric `m` at second `at` and re-evaluates every trigger; returns
        /// how many fire.
        pub fn push(&mut self, m: usize, at: i64, v: f64) -> usize {
            match m {
                0 => self.latency.push((at, v)),
                1 => self.errors.push((at, v)),
                _ => {}
            }
            let w = window(&self.latency, at, 300);
            self.scratch.clear();
            self.scratch.extend(w.iter().map(|x| x.1));
            self.scratch.sort_by(f64::total_cmp);
            let n = self.scratch.len();
            let p95 = (n > 0).then(|| self.scratch[(95 * n).div_ceil(100).max(1) - 1]);
            let err = avg(window(&self.errors, at, 300));
            let budget = 1.0 - 0.999;
            let long = avg(window(&self.errors, at, 3600)).map(|v| v / budget);
            let short = err.map(|v| v / budget);
            let lo = self.events.partition_point(|&e| e <= at - 600);
            let conditions = [
                p95.is_some_and(|v| v > 3.0),
                err.is_some_and(|v| v > 0.05),
                long.is_some_and(|l| l > 14.4) && short.is_some_and(|s| s > 14.4),
                self.events.len() > lo,
            ];
            let sustain = [120, 60, 0, 0];
            let mut firing = 0;
            for (i, c) in conditions.into_iter().enumerate() {
                self.since[i] = if c { self.since[i].or(Some(at)) } else { None };
                if self.since[i].is_some_and(|s| s + sustain[i] <= at) {
                    firing += 1;
                }
            }
            firing
        }
    }
}

fn bench(c: &mut Criterion) {
    let policy =
        PolicySet::from_sources("bench", [("policy.yaml".to_owned(), POLICY.to_owned())]).unwrap();
    let dep = deployment();
    let samples = hour();
    let n = samples.len() as u64;
    let end = start() + TimeDelta::seconds(SECONDS - 1);

    // The monitor and the batch check agree on the hour.
    let mut monitor =
        Monitor::new(&policy, dep.clone(), start()).with_tolerance(TimeDelta::seconds(2));
    for m in &samples {
        monitor.push_measurement(m.clone()).unwrap();
    }
    let batch = policy.check_rollback(&dep, &monitor.committed(), monitor.now());
    assert_eq!(monitor.decision().to_json(), batch.to_json());
    assert_eq!(batch.outcome.as_str(), "allow");

    let mut group = c.benchmark_group("monitor");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(4));
    group.throughput(Throughput::Elements(n));
    group.bench_function("monitor", |b| {
        b.iter_batched(
            || samples.clone(),
            |samples| {
                let mut monitor = Monitor::new(&policy, dep.clone(), start())
                    .with_tolerance(TimeDelta::seconds(2));
                for m in samples {
                    black_box(monitor.push_measurement(m).unwrap().outcome);
                }
                monitor
            },
            criterion::BatchSize::LargeInput,
        );
    });
    let plain: Vec<(usize, i64, f64)> = samples
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                i % METRICS.len(),
                (m.at - start()).num_seconds(),
                m.value.unwrap_or(f64::NAN),
            )
        })
        .collect();
    group.bench_function("naive", |b| {
        b.iter(|| {
            let mut naive = naive::Naive::default();
            let mut firing = 0;
            for &(m, at, v) in &plain {
                firing += naive.push(m, at, v);
            }
            black_box(firing)
        });
    });
    group.bench_function("floor", |b| {
        b.iter(|| {
            let mut sums = [0.0f64; METRICS.len()];
            for &(m, _, v) in black_box(&plain) {
                sums[m] += v;
            }
            black_box(sums)
        });
    });
    group.finish();

    let telemetry = Telemetry::new(samples.clone());
    let mut group = c.benchmark_group("check_rollback");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(3));
    group.throughput(Throughput::Elements(n));
    group.bench_function("hour", |b| {
        b.iter(|| black_box(policy.check_rollback(&dep, &telemetry, end).outcome));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
