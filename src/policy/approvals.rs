//! The approvals question (do the approvals given satisfy the policy at `now`?) and the
//! readiness answer (may the change start now: schedule, risk and approvals together).
//!
//! A break-glass in the request is checked against the environment's `break_glass:`
//! by every question that has rules it may bypass (schedule, approvals, readiness): a valid
//! one turns the findings of the rules it names into warnings and adds a `break_glass`
//! warning; an invalid one is a `break_glass_invalid` deny and bypasses nothing.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::PolicySet;
use super::evaluate::Question;
use crate::config::EnvironmentPolicy;
use crate::decision::{Check, Decision, Details, Finding, PolicyInfo};
use crate::evidence::Evidence;
use crate::model::{Approval, ChangeRequest, Directory, RiskLevel};
use crate::rules::approvals::{ApprovalCtx, ApprovalRecord};
use crate::rules::break_glass::{self, BreakGlassRule, Grant};
use crate::script::{ApprovalInput, Hook, HookInput};

/// Do the approvals given satisfy the policy? The built-in rules run once; what the hook
/// sees (the valid approvals) and what the decision's details show are kept here.
struct Approvals<'a> {
    request: &'a ChangeRequest,
    now: DateTime<Utc>,
    level: RiskLevel,
    /// How the level was known: `given` or `assessed`.
    level_from: &'static str,
    directory: &'a Directory,
    votes: Vec<&'a Approval>,
    evidence: &'a Evidence,
    /// Whether a script defines the `approvals` hook (which reads the valid approvals).
    hooked: bool,
    /// Filled by `builtin`: the valid approvals, and what `details.approvals` shows (`None`
    /// when the environment has no `approvals:` section).
    valid: OnceCell<Vec<&'a Approval>>,
    record: OnceCell<Option<ApprovalRecord>>,
}

impl<'a> Question for Approvals<'a> {
    const CHECK: Check = Check::Approvals;
    const HOOK: Hook = Hook::Approvals;

    fn environment(&self) -> &str {
        &self.request.environment
    }

    fn builtin(&self, policy: &EnvironmentPolicy, out: &mut Vec<Finding>) {
        let valid = match policy.approvals.as_ref() {
            Some(rules) => {
                let ctx = ApprovalCtx {
                    request: self.request,
                    approvals: &self.votes,
                    directory: self.directory,
                    now: self.now,
                    level: self.level,
                    validation: self.evidence.validation.as_ref(),
                };
                let state = rules.evaluate(&ctx, out);
                let _ = self
                    .record
                    .set(Some(state.record(rules, self.level, self.level_from)));
                if !self.hooked {
                    return;
                }
                // The valid approvals borrow the request and the evidence, not the policy.
                state
                    .valid
                    .iter()
                    .filter_map(|v| self.votes.iter().find(|a| std::ptr::eq(**a, *v)).copied())
                    .collect()
            }
            None => {
                let _ = self.record.set(None);
                Vec::new()
            }
        };
        let _ = self.valid.set(valid);
    }

    fn hook_input(&self, tz: Tz) -> HookInput<'_> {
        HookInput::Approvals(ApprovalInput {
            request: self.request,
            interval: self.request.interval(),
            now: self.now,
            tz,
            level: self.level,
            directory: self.directory,
            valid: self.valid.get().map_or(&[], Vec::as_slice),
        })
    }
}

/// `details.approvals` of an environment without an `approvals:` section.
fn no_rules(level: RiskLevel, level_from: &'static str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("state".into(), "satisfied".into());
    m.insert("risk_level".into(), level.as_str().into());
    m.insert("rules".into(), Value::Array(Vec::new()));
    m.insert("risk_level_from".into(), level_from.into());
    m
}

impl PolicySet {
    /// The break-glass rule of `request`'s environment, if any.
    fn break_glass_rule(&self, request: &ChangeRequest) -> Option<&BreakGlassRule> {
        self.inner
            .config
            .environments
            .get(&request.environment)
            .and_then(|e| e.break_glass.as_ref())
    }

