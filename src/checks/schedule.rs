//! The built-in schedule rules: `advance_notice`, `max_duration`, `blackout`,
//! `preferred_window`, `conflict`, `concurrency`, `dependency`.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::{NamedWindow, Rule, ScheduleRules};
use crate::calendar::Calendar;
use crate::decision::{Finding, RuleId, Severity};
use crate::model::ChangeRequest;
use crate::time::{Interval, IntervalSet, format_duration, format_utc};

/// Runs every schedule rule of one environment, appending findings in a fixed order.
pub(crate) fn check(
    rules: &ScheduleRules,
    request: &ChangeRequest,
    calendar: &Calendar,
    now: DateTime<Utc>,
    out: &mut Vec<Finding>,
) {
    let interval = request.interval();
    let ty = request.change_type.as_str();
    if let Some(rule) = rules.advance_notice.as_ref().filter(|r| r.applies_to(ty)) {
        advance_notice(rule, request, now, out);
    }
    if let Some(rule) = rules.max_duration.as_ref().filter(|r| r.applies_to(ty)) {
        max_duration(rule, request, out);
    }
    for rule in rules.blackouts.iter().filter(|r| r.applies_to(ty)) {
        blackout(rule, request, interval, out);
    }
    calendar_blackouts(request, calendar, interval, out);
    if let Some(rule) = rules.preferred_window.as_ref().filter(|r| r.applies_to(ty)) {
        preferred_window(rule, request, interval, out);
    }
    if let Some(rule) = rules.conflicts.as_ref().filter(|r| r.applies_to(ty)) {
        conflict(rule, request, calendar, interval, out);
    }
    if let Some(rule) = rules.concurrency.as_ref().filter(|r| r.applies_to(ty)) {
        concurrency(rule, request, calendar, interval, out);
    }
    if let Some(rule) = rules.dependencies.as_ref().filter(|r| r.applies_to(ty)) {
        dependency(rule, request, calendar, out);
    }
}

fn deny<T>(rule_id: &str, rule: &Rule<T>, message: String) -> Finding {
    Finding::new(rule_id, Severity::Deny, message, Some(rule.source.clone()))
}

fn advance_notice(
    rule: &Rule<TimeDelta>,
    request: &ChangeRequest,
    now: DateTime<Utc>,
    out: &mut Vec<Finding>,
) {
    let asked = request.requested_at.map_or(now, |t| t.with_timezone(&Utc));
    let notice = request.start.with_timezone(&Utc) - asked;
    if notice >= rule.value {
        return;
    }
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
        deny(RuleId::ADVANCE_NOTICE, rule, message)
            .with_detail("required", format_duration(rule.value))
            .with_detail("notice", format_duration(notice))
            .with_detail("earliest_start", format_utc(asked + rule.value)),
    );
}

fn max_duration(rule: &Rule<TimeDelta>, request: &ChangeRequest, out: &mut Vec<Finding>) {
    if request.duration <= rule.value {
        return;
    }
    out.push(
        deny(
            RuleId::MAX_DURATION,
            rule,
            format!(
                "lasts {}, longer than the {} allowed in `{}`",
                format_duration(request.duration),
                format_duration(rule.value),
                request.environment
            ),
        )
        .with_detail("max", format_duration(rule.value))
        .with_detail("duration", format_duration(request.duration)),
    );
}

fn blackout(
    rule: &Rule<NamedWindow>,
    request: &ChangeRequest,
    interval: Interval,
    out: &mut Vec<Finding>,
) {
    let w = &rule.value;
    if !w.touches(request) {
        return;
    }
    let mut hit: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    w.window.for_each_overlapping(&interval, |occ| {
        let from = hit.map_or(occ.start(), |h| h.0);
        hit = Some((from, occ.end()));
    });
    if let Some((from, until)) = hit {
        let tz = w.window.tz();
        out.push(
            deny(
                RuleId::BLACKOUT,
                rule,
                format!(
                    "overlaps blackout `{}` ({}) until {}",
                    w.name,
                    w.window,
                    until.with_timezone(&tz).to_rfc3339()
                ),
            )
            .with_detail("blackout", w.name.clone())
            .with_detail("from", format_utc(from))
            .with_detail("until", format_utc(until)),
        );
    }
}

