//! Rollback triggers and levels: should the change roll back, how far, by when? A trigger is a
//! condition on a metric aggregate, an event kind or a burn rate, sustained for a duration
//! before it fires; the decision names the level the firing triggers demand (escalating past
//! rollbacks already performed whose budget ran out) and its deadline.
//!
//! - the sweep ([`TriggerSweep`]): each trigger's condition over time, kept incrementally
//!   on the windows of [`super::window`]; the batch check runs it once over the evidence, the
//!   monitor feeds it sample by sample, and both take the same steps;
//! - the decision ([`decide`]): which level, by when, escalation past rollbacks performed,
//!   the findings and `details.rollback` (docs/decision-contract.md).

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use super::aggregate::{Aggregate, Aggregation};
use super::window::WindowAgg;
use crate::decision::{Details, Finding, Severity};
use crate::model::RollbackDone;
use crate::telemetry::{Sample, Selector, Telemetry};
use crate::time::format_duration;

/// A rollback level, in escalation order (the first is the lightest).
#[derive(Debug, Clone)]
pub(crate) struct Level {
    pub name: String,
    /// How long the rollback may take, from when it is demanded.
    pub budget: TimeDelta,
    pub source: String,
}

/// Strict comparison of a trigger's value with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `value > threshold`
    Above,
    /// `value < threshold`
    Below,
}

/// What a trigger watches.
#[derive(Debug, Clone)]
pub(crate) enum Condition {
    /// An aggregate of a metric over a window ending at each instant, above or below a
    /// threshold.
    Metric {
        selector: Selector,
        aggregation: Aggregation,
        window: TimeDelta,
        op: Op,
        threshold: f64,
    },
    /// At least `min_count` events of `kind` within the window.
    Event {
        kind: String,
        window: TimeDelta,
        min_count: usize,
    },
    /// Multi-window burn rate (SRE workbook): the metric is an error ratio; the burn rate over
    /// a window is its average divided by the error budget `1 - objective`; the condition holds
    /// when both the long and the short window burn faster than `factor`.
    BurnRate {
        selector: Selector,
        objective: f64,
        long: TimeDelta,
        short: TimeDelta,
        factor: f64,
    },
}

/// What a trigger does when its window holds no data (or a NaN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnMissing {
    /// The condition counts as holding.
    Fire,
    /// The condition counts as not holding.
    Ignore,
    /// Neither: the decision is `pending` ("keep watching") while the trigger has no data
    /// (the default).
    Inconclusive,
}

/// One trigger.
#[derive(Debug, Clone)]
pub(crate) struct Trigger {
    pub name: String,
    pub condition: Condition,
    /// How long the condition must hold without a break before the trigger fires (`for:`).
    pub sustain: TimeDelta,
    pub on_missing: OnMissing,
    /// The level it demands: an index into [`RollbackRules::levels`].
    pub level: usize,
    pub source: String,
}

/// An environment's `rollback:` section.
#[derive(Debug, Clone, Default)]
pub(crate) struct RollbackRules {
    pub levels: Vec<Level>,
    pub triggers: Vec<Trigger>,
    pub source: String,
}

impl RollbackRules {
    /// The index of the level named `name`.
    pub fn level(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// The sweep: each trigger's condition over time.

/// A condition's value at an instant: holds, does not hold, or unknown (no data, NaN, and the
/// trigger's `on_missing` is `inconclusive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Truth {
    True,
    False,
    Unknown,
}

/// The condition's value after an instant, and since when it has been true without a break
/// (`i64::MIN`: since before anything was seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    truth: Truth,
    since: Option<i64>,
}

/// Milliseconds of a duration, saturating.
pub(crate) fn ms(d: TimeDelta) -> i64 {
    d.num_milliseconds()
}

/// One trigger's condition, kept over time as its samples (or events) arrive and leave its
/// window(s). The condition is piecewise constant: it changes only when a sample enters a
/// window (at `at`) or leaves it (at `at + window`). [`TriggerSweep::advance`] visits those
/// instants in order; at each it first expires, then adds the samples of that instant, then
/// evaluates.
///
/// The last instant visited stays "open": samples of that very instant may still be added
/// (the monitor commits an instant's samples only once its watermark passed it), and the
/// evaluation of the open instant is then redone from the state before it. So feeding the
/// same samples in one call (batch) or in several (streaming) performs the same operations on
/// the windows in the same order, and gives the same states.
#[derive(Debug, Clone)]
pub(crate) struct TriggerSweep {
    /// Metric and event: one window; burn rate: the long one, then the short one.
    windows: Vec<WindowAgg>,
    /// The last instant visited (`i64::MIN` before any).
    open: i64,
    /// The state before the open instant, and at it.
    prev: Mark,
    cur: Mark,
}

