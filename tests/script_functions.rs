//! Every function a policy script can call, exercised from a script and checked through the
//! details of the findings it records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use changegate::{Calendar, ChangeRequest, PolicySet};
use serde_json::json;

const SCRIPT: &str = r#"
fn schedule(request) {
    let all = [];
    for d in overlapping_deployments() { all.push(d.id); }
    all.sort();
    let on_checkout = [];
    for d in overlapping_deployments("checkout") { on_checkout.push(d.id); }
    warn("queries", "calendar queries", #{
        all: all,
        on_checkout: on_checkout,
        web: overlapping_with_label("team", "web"),
        same_team: overlapping_with_same_label("team"),
        no_such_label: overlapping_with_same_label("nope"),
        between: deployments_between("checkout", request.start, request.end).len(),
    });
    let one = deployment("dep-1");
    warn("lookup", "one deployment", #{
        id: one.id,
        services: one.services,
        start_hour: one.start.hour,
        team: one.labels.team,
        missing: type_of(deployment("nope")),
    });
    warn("request", "the request", #{
        id: request.id,
        type: request.type,
        services: request.services,
        team: request.label("team"),
        absent: type_of(request.label("absent")),
        labels: request.labels,
        depends_on: request.depends_on,
        requested_by: type_of(request.requested_by),
        duration_minutes: request.duration_minutes,
        weekday: request.start.weekday,
        weekday_name: request.start.weekday_name,
        hour: request.start.hour,
        minute: request.start.minute,
        date: request.start.date,
        end: request.end.to_string(),
        minutes: minutes_between(request.start, request.end),
        before: request.start < request.end,
        now: now().to_string(),
    });
}
"#;

const CALENDAR: &str = "
deployments:
  - {id: dep-1, service: checkout, environment: production, type: feature,
     start: 2026-12-01T21:30:00+01:00, duration: 1h, labels: {team: web}}
  - {id: dep-2, service: search, environment: production, type: feature,
     start: 2026-12-01T23:00:00+01:00, duration: 2h, labels: {team: web}}
  - {id: dep-3, service: checkout, environment: production, type: feature,
     start: 2026-12-02T09:00:00+01:00, duration: 1h, labels: {team: web}}
  - {id: dep-4, service: checkout, environment: staging, type: feature,
     start: 2026-12-01T22:00:00+01:00, duration: 1h, labels: {team: web}}
";

const REQUEST: &str = "
id: req-1
service: checkout
environment: production
type: feature
start: 2026-12-01T22:00:00+01:00
duration: 2h
depends_on: [dep-0]
labels: {team: web, size: 3}
";

#[test]
fn every_script_function_answers_from_the_request_and_the_calendar() {
    let policy = PolicySet::from_sources(
        "bundle",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: Europe/Berlin\nenvironments:\n  production: {}\n".to_owned(),
            ),
            ("probe.rhai".to_owned(), SCRIPT.to_owned()),
        ],
    )
    .unwrap();
    let calendar = Calendar::from_yaml(CALENDAR, "calendar.yaml").unwrap();
    let request = ChangeRequest::from_yaml(REQUEST, "request.yaml").unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
    let decision = policy.check_schedule(&request, &calendar, now);
    let details = |rule: &str| {
        let f = decision
            .findings_for(rule)
            .next()
            .unwrap_or_else(|| panic!("no `{rule}` finding in {:?}", decision.findings));
        assert!(
            f.source
                .as_deref()
                .unwrap()
                .starts_with("bundle/probe.rhai:")
        );
        serde_json::Value::Object(f.details.clone())
    };
    // Overlapping [22:00, 24:00) in production: dep-1 (until 22:30) and dep-2 (from 23:00);
    // dep-3 is the next morning, dep-4 is in staging.
    assert_eq!(
        details("queries"),
        json!({"all": ["dep-1", "dep-2"], "on_checkout": ["dep-1"], "web": ["dep-1", "dep-2"],
               "same_team": ["dep-1", "dep-2"], "no_such_label": [], "between": 1})
    );
    assert_eq!(
        details("lookup"),
        json!({"id": "dep-1", "services": ["checkout"], "start_hour": 21, "team": "web",
               "missing": "()"})
    );
    assert_eq!(
        details("request"),
        json!({"id": "req-1", "type": "feature", "services": ["checkout"], "team": "web",
               "absent": "()", "labels": {"team": "web", "size": 3}, "depends_on": ["dep-0"],
               "requested_by": "()", "duration_minutes": 120, "weekday": 2,
               "weekday_name": "tue", "hour": 22, "minute": 0, "date": "2026-12-01",
               "end": "2026-12-02T00:00:00+01:00", "minutes": 120, "before": true,
               "now": "2026-11-25T10:00:00+01:00"})
    );
    assert_eq!(decision.outcome.as_str(), "warn");
}
