//! `deny(rule, message[, details])`, `warn(...)` and `pending(...)`: a script's findings, with its file and
//! line. A denial may carry `retry_at` in its details: the earliest start time at which the
//! script could allow the change, which the window search jumps to.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use rhai::{Engine, EvalAltResult, Map, NativeCallContext};

use super::instant::Instant;
use crate::decision::{Finding, Severity};
use crate::script::convert::{bytes_cost, dynamic_to_json};
use crate::script::sandbox::{charge, limits};
use crate::script::state::state;

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
    if rule.len() > limits::RULE_ID_BYTES {
        return Err(format!(
            "the rule name given to deny(), warn() or pending() is longer than the limit of {} bytes",
            limits::RULE_ID_BYTES
        )
        .into());
    }
    charge(bytes_cost(
        rule.len() + message.len().min(limits::MESSAGE_BYTES),
    ))?;
    let in_call = st
        .findings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    if in_call >= limits::FINDINGS_PER_CALL {
        return Err(format!(
            "the script recorded more than the limit of {} findings in one hook call",
            limits::FINDINGS_PER_CALL
        )
        .into());
    }
    if st.recorded.fetch_add(1, Ordering::Relaxed) >= limits::FINDINGS_PER_CHECK {
        return Err(format!(
            "the scripts recorded more than the limit of {} findings in one check",
            limits::FINDINGS_PER_CHECK
        )
        .into());
    }
    let message = truncate_message(message);
    // Each script's AST carries its file name as its source.
    let origin = ctx.call_source().unwrap_or("<script>");
    let source = match ctx.call_position().line() {
        Some(line) => format!("{origin}:{line}"),
        None => origin.to_owned(),
    };
    let mut finding = Finding::new(rule, severity, message, Some(source));
    let mut budget = limits::DETAILS_BYTES;
    for (k, v) in details.iter().flatten() {
        budget = budget.checked_sub(k.len()).ok_or_else(|| {
            Box::<EvalAltResult>::from(format!(
                "finding details are larger than the limit of {} bytes",
                limits::DETAILS_BYTES
            ))
        })?;
        if k.as_str() == RETRY_AT && severity != Severity::Warn {
            if let Some(t) = v.read_lock::<Instant>() {
                let mut stability = st.stability.lock().unwrap_or_else(PoisonError::into_inner);
                stability.retry_at = Some(stability.retry_at.map_or(t.utc, |r| r.max(t.utc)));
            }
        }
        // Instants are written as UTC RFC 3339, like every other instant in a decision.
        let value = dynamic_to_json(v, budget)?;
        budget = budget.saturating_sub(value.to_string().len());
        finding.details.insert(k.to_string(), value);
    }
    st.findings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(finding);
    Ok(())
}

/// The marker that ends a message cut at [`limits::MESSAGE_BYTES`].
const CUT: &str = "… (message truncated)";

/// `message`, cut at [`limits::MESSAGE_BYTES`] (on a character boundary) and marked.
fn truncate_message(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= limits::MESSAGE_BYTES {
        return message.into();
    }
    let mut end = limits::MESSAGE_BYTES - CUT.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT}", &message[..end]).into()
}

pub(super) fn register(engine: &mut Engine) {
    for (name, severity, doc2, doc3) in [
        (
            "deny",
            Severity::Deny,
            DENY,
            "`deny(rule, message, details)`: `deny(rule, message)` with details (a map whose \
             `retry_at` instant names the earliest start to try next).",
        ),
        (
            "warn",
            Severity::Warn,
            WARN,
            "`warn(rule, message, details)`: `warn(rule, message)` with details.",
        ),
        (
            "pending",
            Severity::Pending,
            PENDING,
            "`pending(rule, message, details)`: `pending(rule, message)` with details.",
        ),
    ] {
        def!(
            engine,
            name,
            ["rule", "message"],
            &[doc2],
            move |ctx: NativeCallContext, rule: &str, msg: &str| {
                record(&ctx, severity, rule, msg, None)
            },
        );
        def!(
            engine,
            name,
            ["rule", "message", "details"],
            &[doc3],
            move |ctx: NativeCallContext, rule: &str, msg: &str, details: Map| {
                record(&ctx, severity, rule, msg, Some(details))
            },
        );
    }
}

const DENY: &str = "Records a `deny` finding of rule `rule` with `message`, at this script's file and \
    line: the change is not allowed.";
const WARN: &str = "Records a `warn` finding: the change is allowed, with a warning.";
const PENDING: &str = "Records a `pending` finding (`approvals` and `gates` hooks): not allowed yet, \
    and it can become allowed when more evidence arrives.";