impl TriggerSweep {
    /// The sweep of `trigger` before anything was seen.
    pub fn new(trigger: &Trigger) -> Self {
        let windows = match &trigger.condition {
            Condition::Metric {
                aggregation,
                window,
                ..
            } => vec![WindowAgg::new(*aggregation, ms(*window))],
            Condition::Event { window, .. } => {
                vec![WindowAgg::new(Aggregation::Count, ms(*window))]
            }
            Condition::BurnRate { long, short, .. } => vec![
                WindowAgg::new(Aggregation::Avg, ms(*long)),
                WindowAgg::new(Aggregation::Avg, ms(*short)),
            ],
        };
        let mut sweep = Self {
            windows,
            open: i64::MIN,
            prev: Mark {
                truth: Truth::False,
                since: None,
            },
            cur: Mark {
                truth: Truth::False,
                since: None,
            },
        };
        let truth = sweep.truth(trigger);
        let mark = Mark {
            truth,
            since: (truth == Truth::True).then_some(i64::MIN),
        };
        sweep.prev = mark;
        sweep.cur = mark;
        sweep
    }

    /// Visits every instant up to `until` at which the condition may change, adding
    /// `arrivals` (sorted by time, none before the open instant, none after `until`) at their
    /// instants.
    pub fn advance(&mut self, trigger: &Trigger, until: i64, arrivals: &[Sample]) {
        let mut i = 0;
        // Samples of the open instant: added to it, and it is evaluated again.
        let mut late = false;
        while let Some(s) = arrivals.get(i).filter(|s| s.at <= self.open) {
            for w in &mut self.windows {
                w.push(*s);
            }
            i += 1;
            late = true;
        }
        if late {
            self.cur = self.step(trigger, self.open);
        }
        loop {
            let arrival = arrivals.get(i).map(|s| s.at);
            let expiry = self.windows.iter().filter_map(WindowAgg::next_expiry).min();
            let t = match (arrival, expiry) {
                (Some(a), Some(e)) => a.min(e),
                (Some(t), None) | (None, Some(t)) => t,
                (None, None) => break,
            };
            if t > until {
                break;
            }
            self.prev = self.cur;
            self.open = t;
            for w in &mut self.windows {
                w.expire(t);
            }
            while let Some(s) = arrivals.get(i).filter(|s| s.at <= t) {
                for w in &mut self.windows {
                    w.push(*s);
                }
                i += 1;
            }
            self.cur = self.step(trigger, t);
        }
    }

    /// The state at instant `t`, from the state before it.
    fn step(&self, trigger: &Trigger, t: i64) -> Mark {
        let truth = self.truth(trigger);
        let since = match (truth, self.prev.truth) {
            (Truth::True, Truth::True) => self.prev.since,
            (Truth::True, _) => Some(t),
            _ => None,
        };
        Mark { truth, since }
    }

    /// The condition's value over the windows as they stand.
    fn truth(&self, trigger: &Trigger) -> Truth {
        let missing = match trigger.on_missing {
            OnMissing::Fire => Truth::True,
            OnMissing::Ignore => Truth::False,
            OnMissing::Inconclusive => Truth::Unknown,
        };
        let known = |a: Option<f64>| a.filter(|v| !v.is_nan());
        let holds = |b: bool| if b { Truth::True } else { Truth::False };
        match &trigger.condition {
            Condition::Metric { op, threshold, .. } => {
                match known(self.windows.first().and_then(|w| w.get().value)) {
                    None => missing,
                    Some(v) => holds(match op {
                        Op::Above => v > *threshold,
                        Op::Below => v < *threshold,
                    }),
                }
            }
            Condition::Event { min_count, .. } => holds(
                self.windows
                    .first()
                    .is_some_and(|w| w.get().samples >= *min_count),
            ),
            Condition::BurnRate {
                objective, factor, ..
            } => {
                let budget = 1.0 - objective;
                let burn = |i: usize| {
                    known(self.windows.get(i).and_then(|w| w.get().value)).map(|v| v / budget)
                };
                // Both windows must burn faster than the factor: one that does not decides,
                // whatever the other; otherwise an unknown one is missing data.
                match (burn(0).map(|b| b > *factor), burn(1).map(|b| b > *factor)) {
                    (Some(false), _) | (_, Some(false)) => Truth::False,
                    (Some(true), Some(true)) => Truth::True,
                    _ => missing,
                }
            }
        }
    }

