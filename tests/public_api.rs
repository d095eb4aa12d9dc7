#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The library as a user sees it: only `use changegate::*` (plus `chrono` for times), the
//! documented JSON shape, and the default bundle as shipped.

use changegate::*;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn request_text(id: &str, start: &str) -> String {
    format!(
        "id: {id}\nservices: [search]\nenvironment: production\ntype: feature\nstart: {start}\n\
         duration: 2h\nrequested_by: alice@example.com\n"
    )
}

#[test]
fn load_parse_check_and_serialize() {
    let policy = PolicySet::builtin().unwrap();
    let request = ChangeRequest::from_yaml(
        &request_text("dep-1", "2026-12-04T15:00:00+01:00"),
        "request.yaml",
    )
    .unwrap();
    assert_eq!(request.id.as_str(), "dep-1");
    assert_eq!(request.end(), t("2026-12-04T17:00:00+01:00"));

    // A calendar built in code, not parsed.
    let other = ChangeRequest::new(
        "dep-0",
        ["search"],
        "production",
        "feature",
        t("2026-12-04T14:30:00+01:00"),
        TimeDelta::hours(1),
    );
    let incident = Blackout {
        name: "incident".into(),
        from: t("2026-12-04T00:00:00Z"),
        to: t("2026-12-05T00:00:00Z"),
        environments: Some(vec!["production".into()]),
        services: None,
    };
    let calendar = Calendar::new(vec![other], vec![incident]).unwrap();
    assert!(!calendar.is_empty());
    assert_eq!(calendar.get("dep-0").map(|d| d.id.as_str()), Some("dep-0"));

    let decision = policy.check_schedule(&request, &calendar, t("2026-11-25T09:00:00Z"));
    assert!(!decision.allowed);
    assert_eq!(decision.outcome, Outcome::Deny);
    let rules: Vec<&str> = decision.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            RuleId::BLACKOUT,
            RuleId::BLACKOUT,
            RuleId::PREFERRED_WINDOW,
            RuleId::CONFLICT
        ]
    );
    assert_eq!(decision.findings_for(RuleId::CONFLICT).count(), 1);
    assert_eq!(decision.findings[2].severity, Severity::Warn);

    // The documented JSON shape.
    let json = decision.to_json();
    let obj = json.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "schema", "check", "allowed", "outcome", "findings", "policy"
        ]
    );
    assert_eq!(json["schema"], SCHEMA_VERSION);
    assert_eq!(json["check"], "schedule");
    assert_eq!(json["policy"]["engine"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["allowed"], false);
    assert_eq!(json["outcome"], "deny");
    assert_eq!(json["policy"]["digest"], policy.digest());
    assert!(policy.digest().starts_with("sha256:"));
    assert_eq!(policy.digest().len(), "sha256:".len() + 64);
    let weekend = &json["findings"][0];
    assert_eq!(weekend["rule"], "blackout");
    assert_eq!(weekend["severity"], "deny");
    assert_eq!(weekend["source"], "policies/policy.yaml:16");
    assert_eq!(weekend["details"]["blackout"], "weekend-freeze");
    assert_eq!(weekend["details"]["until"], "2026-12-07T05:00:00Z");
    assert_eq!(
        weekend["message"],
        "overlaps blackout `weekend-freeze` (Fri 16:00 - Mon 06:00 Europe/Berlin) until \
         2026-12-07T06:00:00+01:00"
    );
    assert_eq!(
        json["findings"][3]["details"]["deployments"],
        serde_json::json!(["dep-0"])
    );
    for finding in json["findings"].as_array().unwrap() {
        let keys: Vec<&str> = finding
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["rule", "severity", "message", "source", "details"]);
    }
    // Serializing the decision directly gives the same JSON.
    assert_eq!(serde_json::to_value(&decision).unwrap(), json);
}

