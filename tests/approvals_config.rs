#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The YAML side of the approvals question: the `approvals:` and `break_glass:` sections of
//! policy.yaml, a request's `approvals:` and `break_glass:`, approvals files, directories and a
//! bundle's `directory.yaml`. Every mistake names the file, line and field.

use changegate::{
    Approval, ApprovalCondition, ChangeRequest, Directory, LoadError, LoadErrorKind, PolicySet,
    Vote,
};

fn load(env: &str) -> Result<PolicySet, LoadError> {
    let text = format!("timezone: UTC\nenvironments:\n  production:\n{env}");
    PolicySet::from_sources("b", [("policy.yaml".to_owned(), text)])
}

#[track_caller]
fn fails(env: &str, field: &str, line: usize, message: &str) {
    let err = load(env).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Config, "{err}");
    assert_eq!(err.location.file, "b/policy.yaml", "{err}");
    assert_eq!(err.field.as_deref(), Some(field), "{err}");
    assert_eq!(err.location.line, Some(line), "{err}");
    assert!(err.message.contains(message), "{err}");
}

const RULE: &str =
    "    approvals:\n      rules:\n        - name: release\n          roles: [release]\n";

#[test]
fn the_default_bundle_loads_with_approvals_and_break_glass() {
    let policy = PolicySet::builtin().unwrap();
    let envs: Vec<&str> = policy.environments().collect();
    assert_eq!(envs, ["development", "production", "staging"]);
    // It ships no directory: people and roles come with the evidence.
    assert!(policy.directory().is_empty());
    assert!(!changegate::builtin_files().any(|f| f == "directory.yaml"));
}

#[test]
fn a_full_section_loads() {
    load(
        "    approvals:\n      ordered: true\n      max_age: 72h\n      deadline: 2h\n      bind_to: artifact\n      rules:\n        - name: release\n          roles: [release]\n          min: 1\n          when: {types: [feature], services: [payments], labels: {team: payments}, risk_at_least: medium}\n          allow_self_approval: false\n        - name: owners\n          people: [a@example.com, b@example.com]\n          min: all\n        - name: both\n          roles: [security]\n          people: [c@example.com]\n          min: 3\n    break_glass:\n      types: [emergency]\n      second_person: {roles: [operations, cto]}\n      max_duration: 4h\n      bypasses: [approvals, blackout, advance_notice, max_duration, preferred_window, start_in_past, conflict, dependency, concurrency]\n",
    )
    .unwrap();
    // Every optional key may be left out.
    load(RULE).unwrap();
    load("    break_glass:\n      types: [emergency]\n      bypasses: [approvals]\n").unwrap();
}

#[test]
fn approvals_mistakes_name_the_field_and_line() {
    fails(
        "    approvals:\n      orderd: true\n      rules: [{name: r, roles: [x]}]\n",
        "environments.production.approvals.orderd",
        5,
        "unknown field `orderd`",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          role: [x]\n",
        "environments.production.approvals.rules[0].role",
        7,
        "unknown field `role`",
    );
    fails(
        "    approvals:\n      rules:\n        - name: ''\n          roles: [x]\n",
        "environments.production.approvals.rules[0].name",
        6,
        "`name` must not be empty",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          roles: [x]\n        - name: r\n          roles: [y]\n",
        "environments.production.approvals.rules[1].name",
        8,
        "appears more than once",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          min: 1\n",
        "environments.production.approvals.rules[0]",
        6,
        "neither `roles` nor `people`",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          roles: [x]\n          min: 0\n",
        "environments.production.approvals.rules[0].min",
        8,
        "`min` must be at least 1",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          roles: [x]\n          min: -2\n",
        "environments.production.approvals.rules[0].min",
        8,
        "`min` must be at least 1",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          people: [a@example.com, b@example.com]\n          min: 3\n",
        "environments.production.approvals.rules[0].min",
        8,
        "more than the 2 people",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          roles: [x]\n          min: some\n",
        "environments.production.approvals.rules[0].min",
        8,
        "or `all`",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          roles: [x]\n          when:\n            risk_at_least: severe\n",
        "environments.production.approvals.rules[0].when.risk_at_least",
        9,
        "unknown variant `severe`",
    );
    fails(
        "    approvals:\n      max_age: 3 days\n      rules: [{name: r, roles: [x]}]\n",
        "environments.production.approvals.max_age",
        5,
        "",
    );
    fails(
        "    approvals:\n      deadline: -2h\n      rules: [{name: r, roles: [x]}]\n",
        "environments.production.approvals.deadline",
        5,
        "",
    );
    fails(
        "    approvals:\n      bind_to: commit\n      rules: [{name: r, roles: [x]}]\n",
        "environments.production.approvals.bind_to",
        5,
        "unknown variant `commit`",
    );
    fails(
        "    approvals:\n      rules: []\n",
        "environments.production.approvals.rules",
        5,
        "at least one rule",
    );
    fails(
        "    approvals:\n      rules:\n        - name: r\n          roles: [x, '']\n",
        "environments.production.approvals.rules[0].roles[1]",
        7,
        "empty name",
    );
}