fn calendar_blackouts(
    request: &ChangeRequest,
    calendar: &Calendar,
    interval: Interval,
    out: &mut Vec<Finding>,
) {
    for b in calendar.blackouts() {
        let Some(iv) = Interval::new(b.from.with_timezone(&Utc), b.to.with_timezone(&Utc)) else {
            continue;
        };
        if !iv.overlaps(&interval) || !b.applies_to(request) {
            continue;
        }
        out.push(
            Finding::new(
                RuleId::BLACKOUT,
                Severity::Deny,
                format!(
                    "overlaps blackout `{}` ({} - {}) until {}",
                    b.name,
                    b.from.to_rfc3339(),
                    b.to.to_rfc3339(),
                    b.to.to_rfc3339()
                ),
                Some("calendar".to_owned()),
            )
            .with_detail("blackout", b.name.clone())
            .with_detail("from", format_utc(iv.start()))
            .with_detail("until", format_utc(iv.end())),
        );
    }
}

fn preferred_window(
    rule: &Rule<Vec<NamedWindow>>,
    request: &ChangeRequest,
    interval: Interval,
    out: &mut Vec<Finding>,
) {
    let windows: Vec<&NamedWindow> = rule.value.iter().filter(|w| w.touches(request)).collect();
    if windows.is_empty() {
        return;
    }
    let mut occurrences = Vec::new();
    for w in &windows {
        w.window
            .for_each_overlapping(&interval, |occ| occurrences.push(occ));
    }
    let set: IntervalSet = occurrences.into_iter().collect();
    if set.covers(&interval) {
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
            RuleId::PREFERRED_WINDOW,
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

fn ids_value<'a>(ids: impl IntoIterator<Item = &'a str>) -> Value {
    let set: BTreeSet<&str> = ids.into_iter().collect();
    Value::from(set.into_iter().map(Value::from).collect::<Vec<_>>())
}

fn conflict(
    rule: &Rule<()>,
    request: &ChangeRequest,
    calendar: &Calendar,
    interval: Interval,
    out: &mut Vec<Finding>,
) {
    let mut ids = BTreeSet::new();
    let mut services = BTreeSet::new();
    for service in &request.services {
        for other in calendar.overlapping_service(&request.environment, service, interval) {
            if other.id != request.id {
                ids.insert(other.id.as_str());
                services.insert(service.as_str());
            }
        }
    }
    if ids.is_empty() {
        return;
    }
    let list: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    let svc: Vec<String> = services.iter().map(|s| format!("`{s}`")).collect();
    out.push(
        deny(
            RuleId::CONFLICT,
            rule,
            format!(
                "conflicts with {} already scheduled on {} in `{}`",
                list.join(", "),
                svc.join(", "),
                request.environment
            ),
        )
        .with_detail("deployments", ids_value(ids))
        .with_detail("services", ids_value(services)),
    );
}

fn concurrency(
    rule: &Rule<u32>,
    request: &ChangeRequest,
    calendar: &Calendar,
    interval: Interval,
    out: &mut Vec<Finding>,
) {
    let others: Vec<&ChangeRequest> = calendar
        .overlapping_environment(&request.environment, interval)
        .filter(|d| d.id != request.id)
        .collect();
    if others.len() < rule.value as usize {
        return;
    }
    // Peak number of other deployments running at one instant inside `interval`: a sweep over
    // their clipped starts (+1) and ends (-1); at equal instants ends come first (half-open).
    let mut events: Vec<(DateTime<Utc>, i32)> = Vec::with_capacity(others.len() * 2);
    for d in &others {
        let iv = d.interval();
        events.push((iv.start().max(interval.start()), 1));
        events.push((iv.end().min(interval.end()), -1));
    }
    events.sort_unstable();
    let (mut running, mut peak) = (0i32, 0i32);
    for (_, delta) in events {
        running += delta;
        peak = peak.max(running);
    }
    let total = i64::from(peak) + 1;
    if total <= i64::from(rule.value) {
        return;
    }
    out.push(
        deny(
            RuleId::CONCURRENCY,
            rule,
            format!(
                "would make {total} deployments at once in `{}`, at most {} are allowed",
                request.environment, rule.value
            ),
        )
        .with_detail("max", rule.value)
        .with_detail("peak", total)
        .with_detail(
            "deployments",
            ids_value(others.iter().map(|d| d.id.as_str())),
        ),
    );
}

fn dependency(
    rule: &Rule<()>,
    request: &ChangeRequest,
    calendar: &Calendar,
    out: &mut Vec<Finding>,
) {
    let start = request.start.with_timezone(&Utc);
    for dep in &request.depends_on {
        let finding = match calendar.get(dep.as_str()) {
            None => deny(
                RuleId::DEPENDENCY,
                rule,
                format!("depends on `{dep}`, which is not in the calendar"),
            ),
            Some(d) if d.interval().end() > start => deny(
                RuleId::DEPENDENCY,
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
