//! `PolicySet`: a loaded bundle, and the questions asked of it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use changegate::PolicySet;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::OrRaise;
use crate::answer::quoted;
use crate::args::{
    self, ApprovalsArg, CalendarArg, Count, DirectoryArg, EvidenceParts, FromArg, HistoryArg,
    Horizon, Now, RequestArg, RiskLevelArg, ValidationArg,
};
use crate::convert::{self, Path};
use crate::decision::PyDecision;
use crate::errors::{Problem, guard, guard_py};
use crate::telemetry::{BaselineArg, DeploymentArg, EventsArg, MeasurementsArg, RollbacksArg};
use crate::windows;

/// A loaded policy bundle (`policy.yaml` plus compiled scripts): load once, check many times,
/// share between threads. Immutable.
#[pyclass(frozen, module = "changegate", name = "PolicySet")]
pub(crate) struct PyPolicySet {
    inner: PolicySet,
}

impl PyPolicySet {
    /// The loaded bundle.
    pub(crate) fn inner(&self) -> &PolicySet {
        &self.inner
    }
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
    ///
    /// The calendar is checked against the policy first (as by every method that takes one):
    /// an entry naming an environment the policy does not know raises `InvalidInputError`
    /// naming the field, e.g. `calendar.deployments[3].environment`, with a "did you mean".
    ///
    /// With `validation` or `history` (see `assess_risk`), the risk level they give drives the
    /// schedule rules that depend on it (`when: {risk_at_least: ...}`), as `changegate check
    /// --validation/--history` does; without either, it is the plain schedule check.
    #[pyo3(signature = (request, *, calendar = None, now, validation = None, history = None))]
    fn check_schedule(
        &self,
        py: Python<'_>,
        request: RequestArg,
        calendar: Option<CalendarArg>,
        now: Now,
        validation: Option<ValidationArg>,
        history: Option<HistoryArg>,
    ) -> PyResult<PyDecision> {
        let calendar = CalendarArg::checked(calendar, &self.inner).or_raise(py)?;
        let policy = &self.inner;
        let request = request.0;
        let evidence = (validation.is_some() || history.is_some())
            .then(|| args::evidence(validation, history));
        let inner = py
            .detach(|| {
                guard(|| {
                    Ok(match &evidence {
                        Some(evidence) => {
                            policy.check_schedule_with_risk(&request, &calendar, evidence, now.0)
                        }
                        None => policy.check_schedule(&request, &calendar, now.0),
                    })
                })
            })
            .or_raise(py)?;
        Ok(PyDecision { inner, request })
    }

    /// How risky is `request`, and why: a decision with `check == "risk"` whose
    /// `details["risk"]` holds `score`, `level`, `factors`, `missing` and `mitigations`.
    ///
    /// `validation` is a `ValidationResults`, a list of dicts or text; `history` a `History`,
    /// a dict `{"changes": [...]}` or text. Evidence not given (`None`) is missing: its factors
    /// score their maximum and it is listed in `missing` (fail safe). The decision denies when a
    /// category whose failure denies failed or has no result. The GIL is released while the
    /// rules run.
    #[pyo3(signature = (request, *, validation = None, history = None, now))]
    fn assess_risk(
        &self,
        py: Python<'_>,
        request: RequestArg,
        validation: Option<ValidationArg>,
        history: Option<HistoryArg>,
        now: Now,
    ) -> PyResult<PyDecision> {
        let evidence = args::evidence(validation, history);
        let policy = &self.inner;
        let request = request.0;
        let inner = py
            .detach(|| guard(|| Ok(policy.assess_risk(&request, &evidence, now.0))))
            .or_raise(py)?;
        Ok(PyDecision { inner, request })
    }

