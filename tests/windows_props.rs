//! `next_windows` against a brute-force minute scan of `check_schedule`, for random calendars,
//! random bundles (built-in rules plus scripts that deny by hour, weekday, minute, label,
//! calendar query or comparison, with and without a `retry_at` hint) and random requests:
//!
//! 1. every window's start is allowed by `check_schedule`;
//! 2. every start in a window's `[start, latest_start]` is allowed;
//! 3. every start reported blocked (by a rule, not `horizon` or `unchecked`) is denied, but the
//!    `from` of a stretch that follows a window (that window's `latest_start`, documented);
//! 4. the first window is the earliest allowed start of the horizon, at minute resolution.
//!
//! Because the search works on the rules' set forms and the scan on their point checks, this is
//! also the test that the two forms of every built-in rule agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use changegate::{Calendar, ChangeRequest, NextWindows, PolicySet};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

const ZONES: [&str; 4] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
];

/// The start of every generated scenario: Friday 23 October 2026, two days before Berlin
/// leaves summer time (so searches cross a DST change in some zones).
fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-10-23T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

const HORIZON_MINUTES: i64 = 36 * 60;

/// The scripts a bundle may hold, each denying by a different kind of input.
fn script(kind: u8, a: u32, b: u32) -> (String, String) {
    let (name, body) = match kind {
        // Business hours by the hour of start and end.
        0 => (
            "hours",
            format!(
                "if request.start.hour < {a} || request.end.hour > {b} || (request.end.hour == {b} && request.end.minute > 0) {{ deny(\"hours\", \"outside hours\"); }}",
                a = a % 12,
                b = 12 + b % 12
            ),
        ),
        // A weekday.
        1 => (
            "weekday",
            format!(
                "if request.start.weekday == {} {{ deny(\"weekday\", \"not today\"); }}",
                1 + a % 7
            ),
        ),
        // Minutes past the hour.
        2 => (
            "minutes",
            format!(
                "if request.start.minute % 30 < {} {{ deny(\"minutes\", \"not at this minute\"); }}",
                1 + a % 20
            ),
        ),
        // A label, at one hour of the day.
        3 => (
            "label",
            format!(
                "if request.label(\"team\") == \"red\" && request.start.hour == {} {{ deny(\"label\", \"red team not now\"); }}",
                a % 24
            ),
        ),
        // A calendar query.
        4 => (
            "team",
            "if overlapping_with_same_label(\"team\").len() > 0 { deny(\"team\", \"team busy\"); }"
                .to_owned(),
        ),
        // A comparison with a fixed instant.
        5 => (
            "compare",
            format!(
                "if request.start < now().add_minutes({}) {{ deny(\"compare\", \"too soon\"); }}",
                a % 900
            ),
        ),
        // Hours of the day with exact boundaries, optionally with a hint.
        7 | 8 => (
            "within",
            format!(
                "if !request.within_hours(\"{:02}:{:02}\", \"{}\") {{ deny(\"within\", \"outside hours\"{}); }}",
                a % 12,
                15 * (b % 4),
                if b % 3 == 0 {
                    "24:00".to_owned()
                } else {
                    format!("{:02}:30", 12 + a % 12)
                },
                if kind == 8 {
                    format!(
                        ", #{{retry_at: request.start.next_local_time({}, {})}}",
                        a % 12,
                        15 * (b % 4)
                    )
                } else {
                    String::new()
                }
            ),
        ),
        // Business hours with a hint: deny with `retry_at` the next opening.
        _ => (
            "hinted",
            format!(
                "let s = request.start; if s.hour < {a} {{ deny(\"hinted\", \"before opening\", #{{retry_at: s.next_local_time({a}, 0)}}); }} else if s.hour >= {b} {{ deny(\"hinted\", \"after closing\", #{{retry_at: s.next_local_time({a}, 0)}}); }}",
                a = 6 + a % 6,
                b = 14 + b % 8
            ),
        ),
    };
    (
        format!("{name}.rhai"),
        format!("fn schedule(request) {{\n    {body}\n}}\n"),
    )
}

#[derive(Debug, Clone)]
struct Scenario {
    zone: usize,
    notice_h: Option<u32>,
    blackout: Option<(u32, u32, u32)>,
    conflicts: bool,
    concurrency: Option<u32>,
    scripts: Vec<(u8, u32, u32)>,
    deployments: Vec<(u32, u32, u8, bool)>,
    request: (u8, u32, bool),
    now_min: u32,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        0..ZONES.len(),
        proptest::option::of(1u32..30),
        proptest::option::of((0u32..7, 0u32..24, 1u32..12)),
        any::<bool>(),
        proptest::option::of(1u32..3),
        proptest::collection::vec((0u8..9, 0u32..1000, 0u32..1000), 0..3),
        proptest::collection::vec((0u32..(36 * 4), 1u32..8, 0u8..3, any::<bool>()), 0..8),
        (0u8..3, 1u32..12, any::<bool>()),
        0u32..600,
    )
        .prop_map(
            |(
                zone,
                notice_h,
                blackout,
                conflicts,
                concurrency,
                scripts,
                deployments,
                request,
                now_min,
            )| Scenario {
                zone,
                notice_h,
                blackout,
                conflicts,
                concurrency,
                scripts,
                deployments,
                request,
                now_min,
            },
        )
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SERVICES: [&str; 3] = ["api", "web", "db"];

