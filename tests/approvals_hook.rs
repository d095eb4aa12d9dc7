//! The `approvals` hook as a policy author meets it: `fn approvals(ctx)` loads on its own, its
//! functions answer from the directory, the risk level and the valid approvals, they are a
//! script error in any other hook, and a script that loops over them stops on the cost budget.
//!
//! The valid approvals are computed by the built-in approval rules, and only for an
//! environment with an `approvals:` section. Until those rules land (wt-rules), the tests that
//! need valid approvals are ignored; the others run on a policy without the section, where no
//! approval is valid, and stay meaningful once the rules exist.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use changegate::{
    Approval, ChangeRequest, Decision, Directory, Evidence, LoadError, LoadErrorKind, PolicySet,
    RiskLevel, Vote,
};
use chrono::{DateTime, FixedOffset, TimeDelta};
use serde_json::{Value, json};

/// No `approvals:` section: the built-in rules ask for nothing and no approval is valid.
const POLICY: &str = "timezone: UTC\nenvironments:\n  production: {}\n";

/// One rule any `release`, `security` or `engineering` person satisfies, so that the approvals
/// given are checked and the valid ones reach the hook.
const POLICY_WITH_RULES: &str = "timezone: UTC
environments:
  production:
    approvals: {rules: [{name: any, roles: [release, security, engineering], min: 1}]}
";

fn load_with(policy: &str, script: &str) -> Result<PolicySet, LoadError> {
    PolicySet::from_sources(
        "bundle",
        [
            ("policy.yaml".to_owned(), policy.to_owned()),
            ("approvals.rhai".to_owned(), script.to_owned()),
        ],
    )
}

fn load(script: &str) -> PolicySet {
    load_with(POLICY, script).unwrap()
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn now() -> DateTime<FixedOffset> {
    at("2026-11-30T12:00:00Z")
}

fn request() -> ChangeRequest {
    ChangeRequest::new(
        "dep-7",
        ["checkout"],
        "production",
        "feature",
        at("2026-12-01T22:00:00Z"),
        TimeDelta::hours(1),
    )
}

fn directory() -> Directory {
    Directory::new([
        ("alice@example.com", vec!["release", "engineering"]),
        ("bob@example.com", vec!["security"]),
        ("carol@example.com", vec!["release", "security"]),
        ("dave@example.com", vec!["operations"]),
    ])
}

fn evidence(level: RiskLevel) -> Evidence {
    Evidence::new()
        .with_directory(directory())
        .with_risk_level(level)
}

fn check(policy: &PolicySet, request: &ChangeRequest, level: RiskLevel) -> Decision {
    policy.check_approvals(request, &evidence(level), now())
}

/// The details of the only finding of `rule`.
fn details(d: &Decision, rule: &str) -> Value {
    let found: Vec<_> = d.findings_for(rule).collect();
    assert_eq!(found.len(), 1, "{rule}: {:#?}", d.findings);
    Value::Object(found[0].details.clone())
}

fn policy_error(d: &Decision) -> String {
    d.findings_for("policy_error")
        .next()
        .map(|f| f.message.clone())
        .unwrap_or_else(|| panic!("no policy_error in {:#?}", d.findings))
}

// --- Loading ---------------------------------------------------------------------------------

#[test]
fn a_script_defining_only_the_approvals_hook_loads_and_runs() {
    let policy = load("fn approvals(ctx) { warn(\"seen\", `approvals hook for ${ctx.id}`); }\n");
    let d = check(&policy, &request(), RiskLevel::Low);
    let seen: Vec<_> = d.findings_for("seen").collect();
    assert_eq!(seen.len(), 1, "{:#?}", d.findings);
    assert_eq!(seen[0].message, "approvals hook for dep-7");
    assert_eq!(
        seen[0].source.as_deref(),
        Some("bundle/approvals.rhai:1"),
        "{:#?}",
        seen[0]
    );
    // The other questions do not run it.
    let schedule = policy.check_schedule(&request(), &changegate::Calendar::default(), now());
    assert_eq!(schedule.findings_for("seen").count(), 0);
}

#[test]
fn a_script_may_not_hide_the_approvals_functions() {
    for (script, name) in [
        ("fn approvals() { 1 }\nfn approvals(ctx) { }\n", "approvals"),
        (
            "fn approved_by(p) { true }\nfn approvals(ctx) { }\n",
            "approved_by",
        ),
        (
            "fn has_role(p, r) { true }\nfn approvals(ctx) { }\n",
            "has_role",
        ),
        (
            "fn risk_level() { \"low\" }\nfn approvals(ctx) { }\n",
            "risk_level",
        ),
        (
            "fn count_in_role(r) { 9 }\nfn schedule(request) { }\n",
            "count_in_role",
        ),
        ("fn roles_of(p) { [] }\nfn approvals(ctx) { }\n", "roles_of"),
        (
            "fn approvers_in_role(r) { [] }\nfn approvals(ctx) { }\n",
            "approvers_in_role",
        ),
    ] {
        let err = load_with(POLICY, script).unwrap_err();
        assert_eq!(err.kind, LoadErrorKind::Script, "{name}");
        assert_eq!(err.location.line, Some(1), "{name}: {err}");
        assert!(
            err.message.contains(&format!("defines `fn {name}`")),
            "{name}: {err}"
        );
    }
    // The hook of the same name as `approvals()`, with a wrong number of parameters, is told so.
    let err = load_with(POLICY, "fn approvals(ctx, more) { }\n").unwrap_err();
    assert!(
        err.message
            .contains("hook `approvals` must take one parameter (ctx), it takes 2"),
        "{err}"
    );
}

// --- The functions, without approval rules ---------------------------------------------------

const READS: &str = r#"
fn approvals(ctx) {
    warn("reads", "what the hook sees", #{
        level: risk_level(),
        alice_release: has_role("alice@example.com", "release"),
        alice_security: has_role("alice@example.com", "security"),
        stranger: has_role("mallory@example.com", "release"),
        roles_alice: roles_of("alice@example.com"),
        roles_stranger: roles_of("mallory@example.com"),
        approvals: approvals(),
        approved_alice: approved_by("alice@example.com"),
        release: approvers_in_role("release"),
        release_count: count_in_role("release"),
        request: ctx.id,
    });
}
"#;

