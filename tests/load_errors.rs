#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Errors a policy author or a pipeline sees: a `policy.yaml` that breaks the schema, a script
//! that does not compile, a request or calendar that cannot be read. Each must name the file,
//! the line and column, and the field.

use changegate::{Calendar, ChangeRequest, InputError, LoadError, LoadErrorKind, PolicySet};

// ---------------------------------------------------------------------------------------------
// policy.yaml

fn policy_error(text: &str) -> LoadError {
    match PolicySet::from_sources("bundle", [("policy.yaml".to_owned(), text.to_owned())]) {
        Ok(_) => panic!("the policy loaded, expected an error:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts kind, `line:column` and field of a policy error; returns its message.
#[track_caller]
fn assert_policy_error(
    text: &str,
    line: usize,
    column: Option<usize>,
    field: &str,
    message_contains: &[&str],
) {
    let err = policy_error(text);
    assert_eq!(err.kind, LoadErrorKind::Config, "{err}");
    assert_eq!(err.location.file, "bundle/policy.yaml", "{err}");
    assert_eq!(err.location.line, Some(line), "line of: {err}\n{text}");
    if let Some(column) = column {
        assert_eq!(
            err.location.column,
            Some(column),
            "column of: {err}\n{text}"
        );
    }
    assert_eq!(err.field.as_deref(), Some(field), "field of: {err}");
    for part in message_contains {
        assert!(
            err.message.contains(part),
            "{err:?} should mention {part:?}"
        );
    }
    // The display form is what the CLI prints: `file:line:col: message`.
    assert!(
        err.to_string()
            .starts_with(&format!("bundle/policy.yaml:{line}")),
        "{err}"
    );
}

const HEAD: &str = "timezone: Europe/Berlin\nenvironments:\n  production:\n";

#[test]
fn unknown_key_is_named_with_its_line() {
    let text = "timezone: Europe/Berlin
environments:
  production:
    advance_notice:
      min: 24h
    max_duraton:
      max: 8h
";
    assert_policy_error(
        text,
        6,
        Some(5),
        "environments.production.max_duraton",
        &["unknown field `max_duraton`", "`max_duration`"],
    );
}

#[test]
fn unknown_top_level_key() {
    let text = "timezone: Europe/Berlin\ntimzone: UTC\nenvironments: {}\n";
    assert_policy_error(text, 2, Some(1), "timzone", &["unknown field `timzone`"]);
}

#[test]
fn missing_timezone() {
    let err = policy_error("environments: {}\n");
    assert_eq!(err.kind, LoadErrorKind::Config);
    assert_eq!(err.field.as_deref(), Some("timezone"), "{err}");
    assert!(err.message.contains("missing field `timezone`"), "{err}");
}

#[test]
fn bad_zone_name() {
    let text = "# comment\ntimezone: Europe/Berln\nenvironments: {}\n";
    assert_policy_error(
        text,
        2,
        Some(1),
        "timezone",
        &["unknown time zone `Europe/Berln`", "IANA"],
    );
}

#[test]
fn bad_zone_name_on_a_window() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: w
        timezone: Mars/Olympus
        weekly: {{from: \"fri 16:00\", to: \"mon 06:00\"}}
"
    );
    assert_policy_error(
        &text,
        6,
        Some(9),
        "environments.production.blackouts[0].timezone",
        &["`Mars/Olympus`"],
    );
}

#[test]
fn bad_time_25_00_block_style() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: w
        weekly:
          from: \"fri 16:00\"
          to: \"mon 25:00\"
"
    );
    assert_policy_error(
        &text,
        8,
        Some(11),
        "environments.production.blackouts[0].weekly.to",
        &["invalid local time `25:00`"],
    );
}

#[test]
fn bad_time_25_00_flow_style_points_at_the_mapping() {
    // The default bundle writes windows flow-style; the error still has a line.
    let text = format!(
        "{HEAD}    blackouts:
      - name: w
        weekly: {{from: \"fri 25:00\", to: \"mon 06:00\"}}
"
    );
    assert_policy_error(
        &text,
        6,
        Some(9),
        "environments.production.blackouts[0].weekly.from",
        &["invalid local time `25:00`"],
    );
}

#[test]
fn bad_time_in_days_form() {
    let text = format!(
        "{HEAD}    preferred_window:
      windows:
        - name: nights
          weekly:
            days: [mon]
            from: \"22:00\"
            to: \"24:00\"
"
    );
    assert_policy_error(
        &text,
        10,
        Some(13),
        "environments.production.preferred_window.windows[0].weekly.to",
        &["invalid local time `24:00`"],
    );
}

#[test]
fn bad_weekday() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: w
        weekly:
          from: \"fre 16:00\"
          to: \"mon 06:00\"
"
    );
    assert_policy_error(
        &text,
        7,
        Some(11),
        "environments.production.blackouts[0].weekly.from",
        &["invalid weekday `fre`", "`fri`"],
    );
}

#[test]
fn bad_weekday_in_days_list() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: w
        weekly:
          days: [mon, funday]
          from: \"22:00\"
          to: \"06:00\"
"
    );
    assert_policy_error(
        &text,
        7,
        None,
        "environments.production.blackouts[0].weekly.days[1]",
        &["invalid weekday `funday`"],
    );
}

