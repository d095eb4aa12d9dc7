//! Fixed inputs shared by the targets: a request, a policy, a time of check.
#![allow(dead_code)]

use changegate::{Calendar, ChangeRequest, PolicySet};
use chrono::{DateTime, Utc};

pub const REQUEST: &str = include_str!("../../examples/request.yaml");
pub const CALENDAR: &str = include_str!("../../examples/calendar.yaml");
pub const POLICY: &str = include_str!("../../policies/policy.yaml");

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

pub fn request() -> Option<ChangeRequest> {
    ChangeRequest::from_yaml(REQUEST, "request.yaml").ok()
}

pub fn calendar() -> Calendar {
    Calendar::from_yaml(CALENDAR, "calendar.yaml").unwrap_or_default()
}

/// Loads a bundle and, when it loads, checks the example request and asks for windows.
pub fn exercise(files: Vec<(String, String)>) {
    let Ok(policy) = PolicySet::from_sources("fuzz", files) else {
        return;
    };
    let _ = policy.preview(now(), 3);
    if let Some(req) = request() {
        let cal = calendar();
        let _ = policy.check_schedule(&req, &cal, now());
        let _ = policy.next_windows(&req, &cal, now(), 2, chrono::TimeDelta::days(30));
    }
}

/// The fuzz input split at NUL bytes into at most `n` texts (missing ones are empty).
pub fn parts(data: &[u8], n: usize) -> Vec<String> {
    let mut out: Vec<String> = data
        .splitn(n, |b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    out.resize(n, String::new());
    out
}
