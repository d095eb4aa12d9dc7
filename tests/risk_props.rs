#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Properties of the risk assessment with the default bundle: adding a failure never lowers
//! the score or the level (monotonic), every factor stays within its cap and the score is the
//! sum of the listed factors, and the order of the evidence does not change the assessment.

use changegate::{
    ChangeOutcome, ChangeRequest, History, HistoryEntry, Incident, IncidentSeverity, PolicySet,
    RiskEvidence, ValidationResult, ValidationResults, ValidationStatus,
};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::Value;

const CATEGORIES: [&str; 9] = [
    "infrastructure",
    "code_quality",
    "tests",
    "security",
    "performance",
    "dependencies",
    "operations",
    "compliance",
    "unrequired",
];
const CHECKS: [&str; 4] = ["main", "coverage", "p95_ms", "lint"];
const SERVICES: [&str; 4] = ["search", "payments", "checkout", "catalog"];
const TYPES: [&str; 5] = [
    "feature",
    "hotfix",
    "emergency",
    "infrastructure",
    "migration",
];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn before(hours: i64) -> DateTime<FixedOffset> {
    (now() - TimeDelta::hours(hours)).fixed_offset()
}

#[derive(Debug, Clone)]
struct R {
    category: usize,
    check: usize,
    status: Option<usize>,
    value: Option<f64>,
    age_h: i64,
}

fn result_strategy() -> impl Strategy<Value = R> {
    (
        0..CATEGORIES.len(),
        0..CHECKS.len(),
        prop::option::of(0..5usize),
        prop::option::of(0.0..3000.0f64),
        0..48i64,
    )
        .prop_map(|(category, check, status, value, age_h)| R {
            category,
            check,
            // At least a status or a value, as the reader requires.
            status: if value.is_none() {
                Some(status.unwrap_or(0))
            } else {
                status
            },
            value,
            age_h,
        })
}

fn to_result(r: &R) -> ValidationResult {
    let mut v = match r.value {
        Some(x) => {
            ValidationResult::measured(CATEGORIES[r.category], CHECKS[r.check], x, before(r.age_h))
        }
        None => ValidationResult::new(
            CATEGORIES[r.category],
            CHECKS[r.check],
            ValidationStatus::Passed,
            before(r.age_h),
        ),
    };
    v.status = r.status.map(|s| ValidationStatus::ALL[s]);
    v
}

#[derive(Debug, Clone)]
struct H {
    services: Vec<usize>,
    age_days: i64,
    outcome: usize,
    incidents: Vec<usize>,
}

fn history_strategy() -> impl Strategy<Value = H> {
    (
        prop::collection::vec(0..SERVICES.len(), 1..3),
        0..120i64,
        0..4usize,
        prop::collection::vec(0..4usize, 0..3),
    )
        .prop_map(|(services, age_days, outcome, incidents)| H {
            services,
            age_days,
            outcome,
            incidents,
        })
}

fn to_entry(i: usize, h: &H) -> HistoryEntry {
    let mut services: Vec<&str> = h.services.iter().map(|s| SERVICES[*s]).collect();
    services.dedup();
    let change = ChangeRequest::new(
        format!("h{i}"),
        services,
        "production",
        "feature",
        (now() - TimeDelta::days(h.age_days) - TimeDelta::hours(1)).fixed_offset(),
        TimeDelta::hours(1),
    );
    let mut e = HistoryEntry::new(change, ChangeOutcome::ALL[h.outcome]);
    for s in &h.incidents {
        e = e.with_incident(Incident::new(IncidentSeverity::ALL[*s], None));
    }
    e
}

#[derive(Debug, Clone)]
struct Req {
    services: Vec<usize>,
    ty: usize,
    start_h: i64,
    duration_h: i64,
}

fn request_strategy() -> impl Strategy<Value = Req> {
    (
        prop::collection::vec(0..SERVICES.len(), 1..4),
        0..TYPES.len(),
        24..24 * 40i64,
        1..8i64,
    )
        .prop_map(|(services, ty, start_h, duration_h)| Req {
            services,
            ty,
            start_h,
            duration_h,
        })
}

fn to_request(r: &Req) -> ChangeRequest {
    let mut services: Vec<&str> = r.services.iter().map(|s| SERVICES[*s]).collect();
    services.sort();
    services.dedup();
    ChangeRequest::new(
        "dep-1",
        services,
        "production",
        TYPES[r.ty],
        (now() + TimeDelta::hours(r.start_h)).fixed_offset(),
        TimeDelta::hours(r.duration_h),
    )
}

fn assess(
    policy: &PolicySet,
    req: &ChangeRequest,
    results: Option<Vec<ValidationResult>>,
    history: Option<Vec<HistoryEntry>>,
) -> Value {
    let evidence = RiskEvidence::new(
        results.map(ValidationResults::new),
        history.map(History::new),
    );
    let d = policy.assess_risk(req, &evidence, now());
    d.details["risk"].clone()
}

fn level_rank(risk: &Value) -> usize {
    ["low", "medium", "high", "critical"]
        .iter()
        .position(|l| risk["level"] == *l)
        .unwrap()
}

