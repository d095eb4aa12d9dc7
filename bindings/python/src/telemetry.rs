//! The gates and rollback questions' inputs (measurements, events, rollbacks performed), the
//! `deployment` and `tolerance` arguments, and `Monitor`: the streaming rollback decision.
//!
//! A list of dicts becomes a JSON document (`{"measurements": [...]}`, read by the core's fast
//! JSON path) that the core reads with the same reader as a file; NaN, which JSON cannot say,
//! is sent as `"NaN"`. An error names the argument and the item: `measurements[3].value`.

use std::sync::Arc;

use changegate::{ChangeRequest, Event, InputError, Measurement, RollbackDone, Telemetry};
use chrono::{DateTime, TimeDelta, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyList, PyString, PyTuple};

use crate::OrRaise;
use crate::args::{self, Now};
use crate::convert::{self, Path, Shape};
use crate::decision::PyDecision;
use crate::errors::{Problem, guard, guard_py};
use crate::policy::PyPolicySet;

/// One kind of telemetry item: how the core reads a list of them.
trait Kind: Sized + Send {
    /// The key of the document form, `measurements`.
    const KEY: &'static str;
    /// The list's shape.
    const SHAPE: Shape;
    fn read(text: &str, origin: &str) -> Result<Vec<Self>, InputError>;
}

impl Kind for Measurement {
    const KEY: &'static str = "measurements";
    const SHAPE: Shape = Shape::Measurements;
    fn read(text: &str, origin: &str) -> Result<Vec<Self>, InputError> {
        Measurement::list_from_yaml(text, origin)
    }
}

impl Kind for Event {
    const KEY: &'static str = "events";
    const SHAPE: Shape = Shape::Events;
    fn read(text: &str, origin: &str) -> Result<Vec<Self>, InputError> {
        Event::list_from_yaml(text, origin)
    }
}

impl Kind for RollbackDone {
    const KEY: &'static str = "rollbacks";
    const SHAPE: Shape = Shape::Rollbacks;
    fn read(text: &str, origin: &str) -> Result<Vec<Self>, InputError> {
        RollbackDone::list_from_yaml(text, origin)
    }
}

/// An error in a document this crate generated (`{"measurements": [...]}`) from the argument
/// `name`: only the field is kept, `measurements[3].value` becoming `{name}[3].value`.
fn generated<T: Kind>(e: InputError, name: &str) -> Problem {
    let field = e.field.unwrap_or_default();
    let mut message = e.message;
    // The reader starts some messages with the field's path: it goes in `field` instead.
    if let Some(rest) = message
        .strip_prefix(field.as_str())
        .and_then(|m| m.strip_prefix(": "))
    {
        message = rest.to_owned();
    }
    let rest = field.strip_prefix(T::KEY).unwrap_or(&field);
    let field = if rest.is_empty() || rest.starts_with('[') || rest.starts_with('.') {
        format!("{name}{rest}")
    } else {
        format!("{name}.{rest}")
    };
    Problem::input(field, message)
}

/// Reads a list of `T` from a Python list or tuple of dicts, or from YAML/JSON/JSON-lines
/// text (`str` or UTF-8 `bytes`); `name` is the argument's name in errors.
fn read_list<T: Kind>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    name: &str,
) -> Result<Vec<T>, Problem> {
    let root = Path::Root(name);
    if let Some(text) = convert::as_text(obj, &root) {
        let text = text?;
        let origin = format!("<{name}>");
        return py.detach(|| guard(|| T::read(&text, &origin).map_err(Problem::from_input)));
    }
    if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
        return Err(Problem::input(
            name,
            format!(
                "expected a list of dicts or YAML/JSON text, got {}",
                convert::type_name(obj)
            ),
        ));
    }
    let value = convert::to_json(obj, T::SHAPE, &root)?;
    let mut doc = serde_json::Map::new();
    doc.insert(T::KEY.to_owned(), value);
    let text = serde_json::to_string(&serde_json::Value::Object(doc))
        .map_err(|e| Problem::input(name, e.to_string()))?;
    let origin = format!("<{name}>");
    py.detach(|| guard(|| T::read(&text, &origin).map_err(|e| generated::<T>(e, name))))
}

