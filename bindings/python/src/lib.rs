//! Python bindings for changegate: `import changegate`.
//!
//! A thin face over the core crate, like the CLI: inputs (dicts, aware datetimes, JSON/YAML
//! text) are read by the core's own reader, checks run in Rust with the GIL released, and a
//! decision's `to_dict()` is the same JSON the CLI prints. `PolicySet`, `Calendar` and
//! `ChangeRequest` are immutable and shared between threads as they are (the core types are
//! `Send + Sync` and cheap to clone).

mod convert;
mod errors;
mod windows;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use changegate::{Calendar, ChangeRequest, Decision, Finding, PolicySet};
use chrono::{DateTime, FixedOffset, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::convert::{Path, Shape};
use crate::errors::{
    ChangegateError, InvalidInputError, InvalidPolicyError, Problem, guard, init_exception_defaults,
};
use crate::windows::{Count, Horizon};

/// Raises a [`Problem`] as its Python exception.
trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Problem> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|p| p.into_pyerr(py))
    }
}

/// Python's `repr` of a string (quotes and escapes), for `__repr__`s.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn read_file(path: &std::path::Path) -> Result<String, Problem> {
    std::fs::read_to_string(path).map_err(|e| Problem {
        kind: errors::Kind::Input,
        file: Some(path.display().to_string()),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read: {e}"),
    })
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// A change request, read and validated once (reuse it to check it many times).
///
/// Build one with `ChangeRequest.from_dict`, `ChangeRequest.from_text` or `ChangeRequest.load`;
/// the checks also take a dict or text directly.
#[pyclass(frozen, eq, module = "changegate", name = "ChangeRequest")]
#[derive(PartialEq)]
pub(crate) struct PyChangeRequest {
    pub(crate) inner: ChangeRequest,
}

/// A request argument: a parsed `ChangeRequest`, or one read from a dict or text just now.
enum RequestArg<'py> {
    Parsed(Bound<'py, PyChangeRequest>),
    Read(Box<ChangeRequest>),
}

impl RequestArg<'_> {
    fn get(&self) -> &ChangeRequest {
        match self {
            RequestArg::Parsed(r) => &r.get().inner,
            RequestArg::Read(r) => r,
        }
    }
}

/// Reads a request from a dict (its field paths start with `name`).
fn request_from_dict(obj: &Bound<'_, PyAny>, name: &str) -> Result<ChangeRequest, Problem> {
    let value = convert::to_json(obj, Shape::Request, &Path::Root(name))?;
    let text = serde_json::to_string(&value).map_err(|e| Problem::input(name, e.to_string()))?;
    guard(|| {
        ChangeRequest::from_yaml(&text, &format!("<{name}>"))
            .map_err(|e| Problem::from_generated(e, name))
    })
}

fn request_from_text(text: &str, origin: &str) -> Result<ChangeRequest, Problem> {
    guard(|| ChangeRequest::from_yaml(text, origin).map_err(Problem::from_input))
}

fn request_arg<'py>(obj: &Bound<'py, PyAny>, name: &str) -> Result<RequestArg<'py>, Problem> {
    if let Ok(r) = obj.cast::<PyChangeRequest>() {
        return Ok(RequestArg::Parsed(r.clone()));
    }
    if let Some(text) = convert::as_text(obj, &Path::Root(name)) {
        return request_from_text(&text?, &format!("<{name}>"))
            .map(|r| RequestArg::Read(Box::new(r)));
    }
    if obj.is_instance_of::<PyDict>() {
        return request_from_dict(obj, name).map(|r| RequestArg::Read(Box::new(r)));
    }
    Err(Problem::input(
        name,
        format!(
            "expected a dict, JSON/YAML text or a ChangeRequest, got {}",
            convert::type_name(obj)
        ),
    ))
}

