//! The sandboxed Rhai engine and the functions policy scripts can call. The only module that
//! imports rhai.
//!
//! One [`Engine`] and one compiled [`AST`] per script file are built when a bundle loads and
//! shared by every thread (`sync`). A check passes its request, calendar and `now` to the hooks
//! through the call's tag, so scripts query the calendar through functions and never receive it.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, CorePackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{
    AST, Array, CallFnOptions, Dynamic, Engine, EvalAltResult, Map, Module, NativeCallContext,
    Position, Scope,
};
use serde_json::Value;

use crate::calendar::Calendar;
use crate::decision::{Finding, RuleId, Severity};
use crate::error::{LoadError, LoadErrorKind, Location};
use crate::model::ChangeRequest;
use crate::time::Interval;

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

/// A compiled script file.
struct Script {
    /// The name findings and errors use, e.g. `policies/change_ticket.rhai`.
    origin: String,
    ast: AST,
    has_schedule: bool,
    /// The line of `fn schedule`, named when rhai reports an error without a position (it
    /// does for the operations, call-depth and size limits inside a function).
    hook_line: Option<usize>,
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

/// What a hook gets to see.
pub(crate) struct HookInput<'a> {
    pub request: &'a ChangeRequest,
    pub calendar: &'a Calendar,
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

/// Per-call state, reachable from native functions through the call's tag.
struct CallState {
    request: ChangeRequest,
    calendar: Calendar,
    now: DateTime<Utc>,
    tz: Tz,
    findings: Mutex<Vec<Finding>>,
}

#[derive(Clone)]
struct Ctx(Arc<CallState>);

/// The request as scripts see it: `request.services`, `request.start.hour`, ...
#[derive(Clone)]
struct ScriptRequest(Arc<CallState>);

/// An instant with the bundle's zone, for local weekday and hour helpers.
#[derive(Clone, Copy)]
struct Instant {
    utc: DateTime<Utc>,
    tz: Tz,
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

fn state(ctx: &NativeCallContext) -> Result<Arc<CallState>, Box<EvalAltResult>> {
    ctx.tag()
        .and_then(|t| t.read_lock::<Ctx>().map(|c| c.0.clone()))
        .ok_or_else(|| "this function is only available inside a policy hook".into())
}

fn json_to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Dynamic::from_int)
            .or_else(|| n.as_f64().map(Dynamic::from_float))
            .unwrap_or(Dynamic::UNIT),
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(a) => Dynamic::from_array(a.iter().map(json_to_dynamic).collect()),
        Value::Object(o) => Dynamic::from_map(
            o.iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect(),
        ),
    }
}

fn dynamic_to_json(v: &Dynamic) -> Value {
    if let Some(b) = v.clone().try_cast::<bool>() {
        Value::Bool(b)
    } else if let Ok(i) = v.as_int() {
        Value::from(i)
    } else if let Ok(f) = v.as_float() {
        Value::from(f)
    } else if v.is_unit() {
        Value::Null
    } else if let Some(a) = v.read_lock::<Array>() {
        Value::Array(a.iter().map(dynamic_to_json).collect())
    } else if let Some(m) = v.read_lock::<Map>() {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), dynamic_to_json(v)))
                .collect(),
        )
    } else {
        Value::String(v.to_string())
    }
}

fn strings(items: &[String]) -> Array {
    items.iter().map(|s| Dynamic::from(s.clone())).collect()
}

fn deployment_map(d: &ChangeRequest, tz: Tz) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Dynamic::from(d.id.to_string()));
    m.insert("services".into(), Dynamic::from_array(strings(&d.services)));
    m.insert("environment".into(), Dynamic::from(d.environment.clone()));
    m.insert("type".into(), Dynamic::from(d.change_type.clone()));
    let iv = d.interval();
    m.insert(
        "start".into(),
        Dynamic::from(Instant {
            utc: iv.start(),
            tz,
        }),
    );
    m.insert("end".into(), Dynamic::from(Instant { utc: iv.end(), tz }));
    m.insert(
        "labels".into(),
        Dynamic::from_map(
            d.labels
                .iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect(),
        ),
    );
    m
}

