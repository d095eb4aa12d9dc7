//! Embedding changegate in a deploy tool: load the policy once, index the calendar once, then
//! check requests (here from the files in examples/) and act on the decision.
//!
//! `cargo run --example embed [POLICY_DIR]`
#![allow(missing_docs)]

use std::error::Error;

use changegate::{Calendar, ChangeRequest, PolicySet, Severity};

fn main() -> Result<(), Box<dyn Error>> {
    let policy = match std::env::args().nth(1) {
        Some(dir) => PolicySet::load(dir)?,
        None => PolicySet::builtin()?,
    };
    let calendar_path = "examples/calendar.yaml";
    let calendar = Calendar::from_yaml(&std::fs::read_to_string(calendar_path)?, calendar_path)?;
    // The check's time is an input; a deploy bot would pass its own clock reading here.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z")?;

    for path in ["examples/request.yaml", "examples/request-friday.yaml"] {
        let request = ChangeRequest::from_yaml(&std::fs::read_to_string(path)?, path)?;
        let decision = policy.check_schedule(&request, &calendar, now);
        println!("{}: {}", request.id, decision.outcome.as_str());
        for finding in &decision.findings {
            let mark = match finding.severity {
                Severity::Deny => "x",
                Severity::Warn => "!",
                // `pending`, and any severity a later version adds.
                _ => "?",
            };
            println!("  {mark} {}: {}", finding.rule, finding.message);
        }
    }
    println!("policy {}", policy.digest());
    Ok(())
}
