//! "When can I deploy?": [`PolicySet::next_windows`] and [`PolicySet::preview`] for Python.
//!
//! The answers keep the core's values; attributes hand out aware `datetime`s (with the fixed
//! offset the JSON shows), tuples and strings, and `to_dict()` is the JSON of
//! `changegate windows --format json` and `changegate preview --format json`, serialized by the
//! same serde code as the CLI's.

use std::sync::Arc;

use changegate::{
    AllowedWindow, BlockedStretch, Calendar, ChangeRequest, DstMark, NextWindows,
    OccurrencePreview, PolicySet, WindowPreview,
};
use chrono::{DateTime, TimeZone, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyTuple};
use serde_json::Value;

use crate::OrRaise;
use crate::answer::{Json, answer_class, quoted, tuple};
use crate::args::{Count, Horizon};
use crate::convert::{datetime, fits_python};
use crate::decision::findings;
use crate::errors::{Problem, guard, guard_py};

/// The JSON text of an instant (`serde_json::to_value(t)`), as the CLI prints it, for
/// `__repr__`s.
fn json_text(value: serde_json::Result<Value>) -> String {
    match value {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn strings<'py, T: AsRef<str>>(py: Python<'py>, items: &[T]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, items.iter().map(AsRef::as_ref))
}

/// An instant outside the years a Python `datetime` holds, as the error of argument `field`.
fn out_of_python_range<Tz: TimeZone>(field: &str, t: &DateTime<Tz>) -> Problem
where
    Tz::Offset: std::fmt::Display,
{
    Problem::input(
        field,
        format!(
            "the answer would reach {}, outside the years 1 to 9999 a Python datetime holds",
            t.to_rfc3339()
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// next_windows.

/// Runs [`PolicySet::next_windows`] with the GIL released; `count` is at least 1, as in the CLI.
pub(crate) fn next_windows(
    py: Python<'_>,
    policy: &PolicySet,
    request: Arc<ChangeRequest>,
    calendar: &Calendar,
    now: DateTime<Utc>,
    count: Count,
    horizon: Horizon,
) -> PyResult<PyNextWindows> {
    if count.0 == 0 {
        return Err(Problem::input("count", "must be at least 1").into_pyerr(py));
    }
    let inner = py
        .detach(|| {
            guard(|| {
                let answer = policy.next_windows(&request, calendar, now, count.0, horizon.0);
                // Every time in the answer lies within `searched`.
                let searched = answer.searched;
                if !fits_python(&searched.from) {
                    return Err(out_of_python_range("now", &searched.from));
                }
                if !fits_python(&searched.until) {
                    return Err(out_of_python_range("horizon", &searched.until));
                }
                Ok(answer)
            })
        })
        .or_raise(py)?;
    Ok(PyNextWindows { inner, request })
}

answer_class! {
    /// The answer to "when can this deployment run?": the earliest allowed starts, and why the
    /// start times before them are not allowed. Immutable; `to_dict()` equals the CLI's
    /// `changegate windows --format json` output.
    class PyNextWindows as "NextWindows" { inner: NextWindows, request: Arc<ChangeRequest> }
    methods {
        /// The earliest allowed starts, in order, at most as many as asked for.
        #[getter]
        fn windows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            tuple(
                py,
                self.inner
                    .windows
                    .iter()
                    .map(|w| PyAllowedWindow { inner: w.clone() }),
            )
        }

        /// Why the start times before each window are not allowed, in order.
        #[getter]
        fn blocked<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            tuple(
                py,
                self.inner
                    .blocked
                    .iter()
                    .map(|b| PyBlockedStretch { inner: b.clone() }),
            )
        }

        /// `(from, until)`: the start times searched, from `now` rounded up to the minute to the
        /// end of the horizon (exclusive), in the bundle's time zone.
        #[getter]
        fn searched<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            let s = &self.inner.searched;
            PyTuple::new(py, [datetime(py, &s.from)?, datetime(py, &s.until)?])
        }

        /// How many full checks (built-in rules and scripts) confirmed or rejected candidates.
        #[getter]
        fn confirmations(&self) -> usize {
            self.inner.confirmations
        }

        /// Whether the search stopped at `MAX_CONFIRMATIONS` checks before finding every window.
        #[getter]
        fn confirmation_limit_reached(&self) -> bool {
            self.inner.confirmation_limit_reached
        }

        /// A sentence when the answer is not simply a list of windows (nothing found, never
        /// allowed, search cut short), else None.
        #[getter]
        fn note(&self) -> Option<&str> {
            self.inner.note.as_deref()
        }

        /// The answer as `changegate windows` prints it (the same text, from the same code).
        fn to_text(&self, py: Python<'_>) -> PyResult<String> {
            guard_py(py, || Ok(self.inner.to_text(&self.request)))
        }

        fn __repr__(&self) -> String {
            let starts: Vec<String> = self
                .inner
                .windows
                .iter()
                .map(|w| quoted(&json_text(serde_json::to_value(w.start))))
                .collect();
            let note = match &self.inner.note {
                Some(n) => quoted(n),
                None => "None".to_owned(),
            };
            format!(
                "NextWindows(windows=[{}], blocked={}, confirmations={}, note={note})",
                starts.join(", "),
                self.inner.blocked.len(),
                self.inner.confirmations,
            )
        }
    }
}

