//! Runs one schedule check many times, for profilers: `cargo run --release --example profile_check`.
//!
//! Environment:
//! - `N`: how many checks (20 000);
//! - `WHAT`: `bundle` (the default bundle, or the one in `BUNDLE`), `builtin` (policy.yaml
//!   without its scripts) or `floor` (the hand-written floor of `benches/common/floor.rs`);
//! - `CAL`: 0 (an empty calendar and a June request without dependencies, as this example ran
//!   before) or a number of deployments (the calendar and request of `benches/schedule.rs`).
//!
//! Per-check cost: run under `valgrind --tool=callgrind` (instructions) or `--tool=dhat`
//! (allocations) with `N` and `2N`, and divide the difference by `N`.
#![allow(clippy::unwrap_used, missing_docs, dead_code)]
use changegate::{Calendar, ChangeRequest, PolicySet};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

#[path = "../benches/common/mod.rs"]
mod common;
#[path = "../benches/common/floor.rs"]
mod floor;

/// The calendar of `benches/schedule.rs` (same generator, same seed).
fn calendar(n: usize) -> Calendar {
    let base = DateTime::parse_from_rfc3339("2026-01-05T00:00:00+01:00").unwrap();
    let mut rng = common::Rng(0x9E37_79B9_7F4A_7C15);
    let span_minutes = (n as u64 / 100).max(1) * 24 * 60;
    let deployments = (0..n)
        .map(|i| {
            let start: DateTime<FixedOffset> =
                base + TimeDelta::minutes(rng.below(span_minutes) as i64);
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

fn main() {
    let var = |k: &str| std::env::var(k).ok();
    let n: usize = var("N").and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let cal_n: usize = var("CAL").and_then(|s| s.parse().ok()).unwrap_or(0);
    let what = var("WHAT").unwrap_or_else(|| "bundle".to_owned());
    let (req, now, cal) = if cal_n == 0 {
        let req = ChangeRequest::from_yaml(
            "id: bench-1\nservices: [svc-7, payments]\nenvironment: production\ntype: feature\n\
             start: 2026-06-16T22:30:00+02:00\nduration: 2h\nrequested_at: 2026-06-10T08:00:00Z\n\
             labels: {team: team-3, ticket: CHG-1234}\n",
            "bench",
        )
        .unwrap();
        (req, "2026-06-10T08:00:00Z", Calendar::default())
    } else {
        let req = ChangeRequest::from_yaml(
            "id: bench-1\nservices: [svc-7, payments]\nenvironment: production\ntype: feature\n\
             start: 2026-01-13T22:30:00+01:00\nduration: 2h\nrequested_at: 2026-01-09T08:00:00Z\n\
             depends_on: [dep-17]\nlabels: {team: team-3, ticket: CHG-1234}\n",
            "bench",
        )
        .unwrap();
        (req, "2026-01-09T08:00:00Z", calendar(cal_n))
    };
    let now = DateTime::parse_from_rfc3339(now)
        .unwrap()
        .with_timezone(&Utc);
    let mut allowed = 0;
    match what.as_str() {
        "floor" => {
            let fl = floor::Floor::new(cal.deployments().iter().map(plain).collect(), Vec::new());
            let r = plain(&req);
            for _ in 0..n {
                let v = fl.check(std::hint::black_box(&r), now.timestamp());
                allowed += usize::from(v.denied == 0);
            }
        }
        _ => {
            let policy = if what == "builtin" {
                PolicySet::from_sources(
                    "policies",
                    [(
                        "policy.yaml".to_owned(),
                        include_str!("../policies/policy.yaml").to_owned(),
                    )],
                )
                .unwrap()
            } else {
                var("BUNDLE")
                    .map(|d| PolicySet::load(d).unwrap())
                    .unwrap_or_else(|| PolicySet::builtin().unwrap())
            };
            if var("PRINT").is_some() {
                let d = policy.check_schedule(&req, &cal, now);
                println!("{}", serde_json::to_string_pretty(&d.to_json()).unwrap());
            }
            for _ in 0..n {
                let d = policy.check_schedule(std::hint::black_box(&req), &cal, now);
                allowed += usize::from(d.allowed);
            }
        }
    }
    println!("{allowed}");
}
