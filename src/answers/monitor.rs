//! The streaming monitor: a deployment's gates and rollback decisions, kept current as
//! measurements and events arrive one at a time. Its decision after any prefix of a stream
//! equals [`PolicySet::check_rollback`] / [`PolicySet::check_gates`] over the same evidence.
//!
//! How (docs/policy-authoring.md, "The monitor"):
//! - the watermark `now()` is the latest instant seen minus the tolerance; anything older is
//!   rejected, anything else waits in a reorder buffer (sorted by time, ties in arrival
//!   order) until the watermark passes it, and is then committed: fed to the sweeps of the
//!   triggers that read it, and appended to the committed evidence (indexed as a
//!   [`Telemetry`] only when asked for: [`Monitor::committed`], [`Monitor::gates`], or a
//!   `rollback` hook, which reads it);
//! - each trigger keeps its sweep ([`TriggerSweep`]): the windows of [`crate::rules::window`]
//!   and the condition's state, advanced to the watermark. An instant's samples are
//!   committed together (the watermark passed it) and fed in the order the batch check
//!   reads them (series in the order first seen, then arrival), so the sweep takes exactly
//!   the steps of the batch sweep of `check_rollback` over the committed evidence;
//! - the decision is then made through the same pipeline as `check_rollback`, from the
//!   sweeps' states; a push that commits nothing and does not move the watermark keeps it.
//!   Without a `rollback` hook, while every trigger was and stays clear and no rollback was
//!   committed, the findings cannot change: the decision is kept and only its
//!   `details.rollback` is written anew from the triggers' statuses.
//!
//! Per sample, the work is O(1) amortized per trigger that reads it (O(log n) for
//! percentiles) plus the decision.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::decision::Decision;
use crate::error::{InputError, Location};
use crate::model::{ChangeRequest, Event, Measurement, RollbackDone};
use crate::policy::PolicySet;
use crate::rules::rollback::{
    self, Condition, RollbackRules, State, TriggerStatus, TriggerSweep, Verdict, instant,
};
use crate::telemetry::{Sample, Telemetry, millis};

/// Something pushed, waiting for the watermark to pass it.
#[derive(Debug)]
enum Item {
    Measurement(Measurement),
    Event(Event),
    Rollback(RollbackDone),
}

/// The committed evidence: a [`Telemetry`], and what was committed since it was last brought
/// up to date.
///
/// What waits is kept in chunks of [`CHUNK`] items, so that a long stream is never moved as a
/// whole when it grows.
#[derive(Debug, Default)]
struct Committed {
    telemetry: Telemetry,
    pending: Vec<Vec<Item>>,
}

/// Items per chunk of [`Committed::pending`].
const CHUNK: usize = 1024;

impl Committed {
    fn push(&mut self, item: Item) {
        match self.pending.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(item);
                self.pending.push(chunk);
            }
        }
    }

    /// The telemetry with everything committed.
    fn flushed(&mut self) -> &Telemetry {
        for item in self.pending.drain(..).flatten() {
            match item {
                Item::Measurement(m) => self.telemetry.push_measurement(&m),
                Item::Event(e) => self.telemetry.push_event(&e),
                Item::Rollback(r) => self.telemetry.push_rollback(r),
            }
        }
        &self.telemetry
    }
}

/// The series a trigger read, numbered in the order first committed: O(1) to look up
/// however many there are (the last one found is tried first: a stream often repeats it).
#[derive(Debug, Clone, Default)]
struct SeriesOrder {
    /// The label sets, in order.
    list: Vec<BTreeMap<String, String>>,
    by_labels: HashMap<BTreeMap<String, String>, usize>,
    last: usize,
}

impl SeriesOrder {
    fn of(&mut self, labels: &BTreeMap<String, String>) -> usize {
        if self.list.get(self.last).is_some_and(|l| l == labels) {
            return self.last;
        }
        let i = match self.by_labels.get(labels) {
            Some(&i) => i,
            None => {
                let i = self.list.len();
                self.list.push(labels.clone());
                self.by_labels.insert(labels.clone(), i);
                i
            }
        };
        self.last = i;
        i
    }
}

/// A sample fed to a trigger's sweep at the next advance: (at, series order, value).
type Feed = Vec<(i64, usize, Option<f64>)>;