#[test]
fn the_functions_answer_from_the_directory_and_the_risk_level() {
    let policy = load(READS);
    for level in RiskLevel::ALL {
        let d = check(&policy, &request(), level);
        let got = details(&d, "reads");
        assert_eq!(got["level"], level.as_str(), "{got}");
        assert_eq!(got["alice_release"], true);
        assert_eq!(got["alice_security"], false);
        assert_eq!(got["stranger"], false);
        assert_eq!(got["roles_alice"], json!(["release", "engineering"]));
        assert_eq!(got["roles_stranger"], json!([]));
        assert_eq!(got["request"], "dep-7");
    }
}

#[test]
fn without_an_approvals_section_no_approval_is_valid() {
    // Approvals given, but the environment has no rules to check them against: none is
    // valid, so the hook sees none (and the built-in rules ask for nothing).
    let mut request = request();
    request.approvals.push(Approval::new(
        "alice@example.com",
        at("2026-11-30T10:00:00Z"),
    ));
    let d = check(&load(READS), &request, RiskLevel::Low);
    let got = details(&d, "reads");
    assert_eq!(got["approvals"], json!([]));
    assert_eq!(got["approved_alice"], false);
    assert_eq!(got["release"], json!([]));
    assert_eq!(got["release_count"], 0);
}

#[test]
fn pending_warn_and_deny_shape_the_decision() {
    let script = r#"
fn approvals(ctx) {
    let level = risk_level();
    if level == "critical" {
        deny("no_critical", "critical changes are not approved by script");
    } else if level == "high" && !(count_in_role("director") >= 1
            || (count_in_role("operations") >= 1 && count_in_role("security") >= 1)) {
        pending("director_or_ops_and_security", "needs a director, or both operations and security",
            #{ needed: ["director", "operations+security"] });
    } else if level == "medium" {
        warn("medium", "medium risk");
    }
}
"#;
    let policy = load(script);
    let outcome = |level| {
        check(&policy, &request(), level)
            .outcome
            .as_str()
            .to_owned()
    };
    assert_eq!(outcome(RiskLevel::Low), "allow");
    assert_eq!(outcome(RiskLevel::Medium), "warn");
    assert_eq!(outcome(RiskLevel::High), "pending");
    assert_eq!(outcome(RiskLevel::Critical), "deny");

    let d = check(&policy, &request(), RiskLevel::High);
    assert!(!d.allowed);
    let f = d
        .findings_for("director_or_ops_and_security")
        .next()
        .unwrap();
    assert_eq!(f.source.as_deref(), Some("bundle/approvals.rhai:8"));
    assert_eq!(
        f.details.get("needed"),
        Some(&json!(["director", "operations+security"]))
    );
}

/// The example of docs/policy-authoring.md, "`fn approvals(ctx)`".
const DOCS_EXAMPLE: &str = r#"
fn approvals(ctx) {
    if risk_level() == "high" || risk_level() == "critical" {
        // A director, or both operations and security.
        let director = count_in_role("director") >= 1;
        let pair = count_in_role("operations") >= 1 && count_in_role("security") >= 1;
        if !director && !pair {
            pending("director_or_ops_and_security",
                "high risk needs a director, or both operations and security",
                #{ operations: approvers_in_role("operations"),
                   security: approvers_in_role("security") });
        }
    }
    if ctx.requested_by != () && approved_by(ctx.requested_by) {
        warn("self_approval", "the requester approved their own change");
    }
}
"#;

