//! "When can I deploy?": the next start times a whole deployment would be allowed
//! ([`PolicySet::next_windows`]), and the next occurrences of every recurring window
//! ([`PolicySet::preview`]).
//!
//! Candidates come from interval algebra, not from trying every minute: each built-in rule gives
//! the set of instants the deployment may not occupy (blackouts, conflicts, concurrency) or a time
//! it may not start before (advance notice, dependencies); the free gaps at least as long as the
//! deployment are the candidates. Scripts only confirm: each candidate start is checked with
//! [`PolicySet::check_schedule`], and when a script denies it the search moves to the next local
//! midnight (in the bundle's zone) or the next gap, whichever comes first. At most
//! [`MAX_CONFIRMATIONS`] checks run per question.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::calendar::Calendar;
use crate::checks::{NamedWindow, ScheduleRules};
use crate::decision::{Decision, Finding, RuleId, Severity};
use crate::model::{Blackout, ChangeRequest};
use crate::policy::PolicySet;
use crate::time::{Interval, IntervalSet, format_duration, format_utc, resolve_local};

/// Most full checks (built-in rules and scripts) one [`PolicySet::next_windows`] question runs.
/// When it is reached the answer says so (`confirmation_limit_reached`) and holds the windows
/// found until then.
pub const MAX_CONFIRMATIONS: usize = 200;

/// The answer to "when can this deployment run?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextWindows {
    /// The earliest allowed starts, in order, at most as many as asked for.
    pub windows: Vec<AllowedWindow>,
    /// Why the start times before each window are not allowed, in order.
    pub blocked: Vec<BlockedStretch>,
    /// The stretch of start times searched: from `now` (rounded up to the minute) to the end of
    /// the horizon. A deployment must also end within it.
    pub searched: Searched,
    /// How many full checks confirmed or rejected candidates.
    pub confirmations: usize,
    /// Whether the search stopped at [`MAX_CONFIRMATIONS`] before finding every window asked for.
    pub confirmation_limit_reached: bool,
    /// A sentence when the answer is not simply a list of windows (nothing found, never
    /// allowed, search cut short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The stretch of time a [`NextWindows`] answer looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Searched {
    /// First start time considered.
    pub from: DateTime<FixedOffset>,
    /// End of the horizon (exclusive).
    pub until: DateTime<FixedOffset>,
}

/// A stretch in which the deployment may run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllowedWindow {
    /// The earliest allowed start, confirmed by a full check (built-in rules and scripts).
    pub start: DateTime<FixedOffset>,
    /// The end of the free stretch: the deployment must be over by then.
    pub end: DateTime<FixedOffset>,
    /// The last start that still ends by `end`, as far as built-in rules go (scripts were asked
    /// about `start` only).
    pub latest_start: DateTime<FixedOffset>,
    /// Warnings (e.g. `preferred_window`) a check at `start` gives; they do not block.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Finding>,
}

/// Start times that are not allowed, and the rules that say so.
///
/// `from` is whole: when the stretch follows a window, `from` is that window's `latest_start`,
/// which itself is allowed (the deployment then ends exactly when the blocking begins).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedStretch {
    /// First blocked start time.
    pub from: DateTime<FixedOffset>,
    /// First start time after the stretch (exclusive).
    pub until: DateTime<FixedOffset>,
    /// The rules that block every start in the stretch, e.g. `blackout`, `advance_notice`.
    pub rules: Vec<RuleId>,
    /// The same in words: which blackout, which deployments, how much notice.
    pub reasons: Vec<String>,
}

