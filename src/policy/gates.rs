//! The `gates` question: `check_gates`. The environment's `gates:` section is evaluated over
//! the telemetry at `now` ([`crate::rules::gates`]), then every script's `fn gates(ctx)` runs
//! with the same telemetry; the decision carries `details.gates = {score, pass, warn,
//! results}`.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Map;

use super::PolicySet;
use super::evaluate::Question;
use crate::config::EnvironmentPolicy;
use crate::decision::{Check, Decision, Details, Finding};
use crate::model::ChangeRequest;
use crate::rules::gates::GatesRecord;
use crate::script::{GatesInput, Hook, HookInput};
use crate::telemetry::Telemetry;

/// Is the deployment healthy enough? The built-in gates run once; what `details.gates` shows
/// is kept here.
struct Gates<'a> {
    deployment: &'a ChangeRequest,
    telemetry: &'a Telemetry,
    now: DateTime<Utc>,
    /// Set by `builtin` (left unset for an unknown environment).
    record: OnceCell<GatesRecord>,
}

impl Question for Gates<'_> {
    const CHECK: Check = Check::Gates;
    const HOOK: Hook = Hook::Gates;

    fn environment(&self) -> &str {
        &self.deployment.environment
    }

    fn builtin(&self, policy: &EnvironmentPolicy, out: &mut Vec<Finding>) {
        let record = match policy.gates.as_ref() {
            Some(rules) => rules.evaluate(self.telemetry, self.now, out),
            None => GatesRecord::default(),
        };
        let _ = self.record.set(record);
    }

    fn hook_input(&self, tz: Tz) -> HookInput<'_> {
        HookInput::Gates(GatesInput {
            request: self.deployment,
            interval: self.deployment.interval(),
            now: self.now,
            tz,
            telemetry: self.telemetry,
        })
    }
}

impl PolicySet {
    /// Is `deployment` healthy enough to continue or promote, given `telemetry` at `now`?
    ///
    /// Each gate of the environment's `gates:` section reduces its metric over a window ending
    /// at `now` (measurements dated after `now` are not counted); the decision has `check:
    /// "gates"`, one finding per gate that warned, failed or was inconclusive (with the
    /// observed value, the aggregate, the window, the threshold and the samples counted), a
    /// `gate_score` finding when the weighted score is below `score.pass`, the findings of
    /// every script's `fn gates(ctx)`, and `details.gates = {score, pass, warn, results}`
    /// (docs/decision-contract.md). Inconclusive gates make it `pending`; a failed key gate
    /// (or any failed gate without `score:`) denies. An environment without `gates:` is
    /// allowed with no results; one the policy does not know is denied, without details.
    ///
    /// # Example
    /// ```
    /// use changegate::{ChangeRequest, Measurement, PolicySet, Telemetry};
    /// let policy = PolicySet::from_sources("bundle", [(
    ///     "policy.yaml".to_owned(),
    ///     "timezone: UTC\nenvironments:\n  production:\n    gates:\n      rules:\n        \
    ///      - {name: errors, metric: error_rate, aggregation: avg, window: 5m, max: 1%}\n"
    ///         .to_owned(),
    /// )])?;
    /// let deployment = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
    ///      start: 2026-12-01T08:00:00Z\nduration: 1h\n", "deployment.yaml")?;
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:10:00Z").unwrap();
    /// let at = |m: i64| now - chrono::TimeDelta::minutes(m);
    /// let telemetry = Telemetry::new(vec![
    ///     Measurement::new("error_rate", at(2), Some(0.004)),
    ///     Measurement::new("error_rate", at(1), Some(0.008)),
    /// ]);
    /// let decision = policy.check_gates(&deployment, &telemetry, now);
    /// assert_eq!(decision.outcome.as_str(), "allow");
    /// assert_eq!(decision.details["gates"]["results"][0]["status"], "pass");
    /// // No data at all: the gate is inconclusive, the decision `pending`.
    /// let decision = policy.check_gates(&deployment, &Telemetry::default(), now);
    /// assert_eq!(decision.outcome.as_str(), "pending");
    /// assert_eq!(decision.findings[0].rule.as_str(), "gate_inconclusive");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_gates(
        &self,
        deployment: &ChangeRequest,
        telemetry: &Telemetry,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let question = Gates {
            deployment,
            telemetry,
            now: now.into(),
            record: OnceCell::new(),
        };
        let mut decision = self.run_question(&question, None);
        if let Some(record) = question.record.into_inner() {
            decision.details = Details::deferred(move || {
                let mut details = Map::new();
                details.insert("gates".into(), record.to_json());
                details
            });
        }
        decision
    }
}
