//! Past changes with their outcome, indexed once per environment and service by start, so
//! that "the changes of these services in this window" costs `O(log n + k)` and never scans.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{ChangeOutcome, HistoryEntry, IncidentSeverity};

/// Past changes and how they went, indexed per environment and service.
///
/// Build it once with [`History::new`] (or parse one with [`History::from_yaml`]) and share
/// it: cloning is cheap (the data sits behind an `Arc`), and it is `Send + Sync`.
///
/// # Example
/// ```
/// use changegate::{ChangeOutcome, ChangeRequest, History, HistoryEntry};
/// let start = chrono::DateTime::parse_from_rfc3339("2026-11-01T22:00:00Z").unwrap();
/// let change = ChangeRequest::new("dep-1", ["checkout"], "production", "feature", start, chrono::TimeDelta::hours(1));
/// let history = History::new(vec![HistoryEntry::new(change, ChangeOutcome::Failed)]);
/// assert_eq!(history.len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct History {
    inner: Arc<HistoryData>,
}

/// service -> its changes, sorted by start
type ServiceIndex = HashMap<String, Vec<Indexed>>;

/// What the risk factors read of a past change, kept in the index itself so that a walk
/// touches no entry (an entry is read only to avoid counting a change of several of the
/// request's services twice).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Indexed {
    pub start: DateTime<Utc>,
    pub outcome: ChangeOutcome,
    /// Incidents by severity, `p1` first.
    pub incidents: [u16; 4],
    /// The entry's position.
    index: usize,
    /// Whether the change touches more than one service.
    shared: bool,
}

#[derive(Debug, Default)]
struct HistoryData {
    entries: Vec<HistoryEntry>,
    /// environment -> service -> (start, index of the entry), sorted by start
    by_service: HashMap<String, ServiceIndex>,
}

impl History {
    /// Indexes `entries` (any order).
    pub fn new(entries: Vec<HistoryEntry>) -> Self {
        let mut by_service: HashMap<String, ServiceIndex> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let services = by_service.entry(e.change.environment.clone()).or_default();
            let mut incidents = [0u16; 4];
            for inc in &e.incidents {
                let k = IncidentSeverity::ALL
                    .iter()
                    .position(|s| *s == inc.severity)
                    .unwrap_or(0);
                if let Some(c) = incidents.get_mut(k) {
                    *c = c.saturating_add(1);
                }
            }
            let indexed = Indexed {
                start: e.change.start.with_timezone(&Utc),
                outcome: e.outcome,
                incidents,
                index: i,
                shared: e.change.services.len() > 1,
            };
            for s in &e.change.services {
                services.entry(s.clone()).or_default().push(indexed);
            }
        }
        by_service
            .values_mut()
            .flat_map(HashMap::values_mut)
            .for_each(|v| v.sort_unstable_by_key(|e| (e.start, e.index)));
        Self {
            inner: Arc::new(HistoryData {
                entries,
                by_service,
            }),
        }
    }

    /// How many past changes it holds.
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    /// Whether it holds no past change.
    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }

    /// Every past change, in the order given.
    pub fn entries(&self) -> &[HistoryEntry] {
        &self.inner.entries
    }

    /// Calls `f` once with every past change in `environment` touching any of `services`
    /// that started in `[from, to)`; a change touching several of them is passed once.
    /// Costs `O(s * (log n + k))` for `s` services, allocates nothing.
    pub(crate) fn for_each_change<'a>(
        &'a self,
        environment: &str,
        services: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        mut f: impl FnMut(&'a Indexed),
    ) {
        let Some(by_service) = self.inner.by_service.get(environment) else {
            return;
        };
        for (i, service) in services.iter().enumerate() {
            let Some(list) = by_service.get(service) else {
                continue;
            };
            let lo = list.partition_point(|e| e.start < from);
            let hi = list.partition_point(|e| e.start < to);
            let earlier = services.get(..i).unwrap_or_default();
            for e in list.get(lo..hi).unwrap_or_default() {
                // Passed already, under an earlier service of the request.
                if e.shared
                    && !earlier.is_empty()
                    && self.inner.entries.get(e.index).is_some_and(|entry| {
                        entry.change.services.iter().any(|s| earlier.contains(s))
                    })
                {
                    continue;
                }
                f(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeOutcome, ChangeRequest};

    fn entry(id: &str, services: &[&str], day: u32) -> HistoryEntry {
        let start =
            chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T10:00:00Z")).unwrap();
        HistoryEntry::new(
            ChangeRequest::new(
                id,
                services.iter().copied(),
                "production",
                "feature",
                start,
                chrono::TimeDelta::hours(1),
            ),
            ChangeOutcome::Succeeded,
        )
    }

    #[test]
    fn a_change_of_two_services_is_counted_once_and_the_window_is_half_open() {
        let h = History::new(vec![
            entry("a", &["x", "y"], 3),
            entry("b", &["y"], 2),
            entry("c", &["x"], 5),
            entry("d", &["z"], 3),
        ]);
        let t = |d: u32| {
            chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{d:02}T10:00:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let mut seen = Vec::new();
        h.for_each_change("production", &["x".into(), "y".into()], t(2), t(5), |e| {
            seen.push(h.entries()[e.index].change.id.as_str().to_owned())
        });
        seen.sort();
        assert_eq!(seen, ["a", "b"]);
        let mut none = 0;
        h.for_each_change("staging", &["x".into()], t(1), t(9), |_| none += 1);
        assert_eq!(none, 0);
    }
}
