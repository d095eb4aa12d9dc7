//! Python values to and from the JSON the core reads and writes.
//!
//! A request or calendar given as a dict becomes JSON text that the core parses with the same
//! reader as a file, so a dict is validated exactly like the CLI's input. Only what JSON cannot
//! say is handled here: aware `datetime`s become RFC 3339 text, `timedelta`s become `5400s`, and
//! a value of the wrong Python type is reported with its field (`request.start: expected ...`).
//!
//! Conversion is hostile-input safe: dicts and lists are read from a snapshot (`PyDict_Items`,
//! `PyList_AsTuple`), so Python code run while converting (a datetime subclass's `isoformat`, a
//! tzinfo, a finalizer) cannot change what is being walked; nesting is limited to
//! [`MAX_DEPTH`] levels and a container that contains itself is refused, so a deep or
//! recursive dict is an `InvalidInputError` naming the field, never a stack overflow; and the
//! number of values read from one argument is limited to [`MAX_VALUES`], so a list that
//! refers many times to the same list cannot make the conversion run for ever. The whole
//! conversion runs under [`guard`]: a panic is an exception, never a `PanicException`.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Timelike};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyFloat,
    PyInt, PyList, PyString, PyTuple, PyTzInfo,
};
use serde_json::{Map, Number, Value};

use crate::errors::{Problem, guard, guard_py};

/// The deepest nesting of dicts, lists and tuples in one argument (a request's labels, a
/// calendar's deployments): `request` itself is level 1.
pub(crate) const MAX_DEPTH: usize = 64;

/// The most values (dicts, lists and scalars, each time it is reached) read from one argument.
pub(crate) const MAX_VALUES: usize = 1_000_000;

/// The deepest nesting of a JSON value turned into Python objects (an answer's `to_dict()`).
const MAX_OUTPUT_DEPTH: usize = 512;

/// The longest key quoted whole in a field path; longer ones are cut, so that a message stays
/// short whatever the input.
const MAX_KEY_SHOWN: usize = 64;

/// One step of the path to a value, for error messages: `calendar.deployments[3].start`.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Key(parent, key) => match key.char_indices().nth(MAX_KEY_SHOWN) {
                Some((end, _)) => write!(f, "{parent}.{}...", key.get(..end).unwrap_or_default()),
                None => write!(f, "{parent}.{key}"),
            },
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// What is expected at a place in a request or calendar, so a wrong type names the field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A request, or a deployment of a calendar.
    Request,
    /// A calendar: `deployments` and `blackouts`.
    Calendar,
    /// A list of requests.
    Requests,
    /// A list of blackouts.
    Blackouts,
    /// A blackout: `from` and `to` are instants.
    Blackout,
    /// An instant: an aware datetime or RFC 3339 text.
    Instant,
    /// A duration: a timedelta or text such as `2h30m`.
    Duration,
    /// Validation results: a list of results.
    Validation,
    /// A validation result: `at` is an instant.
    ValidationResult,
    /// A history: `changes`.
    History,
    /// A list of past changes.
    HistoryChanges,
    /// A past change: a request plus `outcome` and `incidents`.
    HistoryChange,
    /// A list of incidents.
    Incidents,
    /// An incident: `at` is an instant.
    Incident,
    /// A list of approvals.
    Approvals,
    /// An approval: `at` is an instant.
    Approval,
    /// A break-glass: `at` and `expires` are instants.
    BreakGlass,
    /// A directory: `people`.
    Directory,
    /// A list of measurements (or baseline measurements).
    Measurements,
    /// A measurement: `at` is an instant, `value` a [`Shape::MeasuredValue`].
    Measurement,
    /// A measured value: a number, `None` (no data) or NaN (a float NaN is sent as `"NaN"`,
    /// which JSON has no number for); an infinity is refused; the core checks the rest.
    MeasuredValue,
    /// A list of events.
    Events,
    /// A list of rollbacks performed.
    Rollbacks,
    /// An event or a rollback performed: `at` is an instant.
    Timed,
    /// Anything JSON can hold (labels, ids, names): the core checks it.
    Free,
}

