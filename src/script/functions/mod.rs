//! The functions scripts can call, grouped by what they need: findings (every hook), the
//! request and instants (every hook that has a request), the calendar (`schedule` only; a call
//! elsewhere is a script error that says so), the risk score (`risk` only), the approvals,
//! directory and risk level (`approvals` only), and the deployment's measurements and events
//! (`gates` and `rollback`; `rollback_to` in `rollback` only).

/// `def!(engine, name, [param names], &[doc lines], func)`: registers `func` as the function
/// `name` scripts call, with its parameters' names and its documentation. The engine keeps
/// them as metadata, which `changegate::script_definitions()` writes into the `.d.rhai`
/// definitions: the documentation of every policy function lives at its registration, so the
/// definitions cannot drift from the functions. Metadata is only read when definitions are
/// written; a call never touches it. (A macro, not a generic function: rhai's bound on the
/// return type, `Variant`, is not exported without its `internals` feature.)
macro_rules! def {
    ($engine:expr, $name:expr, $params:expr, $doc:expr, $func:expr $(,)?) => {{
        let func = $func;
        let info = $crate::script::functions::signature($engine, $params, &func);
        rhai::FuncRegistration::new($name)
            .with_params_info(info)
            .with_comments([$crate::script::functions::comment($doc)])
            .register_into_engine($engine, func);
    }};
}

/// `get!(engine, property, &[doc lines], func)`: [`def!`] for a property of a type
/// (`request.start`).
macro_rules! get {
    ($engine:expr, $name:expr, $doc:expr, $func:expr $(,)?) => {{
        let func = $func;
        let info = $crate::script::functions::signature($engine, ["this"], &func);
        rhai::FuncRegistration::new_getter($name)
            .with_params_info(info)
            .with_comments([$crate::script::functions::comment($doc)])
            .register_into_engine($engine, func);
    }};
}

mod approvals;
mod calendar;
mod findings;
pub(crate) mod instant;
mod metrics;
mod request;
mod risk;

use std::any::TypeId;

use rhai::{Engine, RhaiNativeFunc};

pub(crate) use instant::INSTANT_DOC;
pub(crate) use request::{REQUEST_DOC, ScriptRequest};

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

/// The `params_info` of a function for rhai's metadata: each parameter's name (from `names`)
/// and type as scripts know it, then the return type.
pub(super) fn signature<
    A: 'static,
    const N: usize,
    const X: bool,
    R: 'static,
    const F: bool,
    FUNC,
>(
    engine: &Engine,
    names: [&str; N],
    _: &FUNC,
) -> Vec<String>
where
    FUNC: RhaiNativeFunc<A, N, X, R, F>,
{
    let mut info: Vec<String> = names
        .iter()
        .zip(FUNC::param_names())
        .map(|(name, ty)| format!("{name}: {}", type_name(engine, ty)))
        .collect();
    info.push(if TypeId::of::<R>() == TypeId::of::<()>() {
        "()".to_owned()
    } else {
        type_name(engine, FUNC::return_type_name())
    });
    info
}

/// The doc comment of a function for rhai's metadata: `doc`'s lines as `///` lines.
pub(super) fn comment(doc: &[&str]) -> String {
    let lines: Vec<String> = doc.iter().map(|line| format!("/// {line}")).collect();
    lines.join("\n")
}

/// A Rust type's name as scripts know it: `int`, `float`, `string`, `Instant`, `Request`, and
/// for a fallible function's `Result<T, Box<EvalAltResult>>` the name of `T`.
fn type_name(engine: &Engine, rust: &str) -> String {
    let rust = rust.trim();
    let rust = rust.strip_prefix("&mut ").unwrap_or(rust);
    let rust = rust
        .strip_prefix("core::result::Result<")
        .and_then(|inner| inner.split_once(", alloc::boxed::Box<"))
        .map_or(rust, |(ok, _)| ok.trim());
    match engine.map_type_name(rust) {
        "()" => "()".to_owned(),
        "rhai::types::dynamic::Dynamic" => "?".to_owned(),
        other => other.rsplit("::").next().unwrap_or(other).to_owned(),
    }
}
