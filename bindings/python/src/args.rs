//! One extractor per kind of argument, shared by every method: `request`, `calendar`, an
//! instant (`now`, `from_`), `count`, `horizon`, the evidence `validation` and `history`. Each reads the Python value the way every
//! method documents it and raises `InvalidInputError` naming the argument.

use std::sync::Arc;

use changegate::{Calendar, ChangeRequest, History, PolicySet, RiskEvidence, ValidationResults};
use chrono::{DateTime, TimeDelta, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDelta, PyDeltaAccess, PyDict, PyInt, PyList, PyString, PyTuple};

use crate::convert::{self, Path};
use crate::errors::{Problem, guard, guard_py};
use crate::inputs::{self, PyCalendar, PyChangeRequest, PyHistory, PyValidationResults};

/// Reads a request argument named `name` (`request`, `requests[3]`): a `ChangeRequest` (shared,
/// not copied), a dict, or JSON/YAML text (`str` or UTF-8 `bytes`).
pub(crate) fn request(obj: &Bound<'_, PyAny>, name: &str) -> Result<Arc<ChangeRequest>, Problem> {
    if let Ok(r) = obj.cast::<PyChangeRequest>() {
        return Ok(Arc::clone(&r.get().inner));
    }
    if let Some(text) = convert::as_text(obj, &Path::Root(name)) {
        return inputs::request_from_text(&text?, &format!("<{name}>")).map(Arc::new);
    }
    if obj.is_instance_of::<PyDict>() {
        return inputs::request_from_dict(obj, name).map(Arc::new);
    }
    Err(Problem::input(
        name,
        format!(
            "expected a dict, JSON/YAML text or a ChangeRequest, got {}",
            convert::type_name(obj)
        ),
    ))
}

/// `request`: see [`request`].
pub(crate) struct RequestArg(pub(crate) Arc<ChangeRequest>);

impl<'a, 'py> FromPyObject<'a, 'py> for RequestArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        guard_py(py, || {
            request(&obj, "request")
                .map(RequestArg)
                .map_err(|p| p.into_pyerr(py))
        })
    }
}

/// `calendar`: a `Calendar` (a parameter `Option<CalendarArg>` also takes `None`, the empty
/// calendar), with the environments it names.
pub(crate) struct CalendarArg(pub(crate) Calendar, Arc<[String]>);

impl CalendarArg {
    /// The calendar given, or the empty one, checked against `policy`: an environment the
    /// policy does not know is an input error naming the field under `calendar`, with the
    /// core's message ([`PolicySet::check_calendar`]). The common case compares the few
    /// environments the calendar names, collected when it was built; only an unknown one
    /// walks the calendar, to name the first entry that names it.
    pub(crate) fn checked(
        arg: Option<CalendarArg>,
        policy: &PolicySet,
    ) -> Result<Calendar, Problem> {
        let Some(CalendarArg(calendar, named)) = arg else {
            return Ok(Calendar::default());
        };
        if named.iter().all(|e| policy.environments().any(|k| k == e)) {
            return Ok(calendar);
        }
        guard(|| {
            policy
                .check_calendar(&calendar)
                .map_err(|e| Problem::from_generated(e, "calendar"))
        })?;
        Ok(calendar)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for CalendarArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.cast::<PyCalendar>() {
            // Cheap: a calendar's indexes are shared.
            Ok(c) => {
                let c = c.get();
                Ok(CalendarArg(c.inner.clone(), Arc::clone(&c.environments)))
            }
            Err(_) => Err(Problem::input(
                "calendar",
                format!(
                    "expected a Calendar (build one once with Calendar.from_dict, \
                     Calendar.from_text or Calendar.load), got {}",
                    convert::type_name(&obj)
                ),
            )
            .into_pyerr(obj.py())),
        }
    }
}

