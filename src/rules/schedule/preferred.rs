//! `preferred_window`: a change should run entirely inside one of the preferred windows; a
//! warning, so it blocks no start time.
//!
//! Where a window's occurrences could not be computed (past the cron period or RRULE
//! occurrence limit, docs/reliability.md "Recurrences"), the change does not count as inside
//! it: unlike a blackout, which fails closed by blocking that part, a preferred window fails
//! closed by warning, with a message naming the limit and `truncated: true` in the details.

use serde_json::Value;

use super::ScheduleCtx;
use crate::decision::{Finding, Severity};
use crate::rules::{NamedWindow, Rule};
use crate::time::{Interval, IntervalSet, Truncation, format_utc};

/// The rule's id.
pub(crate) const ID: &str = "preferred_window";

pub(crate) fn check(rule: &Rule<Vec<NamedWindow>>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    // The common case, without allocating: one computed occurrence holds the whole change.
    let mut inside = false;
    for w in rule.value.iter().filter(|w| w.touches(ctx.request)) {
        // Truncation does not matter here: an occurrence that was computed holds the change.
        let _ = w.window.for_each_computed(&ctx.interval, |occ| {
            inside |= occ.covers(&ctx.interval);
        });
        if inside {
            return;
        }
    }
    let windows: Vec<&NamedWindow> = rule
        .value
        .iter()
        .filter(|w| w.touches(ctx.request))
        .collect();
    if windows.is_empty() {
        return;
    }
    let mut occurrences = Vec::new();
    // The earliest point where a window could not be computed, and that window's name.
    let mut truncated: Option<(Truncation, &str)> = None;
    for w in &windows {
        let t = w
            .window
            .for_each_computed(&ctx.interval, |occ| occurrences.push(occ));
        if let Some(t) = t.filter(|t| truncated.is_none_or(|(u, _)| t.from < u.from)) {
            truncated = Some((t, &w.name));
        }
    }
    let set: IntervalSet = occurrences.into_iter().collect();
    if set.covers(&ctx.interval) {
        return;
    }
    let described: Vec<String> = windows
        .iter()
        .map(|w| format!("`{}` ({})", w.name, w.window))
        .collect();
    let names: Vec<Value> = windows
        .iter()
        .map(|w| Value::from(w.name.clone()))
        .collect();
    let message = match truncated {
        None => format!(
            "runs outside the preferred window: {}",
            described.join(", ")
        ),
        Some((t, name)) => {
            let unchecked = format!(
                "could not be checked past {}: {} `{name}`",
                format_utc(t.from),
                t.limit
            );
            // Whether everything before the limit was inside a window.
            let before_met = Interval::new(ctx.interval.start(), t.from)
                .is_none_or(|computed| set.covers(&computed));
            if before_met {
                format!(
                    "the preferred window {unchecked}; the rest of the change counts as outside it"
                )
            } else {
                format!(
                    "runs outside the preferred window: {}; and it {unchecked}",
                    described.join(", ")
                )
            }
        }
    };
    let mut finding = Finding::new(ID, Severity::Warn, message, Some(rule.source.clone()))
        .with_detail("windows", names);
    if let Some((t, _)) = truncated {
        finding = finding
            .with_detail("truncated", true)
            .with_detail("computed_until", format_utc(t.from));
    }
    out.push(finding);
}
