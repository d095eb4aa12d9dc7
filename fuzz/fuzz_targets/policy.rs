//! A bundle whose `policy.yaml` is the fuzz input; when it loads, a check, a preview and
//! next_windows.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    common::exercise(vec![("policy.yaml".to_owned(), text)]);
});
