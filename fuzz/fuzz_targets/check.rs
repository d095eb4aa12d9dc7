//! A full check: the input is `policy.yaml`, request and calendar separated by NUL bytes;
//! check_schedule, preview and next_windows on whatever loads.
#![no_main]
use changegate::{Calendar, ChangeRequest, PolicySet};
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let p = common::parts(data, 3);
    let (Some(policy_text), Some(req_text), Some(cal_text)) = (p.first(), p.get(1), p.get(2))
    else {
        return;
    };
    let Ok(policy) =
        PolicySet::from_sources("fuzz", [("policy.yaml".to_owned(), policy_text.clone())])
    else {
        return;
    };
    let Ok(req) = ChangeRequest::from_yaml(req_text, "request.yaml") else {
        return;
    };
    let cal = Calendar::from_yaml(cal_text, "calendar.yaml").unwrap_or_default();
    let now = common::now();
    let _ = policy.check_schedule(&req, &cal, now);
    let _ = policy.preview(now, 3);
    let _ = policy.next_windows(&req, &cal, now, 2, chrono::TimeDelta::days(30));
});