/// What blocks: described only when a stretch is reported, so that a question costs no
/// formatting for the rules it never mentions.
#[derive(Debug, Clone)]
enum Why<'a> {
    /// A fixed description.
    Text(String),
    /// A blackout of the policy.
    Window(&'a NamedWindow),
    /// A one-off blackout of the calendar.
    Calendar(&'a Blackout),
    /// Other deployments of this service (their ids are looked up per stretch).
    Conflict(&'a str),
    /// The environment already runs as many deployments as allowed.
    Concurrency(&'a str, u32),
    /// Advance notice from `asked`.
    Notice(TimeDelta, DateTime<Utc>),
}

#[derive(Debug, Clone)]
struct Label<'a> {
    rule: String,
    why: Why<'a>,
}

impl<'a> Label<'a> {
    fn text(rule: &str, text: String) -> Self {
        Self::new(rule, Why::Text(text))
    }

    fn new(rule: &str, why: Why<'a>) -> Self {
        Self {
            rule: rule.to_owned(),
            why,
        }
    }

    /// The reason in words; conflicts name the deployments that start times in `[from,
    /// until)` would overlap.
    fn describe(
        &self,
        request: &ChangeRequest,
        calendar: &Calendar,
        stretch: Option<Interval>,
    ) -> String {
        match &self.why {
            Why::Text(t) => t.clone(),
            Why::Window(w) => format!("blackout `{}` ({})", w.name, w.window),
            Why::Calendar(b) => format!(
                "blackout `{}` ({} - {})",
                b.name,
                b.from.to_rfc3339(),
                b.to.to_rfc3339()
            ),
            Why::Conflict(service) => {
                let ids: BTreeSet<&str> = stretch
                    .into_iter()
                    .flat_map(|iv| calendar.overlapping_service(&request.environment, service, iv))
                    .filter(|x| x.id != request.id)
                    .map(|x| x.id.as_str())
                    .collect();
                let ids: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
                format!("`{service}` is busy with {}", ids.join(", "))
            }
            Why::Concurrency(env, max) => format!(
                "`{env}` already runs {max} deployment{} at once, the most allowed",
                if *max == 1 { "" } else { "s" }
            ),
            Why::Notice(min, asked) => format!(
                "{} notice is required in `{}`, counted from {}",
                format_duration(*min),
                request.environment,
                format_utc(*asked)
            ),
        }
    }
}

/// The built-in constraints on one request, as sets.
#[derive(Default)]
struct Constraints<'a> {
    /// Rules that deny every start (unknown environment, too long, missing dependency).
    never: Vec<Label<'a>>,
    /// Instants the deployment may not occupy, per rule.
    occupied: Vec<(Label<'a>, IntervalSet)>,
    /// Times the deployment may not start before, per rule.
    not_before: Vec<(Label<'a>, DateTime<Utc>)>,
}

fn local(t: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    t.with_timezone(&tz).fixed_offset()
}

fn ceil_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let whole = secs - secs.rem_euclid(60);
    let floor = DateTime::<Utc>::from_timestamp(whole, 0).unwrap_or(t);
    if floor == t {
        t
    } else {
        floor + TimeDelta::minutes(1)
    }
}

/// The first local midnight (in `tz`) after `t`.
fn next_midnight(t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let mut date = t.with_timezone(&tz).date_naive();
    loop {
        date += TimeDelta::days(1);
        let m = resolve_local(tz, date.and_time(NaiveTime::MIN));
        if m > t {
            return m;
        }
    }
}

fn constraints<'a>(
    rules: &'a ScheduleRules,
    request: &'a ChangeRequest,
    calendar: &'a Calendar,
    now: DateTime<Utc>,
    range: Interval,
) -> Constraints<'a> {
    let mut c = Constraints::default();
    let ty = request.change_type.as_str();
    let env = request.environment.as_str();
    if let Some(rule) = rules.advance_notice.as_ref().filter(|r| r.applies_to(ty)) {
        let asked = request.requested_at.map_or(now, |t| t.with_timezone(&Utc));
        c.not_before.push((
            Label::new(RuleId::ADVANCE_NOTICE, Why::Notice(rule.value, asked)),
            asked + rule.value,
        ));
    }
    if let Some(rule) = rules.max_duration.as_ref().filter(|r| r.applies_to(ty)) {
        if request.duration > rule.value {
            c.never.push(Label::text(
                RuleId::MAX_DURATION,
                format!(
                    "lasts {}, longer than the {} allowed in `{env}`",
                    format_duration(request.duration),
                    format_duration(rule.value)
                ),
            ));
        }
    }
    for rule in rules.blackouts.iter().filter(|r| r.applies_to(ty)) {
        let w: &NamedWindow = &rule.value;
        if w.touches(request) {
            c.occupied.push((
                Label::new(RuleId::BLACKOUT, Why::Window(w)),
                w.window.covered(range),
            ));
        }
    }
    for b in calendar.blackouts() {
        let iv = Interval::new(b.from.with_timezone(&Utc), b.to.with_timezone(&Utc));
        if let Some(iv) = iv.filter(|iv| iv.overlaps(&range) && b.applies_to(request)) {
            c.occupied.push((
                Label::new(RuleId::BLACKOUT, Why::Calendar(b)),
                IntervalSet::from(iv).clip(range),
            ));
        }
    }
    if rules.conflicts.as_ref().is_some_and(|r| r.applies_to(ty)) {
        for service in &request.services {
            let busy: IntervalSet = calendar
                .overlapping_service(env, service, range)
                .filter(|d| d.id != request.id)
                .map(|d| d.interval())
                .collect();
            if !busy.is_empty() {
                let label = Label::new(RuleId::CONFLICT, Why::Conflict(service));
                c.occupied.push((label, busy.clip(range)));
            }
        }
    }
    if let Some(rule) = rules.concurrency.as_ref().filter(|r| r.applies_to(ty)) {
        // A sweep over starts (+1) and ends (-1), on plain integer keys: ends before starts at
        // the same instant (half-open intervals).
        let key = |t: DateTime<Utc>| (t.timestamp(), t.timestamp_subsec_nanos());
        let mut events: Vec<((i64, u32), i8)> = Vec::new();
        for d in calendar
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
                Label::new(RuleId::CONCURRENCY, Why::Concurrency(env, rule.value)),
                full.clip(range),
            ));
        }
    }
    if rules
        .dependencies
        .as_ref()
        .is_some_and(|r| r.applies_to(ty))
    {
        for dep in &request.depends_on {
            match calendar.get(dep.as_str()) {
                None => c.never.push(Label::text(
                    RuleId::DEPENDENCY,
                    format!("depends on `{dep}`, which is not in the calendar"),
                )),
                Some(d) => c.not_before.push((
                    Label::text(
                        RuleId::DEPENDENCY,
                        format!("depends on `{dep}`, which ends at {}", d.end().to_rfc3339()),
                    ),
                    d.interval().end(),
                )),
            }
        }
    }
    c
}