impl Shape {
    fn child(self, key: &str) -> Shape {
        match (self, key) {
            (Shape::Request, "start" | "end" | "requested_at") => Shape::Instant,
            (Shape::Request, "duration") => Shape::Duration,
            (Shape::Calendar, "deployments") => Shape::Requests,
            (Shape::Calendar, "blackouts") => Shape::Blackouts,
            (Shape::Blackout, "from" | "to") => Shape::Instant,
            (Shape::ValidationResult | Shape::Incident, "at") => Shape::Instant,
            (Shape::History, "changes") => Shape::HistoryChanges,
            (Shape::HistoryChange, "start" | "end" | "requested_at") => Shape::Instant,
            (Shape::HistoryChange, "duration") => Shape::Duration,
            (Shape::HistoryChange, "incidents") => Shape::Incidents,
            (Shape::Request, "approvals") => Shape::Approvals,
            (Shape::Request, "break_glass") => Shape::BreakGlass,
            (Shape::Approval, "at") => Shape::Instant,
            (Shape::BreakGlass, "at" | "expires") => Shape::Instant,
            (Shape::Measurement | Shape::Timed, "at") => Shape::Instant,
            (Shape::Measurement, "value") => Shape::MeasuredValue,
            _ => Shape::Free,
        }
    }

    fn item(self) -> Shape {
        match self {
            Shape::Requests => Shape::Request,
            Shape::Blackouts => Shape::Blackout,
            Shape::Validation => Shape::ValidationResult,
            Shape::HistoryChanges => Shape::HistoryChange,
            Shape::Incidents => Shape::Incident,
            Shape::Approvals => Shape::Approval,
            Shape::Measurements => Shape::Measurement,
            Shape::Events | Shape::Rollbacks => Shape::Timed,
            _ => Shape::Free,
        }
    }
}

/// The Python type name of `obj`, for messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .and_then(|n| n.to_cow().map(|c| c.into_owned()))
        .unwrap_or_else(|_| "object".to_owned())
}

fn text(s: &Bound<'_, PyString>, path: &Path) -> Result<String, Problem> {
    s.to_cow()
        .map(|c| c.into_owned())
        .map_err(|_| Problem::input(path.to_string(), "the text is not valid Unicode"))
}

/// An aware `datetime` as RFC 3339 text with the offset it was given in (or in UTC when that
/// offset is not a whole number of minutes, which RFC 3339 cannot write).
fn instant_text(dt: &Bound<'_, PyAny>, path: &Path) -> Result<String, Problem> {
    let py_err = |e: PyErr| Problem::from_python(dt.py(), path.to_string(), e);
    let offset = dt.call_method0("utcoffset").map_err(py_err)?;
    if offset.is_none() {
        let shown = dt
            .call_method0("isoformat")
            .and_then(|s| s.extract::<String>())
            .unwrap_or_default();
        return Err(Problem::input(
            path.to_string(),
            format!(
                "expected an aware datetime, got a naive one `{shown}`; give it a zone, e.g. \
                 `tzinfo=zoneinfo.ZoneInfo(\"Europe/Berlin\")` or `tzinfo=datetime.timezone.utc`"
            ),
        ));
    }
    let iso: String = dt
        .call_method0("isoformat")
        .and_then(|s| s.extract())
        .map_err(py_err)?;
    if changegate::time::parse_instant(&iso).is_ok() {
        return Ok(iso);
    }
    let utc = PyTzInfo::utc(dt.py()).map_err(py_err)?;
    dt.call_method1("astimezone", (utc,))
        .and_then(|d| d.call_method0("isoformat"))
        .and_then(|s| s.extract())
        .map_err(py_err)
}

/// A `timedelta` as whole seconds, `5400s`.
fn duration_text(td: &Bound<'_, PyDelta>, path: &Path) -> Result<String, Problem> {
    if td.get_microseconds() != 0 {
        return Err(Problem::input(
            path.to_string(),
            "a duration must be a whole number of seconds",
        ));
    }
    let secs = i64::from(td.get_days()) * 86_400 + i64::from(td.get_seconds());
    if secs <= 0 {
        return Err(Problem::input(
            path.to_string(),
            format!("a duration must be positive, got {secs} seconds"),
        ));
    }
    Ok(format!("{secs}s"))
}