    /// Applies the request's break-glass, if any, to `decision`: a valid one turns the
    /// findings it bypasses into warnings and adds its `break_glass` warning; an invalid one
    /// adds a `break_glass_invalid` deny. An unknown environment is left as it is (denied).
    pub(crate) fn apply_break_glass(
        &self,
        request: &ChangeRequest,
        directory: &Directory,
        now: DateTime<Utc>,
        decision: Decision,
    ) -> Decision {
        if request.break_glass.is_none()
            || !self
                .inner
                .config
                .environments
                .contains_key(&request.environment)
        {
            return decision;
        }
        let Decision {
            check,
            mut findings,
            details,
            policy,
            trace,
            ..
        } = decision;
        match break_glass::check(self.break_glass_rule(request), request, directory, now) {
            Ok(Some(grant)) => Grant::apply(&grant, &mut findings),
            Ok(None) => {}
            Err(invalid) => findings.push(*invalid),
        }
        let mut decision = Decision::from_findings(check, findings, policy, trace);
        decision.details = details;
        decision
    }

    /// The directory a check uses: the bundle's with the evidence's laid over it.
    fn directory_for(&self, evidence: &Evidence) -> Directory {
        match &evidence.directory {
            Some(d) => self.inner.directory.overlaid(d),
            None => self.inner.directory.clone(),
        }
    }

    /// The risk level of `request`: the evidence's when given, else assessed from it; with
    /// where it came from (`given` or `assessed`). `None` for an unknown environment.
    fn level_for(
        &self,
        request: &ChangeRequest,
        evidence: &Evidence,
        now: DateTime<Utc>,
    ) -> (Option<RiskLevel>, &'static str, Option<Decision>) {
        match evidence.risk_level {
            Some(level) => (Some(level), "given", None),
            None => {
                let (risk, level) = self.assess(request, &evidence.risk(), now);
                (level, "assessed", Some(risk))
            }
        }
    }