fn points(risk: &Value, prefix: &str) -> u64 {
    risk["factors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"].as_str().unwrap().starts_with(prefix))
        .map(|f| f["points"].as_u64().unwrap())
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_failed_result_never_lowers_risk(
        req in request_strategy(),
        results in prop::collection::vec(result_strategy(), 0..24),
        history in prop::collection::vec(history_strategy(), 0..12),
        category in 0..CATEGORIES.len(),
        check in 0..CHECKS.len(),
        age_h in 0..48i64,
        error in any::<bool>(),
    ) {
        let policy = PolicySet::builtin().unwrap();
        let req = to_request(&req);
        let entries: Vec<HistoryEntry> = history.iter().enumerate().map(|(i, h)| to_entry(i, h)).collect();
        let mut rs: Vec<ValidationResult> = results.iter().map(to_result).collect();
        let before = assess(&policy, &req, Some(rs.clone()), Some(entries.clone()));
        let status = if error { ValidationStatus::Error } else { ValidationStatus::Failed };
        rs.push(ValidationResult::new(CATEGORIES[category], CHECKS[check], status, before_h(age_h)));
        let after = assess(&policy, &req, Some(rs), Some(entries));
        prop_assert!(after["score"].as_u64() >= before["score"].as_u64(), "{before} -> {after}");
        prop_assert!(level_rank(&after) >= level_rank(&before));
    }

    #[test]
    fn a_failed_change_or_an_incident_never_lowers_risk(
        req in request_strategy(),
        history in prop::collection::vec(history_strategy(), 0..12),
        added in history_strategy(),
    ) {
        let policy = PolicySet::builtin().unwrap();
        let req = to_request(&req);
        let mut entries: Vec<HistoryEntry> = history.iter().enumerate().map(|(i, h)| to_entry(i, h)).collect();
        let before = assess(&policy, &req, None, Some(entries.clone()));
        // The added change failed (failed or rolled back).
        let failed = H { outcome: 2 + added.outcome % 2, ..added };
        entries.push(to_entry(999, &failed));
        let after = assess(&policy, &req, None, Some(entries));
        prop_assert!(after["score"].as_u64() >= before["score"].as_u64(), "{before} -> {after}");
        prop_assert!(level_rank(&after) >= level_rank(&before));
    }

    #[test]
    fn factors_stay_within_their_caps_and_add_up_to_the_score(
        req in request_strategy(),
        results in prop::option::of(prop::collection::vec(result_strategy(), 0..24)),
        history in prop::option::of(prop::collection::vec(history_strategy(), 0..12)),
    ) {
        let policy = PolicySet::builtin().unwrap();
        let req = to_request(&req);
        let risk = assess(
            &policy,
            &req,
            results.map(|r| r.iter().map(to_result).collect()),
            history.map(|h| h.iter().enumerate().map(|(i, h)| to_entry(i, h)).collect()),
        );
        // The default bundle's caps.
        prop_assert!(points(&risk, "services") <= 20, "{risk}");
        prop_assert!(points(&risk, "critical_services") <= 30, "{risk}");
        prop_assert!(points(&risk, "validation.") <= 60, "{risk}");
        prop_assert!(points(&risk, "incidents") <= 30, "{risk}");
        prop_assert!(points(&risk, "failure_rate") <= 15, "{risk}");
        prop_assert_eq!(points(&risk, ""), risk["score"].as_u64().unwrap());
    }

    #[test]
    fn the_order_of_the_evidence_does_not_matter(
        req in request_strategy(),
        results in prop::collection::vec(result_strategy(), 0..24),
        history in prop::collection::vec(history_strategy(), 0..12),
        seed in any::<u64>(),
    ) {
        let policy = PolicySet::builtin().unwrap();
        let req = to_request(&req);
        let rs: Vec<ValidationResult> = results.iter().map(to_result).collect();
        let es: Vec<HistoryEntry> = history.iter().enumerate().map(|(i, h)| to_entry(i, h)).collect();
        let a = assess(&policy, &req, Some(rs.clone()), Some(es.clone()));
        let (mut rs2, mut es2) = (rs, es);
        shuffle(&mut rs2, seed);
        shuffle(&mut es2, seed.rotate_left(17));
        let b = assess(&policy, &req, Some(rs2), Some(es2));
        prop_assert_eq!(&a["score"], &b["score"]);
        prop_assert_eq!(&a["level"], &b["level"]);
        prop_assert_eq!(&a["missing"], &b["missing"]);
        let names = |r: &Value| -> Vec<(String, u64)> {
            let mut v: Vec<(String, u64)> = r["factors"].as_array().unwrap().iter()
                .map(|f| (f["name"].as_str().unwrap().to_owned(), f["points"].as_u64().unwrap()))
                .collect();
            v.sort();
            v
        };
        prop_assert_eq!(names(&a), names(&b));
    }
}

fn before_h(hours: i64) -> DateTime<FixedOffset> {
    before(hours)
}

/// A deterministic Fisher-Yates shuffle.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = (seed % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}
