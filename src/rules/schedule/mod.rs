//! The built-in schedule rules, one file each: `advance_notice` ([`notice`]), `max_duration`
//! ([`duration`]), `blackout`, `preferred_window` ([`preferred`]), `conflict`, `concurrency`,
//! `dependency`, and `start_in_past` ([`past`]), which has no policy key and applies in every
//! known environment.
//!
//! Every rule gives two forms of one meaning:
//! - its point check, `check(rule, ctx, out)`: the findings for the request as it stands;
//! - its set form, `constrain(rule, ctx, range, out)`: over every start time in `range`,
//!   which ones it blocks, as instants the deployment may not occupy, a time it may not start
//!   before, or "never". The window search ([`crate::answers`]) works on these sets and
//!   confirms its candidates with the point checks.
//!
//! `tests/windows_props.rs` checks that the two agree: a start is blocked by the set form
//! exactly when the point check denies it.

pub(crate) mod blackout;
pub(crate) mod concurrency;
pub(crate) mod conflict;
pub(crate) mod dependency;
pub(crate) mod duration;
pub(crate) mod notice;
pub(crate) mod past;
pub(crate) mod preferred;

use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::{NamedWindow, Rule};
use crate::calendar::Calendar;
use crate::decision::{Finding, Severity};
use crate::model::ChangeRequest;
use crate::time::{Interval, IntervalSet};

/// The schedule rules of one environment. A `None` rule is not checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScheduleRules {
    pub advance_notice: Option<Rule<TimeDelta>>,
    pub max_duration: Option<Rule<TimeDelta>>,
    pub blackouts: Vec<Rule<NamedWindow>>,
    pub preferred_window: Option<Rule<Vec<NamedWindow>>>,
    pub conflicts: Option<Rule<()>>,
    pub concurrency: Option<Rule<u32>>,
    pub dependencies: Option<Rule<()>>,
}

/// What a schedule rule looks at: the request, the calendar, and the time of the check.
#[derive(Clone, Copy)]
pub(crate) struct ScheduleCtx<'a> {
    pub request: &'a ChangeRequest,
    pub calendar: &'a Calendar,
    pub now: DateTime<Utc>,
    /// `request.interval()`, computed once.
    pub interval: Interval,
}

impl<'a> ScheduleCtx<'a> {
    pub fn new(request: &'a ChangeRequest, calendar: &'a Calendar, now: DateTime<Utc>) -> Self {
        Self {
            request,
            calendar,
            now,
            interval: request.interval(),
        }
    }

    fn change_type(&self) -> &'a str {
        self.request.change_type.as_str()
    }
}

/// Why start times are blocked. Described only when a stretch is reported, so that a search
/// costs no formatting for the rules it never mentions.
pub(crate) trait Blocker {
    /// The rule's id.
    fn rule(&self) -> &str;
    /// The reason in words; `occupied` is the time that the blocked start times would make the
    /// deployment occupy (rules that name other deployments look them up there).
    fn describe(&self, occupied: Option<Interval>) -> String;
}

/// A shared [`Blocker`].
pub(crate) type Label<'a> = Rc<dyn Blocker + 'a>;

/// A blocker with a fixed description (a script's denial, a rule that never passes).
pub(crate) struct Text {
    pub rule: String,
    pub text: String,
}

impl Blocker for Text {
    fn rule(&self) -> &str {
        &self.rule
    }

    fn describe(&self, _: Option<Interval>) -> String {
        self.text.clone()
    }
}

/// A label with a fixed description.
pub(crate) fn text<'a>(rule: &str, text: String) -> Label<'a> {
    Rc::new(Text {
        rule: rule.to_owned(),
        text,
    })
}

