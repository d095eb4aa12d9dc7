//! A bundle whose policy names `holidays.ics` as a blackout; the .ics is the fuzz input.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod common;

const POLICY: &str = "timezone: Europe/Berlin\nenvironments:\n  production:\n    blackouts:\n      - name: holidays\n        ics: holidays.ics\n";

fuzz_target!(|data: &[u8]| {
    let ics = String::from_utf8_lossy(data).into_owned();
    common::exercise(vec![
        ("policy.yaml".to_owned(), POLICY.to_owned()),
        ("holidays.ics".to_owned(), ics),
    ]);
});
