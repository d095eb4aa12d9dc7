//! The answer to a check: `Decision` and its `Finding`s.

use std::sync::Arc;

use changegate::{ChangeRequest, Decision, Finding, TextStyle};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::answer::{answer_class, quoted, tuple};
use crate::convert;
use crate::errors::guard_py;

answer_class! {
    /// One thing a rule found. Immutable.
    class PyFinding as "Finding" { inner: Finding }
    methods {
        /// The rule's id: a built-in one (`blackout`, `conflict`, ...) or one a script names.
        #[getter]
        fn rule(&self) -> &str {
            self.inner.rule.as_str()
        }

        /// `"warn"`, `"pending"` or `"deny"`.
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

        /// In a readiness decision, the question it came from (`"schedule"`, `"risk"`,
        /// `"approvals"`); `None` in the decision of a single question.
        #[getter]
        fn question(&self) -> Option<&'static str> {
            self.inner.question.map(changegate::Check::as_str)
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
}

/// Findings as a tuple of `Finding`s.
pub(crate) fn findings<'py, 'a>(
    py: Python<'py>,
    findings: impl IntoIterator<Item = &'a Finding>,
) -> PyResult<Bound<'py, PyTuple>> {
    tuple(
        py,
        findings.into_iter().map(|f| PyFinding { inner: f.clone() }),
    )
}

answer_class! {
    /// The answer to a check: whether the change may proceed, and every finding behind it.
    /// Immutable; `to_dict()` equals the CLI's `--format json` output.
    class PyDecision as "Decision" {
        inner: Decision,
        // The request it answers, for the text form.
        request: Arc<ChangeRequest>,
    }
    methods {
        /// The version of the decision contract (docs/decision-contract.md): `1`.
        #[getter]
        fn schema(&self) -> u32 {
            self.inner.schema
        }

        /// Which question it answers: `"schedule"`, `"risk"`, `"approvals"` or `"readiness"`
        /// (later also `"gates"`, `"rollback"`).
        #[getter]
        fn check(&self) -> &'static str {
            self.inner.check.as_str()
        }

        /// True for the outcomes `"allow"` and `"warn"` only.
        #[getter]
        fn allowed(&self) -> bool {
            self.inner.allowed
        }

        /// The worst finding, in the order `"allow"` (none) < `"warn"` < `"pending"` (not
        /// allowed yet: more evidence can allow it) < `"deny"`.
        #[getter]
        fn outcome(&self) -> &'static str {
            self.inner.outcome.as_str()
        }

        /// Every finding: built-in rules first, then scripts.
        #[getter]
        fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            findings(py, &self.inner.findings)
        }

        /// The digest of the policy bundle that decided (`policy.digest` in the JSON).
        #[getter]
        fn policy_digest(&self) -> &str {
            &self.inner.policy.digest
        }

        /// The version of changegate that decided (`policy.engine` in the JSON).
        #[getter]
        fn engine(&self) -> &'static str {
            self.inner.policy.engine
        }

        /// What scripts printed with `print` or `debug`, in order.
        #[getter]
        fn trace<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            PyTuple::new(py, &self.inner.trace)
        }

        /// The findings of one rule.
        fn findings_for<'py>(&self, py: Python<'py>, rule: &str) -> PyResult<Bound<'py, PyTuple>> {
            findings(py, self.inner.findings_for(rule))
        }

        /// The decision as the CLI command of its question prints it: `changegate check`,
        /// `risk` (the level, score, factor table, missing evidence and mitigations),
        /// `approvals` (each rule, who approved, what was ignored and why) or `evaluate`: the
        /// same text, from the same code.
        fn to_text(&self, py: Python<'_>) -> PyResult<String> {
            guard_py(py, || {
                let (d, r, plain) = (&self.inner, &*self.request, TextStyle::Plain);
                Ok(match d.check {
                    changegate::Check::Risk => d.risk_to_text(r, plain),
                    changegate::Check::Approvals => d.approvals_to_text(r, plain),
                    changegate::Check::Readiness => d.readiness_to_text(r, plain),
                    changegate::Check::Gates => d.gates_to_text(r, plain),
                    changegate::Check::Rollback => d.rollback_to_text(r, plain),
                    _ => d.to_text(r, plain),
                })
            })
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
}
