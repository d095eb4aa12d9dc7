//! Python values to and from the JSON the core reads and writes.
//!
//! A request or calendar given as a dict becomes JSON text that the core parses with the same
//! reader as a file, so a dict is validated exactly like the CLI's input. Only what JSON cannot
//! say is handled here: aware `datetime`s become RFC 3339 text, `timedelta`s become `5400s`, and
//! a value of the wrong Python type is reported with its field (`request.start: expected ...`).

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Timelike};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyFloat,
    PyInt, PyList, PyString, PyTuple, PyTzInfo,
};
use serde_json::{Map, Number, Value};

use crate::errors::Problem;

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
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
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
            _ => Shape::Free,
        }
    }

    fn item(self) -> Shape {
        match self {
            Shape::Requests => Shape::Request,
            Shape::Blackouts => Shape::Blackout,
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
    let py_err = |e: PyErr| Problem::input(path.to_string(), e.to_string());
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

/// Converts a Python value to JSON, checking the types of the fields in `shape`.
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, shape: Shape, path: &Path) -> Result<Value, Problem> {
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
        Shape::Request | Shape::Calendar | Shape::Blackout => {
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
        Shape::Requests | Shape::Blackouts => {
            if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
                return Err(wrong("a list"));
            }
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
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(Problem::input(
                    path.to_string(),
                    format!("keys must be strings, got {}", type_name(&k)),
                ));
            };
            let key = text(key, path)?;
            let value = to_json(&v, shape.child(&key), &Path::Key(path, &key))?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, item) in obj
            .try_iter()
            .map_err(|e| Problem::input(path.to_string(), e.to_string()))?
            .enumerate()
        {
            let item = item.map_err(|e| Problem::input(path.to_string(), e.to_string()))?;
            items.push(to_json(&item, shape.item(), &Path::Index(path, i))?);
        }
        Ok(Value::Array(items))
    } else if obj.is_instance_of::<PyDateTime>() {
        instant_text(obj, path).map(Value::String)
    } else if obj.is_instance_of::<PyDate>() {
        obj.call_method0("isoformat")
            .and_then(|s| s.extract::<String>())
            .map(Value::String)
            .map_err(|e| Problem::input(path.to_string(), e.to_string()))
    } else if let Ok(td) = obj.cast::<PyDelta>() {
        duration_text(td, path).map(Value::String)
    } else {
        Err(wrong(
            "a JSON-like value (dict, list, str, int, float, bool, None, datetime or timedelta)",
        ))
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

/// JSON to Python objects: dict, list, str, int, float, bool, None.
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
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
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => dict(py, map)?.into_any(),
    })
}

/// A JSON object as a Python dict, keys in order.
pub(crate) fn dict<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(k, to_py(py, v)?)?;
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