#[test]
fn an_allowed_decision_has_no_findings_and_no_trace_key() {
    let policy = PolicySet::builtin().unwrap();
    let request = ChangeRequest::from_yaml(
        &request_text("dep-1", "2026-12-01T22:00:00+01:00"),
        "request.yaml",
    )
    .unwrap();
    let decision = policy.check_schedule(&request, &Calendar::default(), t("2026-11-25T09:00:00Z"));
    assert!(decision.allowed);
    assert_eq!(decision.outcome, Outcome::Allow);
    assert_eq!(
        decision.to_json(),
        serde_json::json!({
            "schema": 1,
            "check": "schedule",
            "allowed": true,
            "outcome": "allow",
            "findings": [],
            "policy": {"digest": policy.digest(), "engine": env!("CARGO_PKG_VERSION")},
        })
    );
    // `now` may be given as UTC or with an offset.
    let utc: DateTime<Utc> = t("2026-11-25T09:00:00Z").with_timezone(&Utc);
    assert_eq!(
        policy.check_schedule(&request, &Calendar::default(), utc),
        decision
    );
}

#[test]
fn a_warning_is_allowed() {
    let policy = PolicySet::builtin().unwrap();
    let request = ChangeRequest::from_yaml(
        &request_text("dep-1", "2026-12-02T14:00:00+01:00"),
        "request.yaml",
    )
    .unwrap();
    let decision = policy.check_schedule(&request, &Calendar::default(), t("2026-11-25T09:00:00Z"));
    assert!(decision.allowed);
    assert_eq!(decision.outcome, Outcome::Warn);
    assert_eq!(decision.to_json()["allowed"], true);
    assert_eq!(decision.to_json()["outcome"], "warn");
}

#[test]
fn builtin_equals_the_policies_directory() {
    let builtin = PolicySet::builtin().unwrap();
    let loaded = PolicySet::load("policies").unwrap();
    assert_eq!(builtin.digest(), loaded.digest());
    assert_eq!(builtin.files(), loaded.files());
    assert_eq!(builtin.timezone(), loaded.timezone());
    assert_eq!(
        builtin.environments().collect::<Vec<_>>(),
        ["development", "production", "staging"]
    );
    assert_eq!(builtin.timezone().name(), "Europe/Berlin");
}