#[pymethods]
impl PyChangeRequest {
    /// Reads a request from a dict: datetimes must be aware, durations may be timedeltas.
    #[staticmethod]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !data.is_instance_of::<PyDict>() {
            return Err(Problem::input(
                "request",
                format!("expected a dict, got {}", convert::type_name(data)),
            )
            .into_pyerr(py));
        }
        let inner = request_from_dict(data, "request").or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a request from YAML or JSON text; `origin` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<request>"))]
    fn from_text(py: Python<'_>, text: &str, origin: &str) -> PyResult<Self> {
        let inner = request_from_text(text, origin).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a request file (YAML or JSON).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let text = read_file(&path).or_raise(py)?;
        let inner = request_from_text(&text, &path.display().to_string()).or_raise(py)?;
        Ok(Self { inner })
    }

    /// The request's identifier.
    #[getter]
    fn id(&self) -> &str {
        self.inner.id.as_str()
    }

    /// The services the change touches.
    #[getter]
    fn services<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.inner.services)
    }

    /// The target environment.
    #[getter]
    fn environment(&self) -> &str {
        &self.inner.environment
    }

    /// The change type (`feature`, `hotfix`, `emergency`, ...).
    #[getter]
    fn r#type(&self) -> &str {
        &self.inner.change_type
    }

    /// The request as a dict of JSON values (times as RFC 3339 text, durations as `2h30m`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(&self.inner).unwrap_or(serde_json::Value::Null);
        convert::to_py(py, &value)
    }

    fn __repr__(&self) -> String {
        let r = &self.inner;
        format!(
            "ChangeRequest(id={}, services=[{}], environment={}, type={}, start={}, end={})",
            quoted(r.id.as_str()),
            r.services
                .iter()
                .map(|s| quoted(s))
                .collect::<Vec<_>>()
                .join(", "),
            quoted(&r.environment),
            quoted(&r.change_type),
            quoted(&r.start.to_rfc3339()),
            quoted(&r.end().to_rfc3339()),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Calendars.

/// Deployments already scheduled and one-off blackouts, indexed once; share it between checks
/// and threads.
#[pyclass(frozen, module = "changegate", name = "Calendar")]
pub(crate) struct PyCalendar {
    inner: Calendar,
}

fn calendar_from_value(py: Python<'_>, value: serde_json::Value) -> Result<Calendar, Problem> {
    let text =
        serde_json::to_string(&value).map_err(|e| Problem::input("calendar", e.to_string()))?;
    py.detach(|| {
        guard(|| {
            Calendar::from_yaml(&text, "<calendar>")
                .map_err(|e| Problem::from_generated(e, "calendar"))
        })
    })
}

fn calendar_from_text(py: Python<'_>, text: &str, origin: &str) -> Result<Calendar, Problem> {
    py.detach(|| guard(|| Calendar::from_yaml(text, origin).map_err(Problem::from_input)))
}

#[pymethods]
impl PyCalendar {
    /// `Calendar()` is empty; `Calendar(deployments=[...], blackouts=[...])` is
    /// `Calendar.from_dict({"deployments": [...], "blackouts": [...]})`.
    #[new]
    #[pyo3(signature = (deployments = None, blackouts = None))]
    fn new(
        py: Python<'_>,
        deployments: Option<&Bound<'_, PyAny>>,
        blackouts: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if deployments.is_none() && blackouts.is_none() {
            return Ok(Self {
                inner: Calendar::default(),
            });
        }
        let root = Path::Root("calendar");
        let mut map = serde_json::Map::new();
        if let Some(d) = deployments {
            let v = convert::to_json(d, Shape::Requests, &Path::Key(&root, "deployments"))
                .or_raise(py)?;
            map.insert("deployments".to_owned(), v);
        }
        if let Some(b) = blackouts {
            let v = convert::to_json(b, Shape::Blackouts, &Path::Key(&root, "blackouts"))
                .or_raise(py)?;
            map.insert("blackouts".to_owned(), v);
        }
        let inner = calendar_from_value(py, serde_json::Value::Object(map)).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a calendar from a dict with `deployments` (requests) and optional `blackouts`.
    #[staticmethod]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value =
            convert::to_json(data, Shape::Calendar, &Path::Root("calendar")).or_raise(py)?;
        let inner = calendar_from_value(py, value).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a calendar from YAML or JSON text; `origin` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<calendar>"))]
    fn from_text(py: Python<'_>, text: &str, origin: &str) -> PyResult<Self> {
        let inner = calendar_from_text(py, text, origin).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a calendar file (YAML or JSON).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let text = read_file(&path).or_raise(py)?;
        let inner = calendar_from_text(py, &text, &path.display().to_string()).or_raise(py)?;
        Ok(Self { inner })
    }

    /// The ids of the scheduled deployments, in the order given.
    #[getter]
    fn deployment_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.deployments().iter().map(|d| d.id.as_str()))
    }

    /// The names of the one-off blackouts, in the order given.
    #[getter]
    fn blackout_names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.blackouts().iter().map(|b| b.name.as_str()))
    }

    /// The number of scheduled deployments.
    fn __len__(&self) -> usize {
        self.inner.deployments().len()
    }

    /// Whether a deployment with this id is scheduled.
    fn __contains__(&self, id: &Bound<'_, PyAny>) -> bool {
        id.extract::<String>()
            .is_ok_and(|id| self.inner.get(&id).is_some())
    }

    fn __repr__(&self) -> String {
        format!(
            "Calendar(deployments={}, blackouts={})",
            self.inner.deployments().len(),
            self.inner.blackouts().len()
        )
    }
}

