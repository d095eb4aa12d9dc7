//! Script hooks as a policy author meets them: a script must define a known hook, may not hide
//! changegate's own functions, and a calendar query needs a hook that has a calendar. Through the
//! library and through the CLI (exit code 2, the file named).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use changegate::{LoadError, LoadErrorKind, PolicySet};

const POLICY: &str = "timezone: UTC\nenvironments:\n  production: {}\n";

fn load(script: &str) -> Result<PolicySet, LoadError> {
    PolicySet::from_sources(
        "bundle",
        [
            ("policy.yaml".to_owned(), POLICY.to_owned()),
            ("rules.rhai".to_owned(), script.to_owned()),
        ],
    )
}

#[test]
fn a_script_without_a_hook_fails_to_load_and_lists_the_hooks() {
    let err = load("fn helper(x) { x + 1 }\nlet y = 2;\n").unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Script);
    assert_eq!(err.location.file, "bundle/rules.rhai");
    assert!(err.message.contains("defines no hook"), "{err}");
    assert!(err.message.contains("`fn schedule(request)`"), "{err}");
}

#[test]
fn a_script_that_shadows_a_host_function_fails_to_load() {
    for name in [
        "deny",
        "warn",
        "now",
        "overlapping_deployments",
        "within_hours",
    ] {
        let err = load(&format!(
            "fn {name}(a, b) {{ }}\nfn schedule(request) {{ deny(\"x\", \"y\"); }}\n"
        ))
        .unwrap_err();
        assert_eq!(err.kind, LoadErrorKind::Script, "{name}");
        assert_eq!(err.location.file, "bundle/rules.rhai");
        assert_eq!(err.location.line, Some(1), "{name}");
        assert!(
            err.message.contains(&format!("defines `fn {name}`")),
            "{err}"
        );
    }
    // A helper with any other name is fine.
    assert!(load("fn denied(a) { a }\nfn schedule(request) { }\n").is_ok());
}

#[test]
fn a_hook_with_the_wrong_parameters_names_them() {
    let err = load("fn schedule(request, calendar) { }\n").unwrap_err();
    assert!(
        err.message
            .contains("must take one parameter (request), it takes 2"),
        "{err}"
    );
}

fn cli(dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(["check", "--request"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/request.yaml"
        ))
        .arg("--policy")
        .arg(dir)
        .args(["--now", "2026-11-28T09:00:00Z"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_cli_rejects_a_bundle_whose_script_defines_no_hook_or_shadows_deny() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.yaml"), POLICY).unwrap();
    std::fs::write(dir.path().join("helpers.rhai"), "fn helper() { 1 }\n").unwrap();
    let (code, err) = cli(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("helpers.rhai"), "{err}");
    assert!(err.contains("defines no hook"), "{err}");

    std::fs::write(
        dir.path().join("helpers.rhai"),
        "fn deny(rule, message) { }\nfn schedule(request) { deny(\"a\", \"b\"); }\n",
    )
    .unwrap();
    let (code, err) = cli(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("helpers.rhai:1"), "{err}");
    assert!(err.contains("defines `fn deny`"), "{err}");
}

#[test]
fn nothing_prints_to_stderr_while_hostile_scripts_are_checked() {
    // Scripts that used to panic the host (sleep, NaN sort), overflow its stack (deep nesting)
    // or flood it with findings: the CLI answers with a decision and writes nothing to stderr.
    // (The slow loops of tests/hostile are left to tests/hostile.rs: a debug build runs them for
    // seconds.)
    let hostile = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile/");
    for name in [
        "sleep-float",
        "sleep-int",
        "nan-sort",
        "comparer-sort",
        "deep-deny",
        "deep-print",
        "deep-interpolate",
        "deep-to-json",
        "finding-flood",
        "big-messages",
        "long-rule",
        "big-details",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
            .args(["check", "--format", "json", "--request"])
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/request.yaml"
            ))
            .arg("--policy")
            .arg(format!("{hostile}{name}"))
            .args(["--now", "2026-11-28T09:00:00Z"])
            .output()
            .unwrap();
        let code = out.status.code().unwrap();
        assert!(matches!(code, 0 | 1), "{name}: exit {code}");
        assert!(
            out.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(decision["outcome"].is_string(), "{name}");
    }
}

#[test]
fn a_busy_calendar_is_counted_or_read_page_by_page() {
    use changegate::{Calendar, ChangeRequest};
    use chrono::{DateTime, TimeDelta};
    let start = DateTime::parse_from_rfc3339("2026-12-01T10:00:00+00:00").unwrap();
    // 2 500 deployments overlapping the request, more than one query returns at once.
    let deployments = (0..2_500)
        .map(|i| {
            ChangeRequest::new(
                format!("dep-{i}"),
                [format!("svc-{}", i % 50)],
                "production",
                "feature",
                start,
                TimeDelta::hours(2),
            )
        })
        .collect();
    let calendar = Calendar::new(deployments, Vec::new()).unwrap();
    let request = ChangeRequest::new(
        "dep-new",
        ["search"],
        "production",
        "feature",
        start + TimeDelta::hours(1),
        TimeDelta::hours(1),
    );
    let policy = PolicySet::from_sources(
        "bundle",
        [
            ("policy.yaml".to_owned(), POLICY.to_owned()),
            (
                "a_count.rhai".to_owned(),
                "fn schedule(request) { warn(\"count\", `${count_overlapping_deployments()} and ${count_overlapping_deployments(\"svc-7\")}`); }\n".to_owned(),
            ),
            (
                "b_pages.rhai".to_owned(),
                "fn schedule(request) {\n  let total = 0; let page = 0;\n  loop {\n    let got = overlapping_deployments_page(page);\n    if got.is_empty() { break; }\n    total += got.len(); page += 1;\n  }\n  warn(\"pages\", `${total} in ${page} pages`);\n}\n".to_owned(),
            ),
            (
                "c_all.rhai".to_owned(),
                "fn schedule(request) { let all = overlapping_deployments(); }\n".to_owned(),
            ),
        ],
    )
    .unwrap();
    let now = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap();
    let d = policy.check_schedule(&request, &calendar, now);
    let message = |rule: &str| {
        d.findings_for(rule)
            .next()
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    assert_eq!(message("count"), "2500 and 50");
    assert_eq!(message("pages"), "2500 in 3 pages");
    // The whole answer at once is refused with the way out, and the change is denied.
    let error = message("policy_error");
    assert!(error.contains("c_all.rhai"), "{error}");
    assert!(
        error.contains("would return 2500 deployments, more than 1000 at once"),
        "{error}"
    );
    assert!(!d.allowed);
}
