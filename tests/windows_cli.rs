//! `changegate windows`, `changegate preview` and `changegate check --suggest`, run as the real
//! binary on files in tests/windows/.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/windows");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn file(name: &str) -> String {
    format!("{DIR}/{name}")
}

#[test]
fn windows_text_lists_windows_and_what_blocks_between() {
    let (code, out, err) = run(&[
        "windows",
        "--request",
        &file("cli/request.yaml"),
        "--calendar",
        &file("cli/calendar.yaml"),
        "--now",
        "2026-12-04T12:00:00+01:00",
        "--count",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    // Friday 12:00; notice (24h from requested_at, already given) is fine; 2h fits before the
    // weekend freeze at 16:00; then Monday: `dep-1` runs 06:00-09:00, the incident 10:00-11:00.
    // Blocked stretches are start times: a 2h deployment starting 04:00 would run into `dep-1`.
    let expected = "\
dep-7 (search in production, 2h): searched 2026-12-04T12:00:00+01:00 .. 2027-03-04T12:00:00+01:00
window 1: start 2026-12-04T12:00:00+01:00 (free until 2026-12-04T16:00:00+01:00, latest start 2026-12-04T14:00:00+01:00)
  warn preferred_window: runs outside the preferred window: `weeknights` (Mon,Tue,Wed,Thu 22:00 - 06:00 next day Europe/Berlin)
window 2: start 2026-12-07T11:00:00+01:00 (free until 2026-12-11T16:00:00+01:00, latest start 2026-12-11T14:00:00+01:00)
  warn preferred_window: runs outside the preferred window: `weeknights` (Mon,Tue,Wed,Thu 22:00 - 06:00 next day Europe/Berlin)
blocked 2026-12-04T14:00:00+01:00 .. 2026-12-07T04:00:00+01:00 [blackout]: blackout `weekend-freeze` (Fri 16:00 - Mon 06:00 Europe/Berlin)
blocked 2026-12-07T04:00:00+01:00 .. 2026-12-07T06:00:00+01:00 [blackout, conflict]: blackout `weekend-freeze` (Fri 16:00 - Mon 06:00 Europe/Berlin); `search` is busy with `dep-1`
blocked 2026-12-07T06:00:00+01:00 .. 2026-12-07T08:00:00+01:00 [conflict]: `search` is busy with `dep-1`
blocked 2026-12-07T08:00:00+01:00 .. 2026-12-07T09:00:00+01:00 [blackout, conflict]: blackout `incident-42` (2026-12-07T10:00:00+01:00 - 2026-12-07T11:00:00+01:00); `search` is busy with `dep-1`
blocked 2026-12-07T09:00:00+01:00 .. 2026-12-07T11:00:00+01:00 [blackout]: blackout `incident-42` (2026-12-07T10:00:00+01:00 - 2026-12-07T11:00:00+01:00)
checks run: 2
";
    assert_eq!(out, expected);
}

#[test]
fn windows_json_has_windows_and_blocked() {
    let (code, out, _) = run(&[
        "windows",
        "--request",
        &file("cli/request.yaml"),
        "--calendar",
        &file("cli/calendar.yaml"),
        "--now",
        "2026-12-04T12:00:00+01:00",
        "--count",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["windows"][0]["start"], "2026-12-04T12:00:00+01:00");
    assert_eq!(json["windows"][0]["end"], "2026-12-04T16:00:00+01:00");
    assert!(json["blocked"].as_array().unwrap().is_empty());
    assert_eq!(json["confirmation_limit_reached"], false);
}

#[test]
fn windows_exit_1_with_reasons_when_never_allowed_and_2_on_bad_input() {
    let (code, out, _) = run(&[
        "windows",
        "--request",
        &file("cli/too-long.yaml"),
        "--now",
        "2026-12-04T12:00:00+01:00",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("[max_duration]"), "{out}");
    assert!(
        out.contains("note: never allowed: max_duration: lasts 10h"),
        "{out}"
    );

    let (code, _, err) = run(&[
        "windows",
        "--request",
        &file("cli/request.yaml"),
        "--horizon",
        "soon",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("error: --horizon: invalid duration `soon`"),
        "{err}"
    );
}

#[test]
fn preview_marks_occurrences_a_dst_change_split_or_moved() {
    let (code, out, err) = run(&["preview", "--from", "2026-03-20T00:00:00Z", "--count", "3"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("production blackout `weekend-freeze`: Fri 16:00 - Mon 06:00 Europe/Berlin"),
        "{out}"
    );
    assert!(
        out.contains("  Fri 2026-03-27 16:00 +01:00 .. Mon 2026-03-30 06:00 +02:00  (UTC 2026-03-27 15:00 .. 2026-03-30 04:00)  [DST change inside]"),
        "{out}"
    );
    assert!(
        out.contains("  Fri 2026-04-03 16:00 +02:00 .. Mon 2026-04-06 06:00 +02:00  (UTC 2026-04-03 14:00 .. 2026-04-06 04:00)  [DST moved it]"),
        "{out}"
    );

    let (code, out, _) = run(&[
        "preview",
        "--policy",
        &file("forms"),
        "--from",
        "2026-01-01T00:00:00Z",
        "--count",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let month_end = json["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "month-end")
        .unwrap();
    assert_eq!(
        month_end["occurrences"][0]["start"],
        "2026-01-30T18:00:00+01:00"
    );
    assert_eq!(
        month_end["occurrences"][0]["start_utc"],
        "2026-01-30T17:00:00Z"
    );
}

#[test]
fn check_suggest_adds_the_next_allowed_start() {
    let args = [
        "check",
        "--request",
        &file("cli/request.yaml"),
        "--calendar",
        &file("cli/calendar.yaml"),
        "--now",
        "2026-12-04T12:00:00+01:00",
    ];
    // Without --suggest: the plain decision, no suggestion.
    let (code, out, _) = run(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(json.get("suggestion").is_none());

    let (code, out, _) = run(&[&args[..], &["--suggest"]].concat());
    assert_eq!(code, 1);
    assert!(
        out.ends_with(
            "next allowed start: 2026-12-04T12:00:00+01:00 (free until 2026-12-04T16:00:00+01:00)\n"
        ),
        "{out}"
    );

    let (code, out, _) = run(&[&args[..], &["--suggest", "--format", "json"]].concat());
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["allowed"], false);
    assert_eq!(json["suggestion"]["start"], "2026-12-04T12:00:00+01:00");
}
