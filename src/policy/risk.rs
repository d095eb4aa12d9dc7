//! The risk question: how risky is this change, and why? Validation results are judged by the
//! environment's `validation:` section (a failed, missing or stale `deny` category is a deny
//! finding), then the `risk:` factors are scored, and the decision carries
//! `details.risk = {score, level, factors, missing, mitigations}`.

use std::cell::RefCell;
use std::sync::{LazyLock, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Map;

use super::PolicySet;
use super::evaluate::Question;
use crate::calendar::Calendar;
use crate::config::EnvironmentPolicy;
use crate::decision::{Check, Decision, Details, Finding, Severity};
use crate::evidence::RiskEvidence;
use crate::model::{ChangeRequest, RiskLevel};
use crate::rules::Rule;
use crate::rules::risk::{Assessment, RiskCtx, RiskRules};
use crate::rules::schedule::notice;
use crate::rules::schedule::{ScheduleCtx, preferred};
use crate::rules::validation;
use crate::script::{Hook, HookInput, RiskAddition, RiskInput, ScheduleInput};

/// How risky is this change? The built-in part judges the validation results (deny findings)
/// and scores the factors; the `risk` hook may add points; the assessment is kept here until
/// the decision is made.
struct Risk<'a> {
    request: &'a ChangeRequest,
    evidence: &'a RiskEvidence,
    now: DateTime<Utc>,
    interval: crate::time::Interval,
    /// The built-in assessment and the environment's levels, once `builtin` ran.
    assessment: RefCell<Option<(Assessment, [u32; 3])>>,
    /// Points the scripts added.
    added: Mutex<Vec<RiskAddition>>,
}

impl Question for Risk<'_> {
    const CHECK: Check = Check::Risk;
    const HOOK: Hook = Hook::Risk;

    fn environment(&self) -> &str {
        &self.request.environment
    }

    fn builtin(&self, policy: &EnvironmentPolicy, out: &mut Vec<Finding>) {
        let (request, now) = (self.request, self.now);
        let outcomes = policy
            .validation
            .assess(self.evidence.validation.as_ref(), now);
        validation::findings(&outcomes, out);
        let empty = RiskRules::default();
        let rules = policy.risk.as_ref().unwrap_or(&empty);
        let preferred = policy
            .schedule
            .preferred_window
            .as_ref()
            .filter(|r| r.applies_to(&request.change_type));
        let outside_preferred = rules.outside_preferred_window.is_some()
            && preferred.is_some_and(|rule| {
                let mut scratch = Vec::new();
                let ctx = ScheduleCtx::new(request, &NO_CALENDAR, now);
                preferred::check(rule, &ctx, &mut scratch);
                !scratch.is_empty()
            });
        let ctx = RiskCtx {
            request,
            interval: self.interval,
            now,
            validation: &outcomes,
            history: self.evidence.history.as_ref(),
            preferred,
            outside_preferred,
        };
        *self.assessment.borrow_mut() = Some((rules.assess(&ctx), rules.levels));
    }

    fn hook_input(&self, tz: Tz) -> HookInput<'_> {
        let score = self
            .assessment
            .borrow()
            .as_ref()
            .map_or(0, |(a, _)| a.score);
        HookInput::Risk(RiskInput {
            request: self.request,
            interval: self.interval,
            now: self.now,
            tz,
            score,
            added: &self.added,
        })
    }
}

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
        self.assess(request, evidence, now.into()).0
    }

    /// The risk decision and the level it assessed (`None` for an unknown environment),
    /// without building `details.risk`: it is written only when read ([`crate::Details`]).
    pub(crate) fn assess(
        &self,
        request: &ChangeRequest,
        evidence: &RiskEvidence,
        now: DateTime<Utc>,
    ) -> (Decision, Option<RiskLevel>) {
        let question = Risk {
            request,
            evidence,
            now,
            interval: request.interval(),
            assessment: RefCell::new(None),
            added: Mutex::new(Vec::new()),
        };
        let mut decision = self.run_question(&question, None);
        let mut level = None;
        if let Some((mut assessment, levels)) = question.assessment.into_inner() {
            let added = question
                .added
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner);
            for a in added {
                assessment.add_script(a.points, a.reason, a.source);
            }
            level = Some(assessment.level(&levels));
            decision.details = Details::deferred(move || {
                let mut details = Map::new();
                details.insert("risk".into(), assessment.clone().into_json(&levels));
                details
            });
        }
        (decision, level)
    }

    /// The risk level of `request` alone (see [`PolicySet::assess_risk`]); `None` when the
    /// policy does not know its environment.
    pub fn risk_level(
        &self,
        request: &ChangeRequest,
        evidence: &RiskEvidence,
        now: impl Into<DateTime<Utc>>,
    ) -> Option<RiskLevel> {
        self.assess(request, evidence, now.into()).1
    }
}

/// The schedule question at a known risk level: the schedule rules as written, then the
/// environment's `stricter:` entries for that level (more notice, a preferred window that
/// denies).
struct ScheduleAtRisk<'a> {
    ctx: ScheduleCtx<'a>,
    level: RiskLevel,
}

