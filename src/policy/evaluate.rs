//! The one pipeline every question runs: environment lookup (an unknown environment denies,
//! written once in [`crate::rules::environment`]) -> the question's built-in rules -> the
//! question's script hook -> one [`Decision`]. Each question is a [`Question`]; its typed entry
//! point on [`PolicySet`] is a thin wrapper.

use chrono_tz::Tz;

use super::PolicySet;
use crate::config::EnvironmentPolicy;
use crate::decision::{Check, Decision, Finding, PolicyInfo, Severity};
use crate::rules::environment;
use crate::rules::schedule::ScheduleCtx;
use crate::script::{Hook, HookInput, ScheduleInput, ScriptRun};

/// What an evaluation did beyond its decision, for callers that move the request's start (the
/// window search): whether built-in rules denied, and what each script's hook did.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    pub builtin_denied: bool,
    pub scripts: Vec<ScriptRun>,
}

/// One question, as the pipeline runs it.
pub(crate) trait Question {
    /// Which question the decision answers.
    const CHECK: Check;
    /// The script hook that takes part in it.
    const HOOK: Hook;
    /// The environment the question is about.
    fn environment(&self) -> &str;
    /// Runs the question's built-in rules: its section of the environment's policy.
    fn builtin(&self, policy: &EnvironmentPolicy, out: &mut Vec<Finding>);
    /// What the question's hook sees.
    fn hook_input(&self, tz: Tz) -> HookInput<'_>;
}

/// May this change run at this time?
pub(crate) struct Schedule<'a>(pub ScheduleCtx<'a>);

impl Question for Schedule<'_> {
    const CHECK: Check = Check::Schedule;
    const HOOK: Hook = Hook::Schedule;

    fn environment(&self) -> &str {
        &self.0.request.environment
    }

    fn builtin(&self, policy: &EnvironmentPolicy, out: &mut Vec<Finding>) {
        policy.schedule.check(&self.0, out);
    }

    fn hook_input(&self, tz: Tz) -> HookInput<'_> {
        HookInput::Schedule(ScheduleInput {
            request: self.0.request,
            interval: self.0.interval,
            calendar: self.0.calendar,
            now: self.0.now,
            tz,
        })
    }
}

impl PolicySet {
    /// Runs `question` through the pipeline. `trail`, when given, receives what the built-in
    /// rules and each script's hook did (the window search uses it to know how long an answer
    /// holds).
    pub(crate) fn run_question<Q: Question>(
        &self,
        question: &Q,
        mut trail: Option<&mut Trail>,
    ) -> Decision {
        let inner = &*self.inner;
        let mut findings = Vec::new();
        let env = question.environment();
        match inner.config.environments.get(env) {
            Some(policy) => question.builtin(policy, &mut findings),
            None => findings.push(environment::finding(
                env,
                self.environments(),
                &inner.config.environments_source,
            )),
        }
        if let Some(trail) = trail.as_deref_mut() {
            trail.builtin_denied = findings.iter().any(|f| f.severity == Severity::Deny);
        }
        let mut trace = Vec::new();
        // What the hook sees is built only when a script defines it.
        if inner.scripts.has(Q::HOOK) {
            inner.scripts.run(
                &question.hook_input(inner.config.timezone),
                None,
                &mut findings,
                &mut trace,
                trail.map(|t| &mut t.scripts),
            );
        }
        Decision::from_findings(Q::CHECK, findings, PolicyInfo::new(&inner.digest), trace)
    }

    /// Runs only the hooks of the scripts whose index is in `only`, for a caller that knows
    /// the built-in rules and every other script allow `question` (the window search, inside
    /// a confirmed window). The decision holds those scripts' findings only.
    pub(crate) fn evaluate_scripts<Q: Question>(
        &self,
        question: &Q,
        only: &[usize],
        trail: &mut Trail,
    ) -> Decision {
        let inner = &*self.inner;
        let mut findings = Vec::new();
        let mut trace = Vec::new();
        inner.scripts.run(
            &question.hook_input(inner.config.timezone),
            Some(only),
            &mut findings,
            &mut trace,
            Some(&mut trail.scripts),
        );
        Decision::from_findings(Q::CHECK, findings, PolicyInfo::new(&inner.digest), trace)
    }
}
