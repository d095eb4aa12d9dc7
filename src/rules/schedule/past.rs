//! `start_in_past`: a change may not start before the time of the check (`now`). It has no
//! policy key and no exemptions: it applies in every environment the policy knows, whatever
//! the change's type.

use chrono::{DateTime, Utc};

use super::{Constraints, ScheduleCtx, text};
use crate::decision::{Finding, Severity};
use crate::time::format_utc;

/// The rule's id.
pub(crate) const ID: &str = "start_in_past";

fn message(start: &str, now: DateTime<Utc>) -> String {
    format!(
        "starts at {start}, before the time of the check {}",
        format_utc(now)
    )
}

/// Denies a request whose start is before `now`.
pub(crate) fn check(ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    let start = ctx.interval.start();
    if start >= ctx.now {
        return;
    }
    out.push(
        Finding::new(
            ID,
            Severity::Deny,
            message(&ctx.request.start.to_rfc3339(), ctx.now),
            None,
        )
        .with_detail("start", format_utc(start))
        .with_detail("now", format_utc(ctx.now)),
    );
}

/// Blocks every start before `now`.
pub(crate) fn constrain(ctx: &ScheduleCtx, c: &mut Constraints) {
    c.not_before.push((
        text(
            ID,
            format!(
                "a change may not start before the time of the check {}",
                format_utc(ctx.now)
            ),
        ),
        ctx.now,
    ));
}