impl Question for ScheduleAtRisk<'_> {
    const CHECK: Check = Check::Schedule;
    const HOOK: Hook = Hook::Schedule;

    fn environment(&self) -> &str {
        &self.ctx.request.environment
    }

    fn builtin(&self, policy: &EnvironmentPolicy, out: &mut Vec<Finding>) {
        let first = out.len();
        policy.schedule.check(&self.ctx, out);
        let ty = self.ctx.request.change_type.as_str();
        let by_risk = &policy.schedule_risk;
        // More notice: only when the rule applies to the type and did not deny already.
        if policy
            .schedule
            .advance_notice
            .as_ref()
            .is_some_and(|r| r.applies_to(ty))
        {
            let denied = out
                .get(first..)
                .unwrap_or_default()
                .iter()
                .any(|f| f.rule.as_str() == notice::ID);
            if let Some((min, source)) = by_risk.notice_for(self.level).filter(|_| !denied) {
                let stricter = Rule {
                    value: min,
                    exempt_types: Vec::new(),
                    source: source.to_owned(),
                };
                let before = out.len();
                notice::check(&stricter, &self.ctx, out);
                for f in out.get_mut(before..).unwrap_or_default() {
                    f.message.push_str(&format!(" (risk `{}`)", self.level));
                    f.details
                        .insert("risk_level".into(), self.level.as_str().into());
                }
            }
        }
        // A preferred window that denies from a level on.
        if let Some((at, source)) = by_risk.preferred_deny.as_ref() {
            if self.level >= *at {
                for f in out
                    .get_mut(first..)
                    .unwrap_or_default()
                    .iter_mut()
                    .filter(|f| f.rule.as_str() == preferred::ID)
                {
                    f.severity = Severity::Deny;
                    f.message.push_str(&format!(
                        "; a `{}` risk change must run inside it",
                        self.level
                    ));
                    f.source = Some(source.clone());
                    f.details
                        .insert("risk_level".into(), self.level.as_str().into());
                }
            }
        }
    }

    fn hook_input(&self, tz: Tz) -> HookInput<'_> {
        HookInput::Schedule(ScheduleInput {
            request: self.ctx.request,
            interval: self.ctx.interval,
            calendar: self.ctx.calendar,
            now: self.ctx.now,
            tz,
        })
    }
}

impl PolicySet {
    /// [`PolicySet::check_schedule`] for a change whose risk level is known: the schedule
    /// rules as written, then the environment's `stricter:` entries for `level`
    /// (`advance_notice.stricter: [{when: {risk_at_least: critical}, min: 48h}]`,
    /// `preferred_window.stricter: [{when: {risk_at_least: high}, severity: deny}]`); the
    /// findings they change carry `details.risk_level`. Without a `stricter:` entry for the
    /// level, the decision is the one of [`PolicySet::check_schedule`].
    ///
    /// # Example
    /// ```
    /// use changegate::{Calendar, ChangeRequest, PolicySet, RiskLevel};
    /// let policy = PolicySet::builtin()?;
    /// // A Tuesday afternoon: outside the weeknight window.
    /// let request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
    ///      start: 2026-12-01T14:00:00+01:00\nduration: 2h\n", "request.yaml")?;
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
    /// let low = policy.check_schedule_at_risk(&request, &Calendar::default(), RiskLevel::Low, now);
    /// assert_eq!(low.outcome.as_str(), "warn");
    /// let high = policy.check_schedule_at_risk(&request, &Calendar::default(), RiskLevel::High, now);
    /// assert_eq!(high.outcome.as_str(), "deny");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_schedule_at_risk(
        &self,
        request: &ChangeRequest,
        calendar: &Calendar,
        level: RiskLevel,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        self.schedule_at_risk(request, calendar, level, now.into(), &self.inner.directory)
    }

    /// [`PolicySet::check_schedule_at_risk`] with the directory a break-glass's second person
    /// is looked up in.
    pub(crate) fn schedule_at_risk(
        &self,
        request: &ChangeRequest,
        calendar: &Calendar,
        level: RiskLevel,
        now: DateTime<Utc>,
        directory: &crate::model::Directory,
    ) -> Decision {
        let decision = self.run_question(
            &ScheduleAtRisk {
                ctx: ScheduleCtx::new(request, calendar, now),
                level,
            },
            None,
        );
        if request.break_glass.is_some() {
            return self.apply_break_glass(request, directory, now, decision);
        }
        decision
    }

    /// Assesses the risk of `request` from `evidence` ([`PolicySet::assess_risk`]) and checks
    /// its schedule at that level ([`PolicySet::check_schedule_at_risk`]); an environment the
    /// policy does not know is denied as by [`PolicySet::check_schedule`].
    pub fn check_schedule_with_risk(
        &self,
        request: &ChangeRequest,
        calendar: &Calendar,
        evidence: &RiskEvidence,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let now = now.into();
        match self.risk_level(request, evidence, now) {
            Some(level) => self.check_schedule_at_risk(request, calendar, level, now),
            None => self.check_schedule(request, calendar, now),
        }
    }
}
