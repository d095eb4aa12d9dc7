//! `dependency`: every deployment a change depends on must be in the calendar and end before
//! the change starts.
//!
//! The request's own id never counts against it: reading a request refuses `depends_on` that
//! names the request itself, and a hand-built request that does is not held back by its own
//! calendar entry (as `conflict` ignores it). More than [`MAX_FINDINGS`] failing dependencies
//! are reported as one finding with their count and the first ids, so that output stays bounded.

use super::{Constraints, ScheduleCtx, deny, text};
use crate::decision::Finding;
use crate::rules::Rule;
use crate::time::format_utc;

/// The rule's id.
pub(crate) const ID: &str = "dependency";

/// Up to this many failing dependencies get one finding each; more become one finding.
pub(crate) const MAX_FINDINGS: usize = 20;

fn missing(dep: &str) -> String {
    format!(
        "depends on `{}`, which is not in the calendar",
        crate::error::quote(dep)
    )
}

/// The dependencies that count: every one but the request itself.
fn deps<'a>(ctx: &ScheduleCtx<'a>) -> impl Iterator<Item = &'a str> + 'a {
    let own = ctx.request.id.as_str();
    ctx.request
        .depends_on
        .iter()
        .map(|d| d.as_str())
        .filter(move |d| *d != own)
}

pub(crate) fn check(rule: &Rule<()>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    let request = ctx.request;
    let start = ctx.interval.start();
    let failing = |dep: &&str| {
        ctx.calendar
            .get_with_interval(dep)
            .is_none_or(|(_, iv)| iv.end() > start)
    };
    // Up to `MAX_FINDINGS` dependencies cannot fail more than that: no need to count them.
    let count = if request.depends_on.len() > MAX_FINDINGS {
        deps(ctx).filter(failing).count()
    } else {
        0
    };
    if count > MAX_FINDINGS {
        let first: Vec<&str> = deps(ctx).filter(failing).take(MAX_FINDINGS).collect();
        let missing = deps(ctx).filter(|d| ctx.calendar.get(d).is_none()).count();
        out.push(
            deny(
                ID,
                rule,
                format!(
                    "{count} dependencies are missing from the calendar or do not end before this \
                     change starts at {} ({missing} missing); the first: {}",
                    request.start.to_rfc3339(),
                    first
                        .iter()
                        .map(|d| format!("`{}`", crate::error::quote(d)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_detail("count", count)
            .with_detail("missing", missing)
            .with_detail("deployments", first),
        );
        return;
    }
    for dep in deps(ctx) {
        let finding = match ctx.calendar.get_with_interval(dep) {
            None => deny(ID, rule, missing(dep)),
            Some((d, iv)) if iv.end() > start => deny(
                ID,
                rule,
                format!(
                    "depends on `{dep}`, which ends at {}, after this change starts at {}",
                    crate::time::format_local(&d.end()),
                    request.start.to_rfc3339()
                ),
            )
            .with_detail("ends", format_utc(iv.end())),
            Some(_) => continue,
        };
        out.push(finding.with_detail("deployment", dep));
    }
}

/// A missing dependency is never satisfied; a scheduled one blocks starts before its end.
pub(crate) fn constrain(ctx: &ScheduleCtx, c: &mut Constraints) {
    for dep in deps(ctx) {
        match ctx.calendar.get(dep) {
            None => c.never.push(text(ID, missing(dep))),
            Some(d) => c.not_before.push((
                text(
                    ID,
                    format!(
                        "depends on `{dep}`, which ends at {}",
                        crate::time::format_local(&d.end())
                    ),
                ),
                d.interval().end(),
            )),
        }
    }
}
