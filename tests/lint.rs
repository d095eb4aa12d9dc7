//! `PolicySet::lint`: one small bundle per lint in tests/lint/<name>/, each asserting the
//! code, severity, file:line:col and field of every lint it gives; and the default bundle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use changegate::{Lint, LintSeverity, PolicySet};

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn lints(name: &str) -> Vec<Lint> {
    PolicySet::load(format!("tests/lint/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .lint(now())
}

/// (severity, code, file:line:col, field) of each lint of bundle `name`.
fn summary(name: &str) -> Vec<(&'static str, &'static str, String, String)> {
    lints(name)
        .iter()
        .map(|l| {
            (
                l.severity.as_str(),
                l.code,
                l.location.to_string(),
                l.field.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// The expected summary: `at` is `line:col` in tests/lint/<name>/policy.yaml.
fn expect(
    name: &str,
    list: &[(&'static str, &'static str, &str, &str)],
) -> Vec<(&'static str, &'static str, String, String)> {
    list.iter()
        .map(|(sev, code, at, field)| {
            (
                *sev,
                *code,
                format!("tests/lint/{name}/policy.yaml:{at}"),
                format!("environments.{field}"),
            )
        })
        .collect()
}

fn message(name: &str, code: &str) -> String {
    lints(name)
        .into_iter()
        .find(|l| l.code == code)
        .unwrap_or_else(|| panic!("{name}: no {code}"))
        .message
}

#[test]
fn approval_unknown_role_suggests_a_role_of_the_directory() {
    let name = "approval_unknown_role";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[
                (
                    "warning",
                    "approval_unknown_role",
                    "7:11",
                    "production.approvals.rules[0].roles[1]"
                ),
                (
                    "warning",
                    "approval_unknown_role",
                    "10:7",
                    "production.break_glass.second_person.roles[0]"
                ),
            ]
        )
    );
    let lints = lints(name);
    assert!(lints[0].message.contains("`releese`"), "{}", lints[0]);
    assert!(
        lints[0].message.ends_with("did you mean `release`?"),
        "{}",
        lints[0]
    );
    assert!(
        lints[1].message.ends_with("did you mean `operations`?"),
        "{}",
        lints[1]
    );
}

#[test]
fn approval_no_eligible_for_a_rule_nobody_may_fill() {
    let name = "approval_no_eligible";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[
                (
                    "error",
                    "approval_no_eligible",
                    "8:9",
                    "production.approvals.rules[1]"
                ),
                (
                    "warning",
                    "approval_unknown_role",
                    "9:11",
                    "production.approvals.rules[1].roles[0]"
                ),
            ]
        )
    );
    assert!(message(name, "approval_no_eligible").contains("rule `cto`"));
}

#[test]
fn approval_quorum_counts_roles_and_people() {
    let name = "approval_quorum";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[(
                "error",
                "approval_quorum",
                "9:11",
                "production.approvals.rules[0].min"
            )]
        )
    );
    let m = message(name, "approval_quorum");
    assert!(m.contains("needs 4 approvals but only 3 people"), "{m}");
    assert!(m.contains("`carol@example.com`"), "{m}");
}

#[test]
fn approval_quorum_shared_matches_people_across_rules() {
    // Production: `release` (2) and, from high risk, `engineering` (1) need three people;
    // alice and bob hold both roles. The `payments` rule only applies to some services and
    // is not counted. Staging's two rules need two people: alice and bob suffice. In qa,
    // `ops` first takes dave, whom `audit` needs: the matching moves him to `audit` and gives
    // `ops` erin, so no lint.
    let name = "approval_quorum_shared";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[(
                "error",
                "approval_quorum_shared",
                "12:9",
                "production.approvals.rules[2]"
            )]
        )
    );
    let m = message(name, "approval_quorum_shared");
    assert!(m.contains("`release`, `engineering`"), "{m}");
    assert!(m.contains("at risk `high`"), "{m}");
    assert!(m.contains("need 3 approvals"), "{m}");
    assert!(m.contains("fill only 2"), "{m}");
}

#[test]
fn without_a_directory_approvals_are_not_judged() {
    // `cto`, `min: 5`: nobody could tell without the bundle's directory.
    assert_eq!(summary("no_directory"), []);
}

