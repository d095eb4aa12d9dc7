//! The risk question: how risky is this change, and why? Validation results are judged by the
//! environment's `validation:` section (a failed, missing or stale `deny` category is a deny
//! finding), then the `risk:` factors are scored, and the decision carries
//! `details.risk = {score, level, factors, missing, mitigations}`.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::PolicySet;
use crate::calendar::Calendar;
use crate::decision::{Check, Decision, PolicyInfo};
use crate::evidence::RiskEvidence;
use crate::model::{ChangeRequest, RiskLevel};
use crate::rules::environment;
use crate::rules::risk::{Assessment, RiskCtx, RiskRules};
use crate::rules::schedule::{ScheduleCtx, preferred};
use crate::rules::validation;

/// The calendar the preferred-window rule is asked with: it does not read the calendar.
static NO_CALENDAR: LazyLock<Calendar> = LazyLock::new(Calendar::default);

impl PolicySet {
    /// Assesses how risky `request` is, from its type and scope, its validation results and
    /// the history of past changes in `evidence`, at `now`.
    ///
    /// The decision has `check: "risk"`; its `details.risk` holds the `score`, the `level`
    /// (`low`, `medium`, `high`, `critical`), the `factors` that scored (`name`, `points`,
    /// `reason`, `source`), the evidence that was `missing` (scored as the factor's maximum)
    /// and the `mitigations` of the factors that fired. A `deny` validation category that
    /// failed, or has no fresh result, is a deny finding (`validation_failed`,
    /// `validation_missing`); otherwise the outcome is `allow`. An environment the policy
    /// does not know is denied, without `details.risk`.
    ///
    /// # Example
    /// ```
    /// use changegate::{ChangeRequest, PolicySet, RiskEvidence, RiskLevel};
    /// let policy = PolicySet::builtin()?;
    /// let request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
    ///      start: 2026-12-01T22:00:00+01:00\nduration: 2h\n", "request.yaml")?;
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
    /// // No evidence at all: every validation category and the history are missing.
    /// let decision = policy.assess_risk(&request, &RiskEvidence::default(), now);
    /// assert_eq!(decision.check.as_str(), "risk");
    /// assert_eq!(decision.risk_level(), Some(RiskLevel::Critical));
    /// assert!(decision.details["risk"]["missing"].as_array().unwrap().len() > 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn assess_risk(
        &self,
        request: &ChangeRequest,
        evidence: &RiskEvidence,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let now = now.into();
        let inner = &*self.inner;
        let mut findings = Vec::new();
        let mut details = Map::new();
        match inner.config.environments.get(&request.environment) {
            None => findings.push(environment::finding(
                &request.environment,
                self.environments(),
                &inner.config.environments_source,
            )),
            Some(policy) => {
                let outcomes = policy.validation.assess(evidence.validation.as_ref(), now);
                validation::findings(&outcomes, &mut findings);
                let empty = RiskRules::default();
                let rules = policy.risk.as_ref().unwrap_or(&empty);
                let preferred = policy
                    .schedule
                    .preferred_window
                    .as_ref()
                    .filter(|r| r.applies_to(&request.change_type));
                let interval = request.interval();
                let outside_preferred = rules.outside_preferred_window.is_some()
                    && preferred.is_some_and(|rule| {
                        let mut scratch = Vec::new();
                        let ctx = ScheduleCtx::new(request, &NO_CALENDAR, now);
                        preferred::check(rule, &ctx, &mut scratch);
                        !scratch.is_empty()
                    });
                let ctx = RiskCtx {
                    request,
                    interval,
                    now,
                    validation: &outcomes,
                    history: evidence.history.as_ref(),
                    preferred,
                    outside_preferred,
                };
                let assessment: Assessment = rules.assess(&ctx);
                details.insert("risk".into(), assessment.to_json(&rules.levels));
            }
        }
        let mut decision = Decision::from_findings(
            Check::Risk,
            findings,
            PolicyInfo::new(&inner.digest),
            Vec::new(),
        );
        decision.details = details;
        decision
    }

    /// The risk level of `request` alone (see [`PolicySet::assess_risk`]); `None` when the
    /// policy does not know its environment.
    pub fn risk_level(
        &self,
        request: &ChangeRequest,
        evidence: &RiskEvidence,
        now: impl Into<DateTime<Utc>>,
    ) -> Option<RiskLevel> {
        self.assess_risk(request, evidence, now).risk_level()
    }
}
