//! The output contract of every face: [`Decision`], [`Finding`], [`Severity`].

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// The identifier of a rule: a built-in one (see the associated constants) or one a script
/// names in `deny(rule, message)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RuleId(String);

impl RuleId {
    /// Not enough notice between `requested_at` and `start`.
    pub const ADVANCE_NOTICE: &'static str = "advance_notice";
    /// Longer than the environment allows.
    pub const MAX_DURATION: &'static str = "max_duration";
    /// Overlaps a blackout (freeze).
    pub const BLACKOUT: &'static str = "blackout";
    /// Not entirely inside a preferred window.
    pub const PREFERRED_WINDOW: &'static str = "preferred_window";
    /// Another deployment of the same service overlaps.
    pub const CONFLICT: &'static str = "conflict";
    /// Too many deployments in the environment at once.
    pub const CONCURRENCY: &'static str = "concurrency";
    /// A dependency is missing or does not end before this one starts.
    pub const DEPENDENCY: &'static str = "dependency";
    /// The policy does not know the environment.
    pub const UNKNOWN_ENVIRONMENT: &'static str = "unknown_environment";
    /// A policy script failed; the change is denied (fail closed).
    pub const POLICY_ERROR: &'static str = "policy_error";

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RuleId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Allowed, but worth a look.
    Warn,
    /// Not allowed.
    Deny,
}

impl Severity {
    /// `warn` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Deny => "deny",
        }
    }
}

/// The overall answer: the worst finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No finding.
    Allow,
    /// Only warnings.
    Warn,
    /// At least one deny.
    Deny,
}

impl Outcome {
    /// `allow`, `warn` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Deny => "deny",
        }
    }
}

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule: RuleId,
    /// How serious it is.
    pub severity: Severity,
    /// A sentence for people.
    pub message: String,
    /// Where the rule is written, `file:line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Machine-readable facts (which blackout, until when, which deployments).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
}

impl Finding {
    /// A finding without details.
    pub fn new(
        rule: &str,
        severity: Severity,
        message: impl Into<String>,
        source: Option<String>,
    ) -> Self {
        Self {
            rule: RuleId::from(rule),
            severity,
            message: message.into(),
            source,
            details: Map::new(),
        }
    }

    /// Adds one detail.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// Which policy made a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyInfo {
    /// `sha256:` and the hex digest of the bundle's files (names and contents).
    pub digest: String,
}

/// The answer to a check: whether the change may proceed, and every finding behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// `outcome != deny`.
    pub allowed: bool,
    /// The worst finding.
    pub outcome: Outcome,
    /// Every finding, built-in rules first (in a fixed order), then scripts (by file name).
    pub findings: Vec<Finding>,
    /// The policy that decided.
    pub policy: PolicyInfo,
    /// What scripts printed with `print` or `debug`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
}

impl Decision {
    /// A decision from its findings: the outcome is the worst of them.
    pub fn from_findings(findings: Vec<Finding>, policy: PolicyInfo, trace: Vec<String>) -> Self {
        let outcome = findings
            .iter()
            .map(|f| match f.severity {
                Severity::Warn => Outcome::Warn,
                Severity::Deny => Outcome::Deny,
            })
            .max()
            .unwrap_or(Outcome::Allow);
        Self {
            allowed: outcome != Outcome::Deny,
            outcome,
            findings,
            policy,
            trace,
        }
    }

    /// The decision as the JSON every face shares.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The findings of one rule.
    pub fn findings_for<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings
            .iter()
            .filter(move |f| f.rule.as_str() == rule)
    }
}