#[test]
fn break_glass_mistakes_name_the_field_and_line() {
    fails(
        "    break_glass:\n      types: []\n      bypasses: [approvals]\n",
        "environments.production.break_glass.types",
        5,
        "at least one change type",
    );
    fails(
        "    break_glass:\n      types: [emergency]\n      bypasses:\n        - approvals\n        - blackouts\n",
        "environments.production.break_glass.bypasses[1]",
        8,
        "did you mean `blackout`?",
    );
    fails(
        "    break_glass:\n      types: [emergency]\n      bypasses: [approval_rejected]\n",
        "environments.production.break_glass.bypasses[0]",
        6,
        "unknown rule id `approval_rejected`",
    );
    fails(
        "    break_glass:\n      types: [emergency]\n      max_duration: forever\n      bypasses: [approvals]\n",
        "environments.production.break_glass.max_duration",
        6,
        "",
    );
    fails(
        "    break_glass:\n      types: [emergency]\n      second_person: {role: [cto]}\n      bypasses: [approvals]\n",
        "environments.production.break_glass.second_person.role",
        6,
        "unknown field `role`",
    );
    fails(
        "    break_glass:\n      types: [emergency]\n      second_person:\n        roles: []\n      bypasses: [approvals]\n",
        "environments.production.break_glass.second_person.roles",
        7,
        "at least one role",
    );
    fails(
        "    break_glass:\n      types: [emergency]\n      bypasses: []\n",
        "environments.production.break_glass.bypasses",
        6,
        "at least one rule id",
    );
    fails(
        "    break_glass:\n      types: [emergency]\n      bypass: [approvals]\n",
        "environments.production.break_glass.bypass",
        6,
        "unknown field `bypass`",
    );
}

const REQUEST: &str = "id: dep-1\nservice: checkout\nenvironment: production\ntype: emergency\nstart: 2026-12-01T22:00:00+01:00\nduration: 2h\nrequested_by: alice@example.com\nartifact: sha256:abc\nauthors: [carol@example.com]\ntriggered_by: ci-bot\n";

