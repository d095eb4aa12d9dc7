#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hostile and careless input (issue 8, items 11-18 and the error quoting of 19a): size caps,
//! non-regular files, deep nesting, byte order marks, leap seconds and years out of range,
//! starts in the past, self-dependencies, scripts in subdirectories, calendar environments the
//! policy does not know, and bounded output. Each was a failure before it was fixed.

use std::path::Path;
use std::time::{Duration, Instant};

use changegate::{
    Calendar, ChangeRequest, InputLimits, LoadErrorKind, PolicySet, RuleId, read_input_file,
};
use chrono::{DateTime, Utc};

const REQUEST: &str = "id: dep-1\nservice: checkout\nenvironment: production\ntype: feature\n\
     start: 2026-12-01T22:00:00+01:00\nduration: 2h\n";

fn now() -> DateTime<Utc> {
    "2026-11-25T09:00:00Z".parse().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// Item 12: size caps and non-regular files.

#[test]
fn text_over_the_size_limit_is_refused_naming_the_limit_and_how_to_raise_it() {
    let limits = InputLimits {
        max_bytes: 64,
        ..InputLimits::default()
    };
    let err = ChangeRequest::from_yaml_with_limits(REQUEST, "r.yaml", &limits).unwrap_err();
    assert!(
        err.message.contains("more than the limit of 64 bytes"),
        "{err}"
    );
    assert!(err.message.contains("--max-input-bytes"), "{err}");
    assert!(err.message.contains("InputLimits::max_bytes"), "{err}");
    let err = Calendar::from_yaml_with_limits(&"#".repeat(65), "c.yaml", &limits).unwrap_err();
    assert!(err.message.contains("limit of 64 bytes"), "{err}");
    // Within the limit: read.
    assert!(
        ChangeRequest::from_yaml_with_limits(REQUEST, "r.yaml", &InputLimits::default()).is_ok()
    );
    assert_eq!(InputLimits::default().max_bytes, 16 * 1024 * 1024);
    assert_eq!(changegate::DEFAULT_MAX_INPUT_BYTES, 16 * 1024 * 1024);
}

#[test]
fn files_over_the_size_limit_are_refused_reading_at_most_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "big.yaml", &"# pad\n".repeat(1000));
    let limits = InputLimits {
        max_bytes: 100,
        ..InputLimits::default()
    };
    let err = read_input_file(&path, &limits).unwrap_err();
    assert!(
        err.message.contains("larger than the limit of 100 bytes"),
        "{err}"
    );
    assert!(err.location.file.ends_with("big.yaml"), "{err}");
}

#[test]
fn policy_files_over_the_size_limit_are_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "policy.yaml",
        "timezone: UTC\nenvironments: {}\n",
    );
    write(
        dir.path(),
        "big.rhai",
        &format!("fn schedule(r) {{}}\n{}", "// pad\n".repeat(100)),
    );
    let limits = InputLimits {
        max_bytes: 200,
        ..InputLimits::default()
    };
    let err = PolicySet::load_with_limits(dir.path(), &limits).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Io);
    assert!(err.location.file.ends_with("big.rhai"), "{err}");
    assert!(err.message.contains("limit of 200 bytes"), "{err}");
    assert!(PolicySet::load(dir.path()).is_ok());
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_directories_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let mut paths = vec![
        Path::new("/dev/zero").to_path_buf(),
        dir.path().to_path_buf(),
    ];
    if made {
        paths.push(fifo.clone());
    }
    let started = Instant::now();
    for path in &paths {
        let err = read_input_file(path, &InputLimits::default()).unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}: {err}",
            path.display()
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // A FIFO (or /dev/zero) named like a bundle file is refused too.
    let bundle = dir.path().join("bundle");
    write(&bundle, "policy.yaml", "timezone: UTC\n");
    std::os::unix::fs::symlink("/dev/zero", bundle.join("zero.rhai")).unwrap();
    let err = PolicySet::load(&bundle).unwrap_err();
    assert!(err.message.contains("not a regular file"), "{err}");
    // A policy "directory" that is a file.
    let err = PolicySet::load(bundle.join("policy.yaml")).unwrap_err();
    assert!(err.message.contains("is a directory"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Item 11: nesting depth, checked in linear time before the YAML parser.

#[test]
fn deep_flow_nesting_fails_fast_with_line_and_column() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let n = 100_000;
        let text = format!("id: {}1{}\n", open.repeat(n), close.repeat(n));
        let started = Instant::now();
        let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(err.message.contains("deeper than 64 levels"), "{err}");
        assert_eq!(err.location.line, Some(1), "{err}");
        assert!(err.location.column.is_some(), "{err}");
        // The message quotes none of it.
        assert!(err.message.len() < 300, "{}", err.message.len());
    }
    // JSON too (read by serde_json, checked by the same pass).
    let text = format!("{{\"id\": {}1{}}}", "[".repeat(70), "]".repeat(70));
    let err = ChangeRequest::from_yaml(&text, "r.json").unwrap_err();
    assert!(err.message.contains("deeper than 64 levels"), "{err}");
}

