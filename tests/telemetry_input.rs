#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Reading the gates and rollback evidence: `Measurement::list_from_yaml`,
//! `Event::list_from_yaml` and `RollbackDone::list_from_yaml` in every form (a YAML list, a
//! mapping, JSON, JSON lines), and their errors, each naming the file, line, column and field.

use changegate::{Event, InputError, InputLimits, Measurement, RollbackDone};
use chrono::{DateTime, Utc};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().into()
}

fn err_at(err: &InputError) -> (Option<usize>, Option<usize>, Option<&str>) {
    (err.location.line, err.location.column, err.field.as_deref())
}

#[test]
fn a_yaml_list_reads_values_nulls_nan_and_labels() {
    let text = "\
- metric: latency_seconds
  at: 2026-12-01T08:00:00+01:00
  value: 1.25
  labels: {path: generated}
- {metric: error_rate, at: 2026-12-01T07:00:01Z, value: null}
- {metric: error_rate, at: 2026-12-01T07:00:02Z, value: .nan}
- {metric: error_rate, at: 2026-12-01T07:00:03Z, value: 3}
- {metric: http_requests, at: 2026-12-01T07:00:03Z, value: 3, labels: {code: 500, canary: true}}
";
    let list = Measurement::list_from_yaml(text, "m.yaml").unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0].metric, "latency_seconds");
    assert_eq!(list[0].at, at("2026-12-01T07:00:00Z"));
    assert_eq!(list[0].value, Some(1.25));
    assert_eq!(list[0].labels["path"], "generated");
    assert_eq!(list[1].value, None);
    assert!(list[2].value.unwrap().is_nan());
    assert_eq!(list[3].value, Some(3.0));
    assert_eq!(list[4].labels["code"], "500");
    assert_eq!(list[4].labels["canary"], "true");
}

#[test]
fn the_mapping_form_json_and_json_lines_read_the_same() {
    let yaml = "measurements:\n  - {metric: error_rate, at: 2026-12-01T07:00:00Z, value: 0.5}\n  \
                - {metric: error_rate, at: 2026-12-01T07:00:01Z, value: .NaN}\n";
    let json = r#"{"measurements": [
        {"metric": "error_rate", "at": "2026-12-01T07:00:00Z", "value": 0.5},
        {"metric": "error_rate", "at": "2026-12-01T07:00:01Z", "value": "NaN"}
    ]}"#;
    let json_list = r#"[{"metric": "error_rate", "at": "2026-12-01T07:00:00Z", "value": 0.5},
        {"metric": "error_rate", "at": "2026-12-01T07:00:01Z", "value": "NaN"}]"#;
    let lines = "{\"metric\": \"error_rate\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 0.5}\n\
                 \n\
                 {\"metric\": \"error_rate\", \"at\": \"2026-12-01T07:00:01Z\", \"value\": \"NaN\"}\n";
    for (text, name) in [
        (yaml, "yaml"),
        (json, "json"),
        (json_list, "json list"),
        (lines, "json lines"),
    ] {
        let list = Measurement::list_from_yaml(text, "m").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(list.len(), 2, "{name}");
        assert_eq!(list[0].value, Some(0.5), "{name}");
        assert!(list[1].value.unwrap().is_nan(), "{name}");
    }
    // One line that is an item is JSON lines; one line that is a document is a document.
    let one = Measurement::list_from_yaml(
        r#"{"metric": "m", "at": "2026-12-01T07:00:00Z", "value": 1}"#,
        "m",
    )
    .unwrap();
    assert_eq!(one.len(), 1);
    let doc = Measurement::list_from_yaml(
        r#"{"measurements": [{"metric": "m", "at": "2026-12-01T07:00:00Z", "value": 1}]}"#,
        "m",
    )
    .unwrap();
    assert_eq!(doc.len(), 1);
}

#[test]
fn empty_text_and_empty_documents_are_empty_lists() {
    assert!(Measurement::list_from_yaml("", "m").unwrap().is_empty());
    assert!(Measurement::list_from_yaml("  \n", "m").unwrap().is_empty());
    assert!(Measurement::list_from_yaml("[]", "m").unwrap().is_empty());
    assert!(
        Measurement::list_from_yaml("measurements: []\n", "m")
            .unwrap()
            .is_empty()
    );
    assert!(Event::list_from_yaml("events:\n", "e").unwrap().is_empty());
}

