//! The sandboxed Rhai engine and the functions policy scripts can call. The only module that
//! imports rhai.
//!
//! One [`Engine`] and one compiled [`AST`] per script file are built when a bundle loads and
//! shared by every thread (`sync`). Hooks ([`Hook`]) are discovered once, at load. A check
//! passes its input to the hooks through the call's tag, so scripts query the calendar through
//! functions and never receive it.

mod convert;
mod functions;
mod hooks;
mod sandbox;
mod state;

use std::sync::{Arc, PoisonError};

use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope};

use crate::decision::{Finding, Severity};
use crate::error::{LoadError, LoadErrorKind, Location};
use functions::{HOST_FUNCTIONS, ScriptRequest};
pub(crate) use hooks::Hook;
pub(crate) use sandbox::limits;
pub(crate) use state::{
    ApprovalInput, GatesInput, HookInput, LevelDemand, RiskAddition, RiskInput, RollbackInput,
    ScheduleInput, Stability,
};
use state::{CallState, Ctx};

/// The id of the finding a failing script adds.
pub(crate) const POLICY_ERROR: &str = "policy_error";

/// A compiled script file.
struct Script {
    /// The name findings and errors use, e.g. `policies/change_ticket.rhai`.
    origin: String,
    ast: AST,
    /// The hooks it defines, with the line of each (named when rhai reports an error without
    /// a position, as it does for the operations, call-depth and size limits inside a function).
    hooks: Vec<(Hook, Option<usize>)>,
}

impl Script {
    fn defines(&self, hook: Hook) -> Option<Option<usize>> {
        self.hooks.iter().find(|(h, _)| *h == hook).map(|(_, l)| *l)
    }
}

/// Every script of a bundle, compiled, with the engine that runs them.
pub(crate) struct Scripts {
    engine: Engine,
    scripts: Vec<Script>,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.scripts.iter().map(|s| &s.origin))
            .finish()
    }
}

/// What one script's hook call did, for callers that move the request's start (the window
/// search): whether it denied, and how long its answer holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScriptRun {
    /// The script's place in the bundle's scripts (file order).
    pub index: usize,
    /// Whether it made the change not allowed (a deny or a pending finding).
    pub denied: bool,
    pub stability: Stability,
}

fn build_engine() -> Engine {
    let mut engine = sandbox::engine();
    functions::register(&mut engine);
    engine
}

/// Where an error happened: the innermost position, inside whichever function failed.
fn error_position(err: &EvalAltResult) -> Position {
    let inner = err.unwrap_inner();
    let pos = inner.position();
    if pos.is_none() { err.position() } else { pos }
}

fn error_message(err: &EvalAltResult) -> String {
    match err.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => format!("script threw `{value}`"),
        EvalAltResult::ErrorTooManyOperations(_) => format!(
            "script exceeded the limit of {} operations (a loop that does not end?)",
            limits::OPERATIONS
        ),
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "script exceeded the limit of {} nested calls (recursion that does not end?)",
            limits::CALL_LEVELS
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            format!("script exceeded a size limit: {what}")
        }
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == sandbox::COST_EXCEEDED => {
            format!(
                "script exceeded the cost budget of {} units (operations and the work of the functions it called)",
                limits::COST_BUDGET
            )
        }
        EvalAltResult::ErrorTerminated(token, _)
            if token.to_string() == sandbox::WALL_CLOCK_EXCEEDED =>
        {
            format!(
                "script exceeded the wall-clock limit of {} ms",
                limits::WALL_CLOCK_MS
            )
        }
        other => {
            let mut s = other.to_string();
            if let Some(i) = s.rfind(" (line ") {
                s.truncate(i);
            }
            s
        }
    }
}

