//! The `rollback` question: `check_rollback`. The built-in part sweeps each trigger's
//! condition over the telemetry up to `now` ([`crate::rules::rollback`]); the `rollback` hook
//! may demand a level (`rollback_to`); the decision (level, deadline, escalation) is made once
//! both are known, and carries `details.rollback`.
//!
//! The monitor ([`crate::Monitor`]) asks the same question through the same pipeline, with
//! the sweeps it keeps incrementally instead of a batch sweep: the decisions agree.

use std::cell::{OnceCell, RefCell};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Map;

use super::PolicySet;
use super::evaluate::Question;
use crate::config::EnvironmentPolicy;
use crate::decision::{Check, Decision, Details, Finding};
use crate::model::ChangeRequest;
use crate::rules::rollback::{
    self, Demand, RollbackRules, State, TriggerStatus, TriggerSweep, decide,
};
use crate::script::{Hook, HookInput, LevelDemand, RollbackInput};
use crate::telemetry::{Telemetry, millis};

/// A trigger's `(name, state, since, fired_at)`, as [`PolicySet::rollback_oracle`] gives it.
#[doc(hidden)]
pub type OracleState = (String, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What the built-in part found.
enum Found {
    /// The environment has no `rollback:` section.
    NoSection,
    /// The rules and each trigger's state at `now`.
    Rules(Arc<RollbackRules>, Vec<TriggerStatus>),
}

/// Should the deployment roll back? The triggers' states are found by `builtin` (from the
/// sweeps given, or by sweeping the telemetry), the decision is made once the hook ran.
struct Rollback<'a> {
    request: &'a ChangeRequest,
    telemetry: &'a Telemetry,
    now: DateTime<Utc>,
    /// The monitor's sweeps, already at `now`; `None`: sweep the telemetry.
    given: Option<&'a [TriggerSweep]>,
    found: RefCell<Option<Found>>,
    /// The level names, for the hook.
    levels: OnceCell<Vec<String>>,
    /// The levels scripts demanded.
    demanded: Mutex<Vec<LevelDemand>>,
}

impl Question for Rollback<'_> {
    const CHECK: Check = Check::Rollback;
    const HOOK: Hook = Hook::Rollback;

    fn environment(&self) -> &str {
        &self.request.environment
    }

    fn builtin(&self, policy: &EnvironmentPolicy, _out: &mut Vec<Finding>) {
        let Some(rules) = policy.rollback.as_ref() else {
            *self.found.borrow_mut() = Some(Found::NoSection);
            return;
        };
        let now = millis(self.now);
        let origin = millis(self.request.start.with_timezone(&Utc));
        let statuses = match self.given {
            Some(sweeps) => rules
                .triggers
                .iter()
                .zip(sweeps)
                .map(|(t, s)| s.status(t, origin, now))
                .collect(),
            None => rules
                .triggers
                .iter()
                .zip(rollback::sweep(rules, self.telemetry, now))
                .map(|(t, s)| s.status(t, origin, now))
                .collect(),
        };
        *self.found.borrow_mut() = Some(Found::Rules(Arc::clone(rules), statuses));
    }

    fn hook_input(&self, tz: Tz) -> HookInput<'_> {
        // The level names, for `rollback_to`: built only when a script asks.
        let levels = self.levels.get_or_init(|| match &*self.found.borrow() {
            Some(Found::Rules(rules, _)) => rules.levels.iter().map(|l| l.name.clone()).collect(),
            _ => Vec::new(),
        });
        HookInput::Rollback(RollbackInput {
            request: self.request,
            interval: self.request.interval(),
            now: self.now,
            tz,
            telemetry: self.telemetry,
            levels,
            demanded: &self.demanded,
        })
    }
}