/// Converts a Python value to JSON, checking the types of the fields in `shape`, under a panic
/// guard, with the limits of [`MAX_DEPTH`] and [`MAX_VALUES`] and a check for cycles.
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, shape: Shape, path: &Path) -> Result<Value, Problem> {
    guard(|| Walk::default().value(obj, shape, path))
}

/// One conversion: the containers open on the path to the current value, and how many values
/// have been read.
#[derive(Default)]
struct Walk {
    /// The addresses of the dicts and lists from the root to the current value.
    open: Vec<usize>,
    values: usize,
}

impl Walk {
    /// Enters the container `obj` (checked for depth and cycles); [`Walk::leave`] leaves it.
    fn enter(&mut self, obj: &Bound<'_, PyAny>, path: &Path) -> Result<(), Problem> {
        let address = obj.as_ptr().addr();
        if self.open.contains(&address) {
            return Err(Problem::input(
                path.to_string(),
                format!(
                    "the {} contains itself (a recursive structure cannot be converted)",
                    type_name(obj)
                ),
            ));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(Problem::input(
                path.to_string(),
                format!("nested more than {MAX_DEPTH} levels deep (dicts and lists)"),
            ));
        }
        self.open.push(address);
        Ok(())
    }

    fn leave(&mut self) {
        self.open.pop();
    }