impl PolicySet {
    /// The earliest `count` start times at which all of `request` (its full duration) would be
    /// allowed by every rule, built-in and scripted, searching from `now` for `horizon`; and
    /// for the start times in between, which rules block them and until when.
    ///
    /// A start is allowed when [`PolicySet::check_schedule`] on the request moved to that start
    /// says `allowed`; advance notice counts from the request's `requested_at`, or `now`. The
    /// search starts at `now` rounded up to the whole minute, and a deployment must end before
    /// the horizon does. A request that can never be allowed in the horizon gets no windows, the
    /// reasons in `blocked`, and a `note`.
    ///
    /// # Example
    /// ```
    /// use changegate::{Calendar, ChangeRequest, PolicySet};
    /// let policy = PolicySet::builtin().unwrap();
    /// let request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
    ///      start: 2026-12-04T17:00:00+01:00\nduration: 2h\n", "request.yaml").unwrap();
    /// // Thursday 3 December, 10:00 in Berlin: 24h notice, then the weekend freeze from Friday 16:00.
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T10:00:00+01:00").unwrap();
    /// let answer = policy.next_windows(&request, &Calendar::default(), now, 2, chrono::TimeDelta::days(14));
    /// assert_eq!(answer.windows[0].start.to_rfc3339(), "2026-12-04T10:00:00+01:00");
    /// assert_eq!(answer.windows[0].end.to_rfc3339(), "2026-12-04T16:00:00+01:00");
    /// assert_eq!(answer.windows[1].start.to_rfc3339(), "2026-12-07T06:00:00+01:00");
    /// assert_eq!(answer.blocked[0].rules[0].as_str(), "advance_notice");
    /// ```
    pub fn next_windows(
        &self,
        request: &ChangeRequest,
        calendar: &Calendar,
        now: impl Into<DateTime<Utc>>,
        count: usize,
        horizon: TimeDelta,
    ) -> NextWindows {
        let now = now.into();
        let tz = self.timezone();
        let t0 = ceil_minute(now);
        let h = t0 + horizon.max(TimeDelta::zero());
        let d = request.interval().length();
        let searched = Searched {
            from: local(t0, tz),
            until: local(h, tz),
        };
        let mut answer = NextWindows {
            windows: Vec::new(),
            blocked: Vec::new(),
            searched,
            confirmations: 0,
            confirmation_limit_reached: false,
            note: None,
        };
        if Interval::new(t0, h).is_none() {
            answer.note = Some("the horizon is empty".into());
            return answer;
        }
        // Searched in growing stretches (a week, then four times longer each round), so that
        // a question answered in the first days never builds sets for the whole horizon. Checks
        // already run are remembered across rounds.
        let mut checked: HashMap<DateTime<Utc>, Decision> = HashMap::new();
        let mut span = TimeDelta::days(FIRST_STRETCH_DAYS).max(d * 4);
        let (c, range, denied, report_end) = loop {
            let end = (t0 + span).min(h);
            let Some(range) = Interval::new(t0, end) else {
                answer.note = Some("the horizon is empty".into());
                return answer;
            };
            let c = self.constraints_for(request, calendar, now, range);
            if !c.never.is_empty() && end < h {
                span = h - t0;
                continue;
            }
            answer.windows.clear();
            answer.confirmation_limit_reached = false;
            let (denied, report_end) = self.search(
                &c,
                request,
                calendar,
                now,
                range,
                count,
                &mut checked,
                &mut answer,
            );
            let last_gap_open = answer
                .windows
                .last()
                .is_some_and(|w| w.end.with_timezone(&Utc) >= end);
            let done = end >= h
                || answer.confirmation_limit_reached
                || !c.never.is_empty()
                || (answer.windows.len() >= count && !last_gap_open);
            if done {
                break (c, range, denied, report_end);
            }
            span = span * 4;
        };
        answer.confirmations = checked.len();
        answer.blocked = blocked_stretches(
            &c,
            denied,
            &answer.windows,
            request,
            calendar,
            range,
            report_end,
            d,
            tz,
        );
        let needed = format_duration(d);
        answer.note = if !c.never.is_empty() {
            let why: Vec<String> = c
                .never
                .iter()
                .map(|l| format!("{}: {}", l.rule, l.describe(request, calendar, None)))
                .collect();
            Some(format!("never allowed: {}", why.join("; ")))
        } else if answer.confirmation_limit_reached {
            Some(format!(
                "stopped after {MAX_CONFIRMATIONS} checks of candidate starts (scripts denied the others); found {} of {count}",
                answer.windows.len()
            ))
        } else if answer.windows.is_empty() {
            let mut rules: Vec<&str> = answer
                .blocked
                .iter()
                .flat_map(|b| b.rules.iter().map(RuleId::as_str))
                .filter(|r| *r != "horizon")
                .collect();
            rules.sort_unstable();
            rules.dedup();
            Some(format!(
                "no start within {} of {} allows the whole {needed} deployment; blocked by {}",
                format_duration(h - t0),
                searched.from.to_rfc3339(),
                rules.join(", ")
            ))
        } else if answer.windows.len() < count {
            Some(format!(
                "only {} of {count} windows within {}",
                answer.windows.len(),
                format_duration(h - t0)
            ))
        } else {
            None
        };
        answer
    }
}