#[test]
fn errors_name_the_line_column_and_field() {
    let text = "measurements:\n  - metric: error_rate\n    at: 2026-12-01T07:00:00Z\n    value: 1\n  \
                - metric: error_rate\n    at: 2026-12-01T07:00:01Z\n    value: high\n";
    let err = Measurement::list_from_yaml(text, "m.yaml").unwrap_err();
    assert_eq!(err.location.file, "m.yaml");
    assert_eq!(err_at(&err).2, Some("measurements[1].value"), "{err}");
    assert_eq!(err.location.line, Some(7), "{err}");
    assert!(err.location.column.is_some(), "{err}");
    assert!(err.message.contains("not the text `high`"), "{err}");

    // An unknown field.
    let err = Measurement::list_from_yaml(
        "- metric: error_rate\n  at: 2026-12-01T07:00:00Z\n  valeu: 1\n",
        "m.yaml",
    )
    .unwrap_err();
    assert!(err.message.contains("unknown field `valeu`"), "{err}");
    assert_eq!(err.field.as_deref(), Some("[0].valeu"), "{err}");
    assert!(err.location.line.is_some(), "{err}");

    // A missing value is an error (null says "no data").
    let err = Measurement::list_from_yaml("- {metric: m, at: 2026-12-01T07:00:00Z}\n", "m.yaml")
        .unwrap_err();
    assert!(err.message.contains("missing field `value`"), "{err}");

    // A time without an offset, in flow style: the position is the parser's.
    let err = Measurement::list_from_yaml(
        "- {metric: m, at: 2026-12-01T07:00:00Z, value: 1}\n- {metric: m, at: 2026-12-01T07:00:00, value: 1}\n",
        "m.yaml",
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("[1].at"), "{err}");
    assert_eq!(err.location.line, Some(2), "{err}");
    assert!(err.message.contains("has no UTC offset"), "{err}");

    // An unknown key of the document.
    let err = Measurement::list_from_yaml("measurement:\n  - {}\n", "m.yaml").unwrap_err();
    assert!(err.message.contains("unknown field `measurement`"), "{err}");
    assert!(err.message.contains("`measurements`"), "{err}");

    // Infinity is refused; an empty metric too.
    let err = Measurement::list_from_yaml(
        "- {metric: m, at: 2026-12-01T07:00:00Z, value: .inf}\n",
        "m",
    )
    .unwrap_err();
    assert!(err.message.contains("finite"), "{err}");
    let err =
        Measurement::list_from_yaml("- {metric: ' ', at: 2026-12-01T07:00:00Z, value: 1}\n", "m")
            .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("[0].metric"), "{err}");
    assert!(err.message.contains("must not be empty"), "{err}");
}

#[test]
fn json_errors_have_positions() {
    let json = "{\"measurements\": [\n  {\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1},\n  \
                {\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": true}\n]}";
    let err = Measurement::list_from_yaml(json, "m.json").unwrap_err();
    assert_eq!(err.location.line, Some(3), "{err}");
    assert_eq!(err.field.as_deref(), Some("measurements[1].value"), "{err}");
}

#[test]
fn json_lines_errors_name_the_line() {
    let text = "{\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1}\n\
                {\"metric\": \"m\", \"at\": \"2026-12-01T07:00:01Z\", \"value\": 2}\n\
                \n\
                {\"metric\": \"m\", \"at\": \"2026-12-01T07:00:02\", \"value\": 3}\n";
    let err = Measurement::list_from_yaml(text, "m.jsonl").unwrap_err();
    assert_eq!(err.location.line, Some(4), "{err}");
    assert!(err.location.column.is_some(), "{err}");
    assert_eq!(err.field.as_deref(), Some("line 4.at"), "{err}");
    assert!(err.message.contains("no UTC offset"), "{err}");
    assert!(err.to_string().starts_with("m.jsonl:4:"), "{err}");

    let text = "{\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1}\n\
                {\"metric\": \"m\", \"at\": \"2026-12-01T07:00:01Z\", \"vlue\": 2}\n";
    let err = Measurement::list_from_yaml(text, "m.jsonl").unwrap_err();
    assert_eq!(err.location.line, Some(2), "{err}");
    assert!(err.message.contains("unknown field `vlue`"), "{err}");
    assert!(err.field.as_deref().unwrap().starts_with("line 2"), "{err}");

    let text = "{\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1}\nnot json\n";
    let err = Measurement::list_from_yaml(text, "m.jsonl").unwrap_err();
    assert_eq!(err_at(&err), (Some(2), Some(1), Some("line 2")), "{err}");

    let text =
        "{\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1}\n{\"metric\": \n";
    let err = Measurement::list_from_yaml(text, "m.jsonl").unwrap_err();
    assert_eq!(err.location.line, Some(2), "{err}");
}

