#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The data-driven cases: every `tests/cases/**/*.yaml` file is one case (a request, an optional
//! calendar and policy bundle, `now`, and the expected decision). Adding a case is adding a file.
//!
//! `tests/cases/bundles/` holds the policy bundles that cases name with `policy:`; it holds no
//! cases itself. The case format, and what is compared, are documented in
//! [`changegate::testing`], which reads and runs every case here; this file only finds them and
//! fails once at the end, listing every case that did not match or could not run.

use std::path::PathBuf;

use changegate::PolicySet;
use changegate::testing::{find_cases, run_case_file};

#[test]
fn data_driven_cases() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("tests").join("cases");
    let paths = find_cases(&root).expect("the case folder is readable");
    let builtin = PolicySet::builtin().expect("the built-in bundle loads");
    let mut failures = Vec::new();
    for path in &paths {
        // Relative to the package root (cargo runs tests there), so that the finding sources of
        // the bundles cases name read like `tests/cases/bundles/x/y.rhai:3`.
        let path = path.strip_prefix(&manifest).unwrap_or(path);
        match run_case_file(path, &builtin) {
            Ok(outcome) if outcome.passed() => {}
            Ok(outcome) => failures.push(outcome.to_string()),
            Err(e) => failures.push(format!("{}: cannot run: {e}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n\n")
    );
    // Guards against a runner that silently finds nothing (a moved folder, a wrong filter).
    assert!(
        paths.len() >= 50,
        "expected the case folder to hold many cases, found {}",
        paths.len()
    );
}
