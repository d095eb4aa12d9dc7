//! `changegate test`: run a bundle's own tests (`tests/**/*.yaml` inside the bundle) and,
//! with `--coverage`, report what they exercised of it.

use std::fmt::Write as _;
use std::path::PathBuf;

use changegate::testing::{COVERAGE_KINDS, Coverage, TestReport, run_bundle_tests};
use clap::{Args, ValueEnum};

use crate::exit;
use crate::render::{print, print_json};

#[derive(Args)]
pub(crate) struct TestArgs {
    /// The bundle directory (policy.yaml, *.rhai, and its tests in tests/); `policies` if absent.
    bundle: Option<PathBuf>,
    /// Run only the cases whose path (relative to tests/) or description contains this text,
    /// or matches it as a glob (`*`, `?`).
    #[arg(long)]
    filter: Option<String>,
    /// Report which rules, blackouts, windows, risk factors, approval rules, gates, rollback
    /// triggers and scripts the cases exercised.
    #[arg(long)]
    coverage: bool,
    /// Exit 1 when the overall coverage is below this percentage (implies --coverage).
    #[arg(long, value_name = "N")]
    min_coverage: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: TestFormat,
}

/// `--format` of `changegate test`.
#[derive(Clone, Copy, ValueEnum)]
enum TestFormat {
    Text,
    Json,
    Junit,
}

pub(crate) fn run(args: &TestArgs) -> crate::CommandResult {
    let bundle = args
        .bundle
        .clone()
        .unwrap_or_else(|| PathBuf::from("policies"));
    let report = run_bundle_tests(&bundle, args.filter.as_deref()).map_err(|e| match e {
        changegate::testing::BundleTestError::Policy(e) => crate::input::Invalid::from(*e),
        changegate::testing::BundleTestError::Folder(e) => crate::input::Invalid::from(e),
        other => crate::input::invalid(&bundle.display().to_string(), other.to_string()),
    })?;
    let show_coverage = args.coverage || args.min_coverage.is_some();
    let coverage = report.coverage();
    let below = args
        .min_coverage
        .is_some_and(|min| coverage.percent(None) < min);
    match args.format {
        TestFormat::Text => print(&text(&report, show_coverage, args.min_coverage)),
        TestFormat::Json => print_json(&json(&report, show_coverage, args.min_coverage)),
        TestFormat::Junit => print(&junit(&bundle, &report)),
    }
    let (_, failed, invalid) = report.counts();
    Ok(if invalid > 0 {
        exit::INVALID
    } else if failed > 0 || below {
        exit::DENIED
    } else {
        exit::OK
    })
}

fn text(report: &TestReport, show_coverage: bool, min: Option<f64>) -> String {
    let mut out = String::new();
    for case in report.cases() {
        match case.status() {
            "passed" => {}
            status => {
                let _ = match case.description() {
                    "" => writeln!(out, "{}: {status}", case.path().display()),
                    d => writeln!(out, "{}: {status} ({d})", case.path().display()),
                };
                for line in case.diff().lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
    }
    let (passed, failed, invalid) = report.counts();
    let _ = write!(out, "{passed} passed, {failed} failed");
    if invalid > 0 {
        let _ = write!(out, ", {invalid} invalid");
    }
    out.push('\n');
    if show_coverage {
        out.push_str(&coverage_text(report.coverage(), min));
    }
    out
}

fn coverage_text(c: &Coverage, min: Option<f64>) -> String {
    let mut out = String::from("coverage:\n");
    for kind in COVERAGE_KINDS {
        let (covered, total) = c.count(Some(kind));
        if total == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "  {kind:<10} {covered}/{total} ({}%)",
            c.percent(Some(kind))
        );
    }
    let (covered, total) = c.count(None);
    let _ = writeln!(
        out,
        "  {:<10} {covered}/{total} ({}%)",
        "overall",
        c.percent(None)
    );
    let uncovered: Vec<String> = c
        .uncovered()
        .map(|i| format!("  - {} {} ({})", i.kind, i.name, i.environment))
        .collect();
    if !uncovered.is_empty() {
        out.push_str("never exercised:\n");
        for line in uncovered {
            out.push_str(&line);
            out.push('\n');
        }
    }
    let _ = writeln!(out, "note: {}", changegate::testing::SCRIPT_LINES_NOTE);
    if let Some(min) = min {
        if c.percent(None) < min {
            let _ = writeln!(
                out,
                "coverage {}% is below the minimum {min}%",
                c.percent(None)
            );
        }
    }
    out
}

fn json(report: &TestReport, show_coverage: bool, min: Option<f64>) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = report
        .cases()
        .iter()
        .map(|c| {
            serde_json::json!({
                "file": c.path().display().to_string(),
                "description": c.description(),
                "status": c.status(),
                "diff": c.diff(),
            })
        })
        .collect();
    let (passed, failed, invalid) = report.counts();
    let coverage = if show_coverage {
        let mut v = report.coverage().to_json();
        if let (Some(min), Some(map)) = (min, v.as_object_mut()) {
            map.insert("min".into(), min.into());
        }
        v
    } else {
        serde_json::Value::Null
    };
    serde_json::json!({
        "cases": cases,
        "summary": {"passed": passed, "failed": failed, "invalid": invalid, "total": cases.len()},
        "coverage": coverage,
    })
}

/// JUnit XML (the testsuite/testcase/failure subset CI tools read), written by hand.
fn junit(bundle: &std::path::Path, report: &TestReport) -> String {
    let (_, failed, invalid) = report.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"{invalid}\">",
        xml(&bundle.display().to_string()),
        report.cases().len()
    );
    for case in report.cases() {
        let _ = write!(
            out,
            "  <testcase classname=\"{}\" name=\"{}\"",
            xml(&case.path().display().to_string()),
            xml(case.description())
        );
        let element = match case.status() {
            "passed" => {
                out.push_str("/>\n");
                continue;
            }
            "failed" => "failure",
            _ => "error",
        };
        let diff = case.diff();
        let first = diff.lines().next().unwrap_or("");
        let _ = writeln!(
            out,
            ">\n    <{element} message=\"{}\">{}</{element}>\n  </testcase>",
            xml(first),
            xml(&diff)
        );
    }
    out.push_str("</testsuite>\n");
    out
}

/// Escapes text for XML attributes and content; characters XML 1.0 cannot hold at all become
/// U+FFFD.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