/// How many days the first round of [`PolicySet::next_windows`] looks at.
const FIRST_STRETCH_DAYS: i64 = 7;

impl PolicySet {
    fn constraints_for<'a>(
        &'a self,
        request: &'a ChangeRequest,
        calendar: &'a Calendar,
        now: DateTime<Utc>,
        range: Interval,
    ) -> Constraints<'a> {
        match self.schedule_rules(&request.environment) {
            Some(rules) => constraints(rules, request, calendar, now, range),
            None => {
                let known: Vec<String> = self.environments().map(|e| format!("`{e}`")).collect();
                Constraints {
                    never: vec![Label::text(
                        RuleId::UNKNOWN_ENVIRONMENT,
                        format!(
                            "environment `{}` is not in the policy, which knows {}",
                            request.environment,
                            known.join(", ")
                        ),
                    )],
                    ..Constraints::default()
                }
            }
        }
    }

    /// Walks the free gaps of `range` in order, confirming candidates with full checks (reused
    /// from `checked`), until `count` windows are found. Returns the script denials met and
    /// where the report of blocked stretches ends.
    #[allow(clippy::too_many_arguments)]
    fn search<'a>(
        &self,
        c: &Constraints<'a>,
        request: &ChangeRequest,
        calendar: &Calendar,
        now: DateTime<Utc>,
        range: Interval,
        count: usize,
        checked: &mut HashMap<DateTime<Utc>, Decision>,
        answer: &mut NextWindows,
    ) -> (Vec<(Label<'a>, IntervalSet)>, DateTime<Utc>) {
        let tz = self.timezone();
        let d = request.interval().length();
        let (t0, h) = (range.start(), range.end());
        let mut denied: Vec<(Label, IntervalSet)> = Vec::new();
        if !c.never.is_empty() || count == 0 {
            return (denied, h);
        }
        let lower = c.not_before.iter().map(|(_, t)| *t).fold(t0, DateTime::max);
        let occupied: IntervalSet = c
            .occupied
            .iter()
            .flat_map(|(_, s)| s.intervals().iter().copied())
            .collect();
        let free = occupied.complement_within(range);
        for gap in free.intervals() {
            let mut s = gap.start().max(lower);
            while s + d <= gap.end() && s < h {
                if !checked.contains_key(&s) && checked.len() >= MAX_CONFIRMATIONS {
                    answer.confirmation_limit_reached = true;
                    return (denied, s);
                }
                let decision = checked.entry(s).or_insert_with(|| {
                    let mut moved = request.clone();
                    moved.start = s.with_timezone(&request.start.offset().fix());
                    self.check_schedule(&moved, calendar, now)
                });
                if decision.allowed {
                    answer.windows.push(AllowedWindow {
                        start: local(s, tz),
                        end: local(gap.end(), tz),
                        latest_start: local(gap.end() - d, tz),
                        warnings: decision
                            .findings
                            .iter()
                            .filter(|f| f.severity == Severity::Warn)
                            .cloned()
                            .collect(),
                    });
                    if answer.windows.len() >= count {
                        return (denied, s);
                    }
                    break;
                }
                let next = next_midnight(s, tz).min(gap.end());
                if let Some(iv) = Interval::new(s, next) {
                    for f in decision
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Deny)
                    {
                        let same = |l: &Label| {
                            l.rule == f.rule.as_str()
                                && matches!(&l.why, Why::Text(t) if *t == f.message)
                        };
                        match denied.iter_mut().find(|(l, _)| same(l)) {
                            Some((_, set)) => set.insert(iv),
                            None => denied.push((
                                Label::text(f.rule.as_str(), f.message.clone()),
                                IntervalSet::from(iv),
                            )),
                        }
                    }
                }
                s = next;
            }
        }
        (denied, h)
    }
}