#[test]
fn deep_block_nesting_fails_with_its_line() {
    let mut text = String::from("labels:\n");
    for i in 0..100 {
        text.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 1)));
    }
    let err = ChangeRequest::from_yaml(&format!("{REQUEST}{text}"), "r.yaml").unwrap_err();
    assert!(err.message.contains("deeper than 64 levels"), "{err}");
    assert_eq!(err.location.line, Some(6 + 64 + 1), "{err}");
    // Ordinary nesting is read.
    let labels = "labels: {team: {name: payments, owners: [[a, b], {c: d}]}}\n";
    assert!(ChangeRequest::from_yaml(&format!("{REQUEST}{labels}"), "r.yaml").is_ok());
}

#[test]
fn deep_policy_nesting_is_a_config_error() {
    let text = format!(
        "timezone: UTC\ndescription: {}x{}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    let err = PolicySet::from_sources("b", [("policy.yaml".to_owned(), text)]).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::Config);
    assert!(err.message.contains("deeper than 64 levels"), "{err}");
    assert_eq!(err.location.line, Some(2), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Items 13 and 14: byte order marks, leap seconds, years.

#[test]
fn a_byte_order_mark_is_accepted_everywhere() {
    let req = ChangeRequest::from_yaml(&format!("\u{feff}{REQUEST}"), "r.yaml").unwrap();
    assert_eq!(req.id.as_str(), "dep-1");
    let json = "\u{feff}{\"id\": \"dep-1\", \"service\": \"a\", \"environment\": \"production\", \
         \"type\": \"feature\", \"start\": \"2026-12-01T22:00:00Z\", \"duration\": \"1h\"}";
    assert!(ChangeRequest::from_yaml(json, "r.json").is_ok());
    let cal = Calendar::from_yaml("\u{feff}blackouts: []\n", "c.yaml").unwrap();
    assert!(cal.is_empty());
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "policy.yaml",
        "\u{feff}timezone: UTC\nenvironments:\n  production: {}\n",
    );
    write(dir.path(), "s.rhai", "\u{feff}fn schedule(request) {}\n");
    let path = write(dir.path(), "request.yaml", &format!("\u{feff}{REQUEST}"));
    assert!(PolicySet::load(dir.path()).is_ok());
    assert!(
        !read_input_file(&path, &InputLimits::default())
            .unwrap()
            .starts_with('\u{feff}')
    );
}

#[test]
fn leap_seconds_are_rejected_with_a_clear_error() {
    let text = REQUEST.replace("2026-12-01T22:00:00+01:00", "2026-12-31T23:59:60Z");
    let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("start"), "{err}");
    assert!(err.message.contains("leap second"), "{err}");
    let cal = "blackouts:\n  - {name: x, from: 2026-06-30T23:59:60Z, to: 2026-07-01T01:00:00Z}\n";
    let err = Calendar::from_yaml(cal, "c.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("blackouts[0].from"), "{err}");
}

#[test]
fn years_outside_0001_to_9999_are_rejected_so_every_instant_written_reads_back() {
    for bad in ["0000-12-01T22:00:00Z", "9999-12-31T23:30:00-01:00"] {
        let text = REQUEST.replace("2026-12-01T22:00:00+01:00", bad);
        let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
        assert!(
            err.message.contains("between 0001 and 9999"),
            "{bad}: {err}"
        );
    }
    // A change ending after 9999 is refused too: its end would be written `+10000-...`.
    let text = REQUEST
        .replace("2026-12-01T22:00:00+01:00", "9999-12-31T22:00:00Z")
        .replace("duration: 2h", "duration: 3h");
    let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("duration"), "{err}");
    // The latest change that fits is read, checked, and its decision's instants read back.
    let text = REQUEST.replace("2026-12-01T22:00:00+01:00", "9999-12-31T21:00:00Z");
    let req = ChangeRequest::from_yaml(&text, "r.yaml").unwrap();
    let policy = PolicySet::builtin().unwrap();
    let json = policy
        .check_schedule(&req, &Calendar::default(), now())
        .to_json()
        .to_string();
    assert!(!json.contains("+10000"), "{json}");
}

// ---------------------------------------------------------------------------------------------
// Items 15 and 16: starts in the past, self-dependencies.

#[test]
fn a_start_before_now_is_denied_by_start_in_past_in_every_environment() {
    let policy = PolicySet::builtin().unwrap();
    let later: DateTime<Utc> = "2027-12-01T00:00:00Z".parse().unwrap();
    for env in ["production", "staging", "development"] {
        for ty in ["feature", "hotfix", "emergency"] {
            let text = REQUEST.replace("production", env).replace("feature", ty);
            let req = ChangeRequest::from_yaml(&text, "r.yaml").unwrap();
            let d = policy.check_schedule(&req, &Calendar::default(), later);
            assert!(!d.allowed, "{env} {ty}");
            assert!(
                d.findings
                    .iter()
                    .any(|f| f.rule.as_str() == RuleId::START_IN_PAST),
                "{env} {ty}: {:?}",
                d.findings
            );
        }
    }
    // The window search never offers a start before now.
    let req = ChangeRequest::from_yaml(&REQUEST.replace("production", "development"), "r").unwrap();
    let answer = policy.next_windows(
        &req,
        &Calendar::default(),
        later,
        1,
        chrono::TimeDelta::days(2),
    );
    assert!(
        answer.windows.iter().all(|w| w.start.to_utc() >= later),
        "{answer:?}"
    );
}

#[test]
fn depends_on_naming_the_request_itself_is_invalid_input() {
    let text = format!("{REQUEST}depends_on: [dep-0, dep-1]\n");
    let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("depends_on[1]"), "{err}");
    assert!(err.message.contains("depend on itself"), "{err}");
    assert_eq!(err.location.line, Some(7), "{err}");
}

