//! The sandbox every script runs in: a raw engine with only the packages policies need, strict
//! variables, no `eval`, no modules, no clock, and limits on operations, depth and sizes.
//! `print` and `debug` go to the check's trace, within limits.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::fmt::Write as _;

use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, CorePackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{Array, Dynamic, Engine, EvalAltResult, FLOAT, INT, Map, Module, NativeCallContext};

/// Limits every script runs under. A script that exceeds one fails closed (`policy_error`).
pub(crate) mod limits {
    /// Operations per hook call: enough for real policies, a fraction of a second at most.
    pub const OPERATIONS: u64 = 200_000;
    /// The cost budget of one hook call, in units: every operation costs one, and native
    /// functions charge for the work they do (see [`super::charge`]). Deterministic: the same
    /// input spends the same units on every machine.
    pub const COST_BUDGET: u64 = 1_000_000;
    /// The last resort, and the one outcome that is not deterministic: a hook call still
    /// running after this many milliseconds of wall-clock time is stopped (one second in a
    /// release build; ten in a debug build, which runs scripts ten to thirty times slower).
    pub const WALL_CLOCK_MS: u64 = if cfg!(debug_assertions) {
        10_000
    } else {
        1_000
    };
    /// Nested function calls.
    pub const CALL_LEVELS: usize = 32;
    /// Nested expressions, at the top level and inside functions (a chain of `&&` or `+`
    /// terms nests one level per term: 40 terms must compile).
    pub const EXPR_DEPTH: (usize, usize) = (128, 96);
    /// Levels of nested arrays and maps any conversion (finding details, `print`, `debug`,
    /// `to_string`) walks; deeper values are an error, never a deep recursion.
    pub const NESTING_DEPTH: usize = 32;
    /// Findings one hook call of one script may record.
    pub const FINDINGS_PER_CALL: usize = 100;
    /// Findings all the scripts of one check may record.
    pub const FINDINGS_PER_CHECK: usize = 500;
    /// Bytes of a rule id given to `deny`, `warn` or `pending` (longer is an error).
    pub const RULE_ID_BYTES: usize = 128;
    /// Bytes of a finding's message; a longer one is cut at this size and marked.
    pub const MESSAGE_BYTES: usize = 4 * 1024;
    /// Bytes of a finding's details, as JSON (larger is an error).
    pub const DETAILS_BYTES: usize = 16 * 1024;
    /// Bytes of one script file's source.
    pub const SOURCE_BYTES: usize = 256 * 1024;
    /// Functions one script file may define.
    pub const FUNCTIONS: usize = 1_000;
    /// Bytes the variables of a running hook call may hold in all (strings, and 16 per item
    /// of an array or map), checked with their nesting at least every [`SCAN_EVERY`] variable
    /// reads and at most every 1 024 (less often when they are large): what grows a value
    /// past rhai's own checks (`m[k] = v`), or nests it deeply, is caught there.
    pub const MEMORY_BYTES: usize = 16 * 1024 * 1024;
    /// See [`MEMORY_BYTES`].
    pub const SCAN_EVERY: u64 = 8;
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

thread_local! {
    /// Units the running hook call has spent (operations are added in `on_progress`).
    static COST: Cell<u64> = const { Cell::new(0) };
    /// Operations of the running hook call, as last reported to `on_progress`.
    static OPS: Cell<u64> = const { Cell::new(0) };
    /// When the running hook call started, for the wall-clock last resort.
    static STARTED: Cell<Option<std::time::Instant>> = const { Cell::new(None) };
    /// Variables read by the running hook call.
    static VAR_READS: Cell<u64> = const { Cell::new(0) };
    /// The read at which the variables are measured next.
    static NEXT_SCAN: Cell<u64> = const { Cell::new(limits::SCAN_EVERY) };
    /// Whether this thread is running a script under the panic guard.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// The token a hook call stopped by the cost budget terminates with.
pub(crate) const COST_EXCEEDED: &str = "cost budget";
/// The token a hook call stopped by the wall clock terminates with.
pub(crate) const WALL_CLOCK_EXCEEDED: &str = "wall clock";

/// Charges `units` of work to the running hook call: an error once the budget is spent.
pub(crate) fn charge(units: u64) -> Result<(), Box<EvalAltResult>> {
    let spent = COST.with(|c| {
        let spent = c.get().saturating_add(units);
        c.set(spent);
        spent
    });
    if spent > limits::COST_BUDGET {
        Err(EvalAltResult::ErrorTerminated(COST_EXCEEDED.into(), rhai::Position::NONE).into())
    } else {
        Ok(())
    }
}

/// The units the running (or last) hook call on this thread spent: its operations and what
/// native functions charged.
pub(crate) fn spent() -> u64 {
    COST.with(Cell::get).saturating_add(OPS.with(Cell::get))
}

/// Runs `f` as one hook call: a fresh cost budget, and a panic inside becomes `Err` (its
/// message) instead of unwinding into the host, without printing to stderr.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    quiet_panics();
    COST.with(|c| c.set(0));
    OPS.with(|c| c.set(0));
    let _ = rhai::copies::take();
    VAR_READS.with(|c| c.set(0));
    NEXT_SCAN.with(|c| c.set(limits::SCAN_EVERY));
    STARTED.with(|s| s.set(Some(std::time::Instant::now())));
    let was = GUARDED.with(|g| g.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was));
    STARTED.with(|s| s.set(None));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// Installs, once per process, a panic hook that stays silent for panics on a thread running
/// a guarded script and hands every other panic to the hook that was there before.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Operations and native charges against the budget, and the wall clock every 1 024
/// operations: `Some` stops the call.
fn on_progress(ops: u64) -> Option<Dynamic> {
    OPS.with(|c| c.set(ops));
    // Operations alone stay far below the budget (the operations limit is lower), and native
    // functions check their own charges: copies are collected every 8 operations, which is as
    // deterministic as every one and cheaper.
    if ops % 8 != 0 {
        return None;
    }
    // Values copied by reading a variable (`let b = a;`, `f(a)`), counted by the patched rhai:
    // one unit per item or map entry copied.
    let copied = rhai::copies::take();
    if copied > 0 {
        COST.with(|c| c.set(c.get().saturating_add(copied)));
    }
    if ops.saturating_add(COST.with(Cell::get)) > limits::COST_BUDGET {
        return Some(COST_EXCEEDED.into());
    }
    if ops % 1024 == 0
        && STARTED
            .with(Cell::get)
            .is_some_and(|s| s.elapsed() > std::time::Duration::from_millis(limits::WALL_CLOCK_MS))
    {
        return Some(WALL_CLOCK_EXCEEDED.into());
    }
    None
}

/// Every [`limits::SCAN_EVERY`] to 1 024 variable reads, measures every live variable: their bytes
/// against [`limits::MEMORY_BYTES`] and their nesting against [`limits::NESTING_DEPTH`].
fn on_var(ctx: &rhai::EvalContext) -> Result<Option<Dynamic>, Box<EvalAltResult>> {
    let reads = VAR_READS.with(|c| {
        let n = c.get().wrapping_add(1);
        c.set(n);
        n
    });
    if reads >= NEXT_SCAN.with(Cell::get) {
        let mut bytes = 0;
        for (_, _, v) in ctx.scope().iter_raw() {
            measure(v, 1, &mut bytes)?;
        }
        // Scanning costs about one item per 16 variable reads, amortized, and values grow by
        // at most 1 024 reads between two scans.
        let items = (bytes / 256) as u64;
        NEXT_SCAN.with(|c| c.set(reads + items.clamp(limits::SCAN_EVERY, 1024)));
    }
    Ok(None)
}

/// Adds `v`'s bytes to `bytes`: an error past [`limits::MEMORY_BYTES`] or
/// [`limits::NESTING_DEPTH`].
fn measure(v: &Dynamic, depth: usize, bytes: &mut usize) -> Result<(), Box<EvalAltResult>> {
    if depth > limits::NESTING_DEPTH + 1 {
        return Err(too_deep());
    }
    *bytes += 16;
    if v.is_int() || v.is_float() || v.is_bool() || v.is_unit() {
        return Ok(());
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        *bytes += s.len();
    } else if let Some(a) = v.read_lock::<Array>() {
        for x in a.iter() {
            measure(x, depth + 1, bytes)?;
        }
    } else if let Some(m) = v.read_lock::<Map>() {
        for (k, x) in m.iter() {
            *bytes += k.len();
            measure(x, depth + 1, bytes)?;
        }
    }
    if *bytes > limits::MEMORY_BYTES {
        return Err(EvalAltResult::ErrorDataTooLarge(
            format!(
                "Memory held by the script's variables (more than {} bytes)",
                limits::MEMORY_BYTES
            ),
            rhai::Position::NONE,
        )
        .into());
    }
    Ok(())
}

/// The error for a value nested deeper than [`limits::NESTING_DEPTH`].
pub(crate) fn too_deep() -> Box<EvalAltResult> {
    format!(
        "a value is nested more than {} levels deep (arrays and maps within each other)",
        limits::NESTING_DEPTH
    )
    .into()
}

/// Writes `v` as rhai's debug format does, at most [`limits::NESTING_DEPTH`] levels deep and
/// charging the cost budget per item.
fn write_value(
    ctx: &NativeCallContext,
    out: &mut String,
    v: &Dynamic,
    depth: usize,
) -> Result<(), Box<EvalAltResult>> {
    if let Some(a) = v.read_lock::<Array>() {
        write_array(ctx, out, &a, depth)
    } else if let Some(m) = v.read_lock::<Map>() {
        write_map(ctx, out, &m, depth)
    } else {
        charge(1)?;
        let text = ctx
            .call_native_fn::<rhai::ImmutableString>("to_debug", (v.clone(),))
            .map(|s| s.to_string())
            .unwrap_or_else(|_| format!("{v:?}"));
        out.push_str(&text);
        check_length(out)
    }
}

fn check_length(out: &str) -> Result<(), Box<EvalAltResult>> {
    if out.len() > limits::STRING_SIZE {
        return Err(EvalAltResult::ErrorDataTooLarge(
            "Length of string".to_owned(),
            rhai::Position::NONE,
        )
        .into());
    }
    Ok(())
}

fn write_array(
    ctx: &NativeCallContext,
    out: &mut String,
    a: &Array,
    depth: usize,
) -> Result<(), Box<EvalAltResult>> {
    if depth > limits::NESTING_DEPTH {
        return Err(too_deep());
    }
    charge(1)?;
    out.push('[');
    for (i, x) in a.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_value(ctx, out, x, depth + 1)?;
    }
    out.push(']');
    check_length(out)
}