#[test]
fn a_request_carries_approvals_and_a_break_glass() {
    let text = format!(
        "{REQUEST}approvals:\n  - by: bob@example.com\n    decision: approve\n    at: 2026-11-30T10:00:00Z\n    role: release\n    artifact: sha256:abc\n    comment: looks good\n    conditions:\n      - {{validation: performance}}\n      - {{label: ticket}}\n  - {{by: dave@example.com, decision: reject, at: 2026-11-30T11:00:00+01:00}}\nbreak_glass:\n  by: erin@example.com\n  reason: checkout is down\n  incident: INC-4711\n  at: 2026-12-01T21:00:00+01:00\n  expires: 2026-12-02T01:00:00+01:00\n  second_by: frank@example.com\n"
    );
    let req = ChangeRequest::from_yaml(&text, "request.yaml").unwrap();
    assert_eq!(req.artifact.as_deref(), Some("sha256:abc"));
    assert_eq!(req.authors, ["carol@example.com"]);
    assert_eq!(req.triggered_by.as_deref(), Some("ci-bot"));
    assert_eq!(req.approvals.len(), 2);
    let a = &req.approvals[0];
    assert_eq!(a.by, "bob@example.com");
    assert_eq!(a.decision, Vote::Approve);
    assert_eq!(a.role.as_deref(), Some("release"));
    assert_eq!(a.comment.as_deref(), Some("looks good"));
    assert_eq!(
        a.conditions,
        [
            ApprovalCondition::Validation("performance".into()),
            ApprovalCondition::Label("ticket".into())
        ]
    );
    assert_eq!(req.approvals[1].decision, Vote::Reject);
    let bg = req.break_glass.unwrap();
    assert_eq!(bg.by, "erin@example.com");
    assert_eq!(bg.incident, "INC-4711");
    assert_eq!(bg.second_by.as_deref(), Some("frank@example.com"));
    assert_eq!(bg.expires - bg.at, chrono::TimeDelta::hours(4));

    // JSON too.
    let json = r#"{"id": "d", "service": "s", "environment": "production", "type": "feature",
        "start": "2026-12-01T22:00:00Z", "duration": "1h",
        "approvals": [{"by": "b@example.com", "decision": "approve", "at": "2026-11-30T10:00:00Z"}]}"#;
    let req = ChangeRequest::from_yaml(json, "request.json").unwrap();
    assert_eq!(req.approvals[0].by, "b@example.com");
}

#[track_caller]
fn request_fails(tail: &str, field: &str, line: usize, message: &str) {
    let err = ChangeRequest::from_yaml(&format!("{REQUEST}{tail}"), "request.yaml").unwrap_err();
    assert_eq!(err.location.file, "request.yaml", "{err}");
    assert_eq!(err.field.as_deref(), Some(field), "{err}");
    assert_eq!(err.location.line, Some(line), "{err}");
    assert!(err.message.contains(message), "{err}");
}

#[test]
fn request_approval_mistakes_name_the_field_and_line() {
    let ok = "  - {by: b@example.com, decision: approve, at: 2026-11-30T10:00:00Z}\n";
    request_fails(
        &format!(
            "approvals:\n{ok}  - by: c@example.com\n    decision: approve\n    at: 2026-11-30T10:00:00\n"
        ),
        "approvals[1].at",
        15,
        "offset",
    );
    request_fails(
        "approvals:\n  - by: c@example.com\n    at: 2026-11-30T10:00:00Z\n",
        "approvals[0].decision",
        12,
        "missing field `decision`",
    );
    request_fails(
        "approvals:\n  - by: c@example.com\n    decision: approved\n    at: 2026-11-30T10:00:00Z\n",
        "approvals[0].decision",
        13,
        "unknown variant `approved`",
    );
    request_fails(
        "approvals:\n  - by: ''\n    decision: approve\n    at: 2026-11-30T10:00:00Z\n",
        "approvals[0].by",
        12,
        "`by` must not be empty",
    );
    request_fails(
        "approvals:\n  - by: c@example.com\n    decision: approve\n    at: 2026-11-30T10:00:00Z\n    when: now\n",
        "approvals[0].when",
        15,
        "unknown field `when`",
    );
    request_fails(
        "approvals:\n  - by: c@example.com\n    decision: approve\n    at: 2026-11-30T10:00:00Z\n    conditions:\n      - {validation: performance, label: ticket}\n",
        "approvals[0].conditions[0]",
        16,
        "either",
    );
    request_fails(
        "approvals:\n  - by: c@example.com\n    decision: approve\n    at: 2026-11-30T10:00:00Z\n    conditions:\n      - {risk: low}\n",
        "approvals[0].conditions[0].risk",
        16,
        "unknown field `risk`",
    );
}

