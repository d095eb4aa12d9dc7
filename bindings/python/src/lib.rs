//! Python bindings for changegate: `import changegate`.
//!
//! A thin face over the core crate, like the CLI: inputs (dicts, aware datetimes, JSON/YAML
//! text) are read by the core's own reader, checks run in Rust with the GIL released, and a
//! decision's `to_dict()` is the same JSON the CLI prints, its `to_text()` the same text.
//! `PolicySet`, `Calendar` and `ChangeRequest` are immutable and shared between threads as they
//! are (the core types are `Send + Sync` and cheap to clone).
//!
//! - `args`: one extractor per kind of argument (request, calendar, now, count, horizon,
//!   validation, history);
//! - `answer`: one pattern for the frozen answer classes;
//! - `inputs`: `ChangeRequest`, `Calendar`, `ValidationResults`, `History`; `policy`:
//!   `PolicySet`;
//! - `decision`: `Decision`, `Finding`; `windows`: `NextWindows`, `Preview` and their parts;
//! - `telemetry`: the gates and rollback inputs (measurements, events, rollbacks) and
//!   `Monitor`.

mod answer;
mod args;
mod convert;
mod decision;
mod errors;
mod inputs;
mod policy;
mod telemetry;
mod windows;

use pyo3::prelude::*;

use crate::errors::{
    ChangegateError, InternalError, InvalidInputError, InvalidPolicyError, Problem,
    init_exception_defaults,
};

/// Raises a [`Problem`] as its Python exception.
trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Problem> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|p| p.into_pyerr(py))
    }
}

/// The compiled part of the `changegate` package.
#[pymodule]
fn _changegate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<policy::PyPolicySet>()?;
    m.add_class::<inputs::PyCalendar>()?;
    m.add_class::<inputs::PyChangeRequest>()?;
    m.add_class::<inputs::PyValidationResults>()?;
    m.add_class::<inputs::PyHistory>()?;
    m.add_class::<decision::PyDecision>()?;
    m.add_class::<decision::PyFinding>()?;
    m.add_class::<telemetry::PyMonitor>()?;
    m.add_class::<windows::PyNextWindows>()?;
    m.add_class::<windows::PyAllowedWindow>()?;
    m.add_class::<windows::PyBlockedStretch>()?;
    m.add_class::<windows::PyPreview>()?;
    m.add_class::<windows::PyWindowPreview>()?;
    m.add_class::<windows::PyOccurrencePreview>()?;
    m.add("MAX_CONFIRMATIONS", changegate::MAX_CONFIRMATIONS)?;
    m.add("SCHEMA_VERSION", changegate::SCHEMA_VERSION)?;
    m.add("ChangegateError", py.get_type::<ChangegateError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("InvalidPolicyError", py.get_type::<InvalidPolicyError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("MAX_INPUT_DEPTH", convert::MAX_DEPTH)?;
    m.add("MAX_INPUT_VALUES", convert::MAX_VALUES)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    init_exception_defaults(py)
}