/// A deployment watched as its telemetry arrives.
///
/// # Example
/// ```
/// use changegate::{ChangeRequest, Measurement, Monitor, PolicySet};
/// let policy = PolicySet::builtin()?;
/// let deployment = ChangeRequest::from_yaml(
///     "id: dep-1\nservice: search\nenvironment: development\ntype: feature\n\
///      start: 2026-12-01T08:00:00Z\nduration: 2h\n", "deployment.yaml")?;
/// let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap();
/// let mut monitor = Monitor::new(&policy, deployment, start)
///     .with_tolerance(chrono::TimeDelta::seconds(5));
/// let at = start + chrono::TimeDelta::seconds(10);
/// let decision = monitor.push_measurement(Measurement::new("error_rate", at, Some(0.001)))?;
/// assert_eq!(decision.check.as_str(), "rollback");
/// assert_eq!(monitor.now(), at - chrono::TimeDelta::seconds(5));
/// // Older than the watermark: rejected.
/// assert!(monitor.push_measurement(Measurement::new("error_rate", start, Some(0.0))).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Monitor {
    policy: PolicySet,
    deployment: ChangeRequest,
    /// Milliseconds since the Unix epoch.
    start: i64,
    tolerance: TimeDelta,
    tolerance_ms: i64,
    /// The latest instant seen (the start before anything was).
    latest: i64,
    /// The watermark the sweeps and the decision are at.
    at: i64,
    rules: Option<Arc<RollbackRules>>,
    sweeps: Vec<TriggerSweep>,
    /// Per trigger, what to feed its sweep at the next advance.
    feeds: Vec<Feed>,
    /// Per trigger, the series it read, in the order first committed (the order in which
    /// the batch check merges them).
    series: Vec<SeriesOrder>,
    /// Scratch space for one feed, in the sweep's order.
    scratch: Vec<Sample>,
    /// The committed evidence, indexed when asked for ([`Monitor::committed`], the gates, a
    /// `rollback` hook): committing only appends to it.
    committed: Mutex<Committed>,
    /// The rollbacks performed, committed: all the decision reads of the evidence when no
    /// script defines a `rollback` hook.
    rollbacks: Telemetry,
    /// Whether a script defines `fn rollback(ctx)` (which reads the whole evidence).
    hooked: bool,
    /// Waiting for the watermark, sorted by time (ties in arrival order).
    buffer: VecDeque<(i64, Item)>,
    decision: Decision,
    /// The deployment's start, in milliseconds: where a trigger's `since` is bounded.
    origin: i64,
    /// Whether the decision can be kept while every trigger stays clear, with only its
    /// details (the observed values) written anew: it was made without a `rollback` hook,
    /// with every trigger clear, and no rollback was committed since. Its findings then
    /// depend on nothing that changes (docs/performance.md, "Monitor and check_rollback").
    quiet: bool,
}

impl Monitor {
    /// Watches `deployment` under `policy` from `start` on (earlier measurements are
    /// rejected).
    pub fn new(
        policy: &PolicySet,
        deployment: ChangeRequest,
        start: impl Into<DateTime<Utc>>,
    ) -> Self {
        let start = millis(start.into());
        let deployment_start = deployment.start.with_timezone(&Utc);
        let rules = policy.rollback_rules(&deployment.environment);
        let sweeps: Vec<TriggerSweep> = rules
            .iter()
            .flat_map(|r| r.triggers.iter().map(TriggerSweep::new))
            .collect();
        let feeds = vec![Vec::new(); sweeps.len()];
        let series = vec![SeriesOrder::default(); sweeps.len()];
        let decision = policy.rollback_decision(
            &deployment,
            &Telemetry::default(),
            instant(start),
            rules.as_ref().map(|_| sweeps.as_slice()),
        );
        Self {
            policy: policy.clone(),
            deployment,
            start,
            tolerance: TimeDelta::zero(),
            tolerance_ms: 0,
            latest: start,
            at: start,
            rules,
            sweeps,
            feeds,
            series,
            scratch: Vec::new(),
            committed: Mutex::new(Committed::default()),
            rollbacks: Telemetry::default(),
            hooked: policy.has_rollback_hook(),
            buffer: VecDeque::new(),
            decision,
            origin: millis(deployment_start),
            quiet: false,
        }
    }