answer_class! {
    /// A stretch in which the deployment may run: it may start at `start` (confirmed by a full
    /// check) and must be over by `end`. Immutable.
    class PyAllowedWindow as "AllowedWindow" { inner: AllowedWindow }
    methods {
        /// The earliest allowed start (an aware datetime in the bundle's time zone).
        #[getter]
        fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.start)
        }

        /// `latest_start` plus the duration: a deployment started in the window is over by then.
        #[getter]
        fn end<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.end)
        }

        /// The last start confirmed allowed by every rule and script: every start from `start`
        /// to `latest_start` is allowed.
        #[getter]
        fn latest_start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.latest_start)
        }

        /// Warnings (e.g. `preferred_window`) a check at `start` gives; they do not block.
        #[getter]
        fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            findings(py, &self.inner.warnings)
        }

        fn __repr__(&self) -> String {
            let warnings: Vec<String> = self
                .inner
                .warnings
                .iter()
                .map(|f| format!("{}:{}", f.severity.as_str(), f.rule))
                .collect();
            format!(
                "AllowedWindow(start={}, end={}, latest_start={}, warnings=[{}])",
                quoted(&json_text(serde_json::to_value(self.inner.start))),
                quoted(&json_text(serde_json::to_value(self.inner.end))),
                quoted(&json_text(serde_json::to_value(self.inner.latest_start))),
                warnings.join(", ")
            )
        }
    }
}

