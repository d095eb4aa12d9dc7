//! "When can I deploy?": the recurrence forms of policy.yaml (cron pairs, RRULE, .ics calendars)
//! and `PolicySet::next_windows`, through the public API only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use changegate::*;
use chrono::{DateTime, TimeDelta, Utc};

const FORMS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/windows/forms");

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn bundle(files: &[(&str, &str)]) -> PolicySet {
    PolicySet::from_sources(
        "bundle",
        files
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned())),
    )
    .unwrap()
}

fn load_error(files: &[(&str, &str)]) -> LoadError {
    PolicySet::from_sources(
        "bundle",
        files
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned())),
    )
    .unwrap_err()
}

fn request(start: &str, duration: &str) -> ChangeRequest {
    ChangeRequest::from_yaml(
        &format!(
            "id: dep-new\nservice: search\nenvironment: production\ntype: feature\nstart: {start}\nduration: {duration}\n"
        ),
        "request.yaml",
    )
    .unwrap()
}

fn allowed(policy: &PolicySet, start: &str, duration: &str) -> bool {
    policy
        .check_schedule(
            &request(start, duration),
            &Calendar::default(),
            utc("2026-01-01T00:00:00Z"),
        )
        .allowed
}

fn occurrences(policy: &PolicySet, name: &str, from: &str, count: usize) -> Vec<(String, String)> {
    let preview = policy.preview(utc(from), count);
    let w = preview.iter().find(|w| w.name == name).unwrap();
    w.occurrences
        .iter()
        .map(|o| (o.start.to_rfc3339(), o.end.to_rfc3339()))
        .collect()
}