    fn value(
        &mut self,
        obj: &Bound<'_, PyAny>,
        shape: Shape,
        path: &Path,
    ) -> Result<Value, Problem> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(Problem::input(
                path.to_string(),
                format!(
                    "more than {MAX_VALUES} values in one argument (a list or dict that refers \
                     to the same list or dict many times counts each time)"
                ),
            ));
        }
        let is_container = obj.is_instance_of::<PyDict>()
            || obj.is_instance_of::<PyList>()
            || obj.is_instance_of::<PyTuple>();
        if is_container {
            self.enter(obj, path)?;
        }
        let result = self.convert(obj, shape, path);
        if is_container {
            self.leave();
        }
        result
    }

    /// One value, its container already entered.
    fn convert(
        &mut self,
        obj: &Bound<'_, PyAny>,
        shape: Shape,
        path: &Path,
    ) -> Result<Value, Problem> {
        let wrong = |expected: &str| {
            Problem::input(
                path.to_string(),
                format!("expected {expected}, got {}", type_name(obj)),
            )
        };
        if obj.is_none() {
            // `requested_at: None` means "not given", as `null` does in a file; the core decides
            // where null is allowed.
            return Ok(Value::Null);
        }
        match shape {
            Shape::Instant => {
                if obj.is_instance_of::<PyDateTime>() {
                    return instant_text(obj, path).map(Value::String);
                }
                if let Ok(s) = obj.cast::<PyString>() {
                    // Checked here, with the same function the core uses, so that the error names
                    // the field (the core's reader reports the enclosing mapping instead).
                    let s = text(s, path)?;
                    changegate::time::parse_instant(&s)
                        .map_err(|e| Problem::input(path.to_string(), e.to_string()))?;
                    return Ok(Value::String(s));
                }
                return Err(wrong("an aware datetime or RFC 3339 string"));
            }
            Shape::Duration => {
                if let Ok(td) = obj.cast::<PyDelta>() {
                    return duration_text(td, path).map(Value::String);
                }
                if let Ok(s) = obj.cast::<PyString>() {
                    let s = text(s, path)?;
                    changegate::time::parse_duration(&s)
                        .map_err(|e| Problem::input(path.to_string(), e.to_string()))?;
                    return Ok(Value::String(s));
                }
                return Err(wrong("a timedelta or a duration string such as `2h30m`"));
            }
            Shape::Request
            | Shape::Calendar
            | Shape::Blackout
            | Shape::ValidationResult
            | Shape::History
            | Shape::HistoryChange
            | Shape::Incident
            | Shape::Approval
            | Shape::BreakGlass
            | Shape::Directory
            | Shape::Measurement
            | Shape::Timed => {
                if let Ok(req) = obj.cast::<crate::inputs::PyChangeRequest>() {
                    if shape == Shape::Request {
                        return serde_json::to_value(&*req.get().inner)
                            .map_err(|e| Problem::input(path.to_string(), e.to_string()));
                    }
                }
                if !obj.is_instance_of::<PyDict>() {
                    return Err(wrong("a dict"));
                }
            }
            Shape::Requests
            | Shape::Blackouts
            | Shape::Validation
            | Shape::HistoryChanges
            | Shape::Incidents
            | Shape::Approvals
            | Shape::Measurements
            | Shape::Events
            | Shape::Rollbacks => {
                if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
                    return Err(wrong("a list"));
                }
            }
            Shape::MeasuredValue => {
                if let Ok(f) = obj.cast::<PyFloat>() {
                    let v = f.value();
                    if v.is_nan() {
                        return Ok(Value::String("NaN".to_owned()));
                    }
                    if v.is_infinite() {
                        return Err(Problem::input(
                            path.to_string(),
                            format!("must be a finite number, None (no data) or NaN, not {v}"),
                        ));
                    }
                }
                // Anything else (a number, the text `"NaN"`, a wrong type) goes to the core,
                // which reads it as it reads a file.
            }
            Shape::Free => {}
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            Ok(Value::Bool(b.is_true()))
        } else if obj.is_instance_of::<PyInt>() {
            obj.extract::<i64>()
                .map(Value::from)
                .or_else(|_| obj.extract::<u64>().map(Value::from))
                .map_err(|_| Problem::input(path.to_string(), "the integer is too large"))
        } else if let Ok(f) = obj.cast::<PyFloat>() {
            Number::from_f64(f.value())
                .map(Value::Number)
                .ok_or_else(|| Problem::input(path.to_string(), "NaN and infinity are not allowed"))
        } else if let Ok(s) = obj.cast::<PyString>() {
            text(s, path).map(Value::String)
        } else if let Ok(dict) = obj.cast::<PyDict>() {
            // A snapshot (`PyDict_Items`: a new list of pairs, read in C, whatever a subclass's
            // `items` does): Python code run below cannot change what is walked here.
            let pairs = dict.items();
            let mut map = Map::with_capacity(pairs.len());
            for pair in pairs.iter() {
                let (k, v) = pair
                    .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                    .map_err(|e| Problem::input(path.to_string(), e.to_string()))?;
                let Ok(key) = k.cast::<PyString>() else {
                    return Err(Problem::input(
                        path.to_string(),
                        format!("keys must be strings, got {}", type_name(&k)),
                    ));
                };
                let key = text(key, path)?;
                let value = self.value(&v, shape.child(&key), &Path::Key(path, &key))?;
                if map.contains_key(&key) {
                    // Two `str` subclass keys with the same text and their own `__eq__`/`__hash__`.
                    return Err(Problem::input(
                        Path::Key(path, &key).to_string(),
                        "the key appears twice",
                    ));
                }
                map.insert(key, value);
            }
            Ok(Value::Object(map))
        } else if let Some(items) = snapshot(obj) {
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                values.push(self.value(&item, shape.item(), &Path::Index(path, i))?);
            }
            Ok(Value::Array(values))
        } else if obj.is_instance_of::<PyDateTime>() {
            instant_text(obj, path).map(Value::String)
        } else if obj.is_instance_of::<PyDate>() {
            obj.call_method0("isoformat")
                .and_then(|s| s.extract::<String>())
                .map(Value::String)
                .map_err(|e| Problem::from_python(obj.py(), path.to_string(), e))
        } else if let Ok(td) = obj.cast::<PyDelta>() {
            duration_text(td, path).map(Value::String)
        } else {
            Err(wrong(
                "a JSON-like value (dict, list, str, int, float, bool, None, datetime or timedelta)",
            ))
        }
    }
}

