//! `Calendar::from_yaml` on any text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = changegate::Calendar::from_yaml(text, "calendar.yaml");
    }
});