/// Cuts the start times in `[range.start, report_end)` outside every window into stretches
/// blocked by the same rules.
#[allow(clippy::too_many_arguments)]
fn blocked_stretches(
    c: &Constraints,
    denied: Vec<(Label, IntervalSet)>,
    windows: &[AllowedWindow],
    request: &ChangeRequest,
    calendar: &Calendar,
    range: Interval,
    report_end: DateTime<Utc>,
    d: TimeDelta,
    tz: Tz,
) -> Vec<BlockedStretch> {
    let Some(report) = Interval::new(range.start(), report_end) else {
        return Vec::new();
    };
    let tz_of = |t: DateTime<FixedOffset>| t.with_timezone(&Utc);
    // Start-time sets: an occupied [s, e) blocks the starts (s - d, e). Reported as [s - d, e)
    // so that times stay whole: the one start `s - d` itself is allowed, and when a window
    // precedes the stretch it is that window's `latest_start`.
    let widen_by = d;
    if !c.never.is_empty() {
        // Never allowed: those reasons alone, over the whole horizon.
        return vec![BlockedStretch {
            from: local(report.start(), tz),
            until: local(report.end(), tz),
            rules: c
                .never
                .iter()
                .map(|l| RuleId::from(l.rule.as_str()))
                .collect(),
            reasons: c
                .never
                .iter()
                .map(|l| l.describe(request, calendar, None))
                .collect(),
        }];
    }
    let mut sets: Vec<(Label, IntervalSet)> = Vec::new();
    for (l, t) in &c.not_before {
        if let Some(iv) = Interval::new(report.start(), *t) {
            sets.push((l.clone(), IntervalSet::from(iv).clip(report)));
        }
    }
    for (l, occ) in &c.occupied {
        sets.push((
            l.clone(),
            occ.widen(widen_by, TimeDelta::zero()).clip(report),
        ));
    }
    if let Some(iv) = Interval::new(range.end() - widen_by, range.end()) {
        sets.push((
            Label::text(
                "horizon",
                "the deployment would end after the searched horizon".into(),
            ),
            IntervalSet::from(iv).clip(report),
        ));
    }
    sets.extend(denied);
    let allowed: IntervalSet = windows
        .iter()
        .filter_map(|w| Interval::new(tz_of(w.start), tz_of(w.latest_start)))
        .collect();
    let mut cuts: BTreeSet<DateTime<Utc>> = BTreeSet::new();
    cuts.insert(report.start());
    cuts.insert(report.end());
    for iv in sets
        .iter()
        .flat_map(|(_, s)| s.intervals())
        .chain(allowed.intervals())
    {
        for t in [iv.start(), iv.end()] {
            if report.contains(t) {
                cuts.insert(t);
            }
        }
    }
    let cuts: Vec<DateTime<Utc>> = cuts.into_iter().collect();
    // Label indices in the order reasons are listed: by rule id, then as collected.
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by(|x, y| sets[*x].0.rule.cmp(&sets[*y].0.rule).then(x.cmp(y)));
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>, Vec<usize>)> = Vec::new();
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if allowed.contains(a) {
            continue;
        }
        let labels: Vec<usize> = order
            .iter()
            .copied()
            .filter(|i| sets[*i].1.contains(a))
            .collect();
        match out.last_mut() {
            Some(last) if last.1 == a && last.2 == labels => last.1 = b,
            _ => out.push((a, b, labels)),
        }
    }
    out.into_iter()
        .map(|(a, b, labels)| {
            let mut rules: Vec<RuleId> = labels
                .iter()
                .map(|i| RuleId::from(sets[*i].0.rule.as_str()))
                .collect();
            rules.dedup();
            // The deployments a start in [a, b) would overlap end by b + d.
            let occupied = Interval::new(a, b + d);
            let mut reasons: Vec<String> = labels
                .iter()
                .map(|i| sets[*i].0.describe(request, calendar, occupied))
                .collect();
            if labels.is_empty() {
                rules.push(RuleId::from("unchecked"));
                reasons.push("not checked: the search stopped before these start times".to_owned());
            }
            BlockedStretch {
                from: local(a, tz),
                until: local(b, tz),
                rules,
                reasons,
            }
        })
        .collect()
}

