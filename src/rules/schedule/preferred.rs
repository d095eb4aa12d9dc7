//! `preferred_window`: a change should run entirely inside one of the preferred windows; a
//! warning, so it blocks no start time.

use serde_json::Value;

use super::ScheduleCtx;
use crate::decision::{Finding, Severity};
use crate::rules::{NamedWindow, Rule};
use crate::time::IntervalSet;

/// The rule's id.
pub(crate) const ID: &str = "preferred_window";

pub(crate) fn check(rule: &Rule<Vec<NamedWindow>>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    // The common case, without allocating: one occurrence holds the whole change.
    let mut inside = false;
    for w in rule.value.iter().filter(|w| w.touches(ctx.request)) {
        w.window.for_each_overlapping(&ctx.interval, |occ| {
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
    for w in &windows {
        w.window
            .for_each_overlapping(&ctx.interval, |occ| occurrences.push(occ));
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
    out.push(
        Finding::new(
            ID,
            Severity::Warn,
            format!(
                "runs outside the preferred window: {}",
                described.join(", ")
            ),
            Some(rule.source.clone()),
        )
        .with_detail("windows", names),
    );
}
