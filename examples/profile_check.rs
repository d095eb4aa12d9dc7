//! Runs one schedule check many times, for profilers: `cargo run --release --example profile_check`.
#![allow(clippy::unwrap_used, missing_docs)]
use changegate::{Calendar, ChangeRequest, PolicySet};

fn main() {
    let policy = std::env::var("BUNDLE")
        .map(|d| PolicySet::load(d).unwrap())
        .unwrap_or_else(|_| PolicySet::builtin().unwrap());
    let req = ChangeRequest::from_yaml(
        "id: bench-1\nservices: [svc-7, payments]\nenvironment: production\ntype: feature\n\
         start: 2026-06-16T22:30:00+02:00\nduration: 2h\nrequested_at: 2026-06-10T08:00:00Z\n\
         labels: {team: team-3, ticket: CHG-1234}\n",
        "bench",
    )
    .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-06-10T08:00:00Z").unwrap();
    let cal = Calendar::default();
    let mut allowed = 0;
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    for _ in 0..n {
        allowed += usize::from(policy.check_schedule(&req, &cal, now).allowed);
    }
    println!("{allowed}");
}