    /// Do the approvals given satisfy the policy? A decision with `check == "approvals"`:
    /// `allow` when every applicable rule is satisfied, `pending` while approvals are missing
    /// (one `approval_required` finding per rule, with who is eligible and the deadline),
    /// `deny` on a rejection, a passed deadline or an invalid break-glass.
    /// `details["approvals"]` lists the rules, the approvals used and every vote ignored with
    /// its reason.
    ///
    /// The approvals are the request's `approvals` plus `approvals` (a list of dicts or text);
    /// `directory` (a dict `{"people": {...}}` or text) is laid over the bundle's
    /// `directory.yaml`; `risk_level` (`"low"` .. `"critical"`) is the level rules'
    /// `risk_at_least` read, assessed from `validation` and `history` when not given (missing
    /// evidence scores high). The GIL is released while the rules run.
    #[pyo3(signature = (request, *, approvals = None, directory = None, validation = None, history = None, risk_level = None, now))]
    #[allow(clippy::too_many_arguments)]
    fn check_approvals(
        &self,
        py: Python<'_>,
        request: RequestArg,
        approvals: Option<ApprovalsArg>,
        directory: Option<DirectoryArg>,
        validation: Option<ValidationArg>,
        history: Option<HistoryArg>,
        risk_level: Option<RiskLevelArg>,
        now: Now,
    ) -> PyResult<PyDecision> {
        let evidence = EvidenceParts {
            calendar: changegate::Calendar::default(),
            validation,
            history,
            approvals,
            directory,
            risk_level,
        }
        .evidence();
        let policy = &self.inner;
        let request = request.0;
        let inner = py
            .detach(|| guard(|| Ok(policy.check_approvals(&request, &evidence, now.0))))
            .or_raise(py)?;
        Ok(PyDecision { inner, request })
    }