fn write_map(
    ctx: &NativeCallContext,
    out: &mut String,
    m: &Map,
    depth: usize,
) -> Result<(), Box<EvalAltResult>> {
    if depth > limits::NESTING_DEPTH {
        return Err(too_deep());
    }
    charge(1)?;
    out.push_str("#{");
    for (i, (k, x)) in m.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{k:?}: ");
        write_value(ctx, out, x, depth + 1)?;
    }
    out.push('}');
    check_length(out)
}

/// Sorts floats by a total order (NaN after every number), never panicking.
fn float_order(a: &Dynamic, b: &Dynamic) -> Ordering {
    match (a.as_float(), b.as_float()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => Ordering::Equal,
    }
}

/// Safe `sort` / `sort_desc` for arrays: one element type, a total order for every type.
fn safe_sort(array: &mut Array, descending: bool) -> Result<(), Box<EvalAltResult>> {
    charge(array.len() as u64)?;
    let Some(first) = array.first() else {
        return Ok(());
    };
    let type_id = first.type_id();
    if array.iter().any(|a| a.type_id() != type_id) {
        return Err("sort: elements of different types cannot be sorted".into());
    }
    if first.is_float() {
        array.sort_by(float_order);
    } else if first.is_int() {
        array.sort_by_key(|a| a.as_int().unwrap_or_default());
    } else if first.is_char() {
        array.sort_by_key(|a| a.as_char().unwrap_or_default());
    } else if first.is_bool() {
        array.sort_by_key(|a| a.as_bool().unwrap_or_default());
    } else if first.is_string() {
        array.sort_by(|a, b| {
            let a = a.read_lock::<rhai::ImmutableString>();
            let b = b.read_lock::<rhai::ImmutableString>();
            match (a, b) {
                (Some(a), Some(b)) => a.as_str().cmp(b.as_str()),
                _ => Ordering::Equal,
            }
        });
    } else if !first.is_unit() {
        return Err(format!("sort: cannot sort values of type {}", first.type_name()).into());
    }
    if descending {
        array.reverse();
    }
    Ok(())
}

