//! "When can I deploy?": the next start times a whole deployment would be allowed
//! ([`PolicySet::next_windows`]). Only the search and its report live here; what each rule
//! blocks comes from the rule itself (its set form in [`crate::rules::schedule`]).
//!
//! Candidates come from interval algebra, not from trying every minute: the built-in rules give
//! the start times they block as sets, and the free gaps at least as long as the deployment are
//! the candidates. Each candidate is confirmed with the full pipeline (built-in rules and
//! scripts). Scripts are opaque, but every script function whose answer depends on the start
//! time reports how long that answer holds (`request.start.hour` until the next local hour, a
//! calendar query until the next deployment enters or leaves it, ...), and a denial may name
//! `retry_at`. So after a script denial the search jumps to the first start at which a denying
//! script could change its mind, and after an allowed start it confirms the window up to the
//! first start at which any script could: every start it reports allowed is allowed, every start
//! it reports blocked is denied, at minute resolution. At most [`MAX_CONFIRMATIONS`] checks run
//! per question.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, Offset, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::local;
use crate::calendar::Calendar;
use crate::decision::{Decision, Finding, RuleId, Severity};
use crate::model::ChangeRequest;
use crate::policy::{PolicySet, Schedule, Trail};
use crate::rules::environment;
use crate::rules::schedule::{Constraints, Label, ScheduleCtx, text};
use crate::script::{POLICY_ERROR, ScriptRun};
use crate::time::{Interval, IntervalSet, add_saturating, format_duration};

/// Most full checks (built-in rules and scripts) one [`PolicySet::next_windows`] question runs.
/// When it is reached the answer says so (`confirmation_limit_reached`) and holds the windows
/// found until then.
pub const MAX_CONFIRMATIONS: usize = 200;

/// The answer to "when can this deployment run?".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct Searched {
    /// First start time considered.
    pub from: DateTime<FixedOffset>,
    /// End of the horizon (exclusive).
    pub until: DateTime<FixedOffset>,
}

/// A stretch in which the deployment may run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AllowedWindow {
    /// The earliest allowed start, confirmed by a full check (built-in rules and scripts).
    pub start: DateTime<FixedOffset>,
    /// `latest_start` plus the deployment's duration: a deployment started in the window is
    /// over by then.
    pub end: DateTime<FixedOffset>,
    /// The last start confirmed allowed by every rule, built-in and scripted: every start in
    /// `[start, latest_start]` is allowed.
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
#[non_exhaustive]
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

/// The longest horizon [`PolicySet::next_windows`] searches; a longer one is cut to it (and
/// `searched.until` says so).
pub const MAX_HORIZON_DAYS: i64 = 36_600;

/// How many checks one window's confirmation may take beyond its first start; past it the
/// window ends at the last start confirmed (`latest_start`), so a script whose answer changes
/// every few minutes cannot spend the whole question on one window.
const WINDOW_CHECKS: usize = 24;

/// The resolution of the search: candidate starts are whole minutes.
const STEP: TimeDelta = TimeDelta::minutes(1);

fn ceil_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let whole = secs - secs.rem_euclid(60);
    let floor = DateTime::<Utc>::from_timestamp(whole, 0).unwrap_or(t);
    if floor == t {
        t
    } else {
        floor
            .checked_add_signed(STEP)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// `t + d`, saturating at the ends of the instants changegate works with.
fn add(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    add_saturating(t, d)
}

/// `t - d`, likewise.
fn sub(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    add_saturating(
        t,
        TimeDelta::zero().checked_sub(&d).unwrap_or(TimeDelta::MIN),
    )
}

/// One full check of a candidate start, and what it tells about the starts after it.
struct Checked {
    decision: Decision,
    trail: Trail,
}

impl Checked {
    /// The first start after `at` that could be allowed, given who denied `at` (`None`: no
    /// later start ever is). A start before it is denied by the same rule or script.
    fn denied_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.trail.builtin_denied {
            // The built-in rules' sets already excluded every start they block; a denial here
            // is confirmed minute by minute.
            return Some(add(at, STEP));
        }
        let mut until = Some(add(at, STEP));
        for run in self.trail.scripts.iter().filter(|r| r.denied) {
            let holds = match (run.stability.until, run.stability.retry_at) {
                (None, _) => None,
                (Some(u), retry) => Some(retry.map_or(u, |r| r.max(u))),
            };
            until = until.zip(holds).map(|(a, b)| a.max(b));
        }
        until
    }
}

