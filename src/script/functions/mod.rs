//! The functions scripts can call, grouped by what they need: findings (every hook), the
//! request and instants (every hook that has a request), the calendar (`schedule` only; a call
//! elsewhere is a script error that says so), the risk score (`risk` only), the approvals,
//! directory and risk level (`approvals` only), and the deployment's measurements and events
//! (`gates` and `rollback`; `rollback_to` in `rollback` only).

mod approvals;
mod calendar;
mod findings;
pub(crate) mod instant;
mod metrics;
mod request;
mod risk;

use rhai::Engine;

pub(crate) use request::ScriptRequest;

/// The names of the functions changegate gives scripts. A script may not define a function
/// with one of these names: it would shadow ours (a script's `fn deny` would swallow every
/// finding of that script), so loading refuses it.
pub(crate) const HOST_FUNCTIONS: &[&str] = &[
    "deny",
    "warn",
    "pending",
    "label",
    "within_hours",
    "now",
    "minutes_between",
    "next_local_time",
    "add_minutes",
    "overlapping_deployments",
    "overlapping_deployments_page",
    "count_overlapping_deployments",
    "overlapping_with_same_label",
    "overlapping_with_label",
    "deployments_between",
    "deployment",
    "add_risk",
    "risk_score",
    // `approvals()` shares its name with the hook `fn approvals(ctx)`: rhai tells functions
    // apart by name and number of parameters, so only a script's `fn approvals()` (no
    // parameter) would hide it; loading refuses that one and accepts the hook.
    "approvals",
    "approved_by",
    "approvers_in_role",
    "count_in_role",
    "has_role",
    "roles_of",
    "risk_level",
    // The `gates` and `rollback` hooks' functions (`min`, `max` and `count` also name rhai's
    // own functions of other types; a script's `fn max(a, b)` would hide ours all the same).
    "avg",
    "min",
    "max",
    "last",
    "p50",
    "p90",
    "p95",
    "p99",
    "count",
    "rate",
    "samples",
    "baseline",
    "events",
    "rollback_to",
];

/// Registers every policy function on `engine`.
pub(crate) fn register(engine: &mut Engine) {
    findings::register(engine);
    request::register(engine);
    instant::register(engine);
    calendar::register(engine);
    risk::register(engine);
    approvals::register(engine);
    metrics::register(engine);
}