fn calendar_arg(obj: Option<&Bound<'_, PyAny>>) -> Result<Calendar, Problem> {
    match obj {
        None => Ok(Calendar::default()),
        Some(o) if o.is_none() => Ok(Calendar::default()),
        Some(o) => match o.cast::<PyCalendar>() {
            Ok(c) => Ok(c.get().inner.clone()),
            Err(_) => Err(Problem::input(
                "calendar",
                format!(
                    "expected a Calendar (build one once with Calendar.from_dict, \
                     Calendar.from_text or Calendar.load), got {}",
                    convert::type_name(o)
                ),
            )),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Decisions.

/// One thing a rule found. Immutable.
#[pyclass(frozen, eq, module = "changegate", name = "Finding")]
#[derive(PartialEq)]
pub(crate) struct PyFinding {
    inner: Finding,
}

#[pymethods]
impl PyFinding {
    /// The rule's id: a built-in one (`blackout`, `conflict`, ...) or one a script names.
    #[getter]
    fn rule(&self) -> &str {
        self.inner.rule.as_str()
    }

    /// `"warn"` or `"deny"`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.as_str()
    }

    /// A sentence for people.
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }

    /// Where the rule is written, `file:line`, if known.
    #[getter]
    fn source(&self) -> Option<&str> {
        self.inner.source.as_deref()
    }

    /// Machine-readable facts (a new dict on each access).
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        convert::dict(py, &self.inner.details)
    }

    /// The finding as in the decision's JSON.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(&self.inner).unwrap_or(serde_json::Value::Null);
        convert::to_py(py, &value)
    }

    fn __repr__(&self) -> String {
        format!(
            "Finding(rule={}, severity={}, message={})",
            quoted(self.inner.rule.as_str()),
            quoted(self.inner.severity.as_str()),
            quoted(&self.inner.message)
        )
    }
}

/// The answer to a check: whether the change may proceed, and every finding behind it.
/// Immutable; `to_dict()` equals the CLI's `--format json` output.
#[pyclass(frozen, eq, module = "changegate", name = "Decision")]
#[derive(PartialEq)]
pub(crate) struct PyDecision {
    inner: Decision,
}

fn findings_tuple<'py, 'a>(
    py: Python<'py>,
    findings: impl Iterator<Item = &'a Finding>,
) -> PyResult<Bound<'py, PyTuple>> {
    let items = findings
        .map(|f| Bound::new(py, PyFinding { inner: f.clone() }))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

#[pymethods]
impl PyDecision {
    /// `outcome != "deny"`.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }

    /// The worst finding: `"allow"` (none), `"warn"` or `"deny"`.
    #[getter]
    fn outcome(&self) -> &'static str {
        self.inner.outcome.as_str()
    }

    /// Every finding: built-in rules first, then scripts.
    #[getter]
    fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        findings_tuple(py, self.inner.findings.iter())
    }

    /// The digest of the policy bundle that decided.
    #[getter]
    fn policy_digest(&self) -> &str {
        &self.inner.policy.digest
    }

    /// What scripts printed with `print` or `debug`, in order.
    #[getter]
    fn trace<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.inner.trace)
    }

    /// The findings of one rule.
    fn findings_for<'py>(&self, py: Python<'py>, rule: &str) -> PyResult<Bound<'py, PyTuple>> {
        findings_tuple(py, self.inner.findings_for(rule))
    }

    /// The decision as the JSON every face shares (equal to the CLI's `--format json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner.to_json())
    }

    fn __repr__(&self) -> String {
        let rules: Vec<String> = self
            .inner
            .findings
            .iter()
            .map(|f| format!("{}:{}", f.severity.as_str(), f.rule))
            .collect();
        format!(
            "Decision(outcome={}, allowed={}, findings=[{}])",
            quoted(self.inner.outcome.as_str()),
            if self.inner.allowed { "True" } else { "False" },
            rules.join(", ")
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Policies.

/// A loaded policy bundle (`policy.yaml` plus compiled scripts): load once, check many times,
/// share between threads. Immutable.
#[pyclass(frozen, module = "changegate", name = "PolicySet")]
pub(crate) struct PyPolicySet {
    inner: PolicySet,
}

fn load_policy(
    py: Python<'_>,
    f: impl FnOnce() -> Result<PolicySet, changegate::LoadError> + Send,
) -> PyResult<PyPolicySet> {
    let inner = py
        .detach(|| guard(|| f().map_err(Problem::from_load)))
        .or_raise(py)?;
    Ok(PyPolicySet { inner })
}

fn now_arg(obj: &Bound<'_, PyAny>) -> Result<DateTime<Utc>, Problem> {
    convert::instant(obj, "now").map(|t: DateTime<FixedOffset>| t.with_timezone(&Utc))
}

#[pymethods]
impl PyPolicySet {
    /// The default bundle shipped with changegate (the repository's `policies/`).
    #[staticmethod]
    fn builtin(py: Python<'_>) -> PyResult<Self> {
        load_policy(py, PolicySet::builtin)
    }

    /// Loads the bundle in a directory: `policy.yaml` and every `*.rhai` file beside it.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        load_policy(py, move || PolicySet::load(&path))
    }

    /// Loads a bundle from `{file name: text}`, one of them `policy.yaml`; `label` (a
    /// directory name) prefixes the file names in errors and findings.
    #[staticmethod]
    #[pyo3(signature = (files, label = ""))]
    fn from_files(py: Python<'_>, files: BTreeMap<String, String>, label: &str) -> PyResult<Self> {
        let label = label.to_owned();
        load_policy(py, move || PolicySet::from_sources(&label, files))
    }

    /// `sha256:` and the hex digest of the bundle's file names and contents.
    #[getter]
    fn digest(&self) -> &str {
        self.inner.digest()
    }

    /// The IANA name of the bundle's time zone, e.g. `Europe/Berlin`.
    #[getter]
    fn timezone(&self) -> &'static str {
        self.inner.timezone().name()
    }

    /// The environments the policy knows, sorted.
    #[getter]
    fn environments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.environments().collect::<Vec<_>>())
    }

    /// The bundle's files, as named in findings.
    #[getter]
    fn files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.files())
    }

    /// Decides whether `request` may run when it asks to, given what is already in `calendar`.
    ///
    /// `request` is a dict, JSON/YAML text or a `ChangeRequest`; `now` (an aware datetime or
    /// RFC 3339 text) is the time of the check. The GIL is released while the rules run.
    #[pyo3(signature = (request, *, calendar = None, now))]
    fn check_schedule(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        calendar: Option<&Bound<'_, PyAny>>,
        now: &Bound<'_, PyAny>,
    ) -> PyResult<PyDecision> {
        let request = request_arg(request, "request").or_raise(py)?;
        let calendar = calendar_arg(calendar).or_raise(py)?;
        let now = now_arg(now).or_raise(py)?;
        let request = request.get();
        let policy = &self.inner;
        let inner = py
            .detach(|| guard(|| Ok(policy.check_schedule(request, &calendar, now))))
            .or_raise(py)?;
        Ok(PyDecision { inner })
    }

    /// Checks many requests against one calendar in one call (one crossing into Rust, the GIL
    /// released once); returns the decisions in order.
    #[pyo3(signature = (requests, *, calendar = None, now))]
    fn check_schedule_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
        calendar: Option<&Bound<'py, PyAny>>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        if convert::as_text(requests, &Path::Root("requests")).is_some()
            || requests.is_instance_of::<PyDict>()
        {
            return Err(Problem::input(
                "requests",
                format!(
                    "expected a list of requests, got {}",
                    convert::type_name(requests)
                ),
            )
            .into_pyerr(py));
        }
        let iter = requests.try_iter().map_err(|_| {
            Problem::input(
                "requests",
                format!(
                    "expected a list of requests, got {}",
                    convert::type_name(requests)
                ),
            )
            .into_pyerr(py)
        })?;
        let mut args = Vec::new();
        for (i, item) in iter.enumerate() {
            let item = item?;
            args.push(request_arg(&item, &format!("requests[{i}]")).or_raise(py)?);
        }
        let calendar = calendar_arg(calendar).or_raise(py)?;
        let now = now_arg(now).or_raise(py)?;
        let refs: Vec<&ChangeRequest> = args.iter().map(RequestArg::get).collect();
        let policy = &self.inner;
        let decisions = py
            .detach(|| {
                guard(|| Ok(policy.check_schedule_many(refs.iter().copied(), &calendar, now)))
            })
            .or_raise(py)?;
        let list = PyList::empty(py);
        for inner in decisions {
            list.append(Bound::new(py, PyDecision { inner })?)?;
        }
        Ok(list)
    }

    /// When can `request` run? The earliest `count` start times at which the whole request
    /// (its duration, services, environment and type; not its start) would be allowed by every
    /// rule, built-in and scripted, searching from `now` for `horizon` (a timedelta or text
    /// such as `90d`, at most 100 years); and, for the start times in between, which rules
    /// block them. The GIL is released while it searches.
    #[pyo3(signature = (request, *, calendar = None, now, count = Count(3), horizon = Horizon::DEFAULT))]
    #[pyo3(text_signature = "($self, request, *, calendar=None, now, count=3, horizon='90d')")]
    fn next_windows(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        calendar: Option<&Bound<'_, PyAny>>,
        now: &Bound<'_, PyAny>,
        count: Count,
        horizon: Horizon,
    ) -> PyResult<windows::PyNextWindows> {
        let request = request_arg(request, "request").or_raise(py)?;
        let calendar = calendar_arg(calendar).or_raise(py)?;
        let now = now_arg(now).or_raise(py)?;
        windows::next_windows(
            py,
            &self.inner,
            request.get(),
            &calendar,
            now,
            count,
            horizon,
        )
    }

    /// The next `count` occurrences of every blackout and preferred window, per environment,
    /// from `from_` (an aware datetime or RFC 3339 text), marked where a DST change moved or
    /// split one. The GIL is released while it runs.
    #[pyo3(signature = (*, from_, count = Count(5)))]
    #[pyo3(text_signature = "($self, *, from_, count=5)")]
    fn preview(
        &self,
        py: Python<'_>,
        from_: &Bound<'_, PyAny>,
        count: Count,
    ) -> PyResult<windows::PyPreview> {
        let from = convert::instant(from_, "from_")
            .map(|t| t.with_timezone(&Utc))
            .or_raise(py)?;
        windows::preview(py, &self.inner, from, count)
    }

    /// For benchmarks: reads the inputs once, then runs the check `n` times inside Rust (GIL
    /// released) and returns the elapsed seconds, the cost of the Rust API without Python.
    #[pyo3(signature = (request, calendar, now, n))]
    fn _check_repeat(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        calendar: Option<&Bound<'_, PyAny>>,
        now: &Bound<'_, PyAny>,
        n: usize,
    ) -> PyResult<f64> {
        let request = request_arg(request, "request").or_raise(py)?;
        let calendar = calendar_arg(calendar).or_raise(py)?;
        let now = now_arg(now).or_raise(py)?;
        let request = request.get();
        let policy = &self.inner;
        py.detach(|| {
            guard(|| {
                let started = Instant::now();
                for _ in 0..n {
                    std::hint::black_box(policy.check_schedule(
                        std::hint::black_box(request),
                        &calendar,
                        now,
                    ));
                }
                Ok(started.elapsed().as_secs_f64())
            })
        })
        .or_raise(py)
    }

    fn __repr__(&self) -> String {
        let digest = self.inner.digest();
        let short = digest.get(..19).unwrap_or(digest);
        format!(
            "PolicySet(digest={}, timezone={}, environments=[{}])",
            quoted(&format!("{short}...")),
            quoted(self.inner.timezone().name()),
            self.inner
                .environments()
                .map(quoted)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The compiled part of the `changegate` package.
#[pymodule]
fn _changegate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyPolicySet>()?;
    m.add_class::<PyCalendar>()?;
    m.add_class::<PyChangeRequest>()?;
    m.add_class::<PyDecision>()?;
    m.add_class::<PyFinding>()?;
    m.add_class::<windows::PyNextWindows>()?;
    m.add_class::<windows::PyAllowedWindow>()?;
    m.add_class::<windows::PyBlockedStretch>()?;
    m.add_class::<windows::PyPreview>()?;
    m.add_class::<windows::PyWindowPreview>()?;
    m.add_class::<windows::PyOccurrencePreview>()?;
    m.add("MAX_CONFIRMATIONS", changegate::MAX_CONFIRMATIONS)?;
    m.add("ChangegateError", py.get_type::<ChangegateError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("InvalidPolicyError", py.get_type::<InvalidPolicyError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    init_exception_defaults(py)
}