#[test]
fn request_break_glass_mistakes_name_the_field_and_line() {
    request_fails(
        "break_glass:\n  by: e@example.com\n  reason: down\n  incident: INC-1\n  at: 2026-12-01T21:00:00Z\n  expires: tomorrow\n",
        "break_glass.expires",
        16,
        "",
    );
    request_fails(
        "break_glass:\n  by: ' '\n  reason: down\n  incident: INC-1\n  at: 2026-12-01T21:00:00Z\n  expires: 2026-12-01T23:00:00Z\n",
        "break_glass.by",
        12,
        "`by` must not be empty",
    );
    request_fails(
        "break_glass:\n  by: e@example.com\n  reason: down\n  at: 2026-12-01T21:00:00Z\n  expires: 2026-12-01T23:00:00Z\n",
        "break_glass.incident",
        12,
        "missing field `incident`",
    );
    request_fails(
        "break_glass:\n  by: e@example.com\n  reason: down\n  incident: INC-1\n  at: 2026-12-01T21:00:00Z\n  expires: 2026-12-01T23:00:00Z\n  second: f@example.com\n",
        "break_glass.second",
        17,
        "unknown field `second`",
    );
}

#[test]
fn approvals_files_are_a_list_or_a_document() {
    let list = "- {by: a@example.com, decision: approve, at: 2026-11-30T10:00:00Z, role: release}\n- {by: b@example.com, decision: reject, at: 2026-11-30T11:00:00Z}\n";
    let doc = "approvals:\n  - {by: a@example.com, decision: approve, at: 2026-11-30T10:00:00Z, role: release}\n  - {by: b@example.com, decision: reject, at: 2026-11-30T11:00:00Z}\n";
    let json = r#"{"approvals": [{"by": "a@example.com", "decision": "approve", "at": "2026-11-30T10:00:00Z", "role": "release"}, {"by": "b@example.com", "decision": "reject", "at": "2026-11-30T11:00:00Z"}]}"#;
    let a = Approval::list_from_yaml(list, "approvals.yaml").unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a, Approval::list_from_yaml(doc, "approvals.yaml").unwrap());
    assert_eq!(a, Approval::list_from_yaml(json, "approvals.json").unwrap());
    assert_eq!(a[1].decision, Vote::Reject);
    assert!(Approval::list_from_yaml("", "a.yaml").unwrap().is_empty());
    assert!(
        Approval::list_from_yaml("approvals: []\n", "a.yaml")
            .unwrap()
            .is_empty()
    );
    examples_approvals_parse();
}

fn examples_approvals_parse() {
    let text = std::fs::read_to_string("examples/approvals.yaml").unwrap();
    let a = Approval::list_from_yaml(&text, "examples/approvals.yaml").unwrap();
    assert!(!a.is_empty());
    let text = std::fs::read_to_string("examples/directory.yaml").unwrap();
    let d = Directory::from_yaml(&text, "examples/directory.yaml").unwrap();
    assert!((8..=10).contains(&d.len()));
    // Everyone who approves in the example is in the example directory.
    assert!(a.iter().all(|a| d.contains(&a.by)), "{a:?}");
    for role in ["release", "engineering", "operations", "security", "cto"] {
        assert!(
            d.people().iter().any(|p| d.has_role(p, role)),
            "nobody holds {role}"
        );
    }
}

#[test]
fn approvals_file_mistakes_name_the_field_and_line() {
    let err = Approval::list_from_yaml(
        "approvals:\n  - by: a@example.com\n    decision: approve\n    at: 2026-11-30\n",
        "approvals.yaml",
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("approvals[0].at"), "{err}");
    assert_eq!(err.location.line, Some(4), "{err}");
    assert_eq!(err.location.file, "approvals.yaml");
    let err = Approval::list_from_yaml(
        "- by: a@example.com\n  decision: approve\n  at: 2026-11-30T10:00:00Z\n- by: b@example.com\n  decision: maybe\n  at: 2026-11-30T10:00:00Z\n",
        "approvals.yaml",
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("[1].decision"), "{err}");
    assert_eq!(err.location.line, Some(5), "{err}");
    assert!(err.message.contains("unknown variant `maybe`"), "{err}");
    let err = Approval::list_from_yaml("approval:\n  - {by: a}\n", "approvals.yaml").unwrap_err();
    assert!(err.message.contains("unknown field `approval`"), "{err}");
    let err = Approval::list_from_yaml("just text\n", "approvals.yaml").unwrap_err();
    assert!(err.message.contains("a list of approvals"), "{err}");
}