#[test]
fn the_documented_example_runs() {
    let policy = load(DOCS_EXAMPLE);
    let mut request = request();
    request.requested_by = Some("alice@example.com".to_owned());
    let d = check(&policy, &request, RiskLevel::High);
    assert_eq!(d.outcome.as_str(), "pending", "{:#?}", d.findings);
    assert_eq!(
        details(&d, "director_or_ops_and_security"),
        json!({"operations": [], "security": []})
    );
    assert_eq!(d.findings_for("policy_error").count(), 0);
    let d = check(&policy, &request, RiskLevel::Low);
    assert_eq!(d.outcome.as_str(), "allow", "{:#?}", d.findings);
}

#[test]
fn the_functions_are_a_script_error_outside_the_approvals_hook() {
    for call in [
        "approved_by(\"alice@example.com\")",
        "approvals()",
        "approvers_in_role(\"release\")",
        "count_in_role(\"release\")",
        "has_role(\"alice@example.com\", \"release\")",
        "roles_of(\"alice@example.com\")",
        "risk_level()",
    ] {
        let name = &call[..call.find('(').unwrap()];
        // From `fn schedule`.
        let policy = load(&format!(
            "fn schedule(request) {{\n    let x = {call};\n}}\n"
        ));
        let d = policy.check_schedule(&request(), &changegate::Calendar::default(), now());
        let message = policy_error(&d);
        assert!(!d.allowed, "{call}");
        assert!(
            message.contains(&format!(
                "`{name}` reads the approvals evidence (approvals, directory, risk level), which only `fn approvals(ctx)` has, not `fn schedule(request)`"
            )),
            "{call}: {message}"
        );
        let f = d.findings_for("policy_error").next().unwrap();
        assert_eq!(
            f.source.as_deref(),
            Some("bundle/approvals.rhai:2"),
            "{call}"
        );

        // From `fn risk`.
        let policy = load(&format!("fn risk(ctx) {{\n    let x = {call};\n}}\n"));
        let d = policy.assess_risk(&request(), &changegate::RiskEvidence::default(), now());
        let message = policy_error(&d);
        assert!(message.contains("not `fn risk(ctx)`"), "{call}: {message}");
    }
}

#[test]
fn a_script_looping_over_the_directory_fails_closed_on_the_cost_budget() {
    // Someone with 2 000 roles: every `roles_of` and `has_role` call costs about as much,
    // so a loop of them stops on the budget long before the operations limit.
    let roles: Vec<String> = (0..2_000).map(|i| format!("role-{i}")).collect();
    let directory = Directory::new([("busy@example.com", roles)]);
    for body in [
        "for i in 0..100000 { let r = roles_of(\"busy@example.com\"); }",
        "for i in 0..100000 { let r = has_role(\"busy@example.com\", \"none\"); }",
    ] {
        let policy = load(&format!("fn approvals(ctx) {{\n    {body}\n}}\n"));
        let d = policy.check_approvals(
            &request(),
            &Evidence::new()
                .with_directory(directory.clone())
                .with_risk_level(RiskLevel::Low),
            now(),
        );
        assert_eq!(d.outcome.as_str(), "deny", "{body}");
        let f = d.findings_for("policy_error").next().unwrap();
        assert!(f.message.contains("cost budget"), "{body}: {}", f.message);
        assert_eq!(
            f.details.get("limit"),
            Some(&json!("cost budget")),
            "{body}"
        );
    }
}

// --- With approval rules: need the built-in rules (wt-rules) ---------------------------------
// These tests use an `approvals:` section, so that the built-in rules compute the valid
// approvals the hook reads. Un-ignore them once the rules are merged.

/// `request` with approvals by alice (no role) and carol (named `security`), and a rejection
/// by dave (who holds no role of the rule, so it is ignored).
fn approved_request() -> ChangeRequest {
    let mut request = request();
    request.approvals.push(Approval::new(
        "alice@example.com",
        at("2026-11-30T09:00:00Z"),
    ));
    let mut carol = Approval::new("carol@example.com", at("2026-11-30T10:00:00Z"));
    carol.role = Some("security".to_owned());
    request.approvals.push(carol);
    let mut dave = Approval::new("dave@example.com", at("2026-11-30T11:00:00Z"));
    dave.decision = Vote::Reject;
    request.approvals.push(dave);
    request
}

