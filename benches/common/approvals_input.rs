//! The input of the approvals bench (`benches/approvals.rs`), shared with
//! `examples/profile_approvals.rs`: a directory of 200 people in 5 roles and 10 000 checks.
#![allow(dead_code, clippy::unwrap_used)]

use changegate::{Approval, ChangeRequest, Directory, Evidence, PolicySet, RiskLevel};
use chrono::{DateTime, FixedOffset, TimeDelta};

pub const ROLES: [&str; 5] = ["release", "engineering", "operations", "security", "cto"];
pub const PEOPLE: usize = 200;
pub const CHECKS: usize = 10_000;

pub fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z").unwrap()
}

pub fn person(i: usize) -> String {
    format!("p{i:03}@example.com")
}

/// Role bits of person `i`: one role each, and every seventh person a second one.
pub fn roles_of(i: usize) -> u8 {
    let mut bits = 1u8 << (i % 5);
    if i % 7 == 0 {
        bits |= 1 << ((i + 1) % 5);
    }
    bits
}

pub fn directory() -> Directory {
    Directory::new((0..PEOPLE).map(|i| {
        let roles: Vec<&str> = (0..5)
            .filter(|r| roles_of(i) & (1 << r) != 0)
            .map(|r| ROLES[r])
            .collect();
        (person(i), roles)
    }))
}

/// The roles the default bundle's production chain needs at `level`, in order.
pub fn chain(level: RiskLevel) -> &'static [usize] {
    match level {
        RiskLevel::Low => &[0, 1],
        RiskLevel::Medium => &[0, 1, 2],
        RiskLevel::High => &[0, 1, 2, 3],
        _ => &[0, 1, 2, 3, 4],
    }
}

pub struct Check {
    pub request: ChangeRequest,
    pub evidence: Evidence,
    pub level: RiskLevel,
    pub requester: usize,
    /// (person, minutes before now) of each approval.
    pub approvals: Vec<(usize, i64)>,
}

pub fn checks(directory: &Directory) -> Vec<Check> {
    (0..CHECKS)
        .map(|k| {
            let production = k % 2 == 0;
            let level = RiskLevel::ALL[(k / 2) % 4];
            let requester = (k * 13) % PEOPLE;
            let roles: &[usize] = if production { chain(level) } else { &[0] };
            let mut approvals = Vec::new();
            for (step, role) in roles.iter().enumerate() {
                // Someone of the role who is not the requester, varying with k.
                let who = (0..PEOPLE)
                    .map(|j| (j * 5 + role + k * 35) % PEOPLE)
                    .find(|&p| p % 5 == *role && p != requester)
                    .unwrap();
                approvals.push((who, 600 - 10 * step as i64));
            }
            if production && k % 8 == 0 {
                approvals.pop();
            }
            let mut request = ChangeRequest::new(
                format!("dep-{k}"),
                [format!("svc-{}", k % 50)],
                if production { "production" } else { "staging" },
                "feature",
                now() + TimeDelta::days(1),
                TimeDelta::hours(1),
            );
            request.requested_by = Some(person(requester));
            request.approvals = approvals
                .iter()
                .map(|&(p, ago)| Approval::new(person(p), now() - TimeDelta::minutes(ago)))
                .collect();
            let evidence = Evidence::new()
                .with_directory(directory.clone())
                .with_risk_level(level);
            Check {
                request,
                evidence,
                level,
                requester,
                approvals,
            }
        })
        .collect()
}

pub const HOOK: &str = r#"
// For critical production changes: the CTO, or both operations and security.
fn approvals(ctx) {
    if ctx.environment == "production" && risk_level() == "critical" {
        let cto = count_in_role("cto") > 0;
        let ops_and_sec = count_in_role("operations") > 0 && count_in_role("security") > 0;
        if !cto && !ops_and_sec {
            pending("director_or_ops_and_sec", "needs the CTO, or both operations and security");
        }
    }
}
"#;

pub fn bundle_with_hook() -> PolicySet {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.push(("approvals_hook.rhai".into(), HOOK.into()));
    PolicySet::from_sources("policies", files).unwrap()
}
