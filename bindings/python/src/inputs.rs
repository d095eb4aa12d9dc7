//! The inputs Python builds once and passes to many checks: `ChangeRequest`, `Calendar`, and
//! the risk evidence `ValidationResults` and `History`.

use std::path::PathBuf;
use std::sync::Arc;

use changegate::{Calendar, ChangeRequest, History, ValidationResults};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::OrRaise;
use crate::answer::quoted;
use crate::convert::{self, Path, Shape};
use crate::errors::{self, Problem, guard};

/// Reads a file as text; an unreadable file is an input error naming it.
pub(crate) fn read_file(path: &std::path::Path) -> Result<String, Problem> {
    std::fs::read_to_string(path).map_err(|e| Problem {
        kind: errors::Kind::Input,
        file: Some(path.display().to_string()),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read: {e}"),
        raised: None,
    })
}

/// A change request, read and validated once (reuse it to check it many times).
///
/// Build one with `ChangeRequest.from_dict`, `ChangeRequest.from_text` or `ChangeRequest.load`;
/// the checks also take a dict or text directly.
#[pyclass(frozen, eq, module = "changegate", name = "ChangeRequest")]
#[derive(PartialEq)]
pub(crate) struct PyChangeRequest {
    /// Shared with the answers about it (their text forms name it).
    pub(crate) inner: Arc<ChangeRequest>,
}

/// Reads a request from a dict (its field paths start with `name`).
pub(crate) fn request_from_dict(
    obj: &Bound<'_, PyAny>,
    name: &str,
) -> Result<ChangeRequest, Problem> {
    let value = convert::to_json(obj, Shape::Request, &Path::Root(name))?;
    let text = serde_json::to_string(&value).map_err(|e| Problem::input(name, e.to_string()))?;
    guard(|| {
        ChangeRequest::from_yaml(&text, &format!("<{name}>"))
            .map_err(|e| Problem::from_generated(e, name))
    })
}

