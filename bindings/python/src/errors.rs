//! The exceptions Python sees, and [`Problem`]: an error on its way to becoming one.

use changegate::{InputError, LoadError, Location};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

create_exception!(
    changegate,
    ChangegateError,
    PyValueError,
    "Base class of every error changegate raises. A ValueError, with `file`, `line`, `column` and `field` set where known (None otherwise)."
);
create_exception!(
    changegate,
    InvalidInputError,
    ChangegateError,
    "A request, calendar or `now` that cannot be read: a wrong type, a naive datetime, an unknown or missing field, a bad duration."
);
create_exception!(
    changegate,
    InvalidPolicyError,
    ChangegateError,
    "A policy bundle that cannot be loaded: a missing directory or file, invalid YAML, a schema violation, a script that does not compile."
);
create_exception!(
    changegate,
    InternalError,
    ChangegateError,
    "A bug in changegate, caught (a Rust panic while converting an argument or checking): the call failed, the interpreter and other calls are unharmed. Please report it with the message."
);

/// The longest message an exception carries, in characters; the rest is left out (an error
/// about a megabyte string quotes the start of it).
pub(crate) const MAX_MESSAGE_CHARS: usize = 1_000;

/// `message`, cut after [`MAX_MESSAGE_CHARS`] characters with a note of how much was left out.
fn shortened(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => message.to_owned(),
        Some((end, _)) => format!(
            "{}... ({} more characters)",
            message.get(..end).unwrap_or_default(),
            message.get(end..).map_or(0, |rest| rest.chars().count())
        ),
    }
}

/// Which exception a [`Problem`] becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Input,
    Policy,
    /// A bug in changegate (a caught panic): `InternalError`.
    Internal,
}

/// An error with what the exception needs; built without the interpreter (so it can cross
/// `Python::detach`), turned into a `PyErr` with [`Problem::into_pyerr`].
#[derive(Debug)]
pub(crate) struct Problem {
    pub kind: Kind,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub field: Option<String>,
    pub message: String,
    /// A `BaseException` that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`)
    /// raised by the caller's code during a conversion: raised again as it is, not wrapped.
    pub raised: Option<Box<PyErr>>,
}

impl Problem {
    /// An input problem in a Python value (no file): `field` is a path such as `request.start`.
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Input,
            file: None,
            line: None,
            column: None,
            field: Some(field.into()),
            message: message.into(),
            raised: None,
        }
    }

    /// An exception raised by the caller's code while converting the value at `field` (a
    /// `datetime` subclass's `isoformat`): an `Exception` becomes an input problem with its
    /// message; anything else (`KeyboardInterrupt`) is kept, to be raised again unchanged.
    pub fn from_python(py: Python<'_>, field: impl Into<String>, e: PyErr) -> Self {
        let message = e.to_string();
        let mut problem = Self::input(field, message);
        if !e.is_instance_of::<PyException>(py) {
            problem.raised = Some(Box::new(e));
        }
        problem
    }

    /// A caught panic: a bug to report, never a crash of the interpreter.
    pub fn internal(message: String) -> Self {
        Self {
            kind: Kind::Internal,
            file: None,
            line: None,
            column: None,
            field: None,
            message: format!("internal error in changegate (please report it): {message}"),
            raised: None,
        }
    }

    fn located(kind: Kind, location: Location, field: Option<String>, message: String) -> Self {
        Self {
            kind,
            file: Some(location.file),
            line: location.line,
            column: location.column,
            field,
            message,
            raised: None,
        }
    }

    /// An error the core found in text that came from a file or a string.
    pub fn from_input(e: InputError) -> Self {
        Self::located(Kind::Input, e.location, e.field, e.message)
    }

    /// An error the core found in text that this crate generated from a Python value: the
    /// position in that text means nothing to the caller, so only the field is kept, under
    /// `prefix` (the argument's name, e.g. `request` or `calendar`).
    pub fn from_generated(e: InputError, prefix: &str) -> Self {
        let mut message = e.message;
        let field = match e.field.filter(|f| !f.is_empty()) {
            Some(f) => {
                // The YAML reader starts some messages with the path (or the part of it that
                // leads to the field); it goes in `field` instead.
                if let Some((path, rest)) = message.split_once(": ") {
                    if !path.is_empty() && !path.contains(' ') && f.starts_with(path) {
                        message = rest.to_owned();
                    }
                }
                // A list's items follow the prefix without a dot: `validation[0].status`.
                let f = f.strip_prefix('.').unwrap_or(&f);
                if f.starts_with('[') {
                    format!("{prefix}{f}")
                } else {
                    format!("{prefix}.{f}")
                }
            }
            None => prefix.to_owned(),
        };
        Self::input(field, message)
    }

    /// A bundle that does not load.
    pub fn from_load(e: LoadError) -> Self {
        Self::located(Kind::Policy, e.location, e.field, e.message)
    }

    /// The text of the exception: `file:line:column: message` as the CLI prints it, or
    /// `field: message` for a Python value.
    /// The message is cut to [`MAX_MESSAGE_CHARS`] characters, so that an error about a
    /// huge value does not carry the value whole.
    pub fn text(&self) -> String {
        let message = shortened(&self.message);
        match (&self.file, &self.field) {
            (Some(file), _) => {
                let location = Location {
                    file: file.clone(),
                    line: self.line,
                    column: self.column,
                };
                format!("{location}: {message}")
            }
            (None, Some(field)) => format!("{field}: {message}"),
            (None, None) => message,
        }
    }

    /// The Python exception, with its attributes set.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        if let Some(raised) = self.raised {
            return *raised;
        }
        let text = self.text();
        let err = match self.kind {
            Kind::Input => InvalidInputError::new_err(text),
            Kind::Policy => InvalidPolicyError::new_err(text),
            Kind::Internal => InternalError::new_err(text),
        };
        let value = err.value(py);
        let set = || -> PyResult<()> {
            value.setattr("file", self.file)?;
            value.setattr("line", self.line)?;
            value.setattr("column", self.column)?;
            value.setattr("field", self.field)?;
            Ok(())
        };
        match set() {
            Ok(()) => err,
            Err(other) => other,
        }
    }
}

/// Sets the class-level defaults (`None`) of the attributes, so that they exist on every
/// instance, including ones raised by Python code.
pub(crate) fn init_exception_defaults(py: Python<'_>) -> PyResult<()> {
    let base = py.get_type::<ChangegateError>();
    for name in ["file", "line", "column", "field"] {
        base.setattr(name, py.None())?;
    }
    Ok(())
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs `f`, turning a panic into a [`Problem`] so that no Rust panic reaches Python.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, Problem>) -> Result<T, Problem> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(Problem::internal(panic_message(&*payload))),
    }
}

/// [`guard`] for code that works with Python objects and raises Python exceptions: a panic
/// becomes `InternalError` (an `Exception`), never pyo3's `PanicException` (a
/// `BaseException` that `except Exception` misses).
pub(crate) fn guard_py<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(Problem::internal(panic_message(&*payload)).into_pyerr(py)),
    }
}