    /// Where the trigger stands at `now` (not before the open instant): `origin` (the
    /// deployment's start) bounds `since`, so that a condition true from the start (no data
    /// with `on_missing: fire`) is sustained from the start.
    pub fn status(&self, trigger: &Trigger, origin: i64, now: i64) -> TriggerStatus {
        let since = self.cur.since.map(|s| s.max(origin));
        let sustain = ms(trigger.sustain);
        let (state, fired_at) = match (self.cur.truth, since) {
            (Truth::True, Some(s)) if s <= now.saturating_sub(sustain) => {
                (State::Firing, Some(s.saturating_add(sustain)))
            }
            (Truth::True, _) => (State::Holding, None),
            (Truth::False, _) => (State::Clear, None),
            (Truth::Unknown, _) => (State::Inconclusive, None),
        };
        let main = self.windows.first().map(WindowAgg::get).unwrap_or_default();
        let short = self.windows.get(1).map(WindowAgg::get);
        let observed = match &trigger.condition {
            Condition::Event { .. } => Some(main.samples as f64),
            Condition::BurnRate { objective, .. } => main.value.map(|v| v / (1.0 - objective)),
            Condition::Metric { .. } => main.value,
        };
        let observed_short = match (&trigger.condition, short) {
            (Condition::BurnRate { objective, .. }, Some(s)) => {
                s.value.map(|v| v / (1.0 - objective))
            }
            _ => None,
        };
        TriggerStatus {
            state,
            since: (state != State::Clear && state != State::Inconclusive)
                .then_some(since)
                .flatten(),
            fired_at,
            observed,
            observed_short,
            window: main,
            short,
        }
    }
}

/// Where a trigger stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// The condition held for `for`: the trigger demands its level.
    Firing,
    /// The condition holds, not yet for `for`.
    Holding,
    /// The condition does not hold.
    Clear,
    /// No data (or NaN) and `on_missing: inconclusive`.
    Inconclusive,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Firing => "firing",
            State::Holding => "holding",
            State::Clear => "clear",
            State::Inconclusive => "inconclusive",
        }
    }
}

/// A trigger's state at `now` and what it observed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TriggerStatus {
    pub state: State,
    /// Start of the current stretch during which the condition held (firing or holding).
    pub since: Option<i64>,
    /// `since + for`, when firing.
    pub fired_at: Option<i64>,
    /// The aggregate (metric), the count of events (event) or the long window's burn rate.
    pub observed: Option<f64>,
    /// The short window's burn rate (burn rate only).
    pub observed_short: Option<f64>,
    /// The (long) window's aggregate.
    pub window: Aggregate,
    /// The short window's aggregate (burn rate only).
    pub short: Option<Aggregate>,
}

/// The arrivals of `trigger` in `telemetry` up to `now`, in the order the sweep takes them
/// (the selected series merged in time order, ties in series order; events as samples).
pub(crate) fn arrivals<'a>(
    trigger: &Trigger,
    telemetry: &'a Telemetry,
    now: i64,
) -> std::borrow::Cow<'a, [Sample]> {
    use std::borrow::Cow;
    let selected = match &trigger.condition {
        Condition::Metric { selector, .. } | Condition::BurnRate { selector, .. } => {
            telemetry.measurements().select(selector)
        }
        Condition::Event { kind, .. } => {
            let times = telemetry.events(kind);
            let upto = times.partition_point(|&t| t <= now);
            return Cow::Owned(
                times
                    .iter()
                    .take(upto)
                    .map(|&at| Sample {
                        at,
                        value: Some(1.0),
                    })
                    .collect(),
            );
        }
    };
    let upto = selected.partition_point(|s| s.at <= now);
    match selected {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(..upto).unwrap_or(s)),
        Cow::Owned(mut v) => {
            v.truncate(upto);
            Cow::Owned(v)
        }
    }
}

/// The sweep of every trigger of `rules` over `telemetry`, up to `now`, in one pass.
pub(crate) fn sweep(rules: &RollbackRules, telemetry: &Telemetry, now: i64) -> Vec<TriggerSweep> {
    rules
        .triggers
        .iter()
        .map(|t| {
            let mut s = TriggerSweep::new(t);
            s.advance(t, now, &arrivals(t, telemetry, now));
            s
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The decision.

/// The id of the deny finding "roll back to this level by this deadline".
pub(crate) const ROLLBACK_ID: &str = "rollback";
/// The id of each firing trigger's finding.
pub(crate) const TRIGGER_ID: &str = "rollback_trigger";
/// The id of the deny finding "the rollback performed did not help: go one level further".
pub(crate) const ESCALATION_ID: &str = "rollback_escalation";
/// The id of the pending finding "a rollback is in progress, within its budget".
pub(crate) const IN_PROGRESS_ID: &str = "rollback_in_progress";
/// The id of the warning of a trigger whose condition holds, not yet for `for`.
pub(crate) const WATCH_ID: &str = "rollback_watch";
/// The id of the pending finding of a trigger without data (`on_missing: inconclusive`).
pub(crate) const INCONCLUSIVE_ID: &str = "rollback_inconclusive";
/// The id of the warning of a performed rollback whose level the policy does not know.
pub(crate) const UNKNOWN_LEVEL_ID: &str = "rollback_unknown_level";

/// A level a script demanded (`rollback_to(level, reason)`): an index into the levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Demand {
    pub level: usize,
    pub reason: String,
    pub source: String,
}

/// What the decision asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing fires.
    None,
    /// Roll back to `level` (`rollback`).
    Rollback,
    /// A rollback at or above the level demanded is within its budget (`rollback_in_progress`).
    InProgress,
    /// The rollback performed ran out of budget with triggers still firing: the next level
    /// (`rollback_escalation`).
    Escalate,
    /// As `Escalate`, past the last level: people must step in.
    Manual,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::Rollback => "rollback",
            Action::InProgress => "in_progress",
            Action::Escalate => "escalate",
            Action::Manual => "manual",
        }
    }
}

