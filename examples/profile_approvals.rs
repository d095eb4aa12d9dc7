//! Runs approval checks many times, for profilers: `cargo run --release --example
//! profile_approvals`. The input is the one of `benches/approvals.rs`.
//!
//! Environment: `N` (how many checks, 20 000), `WHAT`: `policy` (the default bundle) or
//! `hook` (with the bench's `approvals` hook). Per-check cost: run under `valgrind
//! --tool=callgrind` with `N` and `2N`, and divide the difference by `N`.
#![allow(clippy::unwrap_used, missing_docs, dead_code)]
use changegate::PolicySet;
use chrono::Utc;

#[path = "../benches/common/approvals_input.rs"]
mod approvals_input;
use approvals_input::*;

fn main() {
    let var = |k: &str| std::env::var(k).ok();
    let n: usize = var("N").and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let policy = match var("WHAT").as_deref() {
        Some("hook") => bundle_with_hook(),
        _ => PolicySet::builtin().unwrap(),
    };
    let directory = directory();
    let checks = checks(&directory);
    let now = now().with_timezone(&Utc);
    let mut allowed = 0usize;
    for i in 0..n {
        let c = &checks[i % CHECKS];
        allowed += usize::from(policy.check_approvals(&c.request, &c.evidence, now).allowed);
    }
    println!("{allowed} of {n} allowed");
}
