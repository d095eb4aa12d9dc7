//! [`PolicySet`]: a loaded bundle (`policy.yaml` plus compiled scripts) and the evaluation entry
//! points.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::calendar::Calendar;
use crate::checks::ScheduleRules;
use crate::checks::schedule;
use crate::config::{BundleFiles, PolicyConfig, parse_policy};
use crate::decision::{Check, Decision, Finding, PolicyInfo, RuleId, Severity};
use crate::error::{LoadError, LoadErrorKind, Location};
use crate::model::ChangeRequest;
use crate::script::{HookInput, Scripts};

/// The name of the bundle's configuration file.
const POLICY_FILE: &str = "policy.yaml";

/// The default bundle, embedded so that [`PolicySet::builtin`] needs no files.
const BUILTIN: &[(&str, &str)] = &[
    (POLICY_FILE, include_str!("../policies/policy.yaml")),
    (
        "change_ticket.rhai",
        include_str!("../policies/change_ticket.rhai"),
    ),
    (
        "emergency_incident.rhai",
        include_str!("../policies/emergency_incident.rhai"),
    ),
    (
        "team_overlap.rhai",
        include_str!("../policies/team_overlap.rhai"),
    ),
];

/// The names of the embedded default bundle's files (for tests and tooling).
pub fn builtin_files() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _)| *name)
}

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

fn load_error(kind: LoadErrorKind, file: &str, message: String) -> LoadError {
    LoadError {
        kind,
        location: Location::new(file, None),
        field: None,
        message,
    }
}

impl PolicySet {
    /// The default bundle shipped with changegate (the files in `policies/`).
    ///
    /// # Errors
    /// None in practice: the embedded bundle is tested to load. The `Result` keeps a broken
    /// build from panicking.
    pub fn builtin() -> Result<Self, LoadError> {
        Self::from_sources(
            "policies",
            BUILTIN
                .iter()
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned())),
        )
    }

    /// Loads the bundle in `dir`: `policy.yaml`, every `*.rhai` file beside it, and every
    /// `*.ics` calendar in it or its subdirectories (named in `policy.yaml` relative to `dir`).
    ///
    /// # Errors
    /// A missing or unreadable file, invalid YAML, a schema violation, an unknown time zone, a
    /// window that ends before it starts, a script that does not compile: each names the file,
    /// line, column and field.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, LoadError> {
        let dir = dir.as_ref();
        let label = dir.display().to_string();
        let read_err = |path: &Path, e: std::io::Error| {
            load_error(
                LoadErrorKind::Io,
                &path.display().to_string(),
                format!("cannot read: {e}"),
            )
        };
        let mut files = Vec::new();
        // (directory, its path relative to the bundle); calendars may sit a few levels down.
        let mut pending = vec![(dir.to_path_buf(), String::new())];
        while let Some((current, prefix)) = pending.pop() {
            let entries = std::fs::read_dir(&current).map_err(|e| read_err(&current, e))?;
            for entry in entries {
                let path = entry.map_err(|e| read_err(&current, e))?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let relative = format!("{prefix}{name}");
                if path.is_dir() {
                    if !name.starts_with('.') && prefix.matches('/').count() < 3 {
                        pending.push((path.clone(), format!("{relative}/")));
                    }
                    continue;
                }
                let top = prefix.is_empty();
                if (top && (name == POLICY_FILE || name.ends_with(".rhai")))
                    || name.ends_with(".ics")
                {
                    let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
                    files.push((relative, text));
                }
            }
        }
        Self::from_sources(&label, files)
    }

    /// Loads a bundle from `(file name, text)` pairs, one of them `policy.yaml`; `label` (a
    /// directory name) prefixes the file names in errors and findings. `*.rhai` files are
    /// compiled; `*.ics` files (names relative to the bundle, e.g. `calendars/holidays.ics`) are
    /// the calendars `policy.yaml` may name. Every file given counts in the digest.
    ///
    /// # Errors
    /// As [`PolicySet::load`].
    pub fn from_sources(
        label: &str,
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, LoadError> {
        let mut files: Vec<(String, String)> = files.into_iter().collect();
        files.sort();
        let origin = |name: &str| {
            if label.is_empty() {
                name.to_owned()
            } else {
                format!("{}/{name}", label.trim_end_matches('/'))
            }
        };
        let policy_text = files
            .iter()
            .find(|(n, _)| n == POLICY_FILE)
            .map(|(_, t)| t.as_str())
            .ok_or_else(|| {
                load_error(
                    LoadErrorKind::Io,
                    &origin(POLICY_FILE),
                    format!("the bundle has no `{POLICY_FILE}`"),
                )
            })?;
        let calendars: BundleFiles = files
            .iter()
            .filter(|(n, _)| n.ends_with(".ics"))
            .map(|(n, t)| (n.as_str(), (origin(n), t.as_str())))
            .collect();
        let config = parse_policy(policy_text, &origin(POLICY_FILE), &calendars)?;
        let script_files: Vec<(String, String)> = files
            .iter()
            .filter(|(n, _)| n.ends_with(".rhai"))
            .map(|(n, t)| (origin(n), t.clone()))
            .collect();
        let scripts = Scripts::compile(&script_files)?;
        let mut hasher = Sha256::new();
        for (name, text) in &files {
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                scripts,
                digest: format!("sha256:{hex}"),
                files: files.iter().map(|(n, _)| origin(n)).collect(),
            }),
        })
    }

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
        self.inner.config.environments.get(environment)
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
        let now = now.into();
        let inner = &*self.inner;
        let mut findings = Vec::new();
        match inner.config.environments.get(&request.environment) {
            Some(rules) => schedule::check(rules, request, calendar, now, &mut findings),
            None => {
                let known: Vec<String> = self.environments().map(|e| format!("`{e}`")).collect();
                findings.push(
                    Finding::new(
                        RuleId::UNKNOWN_ENVIRONMENT,
                        Severity::Deny,
                        if known.is_empty() {
                            format!(
                                "environment `{}` is not in the policy, which lists no environments",
                                request.environment
                            )
                        } else {
                            format!(
                                "environment `{}` is not in the policy, which knows {}",
                                request.environment,
                                known.join(", ")
                            )
                        },
                        Some(inner.config.environments_source.clone()),
                    )
                    .with_detail("environment", request.environment.clone()),
                );
            }
        }
        let mut trace = Vec::new();
        if inner.scripts.has_schedule_hooks() {
            let input = HookInput {
                request,
                calendar,
                now,
                tz: inner.config.timezone,
            };
            inner
                .scripts
                .run_schedule(&input, &mut findings, &mut trace);
        }
        Decision::from_findings(
            Check::Schedule,
            findings,
            PolicyInfo::new(inner.digest.clone()),
            trace,
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