fn forms() -> PolicySet {
    PolicySet::load(FORMS).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Recurrence forms.

#[test]
fn cron_freeze_keeps_its_local_hours_across_dst() {
    let p = forms();
    // Spring: the freeze of 27-30 March 2026 contains the switch to CEST (29 March).
    let spring = occurrences(&p, "gitlab-weekend", "2026-03-21T00:00:00Z", 2);
    assert_eq!(
        spring[1],
        (
            "2026-03-27T16:00:00+01:00".into(),
            "2026-03-30T06:00:00+02:00".into()
        )
    );
    // Autumn: back to CET on 25 October.
    let autumn = occurrences(&p, "gitlab-weekend", "2026-10-24T00:00:00Z", 1);
    assert_eq!(
        autumn[0],
        (
            "2026-10-23T16:00:00+02:00".into(),
            "2026-10-26T06:00:00+01:00".into()
        )
    );
    // Checks agree: Monday 05:30 CEST is frozen, 06:00 is not.
    assert!(!allowed(&p, "2026-03-30T05:30:00+02:00", "20m"));
    assert!(allowed(&p, "2026-03-30T06:00:00+02:00", "20m"));
    assert!(!allowed(&p, "2026-03-27T15:50:00+01:00", "20m"));
}

#[test]
fn cron_freeze_follows_gitlab_meaning_start_to_first_end_after_it() {
    // Starts every day at 22:00, ends only on Mondays 06:00: one long freeze a week, not seven.
    let p = bundle(&[(
        "policy.yaml",
        "timezone: UTC\nenvironments:\n  production:\n    blackouts:\n      - name: nightly-until-monday\n        cron: {start: \"0 22 * * *\", end: \"0 6 * * 1\"}\n",
    )]);
    let occ = occurrences(&p, "nightly-until-monday", "2026-06-02T00:00:00Z", 2);
    // In progress at the query start (it began Monday 1 June 22:00), ends Monday 8 June 06:00.
    assert_eq!(
        occ[0],
        (
            "2026-06-01T22:00:00+00:00".into(),
            "2026-06-08T06:00:00+00:00".into()
        )
    );
    assert_eq!(
        occ[1],
        (
            "2026-06-08T22:00:00+00:00".into(),
            "2026-06-15T06:00:00+00:00".into()
        )
    );
}

#[test]
fn cron_occurrence_in_a_gap_moves_forward_by_the_gap() {
    let p = bundle(&[(
        "policy.yaml",
        "timezone: Europe/Berlin\nenvironments:\n  production:\n    blackouts:\n      - name: night\n        cron: {start: \"30 2 * * *\", end: \"0 4 * * *\"}\n",
    )]);
    let occ = occurrences(&p, "night", "2026-03-28T12:00:00Z", 2);
    // 02:30 does not exist on 29 March 2026: it becomes 03:30 CEST.
    assert_eq!(
        occ[0],
        (
            "2026-03-29T03:30:00+02:00".into(),
            "2026-03-29T04:00:00+02:00".into()
        )
    );
    // 02:30 exists twice on 25 October: the earlier (CEST) one.
    let occ = occurrences(&p, "night", "2026-10-24T12:00:00Z", 1);
    assert_eq!(
        occ[0],
        (
            "2026-10-25T02:30:00+02:00".into(),
            "2026-10-25T04:00:00+01:00".into()
        )
    );
}

#[test]
fn rrule_last_friday_of_a_five_friday_month() {
    let p = forms();
    // January 2026 has five Fridays (2, 9, 16, 23, 30): the last is the 30th. February's
    // (the 27th) is excluded by `exdates`.
    let occ = occurrences(&p, "month-end", "2026-01-01T00:00:00Z", 3);
    assert_eq!(
        occ,
        [
            (
                "2026-01-30T18:00:00+01:00".into(),
                "2026-01-31T06:00:00+01:00".into()
            ),
            (
                "2026-03-27T18:00:00+01:00".into(),
                "2026-03-28T06:00:00+01:00".into()
            ),
            (
                "2026-04-24T18:00:00+02:00".into(),
                "2026-04-25T06:00:00+02:00".into()
            ),
        ]
    );
    // Checked without the weekend freeze of the same bundle (it starts Fridays 16:00).
    let only = bundle(&[(
        "policy.yaml",
        "timezone: Europe/Berlin\nenvironments:\n  production:\n    blackouts:\n      - name: month-end\n        rrule: {rule: \"FREQ=MONTHLY;BYDAY=-1FR\", start: \"2026-01-01T18:00\", duration: 12h, exdates: [\"2026-02-27\"]}\n",
    )]);
    assert!(allowed(&only, "2026-01-23T18:00:00+01:00", "1h"));
    assert!(!allowed(&only, "2026-01-30T18:00:00+01:00", "1h"));
    assert!(!allowed(&only, "2026-01-31T05:30:00+01:00", "1h"));
    assert!(allowed(&only, "2026-01-31T06:00:00+01:00", "1h"));
    assert!(allowed(&only, "2026-02-27T18:00:00+01:00", "1h"));
}

#[test]
fn rrule_occurrence_in_a_gap_follows_the_one_rule() {
    let p = bundle(&[(
        "policy.yaml",
        "timezone: Europe/Berlin\nenvironments:\n  production:\n    blackouts:\n      - name: spring\n        rrule: {rule: \"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\", start: \"2026-01-01T02:30\", duration: 1h}\n",
    )]);
    let occ = occurrences(&p, "spring", "2026-01-01T00:00:00Z", 1);
    // 02:30 on the last Sunday of March is in the gap: 03:30 CEST, then one elapsed hour.
    assert_eq!(
        occ[0],
        (
            "2026-03-29T03:30:00+02:00".into(),
            "2026-03-29T04:30:00+02:00".into()
        )
    );
}

fn ics_bundle(tz: &str) -> PolicySet {
    bundle(&[
        (
            "policy.yaml",
            &format!(
                "timezone: {tz}\nenvironments:\n  production:\n    blackouts:\n      - name: holidays\n        ics: holidays.ics\n"
            ),
        ),
        (
            "holidays.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Christmas\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
    ])
}

#[test]
fn all_day_holiday_blocks_the_local_day_east_and_west_of_utc() {
    // East of UTC: Auckland is +13:00 in December, so the day starts at 11:00 UTC the day before.
    let east = ics_bundle("Pacific/Auckland");
    let occ = east.preview(utc("2026-12-01T00:00:00Z"), 1);
    let o = &occ[0].occurrences[0];
    assert_eq!(o.start.to_rfc3339(), "2026-12-25T00:00:00+13:00");
    assert_eq!(o.start_utc, utc("2026-12-24T11:00:00Z"));
    assert_eq!(o.end_utc, utc("2026-12-25T11:00:00Z"));
    assert!(!allowed(&east, "2026-12-24T11:30:00Z", "10m"));
    assert!(allowed(&east, "2026-12-24T10:30:00Z", "10m"));
    // West of UTC: Los Angeles is -08:00, so the day runs 08:00 UTC to 08:00 UTC.
    let west = ics_bundle("America/Los_Angeles");
    let o = &west.preview(utc("2026-12-01T00:00:00Z"), 1)[0].occurrences[0];
    assert_eq!(o.start.to_rfc3339(), "2026-12-25T00:00:00-08:00");
    assert_eq!(o.start_utc, utc("2026-12-25T08:00:00Z"));
    assert_eq!(o.end_utc, utc("2026-12-26T08:00:00Z"));
    assert!(!allowed(&west, "2026-12-26T07:30:00Z", "10m"));
    assert!(allowed(&west, "2026-12-26T08:00:00Z", "10m"));
}

#[test]
fn ics_file_in_the_bundle_repeats_excludes_and_keeps_event_zones() {
    let p = forms();
    let occ = occurrences(&p, "public-holidays", "2026-09-01T00:00:00Z", 6);
    assert_eq!(
        occ,
        [
            (
                "2026-10-03T00:00:00+02:00".into(),
                "2026-10-04T00:00:00+02:00".into()
            ),
            // 17:00-20:00 New York time, shown in Berlin time (23:00-02:00).
            (
                "2026-11-05T23:00:00+01:00".into(),
                "2026-11-06T02:00:00+01:00".into()
            ),
            (
                "2026-12-25T00:00:00+01:00".into(),
                "2026-12-26T00:00:00+01:00".into()
            ),
            (
                "2027-12-25T00:00:00+01:00".into(),
                "2027-12-26T00:00:00+01:00".into()
            ),
            // 2028 is excluded by EXDATE.
            (
                "2029-12-25T00:00:00+01:00".into(),
                "2029-12-26T00:00:00+01:00".into()
            ),
            (
                "2030-12-25T00:00:00+01:00".into(),
                "2030-12-26T00:00:00+01:00".into()
            ),
        ]
    );
    // The cancelled event blocks nothing.
    assert!(allowed(&p, "2026-11-10T09:00:00Z", "1h"));
}

#[test]
fn ics_files_count_in_the_digest_and_load_from_sources() {
    let policy = std::fs::read_to_string(format!("{FORMS}/policy.yaml")).unwrap();
    let ics = std::fs::read_to_string(format!("{FORMS}/calendars/holidays.ics")).unwrap();
    let a = bundle(&[("policy.yaml", &policy), ("calendars/holidays.ics", &ics)]);
    let changed = ics.replace("20261003", "20261004");
    let b = bundle(&[
        ("policy.yaml", &policy),
        ("calendars/holidays.ics", &changed),
    ]);
    assert_ne!(a.digest(), b.digest());
    assert!(
        a.files()
            .iter()
            .any(|f| f.ends_with("calendars/holidays.ics"))
    );
    assert!(
        forms()
            .files()
            .iter()
            .any(|f| f.ends_with("calendars/holidays.ics"))
    );
}

#[test]
fn errors_in_the_new_forms_name_file_line_column_and_field() {
    let policy = |window: &str| {
        format!(
            "timezone: Europe/Berlin\nenvironments:\n  production:\n    blackouts:\n      - name: w\n{window}"
        )
    };
    let e = load_error(&[(
        "policy.yaml",
        &policy("        cron:\n          start: \"0 16 * *\"\n          end: \"0 6 * * 1\"\n"),
    )]);
    assert_eq!(
        e.field.as_deref(),
        Some("environments.production.blackouts[0].cron.start")
    );
    assert_eq!((e.location.line, e.location.column), (Some(7), Some(11)));
    assert!(e.message.contains("five fields"), "{}", e.message);

    let e = load_error(&[(
        "policy.yaml",
        &policy(
            "        rrule:\n          rule: \"FREQ=MONTHLY;BYDAY=-1XX\"\n          start: \"2026-01-01T18:00\"\n          duration: 12h\n",
        ),
    )]);
    assert_eq!(
        e.field.as_deref(),
        Some("environments.production.blackouts[0].rrule.rule")
    );
    assert_eq!(e.location.line, Some(7));
    assert!(
        e.message.contains("FREQ=MONTHLY;BYDAY=-1XX"),
        "{}",
        e.message
    );

    let e = load_error(&[(
        "policy.yaml",
        &policy(
            "        rrule:\n          rule: \"FREQ=MONTHLY\"\n          start: \"2026-01-01T18:00\"\n          duration: 12h\n          exdates: [\"soon\"]\n",
        ),
    )]);
    assert_eq!(
        e.field.as_deref(),
        Some("environments.production.blackouts[0].rrule.exdates[0]")
    );

    let e = load_error(&[("policy.yaml", &policy("        ics: missing.ics\n"))]);
    assert_eq!(
        e.field.as_deref(),
        Some("environments.production.blackouts[0].ics")
    );
    assert_eq!(e.location.to_string(), "bundle/policy.yaml:6:9");
    assert!(
        e.message.contains("no calendar file `missing.ics`"),
        "{}",
        e.message
    );

    let e = load_error(&[("policy.yaml", &policy("        ics: ../outside.ics\n"))]);
    assert!(e.message.contains("inside the bundle"), "{}", e.message);

    let e = load_error(&[
        ("policy.yaml", &policy("        ics: bad.ics\n")),
        (
            "bad.ics",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nDTSTART;TZID=Mars/Olympus:20261225T100000\nEND:VEVENT\nEND:VCALENDAR\n",
        ),
    ]);
    assert_eq!(e.location.to_string(), "bundle/bad.ics:4:1");
    assert_eq!(e.field.as_deref(), Some("VEVENT[0].DTSTART"));
    assert!(e.message.contains("Mars/Olympus"), "{}", e.message);

    let e = load_error(&[(
        "policy.yaml",
        &policy(
            "        weekly: {from: \"fri 16:00\", to: \"mon 06:00\"}\n        cron: {start: \"0 16 * * 5\", end: \"0 6 * * 1\"}\n",
        ),
    )]);
    assert!(e.message.contains("exactly one of"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------------
// next_windows.

const SIMPLE: &str = "timezone: Europe/Berlin\nenvironments:\n  production:\n    blackouts:\n      - name: weekend-freeze\n        weekly: {from: \"fri 16:00\", to: \"mon 06:00\"}\n    conflicts: {}\n    concurrency: {max: 1}\n";

fn windows(
    policy: &PolicySet,
    calendar: &Calendar,
    now: &str,
    req: &ChangeRequest,
    count: usize,
    days: i64,
) -> NextWindows {
    policy.next_windows(req, calendar, utc(now), count, TimeDelta::days(days))
}

#[test]
fn every_window_start_is_allowed_and_blocked_stretches_are_denied() {
    let p = bundle(&[("policy.yaml", SIMPLE)]);
    let calendar = Calendar::from_yaml(
        "deployments:\n  - {id: a, service: search, environment: production, type: feature, start: 2026-06-01T09:00:00+02:00, duration: 3h}\n  - {id: b, service: other, environment: production, type: feature, start: 2026-06-01T14:00:00+02:00, duration: 1h}\n",
        "calendar.yaml",
    )
    .unwrap();
    let req = request("2026-06-01T00:00:00+02:00", "2h");
    let answer = windows(&p, &calendar, "2026-06-01T08:00:00+02:00", &req, 4, 14);
    let starts: Vec<String> = answer
        .windows
        .iter()
        .map(|w| w.start.to_rfc3339())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-06-01T12:00:00+02:00", // after `a` (12:00), must end by 14:00 (`b`, max 1)
            "2026-06-01T15:00:00+02:00",
            "2026-06-08T06:00:00+02:00",
            "2026-06-15T06:00:00+02:00",
        ]
    );
    assert_eq!(
        answer.windows[0].end.to_rfc3339(),
        "2026-06-01T14:00:00+02:00"
    );
    assert_eq!(
        answer.windows[0].latest_start.to_rfc3339(),
        "2026-06-01T12:00:00+02:00"
    );
    for w in &answer.windows {
        let mut moved = req.clone();
        moved.start = w.start;
        assert!(
            p.check_schedule(&moved, &calendar, utc("2026-06-01T06:00:00Z"))
                .allowed
        );
    }
    // Every 5 minutes of every blocked stretch is denied.
    for b in &answer.blocked {
        let mut t = b.from + TimeDelta::minutes(1);
        while t < b.until {
            let mut moved = req.clone();
            moved.start = t;
            assert!(
                !p.check_schedule(&moved, &calendar, utc("2026-06-01T06:00:00Z"))
                    .allowed,
                "{t}"
            );
            t += TimeDelta::minutes(5);
        }
    }
    let first = &answer.blocked[0];
    assert_eq!(first.from.to_rfc3339(), "2026-06-01T08:00:00+02:00");
    assert_eq!(first.until.to_rfc3339(), "2026-06-01T12:00:00+02:00");
    // `a` is on the same service (conflict) and fills the one concurrency slot.
    assert_eq!(
        first.rules,
        [RuleId::from("concurrency"), RuleId::from("conflict")]
    );
    assert!(
        first.reasons.iter().any(|r| r.contains("`a`")),
        "{:?}",
        first.reasons
    );
}

#[test]
fn first_free_gap_shorter_than_the_deployment_is_skipped() {
    let p = bundle(&[("policy.yaml", SIMPLE)]);
    // Free from 10:00 to 11:00 only, then blocked until 15:00.
    let calendar = Calendar::from_yaml(
        "blackouts:\n  - {name: morning, from: 2026-06-02T00:00:00+02:00, to: 2026-06-02T10:00:00+02:00}\n  - {name: midday, from: 2026-06-02T11:00:00+02:00, to: 2026-06-02T15:00:00+02:00}\n",
        "calendar.yaml",
    )
    .unwrap();
    let req = request("2026-06-02T10:00:00+02:00", "2h");
    let answer = windows(&p, &calendar, "2026-06-02T00:00:00+02:00", &req, 1, 7);
    assert_eq!(
        answer.windows[0].start.to_rfc3339(),
        "2026-06-02T15:00:00+02:00"
    );
    let rules: Vec<Vec<String>> = answer
        .blocked
        .iter()
        .map(|b| b.rules.iter().map(|r| r.to_string()).collect())
        .collect();
    // Starts before 09:00 hit `morning`, 09:00-10:00 both, 10:00-15:00 `midday`.
    assert!(
        rules.iter().all(|r| r == &["blackout".to_owned()]),
        "{rules:?}"
    );
    let froms: Vec<String> = answer.blocked.iter().map(|b| b.from.to_rfc3339()).collect();
    assert_eq!(
        froms,
        [
            "2026-06-02T00:00:00+02:00",
            "2026-06-02T09:00:00+02:00",
            "2026-06-02T10:00:00+02:00"
        ]
    );
    assert!(
        answer.blocked[2]
            .reasons
            .iter()
            .any(|r| r.contains("midday"))
    );
    // A one-hour deployment fits the short gap.
    let short = request("2026-06-02T10:00:00+02:00", "1h");
    let answer = windows(&p, &calendar, "2026-06-02T00:00:00+02:00", &short, 1, 7);
    assert_eq!(
        answer.windows[0].start.to_rfc3339(),
        "2026-06-02T10:00:00+02:00"
    );
    assert_eq!(
        answer.windows[0].end.to_rfc3339(),
        "2026-06-02T11:00:00+02:00"
    );
}

#[test]
fn a_script_that_blocks_mondays_moves_the_suggestion_to_tuesday() {
    let p = bundle(&[
        ("policy.yaml", SIMPLE),
        (
            "no_mondays.rhai",
            "fn schedule(request) {\n    if request.start.weekday == 1 {\n        deny(\"no_mondays\", \"no deployments on Mondays\");\n    }\n}\n",
        ),
    ]);
    let req = request("2026-06-06T10:00:00+02:00", "2h");
    // Saturday: the weekend freeze ends Monday 06:00, which the script refuses.
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-06T10:00:00+02:00",
        &req,
        1,
        14,
    );
    assert_eq!(
        answer.windows[0].start.to_rfc3339(),
        "2026-06-09T00:00:00+02:00"
    );
    let last = answer.blocked.last().unwrap();
    assert_eq!(last.rules, [RuleId::from("no_mondays")]);
    assert_eq!(last.from.to_rfc3339(), "2026-06-08T06:00:00+02:00");
    assert_eq!(last.until.to_rfc3339(), "2026-06-09T00:00:00+02:00");
    // Monday 06:00 (denied: the script read the weekday, so the answer holds to midnight), then
    // the window is confirmed day by day up to the weekend freeze: Tuesday to Friday.
    assert_eq!(answer.confirmations, 5);
    assert_eq!(
        answer.windows[0].latest_start.to_rfc3339(),
        "2026-06-12T14:00:00+02:00"
    );
}

#[test]
fn never_allowed_within_the_horizon_gives_a_clear_empty_answer() {
    let p = PolicySet::builtin().unwrap();
    // Longer than production's 8h maximum: never allowed, no search at all.
    let req = request("2026-06-02T10:00:00+02:00", "10h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-01T10:00:00+02:00",
        &req,
        3,
        90,
    );
    assert!(answer.windows.is_empty());
    assert_eq!(answer.confirmations, 0);
    assert!(
        answer
            .note
            .as_deref()
            .unwrap()
            .starts_with("never allowed: max_duration"),
        "{:?}",
        answer.note
    );
    assert_eq!(answer.blocked.len(), 1);
    assert_eq!(answer.blocked[0].rules, [RuleId::from("max_duration")]);
    assert_eq!(answer.blocked[0].until, answer.searched.until);

    // Inside the holiday freeze with a horizon that ends before it does.
    let req = request("2026-12-21T10:00:00+01:00", "1h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-12-21T10:00:00+01:00",
        &req,
        3,
        7,
    );
    assert!(answer.windows.is_empty());
    let note = answer.note.as_deref().unwrap();
    assert!(note.contains("no start within 7d"), "{note}");
    assert!(note.contains("blackout"), "{note}");

    // An environment the policy does not know.
    let mut req = request("2026-06-02T10:00:00+02:00", "1h");
    req.environment = "moon".into();
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-01T10:00:00+02:00",
        &req,
        3,
        90,
    );
    assert!(answer.windows.is_empty());
    assert_eq!(
        answer.blocked[0].rules,
        [RuleId::from("unknown_environment")]
    );
}

/// A bundle in UTC with no built-in rules and one script whose `schedule` hook has `body`.
fn utc_bundle(body: &str) -> PolicySet {
    bundle(&[
        (
            "policy.yaml",
            "timezone: UTC\nenvironments:\n  production: {}\n",
        ),
        (
            "never.rhai",
            &format!("fn schedule(request) {{ {body} }}\n"),
        ),
    ])
}

#[test]
fn a_script_that_denies_every_minute_stops_at_the_confirmation_limit() {
    // The script reads the start's minute, so its denial holds for one minute only: the search
    // steps minute by minute (never to midnight) until the limit.
    let p = utc_bundle("if request.start.minute >= 0 { deny(\"never\", \"not today\"); }");
    let req = request("2026-06-02T10:00:00Z", "1h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-01T10:00:00Z",
        &req,
        1,
        3650,
    );
    assert!(answer.windows.is_empty());
    assert!(answer.confirmation_limit_reached);
    assert_eq!(answer.confirmations, MAX_CONFIRMATIONS);
    assert!(
        answer.note.as_deref().unwrap().contains("stopped after"),
        "{:?}",
        answer.note
    );
    // The checked starts are reported blocked, and the report ends where the search stopped.
    assert_eq!(answer.blocked.len(), 1);
    assert_eq!(answer.blocked[0].rules, [RuleId::from("never")]);
    assert_eq!(
        answer.blocked[0].until.to_rfc3339(),
        "2026-06-01T13:20:00+00:00"
    );
}

#[test]
fn a_script_that_always_denies_is_known_to_deny_every_start() {
    // A denial that reads nothing about the start holds for every start: one check answers.
    let p = utc_bundle("deny(\"never\", \"not today\");");
    let req = request("2026-06-02T10:00:00Z", "1h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-01T10:00:00Z",
        &req,
        1,
        3650,
    );
    assert!(answer.windows.is_empty());
    assert!(!answer.confirmation_limit_reached);
    assert_eq!(answer.confirmations, 1);
    assert_eq!(answer.blocked[0].rules, [RuleId::from("never")]);
    let note = answer.note.as_deref().unwrap();
    assert!(note.contains("blocked by never"), "{note}");
    // A denial by the hour holds to the next hour: five days take 120 checks, not 7 200.
    let hourly = utc_bundle("if request.start.hour >= 0 { deny(\"never\", \"not this hour\"); }");
    let answer = windows(
        &hourly,
        &Calendar::default(),
        "2026-06-01T10:00:00Z",
        &req,
        1,
        5,
    );
    assert!(!answer.confirmation_limit_reached);
    assert_eq!(answer.confirmations, 120);
}

#[test]
fn advance_notice_counts_from_requested_at_or_now() {
    let p = PolicySet::builtin().unwrap();
    let mut req = request("2026-06-02T10:00:00+02:00", "1h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-01T10:00:00+02:00",
        &req,
        1,
        30,
    );
    assert_eq!(
        answer.windows[0].start.to_rfc3339(),
        "2026-06-02T10:00:00+02:00"
    );
    req.requested_at = Some(DateTime::parse_from_rfc3339("2026-06-01T12:30:00+02:00").unwrap());
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-01T10:00:00+02:00",
        &req,
        1,
        30,
    );
    assert_eq!(
        answer.windows[0].start.to_rfc3339(),
        "2026-06-02T12:30:00+02:00"
    );
    // Outside the preferred weeknight window: reported, not blocking.
    assert_eq!(
        answer.windows[0].warnings[0].rule.as_str(),
        "preferred_window"
    );
}

