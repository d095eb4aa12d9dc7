//! One pattern for every frozen answer class (`Decision`, `Finding`, `NextWindows`, ...): a
//! Python class over a core value, declared with [`answer_class!`].
//!
//! The class holds the core value as `inner` (and any field the text form needs), compares by
//! `inner`'s value, and its `to_dict()` is the value's JSON, serialized by the same code as the CLI's
//! `--format json`; getters hand out Python values read from `inner`.

use pyo3::PyClass;
use pyo3::prelude::*;
use pyo3::pyclass_init::PyClassInitializer;
use pyo3::types::PyTuple;
use serde_json::Value;

/// The JSON of an answer, as the CLI prints it.
pub(crate) trait Json {
    fn json(&self) -> Value;
}

impl<T: serde::Serialize> Json for T {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Declares a frozen answer class: `#[pyclass(frozen, eq)]` over `inner` (plus the extra
/// fields listed), with `to_dict()` and the methods given in `methods { ... }`.
macro_rules! answer_class {
    (
        $(#[$meta:meta])*
        class $py:ident as $name:tt {
            inner: $inner:ty
            $(, $field:ident: $fty:ty)* $(,)?
        }
        methods { $($methods:tt)* }
    ) => {
        $(#[$meta])*
        #[pyo3::pyclass(frozen, eq, module = "changegate", name = $name)]
        pub(crate) struct $py {
            pub(crate) inner: $inner,
            $(pub(crate) $field: $fty,)*
        }

        /// Equal answers are equal: the extra fields are context for the text form (the
        /// request a decision is about), not part of the answer.
        impl PartialEq for $py {
            fn eq(&self, other: &Self) -> bool {
                self.inner == other.inner
            }
        }

        #[pyo3::pymethods]
        impl $py {
            /// The answer as the JSON every face shares (what the CLI prints for it).
            fn to_dict<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                // The JSON is built under the panic guard too.
                $crate::errors::guard_py(py, || {
                    $crate::convert::to_py(py, &$crate::answer::Json::json(&self.inner))
                })
            }

            $($methods)*
        }
    };
}

pub(crate) use answer_class;

/// Answer objects as a Python tuple.
pub(crate) fn tuple<'py, T: PyClass + Into<PyClassInitializer<T>>>(
    py: Python<'py>,
    items: impl IntoIterator<Item = T>,
) -> PyResult<Bound<'py, PyTuple>> {
    let items = items
        .into_iter()
        .map(|item| Bound::new(py, item))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

/// Python's `repr` of a string (quotes and escapes), for `__repr__`s.
pub(crate) fn quoted(s: &str) -> String {
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
