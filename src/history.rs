//! Past changes with their outcome, indexed once per environment and service by start, so
//! that "the changes of these services in this window" costs `O(log n + k)` and never scans.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::HistoryEntry;

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

/// service -> (start, index of the entry), sorted by start
type ServiceIndex = HashMap<String, Vec<(DateTime<Utc>, usize)>>;

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
            let start = e.change.start.with_timezone(&Utc);
            for s in &e.change.services {
                services.entry(s.clone()).or_default().push((start, i));
            }
        }
        by_service
            .values_mut()
            .flat_map(HashMap::values_mut)
            .for_each(|v| v.sort_unstable());
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
        mut f: impl FnMut(&'a HistoryEntry),
    ) {
        let Some(by_service) = self.inner.by_service.get(environment) else {
            return;
        };
        for (i, service) in services.iter().enumerate() {
            let Some(list) = by_service.get(service) else {
                continue;
            };
            let lo = list.partition_point(|e| e.0 < from);
            let hi = list.partition_point(|e| e.0 < to);
            let earlier = services.get(..i).unwrap_or_default();
            for &(_, idx) in list.get(lo..hi).unwrap_or_default() {
                let Some(entry) = self.inner.entries.get(idx) else {
                    continue;
                };
                // Passed already, under an earlier service of the request.
                if entry.change.services.iter().any(|s| earlier.contains(s)) {
                    continue;
                }
                f(entry);
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
            seen.push(e.change.id.as_str().to_owned())
        });
        seen.sort();
        assert_eq!(seen, ["a", "b"]);
        let mut none = 0;
        h.for_each_change("staging", &["x".into()], t(1), t(9), |_| none += 1);
        assert_eq!(none, 0);
    }
}