/// An argument holding a list of `T` (see [`read_list`]); the type parameter says which.
macro_rules! list_arg {
    ($(#[$meta:meta])* $arg:ident, $ty:ty, $name:literal) => {
        $(#[$meta])*
        pub(crate) struct $arg(pub(crate) Vec<$ty>);

        impl<'a, 'py> FromPyObject<'a, 'py> for $arg {
            type Error = PyErr;

            fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                let py = obj.py();
                guard_py(py, || {
                    read_list::<$ty>(py, &obj, $name)
                        .map($arg)
                        .map_err(|p| p.into_pyerr(py))
                })
            }
        }
    };
}

list_arg!(
    /// `measurements`: a list of dicts `{metric, at, value, labels?}` or text.
    MeasurementsArg,
    Measurement,
    "measurements"
);
list_arg!(
    /// `baseline`: measurements of the baseline, as `measurements`.
    BaselineArg,
    Measurement,
    "baseline"
);
list_arg!(
    /// `events`: a list of dicts `{kind, at, source?}` or text.
    EventsArg,
    Event,
    "events"
);
list_arg!(
    /// `rollbacks`: a list of dicts `{level, at}` or text.
    RollbacksArg,
    RollbackDone,
    "rollbacks"
);

/// The telemetry of a check from its arguments.
pub(crate) fn telemetry(
    measurements: MeasurementsArg,
    events: Option<EventsArg>,
    baseline: Option<BaselineArg>,
    rollbacks: Option<RollbacksArg>,
) -> Telemetry {
    Telemetry::new(measurements.0)
        .with_baseline(baseline.map(|b| b.0).unwrap_or_default())
        .with_events(events.map(|e| e.0).unwrap_or_default())
        .with_rollbacks(rollbacks.map(|r| r.0).unwrap_or_default())
}

/// `deployment`: a request (a dict, JSON/YAML text or a `ChangeRequest`), named `deployment`
/// in errors.
pub(crate) struct DeploymentArg(pub(crate) Arc<ChangeRequest>);

impl<'a, 'py> FromPyObject<'a, 'py> for DeploymentArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        guard_py(py, || {
            args::request(&obj, "deployment")
                .map(DeploymentArg)
                .map_err(|p| p.into_pyerr(py))
        })
    }
}

/// `tolerance`: a `timedelta` (zero or more, whole seconds) or duration text such as `30s`;
/// `None` is zero.
pub(crate) struct Tolerance(pub(crate) TimeDelta);

impl<'a, 'py> FromPyObject<'a, 'py> for Tolerance {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let problem = |message: String| Problem::input("tolerance", message).into_pyerr(py);
        guard_py(py, || {
            if let Ok(s) = obj.cast::<PyString>() {
                let s = s
                    .to_cow()
                    .map_err(|_| problem("the text is not valid Unicode".into()))?;
                if matches!(s.trim(), "0" | "0s") {
                    return Ok(Tolerance(TimeDelta::zero()));
                }
                return changegate::time::parse_duration(&s)
                    .map(Tolerance)
                    .map_err(|e| problem(e.to_string()));
            }
            let Ok(td) = obj.cast::<PyDelta>() else {
                return Err(problem(format!(
                    "expected a timedelta or a duration string such as `30s`, got {}",
                    convert::type_name(&obj)
                )));
            };
            let secs = i64::from(td.get_days()) * 86_400 + i64::from(td.get_seconds());
            if td.get_microseconds() != 0 || secs < 0 {
                return Err(problem(format!(
                    "a tolerance must be zero or more whole seconds, got {secs}s and {} \
                     microseconds",
                    td.get_microseconds()
                )));
            }
            Ok(Tolerance(TimeDelta::seconds(secs)))
        })
    }
}

/// One item pushed to a monitor, told apart by its keys.
enum Item {
    Measurement(Measurement),
    Event(Event),
    Rollback(RollbackDone),
}

/// Reads the dict pushed to a monitor: a measurement (`metric`), an event (`kind`) or a
/// rollback performed (`level`); errors name `item`.
fn item(py: Python<'_>, obj: &Bound<'_, PyAny>) -> Result<Item, Problem> {
    let Ok(dict) = obj.cast::<PyDict>() else {
        return Err(Problem::input(
            "item",
            format!("expected a dict, got {}", convert::type_name(obj)),
        ));
    };
    let has = |key: &str| dict.contains(key).unwrap_or(false);
    // One item as a one-item list, so that the core's list reader checks it.
    let list = PyList::new(py, [dict]).map_err(|e| Problem::from_python(py, "item", e))?;
    let one = |problem: Problem| {
        // `item[0].value` -> `item.value`.
        let mut problem = problem;
        problem.field = problem.field.map(|f| f.replacen("item[0]", "item", 1));
        problem
    };
    let first = |n: usize| Problem::input("item", format!("expected one item, read {n}"));
    if has("metric") {
        let mut v = read_list::<Measurement>(py, list.as_any(), "item").map_err(one)?;
        v.pop().map(Item::Measurement).ok_or_else(|| first(0))
    } else if has("kind") {
        let mut v = read_list::<Event>(py, list.as_any(), "item").map_err(one)?;
        v.pop().map(Item::Event).ok_or_else(|| first(0))
    } else if has("level") {
        let mut v = read_list::<RollbackDone>(py, list.as_any(), "item").map_err(one)?;
        v.pop().map(Item::Rollback).ok_or_else(|| first(0))
    } else {
        Err(Problem::input(
            "item",
            "expected a measurement {metric, at, value, labels?}, an event {kind, at, source?} \
             or a rollback performed {level, at}",
        ))
    }
}