answer_class! {
    /// Start times that are not allowed, `from_` (included) to `until` (excluded), and the rules
    /// that say so. Immutable.
    class PyBlockedStretch as "BlockedStretch" { inner: BlockedStretch }
    methods {
        /// The first blocked start time (`from` in the JSON).
        #[getter]
        fn from_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.from)
        }

        /// The first start time after the stretch (exclusive).
        #[getter]
        fn until<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.until)
        }

        /// The rules that block every start in the stretch, e.g. `blackout`, `advance_notice`.
        #[getter]
        fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            PyTuple::new(py, self.inner.rules.iter().map(|r| r.as_str()))
        }

        /// The same in words: which blackout, which deployments, how much notice.
        #[getter]
        fn reasons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            strings(py, &self.inner.reasons)
        }

        fn __repr__(&self) -> String {
            format!(
                "BlockedStretch(from_={}, until={}, rules=[{}])",
                quoted(&json_text(serde_json::to_value(self.inner.from))),
                quoted(&json_text(serde_json::to_value(self.inner.until))),
                self.inner
                    .rules
                    .iter()
                    .map(|r| quoted(r.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// preview.

/// A preview: the instant asked about, and the windows.
#[derive(PartialEq)]
pub(crate) struct PreviewData {
    from: DateTime<Utc>,
    windows: Vec<WindowPreview>,
}

impl Json for PreviewData {
    /// What `changegate preview --format json` prints, from the same function.
    fn json(&self) -> Value {
        changegate::preview_to_json(self.from, &self.windows)
    }
}

/// Runs [`PolicySet::preview`] with the GIL released.
pub(crate) fn preview(
    py: Python<'_>,
    policy: &PolicySet,
    from: DateTime<Utc>,
    count: Count,
) -> PyResult<PyPreview> {
    let inner = py
        .detach(|| {
            guard(|| {
                let windows = policy.preview(from, count.0);
                for o in windows.iter().flat_map(|w| &w.occurrences) {
                    for t in [o.start, o.end] {
                        if !fits_python(&t) {
                            return Err(out_of_python_range("from_", &t));
                        }
                    }
                    for t in [o.start_utc, o.end_utc] {
                        if !fits_python(&t) {
                            return Err(out_of_python_range("from_", &t));
                        }
                    }
                }
                if !fits_python(&from) {
                    return Err(out_of_python_range("from_", &from));
                }
                Ok(PreviewData { from, windows })
            })
        })
        .or_raise(py)?;
    Ok(PyPreview { inner })
}

answer_class! {
    /// The next occurrences of every blackout and preferred window of a policy, per environment.
    /// Immutable; `to_dict()` equals the CLI's `changegate preview --format json` output.
    class PyPreview as "Preview" { inner: PreviewData }
    methods {
        /// The instant the preview starts from, in UTC (`from` in the JSON).
        #[getter]
        fn from_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.from)
        }

        /// Every blackout and preferred window, environment by environment, in policy order.
        #[getter]
        fn windows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            tuple(
                py,
                self.inner
                    .windows
                    .iter()
                    .map(|w| PyWindowPreview { inner: w.clone() }),
            )
        }

        /// The preview as `changegate preview` prints it (the same text, from the same code).
        fn to_text(&self, py: Python<'_>) -> PyResult<String> {
            guard_py(py, || Ok(changegate::preview_to_text(&self.inner.windows)))
        }

        fn __repr__(&self) -> String {
            let windows: Vec<String> = self
                .inner
                .windows
                .iter()
                .map(|w| format!("{}:{}:{}", w.environment, w.kind, w.name))
                .collect();
            format!(
                "Preview(from_={}, windows=[{}])",
                quoted(&json_text(serde_json::to_value(self.inner.from))),
                windows.join(", ")
            )
        }
    }
}

answer_class! {
    /// The next occurrences of one blackout or preferred window. Immutable.
    class PyWindowPreview as "WindowPreview" { inner: WindowPreview }
    methods {
        /// The environment it belongs to.
        #[getter]
        fn environment(&self) -> &str {
            &self.inner.environment
        }

        /// `"blackout"` or `"preferred_window"`.
        #[getter]
        fn kind(&self) -> &str {
            self.inner.kind.as_str()
        }

        /// Its name in policy.yaml.
        #[getter]
        fn name(&self) -> &str {
            &self.inner.name
        }

        /// A short description, e.g. `Fri 16:00 - Mon 06:00 Europe/Berlin`.
        #[getter]
        fn description(&self) -> &str {
            &self.inner.description
        }

        /// The IANA name of the zone its local times are in.
        #[getter]
        fn timezone(&self) -> &str {
            &self.inner.timezone
        }

        /// The next occurrences, in order of start (one in progress at `from_` first).
        #[getter]
        fn occurrences<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            tuple(
                py,
                self.inner
                    .occurrences
                    .iter()
                    .map(|o| PyOccurrencePreview { inner: o.clone() }),
            )
        }

        fn __repr__(&self) -> String {
            format!(
                "WindowPreview(environment={}, kind={}, name={}, description={}, occurrences={})",
                quoted(&self.inner.environment),
                quoted(self.inner.kind.as_str()),
                quoted(&self.inner.name),
                quoted(&self.inner.description),
                self.inner.occurrences.len()
            )
        }
    }
}

answer_class! {
    /// One occurrence of a window, in local time and in UTC. Immutable.
    class PyOccurrencePreview as "OccurrencePreview" { inner: OccurrencePreview }
    methods {
        /// The start, in the window's zone (an aware datetime with that zone's offset then).
        #[getter]
        fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.start)
        }

        /// The end (exclusive), in the window's zone.
        #[getter]
        fn end<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.end)
        }

        /// The start in UTC.
        #[getter]
        fn start_utc<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.start_utc)
        }

        /// The end in UTC.
        #[getter]
        fn end_utc<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
            datetime(py, &self.inner.end_utc)
        }

        /// Where a DST change touched it: `"split"` (the offset changes inside it), `"moved"` (its
        /// offset differs from the previous occurrence's); empty when neither.
        #[getter]
        fn dst<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            PyTuple::new(py, self.inner.dst.iter().map(|m| dst_name(*m)))
        }

        fn __repr__(&self) -> String {
            let dst: Vec<String> = self
                .inner
                .dst
                .iter()
                .map(|m| quoted(dst_name(*m)))
                .collect();
            format!(
                "OccurrencePreview(start={}, end={}, dst=[{}])",
                quoted(&json_text(serde_json::to_value(self.inner.start))),
                quoted(&json_text(serde_json::to_value(self.inner.end))),
                dst.join(", ")
            )
        }
    }
}

/// The JSON name of a [`DstMark`] (its serde name).
fn dst_name(mark: DstMark) -> &'static str {
    mark.as_str()
}