#[test]
fn the_requests_own_calendar_entry_never_counts_against_it() {
    let policy = PolicySet::builtin().unwrap();
    let calendar = Calendar::from_yaml(
        &format!(
            "deployments:\n  - {}",
            REQUEST.trim_end().replace('\n', "\n    ")
        ),
        "c.yaml",
    )
    .unwrap();
    // Built by hand (reading refuses it): it depends on itself and is in the calendar.
    let mut req = ChangeRequest::from_yaml(REQUEST, "r.yaml").unwrap();
    req.depends_on.push("dep-1".into());
    let d = policy.check_schedule(&req, &calendar, now());
    assert!(
        d.findings
            .iter()
            .all(|f| f.rule.as_str() != RuleId::DEPENDENCY && f.rule.as_str() != RuleId::CONFLICT),
        "{:?}",
        d.findings
    );
}

// ---------------------------------------------------------------------------------------------
// Item 17: scripts in subdirectories, names in another case, unknown calendar environments.

#[test]
fn scripts_in_subdirectories_are_loaded() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "policy.yaml",
        "timezone: UTC\nenvironments:\n  production: {}\n",
    );
    write(
        dir.path(),
        "team/extra.rhai",
        "fn schedule(request) { deny(\"from_subdir\", \"denied by a script in a subdirectory\"); }\n",
    );
    let policy = PolicySet::load(dir.path()).unwrap();
    let req = ChangeRequest::from_yaml(REQUEST, "r.yaml").unwrap();
    let d = policy.check_schedule(&req, &Calendar::default(), now());
    let f = d
        .findings
        .iter()
        .find(|f| f.rule.as_str() == "from_subdir")
        .expect("the script in team/ ran");
    assert!(
        f.source
            .as_deref()
            .unwrap_or("")
            .contains("team/extra.rhai"),
        "{f:?}"
    );
}