#[test]
fn when_never_holds_for_empty_lists() {
    let name = "when_never_holds";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[
                (
                    "error",
                    "when_never_holds",
                    "8:11",
                    "production.approvals.rules[0].when.types"
                ),
                (
                    "error",
                    "when_never_holds",
                    "14:13",
                    "production.risk.overrides[0].when.services"
                ),
            ]
        )
    );
}

#[test]
fn blackout_always_is_an_error_unless_some_changes_are_spared() {
    let name = "blackout_always";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[
                ("error", "blackout_always", "5:7", "production.blackouts[0]"),
                (
                    "warning",
                    "blackout_always",
                    "7:7",
                    "production.blackouts[1]"
                ),
            ]
        )
    );
    let m = message(name, "blackout_always");
    assert!(m.contains("`forever`"), "{m}");
    assert!(m.contains("the year from 2026-11-25T09:00:00Z"), "{m}");
}

#[test]
fn blackout_never_active_is_an_info_and_depends_on_now() {
    let name = "blackout_never_active";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[(
                "info",
                "blackout_never_active",
                "5:7",
                "production.blackouts[0]"
            )]
        )
    );
    // A year later, the 2027 launch is over too; from mid-2019, the 2020 launch falls in
    // the year and the 2027 one does not.
    let policy = PolicySet::load("tests/lint/blackout_never_active").unwrap();
    let later = chrono::DateTime::parse_from_rfc3339("2027-06-01T00:00:00Z").unwrap();
    assert_eq!(policy.lint(later).len(), 2);
    let earlier = chrono::DateTime::parse_from_rfc3339("2019-06-01T00:00:00Z").unwrap();
    let early = policy.lint(earlier);
    assert_eq!(early.len(), 1);
    assert_eq!(
        early[0].field.as_deref(),
        Some("environments.production.blackouts[1]")
    );
}

#[test]
fn blackout_shadowed_by_a_broader_blackout() {
    // All five lie inside `weekend-freeze`, which exempts no type and names no service; of
    // two identical blackouts the later one is named.
    let name = "blackout_shadowed";
    let expected: Vec<_> = [
        (1, "7:7"),
        (2, "9:7"),
        (3, "12:7"),
        (4, "14:7"),
        (5, "17:7"),
    ]
    .iter()
    .map(|(i, at)| {
        (
            "warning",
            "blackout_shadowed",
            *at,
            format!("production.blackouts[{i}]"),
        )
    })
    .collect();
    let expected: Vec<_> = expected
        .iter()
        .map(|(s, c, a, f)| (*s, *c, *a, f.as_str()))
        .collect();
    assert_eq!(summary(name), expect(name, &expected));
    let m = message(name, "blackout_shadowed");
    assert!(
        m.contains("`saturday` lies inside blackout `weekend-freeze`"),
        "{m}"
    );
}

#[test]
fn blackouts_that_spare_other_changes_do_not_shadow() {
    // `weekend-freeze` exempts emergencies that `saturday` blocks; `payments-weekend` and
    // `weekend-for-all` concern services the others do not cover.
    assert_eq!(summary("blackout_shadowed_not"), []);
}

#[test]
fn preferred_never_opens_within_the_year() {
    let name = "preferred_never_opens";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[(
                "warning",
                "preferred_never_opens",
                "8:9",
                "production.preferred_window.windows[1]"
            )]
        )
    );
}

#[test]
fn preferred_in_blackout_counts_every_blackout_that_applies() {
    // Production: Saturday is inside the weekend freeze; Sunday 22:00 to Monday 08:00 inside
    // the freeze and `monday-morning` together; Thursday night is free. Staging's freeze
    // spares emergencies, which may still use its Saturday window.
    let name = "preferred_in_blackout";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[
                (
                    "warning",
                    "preferred_in_blackout",
                    "11:9",
                    "production.preferred_window.windows[0]"
                ),
                (
                    "warning",
                    "preferred_in_blackout",
                    "13:9",
                    "production.preferred_window.windows[1]"
                ),
            ]
        )
    );
    let all = lints(name);
    assert!(
        all[1]
            .message
            .contains("`weekend-freeze`, `monday-morning`"),
        "{}",
        all[1]
    );
}

#[test]
fn when_window_never_opens_for_a_past_season() {
    let name = "when_window_never_opens";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[(
                "warning",
                "when_window_never_opens",
                "9:13",
                "production.risk.overrides[0].when.between"
            )]
        )
    );
    assert!(message(name, "when_window_never_opens").contains("`old-season`"));
}