impl PolicySet {
    /// Should `deployment` roll back, how far and by when, given `telemetry` at `now`?
    ///
    /// Each trigger of the environment's `rollback:` section is swept over the telemetry up
    /// to `now` (measurements and events dated after `now` are ignored): its condition is
    /// true, false or unknown (no data) at each instant, and it fires once true without a
    /// break for its `for:`. The `rollback` hook may demand a level (`rollback_to`).
    ///
    /// The decision has `check: "rollback"`. `deny` means "roll back": a `rollback` finding
    /// (the level demanded and its deadline), or `rollback_escalation` when a rollback
    /// performed at that level or above ran out of its budget with triggers still firing, and
    /// one `rollback_trigger` finding per firing trigger with its values. `pending` means
    /// "keep watching": a rollback in progress within its budget (`rollback_in_progress`), or
    /// a trigger without data (`rollback_inconclusive`). A trigger whose condition holds, not
    /// yet for its `for:`, is a `rollback_watch` warning. `details.rollback` holds `action`,
    /// `level`, `deadline`, `triggers`, `performed` and `demands` (docs/decision-contract.md). An
    /// environment without a `rollback:` section is allowed, with `details.rollback.level`
    /// null; an environment the policy does not know is denied.
    ///
    /// # Example
    /// ```
    /// use changegate::{ChangeRequest, PolicySet, Telemetry};
    /// let policy = PolicySet::builtin()?;
    /// let deployment = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: search\nenvironment: development\ntype: feature\n\
    ///      start: 2026-12-01T22:00:00+01:00\nduration: 2h\n", "deployment.yaml")?;
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T21:30:00Z").unwrap();
    /// let decision = policy.check_rollback(&deployment, &Telemetry::default(), now);
    /// assert_eq!(decision.check.as_str(), "rollback");
    /// assert!(decision.details["rollback"]["level"].is_null());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_rollback(
        &self,
        deployment: &ChangeRequest,
        telemetry: &Telemetry,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        self.rollback_decision(deployment, telemetry, now.into(), None)
    }

    /// Whether a script of the bundle defines `fn rollback(ctx)`.
    pub(crate) fn has_rollback_hook(&self) -> bool {
        self.inner.scripts.has(Hook::Rollback)
    }

    /// The rules of the `rollback:` section of `environment`, if any.
    pub(crate) fn rollback_rules(&self, environment: &str) -> Option<Arc<RollbackRules>> {
        self.inner
            .config
            .environments
            .get(environment)
            .and_then(|e| e.rollback.clone())
    }

    /// [`PolicySet::check_rollback`], with the triggers' sweeps already at `now` when given
    /// (the monitor's), in the order of the section's triggers.
    pub(crate) fn rollback_decision(
        &self,
        deployment: &ChangeRequest,
        telemetry: &Telemetry,
        now: DateTime<Utc>,
        given: Option<&[TriggerSweep]>,
    ) -> Decision {
        let question = Rollback {
            request: deployment,
            telemetry,
            now,
            given,
            found: RefCell::new(None),
            levels: OnceCell::new(),
            demanded: Mutex::new(Vec::new()),
        };
        let mut decision = self.run_question(&question, None);
        match question.found.into_inner() {
            // An unknown environment: denied, without details.
            None => decision,
            Some(Found::NoSection) => {
                decision.details = Details::deferred(|| {
                    let mut m = Map::new();
                    m.insert("rollback".into(), rollback::no_rules());
                    m
                });
                decision
            }
            Some(Found::Rules(rules, statuses)) => {
                let levels = rules.levels.len();
                let demands: Vec<Demand> = question
                    .demanded
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner)
                    .into_iter()
                    .filter(|d| d.level < levels)
                    .map(|d| Demand {
                        level: d.level,
                        reason: d.reason,
                        source: d.source,
                    })
                    .collect();
                let Decision {
                    check,
                    findings,
                    policy,
                    trace,
                    ..
                } = decision;
                // No allocation when nothing is found (the monitor decides once per instant).
                let mut all = Vec::new();
                let verdict = decide(
                    &rules,
                    statuses,
                    demands,
                    telemetry.rollbacks(),
                    millis(now),
                    &mut all,
                );
                all.extend(findings);
                let mut decision = Decision::from_findings(check, all, policy, trace);
                decision.details = rollback::details(rules, verdict);
                decision
            }
        }
    }

    /// A test hook, not part of the API: each trigger's `(name, state, since, fired_at)` at
    /// `now` from a brute-force oracle that evaluates every condition at every instant it may
    /// change with the slice aggregations (the property tests compare the sweep with it).
    #[doc(hidden)]
    pub fn rollback_oracle(
        &self,
        deployment: &ChangeRequest,
        telemetry: &Telemetry,
        now: DateTime<Utc>,
    ) -> Vec<OracleState> {
        let Some(rules) = self.rollback_rules(&deployment.environment) else {
            return Vec::new();
        };
        let origin = millis(deployment.start.with_timezone(&Utc));
        rollback::oracle(&rules, telemetry, origin, millis(now))
            .into_iter()
            .zip(&rules.triggers)
            .map(|((state, since, fired), t): ((State, _, _), _)| {
                (
                    t.name.clone(),
                    state.name().to_owned(),
                    since.map(rollback::instant),
                    fired.map(rollback::instant),
                )
            })
            .collect()
    }
}