const WITH_RULES_READS: &str = r#"
fn approvals(ctx) {
    let list = [];
    for a in approvals() {
        list.push(#{ by: a.by, role: a.role, at: a.at, before_now: a.at < now(),
                     before_start: a.at < ctx.start });
    }
    warn("reads", "what the hook sees", #{
        approvals: list,
        alice: approved_by("alice@example.com"),
        dave: approved_by("dave@example.com"),
        nobody: approved_by("mallory@example.com"),
        release: approvers_in_role("release"),
        security: approvers_in_role("security"),
        engineering: approvers_in_role("engineering"),
        release_count: count_in_role("release"),
        security_count: count_in_role("security"),
        director_count: count_in_role("director"),
    });
}
"#;

#[test]
fn the_hook_reads_the_valid_approvals_in_order() {
    let policy = load_with(POLICY_WITH_RULES, WITH_RULES_READS).unwrap();
    let d = check(&policy, &approved_request(), RiskLevel::Low);
    let got = details(&d, "reads");
    // The rejection is not an approval; every valid approval is listed in the order given,
    // with its role (null when it named none) and its time (an instant, UTC in details).
    let by: Vec<&str> = got["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["alice@example.com", "carol@example.com"], "{got}");
    assert_eq!(
        got["approvals"][0],
        json!({"by": "alice@example.com", "role": null, "at": "2026-11-30T09:00:00Z",
               "before_now": true, "before_start": true})
    );
    assert_eq!(got["approvals"][1]["role"], "security");
    assert_eq!(got["alice"], true);
    assert_eq!(got["dave"], false);
    assert_eq!(got["nobody"], false);
}

#[test]
fn an_approval_naming_a_role_counts_in_that_role_only() {
    let policy = load_with(POLICY_WITH_RULES, WITH_RULES_READS).unwrap();
    // bob names `release`, which he does not hold (whether the rules then count his
    // approval as valid or not, it is in no role here).
    let mut request = approved_request();
    let mut bob = Approval::new("bob@example.com", at("2026-11-30T10:30:00Z"));
    bob.role = Some("release".to_owned());
    request.approvals.push(bob);
    let d = check(&policy, &request, RiskLevel::Low);
    let got = details(&d, "reads");
    // alice named no role: she counts in each of hers. carol named `security`: not in
    // `release`, although she holds it. bob named `release`, which he does not hold: nowhere.
    assert_eq!(got["release"], json!(["alice@example.com"]), "{got}");
    assert_eq!(got["security"], json!(["carol@example.com"]), "{got}");
    assert_eq!(got["engineering"], json!(["alice@example.com"]), "{got}");
    assert_eq!(got["release_count"], 1);
    assert_eq!(got["security_count"], 1);
    assert_eq!(got["director_count"], 0);
}

#[test]
fn a_script_can_ask_for_more_than_the_rules_and_stays_pending() {
    let script = r#"
fn approvals(ctx) {
    if risk_level() == "high" && count_in_role("security") < 2 {
        pending("two_security", "high risk needs two security approvals",
            #{ have: approvers_in_role("security") });
    }
}
"#;
    let policy = load_with(POLICY_WITH_RULES, script).unwrap();
    let d = check(&policy, &approved_request(), RiskLevel::High);
    assert_eq!(d.outcome.as_str(), "pending", "{:#?}", d.findings);
    assert_eq!(
        details(&d, "two_security")["have"],
        json!(["carol@example.com"])
    );
    let d = check(&policy, &approved_request(), RiskLevel::Medium);
    assert_eq!(d.findings_for("two_security").count(), 0);
}

#[test]
fn a_script_looping_over_the_approvals_fails_closed_on_the_cost_budget() {
    let people: Vec<(String, Vec<&str>)> = (0..500)
        .map(|i| (format!("p{i}@example.com"), vec!["release"]))
        .collect();
    let mut request = request();
    for (p, _) in &people {
        request
            .approvals
            .push(Approval::new(p.clone(), at("2026-11-30T09:00:00Z")));
    }
    let evidence = Evidence::new()
        .with_directory(Directory::new(people))
        .with_risk_level(RiskLevel::Low);
    for body in [
        "for i in 0..100000 { let all = approvals(); }",
        "for i in 0..100000 { let n = count_in_role(\"release\"); }",
        "for i in 0..100000 { let n = approved_by(\"nobody\"); }",
    ] {
        let policy = load_with(
            POLICY_WITH_RULES,
            &format!("fn approvals(ctx) {{\n    {body}\n}}\n"),
        )
        .unwrap();
        let d = policy.check_approvals(&request, &evidence, now());
        assert_eq!(d.outcome.as_str(), "deny", "{body}");
        let f = d.findings_for("policy_error").next().unwrap();
        assert!(f.message.contains("cost budget"), "{body}: {}", f.message);
    }
}