fn record(
    ctx: &NativeCallContext,
    severity: Severity,
    rule: &str,
    message: &str,
    details: Option<Map>,
) -> Result<(), Box<EvalAltResult>> {
    let st = state(ctx)?;
    if rule.trim().is_empty() {
        return Err("the rule name given to deny() or warn() must not be empty".into());
    }
    // Each script's AST carries its file name as its source.
    let origin = ctx.call_source().unwrap_or("<script>");
    let source = match ctx.call_position().line() {
        Some(line) => format!("{origin}:{line}"),
        None => origin.to_owned(),
    };
    let mut finding = Finding::new(rule, severity, message, Some(source));
    if let Some(details) = details {
        for (k, v) in &details {
            finding.details.insert(k.to_string(), dynamic_to_json(v));
        }
    }
    st.findings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(finding);
    Ok(())
}

/// Sorted ids of the deployments in the request's environment that overlap it and whose label
/// `key` is the string `value`.
fn ids_with_label(st: &CallState, key: &str, value: &str) -> Array {
    let r = &st.request;
    let mut ids: Vec<&str> = st
        .calendar
        .overlapping_environment(&r.environment, r.interval())
        .filter(|d| d.id != r.id && d.labels.get(key).and_then(Value::as_str) == Some(value))
        .map(|d| d.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| Dynamic::from(id.to_owned()))
        .collect()
}