/// The rollback decision, in a plain owned form: `details.rollback` is written from it when
/// read.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    pub action: Action,
    /// The level to be at (an index into the levels).
    pub level: Option<usize>,
    pub deadline: Option<i64>,
    pub statuses: Vec<TriggerStatus>,
    /// The rollbacks performed up to `now`: level name and instant.
    pub performed: Vec<(String, i64)>,
    pub demands: Vec<Demand>,
}

/// `ms` as an instant, clamped to what a date can hold.
pub(crate) fn instant(ms: i64) -> DateTime<Utc> {
    let (lo, hi) = (
        DateTime::<Utc>::MIN_UTC.timestamp_millis(),
        DateTime::<Utc>::MAX_UTC.timestamp_millis(),
    );
    DateTime::from_timestamp_millis(ms.clamp(lo, hi)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn stamp(ms: i64) -> String {
    instant(ms).to_rfc3339()
}

fn number(v: Option<f64>) -> String {
    match v {
        None => "no data".to_owned(),
        Some(v) if v.is_nan() => "NaN".to_owned(),
        Some(v) => format!("{v}"),
    }
}

fn series(selector: &Selector) -> String {
    if selector.labels.is_empty() {
        return selector.metric.clone();
    }
    let labels: Vec<String> = selector
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{}{{{}}}", selector.metric, labels.join(","))
}

/// "p95 of latency_seconds{path=generated} over 5m is 3.2 > 3 (300 samples)" and the like.
fn observation(trigger: &Trigger, s: &TriggerStatus) -> String {
    let counts = |a: &Aggregate| {
        let mut text = format!("{} samples", a.samples);
        if a.missing > 0 {
            text.push_str(&format!(", {} missing", a.missing));
        }
        if a.nan > 0 {
            text.push_str(&format!(", {} NaN", a.nan));
        }
        text
    };
    match &trigger.condition {
        Condition::Metric {
            selector,
            aggregation,
            window,
            op,
            threshold,
        } => {
            let sign = match (s.state, op) {
                (State::Clear, Op::Above) => "<=",
                (State::Clear, Op::Below) => ">=",
                (_, Op::Above) => ">",
                (_, Op::Below) => "<",
            };
            let value = number(s.observed);
            let cmp = if s.observed.is_some_and(|v| !v.is_nan()) {
                format!("is {value} {sign} {threshold}")
            } else {
                format!("has {value} (threshold {} {threshold})", op_name(*op))
            };
            format!(
                "{aggregation} of {} over {} {cmp} ({})",
                series(selector),
                format_duration(*window),
                counts(&s.window)
            )
        }
        Condition::Event {
            kind,
            window,
            min_count,
        } => format!(
            "{} `{kind}` event(s) in the last {} (at least {min_count})",
            s.window.samples,
            format_duration(*window)
        ),
        Condition::BurnRate {
            selector,
            objective,
            long,
            short,
            factor,
        } => format!(
            "the error budget of {} (objective {}) burns at {} over {} and {} over {} \
             (factor {factor}; {} and {})",
            series(selector),
            objective,
            number(s.observed),
            format_duration(*long),
            number(s.observed_short),
            format_duration(*short),
            counts(&s.window),
            s.short.as_ref().map_or_else(String::new, counts),
        ),
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Above => "above",
        Op::Below => "below",
    }
}

fn kind_name(c: &Condition) -> &'static str {
    match c {
        Condition::Metric { .. } => "metric",
        Condition::Event { .. } => "event",
        Condition::BurnRate { .. } => "burn_rate",
    }
}

fn num(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

fn time(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |t| Value::from(stamp(t)))
}

/// The machine-readable facts of a trigger: what it watches, what it observed, its state.
fn trigger_details(rules: &RollbackRules, t: &Trigger, s: &TriggerStatus) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("trigger".into(), t.name.clone().into());
    d.insert("kind".into(), kind_name(&t.condition).into());
    d.insert(
        "level".into(),
        rules.levels.get(t.level).map(|l| l.name.clone()).into(),
    );
    d.insert("state".into(), s.state.name().into());
    d.insert("observed".into(), num(s.observed));
    match &t.condition {
        Condition::Metric {
            selector,
            aggregation,
            window,
            op,
            threshold,
        } => {
            d.insert("metric".into(), selector.metric.clone().into());
            if !selector.labels.is_empty() {
                let labels: Map<String, Value> = selector
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                d.insert("labels".into(), labels.into());
            }
            d.insert("aggregation".into(), aggregation.name().into());
            d.insert("window".into(), format_duration(*window).into());
            d.insert("op".into(), op_name(*op).into());
            d.insert("threshold".into(), (*threshold).into());
        }
        Condition::Event {
            kind,
            window,
            min_count,
        } => {
            d.insert("event".into(), kind.clone().into());
            d.insert("window".into(), format_duration(*window).into());
            d.insert("min_count".into(), (*min_count).into());
        }
        Condition::BurnRate {
            selector,
            objective,
            long,
            short,
            factor,
        } => {
            d.insert("metric".into(), selector.metric.clone().into());
            d.insert("objective".into(), (*objective).into());
            d.insert("long".into(), format_duration(*long).into());
            d.insert("short".into(), format_duration(*short).into());
            d.insert("factor".into(), (*factor).into());
            d.insert("threshold".into(), (*factor).into());
            d.insert("observed_short".into(), num(s.observed_short));
            if let Some(short) = &s.short {
                d.insert("short_samples".into(), short.samples.into());
            }
        }
    }
    d.insert("samples".into(), s.window.samples.into());
    d.insert("missing".into(), s.window.missing.into());
    d.insert("nan".into(), s.window.nan.into());
    d.insert("for".into(), format_duration(t.sustain).into());
    d.insert("since".into(), time(s.since));
    d.insert("fired_at".into(), time(s.fired_at));
    d
}

