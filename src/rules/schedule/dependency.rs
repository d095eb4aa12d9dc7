//! `dependency`: every deployment a change depends on must be in the calendar and end before
//! the change starts.

use super::{Constraints, ScheduleCtx, deny, text};
use crate::decision::Finding;
use crate::rules::Rule;
use crate::time::format_utc;

/// The rule's id.
pub(crate) const ID: &str = "dependency";

fn missing(dep: &str) -> String {
    format!("depends on `{dep}`, which is not in the calendar")
}

pub(crate) fn check(rule: &Rule<()>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    let request = ctx.request;
    let start = ctx.interval.start();
    for dep in &request.depends_on {
        let finding = match ctx.calendar.get(dep.as_str()) {
            None => deny(ID, rule, missing(dep.as_str())),
            Some(d) if d.interval().end() > start => deny(
                ID,
                rule,
                format!(
                    "depends on `{dep}`, which ends at {}, after this change starts at {}",
                    d.end().to_rfc3339(),
                    request.start.to_rfc3339()
                ),
            )
            .with_detail("ends", format_utc(d.interval().end())),
            Some(_) => continue,
        };
        out.push(finding.with_detail("deployment", dep.as_str()));
    }
}

/// A missing dependency is never satisfied; a scheduled one blocks starts before its end.
pub(crate) fn constrain(ctx: &ScheduleCtx, c: &mut Constraints) {
    for dep in &ctx.request.depends_on {
        match ctx.calendar.get(dep.as_str()) {
            None => c.never.push(text(ID, missing(dep.as_str()))),
            Some(d) => c.not_before.push((
                text(
                    ID,
                    format!("depends on `{dep}`, which ends at {}", d.end().to_rfc3339()),
                ),
                d.interval().end(),
            )),
        }
    }
}