#[test]
fn recurrence_forms_block_next_windows() {
    let p = forms();
    // Friday 30 January 2026 12:00: free until the weekend freeze at 16:00 (the month-end
    // window at 18:00 is inside it), then Monday 06:00.
    let req = request("2026-01-30T12:00:00+01:00", "3h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-01-30T12:00:00+01:00",
        &req,
        2,
        14,
    );
    let starts: Vec<String> = answer
        .windows
        .iter()
        .map(|w| w.start.to_rfc3339())
        .collect();
    assert_eq!(
        starts,
        ["2026-01-30T12:00:00+01:00", "2026-02-02T06:00:00+01:00"]
    );
    // Unity day (all day Saturday 3 October 2026 is inside the weekend anyway); Friday 2 October
    // 14:00 with 3h would run into the freeze at 16:00.
    let req = request("2026-10-02T14:00:00+02:00", "3h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-10-02T14:00:00+02:00",
        &req,
        1,
        14,
    );
    assert_eq!(
        answer.windows[0].start.to_rfc3339(),
        "2026-10-05T06:00:00+02:00"
    );
}

#[test]
fn the_answer_serializes_to_the_documented_json() {
    let p = PolicySet::builtin().unwrap();
    let req = request("2026-06-02T10:00:00+02:00", "1h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-05T10:00:00+02:00",
        &req,
        2,
        30,
    );
    let json = serde_json::to_value(&answer).unwrap();
    assert!(json["windows"][0]["start"].is_string());
    assert!(json["windows"][0]["end"].is_string());
    assert!(json["blocked"][0]["from"].is_string());
    assert!(json["blocked"][0]["until"].is_string());
    assert!(json["blocked"][0]["rules"].is_array());
    assert_eq!(json["windows"].as_array().unwrap().len(), 2);
}