/// The items of a list (copied with `PyList_AsTuple`, so that nothing can change them while
/// they are read, whatever a subclass's `__iter__` does) or a tuple; `None` for anything else.
fn snapshot<'py>(obj: &Bound<'py, PyAny>) -> Option<Bound<'py, PyTuple>> {
    if let Ok(list) = obj.cast::<PyList>() {
        Some(list.to_tuple())
    } else {
        obj.cast::<PyTuple>().ok().cloned()
    }
}

/// Text given for a request or calendar: `str`, or UTF-8 `bytes`.
pub(crate) fn as_text(obj: &Bound<'_, PyAny>, path: &Path) -> Option<Result<String, Problem>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Some(text(s, path));
    }
    let bytes: Option<Vec<u8>> = if let Ok(b) = obj.cast::<PyBytes>() {
        Some(b.as_bytes().to_vec())
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        Some(b.to_vec())
    } else {
        None
    };
    bytes.map(|b| {
        String::from_utf8(b)
            .map_err(|_| Problem::input(path.to_string(), "the text is not valid UTF-8"))
    })
}

/// The time of a check: an aware `datetime` or RFC 3339 text.
pub(crate) fn instant(
    obj: &Bound<'_, PyAny>,
    name: &str,
) -> Result<DateTime<FixedOffset>, Problem> {
    let path = Path::Root(name);
    let Value::String(s) = to_json(obj, Shape::Instant, &path)? else {
        return Err(Problem::input(
            name,
            "expected an aware datetime or RFC 3339 string",
        ));
    };
    changegate::time::parse_instant(&s).map_err(|e| Problem::input(name, e.to_string()))
}

/// JSON to Python objects: dict, list, str, int, float, bool, None; under a panic guard, and
/// at most [`MAX_OUTPUT_DEPTH`] levels deep (deeper is an `InternalError`, never a stack
/// overflow).
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    guard_py(py, || to_py_at(py, value, 0))
}

fn to_py_at<'py>(py: Python<'py>, value: &Value, depth: usize) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_OUTPUT_DEPTH {
        return Err(Problem::internal(format!(
            "an answer nested more than {MAX_OUTPUT_DEPTH} levels deep"
        ))
        .into_pyerr(py));
    }
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py_at(py, item, depth + 1)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => dict_at(py, map, depth)?.into_any(),
    })
}

/// A JSON object as a Python dict, keys in order.
pub(crate) fn dict<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    guard_py(py, || dict_at(py, map, 0))
}

fn dict_at<'py>(
    py: Python<'py>,
    map: &Map<String, Value>,
    depth: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(k, to_py_at(py, v, depth + 1)?)?;
    }
    Ok(dict)
}

/// A Python `datetime` holds years 1 to 9999 only.
pub(crate) fn fits_python<Tz: TimeZone>(t: &DateTime<Tz>) -> bool {
    (1..=9999).contains(&t.naive_local().year())
}

/// An instant as an aware `datetime` with a fixed offset (`datetime.timezone`), the same local
/// time and offset the JSON text shows; to the microsecond. Callers check [`fits_python`] first.
pub(crate) fn datetime<'py, Tz: TimeZone>(
    py: Python<'py>,
    t: &DateTime<Tz>,
) -> PyResult<Bound<'py, PyDateTime>> {
    let local = t.naive_local();
    let offset = t.offset().fix().local_minus_utc();
    let tzinfo = if offset == 0 {
        PyTzInfo::utc(py)?.to_owned()
    } else {
        PyTzInfo::fixed_offset(py, PyDelta::new(py, 0, offset, 0, true)?)?
    };
    // A leap second (`:60`) is carried in the nanoseconds; Python has no such second.
    let micros = (local.nanosecond() / 1_000).min(999_999);
    let narrow = |v: u32| u8::try_from(v).unwrap_or(u8::MAX);
    PyDateTime::new(
        py,
        local.year(),
        narrow(local.month()),
        narrow(local.day()),
        narrow(local.hour()),
        narrow(local.minute()),
        narrow(local.second()),
        micros,
        Some(&tzinfo),
    )
}