#[test]
fn a_script_named_in_another_case_is_a_load_error() {
    for name in ["check.RHAI", "sub/check.Rhai", "holidays.ICS"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "policy.yaml", "timezone: UTC\n");
        write(dir.path(), name, "fn schedule(request) {}\n");
        let err = PolicySet::load(dir.path()).unwrap_err();
        assert!(err.message.contains("another case"), "{name}: {err}");
        assert!(
            err.location
                .file
                .ends_with(name.rsplit('/').next().unwrap()),
            "{err}"
        );
    }
}

#[test]
fn calendar_environments_the_policy_does_not_know_are_errors_with_a_suggestion() {
    let policy = PolicySet::builtin().unwrap();
    let limits = InputLimits::default();
    let cal = "blackouts:\n  - name: freeze\n    from: 2026-12-01T00:00:00Z\n    to: 2026-12-02T00:00:00Z\n    environments: [production, prod]\n";
    let err = Calendar::from_yaml_checked(cal, "c.yaml", &policy, &limits).unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("blackouts[0].environments[1]"),
        "{err}"
    );
    assert!(
        err.message
            .contains("environment `prod` is not in the policy"),
        "{err}"
    );
    assert!(err.message.contains("did you mean `production`?"), "{err}");
    let cal = "deployments:\n  - {id: a, service: s, environment: stagng, type: feature, start: 2026-12-01T00:00:00Z, duration: 1h}\n";
    let err = Calendar::from_yaml_checked(cal, "c.yaml", &policy, &limits).unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("deployments[0].environment"),
        "{err}"
    );
    assert!(err.message.contains("did you mean `staging`?"), "{err}");
    let cal = "deployments:\n  - {id: a, service: s, environment: qa, type: feature, start: 2026-12-01T00:00:00Z, duration: 1h}\n";
    let err = Calendar::from_yaml_checked(cal, "c.yaml", &policy, &limits).unwrap_err();
    assert!(!err.message.contains("did you mean"), "{err}");
    // Known environments are read as before.
    let cal = cal.replace("qa", "production");
    assert!(Calendar::from_yaml_checked(&cal, "c.yaml", &policy, &limits).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Item 18 and 19a: bounded output and bounded quoting.

#[test]
fn many_failing_dependencies_become_one_finding_and_the_decision_stays_small() {
    let ids: Vec<String> = (0..100_000).map(|i| format!("dep-x{i}")).collect();
    let text = format!("{REQUEST}depends_on: [{}]\n", ids.join(", "));
    let req = ChangeRequest::from_yaml(&text, "r.yaml").unwrap();
    let policy = PolicySet::builtin().unwrap();
    let d = policy.check_schedule(&req, &Calendar::default(), now());
    let deps: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == RuleId::DEPENDENCY)
        .collect();
    assert_eq!(deps.len(), 1, "{deps:?}");
    assert_eq!(deps[0].details["count"], 100_000);
    assert_eq!(deps[0].details["deployments"].as_array().unwrap().len(), 20);
    let json = d.to_json().to_string();
    assert!(json.len() < 1024 * 1024, "{}", json.len());
    // Twenty or fewer are reported one by one, as before.
    let text = format!("{REQUEST}depends_on: [{}]\n", ids[..20].join(", "));
    let req = ChangeRequest::from_yaml(&text, "r.yaml").unwrap();
    let d = policy.check_schedule(&req, &Calendar::default(), now());
    let n = d
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == RuleId::DEPENDENCY)
        .count();
    assert_eq!(n, 20);
}