    /// May `request` start now? Schedule (at its risk level), risk and approvals in one
    /// decision with `check == "readiness"`: the findings of the three questions, each with
    /// `question` naming where it came from; `details` has `questions` (each one's outcome),
    /// `risk` and `approvals`. `pending` while approvals are missing. Arguments as
    /// `check_schedule`, `assess_risk` and `check_approvals`. The GIL is released while the
    /// rules run.
    #[pyo3(signature = (request, *, calendar = None, approvals = None, directory = None, validation = None, history = None, risk_level = None, now))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        py: Python<'_>,
        request: RequestArg,
        calendar: Option<CalendarArg>,
        approvals: Option<ApprovalsArg>,
        directory: Option<DirectoryArg>,
        validation: Option<ValidationArg>,
        history: Option<HistoryArg>,
        risk_level: Option<RiskLevelArg>,
        now: Now,
    ) -> PyResult<PyDecision> {
        let calendar = CalendarArg::checked(calendar, &self.inner).or_raise(py)?;
        let evidence = EvidenceParts {
            calendar,
            validation,
            history,
            approvals,
            directory,
            risk_level,
        }
        .evidence();
        let policy = &self.inner;
        let request = request.0;
        let inner = py
            .detach(|| guard(|| Ok(policy.evaluate(&request, &evidence, now.0))))
            .or_raise(py)?;
        Ok(PyDecision { inner, request })
    }

    /// Is `deployment` healthy enough to continue or promote? A decision with `check ==
    /// "gates"`: each gate of the environment's `gates:` (an aggregate of a metric over a
    /// window ending at `now`, against its thresholds) as pass, warn, fail or inconclusive in
    /// `details["gates"]`, with the weighted score; `pending` while a gate is inconclusive.
    ///
    /// `deployment` is a request (dict, text or `ChangeRequest`); `measurements` (and
    /// `baseline`) a list of dicts `{metric, at, value, labels?}` (`value` a number, `None` for
    /// no data, or NaN) or YAML/JSON/JSON-lines text; `events` a list of `{kind, at, source?}`;
    /// `rollbacks` a list of `{level, at}`. The GIL is released while the rules run.
    #[pyo3(signature = (deployment, measurements, now, *, events = None, baseline = None, rollbacks = None))]
    #[allow(clippy::too_many_arguments)]
    fn check_gates(
        &self,
        py: Python<'_>,
        deployment: DeploymentArg,
        measurements: MeasurementsArg,
        now: Now,
        events: Option<EventsArg>,
        baseline: Option<BaselineArg>,
        rollbacks: Option<RollbacksArg>,
    ) -> PyResult<PyDecision> {
        let telemetry = crate::telemetry::telemetry(measurements, events, baseline, rollbacks);
        let policy = &self.inner;
        let request = deployment.0;
        let inner = py
            .detach(|| guard(|| Ok(policy.check_gates(&request, &telemetry, now.0))))
            .or_raise(py)?;
        Ok(PyDecision { inner, request })
    }

    /// Should `deployment` roll back, how far and by when? A decision with `check ==
    /// "rollback"`: `deny` means roll back (`details["rollback"]` names the `level` and the
    /// `deadline`, and each trigger's state), `pending` means keep watching (a trigger without
    /// data, a rollback in progress). Arguments as `check_gates`; `rollbacks` are the
    /// rollbacks already performed (a trigger still firing after a level's budget escalates).
    #[pyo3(signature = (deployment, measurements, now, *, events = None, baseline = None, rollbacks = None))]
    #[allow(clippy::too_many_arguments)]
    fn check_rollback(
        &self,
        py: Python<'_>,
        deployment: DeploymentArg,
        measurements: MeasurementsArg,
        now: Now,
        events: Option<EventsArg>,
        baseline: Option<BaselineArg>,
        rollbacks: Option<RollbacksArg>,
    ) -> PyResult<PyDecision> {
        let telemetry = crate::telemetry::telemetry(measurements, events, baseline, rollbacks);
        let policy = &self.inner;
        let request = deployment.0;
        let inner = py
            .detach(|| guard(|| Ok(policy.check_rollback(&request, &telemetry, now.0))))
            .or_raise(py)?;
        Ok(PyDecision { inner, request })
    }

    /// Checks many requests against one calendar in one call (one crossing into Rust, the GIL
    /// released once); returns the decisions in order.
    #[pyo3(signature = (requests, *, calendar = None, now))]
    fn check_schedule_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
        calendar: Option<CalendarArg>,
        now: Now,
    ) -> PyResult<Bound<'py, PyList>> {
        let not_a_list = || {
            Problem::input(
                "requests",
                format!(
                    "expected a list of requests, got {}",
                    convert::type_name(requests)
                ),
            )
            .into_pyerr(py)
        };
        if convert::as_text(requests, &Path::Root("requests")).is_some()
            || requests.is_instance_of::<PyDict>()
        {
            return Err(not_a_list());
        }
        // A list is read from a snapshot (`PyList_AsTuple`): converting one request cannot
        // add requests to it; any other iterable is read as it yields.
        let snapshot;
        let iterable = match requests.cast::<PyList>() {
            Ok(list) => {
                snapshot = list.to_tuple();
                snapshot.as_any()
            }
            Err(_) => requests,
        };
        let read = guard_py(py, || {
            let iter = iterable.try_iter().map_err(|_| not_a_list())?;
            let mut read = Vec::new();
            for (i, item) in iter.enumerate() {
                read.push(args::request(&item?, &format!("requests[{i}]")).or_raise(py)?);
            }
            Ok(read)
        })?;
        let calendar = CalendarArg::checked(calendar, &self.inner).or_raise(py)?;
        let policy = &self.inner;
        let decisions = py
            .detach(|| {
                guard(|| {
                    Ok(policy.check_schedule_many(read.iter().map(|r| &**r), &calendar, now.0))
                })
            })
            .or_raise(py)?;
        let list = PyList::empty(py);
        for (inner, request) in decisions.into_iter().zip(read) {
            list.append(Bound::new(py, PyDecision { inner, request })?)?;
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
        request: RequestArg,
        calendar: Option<CalendarArg>,
        now: Now,
        count: Count,
        horizon: Horizon,
    ) -> PyResult<windows::PyNextWindows> {
        let calendar = CalendarArg::checked(calendar, &self.inner).or_raise(py)?;
        windows::next_windows(py, &self.inner, request.0, &calendar, now.0, count, horizon)
    }

    /// The next `count` occurrences of every blackout and preferred window, per environment,
    /// from `from_` (an aware datetime or RFC 3339 text), marked where a DST change moved or
    /// split one. The GIL is released while it runs.
    #[pyo3(signature = (*, from_, count = Count(5)))]
    #[pyo3(text_signature = "($self, *, from_, count=5)")]
    fn preview(
        &self,
        py: Python<'_>,
        from_: FromArg,
        count: Count,
    ) -> PyResult<windows::PyPreview> {
        windows::preview(py, &self.inner, from_.0, count)
    }

    /// For benchmarks: reads the inputs once, then runs the check `n` times inside Rust (GIL
    /// released) and returns the elapsed seconds, the cost of the Rust API without Python.
    #[pyo3(signature = (request, calendar, now, n))]
    fn _check_repeat(
        &self,
        py: Python<'_>,
        request: RequestArg,
        calendar: Option<CalendarArg>,
        now: Now,
        n: usize,
    ) -> PyResult<f64> {
        let calendar = CalendarArg::checked(calendar, &self.inner).or_raise(py)?;
        let request: Arc<_> = request.0;
        let policy = &self.inner;
        py.detach(|| {
            guard(|| {
                let started = Instant::now();
                for _ in 0..n {
                    std::hint::black_box(policy.check_schedule(
                        std::hint::black_box(&*request),
                        &calendar,
                        now.0,
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
