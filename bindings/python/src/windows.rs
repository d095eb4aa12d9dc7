//! "When can I deploy?": [`PolicySet::next_windows`] and [`PolicySet::preview`] for Python.
//!
//! The answers keep the core's values; attributes hand out aware `datetime`s (with the fixed
//! offset the JSON shows), tuples and strings, and `to_dict()` is the JSON of
//! `changegate windows --format json` and `changegate preview --format json`, serialized by the
//! same serde code as the CLI's.

use changegate::{
    AllowedWindow, BlockedStretch, Calendar, ChangeRequest, DstMark, NextWindows,
    OccurrencePreview, PolicySet, WindowPreview,
};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDelta, PyDeltaAccess, PyInt, PyString, PyTuple};
use serde_json::Value;

use crate::convert::{self, datetime, fits_python};
use crate::errors::{Problem, guard};
use crate::{OrRaise, findings_tuple, quoted};

/// The longest horizon, as the CLI's `--horizon` (and the core's duration reader) allows.
const MAX_HORIZON_DAYS: i64 = 36_600;

/// The JSON text of an instant (`serde_json::to_value(t)`), as the CLI prints it, for
/// `__repr__`s.
fn json_text(value: serde_json::Result<Value>) -> String {
    match value {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A value's JSON (`serde_json::to_value(x)`, as the CLI serializes it) as Python objects.
fn json_dict<'py>(
    py: Python<'py>,
    value: serde_json::Result<Value>,
) -> PyResult<Bound<'py, PyAny>> {
    convert::to_py(py, &value.unwrap_or(Value::Null))
}

fn strings<'py, T: AsRef<str>>(py: Python<'py>, items: &[T]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, items.iter().map(AsRef::as_ref))
}

// ---------------------------------------------------------------------------------------------
// Arguments.

/// `count`: an `int` (not a `bool`); the smallest allowed value is checked by each method.
pub(crate) struct Count(pub(crate) usize);

impl<'a, 'py> FromPyObject<'a, 'py> for Count {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let problem = |message: String| Problem::input("count", message).into_pyerr(py);
        if !obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyBool>() {
            return Err(problem(format!(
                "expected an int, got {}",
                convert::type_name(&obj)
            )));
        }
        match obj.extract::<i64>() {
            Ok(n) if n < 0 => Err(problem(format!("must not be negative, got {n}"))),
            Ok(n) => Ok(Count(usize::try_from(n).unwrap_or(usize::MAX))),
            Err(_) if obj.lt(0).unwrap_or(false) => Err(problem("must not be negative".to_owned())),
            Err(_) => Err(problem("the integer is too large".to_owned())),
        }
    }
}

/// `horizon`: a `timedelta` or duration text such as `90d` or `2w`, positive and at most 100
/// years, as the CLI's `--horizon`.
pub(crate) struct Horizon(pub(crate) TimeDelta);

impl Horizon {
    pub(crate) const DEFAULT: Horizon = Horizon(TimeDelta::days(90));
}

impl<'a, 'py> FromPyObject<'a, 'py> for Horizon {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let problem = |message: String| Problem::input("horizon", message).into_pyerr(py);
        if let Ok(s) = obj.cast::<PyString>() {
            let s = s
                .to_cow()
                .map_err(|_| problem("the text is not valid Unicode".into()))?;
            // The core's reader, as the CLI's `--horizon`: the same words, the same limits.
            return changegate::time::parse_duration(&s)
                .map(Horizon)
                .map_err(|e| problem(e.to_string()));
        }
        let Ok(td) = obj.cast::<PyDelta>() else {
            return Err(problem(format!(
                "expected a timedelta or a duration string such as `90d`, got {}",
                convert::type_name(&obj)
            )));
        };
        let secs = i64::from(td.get_days()) * 86_400 + i64::from(td.get_seconds());
        let shown = || {
            td.str()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| format!("{secs} seconds"))
        };
        if td.get_microseconds() != 0 {
            return Err(problem(format!(
                "a horizon must be a whole number of seconds, got {}",
                shown()
            )));
        }
        if secs <= 0 || secs > MAX_HORIZON_DAYS * 86_400 {
            return Err(problem(format!(
                "a horizon must be positive and at most {MAX_HORIZON_DAYS} days (100 years), got {}",
                shown()
            )));
        }
        Ok(Horizon(TimeDelta::seconds(secs)))
    }
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
    request: &ChangeRequest,
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
                let answer = policy.next_windows(request, calendar, now, count.0, horizon.0);
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
    Ok(PyNextWindows { inner })
}

/// The answer to "when can this deployment run?": the earliest allowed starts, and why the
/// start times before them are not allowed. Immutable; `to_dict()` equals the CLI's
/// `changegate windows --format json` output.
#[pyclass(frozen, eq, module = "changegate", name = "NextWindows")]
#[derive(PartialEq)]
pub(crate) struct PyNextWindows {
    inner: NextWindows,
}

