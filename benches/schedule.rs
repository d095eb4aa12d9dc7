//! `check_schedule` with the default bundle (built-in rules plus its scripts) against calendars
//! of 1 000 and 100 000 deployments, the cost of loading the bundle, and a baseline in the same
//! run: the same conflict question answered by scanning the whole calendar.
//!
//! Run: `cargo bench --bench schedule`. Figures go to docs/performance.md as ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use changegate::{Calendar, ChangeRequest, PolicySet};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
mod common;

use common::Rng;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn base() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-01-05T00:00:00+01:00").unwrap()
}

/// Deployments a day in the generated calendars: the density stays the same whatever `n`, so
/// the 1 000 and 100 000 figures differ only by how well the index avoids the rest.
const PER_DAY: u64 = 100;

/// `n` production deployments on 200 services, 30 minutes to 4 hours each, `PER_DAY` a day
/// from 2026-01-05 (1 000 cover 10 days, 100 000 cover 1 000 days).
fn calendar(n: usize) -> Calendar {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let span_minutes = (n as u64 / PER_DAY).max(1) * 24 * 60;
    let deployments = (0..n)
        .map(|i| {
            let start = base() + TimeDelta::minutes(rng.below(span_minutes) as i64);
            let duration = TimeDelta::minutes(30 + rng.below(210) as i64);
            let service = format!("svc-{}", rng.below(200));
            let mut d = ChangeRequest::new(
                format!("dep-{i}"),
                [service],
                "production",
                "feature",
                start,
                duration,
            );
            d.labels
                .insert("team".into(), format!("team-{}", rng.below(40)).into());
            d
        })
        .collect();
    Calendar::new(deployments, Vec::new()).unwrap()
}

/// A Tuesday-night production change (inside the first 10 days, so both calendars are as busy
/// around it) of two services, with a ticket and a team label, so
/// every built-in rule and every script of the default bundle runs.
fn request() -> ChangeRequest {
    ChangeRequest::from_yaml(
        "id: bench-1\nservices: [svc-7, payments]\nenvironment: production\ntype: feature\n\
         start: 2026-01-13T22:30:00+01:00\nduration: 2h\nrequested_at: 2026-01-09T08:00:00Z\n\
         depends_on: [dep-17]\nlabels: {team: team-3, ticket: CHG-1234}\n",
        "bench",
    )
    .unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-09T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The baseline: which deployments share a service with the request and overlap it, by a
/// scan of the whole calendar (what the index replaces).
fn scan_conflicts<'a>(cal: &'a Calendar, req: &ChangeRequest) -> Vec<&'a str> {
    let (start, end) = (req.start, req.end());
    cal.deployments()
        .iter()
        .filter(|d| {
            d.environment == req.environment
                && d.start < end
                && start < d.end()
                && d.services.iter().any(|s| req.services.contains(s))
        })
        .map(|d| d.id.as_str())
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = PolicySet::builtin().unwrap();
    // The same policy.yaml without its scripts: how much of a check the built-in rules take.
    let builtin_rules = PolicySet::from_sources(
        "policies",
        [(
            "policy.yaml".to_owned(),
            include_str!("../policies/policy.yaml").to_owned(),
        )],
    )
    .unwrap();
    let req = request();
    let mut group = c.benchmark_group("check_schedule");
    for n in [1_000, 100_000] {
        let cal = calendar(n);
        group.bench_with_input(BenchmarkId::new("default_bundle", n), &cal, |b, cal| {
            b.iter(|| black_box(policy.check_schedule(black_box(&req), cal, now())))
        });
        group.bench_with_input(BenchmarkId::new("builtin_rules_only", n), &cal, |b, cal| {
            b.iter(|| black_box(builtin_rules.check_schedule(black_box(&req), cal, now())))
        });
        group.bench_with_input(
            BenchmarkId::new("baseline_scan_conflicts", n),
            &cal,
            |b, cal| b.iter(|| black_box(scan_conflicts(cal, black_box(&req)))),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("load");
    group.bench_function("builtin_bundle", |b| {
        b.iter(|| black_box(PolicySet::builtin().unwrap()))
    });
    group.bench_function("index_calendar_100000", |b| {
        let deployments = calendar(100_000).deployments().to_vec();
        b.iter_batched(
            || deployments.clone(),
            |d| black_box(Calendar::new(d, Vec::new()).unwrap()),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
