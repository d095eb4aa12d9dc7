//! The sandbox every script runs in: a raw engine with only the packages policies need, strict
//! variables, no `eval`, no modules, no clock, and limits on operations, depth and sizes.
//! `print` and `debug` go to the check's trace, within limits.

use std::cell::RefCell;

use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, CorePackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{Engine, Module};

/// Limits every script runs under. A script that exceeds one fails closed (`policy_error`).
pub(crate) mod limits {
    /// Operations per hook call: enough for real policies, a fraction of a second at most.
    pub const OPERATIONS: u64 = 200_000;
    /// Nested function calls.
    pub const CALL_LEVELS: usize = 32;
    /// Nested expressions, at the top level and inside functions.
    pub const EXPR_DEPTH: (usize, usize) = (64, 32);
    /// Bytes in one string.
    pub const STRING_SIZE: usize = 64 * 1024;
    /// Items in one array, and entries in one map.
    pub const COLLECTION_SIZE: usize = 10_000;
    /// Variables alive at once.
    pub const VARIABLES: usize = 512;
    /// Lines of `print`/`debug` output kept per check, and their bytes in all; the rest is
    /// dropped (a loop of prints must not grow the decision without bound).
    pub const TRACE_LINES: usize = 256;
    /// See [`TRACE_LINES`].
    pub const TRACE_BYTES: usize = 64 * 1024;
}

thread_local! {
    /// What `print` and `debug` wrote during the current call on this thread.
    static TRACE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The last line of a trace that reached the limits.
const TRACE_FULL: &str = "(trace truncated: the scripts printed more than the limit)";

/// Appends a line to the current call's trace, within [`limits::TRACE_LINES`] and
/// [`limits::TRACE_BYTES`].
fn push_trace(line: String) {
    TRACE.with(|t| {
        let mut t = t.borrow_mut();
        if t.last().is_some_and(|l| l == TRACE_FULL) {
            return;
        }
        let used: usize = t.iter().map(String::len).sum();
        if t.len() + 1 >= limits::TRACE_LINES || used + line.len() > limits::TRACE_BYTES {
            t.push(TRACE_FULL.to_owned());
        } else {
            t.push(line);
        }
    });
}

/// Empties this thread's trace before a check's hooks run.
pub(crate) fn clear_trace() {
    TRACE.with(|t| t.borrow_mut().clear());
}

/// Moves this thread's trace into `out` after a check's hooks ran.
pub(crate) fn take_trace(out: &mut Vec<String>) {
    TRACE.with(|t| out.append(&mut t.borrow_mut()));
}

/// The engine with its packages, limits and trace, before the policy functions are added.
pub(crate) fn engine() -> Engine {
    let mut engine = Engine::new_raw();
    // The packages policies need, flattened into one module: every function lookup that misses
    // the per-call cache then searches one module instead of six.
    let mut packages = Module::new();
    for module in [
        CorePackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
    ] {
        packages.combine_flatten((*module).clone());
    }
    engine.register_global_module(packages.into());
    engine
        .set_strict_variables(true)
        .set_max_operations(limits::OPERATIONS)
        .set_max_call_levels(limits::CALL_LEVELS)
        .set_max_expr_depths(limits::EXPR_DEPTH.0, limits::EXPR_DEPTH.1)
        .set_max_string_size(limits::STRING_SIZE)
        .set_max_array_size(limits::COLLECTION_SIZE)
        .set_max_map_size(limits::COLLECTION_SIZE)
        .set_max_variables(limits::VARIABLES)
        .disable_symbol("eval")
        .set_optimization_level(rhai::OptimizationLevel::Full);
    engine.on_print(|text| push_trace(text.to_owned()));
    engine.on_debug(|text, source, pos| {
        let at = match (source, pos.line()) {
            (Some(s), Some(l)) => format!("{s}:{l}: "),
            _ => String::new(),
        };
        push_trace(format!("{at}{text}"));
    });
    engine
}
