//! The output contract of every face (version [`SCHEMA_VERSION`], documented field by field in
//! docs/decision-contract.md): [`Decision`], [`Check`], [`Outcome`], [`Finding`], [`Severity`],
//! [`PolicyInfo`].

mod details;

use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

pub use details::Details;

/// The identifier of a rule: a built-in one (see the associated constants) or one a script
/// names in `deny(rule, message)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct RuleId(String);

/// The built-in ids; each lives with its rule (`src/rules/`), these name them for users.
impl RuleId {
    /// Not enough notice between `requested_at` and `start`.
    pub const ADVANCE_NOTICE: &'static str = crate::rules::schedule::notice::ID;
    /// Longer than the environment allows.
    pub const MAX_DURATION: &'static str = crate::rules::schedule::duration::ID;
    /// Overlaps a blackout (freeze).
    pub const BLACKOUT: &'static str = crate::rules::schedule::blackout::ID;
    /// Not entirely inside a preferred window.
    pub const PREFERRED_WINDOW: &'static str = crate::rules::schedule::preferred::ID;
    /// Another deployment of the same service overlaps.
    pub const CONFLICT: &'static str = crate::rules::schedule::conflict::ID;
    /// Too many deployments in the environment at once.
    pub const CONCURRENCY: &'static str = crate::rules::schedule::concurrency::ID;
    /// A dependency is missing or does not end before this one starts.
    pub const DEPENDENCY: &'static str = crate::rules::schedule::dependency::ID;
    /// Starts before the time of the check (`now`); no exemptions.
    pub const START_IN_PAST: &'static str = crate::rules::schedule::past::ID;
    /// The policy does not know the environment.
    pub const UNKNOWN_ENVIRONMENT: &'static str = crate::rules::environment::ID;
    /// A `deny` validation category failed.
    pub const VALIDATION_FAILED: &'static str = crate::rules::validation::FAILED_ID;
    /// A `deny` validation category has no fresh result.
    pub const VALIDATION_MISSING: &'static str = crate::rules::validation::MISSING_ID;
    /// A policy script failed; the change is denied (fail closed).
    pub const POLICY_ERROR: &'static str = crate::script::POLICY_ERROR;

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

/// The version of the decision contract (docs/decision-contract.md) this crate writes as
/// `schema`. It changes when a field changes meaning, is removed or renamed, or when a
/// reader written for the previous version would misread a decision; new fields, checks,
/// rules and details do not change it.
pub const SCHEMA_VERSION: u32 = 1;

/// Which question a decision answers. Serialized lowercase (`"schedule"`).
///
/// Only [`Check::Schedule`] is answered today; the others are named by the contract and will
/// follow, each with its own policy section, script hook and entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Check {
    /// May this change run at this time?
    Schedule,
    /// How risky is it, and why?
    Risk,
    /// Do the approvals given satisfy the policy?
    Approvals,
    /// May it start now (schedule, risk and approvals together)?
    Readiness,
    /// Is it healthy enough to continue or promote?
    Gates,
    /// Should it roll back, how far, by when?
    Rollback,
}

impl Check {
    /// The name in the JSON: `schedule`, `risk`, `approvals`, `readiness`, `gates` or
    /// `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Schedule => "schedule",
            Check::Risk => "risk",
            Check::Approvals => "approvals",
            Check::Readiness => "readiness",
            Check::Gates => "gates",
            Check::Rollback => "rollback",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a finding is, in the order `warn` < `pending` < `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Allowed, but worth a look.
    Warn,
    /// Not allowed yet; it can become allowed when more evidence arrives (an approval still
    /// missing, a gate still measuring).
    Pending,
    /// Not allowed.
    Deny,
}

impl Severity {
    /// `warn`, `pending` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Pending => "pending",
            Severity::Deny => "deny",
        }
    }

    /// The outcome of a decision whose worst finding has this severity.
    pub fn outcome(self) -> Outcome {
        match self {
            Severity::Warn => Outcome::Warn,
            Severity::Pending => Outcome::Pending,
            Severity::Deny => Outcome::Deny,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The overall answer: the worst finding, in the order `allow` < `warn` < `pending` < `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Outcome {
    /// No finding.
    Allow,
    /// Only warnings: allowed.
    Warn,
    /// Not allowed yet, no deny: it can become allowed when more evidence arrives.
    Pending,
    /// At least one deny.
    Deny,
}

impl Outcome {
    /// `allow`, `warn`, `pending` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Pending => "pending",
            Outcome::Deny => "deny",
        }
    }

    /// Whether the change may proceed: true for `allow` and `warn` only.
    pub fn is_allowed(self) -> bool {
        matches!(self, Outcome::Allow | Outcome::Warn)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a rule found.
///
/// Build one with [`Finding::new`] and [`Finding::with_detail`]; the fields are public to read.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[non_exhaustive]
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
    /// In a readiness decision: the question the finding came from (`schedule`, `risk` or
    /// `approvals`); absent in the decision of a single question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<Check>,
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
            question: None,
        }
    }

    /// Adds one detail.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// Which policy, and which changegate, made a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[non_exhaustive]
