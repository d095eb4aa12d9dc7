//! `PolicySet::next_windows` ("when can I deploy?") over a 90-day horizon with 1 000 scheduled
//! deployments, 20 one-off blackouts, the default bundle's weekly and yearly freezes, one RRULE
//! blackout and the default scripts; and a baseline in the same run: the same question answered
//! by a naive scan calling `check_schedule` at every minute until `count` windows are found.
//!
//! Run: `cargo bench --bench windows`. Figures go to docs/performance.md as ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use changegate::{Blackout, Calendar, ChangeRequest, PolicySet};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
mod common;

use common::Rng;
use criterion::{Criterion, criterion_group, criterion_main};

fn base() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-02-02T00:00:00+01:00").unwrap()
}

const HORIZON_DAYS: i64 = 90;
const COUNT: usize = 3;

/// The default bundle's policy.yaml plus a `month-end` RRULE, with the default scripts.
fn policy() -> PolicySet {
    policy_with(&[])
}

/// [`policy`] plus the scripts `extra` (`(name, text)`).
fn policy_with(extra: &[(&str, &str)]) -> PolicySet {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/windows");
    let mut files = vec![(
        "policy.yaml".to_owned(),
        std::fs::read_to_string(format!("{dir}/policy.yaml")).unwrap(),
    )];
    for name in changegate::builtin_files().filter(|n| n.ends_with(".rhai")) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/");
        files.push((
            name.to_owned(),
            std::fs::read_to_string(format!("{path}{name}")).unwrap(),
        ));
    }
    files.extend(
        extra
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned())),
    );
    PolicySet::from_sources("benches/data/windows", files).unwrap()
}

/// 1 000 production deployments on 100 services over the 90 days (about 11 a day, 30 minutes to
/// 3 hours each), and 20 one-off blackouts of 1 to 6 hours, some limited to a few services.
fn calendar() -> Calendar {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let deployments = (0..1_000)
        .map(|i| {
            let start = base() + TimeDelta::minutes(rng.below(90 * 24 * 4) as i64 * 15);
            let duration = TimeDelta::minutes(30 + 30 * rng.below(6) as i64);
            let service = format!("svc-{}", rng.below(100));
            ChangeRequest::new(
                format!("dep-{i}"),
                [service],
                "production",
                "feature",
                start,
                duration,
            )
        })
        .collect();
    let blackouts = (0..20)
        .map(|i| {
            let from = base() + TimeDelta::minutes(rng.below(90 * 24 * 4) as i64 * 15);
            Blackout {
                name: format!("incident-{i}"),
                from,
                to: from + TimeDelta::hours(1 + rng.below(6) as i64),
                environments: Some(vec!["production".into()]),
                services: (i % 2 == 0)
                    .then(|| vec![format!("svc-{}", rng.below(100)), "svc-7".into()]),
            }
        })
        .collect();
    Calendar::new(deployments, blackouts).unwrap()
}

fn request() -> ChangeRequest {
    ChangeRequest::from_yaml(
        "id: dep-new\nservices: [svc-7, payments]\nenvironment: production\ntype: feature\n\
         start: 2026-02-02T22:00:00+01:00\nduration: 2h\nlabels: {ticket: CHG-1234, team: payments}\n",
        "request.yaml",
    )
    .unwrap()
}

/// The baseline: every minute from `now` (rounded up), a full check of the request moved
/// there; a window starts wherever an allowed minute follows a denied one.
fn naive_scan(
    policy: &PolicySet,
    req: &ChangeRequest,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let start = now + TimeDelta::seconds((60 - now.timestamp().rem_euclid(60)) % 60);
    let end = start + TimeDelta::days(HORIZON_DAYS);
    let mut found = Vec::new();
    let mut previous = false;
    let mut t = start;
    let mut moved = req.clone();
    while t < end && found.len() < COUNT {
        moved.start = t.fixed_offset();
        let allowed =
            t + req.duration <= end && policy.check_schedule(&moved, calendar, now).allowed;
        if allowed && !previous {
            found.push(t);
        }
        previous = allowed;
        t += TimeDelta::minutes(1);
    }
    found
}

fn bench(c: &mut Criterion) {
    let policy = policy();
    let calendar = calendar();
    let req = request();
    let now = DateTime::parse_from_rfc3339("2026-02-02T09:00:00+01:00")
        .unwrap()
        .with_timezone(&Utc);
    let horizon = TimeDelta::days(HORIZON_DAYS);

    // Both answer the same question the same way.
    let answer = policy.next_windows(&req, &calendar, now, COUNT, horizon);
    let starts: Vec<DateTime<Utc>> = answer
        .windows
        .iter()
        .map(|w| w.start.with_timezone(&Utc))
        .collect();
    let naive = naive_scan(&policy, &req, &calendar, now);
    assert_eq!(starts, naive, "next_windows and the naive scan disagree");
    assert_eq!(starts.len(), COUNT);
    eprintln!(
        "next_windows: {} windows, first {}, {} checks; naive scan: {} minutes checked",
        starts.len(),
        answer.windows[0].start,
        answer.confirmations,
        (naive[COUNT - 1] - now).num_minutes() + 1
    );

    // The same question with a business-hours script that denies with a `retry_at` hint.
    let business = policy_with(&[(
        "business_hours.rhai",
        include_str!("../tests/cases/bundles/business-hours-hinted/business_hours.rhai"),
    )]);
    let hinted = business.next_windows(&req, &calendar, now, COUNT, horizon);
    assert_eq!(hinted.windows.len(), COUNT);
    eprintln!(
        "with business hours (retry_at): first {}, {} checks",
        hinted.windows[0].start, hinted.confirmations
    );

    let mut group = c.benchmark_group("next_windows_90d_1000_deployments");
    group.bench_function("next_windows", |b| {
        b.iter(|| black_box(policy.next_windows(black_box(&req), &calendar, now, COUNT, horizon)))
    });
    group.bench_function("next_windows_business_hours_retry_at", |b| {
        b.iter(|| black_box(business.next_windows(black_box(&req), &calendar, now, COUNT, horizon)))
    });
    group.sample_size(10);
    group.bench_function("naive_minute_scan", |b| {
        b.iter(|| black_box(naive_scan(&policy, black_box(&req), &calendar, now)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