fn build_engine() -> Engine {
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

    // Findings.
    engine.register_fn("deny", |ctx: NativeCallContext, rule: &str, msg: &str| {
        record(&ctx, Severity::Deny, rule, msg, None)
    });
    engine.register_fn("warn", |ctx: NativeCallContext, rule: &str, msg: &str| {
        record(&ctx, Severity::Warn, rule, msg, None)
    });
    engine.register_fn(
        "pending",
        |ctx: NativeCallContext, rule: &str, msg: &str| {
            record(&ctx, Severity::Pending, rule, msg, None)
        },
    );
    engine.register_fn(
        "deny",
        |ctx: NativeCallContext, rule: &str, msg: &str, details: Map| {
            record(&ctx, Severity::Deny, rule, msg, Some(details))
        },
    );
    engine.register_fn(
        "warn",
        |ctx: NativeCallContext, rule: &str, msg: &str, details: Map| {
            record(&ctx, Severity::Warn, rule, msg, Some(details))
        },
    );
    engine.register_fn(
        "pending",
        |ctx: NativeCallContext, rule: &str, msg: &str, details: Map| {
            record(&ctx, Severity::Pending, rule, msg, Some(details))
        },
    );

    // The request.
    engine
        .register_type_with_name::<ScriptRequest>("Request")
        .register_get("id", |r: &mut ScriptRequest| r.0.request.id.to_string())
        .register_get("services", |r: &mut ScriptRequest| {
            strings(&r.0.request.services)
        })
        .register_get("environment", |r: &mut ScriptRequest| {
            r.0.request.environment.clone()
        })
        .register_get("type", |r: &mut ScriptRequest| {
            r.0.request.change_type.clone()
        })
        .register_get("requested_by", |r: &mut ScriptRequest| {
            r.0.request
                .requested_by
                .clone()
                .map_or(Dynamic::UNIT, Dynamic::from)
        })
        .register_get("depends_on", |r: &mut ScriptRequest| -> Array {
            r.0.request
                .depends_on
                .iter()
                .map(|d| Dynamic::from(d.to_string()))
                .collect()
        })
        .register_get("labels", |r: &mut ScriptRequest| -> Map {
            r.0.request
                .labels
                .iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect()
        })
        .register_fn("label", |r: &mut ScriptRequest, key: &str| {
            r.0.request
                .labels
                .get(key)
                .map_or(Dynamic::UNIT, json_to_dynamic)
        })
        .register_get("start", |r: &mut ScriptRequest| Instant {
            utc: r.0.request.interval().start(),
            tz: r.0.tz,
        })
        .register_get("end", |r: &mut ScriptRequest| Instant {
            utc: r.0.request.interval().end(),
            tz: r.0.tz,
        })
        .register_get("duration_minutes", |r: &mut ScriptRequest| {
            r.0.request.duration.num_minutes()
        })
        .register_fn("to_string", |r: &mut ScriptRequest| {
            format!("request `{}`", r.0.request.id)
        });

    // Instants, in the bundle's zone.
    engine
        .register_type_with_name::<Instant>("Instant")
        .register_get("weekday", |t: &mut Instant| {
            i64::from(t.utc.with_timezone(&t.tz).weekday().number_from_monday())
        })
        .register_get("weekday_name", |t: &mut Instant| {
            t.utc
                .with_timezone(&t.tz)
                .weekday()
                .to_string()
                .to_lowercase()
        })
        .register_get("hour", |t: &mut Instant| {
            i64::from(t.utc.with_timezone(&t.tz).hour())
        })
        .register_get("minute", |t: &mut Instant| {
            i64::from(t.utc.with_timezone(&t.tz).minute())
        })
        .register_get("year", |t: &mut Instant| {
            i64::from(t.utc.with_timezone(&t.tz).year())
        })
        .register_get("month", |t: &mut Instant| {
            i64::from(t.utc.with_timezone(&t.tz).month())
        })
        .register_get("day", |t: &mut Instant| {
            i64::from(t.utc.with_timezone(&t.tz).day())
        })
        .register_get("date", |t: &mut Instant| {
            t.utc.with_timezone(&t.tz).format("%Y-%m-%d").to_string()
        })
        .register_get("timestamp", |t: &mut Instant| t.utc.timestamp())
        .register_fn("to_string", |t: &mut Instant| {
            t.utc.with_timezone(&t.tz).to_rfc3339()
        })
        .register_fn("to_debug", |t: &mut Instant| {
            t.utc.with_timezone(&t.tz).to_rfc3339()
        })
        .register_fn("<", |a: Instant, b: Instant| a.utc < b.utc)
        .register_fn("<=", |a: Instant, b: Instant| a.utc <= b.utc)
        .register_fn(">", |a: Instant, b: Instant| a.utc > b.utc)
        .register_fn(">=", |a: Instant, b: Instant| a.utc >= b.utc)
        .register_fn("==", |a: Instant, b: Instant| a.utc == b.utc)
        .register_fn("!=", |a: Instant, b: Instant| a.utc != b.utc)
        .register_fn("minutes_between", |a: Instant, b: Instant| {
            (b.utc - a.utc).num_minutes()
        });

    // The check's inputs: `now` is the time given to the check, never the clock.
    engine.register_fn("now", |ctx: NativeCallContext| {
        state(&ctx).map(|st| Instant {
            utc: st.now,
            tz: st.tz,
        })
    });

    // Calendar queries: small answers, never the calendar itself.
    engine.register_fn("overlapping_deployments", |ctx: NativeCallContext| {
        let st = state(&ctx)?;
        let r = &st.request;
        let out: Array = st
            .calendar
            .overlapping_environment(&r.environment, r.interval())
            .filter(|d| d.id != r.id)
            .map(|d| Dynamic::from_map(deployment_map(d, st.tz)))
            .collect();
        Ok::<_, Box<EvalAltResult>>(out)
    });
    engine.register_fn(
        "overlapping_deployments",
        |ctx: NativeCallContext, service: &str| {
            let st = state(&ctx)?;
            let r = &st.request;
            let out: Array = st
                .calendar
                .overlapping_service(&r.environment, service, r.interval())
                .filter(|d| d.id != r.id)
                .map(|d| Dynamic::from_map(deployment_map(d, st.tz)))
                .collect();
            Ok::<_, Box<EvalAltResult>>(out)
        },
    );
    engine.register_fn(
        "overlapping_with_same_label",
        |ctx: NativeCallContext, key: &str| {
            let st = state(&ctx)?;
            Ok::<_, Box<EvalAltResult>>(match st.request.labels.get(key).and_then(Value::as_str) {
                Some(value) => ids_with_label(&st, key, value),
                None => Array::new(),
            })
        },
    );
    engine.register_fn(
        "overlapping_with_label",
        |ctx: NativeCallContext, key: &str, value: &str| {
            state(&ctx).map(|st| ids_with_label(&st, key, value))
        },
    );
    engine.register_fn(
        "deployments_between",
        |ctx: NativeCallContext, service: &str, from: Instant, to: Instant| {
            let st = state(&ctx)?;
            let r = &st.request;
            let Some(iv) = Interval::new(from.utc, to.utc) else {
                return Ok(Array::new());
            };
            let out: Array = st
                .calendar
                .overlapping_service(&r.environment, service, iv)
                .filter(|d| d.id != r.id)
                .map(|d| Dynamic::from_map(deployment_map(d, st.tz)))
                .collect();
            Ok::<_, Box<EvalAltResult>>(out)
        },
    );
    engine.register_fn("deployment", |ctx: NativeCallContext, id: &str| {
        let st = state(&ctx)?;
        Ok::<_, Box<EvalAltResult>>(st.calendar.get(id).map_or(Dynamic::UNIT, |d| {
            Dynamic::from_map(deployment_map(d, st.tz))
        }))
    });
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
        other => {
            let mut s = other.to_string();
            if let Some(i) = s.rfind(" (line ") {
                s.truncate(i);
            }
            s
        }
    }
}

