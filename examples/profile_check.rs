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
use chrono::{DateTime, Utc};

#[path = "../benches/common/mod.rs"]
mod common;
#[path = "../benches/common/floor.rs"]
mod floor;
#[path = "../benches/common/schedule_input.rs"]
mod schedule_input;

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
        (
            req,
            DateTime::parse_from_rfc3339("2026-06-10T08:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            Calendar::default(),
        )
    } else {
        (
            schedule_input::request(),
            schedule_input::now(),
            schedule_input::calendar(cal_n),
        )
    };
    let mut allowed = 0;
    match what.as_str() {
        "floor" => {
            let fl = schedule_input::floor_of(&cal);
            let r = schedule_input::plain(&req);
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
