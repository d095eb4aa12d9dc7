#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `changegate gates`, `changegate rollback` and `changegate monitor` as a pipeline runs them:
//! exit codes 0 (allowed), 1 (denied: a failed key gate; roll back), 2 (invalid input) and 3
//! (pending: keep watching); `--format json` equal to the library's decision for the same files;
//! text output and error reports snapshotted with insta (`tests/snapshots/gates_cli__*.snap`).
//!
//! Inputs are the files in `tests/gates_cli/` (its own bundle, `policy/`, so that these tests
//! do not depend on the default bundle's numbers), passed as paths relative to the package
//! root, so outputs hold no machine-specific paths.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use changegate::{ChangeRequest, Event, Measurement, PolicySet, RollbackDone, Telemetry};
use chrono::{DateTime, Utc};
use serde_json::Value;

const DIR: &str = "tests/gates_cli";
const POLICY: &str = "tests/gates_cli/policy";
const NOW: &str = "2026-12-01T10:10:00Z";

fn path(name: &str) -> String {
    format!("{DIR}/{name}")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the changegate binary runs")
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the changegate binary runs");
    // The monitor may exit before reading everything (at the first rollback): a closed pipe is
    // not a failure here.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

/// Snapshots with the policy digest masked.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![
            (r"sha256:[0-9a-f]{64}", "sha256:[digest]"),
        ]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

/// The files of one check.
#[derive(Default, Clone, Copy)]
struct Files<'a> {
    deployment: &'a str,
    measurements: &'a str,
    events: Option<&'a str>,
    baseline: Option<&'a str>,
    rollbacks: Option<&'a str>,
    /// The bundle (`None`: the built-in one).
    policy: Option<&'a str>,
}

impl<'a> Files<'a> {
    fn new(measurements: &'a str) -> Self {
        Files {
            deployment: "deployment.yaml",
            measurements,
            policy: Some(POLICY),
            ..Files::default()
        }
    }

    fn args(&self, command: &'a str) -> Vec<String> {
        let mut args = vec![
            command.to_owned(),
            "--deployment".into(),
            path(self.deployment),
            "--measurements".into(),
            path(self.measurements),
            "--now".into(),
            NOW.into(),
        ];
        if let Some(p) = self.policy {
            args.extend(["--policy".to_owned(), p.to_owned()]);
        }
        for (flag, file) in [
            ("--events", self.events),
            ("--baseline", self.baseline),
            ("--rollbacks", self.rollbacks),
        ] {
            if let Some(f) = file {
                args.push(flag.into());
                args.push(path(f));
            }
        }
        args
    }

