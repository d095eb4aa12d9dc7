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
use chrono::TimeDelta;
mod common;
#[path = "common/floor.rs"]
mod floor;
#[path = "common/schedule_input.rs"]
mod schedule_input;

use common::Rng;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use schedule_input::{PER_DAY, base, calendar, floor_of, now, plain, request};

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