    /// Accepts measurements and events up to `tolerance` older than the latest one seen;
    /// decisions then lag the latest by `tolerance`. Default: zero. (Negative: zero.)
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: TimeDelta) -> Self {
        self.tolerance = tolerance.max(TimeDelta::zero());
        self.tolerance_ms = self.tolerance.num_milliseconds();
        // Nothing was committed yet when it is built so; if something was, the watermark
        // never moves back.
        let watermark = self.latest.saturating_sub(self.tolerance_ms);
        if self.committed_nothing() {
            self.at = watermark;
        }
        self.settle(true);
        self
    }

    /// Adds one measurement and returns the current rollback decision.
    ///
    /// # Errors
    /// A measurement older than the latest seen minus the tolerance, or before the start.
    pub fn push_measurement(&mut self, m: Measurement) -> Result<&Decision, InputError> {
        let at = millis(m.at);
        self.admit(at, "measurement", &m.metric)?;
        self.push(at, Item::Measurement(m));
        Ok(&self.decision)
    }

    /// Adds one event and returns the current rollback decision.
    ///
    /// # Errors
    /// As [`Monitor::push_measurement`].
    pub fn push_event(&mut self, e: Event) -> Result<&Decision, InputError> {
        let at = millis(e.at);
        self.admit(at, "event", &e.kind)?;
        self.push(at, Item::Event(e));
        Ok(&self.decision)
    }

    /// Records a rollback performed and returns the current rollback decision.
    ///
    /// # Errors
    /// As [`Monitor::push_measurement`].
    pub fn push_rollback(&mut self, r: RollbackDone) -> Result<&Decision, InputError> {
        let at = millis(r.at);
        self.admit(at, "rollback to", &r.level)?;
        self.push(at, Item::Rollback(r));
        Ok(&self.decision)
    }

    /// Time has passed: nothing older than `to` will arrive any more. Moves the watermark to
    /// `to` (when later than it), commits what waited before it and returns the decision at
    /// `to`, which equals `check_rollback` over the committed evidence at `to`: a trigger may
    /// fire (its `for` ran out) or clear (its window emptied) without a new sample. An item
    /// dated before `to` is rejected afterwards.
    pub fn advance(&mut self, to: impl Into<DateTime<Utc>>) -> &Decision {
        let to = millis(to.into());
        if to <= self.at {
            return &self.decision;
        }
        self.at = to;
        while self.buffer.front().is_some_and(|(t, _)| *t < to) {
            if let Some((at, item)) = self.buffer.pop_front() {
                self.commit(at, item);
            }
        }
        self.settle(true);
        &self.decision
    }

    /// The end of the stream: commits everything that waits by advancing the watermark to one
    /// millisecond after the latest item seen ([`Monitor::advance`]), and returns that
    /// decision. Without it, items at the latest instant (and within the tolerance) wait for
    /// a later one.
    pub fn flush(&mut self) -> &Decision {
        let end = self.latest.saturating_add(1);
        self.advance(instant(end))
    }

    /// The current rollback decision (at [`Monitor::now`]).
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The gates decision at [`Monitor::now`].
    pub fn gates(&self) -> Decision {
        self.policy
            .check_gates(&self.deployment, &self.committed(), self.now())
    }

    /// The instant the decisions are made at: the latest instant seen minus the tolerance.
    pub fn now(&self) -> DateTime<Utc> {
        instant(self.at)
    }

    /// The evidence committed so far (everything older than [`Monitor::now`]): the decision
    /// equals [`PolicySet::check_rollback`] over it at [`Monitor::now`].
    ///
    /// It is indexed when asked for, and shared (a cheap clone): a copy kept while the
    /// monitor commits more makes the monitor copy its evidence once.
    pub fn committed(&self) -> Telemetry {
        let mut c = self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        c.flushed().clone()
    }

    fn committed_nothing(&self) -> bool {
        let c = self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        c.pending.is_empty()
            && c.telemetry.measurement_count() == 0
            && c.telemetry.event_count() == 0
            && c.telemetry.rollbacks().is_empty()
    }

    /// How many pushes wait in the reorder buffer for the watermark to pass them.
    pub fn waiting(&self) -> usize {
        self.buffer.len()
    }

    /// Rejects what is before the start or older than the watermark.
    fn admit(&self, at: i64, what: &str, name: &str) -> Result<(), InputError> {
        let error = |message: String| InputError {
            location: Location::new("<monitor>", None),
            field: Some("at".into()),
            message,
        };
        if at >= self.start && at >= self.at {
            return Ok(());
        }
        let name = crate::error::quote(name);
        if at < self.start {
            return Err(error(format!(
                "{what} `{name}` at {} is before the monitor's start {}",
                instant(at).to_rfc3339(),
                instant(self.start).to_rfc3339()
            )));
        }
        if at < self.at {
            return Err(error(format!(
                "{what} `{name}` at {} is older than the monitor's watermark {} (the latest \
                 instant seen, {}, minus the tolerance {}): decisions up to the watermark are \
                 made; raise the tolerance to accept later arrivals",
                instant(at).to_rfc3339(),
                instant(self.at).to_rfc3339(),
                instant(self.latest).to_rfc3339(),
                crate::time::format_duration(self.tolerance)
            )));
        }
        Ok(())
    }

    fn push(&mut self, at: i64, item: Item) {
        self.latest = self.latest.max(at);
        // Mostly in order: at the back; else in its place (after the ties).
        if self.buffer.back().is_none_or(|(t, _)| *t <= at) {
            self.buffer.push_back((at, item));
        } else {
            let i = self.buffer.partition_point(|(t, _)| *t <= at);
            self.buffer.insert(i, (at, item));
        }
        let watermark = self.latest.saturating_sub(self.tolerance_ms).max(self.at);
        let moved = watermark != self.at;
        self.at = watermark;
        let mut committed = false;
        while self.buffer.front().is_some_and(|(t, _)| *t < watermark) {
            if let Some((at, item)) = self.buffer.pop_front() {
                self.commit(at, item);
                committed = true;
            }
        }
        self.settle(moved || committed);
    }

    /// Adds an item to the committed evidence and to the feeds of the triggers that read it.
    fn commit(&mut self, at: i64, item: Item) {
        if let Some(rules) = &self.rules {
            match &item {
                Item::Measurement(m) => {
                    for ((t, feed), seen) in rules
                        .triggers
                        .iter()
                        .zip(&mut self.feeds)
                        .zip(&mut self.series)
                    {
                        let selector = match &t.condition {
                            Condition::Metric { selector, .. }
                            | Condition::BurnRate { selector, .. } => selector,
                            Condition::Event { .. } => continue,
                        };
                        if selector.metric != m.metric || !selector.matches(&m.labels) {
                            continue;
                        }
                        // The series' place among those the trigger reads, as the batch
                        // check merges them (in the order first seen).
                        let ord = seen.of(&m.labels);
                        feed.push((at, ord, m.value));
                    }
                }
                Item::Event(e) => {
                    for (t, feed) in rules.triggers.iter().zip(&mut self.feeds) {
                        if matches!(&t.condition, Condition::Event { kind, .. } if *kind == e.kind)
                        {
                            feed.push((at, 0, Some(1.0)));
                        }
                    }
                }
                Item::Rollback(_) => {}
            }
        }
        if let Item::Rollback(r) = &item {
            self.rollbacks.push_rollback(r.clone());
            self.quiet = false;
        }
        self.committed
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .push(item);
    }

    /// Advances every sweep to the watermark and decides again, if anything changed.
    fn settle(&mut self, changed: bool) {
        if !changed {
            return;
        }
        if let Some(rules) = &self.rules {
            for ((t, sweep), feed) in rules
                .triggers
                .iter()
                .zip(&mut self.sweeps)
                .zip(&mut self.feeds)
            {
                // Committed in time order, ties in arrival order; the batch check reads ties
                // of several series in the order the series were first seen.
                feed.sort_by_key(|&(at, ord, _)| (at, ord));
                self.scratch.clear();
                self.scratch
                    .extend(feed.drain(..).map(|(at, _, value)| Sample { at, value }));
                sweep.advance(t, self.at, &self.scratch);
            }
        }
        if !self.hooked {
            // Without a hook, the decision depends only on the triggers' states and the
            // rollbacks performed.
            let Some(rules) = &self.rules else {
                // No trigger: the decision does not depend on the evidence.
                return;
            };
            let now = millis(instant(self.at));
            let statuses: Vec<TriggerStatus> = rules
                .triggers
                .iter()
                .zip(&self.sweeps)
                .map(|(t, s)| s.status(t, self.origin, now))
                .collect();
            let clear = statuses.iter().all(|s| s.state == State::Clear);
            if clear && self.quiet {
                // Every trigger was and is clear: the same findings; new observed values.
                self.decision.details = rollback::details(
                    Arc::clone(rules),
                    Verdict::quiet(statuses, self.rollbacks.rollbacks(), now),
                );
                return;
            }
            self.quiet = clear;
        }
        // The decision reads the rollbacks performed; a `rollback` hook reads everything.
        let everything;
        let evidence = if self.hooked {
            everything = self
                .committed
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .flushed()
                .clone();
            &everything
        } else {
            &self.rollbacks
        };
        self.decision = self.policy.rollback_decision(
            &self.deployment,
            evidence,
            instant(self.at),
            self.rules.as_ref().map(|_| self.sweeps.as_slice()),
        );
    }
}
