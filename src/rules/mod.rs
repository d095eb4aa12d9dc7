//! Built-in rules, in plain Rust. They know nothing of scripts or YAML: `config` builds the
//! rule values below from `policy.yaml`, and `policy` runs them through its one pipeline.
//!
//! Each rule has one home: a file holding its id, its messages, its point check (does this
//! request pass?) and, for schedule rules, its set form over a time range (which start times
//! does it block?), which the window search uses. A property test keeps the two forms in
//! agreement.

pub(crate) mod aggregate;
pub(crate) mod approvals;
pub(crate) mod break_glass;
pub(crate) mod environment;
pub(crate) mod gates;
pub(crate) mod risk;
pub(crate) mod rollback;
pub(crate) mod schedule;
pub(crate) mod validation;
pub(crate) mod window;

use crate::model::ChangeRequest;
use crate::time::Window;

/// A rule's setting plus the change types it does not apply to and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Rule<T> {
    pub value: T,
    pub exempt_types: Vec<String>,
    /// `file:line` of the rule in policy.yaml.
    pub source: String,
}

impl<T> Rule<T> {
    pub fn applies_to(&self, change_type: &str) -> bool {
        !self.exempt_types.iter().any(|t| t == change_type)
    }
}

/// A named recurring window (a blackout or a preferred window).
#[derive(Debug, Clone)]
pub(crate) struct NamedWindow {
    pub name: String,
    pub window: Window,
    /// Services it applies to; all when `None`.
    pub services: Option<Vec<String>>,
}

impl NamedWindow {
    /// Whether the window concerns `request`: it names no services, or one the request touches.
    pub fn touches(&self, request: &ChangeRequest) -> bool {
        self.services
            .as_ref()
            .is_none_or(|s| request.services.iter().any(|x| s.contains(x)))
    }
}