/// A deployment watched as its telemetry arrives: `push` one measurement, event or rollback
/// performed at a time and get the current rollback decision, equal to
/// `PolicySet.check_rollback` over everything pushed (and committed) at `now`.
///
/// Items may arrive out of order within `tolerance` (a `timedelta` or text such as `30s`):
/// they wait in a reorder buffer and decisions lag the latest item by that much. An item
/// older than that, or before `start`, raises `InvalidInputError`. Not shared between
/// threads: one monitor per stream.
#[pyclass(module = "changegate", name = "Monitor")]
pub(crate) struct PyMonitor {
    inner: changegate::Monitor,
    deployment: Arc<ChangeRequest>,
}

#[pymethods]
impl PyMonitor {
    #[new]
    #[pyo3(signature = (policy, deployment, start, *, tolerance = None))]
    fn new(
        policy: &PyPolicySet,
        deployment: DeploymentArg,
        start: Now,
        tolerance: Option<Tolerance>,
    ) -> Self {
        let inner = changegate::Monitor::new(policy.inner(), (*deployment.0).clone(), start.0)
            .with_tolerance(tolerance.map_or_else(TimeDelta::zero, |t| t.0));
        Self {
            inner,
            deployment: deployment.0,
        }
    }

    /// Adds one item (a dict: a measurement `{metric, at, value, labels?}`, an event `{kind,
    /// at, source?}` or a rollback performed `{level, at}`, told apart by their keys) and
    /// returns the current rollback decision. The GIL is released while it decides.
    fn push(&mut self, py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<PyDecision> {
        let read = guard_py(py, || self::item(py, item).or_raise(py))?;
        let monitor = &mut self.inner;
        let inner = py
            .detach(|| {
                guard(|| {
                    let pushed = match read {
                        Item::Measurement(m) => monitor.push_measurement(m),
                        Item::Event(e) => monitor.push_event(e),
                        Item::Rollback(r) => monitor.push_rollback(r),
                    };
                    pushed
                        .cloned()
                        .map_err(|e| Problem::input("item", e.message))
                })
            })
            .or_raise(py)?;
        Ok(PyDecision {
            inner,
            request: Arc::clone(&self.deployment),
        })
    }

    /// Time has passed: nothing older than `to` will arrive. Moves `now` to `to` (when later)
    /// and returns the rollback decision there (a trigger's `for` may run out, a window may
    /// empty, without a new item); older items raise afterwards.
    fn advance(&mut self, py: Python<'_>, to: Now) -> PyResult<PyDecision> {
        let monitor = &mut self.inner;
        let inner = py
            .detach(|| guard(|| Ok(monitor.advance(to.0).clone())))
            .or_raise(py)?;
        Ok(PyDecision {
            inner,
            request: Arc::clone(&self.deployment),
        })
    }

    /// The end of the stream: every item pushed counts (`now` moves one millisecond past the
    /// latest); returns that rollback decision.
    fn flush(&mut self, py: Python<'_>) -> PyResult<PyDecision> {
        let monitor = &mut self.inner;
        let inner = py
            .detach(|| guard(|| Ok(monitor.flush().clone())))
            .or_raise(py)?;
        Ok(PyDecision {
            inner,
            request: Arc::clone(&self.deployment),
        })
    }

    /// The current rollback decision (at `now`).
    fn decision(&self, py: Python<'_>) -> PyResult<PyDecision> {
        let monitor = &self.inner;
        let inner = py
            .detach(|| guard(|| Ok(monitor.decision().clone())))
            .or_raise(py)?;
        Ok(PyDecision {
            inner,
            request: Arc::clone(&self.deployment),
        })
    }

    /// The gates decision over what was committed, at `now`.
    fn gates(&self, py: Python<'_>) -> PyResult<PyDecision> {
        let monitor = &self.inner;
        let inner = py.detach(|| guard(|| Ok(monitor.gates()))).or_raise(py)?;
        Ok(PyDecision {
            inner,
            request: Arc::clone(&self.deployment),
        })
    }

    /// The instant decisions are made at: the latest item's time minus the tolerance (an
    /// aware datetime in UTC).
    #[getter]
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        let now: DateTime<Utc> = guard(|| Ok(self.inner.now())).or_raise(py)?;
        convert::datetime(py, &now)
    }

    fn __repr__(&self) -> String {
        format!(
            "Monitor(deployment={}, now={})",
            crate::answer::quoted(self.deployment.id.as_str()),
            crate::answer::quoted(
                &guard(|| Ok(self.inner.now().to_rfc3339())).unwrap_or_else(|_| "?".to_owned())
            )
        )
    }
}