    /// Decides whether the approvals given so far satisfy the policy of `request`'s
    /// environment at `now`.
    ///
    /// The approvals are the request's `approvals:` and then `evidence.approvals`; the
    /// directory is the bundle's `directory.yaml` with `evidence.directory` laid over it; the
    /// risk level that rules' `when: {risk_at_least}` read is `evidence.risk_level` when
    /// given, else assessed from `evidence` as [`PolicySet::assess_risk`] does (missing
    /// validation results score high: fail safe).
    ///
    /// The decision has `check: "approvals"`: `allow` when every applicable rule is
    /// satisfied, `pending` with one `approval_required` finding per unsatisfied rule (the
    /// next one only when the rules are ordered), `deny` on an eligible rejection, a passed
    /// deadline or an invalid break-glass. `details.approvals` lists the rules and how each
    /// stands, the approvals used, the votes ignored with the reason for each, the deadline
    /// and `expires_at` (docs/decision-contract.md).
    ///
    /// # Example
    /// ```
    /// use changegate::{Approval, ChangeRequest, Directory, Evidence, PolicySet, RiskLevel};
    /// let policy = PolicySet::builtin()?;
    /// let mut request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: search\nenvironment: staging\ntype: feature\n\
    ///      start: 2026-12-01T22:00:00+01:00\nduration: 2h\nrequested_by: bob@example.com\n",
    ///     "request.yaml")?;
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap();
    /// let evidence = Evidence::new()
    ///     .with_directory(Directory::new([("alice@example.com", ["release"])]))
    ///     .with_risk_level(RiskLevel::Low);
    /// assert_eq!(policy.check_approvals(&request, &evidence, now).outcome.as_str(), "pending");
    /// request.approvals.push(Approval::new("alice@example.com", now.into()));
    /// assert_eq!(policy.check_approvals(&request, &evidence, now).outcome.as_str(), "allow");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_approvals(
        &self,
        request: &ChangeRequest,
        evidence: &Evidence,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let now = now.into();
        let (level, from, _) = self.level_for(request, evidence, now);
        let directory = self.directory_for(evidence);
        self.approvals_at(request, evidence, &directory, level, from, now)
    }

    fn approvals_at(
        &self,
        request: &ChangeRequest,
        evidence: &Evidence,
        directory: &Directory,
        level: Option<RiskLevel>,
        level_from: &'static str,
        now: DateTime<Utc>,
    ) -> Decision {
        let votes: Vec<&Approval> = request
            .approvals
            .iter()
            .chain(evidence.approvals.iter())
            .collect();
        let question = Approvals {
            request,
            now,
            level: level.unwrap_or(RiskLevel::Critical),
            level_from,
            directory,
            votes,
            evidence,
            hooked: self.inner.scripts.has(Hook::Approvals),
            valid: OnceCell::new(),
            record: OnceCell::new(),
        };
        let mut decision = self.run_question(&question, None);
        // Unset for an unknown environment: no details.
        if let Some(record) = question.record.into_inner() {
            let (level, level_from) = (question.level, question.level_from);
            decision.details = Details::deferred(move || {
                let approvals = match &record {
                    Some(r) => r.to_json(),
                    None => no_rules(level, level_from),
                };
                let mut details = Map::new();
                details.insert("approvals".into(), Value::Object(approvals));
                details
            });
        }
        self.apply_break_glass(request, directory, now, decision)
    }

    /// May `request` start now? One answer for a whole change: its schedule at its risk
    /// level ([`PolicySet::check_schedule_at_risk`] with `evidence.calendar`), its risk
    /// ([`PolicySet::assess_risk`], unless `evidence.risk_level` is given) and its approvals
    /// ([`PolicySet::check_approvals`]), with a break-glass applied to each.
    ///
    /// The decision has `check: "readiness"`; its findings are the union of the three
    /// questions' (each with `question` naming the one it came from; a finding two questions
    /// share, like an unknown environment, once), so its outcome is the worst of theirs:
    /// `pending` while approvals are missing. `details` has `questions` (each question's
    /// outcome), `risk` (when assessed) and `approvals`.
    ///
    /// # Example
    /// ```
    /// use changegate::{ChangeRequest, Evidence, PolicySet, RiskLevel};
    /// let policy = PolicySet::builtin()?;
    /// let request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: search\nenvironment: development\ntype: feature\n\
    ///      start: 2026-12-01T22:00:00+01:00\nduration: 2h\n", "request.yaml")?;
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
    /// let decision = policy.evaluate(&request, &Evidence::new(), now);
    /// assert_eq!(decision.check.as_str(), "readiness");
    /// assert!(decision.allowed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate(
        &self,
        request: &ChangeRequest,
        evidence: &Evidence,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let now = now.into();
        let (level, from, risk) = self.level_for(request, evidence, now);
        let directory = self.directory_for(evidence);
        // An unknown environment (no level) is denied by each question alike.
        let schedule = self.schedule_at_risk(
            request,
            &evidence.calendar,
            level.unwrap_or(RiskLevel::Low),
            now,
            &directory,
        );
        let approvals = self.approvals_at(request, evidence, &directory, level, from, now);
        let mut findings: Vec<Finding> = Vec::new();
        let mut trace = Vec::new();
        let mut questions = Map::new();
        let mut details = Map::new();
        let parts = [Some(schedule), risk, Some(approvals)];
        for decision in parts.into_iter().flatten() {
            questions.insert(
                decision.check.as_str().into(),
                decision.outcome.as_str().into(),
            );
            for mut f in decision.findings {
                let seen = findings
                    .iter()
                    .any(|g| g.rule == f.rule && g.message == f.message && g.source == f.source);
                if !seen {
                    f.question = Some(decision.check);
                    findings.push(f);
                }
            }
            trace.extend(decision.trace);
            for (k, v) in decision.details {
                details.insert(k, v);
            }
        }
        details.insert("questions".into(), Value::Object(questions));
        let mut decision = Decision::from_findings(
            Check::Readiness,
            findings,
            PolicyInfo::new(&self.inner.digest),
            trace,
        );
        decision.details = details.into();
        decision
    }
}
