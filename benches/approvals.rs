//! `check_approvals` with the default bundle: a directory of 200 people in 5 roles and 10 000
//! approval checks (production and staging, every risk level, each with a requester and the
//! approvals its chain needs; one in four production checks lacks its last approval and is
//! pending), each check with the risk level given (`Evidence::with_risk_level`), so the figure
//! is the approvals question alone. One bench iteration is one check, cycling through the
//! 10 000.
//!
//! Baselines in the same run:
//! - `floor`: a hand-written native answer to the same question over plain data (roles as bit
//!   masks, the ordered chain walked once, no changegate type, no JSON, no findings);
//! - `policy+hook`: the default bundle plus an `approvals` hook that asks who approved
//!   ("for critical production changes: the CTO, or both operations and security").
//!
//! Run: `cargo bench --bench approvals`. Figures go to docs/performance.md as ratios.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    missing_docs
)]

use std::hint::black_box;

use changegate::PolicySet;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/approvals_input.rs"]
mod approvals_input;
use approvals_input::*;

/// The same question, written by hand over plain data.
mod floor {
    use super::*;

    pub struct Plain {
        pub production: bool,
        pub level: usize,
        pub requester: u16,
        /// (person, role bits, at in minutes)
        pub approvals: Vec<(u16, u8, i64)>,
        pub start: i64,
    }

    pub fn plain(c: &Check) -> Plain {
        Plain {
            production: c.request.environment == "production",
            level: c.level as usize,
            requester: c.requester as u16,
            approvals: c
                .approvals
                .iter()
                .map(|&(p, ago)| (p as u16, roles_of(p), -ago))
                .collect(),
            start: 24 * 60,
        }
    }

    /// Whether the chain is complete at `now` (minute 0): ordered, one slot per person, the
    /// requester excluded, approvals younger than 72h and given before the deadline.
    pub fn satisfied(p: &Plain) -> bool {
        let needed: &[usize] = if p.production {
            &[0, 1, 2, 3, 4][..2 + p.level]
        } else {
            &[0]
        };
        let mut used = 0u64;
        let mut since = i64::MIN;
        'rules: for (i, role) in needed.iter().enumerate() {
            let any_of = if p.production { 1u8 << role } else { 0b11 };
            let mut best: Option<(usize, i64)> = None;
            for (j, &(who, bits, at)) in p.approvals.iter().enumerate() {
                if used & (1 << j) == 0
                    && who != p.requester
                    && bits & any_of != 0
                    && at >= since
                    && at > -72 * 60
                    && at <= p.start - 120
                    && best.is_none_or(|(_, t)| at < t)
                {
                    best = Some((j, at));
                }
            }
            match best {
                Some((j, at)) => {
                    used |= 1 << j;
                    since = at;
                    let _ = i;
                    continue 'rules;
                }
                None => return false,
            }
        }
        true
    }
}

fn bench(c: &mut Criterion) {
    let policy = PolicySet::builtin().unwrap();
    let hooked = bundle_with_hook();
    let directory = directory();
    let checks = checks(&directory);
    let now_utc = now().with_timezone(&Utc);
    let plain: Vec<floor::Plain> = checks.iter().map(floor::plain).collect();
    // The policy and the floor agree on every check, and both outcomes occur.
    let mut pending = 0;
    for (c, p) in checks.iter().zip(&plain) {
        let d = policy.check_approvals(&c.request, &c.evidence, now_utc);
        assert_eq!(d.allowed, floor::satisfied(p), "{}: {:?}", c.request.id, d);
        pending += usize::from(d.outcome.as_str() == "pending");
        let h = hooked.check_approvals(&c.request, &c.evidence, now_utc);
        assert!(
            !h.findings.iter().any(|f| f.rule.as_str() == "policy_error"),
            "{h:?}"
        );
    }
    assert!(pending > 0 && pending < CHECKS, "pending: {pending}");

    let mut group = c.benchmark_group("check_approvals");
    let mut i = 0;
    group.bench_function("policy", |b| {
        b.iter(|| {
            i = (i + 1) % CHECKS;
            let c = &checks[i];
            black_box(policy.check_approvals(black_box(&c.request), &c.evidence, now_utc))
        })
    });
    group.bench_function("policy+hook", |b| {
        b.iter(|| {
            i = (i + 1) % CHECKS;
            let c = &checks[i];
            black_box(hooked.check_approvals(black_box(&c.request), &c.evidence, now_utc))
        })
    });
    group.bench_function("floor", |b| {
        b.iter(|| {
            i = (i + 1) % CHECKS;
            black_box(floor::satisfied(black_box(&plain[i])))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
