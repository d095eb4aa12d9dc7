#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The data-driven case runner reads case files through the same capped reader as every other
//! input: a non-regular or huge case file is a clear error naming the file, never a hang or
//! unbounded memory.

use std::sync::mpsc;
use std::time::Duration;

use changegate::InputLimits;
use changegate::testing::{Case, run_case_file};

const CASE: &str = "description: a case\nnow: 2026-11-25T09:00:00Z\n\
    request: {id: d, service: s, environment: production, type: feature,\n\
              start: '2026-12-01T22:00:00+01:00', duration: 1h}\n\
    expect: {outcome: allow}\n";

/// Runs `f` on a thread, failing the test (instead of hanging) after a few seconds.
fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("reading the case file did not return within 10 s")
}

#[cfg(unix)]
#[test]
fn a_case_path_that_is_not_a_regular_file_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = vec![dir.path().to_path_buf(), "/dev/zero".into()];
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        paths.push(fifo);
    }
    for path in paths {
        let shown = path.display().to_string();
        let err = within_seconds(move || Case::load(&path).unwrap_err());
        assert_eq!(err.location.file, shown);
        assert!(err.message.contains("not a regular file"), "{shown}: {err}");
    }
}

#[test]
fn a_case_file_over_the_size_limit_is_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    // Over the default limit of 16 MiB: a comment padding a valid case.
    let pad = "# pad\n".repeat(16 * 1024 * 1024 / 6 + 1);
    std::fs::write(&path, format!("{CASE}{pad}")).unwrap();
    let err = Case::load(&path).unwrap_err();
    assert!(
        err.message
            .contains("the file is larger than the limit of 16777216 bytes"),
        "{err}"
    );
    assert!(err.message.contains("--max-input-bytes"), "{err}");
    // The runner's entry point says the same.
    let err = run_case_file(&path, &changegate::PolicySet::builtin().unwrap()).unwrap_err();
    assert!(err.to_string().contains("larger than the limit"), "{err}");

    // A smaller limit, given explicitly; within it the case reads.
    let small = dir.path().join("small.yaml");
    std::fs::write(&small, CASE).unwrap();
    let limits = InputLimits {
        max_bytes: 64,
        ..InputLimits::default()
    };
    let err = Case::load_with_limits(&small, &limits).unwrap_err();
    assert!(err.message.contains("limit of 64 bytes"), "{err}");
    assert_eq!(Case::load(&small).unwrap().description(), "a case");
}