/// A search in progress over one round's range.
struct Search<'p, 'a> {
    policy: &'p PolicySet,
    request: &'a ChangeRequest,
    calendar: &'a Calendar,
    now: DateTime<Utc>,
    tz: Tz,
    /// The deployment's length.
    d: TimeDelta,
    count: usize,
    /// Checks already run, kept across rounds.
    checked: &'p mut HashMap<DateTime<Utc>, Checked>,
    /// Partial checks inside windows (only the scripts whose answer may have changed), kept
    /// across rounds; a denied one stands for the full check at its start.
    probes: &'p mut HashMap<DateTime<Utc>, Checked>,
    /// Start times scripts denied, per finding.
    denied: Vec<(Label<'a>, IntervalSet)>,
    /// Where a policy script failed, and its finding's message: the search stops there (a
    /// broken policy is reported, not searched around).
    failed: Option<(DateTime<Utc>, String)>,
}

impl<'a> Search<'_, 'a> {
    /// The full check of the request moved to `s`, run once.
    fn check(&mut self, s: DateTime<Utc>) -> Option<&Checked> {
        if self.probes.get(&s).is_some_and(|p| !p.decision.allowed) {
            return self.probes.get(&s);
        }
        if !self.checked.contains_key(&s) {
            if self.checks() >= MAX_CONFIRMATIONS {
                return None;
            }
            let mut moved = self.request.clone();
            moved.start = s.with_timezone(&self.request.start.offset().fix());
            let mut trail = Trail::default();
            let decision = self.policy.run_question(
                &Schedule(ScheduleCtx::new(&moved, self.calendar, self.now)),
                Some(&mut trail),
            );
            self.checked.insert(s, Checked { decision, trail });
        }
        self.checked.get(&s)
    }

    /// How many checks ran, full and partial.
    fn checks(&self) -> usize {
        self.checked.len() + self.probes.len()
    }

    /// Runs only the scripts `only` with the request moved to `s`, where the built-in rules and
    /// every other script are known to allow it.
    fn probe(&mut self, s: DateTime<Utc>, only: &[usize]) -> Option<&Checked> {
        if !self.probes.contains_key(&s) {
            if self.checks() >= MAX_CONFIRMATIONS {
                return None;
            }
            let mut moved = self.request.clone();
            moved.start = s.with_timezone(&self.request.start.offset().fix());
            let mut trail = Trail::default();
            let decision = self.policy.evaluate_scripts(
                &Schedule(ScheduleCtx::new(&moved, self.calendar, self.now)),
                only,
                &mut trail,
            );
            self.probes.insert(s, Checked { decision, trail });
        }
        self.probes.get(&s)
    }

    /// Records that every start in `[from, until)` is denied by the findings of the check at
    /// `at`.
    fn deny(&mut self, at: DateTime<Utc>, from: DateTime<Utc>, until: DateTime<Utc>) {
        let Some(iv) = Interval::new(from, until) else {
            return;
        };
        let Some(checked) = self
            .probes
            .get(&at)
            .filter(|p| !p.decision.allowed)
            .or_else(|| self.checked.get(&at))
        else {
            return;
        };
        for f in checked
            .decision
            .findings
            .iter()
            .filter(|f| matches!(f.severity, Severity::Deny | Severity::Pending))
        {
            let same = |l: &Label| l.rule() == f.rule.as_str() && l.describe(None) == f.message;
            match self.denied.iter_mut().find(|(l, _)| same(l)) {
                Some((_, set)) => set.insert(iv),
                None => self.denied.push((
                    text(f.rule.as_str(), f.message.clone()),
                    IntervalSet::from(iv),
                )),
            }
        }
    }

    /// Walks the free gaps of `range` in order until `count` windows are found. Returns where
    /// the report of blocked stretches ends (where the search stopped).
    fn run(
        &mut self,
        c: &Constraints<'a>,
        range: Interval,
        answer: &mut NextWindows,
    ) -> DateTime<Utc> {
        let h = range.end();
        if !c.never.is_empty() || self.count == 0 {
            return h;
        }
        let lower = c
            .not_before
            .iter()
            .map(|(_, t)| *t)
            .fold(range.start(), DateTime::max);
        let occupied: IntervalSet = c
            .occupied
            .iter()
            .flat_map(|(_, s)| s.intervals().iter().copied())
            .collect();
        let free = occupied.complement_within(range);
        // The first start not yet known denied: a script's denial may hold past the end of the
        // gap it was met in (a `retry_at` next morning), and then the next gaps start there.
        let mut carry = lower;
        for gap in free.intervals() {
            // The last start whose deployment ends inside the gap.
            let last = sub(gap.end(), self.d);
            let mut s = gap.start().max(carry);
            // Where a denial that follows a window is reported from: the window's last start.
            let mut after_window: Option<DateTime<Utc>> = None;
            while s <= last && s < h {
                let Some(checked) = self.check(s) else {
                    answer.confirmation_limit_reached = true;
                    return s;
                };
                let failure = checked
                    .decision
                    .findings_for(POLICY_ERROR)
                    .next()
                    .map(|f| f.message.clone());
                if let Some(message) = failure {
                    self.deny(s, after_window.take().unwrap_or(s), add(s, STEP).min(h));
                    self.failed = Some((s, message));
                    return add(s, STEP).min(h);
                }
                if !checked.decision.allowed {
                    let next = checked
                        .denied_until(s)
                        .map_or(h, ceil_minute)
                        .max(add(s, STEP));
                    self.deny(s, after_window.take().unwrap_or(s), next.min(h));
                    s = next;
                    carry = next;
                    continue;
                }
                match self.confirm(s, last, answer) {
                    Confirmed::Limit(at) => return at,
                    Confirmed::Enough(at) => return at,
                    Confirmed::To(latest, next) => {
                        after_window = Some(latest);
                        s = next;
                        carry = next;
                    }
                }
            }
        }
        h
    }

