//! The default policy plus a fuzzed `fuzz.rhai`, then a check and next_windows.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let script = String::from_utf8_lossy(data).into_owned();
    common::exercise(vec![
        ("policy.yaml".to_owned(), common::POLICY.to_owned()),
        ("fuzz.rhai".to_owned(), script),
    ]);
});