#[test]
fn unknown_type_suggests_a_type_named_elsewhere() {
    // `feature` and `infrastructure` are named once too, but close to nothing: not reported.
    let name = "unknown_type";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[
                (
                    "warning",
                    "unknown_type",
                    "8:9",
                    "production.blackouts[0].exempt_types[0]"
                ),
                (
                    "warning",
                    "unknown_type",
                    "22:11",
                    "staging.approvals.rules[0].when.types[0]"
                ),
            ]
        )
    );
    let all = lints(name);
    assert!(
        all[0].message.ends_with("did you mean `emergency`?"),
        "{}",
        all[0]
    );
    assert!(
        all[1].message.ends_with("did you mean `hotfix`?"),
        "{}",
        all[1]
    );
}

#[test]
fn rollback_trigger_shadowed_by_a_looser_trigger_with_a_higher_level() {
    // `latency-terrible` (> 5s) fires only when `latency-bad` (> 3s, same window and `for`)
    // does, which demands more. `latency-long-window` reads another window; `errors-fast`
    // may fire sooner (`for: 30s`) than `errors` (`for: 1m`).
    let name = "rollback_trigger_shadowed";
    assert_eq!(
        summary(name),
        expect(
            name,
            &[(
                "warning",
                "rollback_trigger_shadowed",
                "17:9",
                "production.rollback.triggers[1]"
            )]
        )
    );
    let m = message(name, "rollback_trigger_shadowed");
    assert!(
        m.contains("`latency-terrible` fires only when trigger `latency-bad`"),
        "{m}"
    );
    assert!(m.contains("lower level `feature_flag`"), "{m}");
}

#[test]
fn the_default_bundle_lints_clean() {
    let policy = PolicySet::load("policies").unwrap();
    assert_eq!(policy.lint(now()), []);
    assert_eq!(PolicySet::builtin().unwrap().lint(now()), []);
    // With a directory where nobody is the CTO, the critical rule cannot be filled.
    let mut files: Vec<(String, String)> = std::fs::read_dir("policies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.push((
        "directory.yaml".to_owned(),
        "people:\n  a@x.com: {roles: [release, engineering, operations, security]}\n  \
         b@x.com: {roles: [release, engineering, operations, security]}\n  \
         c@x.com: {roles: [release, engineering]}\n"
            .to_owned(),
    ));
    let with_dir = PolicySet::from_sources("policies", files).unwrap();
    let got: Vec<_> = with_dir
        .lint(now())
        .iter()
        .map(|l| (l.code, l.severity, l.location.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "approval_quorum_shared",
                LintSeverity::Error,
                "policies/policy.yaml:121:9".to_owned()
            ),
            (
                "approval_no_eligible",
                LintSeverity::Error,
                "policies/policy.yaml:124:9".to_owned()
            ),
            (
                "approval_unknown_role",
                LintSeverity::Warning,
                "policies/policy.yaml:125:11".to_owned()
            ),
            (
                "approval_unknown_role",
                LintSeverity::Warning,
                "policies/policy.yaml:133:7".to_owned()
            ),
        ]
    );
}

#[test]
fn json_and_text_forms() {
    let lint = &lints("blackout_always")[0];
    assert_eq!(
        lint.to_json(),
        serde_json::json!({
            "severity": "error",
            "code": "blackout_always",
            "message": lint.message,
            "file": "tests/lint/blackout_always/policy.yaml",
            "line": 5,
            "column": 7,
            "field": "environments.production.blackouts[0]",
        })
    );
    assert_eq!(
        lint.to_string(),
        format!(
            "tests/lint/blackout_always/policy.yaml:5:7: error[blackout_always]: {}",
            lint.message
        )
    );
}

#[test]
fn no_panic_at_the_ends_of_time() {
    let policy = PolicySet::load("tests/lint/blackout_shadowed").unwrap();
    for t in [
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        chrono::DateTime::<chrono::Utc>::MIN_UTC,
    ] {
        let _ = policy.lint(t);
    }
    for n in std::fs::read_dir("tests/lint").unwrap() {
        let dir = n.unwrap().path();
        let policy = PolicySet::load(&dir).unwrap();
        let _ = policy.lint(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    }
}
