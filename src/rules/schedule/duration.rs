//! `max_duration`: a change may not last longer than this.

use chrono::TimeDelta;

use super::{Constraints, ScheduleCtx, deny, text};
use crate::decision::Finding;
use crate::rules::Rule;
use crate::time::format_duration;

/// The rule's id.
pub(crate) const ID: &str = "max_duration";

/// The finding's message, when the request is too long.
fn too_long(rule: &Rule<TimeDelta>, ctx: &ScheduleCtx) -> Option<String> {
    let request = ctx.request;
    (request.duration > rule.value).then(|| {
        format!(
            "lasts {}, longer than the {} allowed in `{}`",
            format_duration(request.duration),
            format_duration(rule.value),
            request.environment
        )
    })
}

pub(crate) fn check(rule: &Rule<TimeDelta>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    if let Some(message) = too_long(rule, ctx) {
        out.push(
            deny(ID, rule, message)
                .with_detail("max", format_duration(rule.value))
                .with_detail("duration", format_duration(ctx.request.duration)),
        );
    }
}

/// The duration does not depend on the start: too long is never allowed.
pub(crate) fn constrain(rule: &Rule<TimeDelta>, ctx: &ScheduleCtx, c: &mut Constraints) {
    if let Some(message) = too_long(rule, ctx) {
        c.never.push(text(ID, message));
    }
}