/// Replaces, in the flattened packages, the functions that could wait or panic, and the
/// recursive formatting of arrays and maps, with safe versions.
fn harden(packages: &mut Module) {
    // No waiting: `sleep` fails instead.
    packages.set_native_fn("sleep", |_: INT| -> Result<(), Box<EvalAltResult>> {
        Err("`sleep` is not available in policy scripts".into())
    });
    packages.set_native_fn("sleep", |_: FLOAT| -> Result<(), Box<EvalAltResult>> {
        Err("`sleep` is not available in policy scripts".into())
    });
    packages.set_native_fn("to_json", |m: &mut Map| super::convert::map_to_json(m));
    packages.set_native_fn("sort", |a: &mut Array| safe_sort(a, false));
    packages.set_native_fn("sort_desc", |a: &mut Array| safe_sort(a, true));
    for name in ["print", "to_string", "debug", "to_debug"] {
        packages.set_native_fn(name, |ctx: NativeCallContext, a: &mut Array| {
            let mut out = String::new();
            write_array(&ctx, &mut out, a, 1).map(|()| out)
        });
        packages.set_native_fn(name, |ctx: NativeCallContext, m: &mut Map| {
            let mut out = String::new();
            write_map(&ctx, &mut out, m, 1).map(|()| out)
        });
    }
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
    harden(&mut packages);
    engine.register_global_module(packages.into());
    engine.on_progress(on_progress);
    // The callback is marked volatile in rhai, not deprecated.
    #[allow(deprecated)]
    engine.on_var(|_, _, ctx| on_var(&ctx));
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

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_under_the_guard_is_an_error_with_its_message() {
        let caught = guarded(|| -> u8 { panic!("boom {}", 1) });
        assert_eq!(caught, Err("boom 1".to_owned()));
        // The guard is off again, and a call that does not panic returns its value.
        assert!(!GUARDED.with(Cell::get));
        assert_eq!(guarded(|| 7), Ok(7));
    }

    #[test]
    fn charges_past_the_budget_fail_and_a_new_call_starts_afresh() {
        let over = guarded(|| charge(limits::COST_BUDGET + 1));
        assert!(matches!(over, Ok(Err(_))));
        let fresh = guarded(|| charge(10).map(|()| spent()));
        assert!(matches!(fresh, Ok(Ok(10))));
    }

    #[test]
    fn floats_with_nan_sort_by_a_total_order() {
        let mut a: Array = [3.0, f64::NAN, 1.0, 2.0]
            .into_iter()
            .cycle()
            .take(200)
            .map(Dynamic::from_float)
            .collect();
        assert!(safe_sort(&mut a, false).is_ok());
        assert_eq!(a[0].as_float(), Ok(1.0));
        assert!(a[199].as_float().is_ok_and(f64::is_nan));
    }
}
