#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The script sandbox beyond what one data-driven case can say: output that must stay bounded,
//! state that must not leak from one check to the next, and hostile scripts on many threads.
//! (Each hostile bundle's decision is a case in `tests/cases/hostile/`.)

use changegate::{Calendar, ChangeRequest, Decision, PolicySet};
use chrono::{DateTime, Utc};

fn request(id: &str) -> ChangeRequest {
    ChangeRequest::from_yaml(
        &format!(
            "id: {id}\nservice: search\nenvironment: production\ntype: feature\n\
             start: 2026-12-01T22:00:00+01:00\nduration: 9h\n"
        ),
        "request.yaml",
    )
    .unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn bundle(name: &str) -> PolicySet {
    PolicySet::load(format!("tests/cases/bundles/{name}")).unwrap()
}

fn rules(d: &Decision) -> Vec<&str> {
    d.findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn a_print_loop_keeps_the_trace_bounded() {
    // 32 KiB lines printed until the operations limit: without a bound this is gigabytes.
    let policy = bundle("hostile-print-flood");
    let decision = policy.check_schedule(&request("dep-1"), &Calendar::default(), now());
    assert_eq!(rules(&decision), ["max_duration", "policy_error"]);
    let bytes: usize = decision.trace.iter().map(String::len).sum();
    assert!(bytes <= 64 * 1024 + 100, "trace holds {bytes} bytes");
    assert!(
        decision.trace.len() <= 256,
        "trace holds {} lines",
        decision.trace.len()
    );
    let last = decision.trace.last().expect("something was printed");
    assert!(last.contains("truncated"), "{last}");
    assert!(decision.to_json().to_string().len() < 200 * 1024);
}

#[test]
fn many_short_prints_are_bounded_by_lines() {
    let policy = PolicySet::from_sources(
        "b",
        [
            (
                "policy.yaml".to_owned(),
                "timezone: UTC\nenvironments:\n  production: {}\n".to_owned(),
            ),
            (
                "chatty.rhai".to_owned(),
                "fn schedule(request) {\n    for i in 0..5000 {\n        print(`line ${i}`);\n    }\n}\n"
                    .to_owned(),
            ),
        ],
    )
    .unwrap();
    let decision = policy.check_schedule(&request("dep-1"), &Calendar::default(), now());
    assert!(decision.allowed, "{:?}", decision.findings);
    assert_eq!(decision.trace[0], "line 0");
    assert!(decision.trace.len() <= 256);
    assert!(decision.trace.last().unwrap().contains("truncated"));
}

#[test]
fn trace_does_not_leak_between_checks() {
    let policy = bundle("hostile-two-scripts");
    for id in ["dep-1", "dep-2", "dep-3"] {
        let decision = policy.check_schedule(&request(id), &Calendar::default(), now());
        assert_eq!(decision.trace, [format!("checking {id}")]);
        assert_eq!(
            rules(&decision),
            ["max_duration", "policy_error", "b_works"]
        );
    }
    // A check after a truncated trace starts empty again.
    let flood = bundle("hostile-print-flood");
    let _ = flood.check_schedule(&request("dep-4"), &Calendar::default(), now());
    let decision = policy.check_schedule(&request("dep-5"), &Calendar::default(), now());
    assert_eq!(decision.trace, ["checking dep-5"]);
}

#[test]
fn findings_of_a_failed_check_do_not_leak_into_the_next() {
    let policy = bundle("hostile-deny-then-throw");
    let first = policy.check_schedule(&request("dep-1"), &Calendar::default(), now());
    let second = policy.check_schedule(&request("dep-1"), &Calendar::default(), now());
    assert_eq!(first, second);
    assert_eq!(
        rules(&second),
        ["max_duration", "custom_rule", "policy_error"]
    );
}

#[test]
fn hostile_scripts_on_many_threads_all_fail_closed() {
    let bundles: Vec<PolicySet> = [
        "hostile-loop",
        "hostile-recursion",
        "hostile-huge-string",
        "hostile-huge-array",
        "hostile-throw",
    ]
    .iter()
    .map(|b| bundle(b))
    .collect();
    let expected: Vec<Decision> = bundles
        .iter()
        .map(|p| p.check_schedule(&request("dep-1"), &Calendar::default(), now()))
        .collect();
    for d in &expected {
        assert_eq!(rules(d), ["max_duration", "policy_error"]);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let bundles = &bundles;
                scope.spawn(move || {
                    (0..bundles.len())
                        .map(|i| {
                            let p = &bundles[(i + k) % bundles.len()];
                            (
                                (i + k) % bundles.len(),
                                p.check_schedule(&request("dep-1"), &Calendar::default(), now()),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, d) in h.join().unwrap() {
                assert_eq!(d, expected[i]);
            }
        }
    });
}
