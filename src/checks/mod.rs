//! Built-in rules, in plain Rust. They know nothing of scripts or YAML: `config` builds the
//! rule values below from `policy.yaml`, and `policy` runs them.

pub(crate) mod schedule;

use chrono::TimeDelta;

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

/// The schedule rules of one environment. A `None` rule is not checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScheduleRules {
    pub advance_notice: Option<Rule<TimeDelta>>,
    pub max_duration: Option<Rule<TimeDelta>>,
    pub blackouts: Vec<Rule<NamedWindow>>,
    pub preferred_window: Option<Rule<Vec<NamedWindow>>>,
    pub conflicts: Option<Rule<()>>,
    pub concurrency: Option<Rule<u32>>,
    pub dependencies: Option<Rule<()>>,
}