#[test]
fn ics_timed_events_follow_the_one_rule_in_gaps_and_folds() {
    let p = bundle(&[
        (
            "policy.yaml",
            "timezone: Europe/Berlin\nenvironments:\n  production:\n    blackouts:\n      - name: events\n        ics: events.ics\n",
        ),
        (
            "events.ics",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Europe/Berlin:20260329T023000\nDURATION:PT1H\nEND:VEVENT\nBEGIN:VEVENT\nDTSTART;TZID=Europe/Berlin:20261025T023000\nDURATION:PT1H\nEND:VEVENT\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260329\nEND:VEVENT\nEND:VCALENDAR\n",
        ),
    ]);
    let occ = occurrences(&p, "events", "2026-03-28T12:00:00Z", 3);
    assert_eq!(
        occ,
        [
            // All day on the day of the gap: 23 hours.
            (
                "2026-03-29T00:00:00+01:00".into(),
                "2026-03-30T00:00:00+02:00".into()
            ),
            // 02:30 does not exist: 03:30 CEST, then one elapsed hour.
            (
                "2026-03-29T03:30:00+02:00".into(),
                "2026-03-29T04:30:00+02:00".into()
            ),
            // 02:30 exists twice: the earlier, then one elapsed hour.
            (
                "2026-10-25T02:30:00+02:00".into(),
                "2026-10-25T02:30:00+01:00".into()
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Scripts that deny by time of day.

const BUSINESS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/cases/bundles/business-hours"
);
const BUSINESS_HINTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/cases/bundles/business-hours-hinted"
);

#[test]
fn a_business_hours_script_gives_the_windows_check_allows() {
    for dir in [BUSINESS, BUSINESS_HINTED] {
        let p = PolicySet::load(dir).unwrap();
        // Thursday 3 December 2026, 08:30 in Berlin; a 2-hour change.
        let req = request("2026-12-03T10:00:00+01:00", "2h");
        let now = "2026-12-03T08:30:00+01:00";
        assert!(
            p.check_schedule(&req, &Calendar::default(), utc(now))
                .allowed
        );
        let answer = windows(&p, &Calendar::default(), now, &req, 3, 14);
        let got: Vec<(String, String)> = answer
            .windows
            .iter()
            .map(|w| (w.start.to_rfc3339(), w.latest_start.to_rfc3339()))
            .collect();
        // Notice moves the first start to 09:30; each weekday is open until 14:00 (over by
        // 16:00); the weekend is skipped.
        assert_eq!(
            got,
            [
                (
                    "2026-12-03T09:30:00+01:00".to_owned(),
                    "2026-12-03T14:00:00+01:00".to_owned()
                ),
                (
                    "2026-12-04T09:00:00+01:00".to_owned(),
                    "2026-12-04T14:00:00+01:00".to_owned()
                ),
                (
                    "2026-12-07T09:00:00+01:00".to_owned(),
                    "2026-12-07T14:00:00+01:00".to_owned()
                ),
            ],
            "{dir}"
        );
        assert_eq!(
            answer.windows[0].end.to_rfc3339(),
            "2026-12-03T16:00:00+01:00"
        );
        // The nights and the weekend are reported blocked by the script, from each window's
        // latest start (which itself is allowed) to the next opening.
        let night = answer
            .blocked
            .iter()
            .find(|b| b.from.to_rfc3339() == "2026-12-03T14:00:00+01:00")
            .unwrap();
        assert_eq!(night.rules, [RuleId::from("business_hours")]);
        assert_eq!(night.until.to_rfc3339(), "2026-12-04T09:00:00+01:00");
        assert!(answer.note.is_none(), "{:?}", answer.note);
    }
}

#[test]
fn a_retry_at_hint_saves_checks() {
    let req = request("2026-12-04T17:00:00+01:00", "2h");
    // Friday 15:00: the next opening is Monday 09:00.
    let now = "2026-12-04T15:00:00+01:00";
    let plain = windows(
        &PolicySet::load(BUSINESS).unwrap(),
        &Calendar::default(),
        now,
        &req,
        1,
        14,
    );
    let hinted = windows(
        &PolicySet::load(BUSINESS_HINTED).unwrap(),
        &Calendar::default(),
        now,
        &req,
        1,
        14,
    );
    for answer in [&plain, &hinted] {
        assert_eq!(
            answer.windows[0].start.to_rfc3339(),
            "2026-12-07T09:00:00+01:00"
        );
        assert_eq!(
            answer.blocked.last().unwrap().rules,
            [RuleId::from("business_hours")]
        );
    }
    // Without the hint the search steps by the hour the script read (and by the minute near
    // 16:00, where it read the end's minute); with it, by the script's retry_at.
    assert!(
        hinted.confirmations * 4 < plain.confirmations,
        "{} vs {}",
        hinted.confirmations,
        plain.confirmations
    );
    assert!(hinted.confirmations <= 6, "{}", hinted.confirmations);
}

// ---------------------------------------------------------------------------------------------
// Extreme arguments: an answer, never a panic.

#[test]
fn extreme_horizons_and_instants_give_a_clamped_answer() {
    let p = PolicySet::builtin().unwrap();
    let req = request("2026-06-02T10:00:00+02:00", "1h");
    let now = utc("2026-06-01T10:00:00+02:00");
    // A horizon beyond chrono's range is cut to MAX_HORIZON_DAYS.
    let answer = p.next_windows(&req, &Calendar::default(), now, 1, TimeDelta::MAX);
    assert_eq!(answer.windows.len(), 1);
    assert_eq!(
        (answer.searched.until - answer.searched.from).num_days(),
        MAX_HORIZON_DAYS
    );
    // A negative horizon is empty.
    let answer = p.next_windows(&req, &Calendar::default(), now, 1, TimeDelta::MIN);
    assert!(answer.windows.is_empty());
    assert_eq!(answer.note.as_deref(), Some("the horizon is empty"));
    // At the last instant chrono knows: nothing fits, nothing panics.
    let end = DateTime::<Utc>::MAX_UTC;
    let answer = p.next_windows(&req, &Calendar::default(), end, 3, TimeDelta::days(30));
    assert!(answer.windows.is_empty());
    let preview = p.preview(end, 3);
    assert!(preview.iter().all(|w| w.occurrences.len() <= 3));
    let preview = p.preview(DateTime::<Utc>::MIN_UTC, 1);
    assert!(!preview.is_empty());
    // A request lasting as long as chrono allows is denied, not a panic.
    let mut long = req.clone();
    long.duration = TimeDelta::MAX;
    assert!(!p.check_schedule(&long, &Calendar::default(), now).allowed);
    let answer = p.next_windows(&long, &Calendar::default(), now, 1, TimeDelta::days(7));
    assert!(answer.windows.is_empty());
}

#[test]
fn a_pending_finding_blocks_like_a_denial_and_is_reported() {
    // Not allowed before noon: pending (more evidence could settle it), which the search treats
    // as not allowed, with the script's reason in `blocked`.
    let p = utc_bundle(
        "if request.start.hour < 12 { pending(\"approval\", \"waiting for approval until noon\"); }",
    );
    let req = request("2026-06-02T10:00:00Z", "1h");
    let answer = windows(&p, &Calendar::default(), "2026-06-01T08:00:00Z", &req, 1, 2);
    assert_eq!(
        answer.windows[0].start.to_rfc3339(),
        "2026-06-01T12:00:00+00:00"
    );
    assert_eq!(answer.blocked[0].rules, [RuleId::from("approval")]);
    assert_eq!(
        answer.blocked[0].reasons,
        ["waiting for approval until noon"]
    );
    // The hour read makes the search step by the hour: 08:00 to 11:00 denied, noon allowed,
    // then the window is confirmed hour by hour (13:00 to midnight, where it is pending again).
    assert_eq!(answer.confirmations, 4 + 1 + 12);
    assert_eq!(
        answer.windows[0].latest_start.to_rfc3339(),
        "2026-06-01T23:59:00+00:00"
    );
}

fn one_blackout(yaml: &str) -> PolicySet {
    bundle(&[(
        "policy.yaml",
        &format!(
            "timezone: UTC\nenvironments:\n  production:\n    blackouts:\n      - name: b\n        {yaml}\n"
        ),
    )])
}

#[test]
fn an_hourly_rule_from_1900_still_applies_today() {
    // Expanded from its start, 1 000 000 hourly occurrences end in 2014: the rule used to stop.
    let p =
        one_blackout("rrule: {rule: \"FREQ=HOURLY\", start: \"1900-01-01T00:00\", duration: 30m}");
    assert!(!allowed(&p, "2026-06-01T10:10:00Z", "10m"));
    assert!(allowed(&p, "2026-06-01T10:40:00Z", "10m"));
    let occ = occurrences(&p, "b", "2026-06-01T10:40:00Z", 2);
    assert_eq!(
        occ,
        vec![
            (
                "2026-06-01T11:00:00+00:00".into(),
                "2026-06-01T11:30:00+00:00".into()
            ),
            (
                "2026-06-01T12:00:00+00:00".into(),
                "2026-06-01T12:30:00+00:00".into()
            ),
        ]
    );
}

#[test]
fn an_hourly_rule_with_every_minute_still_applies_in_2030() {
    let minutes: Vec<String> = (0..60).map(|m| m.to_string()).collect();
    let p = one_blackout(&format!(
        "rrule: {{rule: \"FREQ=HOURLY;BYMINUTE={}\", start: \"2026-01-01T00:00\", duration: 1m}}",
        minutes.join(",")
    ));
    assert!(!allowed(&p, "2027-12-31T10:00:00Z", "5m"));
    assert!(!allowed(&p, "2030-06-01T10:00:00Z", "5m"));
    assert_eq!(occurrences(&p, "b", "2030-06-01T10:00:30Z", 1).len(), 1);
}

#[test]
fn a_rule_that_cannot_be_expanded_that_far_fails_closed() {
    // Monthly rules are expanded from their start: 1 440 occurrences a month from 1950 reach
    // the expansion limit around 2008. Past it the blackout blocks (and preview shows it).
    let minutes: Vec<String> = (0..60).map(|m| m.to_string()).collect();
    let hours: Vec<String> = (0..24).map(|m| m.to_string()).collect();
    let p = one_blackout(&format!(
        "rrule: {{rule: \"FREQ=MONTHLY;BYHOUR={};BYMINUTE={}\", start: \"1950-01-01T00:00\", duration: 30s}}",
        hours.join(","),
        minutes.join(",")
    ));
    assert!(!allowed(&p, "2026-06-15T10:00:00Z", "5m"));
    assert!(!occurrences(&p, "b", "2026-06-15T10:00:00Z", 1).is_empty());
}

#[test]
fn an_every_minute_cron_blackout_against_a_request_of_years_is_bounded() {
    let p = one_blackout("cron: {start: \"* * * * *\", end: \"* * * * *\"}");
    // Five years: 2.6 million one-minute periods, answered without enumerating them all.
    assert!(!allowed(&p, "2026-06-01T10:00:00Z", "43800h"));
    // Every minute from 09:00 to 09:59 until 10:00 (GitLab: start to the first end after it).
    let q = one_blackout("cron: {start: \"* 9 * * *\", end: \"0 10 * * *\"}");
    assert!(!allowed(&q, "2026-06-02T10:00:00Z", "26280h"));
    assert!(allowed(&q, "2026-06-02T10:00:00Z", "23h"));
}

#[test]
fn a_failing_script_stops_the_search_at_once_and_says_so() {
    // A script that never ends fails closed at every start; the search reports the failure at
    // the first one instead of paying the script's whole budget at every candidate.
    let p = utc_bundle("let i = 0; loop { i += 1; }");
    let req = request("2026-06-02T10:00:00Z", "1h");
    let answer = windows(
        &p,
        &Calendar::default(),
        "2026-06-01T10:00:00Z",
        &req,
        3,
        90,
    );
    assert!(answer.windows.is_empty());
    assert_eq!(answer.confirmations, 1);
    assert_eq!(answer.blocked.len(), 1);
    assert_eq!(answer.blocked[0].rules, [RuleId::from("policy_error")]);
    let note = answer.note.as_deref().unwrap();
    assert!(
        note.starts_with("stopped at 2026-06-01T10:00:00+00:00: a policy script failed there"),
        "{note}"
    );
    assert!(note.contains("never.rhai"), "{note}");
}
