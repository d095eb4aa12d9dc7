//! `add_risk(points, reason)` and `risk_score()`: the `risk` hook's functions. A script adds
//! points with a reason shown in `details.risk.factors` (name `script`, its file and line as
//! the source); it can never take points away, so a script keeps the assessment monotonic.

use std::sync::PoisonError;

use rhai::{Engine, EvalAltResult, NativeCallContext};

use crate::script::convert::bytes_cost;
use crate::script::sandbox::{charge, limits};
use crate::script::state::{RiskAddition, state};

/// The most points one `add_risk` call adds.
pub(crate) const MAX_POINTS: i64 = 1_000;
/// The most `add_risk` calls in one check.
pub(crate) const MAX_ADDITIONS: usize = 100;

fn add_risk(ctx: NativeCallContext, points: i64, reason: &str) -> Result<(), Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let Some(sink) = st.risk.as_ref() else {
        return Err(format!(
            "`add_risk` adds to the risk score, which only `fn risk(ctx)` has, not `{}`",
            st.hook
        )
        .into());
    };
    if !(1..=MAX_POINTS).contains(&points) {
        return Err(format!(
            "`add_risk` takes points from 1 to {MAX_POINTS}, not {points} (a script cannot lower risk)"
        )
        .into());
    }
    if reason.trim().is_empty() {
        return Err("`add_risk` needs a reason shown to people".into());
    }
    charge(bytes_cost(reason.len().min(limits::MESSAGE_BYTES)))?;
    let mut added = sink.lock().unwrap_or_else(PoisonError::into_inner);
    if added.len() >= MAX_ADDITIONS {
        return Err(format!(
            "the scripts called `add_risk` more than the limit of {MAX_ADDITIONS} times in one check"
        )
        .into());
    }
    let origin = ctx.call_source().unwrap_or("<script>");
    let source = match ctx.call_position().line() {
        Some(line) => format!("{origin}:{line}"),
        None => origin.to_owned(),
    };
    let reason: String = reason.chars().take(limits::MESSAGE_BYTES).collect();
    added.push(RiskAddition {
        points: u32::try_from(points).unwrap_or(u32::MAX),
        reason,
        source,
    });
    Ok(())
}

fn risk_score(ctx: NativeCallContext) -> Result<i64, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let Some(sink) = st.risk.as_ref() else {
        return Err(format!(
            "`risk_score` reads the risk score, which only `fn risk(ctx)` has, not `{}`",
            st.hook
        )
        .into());
    };
    let added: i64 = sink
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|a| i64::from(a.points))
        .sum();
    Ok(i64::from(st.risk_score).saturating_add(added))
}

pub(crate) fn register(engine: &mut Engine) {
    def!(
        engine,
        "add_risk",
        ["points", "reason"],
        &[
            "Adds `points` (at most the per-call limit) to the risk score with `reason` (`risk` hook only)."
        ],
        add_risk
    );
    def!(
        engine,
        "risk_score",
        [],
        &[
            "The risk score so far: the built-in factors' points and every `add_risk` (`risk` hook only)."
        ],
        risk_score
    );
}
