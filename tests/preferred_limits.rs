#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A preferred window whose occurrences cannot all be computed (past the cron period or RRULE
//! occurrence limit, docs/reliability.md "Recurrences") does not count as met there: the check
//! warns and names the limit. A blackout of the same window still fails closed by denying.

use changegate::*;
use chrono::{DateTime, Utc};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn policy(key: &str, window: &str) -> PolicySet {
    let yaml = match key {
        "preferred_window" => format!(
            "timezone: UTC\nenvironments:\n  production:\n    preferred_window:\n      windows:\n        - name: w\n          {window}\n"
        ),
        _ => format!(
            "timezone: UTC\nenvironments:\n  production:\n    blackouts:\n      - name: w\n        {window}\n"
        ),
    };
    PolicySet::from_sources("bundle", [("policy.yaml".to_owned(), yaml)]).unwrap()
}

fn check(p: &PolicySet, start: &str, duration: &str) -> Decision {
    let request = ChangeRequest::from_yaml(
        &format!(
            "id: dep-new\nservice: search\nenvironment: production\ntype: feature\nstart: {start}\nduration: {duration}\n"
        ),
        "request.yaml",
    )
    .unwrap();
    p.check_schedule(&request, &Calendar::default(), utc("2026-01-01T00:00:00Z"))
}

fn preferred_warnings(d: &Decision) -> Vec<&Finding> {
    d.findings
        .iter()
        .filter(|f| f.rule.as_str() == RuleId::PREFERRED_WINDOW)
        .collect()
}

const EVERY_MINUTE: &str = "cron: {start: \"* * * * *\", end: \"* * * * *\"}";

#[test]
fn an_every_minute_cron_preferred_window_warns_past_the_period_limit() {
    let p = policy("preferred_window", EVERY_MINUTE);
    // A short change lies inside the window: no warning.
    let d = check(&p, "2026-06-01T10:00:00Z", "2h");
    assert!(d.allowed);
    assert!(preferred_warnings(&d).is_empty(), "{:?}", d.findings);

    // Five years: 2.6 million periods, more than the 100 000 computed. The part past the limit
    // is not known to be inside the window, so the check warns (it used to count as met).
    let d = check(&p, "2026-06-01T10:00:00Z", "43800h");
    assert!(d.allowed, "a preferred window only warns");
    let warnings = preferred_warnings(&d);
    assert_eq!(warnings.len(), 1, "{:?}", d.findings);
    let f = warnings[0];
    assert_eq!(f.severity, Severity::Warn);
    // 100 000 minutes after the walk began, a day before the start (2026-05-31T10:00).
    let until = "2026-08-08T20:40:00Z";
    assert_eq!(
        f.message,
        format!(
            "the preferred window could not be checked past {until}: more than 100000 periods \
             of cron window `w`; the rest of the change counts as outside it"
        )
    );
    assert_eq!(f.details["truncated"], serde_json::json!(true));
    assert_eq!(f.details["computed_until"], serde_json::json!(until));
    assert_eq!(f.details["windows"], serde_json::json!(["w"]));
}

#[test]
fn a_blackout_of_the_same_cron_window_still_denies_past_the_limit() {
    let p = policy("blackouts", EVERY_MINUTE);
    let d = check(&p, "2026-06-01T10:00:00Z", "43800h");
    assert!(!d.allowed);
    assert!(
        d.findings
            .iter()
            .any(|f| f.rule.as_str() == RuleId::BLACKOUT)
    );
}

#[test]
fn an_rrule_preferred_window_warns_past_the_occurrence_limit() {
    // Monthly rules are expanded from their start: every minute from 1950 reaches the limit of
    // 1 000 000 occurrences around 1952, long before 2026.
    let minutes: Vec<String> = (0..60).map(|m| m.to_string()).collect();
    let hours: Vec<String> = (0..24).map(|m| m.to_string()).collect();
    let window = format!(
        "rrule: {{rule: \"FREQ=MONTHLY;BYHOUR={};BYMINUTE={}\", start: \"1950-01-01T00:00\", duration: 1m}}",
        hours.join(","),
        minutes.join(",")
    );
    let p = policy("preferred_window", &window);
    let d = check(&p, "2026-06-15T10:00:00Z", "5m");
    assert!(d.allowed);
    let warnings = preferred_warnings(&d);
    assert_eq!(warnings.len(), 1, "{:?}", d.findings);
    assert!(
        warnings[0].message.contains(
            "could not be checked past 2026-06-15T10:00:00Z: more than 1000000 occurrences of \
             recurrence rule window `w`"
        ),
        "{}",
        warnings[0].message
    );
    assert_eq!(warnings[0].details["truncated"], serde_json::json!(true));

    // The blackout of the same rule blocks.
    let b = policy("blackouts", &window);
    assert!(!check(&b, "2026-06-15T10:00:00Z", "5m").allowed);
}