/// The name of the limit `err` reports, when it is the cost, operations or wall-clock limit.
fn limit_hit(err: &EvalAltResult) -> Option<&'static str> {
    match err.unwrap_inner() {
        EvalAltResult::ErrorTooManyOperations(_) => Some("operations"),
        EvalAltResult::ErrorTerminated(token, _) => {
            let token = token.to_string();
            if token == sandbox::COST_EXCEEDED {
                Some(sandbox::COST_EXCEEDED)
            } else if token == sandbox::WALL_CLOCK_EXCEEDED {
                Some(sandbox::WALL_CLOCK_EXCEEDED)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The 1-based line on which `fn <name>(` is defined in `text`, if it is there.
fn fn_line(text: &str, name: &str) -> Option<usize> {
    let defines = |line: &str| {
        let line = line.trim_start();
        let line = line.strip_prefix("private").map_or(line, str::trim_start);
        line.strip_prefix("fn")
            .filter(|rest| rest.starts_with(char::is_whitespace))
            .and_then(|rest| rest.trim_start().strip_prefix(name))
            .is_some_and(|rest| rest.trim_start().starts_with('('))
    };
    text.lines().position(defines).map(|i| i + 1)
}

fn script_error(origin: &str, line: Option<usize>, message: String) -> LoadError {
    LoadError {
        kind: LoadErrorKind::Script,
        location: Location::new(origin, line.map(|l| (l, 1))),
        field: None,
        message,
    }
}

/// The hooks `ast` defines, checked: right number of parameters, no host function shadowed,
/// at least one hook.
fn discover_hooks(
    origin: &str,
    text: &str,
    ast: &AST,
) -> Result<Vec<(Hook, Option<usize>)>, LoadError> {
    let mut hooks = Vec::new();
    for f in ast.iter_functions() {
        let line = fn_line(text, f.name);
        let hook = Hook::named(f.name);
        // A hook whose name is also a host function's (`fn approvals(ctx)` and `approvals()`)
        // hides it only when it takes as many parameters as the host function (none): rhai
        // tells functions apart by name and number of parameters.
        let shadows = match hook {
            Some(_) => f.params.is_empty() && HOST_FUNCTIONS.contains(&f.name),
            None => HOST_FUNCTIONS.contains(&f.name),
        };
        if shadows {
            return Err(script_error(
                origin,
                line,
                format!(
                    "defines `fn {}`, which would hide changegate's own `{}` (its findings would be lost): rename it",
                    f.name, f.name
                ),
            ));
        }
        let Some(hook) = hook else {
            continue;
        };
        if f.params.len() != hook.params().len() {
            let count = match hook.params().len() {
                1 => "one parameter".to_owned(),
                n => format!("{n} parameters"),
            };
            return Err(script_error(
                origin,
                line,
                format!(
                    "hook `{}` must take {count} ({}), it takes {}",
                    hook.name(),
                    hook.params().join(", "),
                    f.params.len()
                ),
            ));
        }
        hooks.push((hook, line));
    }
    if hooks.is_empty() {
        return Err(script_error(
            origin,
            None,
            format!(
                "script defines no hook, so it would never run: define one of {}",
                Hook::listing()
            ),
        ));
    }
    Ok(hooks)
}

fn too_many_functions(origin: &str, count: usize) -> LoadError {
    script_error(
        origin,
        None,
        format!(
            "script defines {count} functions, more than the limit of {}",
            limits::FUNCTIONS
        ),
    )
}

/// The load-time limits checked before compiling: source bytes, and (counting the `fn`
/// keywords, an upper bound) functions, so that a huge file is refused in linear time.
fn check_size(origin: &str, text: &str) -> Result<(), LoadError> {
    if text.len() > limits::SOURCE_BYTES {
        return Err(script_error(
            origin,
            None,
            format!(
                "script is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits::SOURCE_BYTES
            ),
        ));
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut fns = 0;
    for (i, _) in text.match_indices("fn") {
        let before = text[..i].chars().next_back();
        let after = text[i + 2..].chars().next();
        if !before.is_some_and(is_ident) && after.is_some_and(char::is_whitespace) {
            fns += 1;
        }
    }
    if fns > limits::FUNCTIONS {
        return Err(too_many_functions(origin, fns));
    }
    Ok(())
}

thread_local! {
    /// The scope hook calls on this thread run in, empty between calls: reused so that a call
    /// does not allocate a new one.
    static SCOPE: std::cell::RefCell<Scope<'static>> = std::cell::RefCell::new(Scope::new());
}

/// Runs `f` with an empty scope, this thread's reused one when it is free, and empties it
/// again afterwards (dropping the call's variables and arguments). Every call sees exactly
/// what a new `Scope` would give it.
fn with_scope<R>(f: impl FnOnce(&mut Scope<'static>) -> R) -> R {
    SCOPE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scope) => {
            scope.clear();
            let result = f(&mut scope);
            scope.clear();
            result
        }
        Err(_) => f(&mut Scope::new()),
    })
}

impl Scripts {
    /// Compiles every script; `files` holds `(origin, text)` pairs in the order hooks run.
    pub(crate) fn compile(files: &[(String, String)]) -> Result<Self, LoadError> {
        let engine = build_engine();
        let mut scripts = Vec::with_capacity(files.len());
        for (origin, text) in files {
            check_size(origin, text)?;
            let mut ast = engine.compile(text).map_err(|e| {
                let pos = e.position();
                LoadError {
                    kind: LoadErrorKind::Script,
                    location: Location::new(
                        origin,
                        pos.line().map(|l| (l, pos.position().unwrap_or(1))),
                    ),
                    field: None,
                    message: format!("script does not compile: {}", e.err_type()),
                }
            })?;
            ast.set_source(origin.as_str());
            let functions = ast.iter_functions().count();
            if functions > limits::FUNCTIONS {
                return Err(too_many_functions(origin, functions));
            }
            let hooks = discover_hooks(origin, text, &ast)?;
            scripts.push(Script {
                origin: origin.clone(),
                ast,
                hooks,
            });
        }
        Ok(Self { engine, scripts })
    }

    /// Whether any script defines `hook`.
    pub(crate) fn has(&self, hook: Hook) -> bool {
        self.scripts.iter().any(|s| s.defines(hook).is_some())
    }

    /// Runs every script's hook for `input`, in file order, or only the scripts whose index
    /// is in `only`. Findings go to `out`, printed text to `trace`; one [`ScriptRun`] per
    /// script that ran goes to `runs`, when asked for. A script that fails adds a
    /// `policy_error` deny with its file and line; the others still run.
    pub(crate) fn run(
        &self,
        input: &HookInput,
        only: Option<&[usize]>,
        out: &mut Vec<Finding>,
        trace: &mut Vec<String>,
        mut runs: Option<&mut Vec<ScriptRun>>,
    ) {
        let hook = input.hook();
        if !self.has(hook) {
            return;
        }
        sandbox::clear_trace();
        let mut st = CallState::new(input);
        // Only the window search reads how long each answer holds.
        st.tracks_stability = runs.is_some();
        let st = Arc::new(st);
        for (index, script) in self.scripts.iter().enumerate() {
            let Some(hook_line) = script.defines(hook) else {
                continue;
            };
            if only.is_some_and(|only| !only.contains(&index)) {
                continue;
            }
            let options = CallFnOptions::new()
                .eval_ast(false)
                .rewind_scope(false)
                .with_tag(Ctx(st.clone()));
            let result = sandbox::guarded(|| {
                with_scope(|scope| {
                    self.engine.call_fn_with_options::<Dynamic>(
                        options,
                        scope,
                        &script.ast,
                        hook.name(),
                        (ScriptRequest(st.clone()),),
                    )
                })
            })
            .unwrap_or_else(|panic| {
                Err(EvalAltResult::ErrorSystem(
                    "script made the engine panic (the panic was caught)".to_owned(),
                    panic.into(),
                )
                .into())
            });
            let cost = sandbox::spent();
            let before = out.len();
            out.append(&mut st.findings.lock().unwrap_or_else(PoisonError::into_inner));
            let failed = result.is_err();
            if let Err(err) = result {
                let source = match error_position(&err).line().or(hook_line) {
                    Some(line) => format!("{}:{line}", script.origin),
                    None => script.origin.clone(),
                };
                let mut finding = Finding::new(
                    POLICY_ERROR,
                    Severity::Deny,
                    format!(
                        "policy script `{}` failed, so the change is denied: {}",
                        script.origin,
                        error_message(&err)
                    ),
                    Some(source),
                )
                .with_detail("script", script.origin.clone())
                .with_detail("hook", hook.name());
                if let Some(limit) = limit_hit(&err) {
                    finding = finding
                        .with_detail("limit", limit)
                        .with_detail("cost", cost);
                }
                out.push(finding);
            }
            let mut stability =
                std::mem::take(&mut *st.stability.lock().unwrap_or_else(PoisonError::into_inner));
            if failed {
                // Where it failed may depend on anything: try the next start.
                stability.narrow(state::next_step(st.start));
            }
            if let Some(runs) = runs.as_deref_mut() {
                // Not allowed: a deny, or a pending (allowed only once more evidence arrives).
                let denied = out[before..]
                    .iter()
                    .any(|f| matches!(f.severity, Severity::Deny | Severity::Pending));
                runs.push(ScriptRun {
                    index,
                    denied,
                    stability,
                });
            }
        }
        sandbox::take_trace(trace);
        // The points `add_risk` gave go to the caller of a `risk` hook.
        if let (HookInput::Risk(r), Some(added)) = (input, st.risk.as_ref()) {
            r.added
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .append(&mut added.lock().unwrap_or_else(PoisonError::into_inner));
        }
        // The levels `rollback_to` demanded go to the caller of a `rollback` hook.
        if let (HookInput::Rollback(r), Some(demanded)) = (input, st.demanded.as_ref()) {
            r.demanded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .append(&mut demanded.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }
}
