//! `deny(rule, message[, details])`, `warn(...)` and `pending(...)`: a script's findings, with its file and
//! line. A denial may carry `retry_at` in its details: the earliest start time at which the
//! script could allow the change, which the window search jumps to.

use std::sync::PoisonError;

use rhai::{Engine, EvalAltResult, Map, NativeCallContext};

use super::instant::Instant;
use crate::decision::{Finding, Severity};
use crate::script::convert::dynamic_to_json;
use crate::script::state::state;
use crate::time::format_utc;

/// The detail a denial names the earliest start to try next with.
pub(crate) const RETRY_AT: &str = "retry_at";

fn record(
    ctx: &NativeCallContext,
    severity: Severity,
    rule: &str,
    message: &str,
    details: Option<Map>,
) -> Result<(), Box<EvalAltResult>> {
    let st = state(ctx)?;
    if rule.trim().is_empty() {
        return Err("the rule name given to deny(), warn() or pending() must not be empty".into());
    }
    // Each script's AST carries its file name as its source.
    let origin = ctx.call_source().unwrap_or("<script>");
    let source = match ctx.call_position().line() {
        Some(line) => format!("{origin}:{line}"),
        None => origin.to_owned(),
    };
    let mut finding = Finding::new(rule, severity, message, Some(source));
    for (k, v) in details.iter().flatten() {
        let value = match v.read_lock::<Instant>() {
            Some(t) => {
                if k.as_str() == RETRY_AT && severity != Severity::Warn {
                    let mut stability = st.stability.lock().unwrap_or_else(PoisonError::into_inner);
                    stability.retry_at = Some(stability.retry_at.map_or(t.utc, |r| r.max(t.utc)));
                }
                format_utc(t.utc).into()
            }
            None => dynamic_to_json(v),
        };
        finding.details.insert(k.to_string(), value);
    }
    st.findings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(finding);
    Ok(())
}

pub(super) fn register(engine: &mut Engine) {
    for (name, severity) in [
        ("deny", Severity::Deny),
        ("warn", Severity::Warn),
        ("pending", Severity::Pending),
    ] {
        engine.register_fn(
            name,
            move |ctx: NativeCallContext, rule: &str, msg: &str| {
                record(&ctx, severity, rule, msg, None)
            },
        );
        engine.register_fn(
            name,
            move |ctx: NativeCallContext, rule: &str, msg: &str, details: Map| {
                record(&ctx, severity, rule, msg, Some(details))
            },
        );
    }
}
