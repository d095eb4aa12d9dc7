#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A calendar built any way (parsed without the policy, or from Rust values) is checked against
//! the policy by `PolicySet::check_calendar`, with the same error as
//! `Calendar::from_yaml_checked`. `check_schedule` itself does not re-check (documented).

use changegate::*;
use chrono::{DateTime, Utc};

fn deployment(id: &str, environment: &str) -> ChangeRequest {
    ChangeRequest::from_yaml(
        &format!(
            "id: {id}\nservice: search\nenvironment: {environment}\ntype: feature\n\
             start: 2026-12-01T22:00:00+01:00\nduration: 2h\n"
        ),
        "d.yaml",
    )
    .unwrap()
}

#[test]
fn a_calendar_built_from_rust_values_is_checked_with_the_same_error_as_from_yaml_checked() {
    let policy = PolicySet::builtin().unwrap();
    let deployments: Vec<ChangeRequest> = (0..5)
        .map(|i| {
            deployment(
                &format!("dep-{i}"),
                if i == 3 { "prod" } else { "production" },
            )
        })
        .collect();
    let calendar = Calendar::new(deployments, Vec::new()).unwrap();
    let err = policy.check_calendar(&calendar).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("deployments[3].environment"));
    assert_eq!(err.location.file, "<calendar>");
    assert_eq!(err.location.line, None);

    // The same calendar as text, read with the policy: the same message and field.
    let entries: String = (0..5)
            .map(|i| {
                format!(
                    "  - {{id: dep-{i}, service: search, environment: {}, type: feature, start: 2026-12-01T22:00:00+01:00, duration: 2h}}\n",
                    if i == 3 { "prod" } else { "production" }
                )
            })
            .collect();
    let text = format!("deployments:\n{entries}");
    let checked =
        Calendar::from_yaml_checked(&text, "c.yaml", &policy, &InputLimits::default()).unwrap_err();
    assert_eq!(err.message, checked.message);
    assert_eq!(err.field, checked.field);
    assert!(
        err.message
            .starts_with("environment `prod` is not in the policy (did you mean `production`?)"),
        "{err}"
    );
    // Parsed without the policy, then checked: the same again.
    let parsed = Calendar::from_yaml(&text, "c.yaml").unwrap();
    assert_eq!(policy.check_calendar(&parsed).unwrap_err(), err);
}

#[test]
fn blackouts_are_checked_and_known_environments_pass() {
    let policy = PolicySet::builtin().unwrap();
    let blackout = |envs: Option<Vec<String>>| {
        let mut b = Calendar::from_yaml(
            "blackouts:\n  - {name: x, from: 2026-12-01T00:00:00Z, to: 2026-12-02T00:00:00Z}\n",
            "c.yaml",
        )
        .unwrap()
        .blackouts()[0]
            .clone();
        b.environments = envs;
        Calendar::new(vec![deployment("dep-1", "staging")], vec![b]).unwrap()
    };
    let err = policy
        .check_calendar(&blackout(Some(vec!["production".into(), "stagin".into()])))
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("blackouts[0].environments[1]"));
    assert!(err.message.contains("did you mean `staging`?"), "{err}");
    // No environments: every one; known ones: fine; the empty calendar: fine.
    assert!(policy.check_calendar(&blackout(None)).is_ok());
    assert!(
        policy
            .check_calendar(&blackout(Some(vec!["production".into()])))
            .is_ok()
    );
    assert!(policy.check_calendar(&Calendar::default()).is_ok());
}

#[test]
fn check_schedule_does_not_recheck_an_unchecked_calendar() {
    // Documented: the entry for `prod` never applies; check_calendar is how to find it.
    let policy = PolicySet::builtin().unwrap();
    let calendar = Calendar::new(vec![deployment("dep-1", "prod")], Vec::new()).unwrap();
    let now: DateTime<Utc> = "2026-11-25T09:00:00Z".parse().unwrap();
    let d = policy.check_schedule(&deployment("dep-2", "production"), &calendar, now);
    assert!(d.findings.iter().all(|f| !f.message.contains("prod`")));
    assert!(policy.check_calendar(&calendar).is_err());
}