    fn cli(&self, command: &str, json: bool) -> Output {
        let mut args = self.args(command);
        if json {
            args.extend(["--format".to_owned(), "json".to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    }

    /// The library's inputs for the same files.
    fn library(&self) -> (PolicySet, ChangeRequest, Telemetry) {
        let read = |f: &str| std::fs::read_to_string(path(f)).unwrap();
        let policy = PolicySet::load(POLICY).unwrap();
        let deployment =
            ChangeRequest::from_yaml(&read(self.deployment), &path(self.deployment)).unwrap();
        let m = |f: &str| Measurement::list_from_yaml(&read(f), &path(f)).unwrap();
        let telemetry = Telemetry::new(m(self.measurements))
            .with_baseline(self.baseline.map(m).unwrap_or_default())
            .with_events(
                self.events
                    .map(|f| Event::list_from_yaml(&read(f), &path(f)).unwrap())
                    .unwrap_or_default(),
            )
            .with_rollbacks(
                self.rollbacks
                    .map(|f| RollbackDone::list_from_yaml(&read(f), &path(f)).unwrap())
                    .unwrap_or_default(),
            );
        (policy, deployment, telemetry)
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW).unwrap().into()
}

/// The exit code the CLI gives a decision with this outcome.
fn exit_for(outcome: &str) -> i32 {
    match outcome {
        "allow" | "warn" => 0,
        "pending" => 3,
        _ => 1,
    }
}

// ---------------------------------------------------------------------------------------------
// Every face gives the library's decision.

#[test]
fn gates_json_is_the_library_decision_and_the_exit_code_follows_it() {
    for (measurements, outcome) in [
        ("healthy.yaml", "allow"),
        ("healthy.jsonl", "allow"),
        ("slow.yaml", "deny"),
        ("slow.jsonl", "deny"),
        ("empty.yaml", "pending"),
    ] {
        let files = Files::new(measurements);
        let out = files.cli("gates", true);
        let json: Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{measurements}: {e}: {}", stderr(&out)));
        let (policy, deployment, telemetry) = files.library();
        let expected = policy.check_gates(&deployment, &telemetry, now()).to_json();
        assert_eq!(json, expected, "{measurements}");
        assert_eq!(json["check"], "gates", "{measurements}");
        assert_eq!(json["outcome"], outcome, "{measurements}");
        assert_eq!(code(&out), exit_for(outcome), "{measurements}");
    }
}

#[test]
fn rollback_json_is_the_library_decision_and_the_exit_code_follows_it() {
    let cases = [
        (Files::new("healthy.yaml"), "allow"),
        (Files::new("slow.yaml"), "deny"),
        (
            Files {
                events: Some("events.yaml"),
                ..Files::new("healthy.yaml")
            },
            "deny",
        ),
        (
            Files {
                rollbacks: Some("rollbacks.yaml"),
                ..Files::new("slow.jsonl")
            },
            "deny",
        ),
        (Files::new("empty.yaml"), "pending"),
    ];
    for (files, outcome) in cases {
        let out = files.cli("rollback", true);
        let json: Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{}: {e}: {}", files.measurements, stderr(&out)));
        let (policy, deployment, telemetry) = files.library();
        let expected = policy
            .check_rollback(&deployment, &telemetry, now())
            .to_json();
        assert_eq!(json, expected, "{}", files.measurements);
        assert_eq!(json["check"], "rollback");
        assert_eq!(json["outcome"], outcome, "{}", files.measurements);
        assert_eq!(code(&out), exit_for(outcome), "{}", files.measurements);
    }
}

#[test]
fn a_slow_rollout_rolls_back_to_traffic_routing_and_escalates_after_its_budget() {
    let out = Files::new("slow.yaml").cli("rollback", true);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rollback = &json["details"]["rollback"];
    assert_eq!(rollback["level"], "traffic_routing", "{json}");
    assert!(rollback["deadline"].is_string(), "{json}");
    // Rolled back to traffic_routing at 10:03, still firing after its 5m budget: full_system.
    let files = Files {
        rollbacks: Some("rollbacks.yaml"),
        ..Files::new("slow.yaml")
    };
    let json: Value = serde_json::from_str(&stdout(&files.cli("rollback", true))).unwrap();
    assert_eq!(
        json["details"]["rollback"]["level"], "full_system",
        "{json}"
    );
}

#[test]
fn an_environment_without_gates_or_rollback_is_allowed() {
    for command in ["gates", "rollback"] {
        let files = Files {
            deployment: "staging.yaml",
            ..Files::new("healthy.yaml")
        };
        let out = files.cli(command, true);
        assert_eq!(code(&out), 0, "{command}: {}", stderr(&out));
        let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json["outcome"], "allow", "{command}");
    }
}

// ---------------------------------------------------------------------------------------------
// Text.

#[test]
fn gates_text_shows_each_gate_with_its_aggregate_window_value_and_threshold() {
    let out = Files::new("slow.yaml").cli("gates", false);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("DENY dep-7 (content-api in production, "),
        "{text}"
    );
    let gate = text
        .lines()
        .find(|l| l.contains("latency-generated"))
        .unwrap_or_else(|| panic!("{text}"));
    for part in [
        "fail",
        "p95",
        "latency_seconds{path=generated}",
        "5m",
        "3.4",
    ] {
        assert!(gate.contains(part), "{part} in {gate}");
    }
    snapshot!("gates_slow", text);
    snapshot!(
        "gates_healthy",
        stdout(&Files::new("healthy.yaml").cli("gates", false))
    );
    snapshot!(
        "gates_empty",
        stdout(&Files::new("empty.yaml").cli("gates", false))
    );
}

#[test]
fn rollback_text_shows_the_level_the_deadline_and_each_trigger() {
    let out = Files::new("slow.yaml").cli("rollback", false);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("rollback: to traffic_routing by "), "{text}");
    let trigger = text
        .lines()
        .find(|l| l.contains("emergency-latency"))
        .unwrap_or_else(|| panic!("{text}"));
    for part in ["firing", "p95", "latency_seconds{path=generated}", "5m"] {
        assert!(trigger.contains(part), "{part} in {trigger}");
    }
    snapshot!("rollback_slow", text);
    snapshot!(
        "rollback_healthy",
        stdout(&Files::new("healthy.yaml").cli("rollback", false))
    );
    let escalated = Files {
        rollbacks: Some("rollbacks.yaml"),
        events: Some("events.yaml"),
        ..Files::new("slow.yaml")
    };
    snapshot!(
        "rollback_escalated",
        stdout(&escalated.cli("rollback", false))
    );
}

