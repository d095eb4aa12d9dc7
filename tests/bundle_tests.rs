#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The default bundle's own tests (`policies/tests/**/*.yaml`), run through the library as
//! `changegate test policies` runs them: every case passes, and they exercise every rule,
//! blackout, window, risk factor, approval rule, gate, rollback trigger and script that
//! production configures. Also: a bundle's `tests/` folder is not part of the bundle.

use changegate::PolicySet;
use changegate::testing::{CaseResult, run_bundle_tests};

#[test]
fn the_default_bundle_passes_its_own_tests() {
    let report = run_bundle_tests("policies", None).expect("the default bundle loads");
    let failures: Vec<String> = report
        .cases()
        .iter()
        .filter(|c| c.status() != "passed")
        .map(|c| format!("{}: {}\n{}", c.path().display(), c.status(), c.diff()))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        report.cases().len() >= 50,
        "expected many cases, found {}",
        report.cases().len()
    );
    assert!(
        report
            .cases()
            .iter()
            .all(|c| matches!(c, CaseResult::Ran(_)))
    );
}

#[test]
fn the_default_bundle_tests_cover_all_of_production() {
    let report = run_bundle_tests("policies", None).unwrap();
    let production = report.coverage().for_environment("production");
    let uncovered: Vec<String> = production
        .uncovered()
        .map(|i| format!("{} {}", i.kind, i.name))
        .collect();
    assert!(uncovered.is_empty(), "never exercised: {uncovered:?}");
    assert!((production.percent(None) - 100.0).abs() < f64::EPSILON);
    // Every kind production configures is counted.
    for kind in [
        "rules",
        "blackouts",
        "windows",
        "risk",
        "approvals",
        "gates",
        "triggers",
        "scripts",
    ] {
        assert!(production.count(Some(kind)).1 > 0, "{kind}");
    }
    assert!((report.coverage().percent(None) - 100.0).abs() < f64::EPSILON);
}

#[test]
fn a_bundles_tests_are_not_part_of_it() {
    // Loaded from its folder (tests/ included on disk), the default bundle is the embedded
    // one: same files, same digest.
    let loaded = PolicySet::load("policies").unwrap();
    let builtin = PolicySet::builtin().unwrap();
    assert_eq!(loaded.digest(), builtin.digest());
    assert_eq!(loaded.files(), builtin.files());
    assert!(loaded.files().iter().all(|f| !f.contains("/tests/")));

    // A script or calendar under tests/ is neither compiled nor digested.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "timezone: UTC\nenvironments: {production: {}}\n",
    )
    .unwrap();
    let before = PolicySet::load(dir.path()).unwrap().digest().to_owned();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/broken.rhai"), "fn schedule(r) {").unwrap();
    std::fs::write(dir.path().join("tests/Case.RHAI"), "x").unwrap();
    let after = PolicySet::load(dir.path()).unwrap();
    assert_eq!(after.digest(), before);
    // Deeper folders named `tests` are still part of the bundle.
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    std::fs::create_dir(dir.path().join("scripts/tests")).unwrap();
    std::fs::write(
        dir.path().join("scripts/tests/broken.rhai"),
        "fn schedule(r) {",
    )
    .unwrap();
    assert!(PolicySet::load(dir.path()).is_err());
}

#[test]
fn expected_policy_errors_pass_and_count_the_script() {
    let report = run_bundle_tests("tests/data/test_cmd/scripted", None).unwrap();
    let failures: Vec<String> = report
        .cases()
        .iter()
        .filter(|c| c.status() != "passed")
        .map(|c| format!("{}: {}", c.path().display(), c.diff()))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(report.counts(), (2, 0, 0));
    assert_eq!(report.coverage().count(Some("scripts")), (1, 1));
}