/// The set form of an environment's rules over a range of start times.
#[derive(Default)]
pub(crate) struct Constraints<'a> {
    /// Rules that deny every start (unknown environment, too long, missing dependency).
    pub never: Vec<Label<'a>>,
    /// Instants the deployment may not occupy, per rule.
    pub occupied: Vec<(Label<'a>, IntervalSet)>,
    /// Times the deployment may not start before, per rule.
    pub not_before: Vec<(Label<'a>, DateTime<Utc>)>,
}

impl ScheduleRules {
    /// Runs every rule that applies to the request's type, appending findings in a fixed order.
    pub fn check(&self, ctx: &ScheduleCtx, out: &mut Vec<Finding>) {
        let ty = ctx.change_type();
        past::check(ctx, out);
        if let Some(rule) = self.advance_notice.as_ref().filter(|r| r.applies_to(ty)) {
            notice::check(rule, ctx, out);
        }
        if let Some(rule) = self.max_duration.as_ref().filter(|r| r.applies_to(ty)) {
            duration::check(rule, ctx, out);
        }
        for rule in self.blackouts.iter().filter(|r| r.applies_to(ty)) {
            blackout::check(rule, ctx, out);
        }
        blackout::check_calendar(ctx, out);
        if let Some(rule) = self.preferred_window.as_ref().filter(|r| r.applies_to(ty)) {
            preferred::check(rule, ctx, out);
        }
        if let Some(rule) = self.conflicts.as_ref().filter(|r| r.applies_to(ty)) {
            conflict::check(rule, ctx, out);
        }
        if let Some(rule) = self.concurrency.as_ref().filter(|r| r.applies_to(ty)) {
            concurrency::check(rule, ctx, out);
        }
        if let Some(rule) = self.dependencies.as_ref().filter(|r| r.applies_to(ty)) {
            dependency::check(rule, ctx, out);
        }
    }

    /// The set form of every rule that applies to the request's type, over the start times
    /// whose deployments fall in `range`. `preferred_window` only warns, so it blocks nothing.
    pub fn constraints<'a>(&'a self, ctx: &ScheduleCtx<'a>, range: Interval) -> Constraints<'a> {
        let mut c = Constraints::default();
        let ty = ctx.change_type();
        past::constrain(ctx, &mut c);
        if let Some(rule) = self.advance_notice.as_ref().filter(|r| r.applies_to(ty)) {
            notice::constrain(rule, ctx, &mut c);
        }
        if let Some(rule) = self.max_duration.as_ref().filter(|r| r.applies_to(ty)) {
            duration::constrain(rule, ctx, &mut c);
        }
        for rule in self.blackouts.iter().filter(|r| r.applies_to(ty)) {
            blackout::constrain(rule, ctx, range, &mut c);
        }
        blackout::constrain_calendar(ctx, range, &mut c);
        if self.conflicts.as_ref().is_some_and(|r| r.applies_to(ty)) {
            conflict::constrain(ctx, range, &mut c);
        }
        if let Some(rule) = self.concurrency.as_ref().filter(|r| r.applies_to(ty)) {
            concurrency::constrain(rule, ctx, range, &mut c);
        }
        if self.dependencies.as_ref().is_some_and(|r| r.applies_to(ty)) {
            dependency::constrain(ctx, &mut c);
        }
        c
    }
}

/// A deny finding of a policy.yaml rule, with the rule's source.
fn deny<T>(rule_id: &str, rule: &Rule<T>, message: String) -> Finding {
    Finding::new(rule_id, Severity::Deny, message, Some(rule.source.clone()))
}

/// The most ids or names one finding lists, in its message and its details; a finding about
/// more says how many in `details.count`.
pub(crate) const MAX_LISTED: usize = 20;

/// The first [`MAX_LISTED`] of sorted, deduplicated `ids` as a JSON array, the message's list
/// of them (each quoted in backticks, "and N more" when cut) and how many there are.
fn listed<'a>(ids: impl IntoIterator<Item = &'a str>) -> (Value, String, usize) {
    let ids = sorted_unique(ids);
    let mut text = String::new();
    for id in ids.iter().take(MAX_LISTED) {
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push('`');
        text.push_str(&crate::error::quote(id));
        text.push('`');
    }
    if ids.len() > MAX_LISTED {
        text.push_str(&format!(", and {} more", ids.len() - MAX_LISTED));
    }
    let (json, count) = first_json(&ids);
    (json, text, count)
}

/// [`listed`] without the message's list.
fn listed_json<'a>(ids: impl IntoIterator<Item = &'a str>) -> (Value, usize) {
    first_json(&sorted_unique(ids))
}

/// `ids` sorted and deduplicated.
fn sorted_unique<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The first [`MAX_LISTED`] of `ids` as a JSON array, and how many there are.
fn first_json(ids: &[&str]) -> (Value, usize) {
    let first = ids
        .iter()
        .take(MAX_LISTED)
        .map(|id| Value::from(*id))
        .collect();
    (Value::Array(first), ids.len())
}