#[pymethods]
impl PyNextWindows {
    /// The earliest allowed starts, in order, at most as many as asked for.
    #[getter]
    fn windows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = self
            .inner
            .windows
            .iter()
            .map(|w| Bound::new(py, PyAllowedWindow { inner: w.clone() }))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    /// Why the start times before each window are not allowed, in order.
    #[getter]
    fn blocked<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = self
            .inner
            .blocked
            .iter()
            .map(|b| Bound::new(py, PyBlockedStretch { inner: b.clone() }))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
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

    /// The answer as the JSON every face shares (equal to `changegate windows --format json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_dict(py, serde_json::to_value(&self.inner))
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

/// A stretch in which the deployment may run: it may start at `start` (confirmed by a full
/// check) and must be over by `end`. Immutable.
#[pyclass(frozen, eq, module = "changegate", name = "AllowedWindow")]
#[derive(PartialEq)]
pub(crate) struct PyAllowedWindow {
    inner: AllowedWindow,
}

#[pymethods]
impl PyAllowedWindow {
    /// The earliest allowed start (an aware datetime in the bundle's time zone).
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        datetime(py, &self.inner.start)
    }

    /// The end of the free stretch: the deployment must be over by then.
    #[getter]
    fn end<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        datetime(py, &self.inner.end)
    }

    /// The last start that still ends by `end`, as far as built-in rules go (scripts were
    /// asked about `start` only).
    #[getter]
    fn latest_start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        datetime(py, &self.inner.latest_start)
    }

    /// Warnings (e.g. `preferred_window`) a check at `start` gives; they do not block.
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        findings_tuple(py, self.inner.warnings.iter())
    }

    /// The window as in the answer's JSON.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_dict(py, serde_json::to_value(&self.inner))
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

/// Start times that are not allowed, `from_` (included) to `until` (excluded), and the rules
/// that say so. Immutable.
#[pyclass(frozen, eq, module = "changegate", name = "BlockedStretch")]
#[derive(PartialEq)]
pub(crate) struct PyBlockedStretch {
    inner: BlockedStretch,
}

#[pymethods]
impl PyBlockedStretch {
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

    /// The stretch as in the answer's JSON.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_dict(py, serde_json::to_value(&self.inner))
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

// ---------------------------------------------------------------------------------------------
// preview.

/// What `changegate preview --format json` prints: the instant asked about, and the windows.
#[derive(PartialEq)]
struct PreviewData {
    from: DateTime<Utc>,
    windows: Vec<WindowPreview>,
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

/// The next occurrences of every blackout and preferred window of a policy, per environment.
/// Immutable; `to_dict()` equals the CLI's `changegate preview --format json` output.
#[pyclass(frozen, eq, module = "changegate", name = "Preview")]
#[derive(PartialEq)]
pub(crate) struct PyPreview {
    inner: PreviewData,
}

#[pymethods]
impl PyPreview {
    /// The instant the preview starts from, in UTC (`from` in the JSON).
    #[getter]
    fn from_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        datetime(py, &self.inner.from)
    }

    /// Every blackout and preferred window, environment by environment, in policy order.
    #[getter]
    fn windows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = self
            .inner
            .windows
            .iter()
            .map(|w| Bound::new(py, PyWindowPreview { inner: w.clone() }))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    /// The preview as the JSON every face shares (equal to `changegate preview --format json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // The CLI's own expression: `{"from": from, "windows": previews}`.
        let (from, windows) = (&self.inner.from, &self.inner.windows);
        convert::to_py(py, &serde_json::json!({"from": from, "windows": windows}))
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

/// The next occurrences of one blackout or preferred window. Immutable.
#[pyclass(frozen, eq, module = "changegate", name = "WindowPreview")]
#[derive(PartialEq)]
pub(crate) struct PyWindowPreview {
    inner: WindowPreview,
}

#[pymethods]
impl PyWindowPreview {
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
        let items = self
            .inner
            .occurrences
            .iter()
            .map(|o| Bound::new(py, PyOccurrencePreview { inner: o.clone() }))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    /// The window as in the preview's JSON.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_dict(py, serde_json::to_value(&self.inner))
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

/// One occurrence of a window, in local time and in UTC. Immutable.
#[pyclass(frozen, eq, module = "changegate", name = "OccurrencePreview")]
#[derive(PartialEq)]
pub(crate) struct PyOccurrencePreview {
    inner: OccurrencePreview,
}

#[pymethods]
impl PyOccurrencePreview {
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

    /// The occurrence as in the preview's JSON.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_dict(py, serde_json::to_value(&self.inner))
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

/// The JSON name of a [`DstMark`] (its serde name).
fn dst_name(mark: DstMark) -> &'static str {
    match mark {
        DstMark::Split => "split",
        DstMark::Moved => "moved",
    }
}
