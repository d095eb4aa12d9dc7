//! The calendar: deployments already scheduled and one-off blackouts, indexed once so that a
//! check costs `O(log n + k)` and never scans or copies the whole calendar.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::{Blackout, ChangeRequest, DeploymentId};
use crate::time::Interval;

/// Scheduled deployments and one-off blackouts, indexed per environment and per service.
///
/// Build it once with [`Calendar::new`] (or parse one with [`Calendar::from_yaml`]) and share
/// it: cloning is cheap (the data sits behind an `Arc`), and it is `Send + Sync`.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    inner: Arc<CalendarData>,
}

#[derive(Debug, Default)]
struct CalendarData {
    deployments: Vec<ChangeRequest>,
    /// `deployments[i].interval()`, computed once: rules read it many times per check.
    intervals: Vec<Interval>,
    by_id: HashMap<DeploymentId, usize>,
    /// environment -> index of every deployment in it
    by_environment: HashMap<String, IntervalIndex>,
    /// environment -> service -> index of that service's deployments
    by_service: HashMap<String, HashMap<String, IntervalIndex>>,
    blackouts: Vec<Blackout>,
}

/// Intervals sorted by start, with the longest length, so that "which overlap `[s, e)`" is a
/// binary search for `start < e` followed by a walk back while `start > s - longest`.
#[derive(Debug, Default)]
struct IntervalIndex {
    /// (start, end, index into the deployments), sorted.
    entries: Vec<(DateTime<Utc>, DateTime<Utc>, usize)>,
    longest: TimeDelta,
}

impl IntervalIndex {
    fn push(&mut self, iv: Interval, idx: usize) {
        self.longest = self.longest.max(iv.end() - iv.start());
        self.entries.push((iv.start(), iv.end(), idx));
    }

    fn finish(&mut self) {
        self.entries.sort_unstable();
    }

    /// The entries that overlap `query`, in order of start, as (index, interval).
    fn overlapping(&self, query: Interval) -> impl Iterator<Item = (usize, Interval)> + '_ {
        let hi = self.entries.partition_point(|e| e.0 < query.end());
        let earliest = query
            .start()
            .checked_sub_signed(self.longest)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let lo = self.entries[..hi].partition_point(|e| e.0 <= earliest);
        self.entries[lo..hi]
            .iter()
            .filter(move |e| e.1 > query.start())
            .filter_map(|e| Interval::new(e.0, e.1).map(|iv| (e.2, iv)))
    }

    /// The first start time after `query.start()` at which a query of the same length would
    /// see another set of the intervals whose index `matches`: when one it overlaps ends, or
    /// when the next one starts before the moved query ends. `None`: the set never changes.
    /// At most [`NEXT_CHANGE_SCAN`] later intervals are looked at; past them the answer is the
    /// first start at which an unlooked-at one could enter (earlier than needed, never later).
    fn next_change(
        &self,
        query: Interval,
        matches: impl Fn(usize) -> bool,
    ) -> Option<DateTime<Utc>> {
        let hi = self.entries.partition_point(|e| e.0 < query.end());
        // An interval that starts at or after the query's end enters once the query's start is
        // past `its start - length`.
        let enters = |start: DateTime<Utc>| {
            start
                .checked_sub_signed(query.length())
                .and_then(|t| t.checked_add_signed(TimeDelta::nanoseconds(1)))
        };
        let later = self.entries.get(hi..).unwrap_or_default();
        let entering = match later.iter().take(NEXT_CHANGE_SCAN).find(|e| matches(e.2)) {
            Some(e) => enters(e.0),
            None => later.get(NEXT_CHANGE_SCAN).and_then(|e| enters(e.0)),
        };
        let earliest = query
            .start()
            .checked_sub_signed(self.longest)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let lo = self.entries[..hi].partition_point(|e| e.0 <= earliest);
        let leaving = self.entries[lo..hi]
            .iter()
            .filter(|e| e.1 > query.start() && matches(e.2))
            .map(|e| e.1)
            .min();
        match (entering, leaving) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How many intervals after a query [`IntervalIndex::next_change`] looks at for one that
/// matches.
const NEXT_CHANGE_SCAN: usize = 64;

/// Why a calendar could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateId {
    /// The identifier that appears twice.
    pub id: DeploymentId,
    /// Position (0-based) of the second occurrence in the deployments list.
    pub index: usize,
}