/// How a DST change touched one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DstMark {
    /// The UTC offset at the start differs from the offset at the end: a DST change falls
    /// inside the occurrence.
    Split,
    /// The UTC offset at the start differs from the previous occurrence's: the same local
    /// time is another UTC time.
    Moved,
}

/// One occurrence of a window, in local time and UTC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccurrencePreview {
    /// Start, in the window's zone.
    pub start: DateTime<FixedOffset>,
    /// End (exclusive), in the window's zone.
    pub end: DateTime<FixedOffset>,
    /// Start in UTC.
    pub start_utc: DateTime<Utc>,
    /// End in UTC.
    pub end_utc: DateTime<Utc>,
    /// Where a DST change split or moved it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dst: Vec<DstMark>,
}

/// The next occurrences of one blackout or preferred window of the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowPreview {
    /// The environment it belongs to.
    pub environment: String,
    /// `blackout` or `preferred_window`.
    pub kind: RuleId,
    /// Its name in policy.yaml.
    pub name: String,
    /// A short description, e.g. `Fri 16:00 - Mon 06:00 Europe/Berlin`.
    pub description: String,
    /// The zone its local times are in.
    pub timezone: String,
    /// The next occurrences, in order of start (one in progress at `from` first).
    pub occurrences: Vec<OccurrencePreview>,
}