/// Decides at `now` from the triggers' states (in the order of `rules.triggers`), the levels
/// scripts demanded and the rollbacks performed (sorted by time); pushes the findings: the
/// decision's (`rollback`, `rollback_escalation` or `rollback_in_progress`) first, then one
/// per trigger that is not clear, in policy order.
pub(crate) fn decide(
    rules: &RollbackRules,
    statuses: Vec<TriggerStatus>,
    demands: Vec<Demand>,
    performed: &[RollbackDone],
    now: i64,
    out: &mut Vec<Finding>,
) -> Verdict {
    let firing = || {
        rules
            .triggers
            .iter()
            .zip(&statuses)
            .filter(|(_, s)| s.state == State::Firing)
    };
    let demanded = firing()
        .map(|(t, _)| t.level)
        .chain(demands.iter().map(|d| d.level))
        .max();
    let mut unknown_levels = Vec::new();
    let mut done: Vec<(String, i64)> = Vec::new();
    // The performed rollback with the highest level, the latest if tied.
    let mut highest: Option<(usize, i64)> = None;
    for r in performed {
        let at = crate::telemetry::millis(r.at);
        if at > now {
            continue;
        }
        done.push((r.level.clone(), at));
        match rules.level(&r.level) {
            Some(l) => {
                if highest.is_none_or(|(h, _)| l >= h) {
                    highest = Some((l, at));
                }
            }
            None => unknown_levels.push((r.level.clone(), at)),
        }
    }
    let budget = |l: usize| rules.levels.get(l).map_or(0, |l| ms(l.budget));
    let name = |l: usize| rules.levels.get(l).map_or("?", |l| l.name.as_str());
    let source = |l: usize| rules.levels.get(l).map(|l| l.source.clone());
    let mut action = Action::None;
    let mut level = None;
    let mut deadline = None;
    let mut first = Vec::new();
    if let Some(want) = demanded {
        let why: Vec<String> = firing()
            .map(|(t, s)| {
                format!(
                    "`{}` fired at {}",
                    t.name,
                    time(s.fired_at).as_str().unwrap_or("?")
                )
            })
            .chain(
                demands
                    .iter()
                    .map(|d| format!("a script demanded `{}`: {}", name(d.level), d.reason)),
            )
            .collect();
        let why = why.join("; ");
        match highest {
            Some((r, at)) if r >= want => {
                let end = at.saturating_add(budget(r));
                let last = r.saturating_add(1) >= rules.levels.len();
                if now < end {
                    action = Action::InProgress;
                    level = Some(r);
                    deadline = Some(end);
                    first.push(
                        Finding::new(
                            IN_PROGRESS_ID,
                            Severity::Pending,
                            format!(
                                "rolled back to `{}` at {}; watching until {} ({why})",
                                name(r),
                                stamp(at),
                                stamp(end)
                            ),
                            source(r),
                        )
                        .with_detail("level", name(r))
                        .with_detail("performed_at", stamp(at))
                        .with_detail("watch_until", stamp(end)),
                    );
                } else if last {
                    action = Action::Manual;
                    level = Some(r);
                    deadline = Some(end);
                    first.push(
                        Finding::new(
                            ESCALATION_ID,
                            Severity::Deny,
                            format!(
                                "still firing after the last level: manual intervention \
                                 (rolled back to `{}` at {}, budget over at {}; {why})",
                                name(r),
                                stamp(at),
                                stamp(end)
                            ),
                            source(r),
                        )
                        .with_detail("level", name(r))
                        .with_detail("from", name(r))
                        .with_detail("performed_at", stamp(at))
                        .with_detail("deadline", stamp(end))
                        .with_detail("manual", true),
                    );
                } else {
                    let next = r.saturating_add(1);
                    let due = end.saturating_add(budget(next));
                    action = Action::Escalate;
                    level = Some(next);
                    deadline = Some(due);
                    first.push(
                        Finding::new(
                            ESCALATION_ID,
                            Severity::Deny,
                            format!(
                                "still firing {} after the rollback to `{}` at {}: escalate to \
                                 `{}` by {} ({why})",
                                format_duration(TimeDelta::milliseconds(budget(r))),
                                name(r),
                                stamp(at),
                                name(next),
                                stamp(due)
                            ),
                            source(next),
                        )
                        .with_detail("level", name(next))
                        .with_detail("from", name(r))
                        .with_detail("performed_at", stamp(at))
                        .with_detail("deadline", stamp(due))
                        .with_detail("manual", false),
                    );
                }
            }
            _ => {
                let fired = firing()
                    .filter(|(t, _)| t.level == want)
                    .filter_map(|(_, s)| s.fired_at)
                    .chain(demands.iter().filter(|d| d.level == want).map(|_| now))
                    .min()
                    .unwrap_or(now);
                let due = fired.saturating_add(budget(want));
                action = Action::Rollback;
                level = Some(want);
                deadline = Some(due);
                first.push(
                    Finding::new(
                        ROLLBACK_ID,
                        Severity::Deny,
                        format!("roll back to `{}` by {} ({why})", name(want), stamp(due)),
                        source(want),
                    )
                    .with_detail("level", name(want))
                    .with_detail("deadline", stamp(due))
                    .with_detail("fired_at", stamp(fired)),
                );
            }
        }
    }
    out.extend(first);
    let firing_severity = if action == Action::InProgress {
        Severity::Pending
    } else {
        Severity::Deny
    };
    for (t, s) in rules.triggers.iter().zip(&statuses) {
        if s.state == State::Clear {
            continue;
        }
        let what = observation(t, s);
        let (id, severity, message) = match s.state {
            State::Clear => continue,
            State::Firing => (
                TRIGGER_ID,
                firing_severity,
                format!(
                    "trigger `{}` fired at {}: {what} since {}; demands `{}`",
                    t.name,
                    time(s.fired_at).as_str().unwrap_or("?"),
                    time(s.since).as_str().unwrap_or("?"),
                    name(t.level)
                ),
            ),
            State::Holding => (
                WATCH_ID,
                Severity::Warn,
                format!(
                    "trigger `{}`: {what} since {}; fires at {} if it holds for {}",
                    t.name,
                    time(s.since).as_str().unwrap_or("?"),
                    s.since
                        .map_or_else(String::new, |x| stamp(x.saturating_add(ms(t.sustain)))),
                    format_duration(t.sustain)
                ),
            ),
            State::Inconclusive => (
                INCONCLUSIVE_ID,
                Severity::Pending,
                format!(
                    "trigger `{}`: no usable data: {what}; keep watching (`on_missing: \
                     inconclusive`)",
                    t.name
                ),
            ),
        };
        let mut f = Finding::new(id, severity, message, Some(t.source.clone()));
        f.details = trigger_details(rules, t, s);
        out.push(f);
    }
    for (l, at) in unknown_levels {
        out.push(
            Finding::new(
                UNKNOWN_LEVEL_ID,
                Severity::Warn,
                format!(
                    "a rollback to `{}` at {} was performed, but the policy has no such level: \
                     it does not count for escalation",
                    crate::error::quote(&l),
                    stamp(at)
                ),
                Some(rules.source.clone()),
            )
            .with_detail("level", l)
            .with_detail("at", stamp(at)),
        );
    }
    Verdict {
        action,
        level,
        deadline,
        statuses,
        performed: done,
        demands,
    }
}

