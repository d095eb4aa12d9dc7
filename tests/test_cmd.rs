#![cfg_attr(not(feature = "cli"), allow(missing_docs))]
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `changegate test`: a bundle's own tests (`tests/**/*.yaml` inside it) through the binary,
//! in each format, with a failing case, coverage below `--min-coverage`, an invalid case file
//! and `--filter`. The bundle is `tests/data/test_cmd/bundle` (three cases, one failing on
//! purpose); `tests/data/test_cmd/invalid` holds a case with a typo.

use std::process::{Command, Output};

const BUNDLE: &str = "tests/data/test_cmd/bundle";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_changegate"))
        .arg("test")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the changegate binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn a_failing_case_exits_1_with_its_diff() {
    let o = run(&[BUNDLE]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("outcome: expected `allow`, got `deny`"),
        "{out}"
    );
    assert!(out.contains("+ max_duration deny"), "{out}");
    assert!(out.ends_with("2 passed, 1 failed\n"), "{out}");
    insta::assert_snapshot!("text_failing", out);
}

#[test]
fn filter_selects_cases_by_path_or_description() {
    let o = run(&[BUNDLE, "--filter", "weekend"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "1 passed, 0 failed\n");
    // A glob on the path, and a substring of a description.
    let o = run(&[BUNDLE, "--filter", "schedule/s*.yaml"]);
    assert_eq!(stdout(&o), "1 passed, 0 failed\n");
    let o = run(&[BUNDLE, "--filter", "three-hour"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).ends_with("0 passed, 1 failed\n"));
}

#[test]
fn coverage_is_reported_and_a_minimum_enforced() {
    let passing = [BUNDLE, "--filter", "weekend", "--coverage"];
    let o = run(&passing);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("coverage_text", stdout(&o));
    // 2 of 4 items (the blackout rule and the weekend freeze): 50% < 60%.
    let mut below = passing.to_vec();
    below.extend(["--min-coverage", "60"]);
    let o = run(&below);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("coverage 50% is below the minimum 60%"),
        "{}",
        stdout(&o)
    );
    let mut above = passing.to_vec();
    above.extend(["--min-coverage", "50"]);
    assert_eq!(run(&above).status.code(), Some(0));
}

#[test]
fn json_has_cases_summary_and_coverage() {
    let o = run(&[BUNDLE, "--format", "json", "--coverage"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["passed"], 2);
    assert_eq!(v["summary"]["failed"], 1);
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    let failed = &cases[1];
    assert_eq!(
        failed["file"],
        "tests/data/test_cmd/bundle/tests/schedule/too-long-wrong.yaml"
    );
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["diff"]
            .as_str()
            .unwrap()
            .contains("+ max_duration deny")
    );
    assert_eq!(cases[0]["diff"], "");
    assert_eq!(v["coverage"]["covered"], 3);
    assert_eq!(v["coverage"]["total"], 4);
    assert_eq!(v["coverage"]["kinds"]["blackouts"]["covered"], 1);
    insta::assert_snapshot!("json", stdout(&o));
    // Without --coverage, `coverage` is null.
    let o = run(&[BUNDLE, "--format", "json", "--filter", "weekend"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["coverage"].is_null());
}

#[test]
fn junit_is_escaped_xml() {
    let o = run(&[BUNDLE, "--format", "junit"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite "));
    assert!(
        out.contains("tests=\"3\" failures=\"1\" errors=\"0\""),
        "{out}"
    );
    assert!(out.contains("<failure message=\"outcome: expected `allow`, got `deny`\">"));
    // The description's `&`, `"` and `<` are escaped.
    assert!(
        out.contains("name=\"a three-hour change &amp; an &quot;allow&quot; &lt;expectation&gt;: wrong on purpose\""),
        "{out}"
    );
    insta::assert_snapshot!("junit", out);
}

#[test]
fn an_invalid_case_file_exits_2_with_file_line_and_field() {
    let o = run(&["tests/data/test_cmd/invalid"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("tests/data/test_cmd/invalid/tests/typo.yaml:6:3:"),
        "{out}"
    );
    assert!(out.contains("unknown field `absnt`"), "{out}");
    assert!(out.contains("expect.absnt"), "{out}");
    insta::assert_snapshot!("invalid", out);
    let o = run(&["tests/data/test_cmd/invalid", "--format", "junit"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("<error message="));
}

#[test]
fn an_invalid_bundle_exits_2() {
    let o = run(&["tests/data/test_cmd/no-such-bundle"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-bundle"), "{}", stderr(&o));
}

#[test]
fn the_default_bundle_passes_with_full_coverage() {
    let o = run(&["policies", "--coverage", "--min-coverage", "100"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("  overall    41/41 (100%)") || out.contains("(100%)\nnote"),
        "{out}"
    );
    assert!(
        out.contains("script line coverage is not measured"),
        "{out}"
    );
}

#[test]
fn the_bundle_path_may_be_written_any_way() {
    // Expected sources in a bundle's tests may be relative to the bundle, so `./policies`
    // and an absolute path pass as `policies` does.
    for path in [
        "./policies".to_owned(),
        format!("{}/policies", env!("CARGO_MANIFEST_DIR")),
    ] {
        let o = run(&[&path]);
        assert_eq!(o.status.code(), Some(0), "{path}: {}", stdout(&o));
    }
}
