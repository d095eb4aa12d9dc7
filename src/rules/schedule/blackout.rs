//! `blackout`: a change may not overlap a freeze, recurring (policy.yaml) or one-off (the
//! calendar's `blackouts:`).

use std::rc::Rc;

use chrono::{DateTime, Utc};

use super::{Blocker, Constraints, ScheduleCtx, deny};
use crate::decision::{Finding, Severity};
use crate::model::Blackout;
use crate::rules::{NamedWindow, Rule};
use crate::time::{Interval, IntervalSet, format_utc};

/// The rule's id.
pub(crate) const ID: &str = "blackout";

/// Where one-off blackouts come from, as a finding's source.
const CALENDAR_SOURCE: &str = "calendar";

pub(crate) fn check(rule: &Rule<NamedWindow>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    let w = &rule.value;
    if !w.touches(ctx.request) {
        return;
    }
    let mut hit: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    w.window.for_each_overlapping(&ctx.interval, |occ| {
        let from = hit.map_or(occ.start(), |h| h.0);
        hit = Some((from, occ.end()));
    });
    if let Some((from, until)) = hit {
        let tz = w.window.tz();
        out.push(
            deny(
                ID,
                rule,
                format!(
                    "overlaps blackout `{}` ({}) until {}",
                    w.name,
                    w.window,
                    crate::time::format_local(&until.with_timezone(&tz))
                ),
            )
            .with_detail("blackout", w.name.clone())
            .with_detail("from", format_utc(from))
            .with_detail("until", format_utc(until)),
        );
    }
}

/// The calendar blackout's interval, when it is a valid one that applies to the request.
fn calendar_interval(b: &Blackout, ctx: &ScheduleCtx) -> Option<Interval> {
    Interval::new(b.from.with_timezone(&Utc), b.to.with_timezone(&Utc))
        .filter(|_| b.applies_to(ctx.request))
}

pub(crate) fn check_calendar(ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    let overlapping = || {
        ctx.calendar.blackouts().iter().filter_map(|b| {
            calendar_interval(b, ctx)
                .filter(|iv| iv.overlaps(&ctx.interval))
                .map(|iv| (b, iv))
        })
    };
    // Counted first, so that a passing check allocates nothing; more than `MAX_LISTED`
    // become one finding.
    let count = overlapping().count();
    if count > super::MAX_LISTED {
        let (names, list, _) = super::listed(overlapping().map(|(b, _)| b.name.as_str()));
        let from = overlapping().map(|(_, iv)| iv.start()).min();
        let until = overlapping().map(|(_, iv)| iv.end()).max();
        let mut finding = Finding::new(
            ID,
            Severity::Deny,
            format!("overlaps {count} blackouts of the calendar: {list}"),
            Some(CALENDAR_SOURCE.to_owned()),
        )
        .with_detail("count", count)
        .with_detail("blackouts", names);
        if let (Some(from), Some(until)) = (from, until) {
            finding = finding
                .with_detail("from", format_utc(from))
                .with_detail("until", format_utc(until));
        }
        out.push(finding);
        return;
    }
    for (b, iv) in overlapping() {
        out.push(
            Finding::new(
                ID,
                Severity::Deny,
                format!(
                    "overlaps blackout `{}` ({} - {}) until {}",
                    crate::error::quote(&b.name),
                    b.from.to_rfc3339(),
                    b.to.to_rfc3339(),
                    b.to.to_rfc3339()
                ),
                Some(CALENDAR_SOURCE.to_owned()),
            )
            .with_detail("blackout", b.name.clone())
            .with_detail("from", format_utc(iv.start()))
            .with_detail("until", format_utc(iv.end())),
        );
    }
}

/// The deployment may not occupy any occurrence of the window.
pub(crate) fn constrain<'a>(
    rule: &'a Rule<NamedWindow>,
    ctx: &ScheduleCtx<'a>,
    range: Interval,
    c: &mut Constraints<'a>,
) {
    let w = &rule.value;
    if w.touches(ctx.request) {
        c.occupied
            .push((Rc::new(Policy(w)), w.window.covered(range)));
    }
}

/// The deployment may not occupy the one-off blackout.
pub(crate) fn constrain_calendar<'a>(
    ctx: &ScheduleCtx<'a>,
    range: Interval,
    c: &mut Constraints<'a>,
) {
    for b in ctx.calendar.blackouts() {
        if let Some(iv) = calendar_interval(b, ctx).filter(|iv| iv.overlaps(&range)) {
            c.occupied
                .push((Rc::new(OneOff(b)), IntervalSet::from(iv).clip(range)));
        }
    }
}

struct Policy<'a>(&'a NamedWindow);

impl Blocker for Policy<'_> {
    fn rule(&self) -> &str {
        ID
    }

    fn describe(&self, _: Option<Interval>) -> String {
        format!("blackout `{}` ({})", self.0.name, self.0.window)
    }
}

struct OneOff<'a>(&'a Blackout);

impl Blocker for OneOff<'_> {
    fn rule(&self) -> &str {
        ID
    }

    fn describe(&self, _: Option<Interval>) -> String {
        let b = self.0;
        format!(
            "blackout `{}` ({} - {})",
            b.name,
            b.from.to_rfc3339(),
            b.to.to_rfc3339()
        )
    }
}