#[test]
fn window_with_two_forms() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: ok
        weekly: {{from: \"fri 16:00\", to: \"mon 06:00\"}}
      - name: both
        weekly: {{from: \"fri 16:00\", to: \"mon 06:00\"}}
        yearly: {{from: \"12-20 00:00\", to: \"01-03 00:00\"}}
"
    );
    assert_policy_error(
        &text,
        7,
        Some(7),
        "environments.production.blackouts[1]",
        &["window `both` needs exactly one of", "`weekly`", "`yearly`"],
    );
}

#[test]
fn window_with_no_form() {
    let text = format!("{HEAD}    blackouts:\n      - name: none\n");
    assert_policy_error(
        &text,
        5,
        Some(7),
        "environments.production.blackouts[0]",
        &["window `none` needs exactly one of"],
    );
}

#[test]
fn yearly_february_30() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: y
        yearly:
          from: \"02-30 00:00\"
          to: \"03-01 00:00\"
"
    );
    assert_policy_error(
        &text,
        7,
        Some(11),
        "environments.production.blackouts[0].yearly.from",
        &["invalid yearly time `02-30 00:00`"],
    );
}

#[test]
fn yearly_february_29_is_accepted() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: leap
        yearly: {{from: \"02-29 00:00\", to: \"03-01 00:00\"}}
"
    );
    PolicySet::from_sources("bundle", [("policy.yaml".to_owned(), text)]).unwrap();
}

#[test]
fn once_window_ending_before_it_starts() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: o
        once:
          from: 2026-12-24T00:00
          to: 2026-12-23T00:00
"
    );
    assert_policy_error(
        &text,
        8,
        Some(11),
        "environments.production.blackouts[0].once.to",
        &["`2026-12-23T00:00`", "not after it starts"],
    );
}

#[test]
fn once_window_ending_where_it_starts() {
    let text = format!(
        "{HEAD}    blackouts:
      - name: o
        once: {{from: \"2026-12-24T00:00:00+01:00\", to: \"2026-12-23T23:00:00Z\"}}
"
    );
    let err = policy_error(&text);
    assert_eq!(
        err.field.as_deref(),
        Some("environments.production.blackouts[0].once.to")
    );
    assert_eq!(err.location.line, Some(6), "{err}");
}

#[test]
fn bad_duration_in_policy() {
    let text = format!("{HEAD}    advance_notice:\n      min: 24 hours\n");
    let err = policy_error(&text);
    assert_eq!(err.kind, LoadErrorKind::Config);
    assert_eq!(err.location.line, Some(5), "{err}");
    assert!(
        err.field
            .as_deref()
            .is_some_and(|f| f.starts_with("environments.production.advance_notice")),
        "{err:?}"
    );
    assert!(err.message.contains("invalid duration `24 hours`"), "{err}");
}

#[test]
fn concurrency_zero() {
    let text = format!("{HEAD}    concurrency:\n      max: 0\n");
    assert_policy_error(
        &text,
        5,
        Some(7),
        "environments.production.concurrency.max",
        &["at least 1"],
    );
}

#[test]
fn invalid_yaml() {
    let err = policy_error("timezone: Europe/Berlin\nenvironments:\n  production: [\n");
    assert_eq!(err.kind, LoadErrorKind::Config);
    assert!(err.location.line.is_some(), "{err:?}");
}

#[test]
fn missing_policy_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.rhai"), "fn schedule(r) {}\n").unwrap();
    let err = PolicySet::load(dir.path()).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Io);
    assert!(err.message.contains("no `policy.yaml`"), "{err}");
    assert!(err.location.file.ends_with("policy.yaml"), "{err}");

    let err = PolicySet::from_sources("b", [("x.rhai".to_owned(), String::new())]).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Io);
}

