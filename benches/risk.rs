//! `assess_risk` with the default bundle: 8 validation categories x 5 checks and histories of
//! 1 000 and 100 000 past changes (indexed once), and a hand-written native floor in the same
//! run: the same factors over plain vectors (a per-service sorted history, the 40 results in
//! one slice), no changegate type and no JSON.
//!
//! The histories have the same density (100 changes a day on 200 services, ending at `now`),
//! so the 90-day failure-rate window holds about 5 changes per service with 1 000 and about
//! 45 with 100 000: the figures differ by that walk and the binary searches, never by a scan.
//!
//! Run: `cargo bench --bench risk`. Figures go to docs/performance.md as ratios.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity,
    missing_docs
)]

use std::hint::black_box;

use changegate::{
    ChangeOutcome, ChangeRequest, History, HistoryEntry, Incident, IncidentSeverity, PolicySet,
    RiskEvidence, ValidationResult, ValidationResults, ValidationStatus,
};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
mod common;

use common::Rng;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const CATEGORIES: [&str; 8] = [
    "infrastructure",
    "code_quality",
    "tests",
    "security",
    "performance",
    "dependencies",
    "operations",
    "compliance",
];

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap()
}

const PER_DAY: u64 = 100;

fn entries(n: usize) -> Vec<HistoryEntry> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let span = (n as u64 / PER_DAY).max(1) * 24 * 60;
    (0..n)
        .map(|i| {
            let start = now() - TimeDelta::minutes(1 + rng.below(span) as i64);
            let service = format!("svc-{}", rng.below(200));
            let outcome = match rng.below(20) {
                0 => ChangeOutcome::Failed,
                1 => ChangeOutcome::RolledBack,
                2 => ChangeOutcome::SucceededWithIssues,
                _ => ChangeOutcome::Succeeded,
            };
            let c = ChangeRequest::new(
                format!("h-{i}"),
                [service],
                "production",
                "feature",
                start,
                TimeDelta::hours(1),
            );
            let mut e = HistoryEntry::new(c, outcome);
            if rng.below(50) == 0 {
                e = e.with_incident(Incident::new(IncidentSeverity::P3, None));
            }
            e
        })
        .collect()
}

/// 8 categories x 5 checks, all fresh; coverage and p95 as values, one warning.
fn results() -> Vec<ValidationResult> {
    let at = now() - TimeDelta::hours(2);
    let mut out = Vec::new();
    for c in CATEGORIES {
        for k in 0..5 {
            let r = match (c, k) {
                ("code_quality", 0) => ValidationResult::measured(c, "coverage", 0.9, at),
                ("performance", 0) => ValidationResult::measured(c, "p95_ms", 1300.0, at),
                _ => ValidationResult::new(c, format!("check-{k}"), ValidationStatus::Passed, at),
            };
            out.push(r);
        }
    }
    out
}

fn request() -> ChangeRequest {
    ChangeRequest::new(
        "dep-1",
        ["svc-1", "svc-2"],
        "production",
        "feature",
        DateTime::parse_from_rfc3339("2026-12-01T22:00:00+01:00").unwrap(),
        TimeDelta::hours(2),
    )
}

/// The floor: the default bundle's factors by hand over plain data.
mod floor {
    use super::*;
    use std::collections::HashMap;

    pub struct Data {
        /// service -> (start, failed, incident points), sorted by start
        pub history: HashMap<String, Vec<(DateTime<Utc>, bool, u32)>>,
        /// (category index, check, status rank, value, at)
        pub results: Vec<(usize, String, u8, Option<f64>, DateTime<Utc>)>,
    }

    pub fn build(entries: &[HistoryEntry], results: &[ValidationResult]) -> Data {
        let mut history: HashMap<String, Vec<(DateTime<Utc>, bool, u32)>> = HashMap::new();
        for e in entries {
            let pts = e.incidents.len() as u32 * 5;
            for s in &e.change.services {
                history.entry(s.clone()).or_default().push((
                    e.change.start.with_timezone(&Utc),
                    e.outcome.is_failure(),
                    pts,
                ));
            }
        }
        history.values_mut().for_each(|v| v.sort_by_key(|x| x.0));
        let results = results
            .iter()
            .map(|r| {
                let cat = CATEGORIES.iter().position(|c| *c == r.category).unwrap();
                let rank = match r.status {
                    Some(ValidationStatus::Failed | ValidationStatus::Error) => 2,
                    Some(ValidationStatus::Warning) => 1,
                    _ => 0,
                };
                (
                    cat,
                    r.check.clone(),
                    rank,
                    r.value,
                    r.at.with_timezone(&Utc),
                )
            })
            .collect();
        Data { history, results }
    }

    pub fn score(d: &Data, req: &ChangeRequest, now: DateTime<Utc>) -> u32 {
        let mut score = 10; // feature
        score += (req.services.len() as u32).saturating_sub(1) * 5;
        let mut state = [0u8; 8];
        let mut seen = [false; 8];
        for (cat, check, rank, value, at) in &d.results {
            if now - *at > TimeDelta::hours(24) {
                continue;
            }
            let rank = match (check.as_str(), value) {
                ("coverage", Some(v)) => u8::from(*v < 0.85) + u8::from(*v < 0.8),
                ("p95_ms", Some(v)) => u8::from(*v > 1200.0) + u8::from(*v > 1500.0),
                _ => *rank,
            };
            state[*cat] = state[*cat].max(rank);
            seen[*cat] = true;
        }
        let mut v = 0;
        for i in 0..8 {
            v += match (seen[i], state[i]) {
                (false, _) | (_, 2) => 20,
                (_, 1) => 5,
                _ => 0,
            };
        }
        score += v.min(60);
        let (mut total, mut failed, mut inc) = (0u32, 0u32, 0u32);
        for s in &req.services {
            if let Some(list) = d.history.get(s) {
                let lo = list.partition_point(|e| e.0 < now - TimeDelta::days(90));
                let hi = list.partition_point(|e| e.0 < now);
                let lo30 = list.partition_point(|e| e.0 < now - TimeDelta::days(30));
                for e in &list[lo..hi] {
                    total += 1;
                    failed += u32::from(e.1);
                }
                for e in &list[lo30..hi] {
                    inc += e.2;
                }
            }
        }
        let lacking = 3u32.saturating_sub(total);
        if f64::from(failed + lacking) / f64::from(total.max(3)) > 0.15 {
            score += 15;
        }
        score + inc.min(30)
    }
}

fn bench(c: &mut Criterion) {
    let policy = PolicySet::builtin().unwrap();
    let req = request();
    let now_utc = now().with_timezone(&Utc);
    let rs = results();
    let validation = ValidationResults::new(rs.clone());
    let mut group = c.benchmark_group("assess_risk");
    for n in [1_000usize, 100_000] {
        let es = entries(n);
        let evidence = RiskEvidence::new(Some(validation.clone()), Some(History::new(es.clone())));
        let d = policy.assess_risk(&req, &evidence, now_utc);
        assert!(d.allowed, "{:?}", d);
        let data = floor::build(&es, &rs);
        black_box(floor::score(&data, &req, now_utc));
        group.bench_with_input(BenchmarkId::new("policy", n), &n, |b, _| {
            b.iter(|| black_box(policy.assess_risk(black_box(&req), &evidence, now_utc)))
        });
        group.bench_with_input(BenchmarkId::new("floor", n), &n, |b, _| {
            b.iter(|| black_box(floor::score(&data, black_box(&req), now_utc)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