#[test]
fn events_and_rollbacks_read_like_measurements() {
    let events = Event::list_from_yaml(
        "- {kind: security_failure, at: 2026-12-01T07:00:00Z, source: waf}\n\
         - {kind: health_check_failed, at: 2026-12-01T07:00:01Z}\n",
        "e.yaml",
    )
    .unwrap();
    assert_eq!(events[0].source.as_deref(), Some("waf"));
    assert_eq!(events[1].source, None);
    let lines = Event::list_from_yaml(
        "{\"kind\": \"security_failure\", \"at\": \"2026-12-01T07:00:00Z\"}\n",
        "e.jsonl",
    )
    .unwrap();
    assert_eq!(lines[0].kind, "security_failure");
    let err =
        Event::list_from_yaml("events:\n  - kind: x\n    at: yesterday\n", "e.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("events[0].at"), "{err}");
    assert_eq!(err.location.line, Some(3), "{err}");

    let rollbacks = RollbackDone::list_from_yaml(
        "rollbacks:\n  - {level: feature_flag, at: 2026-12-01T07:00:00Z}\n",
        "r.yaml",
    )
    .unwrap();
    assert_eq!(rollbacks[0].level, "feature_flag");
    let err = RollbackDone::list_from_yaml("- {level: x, at: 2026-12-01T07:00:00Z, why: y}\n", "r")
        .unwrap_err();
    assert!(err.message.contains("unknown field `why`"), "{err}");
    let err = RollbackDone::list_from_yaml("- {at: 2026-12-01T07:00:00Z}\n", "r").unwrap_err();
    assert!(err.message.contains("missing field `level`"), "{err}");
}

#[test]
fn input_limits_apply_to_every_form() {
    let limits = InputLimits {
        max_bytes: 64,
        ..InputLimits::default()
    };
    let line = "{\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1}\n";
    let err =
        Measurement::list_from_yaml_with_limits(&line.repeat(3), "m.jsonl", &limits).unwrap_err();
    assert!(
        err.message.contains("more than the limit of 64 bytes"),
        "{err}"
    );
    let deep = format!(
        "- {{metric: m, at: 2026-12-01T07:00:00Z, value: 1, labels: {}1{}}}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let err = Measurement::list_from_yaml(&deep, "m.yaml").unwrap_err();
    assert!(err.message.contains("nests deeper than"), "{err}");
    let deep_line = format!(
        "{line}{{\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1, \"labels\": {}1{}}}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let err = Measurement::list_from_yaml(&deep_line, "m.jsonl").unwrap_err();
    assert!(err.message.contains("nests deeper than"), "{err}");
    assert_eq!(err.location.line, Some(2), "{err}");
}

#[test]
fn hostile_input_never_panics() {
    for text in [
        "{",
        "[",
        "- {",
        "measurements: 3",
        "measurements: {a: 1}",
        "- 1\n- 2\n",
        "\u{feff}[]",
        "{\"metric\": 1}\n{}",
        "- {metric: m, at: 2026-12-01T07:00:00Z, value: 1e999}\n",
        "- {metric: m, at: 0000-01-01T00:00:00Z, value: 1}\n",
        "- {metric: m, at: 2026-12-01T07:00:60Z, value: 1}\n",
        "{\"metric\": \"m\", \"at\": \"2026-12-01T07:00:00Z\", \"value\": 1}\n   {\"x\": [}\n",
    ] {
        let _ = Measurement::list_from_yaml(text, "m");
        let _ = Event::list_from_yaml(text, "e");
        let _ = RollbackDone::list_from_yaml(text, "r");
    }
}

#[test]
fn the_example_files_read() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
    let m = Measurement::list_from_yaml(&read("measurements.yaml"), "measurements.yaml").unwrap();
    assert_eq!(m.len(), 200);
    let metrics: std::collections::BTreeSet<&str> = m.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(
        metrics.into_iter().collect::<Vec<_>>(),
        [
            "cache_hit_rate",
            "cost_budget",
            "error_rate",
            "latency_seconds"
        ]
    );
    assert_eq!(m.iter().filter(|m| m.value.is_none()).count(), 1);
    let e = Event::list_from_yaml(&read("events.yaml"), "events.yaml").unwrap();
    assert_eq!(e.len(), 3);
    changegate::ChangeRequest::from_yaml(&read("deployment.yaml"), "deployment.yaml").unwrap();
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(256))]

    /// Any text, and any mix of JSON-lines-looking lines, is read or refused, never a panic.
    #[test]
    fn any_text_is_read_or_refused(text in "(\\{|\\}|\\[|\\]|\"|:|,|-| |\\n|metric|at|value|NaN|null|1|2026-12-01T07:00:00Z|\\.nan)*") {
        let _ = Measurement::list_from_yaml(&text, "m");
        let _ = Event::list_from_yaml(&text, "e");
        let _ = RollbackDone::list_from_yaml(&text, "r");
    }
}