#[test]
fn directories_parse_and_their_mistakes_name_the_field() {
    let d = Directory::from_yaml(
        "people:\n  alice@example.com:\n    roles: [release, engineering]\n  bob@example.com: {roles: [cto]}\n  carol@example.com: {}\n",
        "directory.yaml",
    )
    .unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(
        d.roles_of("alice@example.com"),
        ["release".to_owned(), "engineering".to_owned()]
    );
    assert!(d.roles_of("carol@example.com").is_empty());
    assert!(Directory::from_yaml("", "d.yaml").unwrap().is_empty());
    assert!(
        Directory::from_yaml("# nobody yet\n", "d.yaml")
            .unwrap()
            .is_empty()
    );
    assert!(
        Directory::from_yaml("people: {}\n", "d.yaml")
            .unwrap()
            .is_empty()
    );

    let err = Directory::from_yaml(
        "people:\n  alice@example.com:\n    roles: [release]\n    team: payments\n",
        "directory.yaml",
    )
    .unwrap_err();
    assert_eq!(err.location.file, "directory.yaml");
    assert_eq!(
        err.field.as_deref(),
        Some("people.alice@example.com.team"),
        "{err}"
    );
    assert_eq!(err.location.line, Some(4), "{err}");
    let err = Directory::from_yaml(
        "people:\n  alice@example.com:\n    roles:\n      - release\n      - ''\n",
        "directory.yaml",
    )
    .unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("people.alice@example.com.roles[1]"),
        "{err}"
    );
    assert_eq!(err.location.line, Some(5), "{err}");
    let err = Directory::from_yaml("people:\n  '': {roles: [x]}\n", "directory.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("people"), "{err}");
    assert!(err.message.contains("must not be empty"), "{err}");
    let err = Directory::from_yaml("persons: {}\n", "directory.yaml").unwrap_err();
    assert!(err.message.contains("unknown field `persons`"), "{err}");
}

fn bundle(directory: &str) -> Result<PolicySet, LoadError> {
    PolicySet::from_sources(
        "b",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
            ),
            ("directory.yaml".to_owned(), directory.to_owned()),
        ],
    )
}

#[test]
fn a_bundle_directory_is_exposed_and_counts_in_the_digest() {
    let a = bundle("people:\n  alice@example.com: {roles: [release]}\n").unwrap();
    assert!(a.directory().has_role("alice@example.com", "release"));
    let b = bundle("people:\n  alice@example.com: {roles: [cto]}\n").unwrap();
    assert!(b.directory().has_role("alice@example.com", "cto"));
    assert_ne!(a.digest(), b.digest());
    // Only the top-level file is the directory.
    let nested = PolicySet::from_sources(
        "b",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments: {}\n".to_owned(),
            ),
            (
                "sub/directory.yaml".to_owned(),
                "people: {x: {roles: [y]}}\n".to_owned(),
            ),
        ],
    )
    .unwrap();
    assert!(nested.directory().is_empty());
}

#[test]
fn an_invalid_bundle_directory_fails_the_load() {
    let err = bundle("people:\n  alice@example.com:\n    rolez: [release]\n").unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Config, "{err}");
    assert_eq!(err.location.file, "b/directory.yaml", "{err}");
    assert_eq!(err.location.line, Some(3), "{err}");
    assert_eq!(
        err.field.as_deref(),
        Some("people.alice@example.com.rolez"),
        "{err}"
    );
}

#[test]
fn a_bundle_directory_is_read_from_disk() {
    let dir = std::env::temp_dir().join(format!("cg-approvals-config-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        "timezone: UTC\nenvironments: {production: {}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("directory.yaml"),
        "people:\n  alice@example.com: {roles: [release]}\n",
    )
    .unwrap();
    // A directory.yaml below the top is not the bundle's directory, and not read.
    std::fs::write(dir.join("sub/directory.yaml"), "not: [valid\n").unwrap();
    let policy = PolicySet::load(&dir);
    std::fs::write(dir.join("directory.yaml"), "people: [alice]\n").unwrap();
    let broken = PolicySet::load(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let policy = policy.unwrap();
    assert!(policy.directory().has_role("alice@example.com", "release"));
    let err = broken.unwrap_err();
    assert!(err.location.file.ends_with("directory.yaml"), "{err}");
    assert_eq!(err.kind, LoadErrorKind::Config, "{err}");
}