// ---------------------------------------------------------------------------------------------
// Invalid input: exit 2, the file, line and field named.

#[test]
fn invalid_telemetry_exits_2_naming_the_file_line_and_field() {
    // The built-in bundle: these errors are found before any rule runs.
    let bad = |m| Files {
        policy: None,
        ..Files::new(m)
    };
    let out = bad("bad-value.yaml").cli("gates", false);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    snapshot!("error_bad_value", stderr(&out));

    let out = bad("bad-offset.jsonl").cli("rollback", false);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: tests/gates_cli/bad-offset.jsonl:2:"),
        "{err}"
    );
    assert!(err.contains("line 2"), "{err}");
    snapshot!("error_jsonl_offset", err);

    let files = Files {
        events: Some("bad-event.yaml"),
        ..bad("healthy.yaml")
    };
    let out = files.cli("rollback", false);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("bad-event.yaml:1:"), "{err}");
    assert!(err.contains("unknown field `sorce`"), "{err}");

    // Measurements given where events are expected: the document's key is named.
    let files = Files {
        events: Some("healthy.yaml"),
        ..bad("healthy.yaml")
    };
    let out = files.cli("rollback", false);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("unknown field `metric`"),
        "{}",
        stderr(&out)
    );

    let out = run(&[
        "gates",
        "--deployment",
        &path("deployment.yaml"),
        "--measurements",
        &path("healthy.yaml"),
        "--now",
        "2026-12-01T10:10:00",
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--now"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// The monitor.

fn monitor(stdin: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "monitor",
        "--deployment",
        "tests/gates_cli/deployment.yaml",
        "--policy",
        POLICY,
    ];
    args.extend_from_slice(extra);
    run_with_stdin(&args, stdin)
}

/// The monitor on the built-in bundle (for errors found before any rule runs).
fn monitor_builtin(stdin: &str, extra: &[&str]) -> Output {
    let mut args = vec!["monitor", "--deployment", "tests/gates_cli/deployment.yaml"];
    args.extend_from_slice(extra);
    run_with_stdin(&args, stdin)
}

#[test]
fn the_monitor_exits_1_at_the_first_rollback_with_the_batch_decision() {
    let lines = std::fs::read_to_string(path("slow.jsonl")).unwrap();
    let out = monitor(&lines, &["--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let printed: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = printed.last().unwrap();
    assert_eq!(last["outcome"], "deny", "{last}");
    assert_eq!(last["level"], "traffic_routing", "{last}");
    // Each printed decision is the batch decision at `now` over the lines read so far that
    // the watermark passed (older than `now`: an instant's samples are committed together).
    let items: Vec<&str> = lines.lines().collect();
    let (policy, deployment, _) = Files::new("slow.yaml").library();
    for p in &printed {
        let n = usize::try_from(p["line"].as_u64().unwrap()).unwrap();
        let at: DateTime<Utc> = DateTime::parse_from_rfc3339(p["now"].as_str().unwrap())
            .unwrap()
            .into();
        let read = items[..n].join("\n");
        let committed: Vec<Measurement> = Measurement::list_from_yaml(&read, "m")
            .unwrap()
            .into_iter()
            .filter(|m| m.at < at)
            .collect();
        let telemetry = Telemetry::new(committed);
        let batch = policy.check_rollback(&deployment, &telemetry, at);
        assert_eq!(p["decision"], batch.to_json(), "line {n}");
    }
    // Decisions change only when the outcome or level does: no two lines alike in a row.
    for pair in printed.windows(2) {
        assert_ne!(
            (&pair[0]["outcome"], &pair[0]["level"]),
            (&pair[1]["outcome"], &pair[1]["level"])
        );
    }
}

#[test]
fn the_monitor_reads_to_the_end_of_a_healthy_stream_and_exits_0() {
    let lines = std::fs::read_to_string(path("healthy.jsonl")).unwrap();
    let out = monitor(&lines, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    // Nothing committed after the first line (its instant may still get samples): pending,
    // then allowed once data arrives; nothing more while nothing changes.
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "2026-12-01T10:00:30Z PENDING [rollback_inconclusive] (line 1)",
            "2026-12-01T10:01:00Z ALLOW (line 4)"
        ],
        "{text}"
    );
    // Events and rollbacks performed are told apart by their keys. An instant is decided once
    // a later line arrives (more lines of the same instant may follow): the last line commits
    // the event.
    let mixed = format!(
        "{lines}{{\"kind\": \"security_failure\", \"at\": \"2026-12-01T10:10:30Z\", \"source\": \"waf\"}}\n\
         {{\"metric\": \"error_rate\", \"at\": \"2026-12-01T10:10:31Z\", \"value\": 0.002}}\n"
    );
    let out = monitor(&mixed, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("DENY rollback to full_system"),
        "{text}"
    );
}

#[test]
fn the_monitor_exits_2_at_a_bad_line_naming_it() {
    let out = monitor_builtin("not json\n", &[]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.starts_with("error: <stdin>:1:2: "), "{err}");
    assert!(err.contains("not JSON: expected ident;"), "{err}");
    let out = monitor_builtin("{\"metrc\": \"m\"}\n", &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("a measurement `{metric, at, value, labels?}`"));
    let out = monitor_builtin("", &[]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).is_empty());
    let out = monitor_builtin("{}", &["--tolerance", "soon"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--tolerance"), "{}", stderr(&out));
}

#[test]
fn the_monitor_names_a_bad_line_after_good_ones() {
    let good = "{\"metric\": \"error_rate\", \"at\": \"2026-12-01T10:00:30Z\", \"value\": 0.002}\n";
    let out = monitor(
        &format!(
            "{good}\n{{\"metric\": \"error_rate\", \"at\": \"2026-12-01T10:01:00Z\", \"value\": \"x\"}}\n"
        ),
        &[],
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.starts_with("error: <stdin>:3:"), "{err}");
    assert!(err.contains("not the text `x`"), "{err}");
    // Older than the latest line seen (no tolerance): rejected, naming the line.
    let late = "{\"metric\": \"error_rate\", \"at\": \"2026-12-01T10:00:10Z\", \"value\": 0.002}\n";
    let out = monitor(&format!("{good}{late}"), &[]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stderr(&out).starts_with("error: <stdin>:2"),
        "{}",
        stderr(&out)
    );
    // Within the tolerance: accepted.
    let out = monitor(&format!("{good}{late}"), &["--tolerance", "30s"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}