/// An instant argument: an aware `datetime` or RFC 3339 text, named in errors as `$name`.
macro_rules! instant_arg {
    ($(#[$meta:meta])* $ty:ident, $name:literal) => {
        $(#[$meta])*
        pub(crate) struct $ty(pub(crate) DateTime<Utc>);

        impl<'a, 'py> FromPyObject<'a, 'py> for $ty {
            type Error = PyErr;

            fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                let py = obj.py();
                guard_py(py, || {
                    convert::instant(&obj, $name)
                        .map(|t| $ty(t.with_timezone(&Utc)))
                        .map_err(|p| p.into_pyerr(py))
                })
            }
        }
    };
}

instant_arg!(
    /// `now`: the time of a check, or where a search starts.
    Now,
    "now"
);
instant_arg!(
    /// `from_`: where a preview starts.
    FromArg,
    "from_"
);

/// `count`: an `int` (not a `bool`); the smallest allowed value is checked by each method.
pub(crate) struct Count(pub(crate) usize);

impl<'a, 'py> FromPyObject<'a, 'py> for Count {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        guard_py(obj.py(), || Count::read(obj))
    }
}

impl Count {
    fn read(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
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

/// The longest horizon, as the CLI's `--horizon` (and the core's duration reader) allows.
const MAX_HORIZON_DAYS: i64 = 36_600;

/// `horizon`: a `timedelta` or duration text such as `90d` or `2w`, positive and at most 100
/// years, as the CLI's `--horizon`.
pub(crate) struct Horizon(pub(crate) TimeDelta);

impl Horizon {
    pub(crate) const DEFAULT: Horizon = Horizon(TimeDelta::days(90));
}

impl<'a, 'py> FromPyObject<'a, 'py> for Horizon {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        guard_py(obj.py(), || Horizon::read(obj))
    }
}

impl Horizon {
    fn read(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
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

/// `validation`: a `ValidationResults` (shared, not copied), a list of dicts, or JSON/YAML text.
pub(crate) struct ValidationArg(pub(crate) ValidationResults);

impl<'a, 'py> FromPyObject<'a, 'py> for ValidationArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        guard_py(py, || {
            if let Ok(v) = obj.cast::<PyValidationResults>() {
                return Ok(ValidationArg(v.get().inner.clone()));
            }
            let read = if let Some(text) = convert::as_text(&obj, &Path::Root("validation")) {
                text.and_then(|t| inputs::validation_from_text(py, &t, "<validation>"))
            } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
                inputs::validation_from_list(py, &obj)
            } else {
                Err(Problem::input(
                    "validation",
                    format!(
                        "expected a ValidationResults, a list of dicts or JSON/YAML text, got {}",
                        convert::type_name(&obj)
                    ),
                ))
            };
            read.map(ValidationArg).map_err(|p| p.into_pyerr(py))
        })
    }
}

/// `history`: a `History` (shared, not copied), a dict `{"changes": [...]}`, or JSON/YAML text.
pub(crate) struct HistoryArg(pub(crate) History);

impl<'a, 'py> FromPyObject<'a, 'py> for HistoryArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        guard_py(py, || {
            if let Ok(h) = obj.cast::<PyHistory>() {
                return Ok(HistoryArg(h.get().inner.clone()));
            }
            let read = if let Some(text) = convert::as_text(&obj, &Path::Root("history")) {
                text.and_then(|t| inputs::history_from_text(py, &t, "<history>"))
            } else if obj.is_instance_of::<PyDict>() {
                inputs::history_from_dict(py, &obj)
            } else {
                Err(Problem::input(
                    "history",
                    format!(
                        "expected a History, a dict {{\"changes\": [...]}} or JSON/YAML text, got {}",
                        convert::type_name(&obj)
                    ),
                ))
            };
            read.map(HistoryArg).map_err(|p| p.into_pyerr(py))
        })
    }
}