/// The 1-based line on which `fn <name>(` is defined in `text`, if it is there.
fn hook_line(text: &str, name: &str) -> Option<usize> {
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

impl Scripts {
    /// Compiles every script; `files` holds `(origin, text)` pairs in the order hooks run.
    pub(crate) fn compile(files: &[(String, String)]) -> Result<Self, LoadError> {
        let engine = build_engine();
        let mut scripts = Vec::with_capacity(files.len());
        for (origin, text) in files {
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
            let mut has_schedule = false;
            for f in ast.iter_functions() {
                if f.name == "schedule" {
                    if f.params.len() != 1 {
                        return Err(LoadError {
                            kind: LoadErrorKind::Script,
                            location: Location::new(origin, None),
                            field: None,
                            message: format!(
                                "hook `schedule` must take one parameter (the request), it takes {}",
                                f.params.len()
                            ),
                        });
                    }
                    has_schedule = true;
                }
            }
            scripts.push(Script {
                hook_line: hook_line(text, "schedule"),
                origin: origin.clone(),
                ast,
                has_schedule,
            });
        }
        Ok(Self { engine, scripts })
    }

    /// Whether any script defines `fn schedule(request)`.
    pub(crate) fn has_schedule_hooks(&self) -> bool {
        self.scripts.iter().any(|s| s.has_schedule)
    }

    /// Runs every `schedule` hook. Findings go to `out`, printed text to `trace`. A script that
    /// fails adds a `policy_error` deny with its file and line; the others still run.
    pub(crate) fn run_schedule(
        &self,
        input: &HookInput,
        out: &mut Vec<Finding>,
        trace: &mut Vec<String>,
    ) {
        let hooks: Vec<&Script> = self.scripts.iter().filter(|s| s.has_schedule).collect();
        if hooks.is_empty() {
            return;
        }
        TRACE.with(|t| t.borrow_mut().clear());
        let st = Arc::new(CallState {
            request: input.request.clone(),
            calendar: input.calendar.clone(),
            now: input.now,
            tz: input.tz,
            findings: Mutex::new(Vec::new()),
        });
        for script in hooks {
            let options = CallFnOptions::new()
                .eval_ast(false)
                .rewind_scope(false)
                .with_tag(Ctx(st.clone()));
            let result = self.engine.call_fn_with_options::<Dynamic>(
                options,
                &mut Scope::new(),
                &script.ast,
                "schedule",
                (ScriptRequest(st.clone()),),
            );
            out.append(&mut st.findings.lock().unwrap_or_else(PoisonError::into_inner));
            if let Err(err) = result {
                let source = match error_position(&err).line().or(script.hook_line) {
                    Some(line) => format!("{}:{line}", script.origin),
                    None => script.origin.clone(),
                };
                out.push(
                    Finding::new(
                        RuleId::POLICY_ERROR,
                        Severity::Deny,
                        format!(
                            "policy script `{}` failed, so the change is denied: {}",
                            script.origin,
                            error_message(&err)
                        ),
                        Some(source),
                    )
                    .with_detail("script", script.origin.clone())
                    .with_detail("hook", "schedule"),
                );
            }
        }
        TRACE.with(|t| trace.append(&mut t.borrow_mut()));
    }
}