    /// Confirms the window that opens at the allowed start `s`: walks the starts at which a
    /// script's answer may change, up to `last`, and records the window.
    fn confirm(
        &mut self,
        s: DateTime<Utc>,
        last: DateTime<Utc>,
        answer: &mut NextWindows,
    ) -> Confirmed {
        let warnings: Vec<Finding> = self
            .checked
            .get(&s)
            .map(|c| {
                c.decision
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Warn)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        // What each script's answer is known to hold for, updated as the walk re-runs the
        // scripts whose answer may have changed (the built-in rules allow the whole gap).
        let mut runs: Vec<ScriptRun> = self
            .checked
            .get(&s)
            .map(|c| c.trail.scripts.clone())
            .unwrap_or_default();
        let mut at = s;
        let mut walked = 0;
        // The latest start known allowed, and the next start to look at after the window.
        let (latest, next, limit) = loop {
            let holds = runs.iter().filter_map(|r| r.stability.until).min();
            let Some(change) = holds.map(ceil_minute).filter(|t| *t <= last) else {
                // Every start up to `last` answers as `at` does.
                break (last, Some(add(last, STEP)), false);
            };
            let before = sub(change, STEP).max(at);
            if walked >= WINDOW_CHECKS {
                break (before, Some(change), false);
            }
            walked += 1;
            let expired: Vec<usize> = runs
                .iter()
                .filter(|r| r.stability.until.is_some_and(|u| ceil_minute(u) <= change))
                .map(|r| r.index)
                .collect();
            let Some(probe) = self.probe(change, &expired) else {
                break (before, Some(change), true);
            };
            if !probe.decision.allowed {
                break (before, Some(change), false);
            }
            for fresh in &probe.trail.scripts {
                if let Some(r) = runs.iter_mut().find(|r| r.index == fresh.index) {
                    *r = *fresh;
                }
            }
            at = change;
        };
        answer.windows.push(AllowedWindow {
            start: local(s, self.tz),
            end: local(add(latest, self.d), self.tz),
            latest_start: local(latest, self.tz),
            warnings,
        });
        if limit {
            answer.confirmation_limit_reached = true;
            return Confirmed::Limit(next.unwrap_or(latest));
        }
        if answer.windows.len() >= self.count {
            return Confirmed::Enough(s);
        }
        Confirmed::To(latest, next.unwrap_or(add(latest, STEP)))
    }
}

/// How the confirmation of a window ended.
enum Confirmed {
    /// The confirmation limit was reached; the report ends here.
    Limit(DateTime<Utc>),
    /// All the windows asked for are found; the report ends at this window's start.
    Enough(DateTime<Utc>),
    /// The window's latest start, and the start to continue the search from.
    To(DateTime<Utc>, DateTime<Utc>),
}

/// How many days the first round of [`PolicySet::next_windows`] looks at.
const FIRST_STRETCH_DAYS: i64 = 7;

impl PolicySet {
    /// The earliest `count` start times at which all of `request` (its full duration) would be
    /// allowed by every rule, built-in and scripted, searching from `now` for `horizon`; and
    /// for the start times in between, which rules block them and until when.
    ///
    /// A start is allowed when [`PolicySet::check_schedule`] on the request moved to that start
    /// says `allowed`; advance notice counts from the request's `requested_at`, or `now`. The
    /// search starts at `now` rounded up to the whole minute, and a deployment must end before
    /// the horizon does. A horizon longer than [`MAX_HORIZON_DAYS`] is cut to it. A request that
    /// can never be allowed in the horizon gets no windows, the reasons in `blocked`, and a
    /// `note`.
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
        let horizon = horizon.clamp(TimeDelta::zero(), TimeDelta::days(MAX_HORIZON_DAYS));
        let h = add(t0, horizon);
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
        let mut checked: HashMap<DateTime<Utc>, Checked> = HashMap::new();
        let mut probes: HashMap<DateTime<Utc>, Checked> = HashMap::new();
        let mut failed: Option<(DateTime<Utc>, String)>;
        let ctx = ScheduleCtx::new(request, calendar, now);
        let mut span = TimeDelta::days(FIRST_STRETCH_DAYS).max(d.checked_mul(4).unwrap_or(horizon));
        let (c, range, denied, report_end) = loop {
            let end = add(t0, span).min(h);
            let Some(range) = Interval::new(t0, end) else {
                answer.note = Some("the horizon is empty".into());
                return answer;
            };
            let c = self.constraints(&ctx, range);
            if !c.never.is_empty() && end < h {
                span = h - t0;
                continue;
            }
            answer.windows.clear();
            answer.confirmation_limit_reached = false;
            let mut search = Search {
                policy: self,
                request,
                calendar,
                now,
                tz,
                d,
                count,
                checked: &mut checked,
                probes: &mut probes,
                denied: Vec::new(),
                failed: None,
            };
            let report_end = search.run(&c, range, &mut answer);
            let denied = search.denied;
            failed = search.failed;
            let last_gap_open = answer
                .windows
                .last()
                .is_some_and(|w| w.end.with_timezone(&Utc) >= end);
            let done = end >= h
                || failed.is_some()
                || answer.confirmation_limit_reached
                || !c.never.is_empty()
                || (answer.windows.len() >= count && !last_gap_open);
            if done {
                break (c, range, denied, report_end);
            }
            span = span.checked_mul(4).unwrap_or(horizon);
        };
        answer.confirmations = checked.len() + probes.len();
        answer.blocked = blocked_stretches(&c, denied, &answer.windows, range, report_end, d, tz);
        let needed = format_duration(d);
        answer.note = if !c.never.is_empty() {
            let why: Vec<String> = c
                .never
                .iter()
                .map(|l| format!("{}: {}", l.rule(), l.describe(None)))
                .collect();
            Some(format!("never allowed: {}", why.join("; ")))
        } else if let Some((at, message)) = &failed {
            Some(format!(
                "stopped at {}: a policy script failed there, so no later start was checked ({message})",
                local(*at, tz).to_rfc3339()
            ))
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
                .filter(|r| *r != HORIZON)
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

    /// The set form of the request's environment over `range`: its rules' constraints, or
    /// "never" for an environment the policy does not know.
    fn constraints<'a>(&'a self, ctx: &ScheduleCtx<'a>, range: Interval) -> Constraints<'a> {
        let env = ctx.request.environment.as_str();
        match self.schedule_rules(env) {
            Some(rules) => rules.constraints(ctx, range),
            None => Constraints {
                never: vec![text(
                    environment::ID,
                    environment::message(env, self.environments()),
                )],
                ..Constraints::default()
            },
        }
    }
}

/// The pseudo-rule of start times whose deployment would end after the horizon.
const HORIZON: &str = "horizon";

/// The pseudo-rule of start times the search did not reach.
const UNCHECKED: &str = "unchecked";

/// Cuts the start times in `[range.start, report_end)` outside every window into stretches
/// blocked by the same rules.
#[allow(clippy::too_many_arguments)]
fn blocked_stretches(
    c: &Constraints,
    denied: Vec<(Label, IntervalSet)>,
    windows: &[AllowedWindow],
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
            rules: c.never.iter().map(|l| RuleId::from(l.rule())).collect(),
            reasons: c.never.iter().map(|l| l.describe(None)).collect(),
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
    if let Some(iv) = Interval::new(sub(range.end(), widen_by), range.end()) {
        sets.push((
            text(
                HORIZON,
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
    // A window's latest start begins the stretch after it, even where that stretch has the same
    // rules as the one before (a window of a single start between two stretches).
    let latest: BTreeSet<DateTime<Utc>> = windows.iter().map(|w| tz_of(w.latest_start)).collect();
    cuts.extend(latest.iter().copied().filter(|t| report.contains(*t)));
    let cuts: Vec<DateTime<Utc>> = cuts.into_iter().collect();
    // Label indices in the order reasons are listed: by rule id, then as collected.
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by(|x, y| sets[*x].0.rule().cmp(sets[*y].0.rule()).then(x.cmp(y)));
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
            Some(last) if last.1 == a && last.2 == labels && !latest.contains(&a) => last.1 = b,
            _ => out.push((a, b, labels)),
        }
    }
    out.into_iter()
        .map(|(a, b, labels)| {
            let mut rules: Vec<RuleId> = labels
                .iter()
                .map(|i| RuleId::from(sets[*i].0.rule()))
                .collect();
            rules.dedup();
            // The deployments a start in [a, b) would overlap end by b + d.
            let occupied = Interval::new(a, add(b, d));
            let mut reasons: Vec<String> = labels
                .iter()
                .map(|i| sets[*i].0.describe(occupied))
                .collect();
            if labels.is_empty() {
                rules.push(RuleId::from(UNCHECKED));
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
