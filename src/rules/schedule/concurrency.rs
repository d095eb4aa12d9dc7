//! `concurrency`: at most this many deployments may run at once in the environment.

use std::rc::Rc;

use chrono::{DateTime, Utc};

use super::{Blocker, Constraints, MAX_LISTED, ScheduleCtx, deny, listed_json};
use crate::decision::Finding;
use crate::rules::Rule;
use crate::time::{Interval, IntervalSet};

/// The rule's id.
pub(crate) const ID: &str = "concurrency";

pub(crate) fn check(rule: &Rule<u32>, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
    let (request, interval) = (ctx.request, ctx.interval);
    // Each deployment's interval comes from the calendar's index, never recomputed here.
    let overlapping = || {
        ctx.calendar
            .overlapping_environment_spans(&request.environment, interval)
            .filter(|(d, _)| d.id != request.id)
    };
    // Counted first, so that a passing check allocates nothing.
    let count = overlapping().count();
    if count < rule.value as usize {
        return;
    }
    // Peak number of other deployments running at one instant inside `interval`: a sweep over
    // their clipped starts (+1) and ends (-1); at equal instants ends come first (half-open).
    // The index yields them in order of start, so only the ends need sorting.
    let mut starts: Vec<DateTime<Utc>> = Vec::with_capacity(count);
    let mut ends: Vec<DateTime<Utc>> = Vec::with_capacity(count);
    let mut ids: Vec<&str> = Vec::with_capacity(count);
    for (d, iv) in overlapping() {
        starts.push(iv.start().max(interval.start()));
        ends.push(iv.end().min(interval.end()));
        ids.push(d.id.as_str());
    }
    starts.sort_unstable();
    ends.sort_unstable();
    let (mut running, mut peak, mut e) = (0i64, 0i64, 0usize);
    for s in &starts {
        while ends.get(e).is_some_and(|end| end <= s) {
            running -= 1;
            e += 1;
        }
        running += 1;
        peak = peak.max(running);
    }
    let total = peak + 1;
    if total <= i64::from(rule.value) {
        return;
    }
    let (ids_json, count) = listed_json(ids);
    let mut finding = deny(
        ID,
        rule,
        format!(
            "would make {total} deployments at once in `{}`, at most {} are allowed",
            crate::error::quote(&request.environment),
            rule.value
        ),
    )
    .with_detail("max", rule.value)
    .with_detail("peak", total)
    .with_detail("deployments", ids_json);
    if count > MAX_LISTED {
        finding = finding.with_detail("count", count);
    }
    out.push(finding);
}

/// The deployment may not occupy a time at which the environment already runs the most
/// deployments allowed.
pub(crate) fn constrain<'a>(
    rule: &Rule<u32>,
    ctx: &ScheduleCtx<'a>,
    range: Interval,
    c: &mut Constraints<'a>,
) {
    let request = ctx.request;
    let env = request.environment.as_str();
    // A sweep over starts (+1) and ends (-1), on plain integer keys: ends before starts at
    // the same instant (half-open intervals).
    let key = |t: DateTime<Utc>| (t.timestamp(), t.timestamp_subsec_nanos());
    let mut events: Vec<((i64, u32), i8)> = Vec::new();
    for d in ctx
        .calendar
        .overlapping_environment(env, range)
        .filter(|d| d.id != request.id)
    {
        let iv = d.interval();
        events.push((key(iv.start()), 1));
        events.push((key(iv.end()), -1));
    }
    events.sort_unstable();
    let max = i64::from(rule.value);
    let (mut running, mut full_since) = (0i64, None);
    let mut full = IntervalSet::new();
    let at = |(secs, nanos): (i64, u32)| DateTime::<Utc>::from_timestamp(secs, nanos);
    for (k, delta) in events {
        running += i64::from(delta);
        match (running >= max, full_since) {
            (true, None) => full_since = Some(k),
            (false, Some(since)) => {
                if let Some(iv) = at(since).zip(at(k)).and_then(|(a, b)| Interval::new(a, b)) {
                    full.insert(iv);
                }
                full_since = None;
            }
            _ => {}
        }
    }
    if !full.is_empty() {
        c.occupied.push((
            Rc::new(Full {
                environment: env,
                max: rule.value,
            }),
            full.clip(range),
        ));
    }
}

struct Full<'a> {
    environment: &'a str,
    max: u32,
}

impl Blocker for Full<'_> {
    fn rule(&self) -> &str {
        ID
    }

    fn describe(&self, _: Option<Interval>) -> String {
        format!(
            "`{}` already runs {} deployment{} at once, the most allowed",
            self.environment,
            self.max,
            if self.max == 1 { "" } else { "s" }
        )
    }
}