pub(crate) fn request_from_text(text: &str, origin: &str) -> Result<ChangeRequest, Problem> {
    guard(|| ChangeRequest::from_yaml(text, origin).map_err(Problem::from_input))
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
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Reads a request from YAML or JSON text; `origin` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<request>"))]
    fn from_text(py: Python<'_>, text: &str, origin: &str) -> PyResult<Self> {
        let inner = request_from_text(text, origin).or_raise(py)?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Reads a request file (YAML or JSON).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let text = read_file(&path).or_raise(py)?;
        let inner = request_from_text(&text, &path.display().to_string()).or_raise(py)?;
        Ok(Self {
            inner: Arc::new(inner),
        })
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
        let value = serde_json::to_value(&*self.inner).unwrap_or(serde_json::Value::Null);
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

/// Deployments already scheduled and one-off blackouts, indexed once; share it between checks
/// and threads.
///
/// Every check that takes a calendar checks it against its policy first: a deployment or
/// blackout naming an environment the policy does not know raises `InvalidInputError` naming
/// the field (`calendar.deployments[3].environment`), with a "did you mean".
#[pyclass(frozen, module = "changegate", name = "Calendar")]
pub(crate) struct PyCalendar {
    pub(crate) inner: Calendar,
    /// Every environment the calendar names, each once (collected when it is built, so that
    /// checking it against a policy costs the number of environments, not of deployments).
    pub(crate) environments: Arc<[String]>,
}

impl PyCalendar {
    fn of(inner: Calendar) -> Self {
        let mut named = std::collections::BTreeSet::new();
        for d in inner.deployments() {
            named.insert(d.environment.as_str());
        }
        for b in inner.blackouts() {
            named.extend(b.environments.iter().flatten().map(String::as_str));
        }
        let environments = named.into_iter().map(str::to_owned).collect();
        Self {
            inner,
            environments,
        }
    }
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
            return Ok(Self::of(Calendar::default()));
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
        Ok(Self::of(inner))
    }

    /// Reads a calendar from a dict with `deployments` (requests) and optional `blackouts`.
    #[staticmethod]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value =
            convert::to_json(data, Shape::Calendar, &Path::Root("calendar")).or_raise(py)?;
        let inner = calendar_from_value(py, value).or_raise(py)?;
        Ok(Self::of(inner))
    }

    /// Reads a calendar from YAML or JSON text; `origin` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<calendar>"))]
    fn from_text(py: Python<'_>, text: &str, origin: &str) -> PyResult<Self> {
        let inner = calendar_from_text(py, text, origin).or_raise(py)?;
        Ok(Self::of(inner))
    }

    /// Reads a calendar file (YAML or JSON).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let text = read_file(&path).or_raise(py)?;
        let inner = calendar_from_text(py, &text, &path.display().to_string()).or_raise(py)?;
        Ok(Self::of(inner))
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

/// Reads evidence of `shape` from a Python value: its field paths start with `name`.
fn evidence_value(obj: &Bound<'_, PyAny>, shape: Shape, name: &str) -> Result<String, Problem> {
    let value = convert::to_json(obj, shape, &Path::Root(name))?;
    serde_json::to_string(&value).map_err(|e| Problem::input(name, e.to_string()))
}

/// Validation results from a list of dicts (field paths start with `validation`).
pub(crate) fn validation_from_list(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
) -> Result<ValidationResults, Problem> {
    let text = evidence_value(obj, Shape::Validation, "validation")?;
    py.detach(|| {
        guard(|| {
            ValidationResults::from_yaml(&text, "<validation>")
                .map_err(|e| Problem::from_generated(e, "validation"))
        })
    })
}

pub(crate) fn validation_from_text(
    py: Python<'_>,
    text: &str,
    origin: &str,
) -> Result<ValidationResults, Problem> {
    py.detach(|| guard(|| ValidationResults::from_yaml(text, origin).map_err(Problem::from_input)))
}

/// A history from a dict `{"changes": [...]}` (field paths start with `history`).
pub(crate) fn history_from_dict(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
) -> Result<History, Problem> {
    let text = evidence_value(obj, Shape::History, "history")?;
    py.detach(|| {
        guard(|| {
            History::from_yaml(&text, "<history>")
                .map_err(|e| Problem::from_generated(e, "history"))
        })
    })
}

pub(crate) fn history_from_text(
    py: Python<'_>,
    text: &str,
    origin: &str,
) -> Result<History, Problem> {
    py.detach(|| guard(|| History::from_yaml(text, origin).map_err(Problem::from_input)))
}

/// The validation results of a change (evidence for `PolicySet.assess_risk`), indexed once per
/// category; share it between checks and threads.
#[pyclass(frozen, module = "changegate", name = "ValidationResults")]
pub(crate) struct PyValidationResults {
    pub(crate) inner: ValidationResults,
}

#[pymethods]
impl PyValidationResults {
    /// `ValidationResults()` is empty (every required category is then missing);
    /// `ValidationResults([...])` is `ValidationResults.from_list([...])`.
    #[new]
    #[pyo3(signature = (results = None))]
    fn new(py: Python<'_>, results: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        match results {
            None => Ok(Self {
                inner: ValidationResults::default(),
            }),
            Some(r) => Self::from_list(py, r),
        }
    }

    /// Reads results from a list of dicts `{category, check, status or value, at, url?}`;
    /// `at` may be an aware datetime.
    #[staticmethod]
    fn from_list(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner = validation_from_list(py, data).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads results from YAML or JSON text; `origin` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<validation>"))]
    fn from_text(py: Python<'_>, text: &str, origin: &str) -> PyResult<Self> {
        let inner = validation_from_text(py, text, origin).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a results file (YAML or JSON).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let text = read_file(&path).or_raise(py)?;
        let inner = validation_from_text(py, &text, &path.display().to_string()).or_raise(py)?;
        Ok(Self { inner })
    }

    /// The categories with at least one result, sorted, each once.
    #[getter]
    fn categories<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let named: std::collections::BTreeSet<&str> = self
            .inner
            .results()
            .iter()
            .map(|r| r.category.as_str())
            .collect();
        PyTuple::new(py, named)
    }

    /// The results as a list of dicts of JSON values, in the order given.
    fn to_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(self.inner.results()).unwrap_or(serde_json::Value::Null);
        convert::to_py(py, &value)
    }

    /// The number of results.
    fn __len__(&self) -> usize {
        self.inner.results().len()
    }

    fn __repr__(&self) -> String {
        format!("ValidationResults(results={})", self.inner.results().len())
    }
}