impl Verdict {
    /// The verdict [`decide`] reaches when every trigger is clear and no script demands a
    /// level: nothing to do (the rollbacks performed up to `now` are listed all the same).
    /// The monitor keeps its decision while its triggers stay clear and writes only this anew.
    pub fn quiet(statuses: Vec<TriggerStatus>, performed: &[RollbackDone], now: i64) -> Self {
        let performed = performed
            .iter()
            .map(|r| (r.level.clone(), crate::telemetry::millis(r.at)))
            .filter(|&(_, at)| at <= now)
            .collect();
        Self {
            action: Action::None,
            level: None,
            deadline: None,
            statuses,
            performed,
            demands: Vec::new(),
        }
    }

    /// `details.rollback`.
    pub fn to_json(&self, rules: &RollbackRules) -> Value {
        let name = |l: usize| rules.levels.get(l).map(|l| l.name.clone());
        let triggers: Vec<Value> = rules
            .triggers
            .iter()
            .zip(&self.statuses)
            .map(|(t, s)| {
                // What the trigger watches (metric, aggregation, window, threshold, ...) and
                // what it observed, for every trigger, clear ones included.
                let mut m = Map::new();
                m.insert("name".into(), t.name.clone().into());
                let mut d = trigger_details(rules, t, s);
                d.remove("trigger");
                m.extend(d);
                Value::Object(m)
            })
            .collect();
        let performed: Vec<Value> = self
            .performed
            .iter()
            .map(|(l, at)| serde_json::json!({"level": l, "at": stamp(*at)}))
            .collect();
        let demands: Vec<Value> = self
            .demands
            .iter()
            .map(|d| serde_json::json!({"level": name(d.level), "reason": d.reason, "source": d.source}))
            .collect();
        serde_json::json!({
            "action": self.action.name(),
            "level": self.level.and_then(name),
            "deadline": time(self.deadline),
            "triggers": triggers,
            "performed": performed,
            "demands": demands,
        })
    }
}

