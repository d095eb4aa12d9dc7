//! [`PolicySet`]: a loaded bundle (`policy.yaml` plus compiled scripts) and the typed entry
//! points of each question, all run by one pipeline ([`evaluate`]).

mod bundle;
mod evaluate;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::calendar::Calendar;
use crate::config::PolicyConfig;
use crate::decision::Decision;
use crate::model::ChangeRequest;
use crate::rules::schedule::{ScheduleCtx, ScheduleRules};
use crate::script::Scripts;
pub use bundle::builtin_files;
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

    /// The environments the policy knows, sorted.
    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.inner.config.environments.keys().map(String::as_str)
    }

    /// The bundle's files, as named in findings.
    pub fn files(&self) -> &[String] {
        &self.inner.files
    }

    /// Decides whether `request` may run when it asks to, given what is already in `calendar`.
    ///
    /// `now` is the time of the check (advance notice is measured from `requested_at`, or from
    /// `now` when the request has none); nothing reads the clock. Built-in rules run first, then
    /// every script's `schedule` hook; a failing script adds a `policy_error` deny and the
    /// other rules still report.
    pub fn check_schedule(
        &self,
        request: &ChangeRequest,
        calendar: &Calendar,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        self.evaluate(
            &Schedule(ScheduleCtx::new(request, calendar, now.into())),
            None,
        )
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
