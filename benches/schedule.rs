//! `check_schedule` with the default bundle (built-in rules plus its scripts) against calendars
//! of 1 000 and 100 000 deployments, the cost of loading the bundle, and two baselines in the
//! same run: the floor (`common/floor.rs`: the default bundle's built-in rules written by hand
//! over a per-service sorted index, no changegate type), and the conflict question answered by
//! scanning the whole calendar.
//!
//! Before measuring, the bench asserts that the floor and `check_schedule` with the built-in
//! rules only give the same outcome and the same denying rules, for the bench request and for
//! 2 000 generated requests on each calendar.
//!
//! Run: `cargo bench --bench schedule`. Figures go to docs/performance.md as ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use changegate::{Calendar, ChangeRequest, PolicySet};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
mod common;
#[path = "common/floor.rs"]
mod floor;

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

/// A request or deployment as the floor's plain data.
fn plain(d: &ChangeRequest) -> floor::Change {
    let start = d.start.timestamp();
    floor::Change {
        id: d.id.as_str().to_owned(),
        services: d.services.clone(),
        environment: d.environment.clone(),
        change_type: d.change_type.clone(),
        start,
        end: start + d.duration.num_seconds().max(1),
        requested_at: d.requested_at.map(|t| t.timestamp()),
        depends_on: d.depends_on.iter().map(|x| x.as_str().to_owned()).collect(),
    }
}

fn floor_of(cal: &Calendar) -> floor::Floor {
    let one_offs = cal
        .blackouts()
        .iter()
        .map(|b| floor::OneOff {
            start: b.from.timestamp(),
            end: b.to.timestamp(),
            environments: b.environments.clone(),
            services: b.services.clone(),
        })
        .collect();
    floor::Floor::new(cal.deployments().iter().map(plain).collect(), one_offs)
}

/// The denying rules of a decision, as the floor's bits.
fn denied_bits(decision: &changegate::Decision) -> u8 {
    decision
        .findings
        .iter()
        .filter(|f| f.severity == changegate::Severity::Deny)
        .map(|f| match f.rule.as_str() {
            "advance_notice" => floor::ADVANCE_NOTICE,
            "max_duration" => floor::MAX_DURATION_RULE,
            "blackout" => floor::BLACKOUT,
            "conflict" => floor::CONFLICT,
            "concurrency" => floor::CONCURRENCY,
            "dependency" => floor::DEPENDENCY,
            "start_in_past" => floor::START_IN_PAST,
            other => panic!("the floor does not know rule `{other}`"),
        })
        .fold(0, |a, b| a | b)
}

/// Generated production requests over the calendar's span (and a little past it, into a
/// holiday freeze for the 1 000 calendar): any weekday and hour, 30 minutes to 10 hours, one or
/// two services, every change type, notice from none to two days, a dependency that exists,
/// one that does not, or none.
fn requests(n: usize, count: usize) -> Vec<ChangeRequest> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let span_minutes = ((n as u64 / PER_DAY).max(1) + 360) * 24 * 60;
    (0..count)
        .map(|i| {
            let start = base() + TimeDelta::minutes(rng.below(span_minutes) as i64);
            let duration = TimeDelta::minutes(30 + rng.below(570) as i64);
            let mut services = vec![format!("svc-{}", rng.below(200))];
            if rng.below(2) == 0 {
                services.push("payments".to_owned());
            }
            let ty = ["feature", "hotfix", "emergency", "infrastructure"][rng.below(4) as usize];
            let mut r = ChangeRequest::new(
                format!("req-{i}"),
                services,
                "production",
                ty,
                start,
                duration,
            );
            r.requested_at = Some(start - TimeDelta::minutes(rng.below(48 * 60) as i64));
            match rng.below(3) {
                0 => r
                    .depends_on
                    .push(format!("dep-{}", rng.below(n as u64)).into()),
                1 => r.depends_on.push("dep-missing".into()),
                _ => {}
            }
            r
        })
        .collect()
}

/// The floor agrees with `check_schedule` (built-in rules only): same outcome, same denying
/// rules.
fn assert_floor_agrees(
    policy: &PolicySet,
    cal: &Calendar,
    fl: &floor::Floor,
    reqs: &[ChangeRequest],
) {
    let now_s = now().timestamp();
    let (mut seen_bits, mut seen_outcomes) = (0u8, std::collections::BTreeSet::new());
    for r in reqs {
        let decision = policy.check_schedule(r, cal, now());
        let verdict = fl.check(&plain(r), now_s);
        assert_eq!(
            (decision.outcome.as_str(), denied_bits(&decision)),
            (verdict.outcome(), verdict.denied),
            "the floor disagrees with check_schedule on {r:?}: {decision:?}"
        );
        seen_bits |= verdict.denied;
        seen_outcomes.insert(verdict.outcome());
    }
    // Not a vacuous agreement: every rule denied some request, and every outcome occurred.
    assert_eq!(
        seen_bits, 0b111_1111,
        "rules never denied: {seen_bits:#09b}"
    );
    assert_eq!(seen_outcomes.len(), 3, "outcomes seen: {seen_outcomes:?}");
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
    let plain_req = plain(&req);
    let mut group = c.benchmark_group("check_schedule");
    for n in [1_000, 100_000] {
        let cal = calendar(n);
        let fl = floor_of(&cal);
        let mut checked = requests(n, 2_000);
        checked.push(req.clone());
        assert_floor_agrees(&builtin_rules, &cal, &fl, &checked);
        group.bench_with_input(BenchmarkId::new("default_bundle", n), &cal, |b, cal| {
            b.iter(|| black_box(policy.check_schedule(black_box(&req), cal, now())))
        });
        group.bench_with_input(BenchmarkId::new("builtin_rules_only", n), &cal, |b, cal| {
            b.iter(|| black_box(builtin_rules.check_schedule(black_box(&req), cal, now())))
        });
        group.bench_with_input(BenchmarkId::new("floor_native", n), &fl, |b, fl| {
            b.iter(|| black_box(fl.check(black_box(&plain_req), now().timestamp())))
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