/// The details of a rollback decision: `details.rollback`, written from `verdict` when read.
pub(crate) fn details(rules: std::sync::Arc<RollbackRules>, verdict: Verdict) -> Details {
    Details::deferred(move || {
        let mut m = Map::new();
        m.insert("rollback".into(), verdict.to_json(&rules));
        m
    })
}

/// `details.rollback` of an environment without a `rollback:` section.
pub(crate) fn no_rules() -> Value {
    serde_json::json!({
        "action": "none",
        "level": null,
        "deadline": null,
        "triggers": [],
        "performed": [],
        "demands": [],
    })
}

// ---------------------------------------------------------------------------------------------
// The oracle of the property tests.

/// Each trigger's `(state, since, fired_at)` at `now`, by brute force: the condition is
/// evaluated from scratch ([`super::aggregate::aggregate`] over each window's slice) at every
/// instant a sample enters or leaves a window, in time order. Slow and obviously right: the
/// property tests compare [`TriggerSweep`] with it.
pub(crate) fn oracle(
    rules: &RollbackRules,
    telemetry: &Telemetry,
    origin: i64,
    now: i64,
) -> Vec<(State, Option<i64>, Option<i64>)> {
    use super::aggregate::{aggregate, window};
    rules
        .triggers
        .iter()
        .map(|t| {
            let samples = arrivals(t, telemetry, now);
            let windows: Vec<(Aggregation, i64)> = match &t.condition {
                Condition::Metric {
                    aggregation,
                    window,
                    ..
                } => vec![(*aggregation, ms(*window))],
                Condition::Event { window, .. } => vec![(Aggregation::Count, ms(*window))],
                Condition::BurnRate { long, short, .. } => {
                    vec![
                        (Aggregation::Avg, ms(*long)),
                        (Aggregation::Avg, ms(*short)),
                    ]
                }
            };
            let missing = match t.on_missing {
                OnMissing::Fire => Truth::True,
                OnMissing::Ignore => Truth::False,
                OnMissing::Inconclusive => Truth::Unknown,
            };
            // `None`: no instant yet (every window empty).
            let truth_at = |at: Option<i64>| -> Truth {
                let agg: Vec<Aggregate> = windows
                    .iter()
                    .map(|&(a, w)| match at {
                        Some(at) => aggregate(window(&samples, at, w), a),
                        None => aggregate(&[], a),
                    })
                    .collect();
                let value = |i: usize| agg.get(i).and_then(|a| a.value).filter(|v| !v.is_nan());
                match &t.condition {
                    Condition::Metric { op, threshold, .. } => match value(0) {
                        None => missing,
                        Some(v)
                            if (*op == Op::Above && v > *threshold)
                                || (*op == Op::Below && v < *threshold) =>
                        {
                            Truth::True
                        }
                        Some(_) => Truth::False,
                    },
                    Condition::Event { min_count, .. } => {
                        if agg.first().is_some_and(|a| a.samples >= *min_count) {
                            Truth::True
                        } else {
                            Truth::False
                        }
                    }
                    Condition::BurnRate {
                        objective, factor, ..
                    } => {
                        let l = value(0).map(|v| v / (1.0 - objective) > *factor);
                        let s = value(1).map(|v| v / (1.0 - objective) > *factor);
                        match (l, s) {
                            (Some(false), _) | (_, Some(false)) => Truth::False,
                            (Some(true), Some(true)) => Truth::True,
                            _ => missing,
                        }
                    }
                }
            };
            let mut instants: Vec<i64> = samples
                .iter()
                .flat_map(|s| {
                    std::iter::once(s.at)
                        .chain(windows.iter().map(|&(_, w)| s.at.saturating_add(w)))
                })
                .filter(|&t| t <= now)
                .collect();
            instants.sort_unstable();
            instants.dedup();
            let mut truth = truth_at(None);
            let mut since = (truth == Truth::True).then_some(i64::MIN);
            for &at in &instants {
                let next = truth_at(Some(at));
                since = match (next, truth) {
                    (Truth::True, Truth::True) => since,
                    (Truth::True, _) => Some(at),
                    _ => None,
                };
                truth = next;
            }
            let since = since.map(|s| s.max(origin));
            let sustain = ms(t.sustain);
            match (truth, since) {
                (Truth::True, Some(s)) if s <= now.saturating_sub(sustain) => {
                    (State::Firing, Some(s), Some(s.saturating_add(sustain)))
                }
                (Truth::True, s) => (State::Holding, s, None),
                (Truth::False, _) => (State::Clear, None, None),
                (Truth::Unknown, _) => (State::Inconclusive, None, None),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RollbackRules {
        let level = |name: &str, minutes| Level {
            name: name.into(),
            budget: TimeDelta::minutes(minutes),
            source: format!("p.yaml:{minutes}"),
        };
        RollbackRules {
            levels: vec![level("flag", 2), level("routing", 5), level("full", 10)],
            triggers: vec![Trigger {
                name: "errors".into(),
                condition: Condition::Metric {
                    selector: Selector {
                        metric: "error_rate".into(),
                        labels: Vec::new(),
                    },
                    aggregation: Aggregation::Avg,
                    window: TimeDelta::minutes(5),
                    op: Op::Above,
                    threshold: 0.05,
                },
                sustain: TimeDelta::minutes(1),
                on_missing: OnMissing::Inconclusive,
                level: 0,
                source: "p.yaml:20".into(),
            }],
            source: "p.yaml:1".into(),
        }
    }

    fn status(state: State, fired_at: Option<i64>) -> TriggerStatus {
        TriggerStatus {
            state,
            since: fired_at.map(|f| f - 60_000),
            fired_at,
            observed: Some(0.125),
            observed_short: None,
            window: Aggregate {
                value: Some(0.125),
                samples: 10,
                missing: 0,
                nan: 0,
            },
            short: None,
        }
    }

    #[test]
    fn a_script_demand_raises_the_level_and_counts_from_now() {
        let r = rules();
        let demand = Demand {
            level: 1,
            reason: "canary failed".into(),
            source: "rollback.rhai:3".into(),
        };
        let mut out = Vec::new();
        let v = decide(
            &r,
            vec![status(State::Firing, Some(60_000))],
            vec![demand],
            &[],
            100_000,
            &mut out,
        );
        assert_eq!(v.action, Action::Rollback);
        assert_eq!(v.level, Some(1));
        // The script demanded `routing` now: its budget (5m) counts from now.
        assert_eq!(v.deadline, Some(100_000 + 300_000));
        let ids: Vec<&str> = out.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(ids, [ROLLBACK_ID, TRIGGER_ID]);
        assert!(
            out[0]
                .message
                .contains("a script demanded `routing`: canary failed")
        );
        let json = v.to_json(&r);
        assert_eq!(json["demands"][0]["source"], "rollback.rhai:3");
        assert_eq!(json["triggers"][0]["state"], "firing");
    }

    #[test]
    fn nothing_demanded_is_no_decision_finding() {
        let r = rules();
        let mut out = Vec::new();
        let v = decide(
            &r,
            vec![status(State::Inconclusive, None)],
            Vec::new(),
            &[RollbackDone::new("flag", instant(0))],
            100_000,
            &mut out,
        );
        assert_eq!(v.action, Action::None);
        assert_eq!(v.level, None);
        let ids: Vec<&str> = out.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(ids, [INCONCLUSIVE_ID]);
        assert_eq!(v.to_json(&r)["performed"][0]["level"], "flag");
    }

    #[test]
    fn far_instants_saturate() {
        let r = rules();
        let mut out = Vec::new();
        let v = decide(
            &r,
            vec![status(State::Firing, Some(i64::MAX))],
            Vec::new(),
            &[],
            i64::MAX,
            &mut out,
        );
        assert_eq!(v.deadline, Some(i64::MAX));
        assert_eq!(
            instant(i64::MAX).timestamp_millis(),
            DateTime::<Utc>::MAX_UTC.timestamp_millis()
        );
        assert_eq!(instant(i64::MIN), DateTime::<Utc>::MIN_UTC);
        let _ = v.to_json(&r);
    }
}