#[test]
fn errors_quote_at_most_a_few_hundred_characters_of_the_input() {
    let long = "9".repeat(100_000);
    let text = REQUEST.replace("duration: 2h", &format!("duration: {long}x"));
    let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
    assert!(err.message.len() < 500, "{}", err.message.len());
    let text = REQUEST.replace("type: feature", &format!("type: [{long}]"));
    let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
    assert!(err.message.len() < 500, "{}", err.message.len());
    let text = format!("{REQUEST}depends_on: [{long}, dep-1]\n")
        .replace("id: dep-1", &format!("id: {long}"));
    let err = ChangeRequest::from_yaml(&text, "r.yaml").unwrap_err();
    assert!(err.message.len() < 500, "{}", err.message.len());
}

#[test]
fn many_conflicts_and_calendar_blackouts_are_listed_in_part() {
    let mut cal = String::from("deployments:\n");
    for i in 0..5_000 {
        cal.push_str(&format!(
            "  - {{id: other-{i}, service: checkout, environment: production, type: feature, \
             start: 2026-12-01T21:00:00Z, duration: 2h}}\n"
        ));
    }
    cal.push_str("blackouts:\n");
    for i in 0..5_000 {
        cal.push_str(&format!(
            "  - {{name: freeze-{i}, from: 2026-12-01T20:00:00Z, to: 2026-12-02T20:00:00Z}}\n"
        ));
    }
    let calendar = Calendar::from_yaml(&cal, "c.yaml").unwrap();
    let req = ChangeRequest::from_yaml(REQUEST, "r.yaml").unwrap();
    let policy = PolicySet::builtin().unwrap();
    let d = policy.check_schedule(&req, &calendar, now());
    let json = d.to_json().to_string();
    assert!(json.len() < 64 * 1024, "{}", json.len());
    let find = |rule: &str| {
        d.findings
            .iter()
            .filter(|f| f.rule.as_str() == rule)
            .collect::<Vec<_>>()
    };
    let conflict = find(RuleId::CONFLICT);
    assert_eq!(conflict.len(), 1);
    assert_eq!(conflict[0].details["count"], 5_000);
    assert_eq!(
        conflict[0].details["deployments"].as_array().unwrap().len(),
        20
    );
    assert!(
        conflict[0].message.contains("and 4980 more"),
        "{}",
        conflict[0].message
    );
    let concurrency = find(RuleId::CONCURRENCY);
    assert_eq!(concurrency[0].details["count"], 5_000);
    let calendar_blackouts: Vec<_> = find(RuleId::BLACKOUT)
        .into_iter()
        .filter(|f| f.details.get("count").is_some())
        .collect();
    assert_eq!(calendar_blackouts.len(), 1);
    assert_eq!(calendar_blackouts[0].details["count"], 5_000);
}

#[test]
fn an_unknown_request_environment_suggests_a_close_one() {
    let policy = PolicySet::builtin().unwrap();
    let req = ChangeRequest::from_yaml(&REQUEST.replace("production", "prod"), "r.yaml").unwrap();
    let d = policy.check_schedule(&req, &Calendar::default(), now());
    let f = &d.findings[0];
    assert_eq!(f.rule.as_str(), RuleId::UNKNOWN_ENVIRONMENT);
    assert!(
        f.message.contains("did you mean `production`?"),
        "{}",
        f.message
    );
}

#[test]
fn policy_errors_quote_a_bounded_part_of_the_input() {
    let long = "Z".repeat(100_000);
    for text in [
        format!("timezone: {long}\n"),
        format!(
            "timezone: UTC\nenvironments:\n  production:\n    advance_notice: {{min: {long}}}\n"
        ),
        format!("timezone: UTC\n{long}: 1\n"),
    ] {
        let err = PolicySet::from_sources("b", [("policy.yaml".to_owned(), text)]).unwrap_err();
        assert!(
            err.message.chars().count() < changegate::MAX_MESSAGE_CHARS + 40,
            "{}",
            err.message.len()
        );
    }
}