/// How far ahead [`PolicySet::preview`] looks for occurrences.
const PREVIEW_REACH_YEARS: i64 = 10;

impl PolicySet {
    /// The next `count` occurrences of every blackout and preferred window, per environment,
    /// from `from`, marked where a DST change moved or split one.
    ///
    /// # Example
    /// ```
    /// use changegate::PolicySet;
    /// let policy = PolicySet::builtin().unwrap();
    /// let from = chrono::DateTime::parse_from_rfc3339("2026-03-20T00:00:00Z").unwrap();
    /// let preview = policy.preview(from, 2);
    /// let weekend = preview.iter().find(|w| w.name == "weekend-freeze").unwrap();
    /// // The freeze of 27-30 March spans the switch to summer time.
    /// assert_eq!(weekend.occurrences[1].start.to_rfc3339(), "2026-03-27T16:00:00+01:00");
    /// assert_eq!(weekend.occurrences[1].end.to_rfc3339(), "2026-03-30T06:00:00+02:00");
    /// ```
    pub fn preview(&self, from: impl Into<DateTime<Utc>>, count: usize) -> Vec<WindowPreview> {
        let from = from.into();
        let reach = Interval::new(from, from + TimeDelta::days(366 * PREVIEW_REACH_YEARS));
        let mut out = Vec::new();
        for env in self.environments() {
            let Some(rules) = self.schedule_rules(env) else {
                continue;
            };
            let blackouts = rules.blackouts.iter().map(|r| (RuleId::BLACKOUT, &r.value));
            let preferred = rules
                .preferred_window
                .iter()
                .flat_map(|r| r.value.iter())
                .map(|w| (RuleId::PREFERRED_WINDOW, w));
            for (kind, w) in blackouts.chain(preferred) {
                let tz = w.window.tz();
                let mut occurrences = Vec::new();
                let mut previous: Option<FixedOffset> = None;
                for occ in reach
                    .iter()
                    .flat_map(|q| w.window.occurrences(*q))
                    .take(count)
                {
                    let offset =
                        |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
                    let (at_start, at_end) = (offset(occ.start()), offset(occ.end()));
                    let mut dst = Vec::new();
                    if at_start != at_end {
                        dst.push(DstMark::Split);
                    }
                    if previous.is_some_and(|p| p != at_start) {
                        dst.push(DstMark::Moved);
                    }
                    previous = Some(at_start);
                    occurrences.push(OccurrencePreview {
                        start: local(occ.start(), tz),
                        end: local(occ.end(), tz),
                        start_utc: occ.start(),
                        end_utc: occ.end(),
                        dst,
                    });
                }
                out.push(WindowPreview {
                    environment: env.to_owned(),
                    kind: RuleId::from(kind),
                    name: w.name.clone(),
                    description: w.window.to_string(),
                    timezone: tz.to_string(),
                    occurrences,
                });
            }
        }
        out
    }
}
