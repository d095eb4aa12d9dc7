//! `advance_notice`: a change must be requested at least this long before it starts.

use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Blocker, Constraints, ScheduleCtx, deny};
use crate::decision::Finding;
use crate::rules::Rule;
use crate::time::{Interval, format_duration, format_utc};

/// The rule's id.
pub(crate) const ID: &str = "advance_notice";

/// Notice is counted from `requested_at`, or from the check's `now` when the request has none.
fn asked(ctx: &ScheduleCtx) -> DateTime<Utc> {
    ctx.request
        .requested_at
        .map_or(ctx.now, |t| t.with_timezone(&Utc))
}

/// The earliest allowed start, saturating at the latest representable instant.
fn earliest(asked: DateTime<Utc>, min: TimeDelta) -> DateTime<Utc> {
    asked
        .checked_add_signed(min)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

pub(crate) fn check(rule: &Rule<TimeDelta>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    let request = ctx.request;
    let asked = asked(ctx);
    let start = ctx.interval.start();
    if start >= earliest(asked, rule.value) {
        return;
    }
    let notice = start.signed_duration_since(asked);
    let message = if notice < TimeDelta::zero() {
        format!(
            "starts at {} before it was requested at {}; {} notice is required in `{}`",
            request.start.to_rfc3339(),
            format_utc(asked),
            format_duration(rule.value),
            request.environment
        )
    } else {
        format!(
            "gives {} notice, {} is required in `{}`",
            format_duration(notice),
            format_duration(rule.value),
            request.environment
        )
    };
    out.push(
        deny(ID, rule, message)
            .with_detail("required", format_duration(rule.value))
            .with_detail("notice", format_duration(notice))
            .with_detail("earliest_start", format_utc(earliest(asked, rule.value))),
    );
}

/// Blocks every start before `asked + min`.
pub(crate) fn constrain<'a>(
    rule: &Rule<TimeDelta>,
    ctx: &ScheduleCtx<'a>,
    c: &mut Constraints<'a>,
) {
    let asked = asked(ctx);
    c.not_before.push((
        Rc::new(Notice {
            min: rule.value,
            asked,
            environment: &ctx.request.environment,
        }),
        earliest(asked, rule.value),
    ));
}

struct Notice<'a> {
    min: TimeDelta,
    asked: DateTime<Utc>,
    environment: &'a str,
}

impl Blocker for Notice<'_> {
    fn rule(&self) -> &str {
        ID
    }

    fn describe(&self, _: Option<Interval>) -> String {
        format!(
            "{} notice is required in `{}`, counted from {}",
            format_duration(self.min),
            self.environment,
            format_utc(self.asked)
        )
    }
}