/// The evidence of the risk question from the `validation` and `history` arguments (`None`:
/// not given, scored as missing).
pub(crate) fn evidence(
    validation: Option<ValidationArg>,
    history: Option<HistoryArg>,
) -> RiskEvidence {
    RiskEvidence::new(validation.map(|v| v.0), history.map(|h| h.0))
}

/// `approvals`: a list of dicts `{by, decision, at, ...}`, or JSON/YAML text.
pub(crate) struct ApprovalsArg(pub(crate) Vec<changegate::Approval>);

impl<'a, 'py> FromPyObject<'a, 'py> for ApprovalsArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        guard_py(py, || {
            let read = if let Some(text) = convert::as_text(&obj, &Path::Root("approvals")) {
                text.and_then(|t| inputs::approvals_from_text(py, &t, "<approvals>"))
            } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
                inputs::approvals_from_list(py, &obj)
            } else {
                Err(Problem::input(
                    "approvals",
                    format!(
                        "expected a list of dicts or JSON/YAML text, got {}",
                        convert::type_name(&obj)
                    ),
                ))
            };
            read.map(ApprovalsArg).map_err(|p| p.into_pyerr(py))
        })
    }
}

/// `directory`: a dict `{"people": {person: {"roles": [...]}}}`, or JSON/YAML text.
pub(crate) struct DirectoryArg(pub(crate) changegate::Directory);

impl<'a, 'py> FromPyObject<'a, 'py> for DirectoryArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        guard_py(py, || {
            let read = if let Some(text) = convert::as_text(&obj, &Path::Root("directory")) {
                text.and_then(|t| inputs::directory_from_text(py, &t, "<directory>"))
            } else if obj.is_instance_of::<PyDict>() {
                inputs::directory_from_dict(py, &obj)
            } else {
                Err(Problem::input(
                    "directory",
                    format!(
                        "expected a dict {{\"people\": {{...}}}} or JSON/YAML text, got {}",
                        convert::type_name(&obj)
                    ),
                ))
            };
            read.map(DirectoryArg).map_err(|p| p.into_pyerr(py))
        })
    }
}

/// `risk_level`: `"low"`, `"medium"`, `"high"` or `"critical"`.
pub(crate) struct RiskLevelArg(pub(crate) changegate::RiskLevel);

impl<'a, 'py> FromPyObject<'a, 'py> for RiskLevelArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let problem = |message: String| Problem::input("risk_level", message).into_pyerr(py);
        let Ok(s) = obj.cast::<PyString>() else {
            return Err(problem(format!(
                "expected \"low\", \"medium\", \"high\" or \"critical\", got {}",
                convert::type_name(&obj)
            )));
        };
        let s = s
            .to_cow()
            .map_err(|_| problem("the text is not valid Unicode".into()))?;
        changegate::RiskLevel::named(&s)
            .map(RiskLevelArg)
            .ok_or_else(|| {
                problem(format!(
                    "unknown risk level `{s}`: expected low, medium, high or critical"
                ))
            })
    }
}

/// Every piece of evidence a readiness or approvals check reads.
pub(crate) struct EvidenceParts {
    pub(crate) calendar: Calendar,
    pub(crate) validation: Option<ValidationArg>,
    pub(crate) history: Option<HistoryArg>,
    pub(crate) approvals: Option<ApprovalsArg>,
    pub(crate) directory: Option<DirectoryArg>,
    pub(crate) risk_level: Option<RiskLevelArg>,
}

impl EvidenceParts {
    pub(crate) fn evidence(self) -> changegate::Evidence {
        let mut e = changegate::Evidence::new().with_calendar(self.calendar);
        e.validation = self.validation.map(|v| v.0);
        e.history = self.history.map(|h| h.0);
        if let Some(a) = self.approvals {
            e = e.with_approvals(a.0);
        }
        e.directory = self.directory.map(|d| d.0);
        e.risk_level = self.risk_level.map(|l| l.0);
        e
    }
}