pub struct PolicyInfo {
    /// `sha256:` and the hex digest of the bundle's files (names and contents).
    pub digest: String,
    /// The version of changegate that decided, e.g. `0.1.0`.
    pub engine: &'static str,
}

impl PolicyInfo {
    /// The policy with this digest, decided by this build of changegate.
    pub fn new(digest: impl Into<String>) -> Self {
        Self {
            digest: digest.into(),
            engine: ENGINE_VERSION,
        }
    }
}

/// The version of this crate, which [`PolicyInfo::engine`] records.
const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The answer to a check: whether the change may proceed, and every finding behind it.
///
/// Its JSON ([`Decision::to_json`], the CLI's `--format json`, Python's `to_dict()`) is the
/// contract of docs/decision-contract.md, fields in this order.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[non_exhaustive]
pub struct Decision {
    /// The version of the contract, [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The question it answers.
    pub check: Check,
    /// True for `allow` and `warn` only.
    pub allowed: bool,
    /// The worst finding.
    pub outcome: Outcome,
    /// Every finding, built-in rules first (in a fixed order), then scripts (by file name).
    pub findings: Vec<Finding>,
    /// What the question found besides its findings, one key per question: `risk` for the
    /// risk question (`{score, level, factors, missing, mitigations}`), `approvals` for the
    /// approvals question. Empty for schedule. Built when first read ([`Details`]).
    #[serde(skip_serializing_if = "details::is_empty")]
    pub details: Details,
    /// The policy that decided.
    pub policy: PolicyInfo,
    /// What scripts printed with `print` or `debug`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
}

impl Decision {
    /// A decision of `check` from its findings: the outcome is the worst of them.
    pub fn from_findings(
        check: Check,
        findings: Vec<Finding>,
        policy: PolicyInfo,
        trace: Vec<String>,
    ) -> Self {
        let outcome = findings
            .iter()
            .map(|f| f.severity.outcome())
            .max()
            .unwrap_or(Outcome::Allow);
        Self {
            schema: SCHEMA_VERSION,
            check,
            allowed: outcome.is_allowed(),
            outcome,
            findings,
            details: Details::default(),
            policy,
            trace,
        }
    }

    /// The risk level a risk decision assessed (`details.risk.level`); `None` for other
    /// checks, or when the environment is unknown.
    pub fn risk_level(&self) -> Option<crate::model::RiskLevel> {
        self.details
            .get("risk")
            .and_then(|r| r.get("level"))
            .and_then(Value::as_str)
            .and_then(crate::model::RiskLevel::named)
    }

    /// The risk score a risk decision assessed (`details.risk.score`).
    pub fn risk_score(&self) -> Option<u64> {
        self.details
            .get("risk")
            .and_then(|r| r.get("score"))
            .and_then(Value::as_u64)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity) -> Finding {
        Finding::new("r", severity, "m", None)
    }

    fn decide(severities: &[Severity]) -> Decision {
        Decision::from_findings(
            Check::Schedule,
            severities.iter().map(|s| finding(*s)).collect(),
            PolicyInfo::new("sha256:0"),
            Vec::new(),
        )
    }

    #[test]
    fn outcome_is_the_worst_finding_and_pending_is_not_allowed() {
        let cases: &[(&[Severity], Outcome, bool)] = &[
            (&[], Outcome::Allow, true),
            (&[Severity::Warn], Outcome::Warn, true),
            (
                &[Severity::Warn, Severity::Pending],
                Outcome::Pending,
                false,
            ),
            (
                &[Severity::Pending, Severity::Warn],
                Outcome::Pending,
                false,
            ),
            (&[Severity::Deny, Severity::Pending], Outcome::Deny, false),
            (&[Severity::Warn, Severity::Deny], Outcome::Deny, false),
        ];
        for (severities, outcome, allowed) in cases {
            let d = decide(severities);
            assert_eq!(d.outcome, *outcome, "{severities:?}");
            assert_eq!(d.allowed, *allowed, "{severities:?}");
        }
        assert!(Outcome::Allow < Outcome::Warn);
        assert!(Outcome::Warn < Outcome::Pending);
        assert!(Outcome::Pending < Outcome::Deny);
    }

    #[test]
    fn json_fields_in_contract_order() {
        let d = decide(&[Severity::Pending]);
        let json = d.to_json();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "schema", "check", "allowed", "outcome", "findings", "policy"
            ]
        );
        assert_eq!(json["schema"], 1);
        assert_eq!(json["check"], "schedule");
        assert_eq!(json["outcome"], "pending");
        assert_eq!(json["findings"][0]["severity"], "pending");
        let policy: Vec<&str> = json["policy"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(policy, ["digest", "engine"]);
        assert_eq!(json["policy"]["engine"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn check_names_are_lowercase() {
        for check in [
            Check::Schedule,
            Check::Risk,
            Check::Approvals,
            Check::Readiness,
            Check::Gates,
            Check::Rollback,
        ] {
            assert_eq!(
                serde_json::to_value(check).unwrap(),
                Value::from(check.as_str())
            );
        }
    }
}
