#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The authoring and convention commands of the CLI: `validate`, `init`, `completions`, `man`,
//! `--request -`, `--color`, exit codes in `--help`, errors as JSON under `--format json`, and
//! "did you mean" for an unknown key.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_changegate"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> Output {
    cmd()
        .args(args)
        .output()
        .expect("the changegate binary runs")
}

fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = cmd()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const REQUEST: &str = "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
                       start: 2026-12-01T22:00:00+01:00\nduration: 2h\n";

#[test]
fn validate_passes_the_default_bundle_and_fails_on_a_lint_error() {
    let o = run(&["validate", "--now", "2026-11-25T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("0 error(s)"), "{}", out(&o));

    let o = run(&["validate", "policies", "--now", "2026-11-25T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));

    let o = run(&[
        "validate",
        "tests/lint/blackout_always",
        "--now",
        "2026-11-25T09:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let text = out(&o);
    assert!(
        text.contains("tests/lint/blackout_always/policy.yaml:")
            && text.contains("error[blackout_always]"),
        "{text}"
    );

    let o = run(&[
        "validate",
        "tests/lint/blackout_always",
        "--now",
        "2026-11-25T09:00:00Z",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(v["errors"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(v["lints"][0]["code"], "blackout_always", "{v}");
    assert!(v["lints"][0]["line"].as_u64().is_some(), "{v}");
}

#[test]
fn a_bundle_that_does_not_load_is_exit_2_with_a_suggestion_and_json_when_asked() {
    let o = run(&["validate", "tests/data/cli/bundle-broken"]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(e.contains("policy.yaml:7:5"), "{e}");
    assert!(e.contains("(did you mean `max_duration`?)"), "{e}");

    let o = run(&[
        "validate",
        "tests/data/cli/bundle-broken",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["error"]["line"], 7, "{v}");
    assert_eq!(v["error"]["column"], 5, "{v}");
    assert_eq!(
        v["error"]["field"], "environments.production.max_duraton",
        "{v}"
    );
    assert!(
        v["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("bundle-broken/policy.yaml")
    );

    // Any checking command: a bad request under --format json is one JSON error object.
    let o = with_stdin(
        &[
            "check",
            "--request",
            "-",
            "--format",
            "json",
            "--now",
            "2026-11-25T09:00:00Z",
        ],
        "id: [\n",
    );
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["error"]["file"], "<stdin>", "{v}");
    assert_eq!(v["error"]["line"], 1, "{v}");
}

#[test]
fn the_request_can_come_from_stdin() {
    let o = with_stdin(
        &[
            "check",
            "--request",
            "-",
            "--now",
            "2026-11-25T09:00:00Z",
            "--format",
            "json",
        ],
        REQUEST,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["outcome"], "allow");
    // Standard input once only: the monitor reads telemetry there.
    let o = with_stdin(&["monitor", "--deployment", "-"], REQUEST);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("standard input carries the telemetry"),
        "{}",
        err(&o)
    );
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let args = [
        "check",
        "--request",
        "examples/request-friday.yaml",
        "--now",
        "2026-11-25T09:00:00Z",
    ];
    let o = run(&[&args[..], &["--color", "always"]].concat());
    assert!(out(&o).contains("\u{1b}["), "{}", out(&o));
    let o = run(&[&args[..], &["--color", "never"]].concat());
    assert!(!out(&o).contains("\u{1b}["), "{}", out(&o));
    // auto: not a terminal here, so none.
    let o = run(&args);
    assert!(!out(&o).contains("\u{1b}["));
}

#[test]
fn help_lists_the_exit_codes_and_completions_and_man_come_from_the_cli() {
    let o = run(&["--help"]);
    let help = out(&o);
    for line in [
        "Exit codes:",
        "0  allowed",
        "1  denied",
        "2  invalid input",
        "3  pending",
    ] {
        assert!(help.contains(line), "{line}: {help}");
    }
    let o = run(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let bash = out(&o);
    assert!(
        bash.contains("changegate") && bash.contains("validate") && bash.contains("--deployment")
    );
    let o = run(&["completions", "zsh"]);
    assert!(out(&o).contains("#compdef changegate"));
    let o = run(&["man"]);
    let man = out(&o);
    assert!(man.contains(".TH changegate 1"), "{man}");
    assert!(man.contains("rollback"), "{man}");
}

#[test]
fn init_writes_the_default_bundle_that_then_validates_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("bundle");
    let t = target.to_str().unwrap();
    let o = run(&["init", t]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    for name in changegate::builtin_files() {
        let written = std::fs::read_to_string(target.join(name)).unwrap();
        let embedded = changegate::builtin_sources()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1;
        assert_eq!(written, embedded, "{name}");
    }
    // The written bundle is the default bundle: same digest as the built-in one.
    let loaded = changegate::PolicySet::load(&target).unwrap();
    assert_eq!(loaded.environments().count(), 3);
    let o = run(&["validate", t, "--now", "2026-11-25T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    // Its tests come with it, and pass, covering every rule.
    assert_eq!(
        std::fs::read_dir(target.join("tests")).unwrap().count(),
        std::fs::read_dir("policies/tests").unwrap().count()
    );
    let o = run(&["test", t, "--min-coverage", "100"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("99 passed, 0 failed") || out(&o).contains(" passed, 0 failed"));
    // A second init refuses, and leaves an edited file alone.
    std::fs::write(target.join("policy.yaml"), "edited").unwrap();
    let o = run(&["init", t]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--force"), "{}", err(&o));
    assert_eq!(
        std::fs::read_to_string(target.join("policy.yaml")).unwrap(),
        "edited"
    );
    let o = run(&["init", t, "--force"]);
    assert_eq!(o.status.code(), Some(0));
    assert_ne!(
        std::fs::read_to_string(target.join("policy.yaml")).unwrap(),
        "edited"
    );
}