#[test]
fn every_file_in_policies_is_embedded() {
    let embedded: Vec<&str> = builtin_files().collect();
    let mut on_disk = Vec::new();
    let mut pending = vec![std::path::PathBuf::from("policies")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // The bundle's own tests (`changegate test`) are not part of the bundle.
                if path != std::path::Path::new("policies/tests") {
                    pending.push(path);
                }
            } else {
                let rel = path.strip_prefix("policies").unwrap();
                on_disk.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    on_disk.sort();
    for file in &on_disk {
        assert!(
            embedded.contains(&file.as_str()),
            "policies/{file} is not embedded in PolicySet::builtin() (see BUILTIN in src/policy.rs)"
        );
    }
    for file in &embedded {
        assert!(
            on_disk.iter().any(|f| f == file),
            "embedded {file} is not in policies/"
        );
    }
    // The built-in set names them with the directory, as findings do.
    let policy = PolicySet::builtin().unwrap();
    for file in policy.files() {
        assert!(file.starts_with("policies/"), "{file}");
    }
}

#[test]
fn every_script_in_policies_is_exercised() {
    // Each default script reports its rule for some request: the scripts are loaded and run,
    // not just compiled.
    let policy = PolicySet::builtin().unwrap();
    let now = t("2026-11-25T09:00:00Z");
    let base = |services: &[&str], ty: &str| {
        let mut r = ChangeRequest::new(
            "dep-1",
            services.iter().copied(),
            "production",
            ty,
            t("2026-12-01T22:00:00+01:00"),
            TimeDelta::hours(2),
        );
        r.labels.insert("team".into(), "web".into());
        r
    };
    let teammate = {
        let mut d = base(&["web"], "feature");
        d.id = DeploymentId::from("dep-2");
        d
    };
    let calendar = Calendar::new(vec![teammate], Vec::new()).unwrap();
    let seen = |r: &ChangeRequest, rule: &str| {
        let d = policy.check_schedule(r, &calendar, now);
        d.findings_for(rule).count() == 1
    };
    assert!(seen(&base(&["checkout"], "feature"), "change_ticket"));
    assert!(seen(&base(&["search"], "emergency"), "emergency_incident"));
    assert!(seen(&base(&["search"], "feature"), "team_overlap"));
    let scripts: Vec<&String> = policy
        .files()
        .iter()
        .filter(|f| f.ends_with(".rhai"))
        .collect();
    assert_eq!(
        scripts.len(),
        3,
        "a new default script needs a test here: {scripts:?}"
    );
}

#[test]
fn shared_across_threads_gives_identical_decisions() {
    let policy = PolicySet::builtin().unwrap();
    let calendar = Calendar::from_yaml(
        "deployments:
  - {id: dep-a, service: search, environment: production, type: feature, start: 2026-12-01T22:30:00+01:00, duration: 1h, labels: {team: web}}
  - {id: dep-b, service: b, environment: production, type: feature, start: 2026-12-01T22:00:00+01:00, duration: 3h}
blackouts:
  - {name: review, from: 2026-12-03T09:00:00+01:00, to: 2026-12-03T18:00:00+01:00}
",
        "calendar.yaml",
    )
    .unwrap();
    let requests: Vec<ChangeRequest> = (0..48)
        .map(|i| {
            let start = t("2026-11-30T20:00:00+01:00") + TimeDelta::hours(i * 3);
            let mut r = ChangeRequest::new(
                format!("req-{i}"),
                if i % 2 == 0 {
                    vec!["search"]
                } else {
                    vec!["checkout", "c"]
                },
                "production",
                if i % 5 == 0 { "emergency" } else { "feature" },
                start,
                TimeDelta::minutes(30 + 10 * i),
            );
            r.labels.insert("team".into(), "web".into());
            r
        })
        .collect();
    let now = t("2026-11-29T09:00:00Z");
    let expected: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| policy.check_schedule(r, &calendar, now).to_json())
        .collect();
    // Not all the same answer, or the comparison proves little.
    let outcomes: std::collections::BTreeSet<String> =
        expected.iter().map(|d| d["outcome"].to_string()).collect();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");

    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|k| {
                let policy = policy.clone();
                let calendar = calendar.clone();
                let requests = &requests;
                scope.spawn(move || {
                    let mut out = vec![serde_json::Value::Null; requests.len()];
                    for round in 0..5 {
                        // Each thread walks the requests in its own order.
                        for j in 0..requests.len() {
                            let i = (j * (2 * k + 1) + round) % requests.len();
                            out[i] = policy
                                .check_schedule(&requests[i], &calendar, now)
                                .to_json();
                        }
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });

    // The batch entry point gives the same answers.
    let batch: Vec<serde_json::Value> = policy
        .check_schedule_many(&requests, &calendar, now)
        .iter()
        .map(Decision::to_json)
        .collect();
    assert_eq!(batch, expected);
}

#[test]
fn errors_are_values_with_locations() {
    let err =
        ChangeRequest::from_yaml("id: dep-1\nservice: x\nstrat: 1\n", "req.yaml").unwrap_err();
    let location: &Location = &err.location;
    assert_eq!((location.line, location.column), (Some(3), Some(1)));
    assert_eq!(location.to_string(), "req.yaml:3:1");
    let err: LoadError =
        PolicySet::from_sources("b", [("policy.yaml".into(), "timezone: Nowhere\n".into())])
            .unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Config);
    let dup = Calendar::new(
        vec![
            ChangeRequest::new(
                "x",
                ["a"],
                "p",
                "f",
                t("2026-01-01T00:00:00Z"),
                TimeDelta::hours(1),
            ),
            ChangeRequest::new(
                "x",
                ["b"],
                "p",
                "f",
                t("2026-01-01T00:00:00Z"),
                TimeDelta::hours(1),
            ),
        ],
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        dup,
        DuplicateId {
            id: DeploymentId::from("x"),
            index: 1
        }
    );
}

#[test]
fn policy_set_and_calendar_are_send_sync_clone() {
    fn is<T: Send + Sync + Clone + 'static>() {}
    is::<PolicySet>();
    is::<Calendar>();
    is::<Decision>();
    is::<ChangeRequest>();
}

#[test]
fn pending_from_a_script_is_not_allowed_and_renders_as_text() {
    let files = std::collections::BTreeMap::from([
        (
            "policy.yaml".to_owned(),
            "timezone: Europe/Berlin\nenvironments:\n  production: {}\n".to_owned(),
        ),
        (
            "approval.rhai".to_owned(),
            "fn schedule(request) {\n    pending(\"approval\", \"waits for `release`\", \
             #{missing: [\"release\"]});\n}\n"
                .to_owned(),
        ),
    ]);
    let policy = PolicySet::from_sources("bundle", files).unwrap();
    let request = ChangeRequest::from_yaml(
        &request_text("dep-1", "2026-12-01T22:00:00+01:00"),
        "request.yaml",
    )
    .unwrap();
    let decision = policy.check_schedule(&request, &Calendar::default(), t("2026-11-25T09:00:00Z"));
    assert_eq!(decision.schema, SCHEMA_VERSION);
    assert_eq!(decision.check, Check::Schedule);
    assert_eq!(decision.outcome, Outcome::Pending);
    assert!(!decision.allowed);
    assert!(!decision.outcome.is_allowed());
    assert_eq!(decision.findings[0].severity, Severity::Pending);
    assert_eq!(
        decision.findings[0].source.as_deref(),
        Some("bundle/approval.rhai:2")
    );
    assert_eq!(decision.policy.engine, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        decision.to_text(&request, TextStyle::Plain),
        format!(
            "PENDING dep-1 (search in production, 2026-12-01T22:00:00+01:00 .. \
             2026-12-02T00:00:00+01:00)\n  pending approval: waits for `release` \
             [bundle/approval.rhai:2]\npolicy {}\n",
            policy.digest()
        )
    );
    // A user can build a decision of their own (e.g. to combine answers) with the constructors.
    let mine = Decision::from_findings(
        Check::Schedule,
        vec![
            Finding::new("mine", Severity::Warn, "a note", None).with_detail("n", 1),
            Finding::new("theirs", Severity::Deny, "no", None),
        ],
        PolicyInfo::new(policy.digest()),
        Vec::new(),
    );
    assert_eq!(mine.outcome, Outcome::Deny);
    assert_eq!(
        mine.to_json()["policy"]["engine"],
        env!("CARGO_PKG_VERSION")
    );
}

/// The risk question through the public API: evidence built with plain constructors, the
/// level on the decision, and the schedule at a low or medium level is the schedule as today.
#[test]
fn risk_from_plain_constructors_and_schedule_at_low_risk_is_unchanged() {
    let policy = PolicySet::builtin().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z").unwrap();
    let categories = [
        "infrastructure",
        "code_quality",
        "tests",
        "security",
        "performance",
        "dependencies",
        "operations",
        "compliance",
    ];
    let mut results: Vec<ValidationResult> = categories
        .iter()
        .map(|c| ValidationResult::new(*c, "main", ValidationStatus::Passed, at))
        .collect();
    results.push(ValidationResult::measured(
        "code_quality",
        "coverage",
        0.9,
        at,
    ));
    results.push(ValidationResult::measured(
        "performance",
        "p95_ms",
        900.0,
        at,
    ));
    let history = History::new(
        (1..=3)
            .map(|d| {
                let start =
                    chrono::DateTime::parse_from_rfc3339(&format!("2026-11-0{d}T22:00:00Z"))
                        .unwrap();
                HistoryEntry::new(
                    ChangeRequest::new(
                        format!("h{d}"),
                        ["search"],
                        "production",
                        "feature",
                        start,
                        chrono::TimeDelta::hours(1),
                    ),
                    ChangeOutcome::Succeeded,
                )
            })
            .collect(),
    );
    let evidence = RiskEvidence::new(Some(ValidationResults::new(results)), Some(history));
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
    for (start, hours) in [
        ("2026-12-01T22:00:00+01:00", 2),
        ("2026-12-01T14:00:00+01:00", 2),
        ("2026-12-05T10:00:00+01:00", 1),
        ("2026-11-25T12:00:00+01:00", 1),
    ] {
        let start = chrono::DateTime::parse_from_rfc3339(start).unwrap();
        let request = ChangeRequest::new(
            "dep-1",
            ["search"],
            "production",
            "feature",
            start,
            chrono::TimeDelta::hours(hours),
        );
        let risk = policy.assess_risk(&request, &evidence, now);
        assert_eq!(risk.check, Check::Risk);
        assert!(risk.risk_level().unwrap() <= RiskLevel::Medium, "{risk:?}");
        let today = policy.check_schedule(&request, &Calendar::default(), now);
        for level in [RiskLevel::Low, RiskLevel::Medium] {
            let at_risk = policy.check_schedule_at_risk(&request, &Calendar::default(), level, now);
            assert_eq!(at_risk, today, "{level} {start}");
        }
        let with = policy.check_schedule_with_risk(&request, &Calendar::default(), &evidence, now);
        assert_eq!(with, today, "{start}");
    }
}