/// Past changes and how they went (evidence for `PolicySet.assess_risk`), indexed once per
/// environment and service; share it between checks and threads.
#[pyclass(frozen, module = "changegate", name = "History")]
pub(crate) struct PyHistory {
    pub(crate) inner: History,
}

#[pymethods]
impl PyHistory {
    /// `History()` is empty (no past change: not the same as no history at all);
    /// `History(changes=[...])` is `History.from_dict({"changes": [...]})`.
    #[new]
    #[pyo3(signature = (changes = None))]
    fn new(py: Python<'_>, changes: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let Some(changes) = changes else {
            return Ok(Self {
                inner: History::default(),
            });
        };
        let root = Path::Root("history");
        let v = convert::to_json(changes, Shape::HistoryChanges, &Path::Key(&root, "changes"))
            .or_raise(py)?;
        let mut map = serde_json::Map::new();
        map.insert("changes".to_owned(), v);
        let text = serde_json::to_string(&serde_json::Value::Object(map))
            .map_err(|e| Problem::input("history", e.to_string()))
            .or_raise(py)?;
        let inner = py
            .detach(|| {
                guard(|| {
                    History::from_yaml(&text, "<history>")
                        .map_err(|e| Problem::from_generated(e, "history"))
                })
            })
            .or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a history from a dict `{"changes": [...]}`, each change a request plus `outcome`
    /// and optional `incidents`; times may be aware datetimes, durations timedeltas.
    #[staticmethod]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner = history_from_dict(py, data).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a history from YAML or JSON text; `origin` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<history>"))]
    fn from_text(py: Python<'_>, text: &str, origin: &str) -> PyResult<Self> {
        let inner = history_from_text(py, text, origin).or_raise(py)?;
        Ok(Self { inner })
    }

    /// Reads a history file (YAML or JSON).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let text = read_file(&path).or_raise(py)?;
        let inner = history_from_text(py, &text, &path.display().to_string()).or_raise(py)?;
        Ok(Self { inner })
    }

    /// The ids of the past changes, in the order given.
    #[getter]
    fn change_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner.entries().iter().map(|e| e.change.id.as_str()),
        )
    }

    /// The number of past changes.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("History(changes={})", self.inner.len())
    }
}

/// Approvals from a list of dicts (field paths start with `approvals`).
pub(crate) fn approvals_from_list(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
) -> Result<Vec<changegate::Approval>, Problem> {
    let text = evidence_value(obj, Shape::Approvals, "approvals")?;
    py.detach(|| {
        guard(|| {
            changegate::Approval::list_from_yaml(&text, "<approvals>")
                .map_err(|e| Problem::from_generated(e, "approvals"))
        })
    })
}

pub(crate) fn approvals_from_text(
    py: Python<'_>,
    text: &str,
    origin: &str,
) -> Result<Vec<changegate::Approval>, Problem> {
    py.detach(|| {
        guard(|| changegate::Approval::list_from_yaml(text, origin).map_err(Problem::from_input))
    })
}

/// A directory from a dict `{"people": {...}}` (field paths start with `directory`).
pub(crate) fn directory_from_dict(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
) -> Result<changegate::Directory, Problem> {
    let text = evidence_value(obj, Shape::Directory, "directory")?;
    py.detach(|| {
        guard(|| {
            changegate::Directory::from_yaml(&text, "<directory>")
                .map_err(|e| Problem::from_generated(e, "directory"))
        })
    })
}

pub(crate) fn directory_from_text(
    py: Python<'_>,
    text: &str,
    origin: &str,
) -> Result<changegate::Directory, Problem> {
    py.detach(|| {
        guard(|| changegate::Directory::from_yaml(text, origin).map_err(Problem::from_input))
    })
}
