//! The approvals question and readiness: the input is `policy.yaml`, a request, an approvals
//! list and a directory separated by NUL bytes; `check_approvals` and `evaluate` at every risk
//! level on whatever loads (the parsers of approvals and directories included).
#![no_main]
use changegate::{Approval, ChangeRequest, Directory, Evidence, PolicySet, RiskLevel};
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let p = common::parts(data, 4);
    let (Some(policy_text), Some(req_text), Some(approvals_text), Some(dir_text)) =
        (p.first(), p.get(1), p.get(2), p.get(3))
    else {
        return;
    };
    let approvals = Approval::list_from_yaml(approvals_text, "approvals.yaml").unwrap_or_default();
    let directory = Directory::from_yaml(dir_text, "directory.yaml").unwrap_or_default();
    let Ok(policy) =
        PolicySet::from_sources("fuzz", [("policy.yaml".to_owned(), policy_text.clone())])
    else {
        return;
    };
    let Ok(req) = ChangeRequest::from_yaml(req_text, "request.yaml") else {
        return;
    };
    let now = common::now();
    let evidence = Evidence::new()
        .with_approvals(approvals)
        .with_directory(directory);
    let _ = policy
        .check_approvals(&req, &evidence, now)
        .to_json()
        .to_string();
    for level in RiskLevel::ALL {
        let e = evidence.clone().with_risk_level(level);
        let _ = policy.check_approvals(&req, &e, now).to_json().to_string();
    }
    let _ = policy.evaluate(&req, &evidence, now).to_json().to_string();
});
