//! [`PolicySet`]: a loaded bundle (`policy.yaml` plus compiled scripts) and the typed entry
//! points of each question, all run by one pipeline ([`evaluate`]).

mod approvals;
mod bundle;
mod evaluate;
mod gates;
mod risk;
mod rollback;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::calendar::Calendar;
use crate::config::PolicyConfig;
use crate::decision::Decision;
use crate::error::InputError;
use crate::model::ChangeRequest;
use crate::rules::schedule::{ScheduleCtx, ScheduleRules};
use crate::script::Scripts;
pub use bundle::{builtin_files, builtin_sources, builtin_tests};
pub(crate) use evaluate::{Schedule, Trail};

/// A loaded policy bundle: compile once, evaluate many times.
///
/// `PolicySet` is `Send + Sync` and cheap to clone (the compiled bundle sits behind an `Arc`).
///
/// # Example
/// ```
/// use changegate::{Calendar, ChangeRequest, PolicySet};
/// let policy = PolicySet::builtin().unwrap();
/// let request = ChangeRequest::from_yaml(
///     "id: dep-1\nservice: search\nenvironment: production\ntype: feature\n\
///      start: 2026-12-01T22:00:00+01:00\nduration: 2h\n", "request.yaml").unwrap();
/// let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
/// let decision = policy.check_schedule(&request, &Calendar::default(), now);
/// assert!(decision.allowed);
/// ```
#[derive(Clone, Debug)]
pub struct PolicySet {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: PolicyConfig,
    scripts: Scripts,
    digest: String,
    files: Vec<String>,
    /// The bundle's `directory.yaml` (empty when it has none).
    directory: crate::model::Directory,
    /// `policy.yaml`'s name in findings and its text, for the linter's positions.
    policy_file: (String, String),
}

impl PolicySet {
    /// `sha256:` and the hex digest of the bundle's file names and contents.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// The bundle's time zone, in which recurring windows and script helpers read local time.
    pub fn timezone(&self) -> Tz {
        self.inner.config.timezone
    }

    /// The schedule rules of `environment`, if the policy knows it.
    pub(crate) fn schedule_rules(&self, environment: &str) -> Option<&ScheduleRules> {
        self.inner
            .config
            .environments
            .get(environment)
            .map(|e| &e.schedule)
    }

    /// What the policy says about `environment` (for coverage reports), if it knows it.
    pub(crate) fn environment_policy(
        &self,
        environment: &str,
    ) -> Option<&crate::config::EnvironmentPolicy> {
        self.inner.config.environments.get(environment)
    }