fn policy(s: &Scenario) -> PolicySet {
    let mut yaml = format!(
        "timezone: {}\nenvironments:\n  production:\n",
        ZONES[s.zone]
    );
    if let Some(h) = s.notice_h {
        yaml += &format!("    advance_notice: {{min: {h}h}}\n");
    }
    if let Some((day, hour, len)) = s.blackout {
        let end_hour = (hour + len) % 24;
        let end_day = (day + u32::from(hour + len >= 24)) % 7;
        yaml += &format!(
            "    blackouts:\n      - name: freeze\n        weekly: {{from: \"{} {hour:02}:00\", to: \"{} {end_hour:02}:30\"}}\n",
            DAYS[day as usize], DAYS[end_day as usize]
        );
    }
    if s.conflicts {
        yaml += "    conflicts: {}\n";
    }
    if let Some(max) = s.concurrency {
        yaml += &format!("    concurrency: {{max: {max}}}\n");
    }
    yaml += "    dependencies: {}\n";
    let mut files = vec![("policy.yaml".to_owned(), yaml)];
    for (kind, a, b) in &s.scripts {
        let (name, text) = script(*kind, *a, *b);
        if !files.iter().any(|(n, _)| *n == name) {
            files.push((name, text));
        }
    }
    PolicySet::from_sources("prop", files).unwrap()
}

fn calendar(s: &Scenario) -> Calendar {
    let deployments = s
        .deployments
        .iter()
        .enumerate()
        .map(|(i, (quarter, len, svc, red))| {
            let start = base() + TimeDelta::minutes(i64::from(*quarter) * 15);
            let mut d = ChangeRequest::new(
                format!("dep-{i}"),
                [SERVICES[*svc as usize]],
                "production",
                "feature",
                start.fixed_offset(),
                TimeDelta::minutes(i64::from(*len) * 15),
            );
            d.labels
                .insert("team".into(), (if *red { "red" } else { "blue" }).into());
            d
        })
        .collect();
    Calendar::new(deployments, Vec::new()).unwrap()
}

fn request(s: &Scenario) -> ChangeRequest {
    let (svc, quarters, red) = s.request;
    let mut r = ChangeRequest::new(
        "dep-new",
        [SERVICES[svc as usize]],
        "production",
        "feature",
        base().fixed_offset(),
        TimeDelta::minutes(i64::from(quarters) * 15),
    );
    if red {
        r.labels.insert("team".into(), "red".into());
    }
    r
}

fn allowed_at(
    p: &PolicySet,
    r: &ChangeRequest,
    cal: &Calendar,
    now: DateTime<Utc>,
    s: DateTime<Utc>,
) -> bool {
    let mut moved = r.clone();
    moved.start = s.fixed_offset();
    p.check_schedule(&moved, cal, now).allowed
}

fn minutes(from: DateTime<Utc>, until: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
    let n = (until - from).num_minutes();
    (0..n).map(move |i| from + TimeDelta::minutes(i))
}

fn check_agreement(s: &Scenario) -> Result<(), TestCaseError> {
    let p = policy(s);
    let cal = calendar(s);
    let r = request(s);
    let now = base() + TimeDelta::minutes(i64::from(s.now_min));
    let answer: NextWindows = p.next_windows(&r, &cal, now, 3, TimeDelta::minutes(HORIZON_MINUTES));
    let utc = |t: DateTime<chrono::FixedOffset>| t.with_timezone(&Utc);
    let ok = |t: DateTime<Utc>| allowed_at(&p, &r, &cal, now, t);
    for w in &answer.windows {
        prop_assert!(ok(utc(w.start)), "window start {} denied", w.start);
        for t in minutes(utc(w.start), utc(w.latest_start) + TimeDelta::minutes(1)) {
            prop_assert!(
                ok(t),
                "{t} inside window {}..{} denied",
                w.start,
                w.latest_start
            );
        }
    }
    let latest_starts: Vec<DateTime<Utc>> =
        answer.windows.iter().map(|w| utc(w.latest_start)).collect();
    for b in &answer.blocked {
        if b.rules
            .iter()
            .all(|r| r.as_str() == "horizon" || r.as_str() == "unchecked")
        {
            continue;
        }
        for t in minutes(utc(b.from), utc(b.until)) {
            if t == utc(b.from) && latest_starts.contains(&t) {
                continue;
            }
            prop_assert!(!ok(t), "{t} reported blocked by {:?} is allowed", b.rules);
        }
    }
    if answer.confirmation_limit_reached {
        return Ok(());
    }
    let t0 = utc(answer.searched.from);
    let h = utc(answer.searched.until);
    let d = r.duration;
    let first = minutes(t0, h).find(|t| *t + d <= h && ok(*t));
    prop_assert_eq!(
        answer.windows.first().map(|w| utc(w.start)),
        first,
        "first window differs from the scan; blocked: {:?}",
        answer.blocked
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn next_windows_agrees_with_a_minute_scan(s in scenario()) {
        check_agreement(&s)?;
    }
}