#[test]
fn missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let err = PolicySet::load(dir.path().join("nope")).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Io);
    assert!(err.location.file.ends_with("nope"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Scripts that must not load (the bundles live beside the data-driven cases).

fn script_error(bundle: &str) -> LoadError {
    match PolicySet::load(format!("tests/cases/bundles/{bundle}")) {
        Ok(_) => panic!("bundle {bundle} loaded, expected a script error"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_script_error(bundle: &str, file: &str, line: usize, column: usize, message: &str) {
    let err = script_error(bundle);
    assert_eq!(err.kind, LoadErrorKind::Script, "{err}");
    assert_eq!(
        err.location.file,
        format!("tests/cases/bundles/{bundle}/{file}")
    );
    assert_eq!(
        (err.location.line, err.location.column),
        (Some(line), Some(column)),
        "{err}"
    );
    assert!(
        err.message.contains(message),
        "{err:?} should mention {message:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "tests/cases/bundles/{bundle}/{file}:{line}:{column}: "
        )),
        "{err}"
    );
}

#[test]
fn syntax_error_names_file_line_and_column() {
    assert_script_error("broken-syntax", "broken.rhai", 3, 35, "does not compile");
}

#[test]
fn eval_does_not_load() {
    assert_script_error("hostile-eval", "eval.rhai", 3, 16, "eval");
}

#[test]
fn import_does_not_load() {
    assert_script_error("hostile-import", "import.rhai", 2, 1, "import");
}

#[test]
fn undefined_variable_does_not_load() {
    assert_script_error(
        "hostile-undefined-variable",
        "undefined.rhai",
        4,
        19,
        "mesage",
    );
}

#[test]
fn schedule_hook_with_wrong_arity_does_not_load() {
    let err = PolicySet::from_sources(
        "b",
        [
            ("policy.yaml".to_owned(), "timezone: UTC\n".to_owned()),
            ("two.rhai".to_owned(), "fn schedule(a, b) {}\n".to_owned()),
        ],
    )
    .unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Script);
    assert_eq!(err.location.file, "b/two.rhai");
    assert!(err.message.contains("one parameter"), "{err}");
}

#[test]
fn deeply_nested_expression_does_not_load() {
    let depth = 200;
    let script = format!(
        "fn schedule(r) {{\n    let x = {}1{};\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let err = PolicySet::from_sources(
        "b",
        [
            ("policy.yaml".to_owned(), "timezone: UTC\n".to_owned()),
            ("deep.rhai".to_owned(), script),
        ],
    )
    .unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Script);
    assert_eq!(err.location.file, "b/deep.rhai");
    assert_eq!(err.location.line, Some(2), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Requests

fn request_error(text: &str) -> InputError {
    match ChangeRequest::from_yaml(text, "request.yaml") {
        Ok(r) => panic!("parsed {r:?}, expected an error:\n{text}"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_input_error(
    err: &InputError,
    file: &str,
    at: Option<(usize, usize)>,
    field: &str,
    message_contains: &[&str],
) {
    assert_eq!(err.location.file, file, "{err}");
    assert_eq!(
        err.location.line.zip(err.location.column),
        at,
        "line:column of {err}"
    );
    assert_eq!(err.field.as_deref(), Some(field), "field of {err}");
    for part in message_contains {
        assert!(
            err.message.contains(part),
            "{err:?} should mention {part:?}"
        );
    }
}

/// A valid request with `line` replaced (1-based); `None` drops it.
fn request_with(line: usize, replacement: Option<&str>) -> String {
    let lines = [
        "id: dep-1",
        "service: checkout",
        "environment: production",
        "type: feature",
        "start: 2026-12-01T22:00:00+01:00",
        "duration: 2h",
    ];
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let l = if i + 1 == line { replacement } else { Some(*l) };
        if let Some(l) = l {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_valid_request_parses() {
    let r = ChangeRequest::from_yaml(&request_with(0, None), "request.yaml").unwrap();
    assert_eq!(r.services, ["checkout"]);
}

#[test]
fn unknown_field_strat() {
    let err = request_error(&request_with(3, Some("strat: 2026-12-01T22:00:00+01:00")));
    assert_input_error(
        &err,
        "request.yaml",
        Some((3, 1)),
        "strat",
        &["unknown field `strat`", "`start`", "`services`"],
    );
    assert!(
        err.to_string()
            .starts_with("request.yaml:3:1: unknown field `strat`"),
        "{err}"
    );
}

#[test]
fn unknown_field_in_json() {
    let err = request_error(r#"{"id": "dep-1", "service": "x", "strat": 1}"#);
    assert_eq!(err.field.as_deref(), Some("strat"));
    assert_eq!(err.location.line, Some(1));
    assert!(err.message.contains("unknown field `strat`"), "{err}");
}

#[test]
fn json_calendar_errors_name_the_field_path_line_and_column() {
    let text = r#"{"deployments": [{"id": "a", "service": "x", "environment": "production",
  "type": "feature", "start": "2026-12-01T22:00:00Z", "duration": "1h", "strat": 1}]}"#;
    let err = Calendar::from_yaml(text, "calendar.json").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("deployments[0].strat"));
    assert_eq!(err.location.line, Some(2));
    assert!(err.location.column.is_some_and(|c| c > 60), "{err}");

    let err = Calendar::from_yaml(r#"{"deployments": [{"id": 5}]}"#, "calendar.json").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("deployments[0].id"));
    assert!(err.message.contains("invalid type: integer `5`"), "{err}");
}

#[test]
fn time_without_offset() {
    let err = request_error(&request_with(5, Some("start: 2026-12-01T22:00:00")));
    assert_input_error(
        &err,
        "request.yaml",
        Some((5, 1)),
        "start",
        &["no UTC offset", "`2026-12-01T22:00:00Z`"],
    );
}

#[test]
fn requested_at_without_offset() {
    let text = format!("{}requested_at: 2026-11-20T10:00\n", request_with(0, None));
    let err = request_error(&text);
    assert_input_error(
        &err,
        "request.yaml",
        Some((7, 1)),
        "requested_at",
        &["no UTC offset"],
    );
}

#[test]
fn not_a_time() {
    let err = request_error(&request_with(5, Some("start: next tuesday")));
    assert_input_error(
        &err,
        "request.yaml",
        Some((5, 1)),
        "start",
        &["invalid time `next tuesday`"],
    );
}

#[test]
fn bad_duration() {
    let err = request_error(&request_with(6, Some("duration: 2 hours")));
    assert_input_error(
        &err,
        "request.yaml",
        Some((6, 1)),
        "duration",
        &["invalid duration `2 hours`", "`2h30m`"],
    );
    for bad in ["0m", "-1h", "30m2h", "5"] {
        let err = request_error(&request_with(6, Some(&format!("duration: \"{bad}\""))));
        assert_eq!(err.field.as_deref(), Some("duration"), "{bad}: {err}");
    }
}

#[test]
fn durations_too_long_are_errors_naming_the_field() {
    // Longer than 36600 days (100 years), or more digits than any number holds: an error that
    // names the field, never an overflow.
    for bad in [
        "1000000000d",
        "36601d",
        "99999999999999999999999w",
        "1w9223372036854775807s",
    ] {
        let err = request_error(&request_with(6, Some(&format!("duration: {bad}"))));
        assert_input_error(
            &err,
            "request.yaml",
            Some((6, 1)),
            "duration",
            &[&format!(
                "invalid duration `{bad}`, expected at most 36600 days (100 years)"
            )],
        );
    }
    // In a calendar too, and in a policy.
    let calendar = "deployments:\n  - id: dep-1\n    service: checkout\n    environment: production\n    \
         type: feature\n    start: 2026-12-01T22:00:00+01:00\n    duration: 1000000000d\n";
    let err = Calendar::from_yaml(calendar, "calendar.yaml").unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("deployments[0].duration"),
        "{err}"
    );
    assert_eq!(
        (err.location.line, err.location.column),
        (Some(7), Some(5)),
        "{err}"
    );
    let err = policy_error(&format!(
        "{HEAD}    max_duration:\n      max: 1000000000d\n"
    ));
    assert_eq!(err.kind, LoadErrorKind::Config);
    assert!(
        err.message
            .contains("invalid duration `1000000000d`, expected at most 36600 days (100 years)"),
        "{err}"
    );
    // The longest allowed duration, and an `end` far away, are read and checked.
    let longest =
        ChangeRequest::from_yaml(&request_with(6, Some("duration: 36600d")), "r").unwrap();
    assert_eq!(longest.duration, chrono::TimeDelta::days(36_600));
    let far = ChangeRequest::from_yaml(
        &request_with(6, Some("end: 9999-12-31T23:59:59+00:00")),
        "r",
    )
    .unwrap();
    // `end()` is written in the offset of `start`: the same instant.
    assert_eq!(
        far.end(),
        chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59+00:00").unwrap()
    );
    // Changed by issue 8 (years 0001-9999, in UTC as well, so that every instant written can
    // be read back): `9999-12-31T23:59:59-23:59` is 10000-01-01 in UTC, an error naming `end`.
    let err = request_error(&request_with(6, Some("end: 9999-12-31T23:59:59-23:59")));
    assert_input_error(
        &err,
        "request.yaml",
        Some((6, 1)),
        "end",
        &["the year must be between 0001 and 9999"],
    );
}

#[test]
fn both_end_and_duration() {
    let text = format!("{}end: 2026-12-02T00:00:00+01:00\n", request_with(0, None));
    let err = request_error(&text);
    assert_input_error(
        &err,
        "request.yaml",
        Some((7, 1)),
        "end",
        &["either `duration` or `end`"],
    );
}

#[test]
fn end_before_start() {
    let err = request_error(&request_with(6, Some("end: 2026-12-01T21:59:59+01:00")));
    assert_input_error(
        &err,
        "request.yaml",
        Some((6, 1)),
        "end",
        &["is not after `start`"],
    );
}

#[test]
fn end_equal_to_start() {
    let err = request_error(&request_with(6, Some("end: 2026-12-01T21:00:00Z")));
    assert_eq!(err.field.as_deref(), Some("end"));
}

#[test]
fn service_and_services_both() {
    let text = format!("{}services: [payments]\n", request_with(0, None));
    let err = request_error(&text);
    assert_input_error(
        &err,
        "request.yaml",
        Some((2, 1)),
        "service",
        &["either `services` or `service`"],
    );
}

#[test]
fn empty_services() {
    let err = request_error(&request_with(2, Some("services: []")));
    assert_input_error(
        &err,
        "request.yaml",
        Some((2, 1)),
        "services",
        &["at least one service"],
    );
    let err = request_error(&request_with(2, Some("services: [checkout, \"\"]")));
    assert_eq!(err.field.as_deref(), Some("services"));
}

#[test]
fn missing_services_and_duration() {
    let err = request_error(&request_with(2, None));
    assert_eq!(err.field.as_deref(), Some("services"), "{err}");
    assert!(err.message.contains("missing field `services`"), "{err}");
    let err = request_error(&request_with(6, None));
    assert_eq!(err.field.as_deref(), Some("duration"), "{err}");
    let err = request_error(&request_with(4, None));
    assert_eq!(err.field.as_deref(), Some("type"), "{err}");
    assert!(err.message.contains("missing field `type`"), "{err}");
}

#[test]
fn empty_request() {
    let err = request_error("  \n");
    assert!(err.message.contains("empty"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Calendars

fn calendar_error(text: &str) -> InputError {
    match Calendar::from_yaml(text, "calendar.yaml") {
        Ok(_) => panic!("parsed, expected an error:\n{text}"),
        Err(e) => e,
    }
}

const DEP_A: &str = "  - id: a
    service: x
    environment: production
    type: feature
    start: 2026-12-01T22:00:00Z
    duration: 1h
";

#[test]
fn calendar_duplicate_ids() {
    let text = format!(
        "deployments:\n{DEP_A}{}",
        DEP_A.replace("service: x", "service: y")
    );
    let err = calendar_error(&text);
    assert_input_error(
        &err,
        "calendar.yaml",
        Some((8, 5)),
        "deployments[1].id",
        &["deployment id `a` appears more than once"],
    );
}

#[test]
fn calendar_deployment_errors_name_the_item() {
    let text = format!(
        "deployments:\n{DEP_A}{}",
        DEP_A
            .replace("id: a", "id: b")
            .replace("22:00:00Z", "22:00:00")
    );
    let err = calendar_error(&text);
    assert_input_error(
        &err,
        "calendar.yaml",
        Some((12, 5)),
        "deployments[1].start",
        &["no UTC offset"],
    );

    let text = format!("deployments:\n{DEP_A}    strat: x\n");
    let err = calendar_error(&text);
    assert_input_error(
        &err,
        "calendar.yaml",
        Some((8, 5)),
        "deployments[0].strat",
        &["unknown field `strat`"],
    );
}

#[test]
fn calendar_blackout_errors() {
    let err = calendar_error(
        "blackouts:\n  - name: b\n    from: 2026-12-02T00:00:00Z\n    to: 2026-12-01T00:00:00Z\n",
    );
    assert_input_error(
        &err,
        "calendar.yaml",
        Some((4, 5)),
        "blackouts[0].to",
        &["`b` ends before it starts"],
    );
    let err = calendar_error(
        "blackouts:\n  - name: b\n    from: 2026-12-02\n    to: 2026-12-03T00:00:00Z\n",
    );
    assert_input_error(
        &err,
        "calendar.yaml",
        Some((3, 5)),
        "blackouts[0].from",
        &["`2026-12-02`"],
    );
}

#[test]
fn empty_calendar_is_empty() {
    assert!(Calendar::from_yaml("", "calendar.yaml").unwrap().is_empty());
    assert!(
        Calendar::from_yaml("deployments: []\n", "calendar.yaml")
            .unwrap()
            .is_empty()
    );
}