    /// The environments the policy knows, sorted.
    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.inner.config.environments.keys().map(String::as_str)
    }

    /// The bundle's directory of people and roles (`directory.yaml`; empty when it has none).
    pub fn directory(&self) -> &crate::model::Directory {
        &self.inner.directory
    }

    /// The bundle's files, as named in findings.
    pub fn files(&self) -> &[String] {
        &self.inner.files
    }

    /// Lints the bundle: what loads but cannot work as its author meant (a quorum nobody can
    /// fill, a blackout that never ends, a type that looks like a typo...). `now` starts the
    /// year over which windows are expanded; nothing reads the clock. The codes are listed in
    /// docs/policy-authoring.md, "Validate".
    ///
    /// # Example
    /// ```
    /// use changegate::PolicySet;
    /// let policy = PolicySet::from_sources("b", [(
    ///     "policy.yaml".to_owned(),
    ///     "timezone: UTC\nenvironments:\n  production:\n    blackouts:\n      - name: always\n        \
    ///      weekly: {from: \"mon 00:00\", to: \"mon 00:00\"}\n".to_owned(),
    /// )])?;
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z").unwrap();
    /// let lints = policy.lint(now);
    /// assert_eq!(lints[0].code, "blackout_always");
    /// assert_eq!(lints[0].location.to_string(), "b/policy.yaml:5:7");
    /// # Ok::<(), changegate::LoadError>(())
    /// ```
    pub fn lint(&self, now: impl Into<DateTime<Utc>>) -> Vec<crate::lint::Lint> {
        let (file, text) = &self.inner.policy_file;
        crate::lint::lint(
            &self.inner.config,
            &self.inner.directory,
            file,
            text,
            now.into(),
        )
    }

    /// Checks that every environment `calendar`'s deployments and blackouts name is one the
    /// policy knows. A calendar entry for an unknown environment (`prod` for `production`)
    /// would silently never apply: [`PolicySet::check_schedule`] does not look for it, so call
    /// this once when a calendar is built from anything but
    /// [`Calendar::from_yaml_checked`] (which makes the same check, with line and column).
    ///
    /// It walks the calendar once (every deployment and blackout), so call it when the
    /// calendar is built, not before every check.
    ///
    /// # Errors
    /// The first deployment (then blackout) naming an unknown environment, in the order given:
    /// the same message as [`Calendar::from_yaml_checked`], with a "did you mean", and the
    /// field (`deployments[3].environment`, `blackouts[0].environments[1]`); the location is
    /// `<calendar>` without a line.
    ///
    /// # Example
    /// ```
    /// use changegate::{Calendar, PolicySet};
    /// let policy = PolicySet::builtin()?;
    /// let text = "blackouts:\n  - {name: x, from: 2026-12-01T00:00:00Z, to: 2026-12-02T00:00:00Z, environments: [prod]}\n";
    /// // `from_yaml` does not know the policy: the calendar reads.
    /// let calendar = Calendar::from_yaml(text, "c.yaml").unwrap();
    /// let err = policy.check_calendar(&calendar).unwrap_err();
    /// assert_eq!(err.field.as_deref(), Some("blackouts[0].environments[0]"));
    /// assert!(err.message.contains("did you mean `production`?"), "{err}");
    /// assert!(policy.check_calendar(&Calendar::default()).is_ok());
    /// # Ok::<(), changegate::LoadError>(())
    /// ```
    pub fn check_calendar(&self, calendar: &Calendar) -> Result<(), InputError> {
        let known: Vec<&str> = self.environments().collect();
        crate::config::check_calendar(calendar, &known)
    }

    /// Decides whether `request` may run when it asks to, given what is already in `calendar`.
    ///
    /// `now` is the time of the check (advance notice is measured from `requested_at`, or from
    /// `now` when the request has none); nothing reads the clock. Built-in rules run first, then
    /// every script's `schedule` hook; a failing script adds a `policy_error` deny and the
    /// other rules still report.
    ///
    /// The calendar is not checked against the policy here: an entry naming an environment
    /// the policy does not know simply never applies. Read calendars with
    /// [`Calendar::from_yaml_checked`], or check them once with [`PolicySet::check_calendar`].
    ///
    /// A `break_glass` in the request is checked against the environment's
    /// `break_glass:` section (with the bundle's directory): a valid one turns the findings
    /// of the rules it bypasses into warnings and adds a `break_glass` warning; an invalid one
    /// is a `break_glass_invalid` deny.
    pub fn check_schedule(
        &self,
        request: &ChangeRequest,
        calendar: &Calendar,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let now = now.into();
        let decision = self.run_question(&Schedule(ScheduleCtx::new(request, calendar, now)), None);
        if request.break_glass.is_some() {
            return self.apply_break_glass(request, &self.inner.directory, now, decision);
        }
        decision
    }

    /// Checks many requests against one calendar, in order (used by batch faces).
    pub fn check_schedule_many<'a>(
        &self,
        requests: impl IntoIterator<Item = &'a ChangeRequest>,
        calendar: &Calendar,
        now: impl Into<DateTime<Utc>>,
    ) -> Vec<Decision> {
        let now = now.into();
        requests
            .into_iter()
            .map(|r| self.check_schedule(r, calendar, now))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_set_is_send_sync_and_builtin_loads() {
        fn is<T: Send + Sync + Clone>() {}
        is::<PolicySet>();
        is::<Calendar>();
        let p = PolicySet::builtin().unwrap();
        assert!(p.digest().starts_with("sha256:"));
        assert_eq!(p.files()[0], "policies/change_ticket.rhai");
    }
}
