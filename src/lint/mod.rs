//! The linter behind `changegate validate`: what loads but cannot work as its author meant.
//!
//! Loading already rejects what is malformed (a warn band outside the pass band, a script
//! with no hook, a window that ends before it starts). The linter looks at the loaded bundle
//! as a whole and reports what is certain from the bundle alone, each with the file, line,
//! column and field of `policy.yaml` it is about and a stable code (docs/policy-authoring.md,
//! "Validate", lists them):
//! - approvals against the bundle's `directory.yaml` (only when the bundle has one): a role
//!   nobody holds, a rule nobody may fill, a quorum larger than the people eligible, rules
//!   that always apply together and need more people than there are (one person fills one
//!   slot across rules: a maximum matching, as the approvals rule assigns them);
//! - a `when` that can never hold (an empty `types` or `services` list, a `between` whose
//!   windows never open);
//! - windows, expanded over the year from `now` with the window code the rules use: a
//!   blackout covering the whole year or never active in it, a preferred window that never
//!   opens or only opens inside blackouts, a blackout inside another one;
//! - change types named once in the whole policy and close to another one (a typo);
//! - a rollback trigger that fires only when another does, which demands a higher level.
//!
//! Nothing here reads the clock: `now` is an argument. Windows whose occurrences could not
//! all be computed (past the cron or RRULE limits) are not judged.

mod approvals;
mod rollback;
mod types;
mod windows;

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::config::{PolicyConfig, locate_field};
use crate::error::Location;
use crate::model::Directory;
use crate::time::{Interval, add_saturating};

/// How serious a [`Lint`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LintSeverity {
    /// The bundle cannot work as written: a rule that can never be satisfied or never apply,
    /// a blackout that never ends.
    Error,
    /// Most likely a mistake, though the bundle works: a typo, a window that changes nothing.
    Warning,
    /// Worth knowing; nothing wrong.
    Info,
}

impl LintSeverity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            LintSeverity::Error => "error",
            LintSeverity::Warning => "warning",
            LintSeverity::Info => "info",
        }
    }
}

impl fmt::Display for LintSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding of [`PolicySet::lint`](crate::PolicySet::lint).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lint {
    /// How serious it is.
    pub severity: LintSeverity,
    /// A stable code, such as `blackout_always` (docs/policy-authoring.md, "Validate").
    pub code: &'static str,
    /// What is wrong, in words, with a suggestion where one helps.
    pub message: String,
    /// Where: the file, line and column of the field.
    pub location: Location,
    /// The field it is about, as a path such as `environments.production.blackouts[1]`.
    pub field: Option<String>,
}

impl Lint {
    /// The lint as JSON: `{severity, code, message, file, line, column, field}` (`line`,
    /// `column` and `field` are `null` where unknown).
    pub fn to_json(&self) -> Value {
        json!({
            "severity": self.severity.as_str(),
            "code": self.code,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.field,
        })
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}[{}]: {}",
            self.location, self.severity, self.code, self.message
        )
    }
}

/// The span windows are expanded over: a year and a day from `now` (a whole yearly cycle, leap
/// days included).
const YEAR: TimeDelta = TimeDelta::days(366);

/// What the lints look at, and where they write.
pub(crate) struct Linter<'a> {
    config: &'a PolicyConfig,
    directory: &'a Directory,
    file: &'a str,
    text: &'a str,
    /// `[now, now + YEAR)`.
    year: Interval,
    out: Vec<Lint>,
}

impl Linter<'_> {
    /// Records a lint about `field` of `policy.yaml`.
    fn push(&mut self, severity: LintSeverity, code: &'static str, field: String, message: String) {
        let pos = locate_field(self.text, &field);
        self.out.push(Lint {
            severity,
            code,
            message,
            location: Location::new(self.file, pos),
            field: Some(field),
        });
    }
}

/// Lints a loaded bundle: its configuration, its directory, `policy.yaml`'s name in findings
/// (`file`) and its text (for positions), with windows expanded over the year from `now`.
pub(crate) fn lint(
    config: &PolicyConfig,
    directory: &Directory,
    file: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Vec<Lint> {
    let end = add_saturating(now, YEAR);
    let Some(year) = Interval::new(now, end) else {
        // `now` at the end of time: there is no year to expand windows over.
        return Vec::new();
    };
    let mut linter = Linter {
        config,
        directory,
        file,
        text,
        year,
        out: Vec::new(),
    };
    for (env, policy) in &config.environments {
        linter.approvals(env, policy);
        linter.whens(env, policy);
        linter.windows(env, policy);
        linter.rollback(env, policy);
    }
    linter.types();
    let mut out = linter.out;
    out.sort_by(|a, b| {
        (a.location.line, a.location.column, a.code).cmp(&(
            b.location.line,
            b.location.column,
            b.code,
        ))
    });
    out
}

/// `names` quoted in backticks and joined with `, `.
fn ticked<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{}`", crate::error::quote(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` (did you mean `x`?)` when `name` is close to one of `known`, else nothing.
fn did_you_mean(name: &str, known: &[&str]) -> String {
    crate::rules::environment::suggest(name, known)
        .map(|s| format!(": did you mean `{}`?", crate::error::quote(s)))
        .unwrap_or_default()
}