impl Calendar {
    /// Indexes `deployments` and `blackouts`.
    ///
    /// # Errors
    /// When two deployments share an id.
    ///
    /// # Example
    /// ```
    /// use changegate::Calendar;
    /// let calendar = Calendar::new(Vec::new(), Vec::new()).unwrap();
    /// assert!(calendar.is_empty());
    /// ```
    pub fn new(
        deployments: Vec<ChangeRequest>,
        blackouts: Vec<Blackout>,
    ) -> Result<Self, DuplicateId> {
        let mut data = CalendarData {
            blackouts,
            ..CalendarData::default()
        };
        for (idx, dep) in deployments.iter().enumerate() {
            if data.by_id.insert(dep.id.clone(), idx).is_some() {
                return Err(DuplicateId {
                    id: dep.id.clone(),
                    index: idx,
                });
            }
            let iv = dep.interval();
            data.by_environment
                .entry(dep.environment.clone())
                .or_default()
                .push(iv, idx);
            let services = data.by_service.entry(dep.environment.clone()).or_default();
            for service in &dep.services {
                services.entry(service.clone()).or_default().push(iv, idx);
            }
        }
        data.by_environment
            .values_mut()
            .for_each(IntervalIndex::finish);
        data.by_service
            .values_mut()
            .flat_map(HashMap::values_mut)
            .for_each(IntervalIndex::finish);
        data.intervals = deployments.iter().map(ChangeRequest::interval).collect();
        data.deployments = deployments;
        Ok(Self {
            inner: Arc::new(data),
        })
    }

    /// Whether the calendar has no deployment and no blackout.
    pub fn is_empty(&self) -> bool {
        self.inner.deployments.is_empty() && self.inner.blackouts.is_empty()
    }

    /// Every scheduled deployment, in the order given.
    pub fn deployments(&self) -> &[ChangeRequest] {
        &self.inner.deployments
    }

    /// Every one-off blackout, in the order given.
    pub fn blackouts(&self) -> &[Blackout] {
        &self.inner.blackouts
    }

    /// The deployment with this id.
    pub fn get(&self, id: &str) -> Option<&ChangeRequest> {
        self.inner
            .by_id
            .get(id)
            .and_then(|&i| self.inner.deployments.get(i))
    }

    /// The deployment with this id and the interval it occupies (`interval()`, computed when
    /// the calendar was built).
    pub(crate) fn get_with_interval(&self, id: &str) -> Option<(&ChangeRequest, Interval)> {
        let i = *self.inner.by_id.get(id)?;
        self.inner
            .deployments
            .get(i)
            .zip(self.inner.intervals.get(i).copied())
    }

    /// Deployments in `environment` touching `service` that overlap `interval`, in order of start.
    pub(crate) fn overlapping_service<'a>(
        &'a self,
        environment: &str,
        service: &str,
        interval: Interval,
    ) -> impl Iterator<Item = &'a ChangeRequest> + 'a {
        self.inner
            .by_service
            .get(environment)
            .and_then(|m| m.get(service))
            .into_iter()
            .flat_map(move |idx| idx.overlapping(interval))
            .filter_map(|(i, _)| self.inner.deployments.get(i))
    }

    /// The first start time after `interval.start()` at which the deployments that overlap an
    /// interval of the same length (in `environment`, or of `service` there) and satisfy
    /// `matches` would differ from those overlapping `interval`; `None` when they never do.
    /// Scripts' calendar queries tell the window search how long their answer holds with this.
    pub(crate) fn next_change(
        &self,
        environment: &str,
        service: Option<&str>,
        interval: Interval,
        matches: impl Fn(&ChangeRequest) -> bool,
    ) -> Option<DateTime<Utc>> {
        let deployments = &self.inner.deployments;
        match service {
            None => self.inner.by_environment.get(environment)?,
            Some(service) => self.inner.by_service.get(environment)?.get(service)?,
        }
        .next_change(interval, |i| deployments.get(i).is_some_and(&matches))
    }

    /// Deployments in `environment` that overlap `interval`, in order of start.
    pub(crate) fn overlapping_environment<'a>(
        &'a self,
        environment: &str,
        interval: Interval,
    ) -> impl Iterator<Item = &'a ChangeRequest> + 'a {
        self.overlapping_environment_spans(environment, interval)
            .map(|(d, _)| d)
    }

    /// Deployments in `environment` that overlap `interval`, in order of start, each with the
    /// interval it occupies (computed when the calendar was built).
    pub(crate) fn overlapping_environment_spans<'a>(
        &'a self,
        environment: &str,
        interval: Interval,
    ) -> impl Iterator<Item = (&'a ChangeRequest, Interval)> + 'a {
        self.inner
            .by_environment
            .get(environment)
            .into_iter()
            .flat_map(move |idx| idx.overlapping(interval))
            .filter_map(|(i, iv)| self.inner.deployments.get(i).map(|d| (d, iv)))
    }
}
