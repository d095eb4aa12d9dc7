//! `validation`: the categories of pre-deployment checks an environment requires, the
//! thresholds that derive a status from a measured value, how fresh a result must be, and
//! whether a failure denies or only adds risk.
//!
//! A category's state is read from the latest result of each of its checks:
//! - `failed` when a fresh latest result failed or errored (or its value is past a `min` or
//!   `max` threshold, or it has a value but no status and no threshold to judge it);
//! - else `missing` when a listed check has no result, or only a `skipped` one, or when the
//!   category has no fresh passed or warning result at all; `stale` when the results there are
//!   are all older than `max_age`;
//! - else `warning` when a fresh latest result warned (or its value is in a warn band);
//! - else `passed`.
//!
//! Missing and stale are never passed: a `deny` category denies, a `risk` category scores as
//! failed.

use chrono::{DateTime, TimeDelta, Utc};

use crate::decision::{Finding, Severity};
use crate::evidence::ValidationResults;
use crate::model::{ValidationResult, ValidationStatus};
use crate::time::format_duration;

/// The id of the deny finding of a failed `deny` category.
pub(crate) const FAILED_ID: &str = "validation_failed";
/// The id of the deny finding of a missing or stale `deny` category.
pub(crate) const MISSING_ID: &str = "validation_missing";

/// What a failure of a category does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnFailure {
    /// A failed, missing or stale category denies the change (and scores risk).
    Deny,
    /// It only adds risk.
    Risk,
}

/// Thresholds of one check: a value below `min` or above `max` fails; below `warn_min` or
/// above `warn_max` warns.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CheckRule {
    pub name: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub warn_min: Option<f64>,
    pub warn_max: Option<f64>,
}

impl CheckRule {
    fn has_threshold(&self) -> bool {
        self.min.is_some()
            || self.max.is_some()
            || self.warn_min.is_some()
            || self.warn_max.is_some()
    }

    /// The status `value` gets, and the bound it crossed.
    fn judge(&self, value: f64) -> (ValidationStatus, Option<String>) {
        if let Some(m) = self.min.filter(|m| value < *m) {
            return (
                ValidationStatus::Failed,
                Some(format!("below the minimum {m}")),
            );
        }
        if let Some(m) = self.max.filter(|m| value > *m) {
            return (
                ValidationStatus::Failed,
                Some(format!("above the maximum {m}")),
            );
        }
        if let Some(m) = self.warn_min.filter(|m| value < *m) {
            return (
                ValidationStatus::Warning,
                Some(format!("below the warning bound {m}")),
            );
        }
        if let Some(m) = self.warn_max.filter(|m| value > *m) {
            return (
                ValidationStatus::Warning,
                Some(format!("above the warning bound {m}")),
            );
        }
        (ValidationStatus::Passed, None)
    }
}

/// One required category.
#[derive(Debug, Clone)]
pub(crate) struct CategoryRule {
    pub name: String,
    pub on_failure: OnFailure,
    /// How old a result may be; any age when `None`.
    pub max_age: Option<TimeDelta>,
    /// Checks with thresholds; each must have a result.
    pub checks: Vec<CheckRule>,
    /// `file:line` of the category in policy.yaml.
    pub source: String,
}

/// The `validation:` section of an environment: its required categories, in policy order.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidationRules {
    pub categories: Vec<CategoryRule>,
}

/// A category's state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum State {
    Passed,
    Warning { check: String, why: String },
    Missing { check: Option<String>, why: String },
    Stale { newest: DateTime<Utc> },
    Failed { check: String, why: String },
}

impl State {
    /// `passed`, `warning`, `missing`, `stale` or `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            State::Passed => "passed",
            State::Warning { .. } => "warning",
            State::Missing { .. } => "missing",
            State::Stale { .. } => "stale",
            State::Failed { .. } => "failed",
        }
    }

    /// Missing or stale: no evidence that counts.
    pub fn is_missing(&self) -> bool {
        matches!(self, State::Missing { .. } | State::Stale { .. })
    }

    /// A sentence for people.
    pub fn describe(&self, category: &str, max_age: Option<TimeDelta>) -> String {
        match self {
            State::Passed => format!("`{category}` passed"),
            State::Warning { check, why } => format!("`{category}` check `{check}` warned: {why}"),
            State::Failed { check, why } => format!("`{category}` check `{check}` failed: {why}"),
            State::Missing {
                check: Some(c),
                why,
            } => format!("`{category}` check `{c}` {why}"),
            State::Missing { check: None, why } => format!("`{category}` {why}"),
            State::Stale { newest } => format!(
                "`{category}` has no result newer than {} (the newest is from {})",
                max_age.map_or_else(|| "its max_age".to_owned(), format_duration),
                crate::time::format_utc(*newest)
            ),
        }
    }
}

/// A category and its state.
#[derive(Debug, Clone)]
pub(crate) struct CategoryOutcome<'a> {
    pub rule: &'a CategoryRule,
    pub state: State,
}

/// The status of one result: the policy's threshold judges a value; a value without a
/// status or a threshold is an error (nothing can say it passed). Writes nothing.
fn status_of(result: &ValidationResult, rule: Option<&CheckRule>) -> ValidationStatus {
    match (result.value, rule.filter(|r| r.has_threshold())) {
        (Some(v), Some(r)) => r.judge(v).0,
        _ => result.status.unwrap_or(ValidationStatus::Error),
    }
}

/// Why a result has its status, for people: written only for results that warn or fail.
fn why_of(result: &ValidationResult, rule: Option<&CheckRule>) -> String {
    match (result.value, rule.filter(|r| r.has_threshold())) {
        (Some(v), Some(r)) => {
            let (_, why) = r.judge(v);
            why.map_or_else(|| format!("value {v}"), |w| format!("value {v} is {w}"))
        }
        _ => match result.status {
            Some(s) => format!("reported `{s}`"),
            None => "has a value but no status, and the policy has no threshold for it".to_owned(),
        },
    }
}

impl CategoryRule {
    /// The state of the category from `results` (`None`: no validation evidence at all).
    pub fn assess(&self, results: Option<&ValidationResults>, now: DateTime<Utc>) -> State {
        let Some(results) = results else {
            return State::Missing {
                check: None,
                why: "has no result (no validation results were given)".into(),
            };
        };
        let fresh = |r: &ValidationResult| {
            self.max_age
                .is_none_or(|age| now.signed_duration_since(r.at.with_timezone(&Utc)) <= age)
        };
        // The category's results, looked up once.
        let rs = results.category(&self.name);
        let mut failed: Option<State> = None;
        let mut warning: Option<State> = None;
        let mut counted = false;
        let mut newest: Option<DateTime<Utc>> = None;
        // `rs` is sorted by check and time: each check's run ends with its latest results
        // (several when they share the latest time); only those count.
        let latest = rs.chunk_by(|a, b| a.check == b.check).flat_map(|run| {
            let last = run.last().map(|r| r.at);
            run.iter().filter(move |r| Some(r.at) == last)
        });
        for r in latest {
            let at = r.at.with_timezone(&Utc);
            newest = Some(newest.map_or(at, |n| n.max(at)));
            if !fresh(r) {
                continue;
            }
            let rule = self.checks.iter().find(|c| c.name == r.check);
            let status = status_of(r, rule);
            match status {
                ValidationStatus::Failed | ValidationStatus::Error => {
                    if failed.is_none() {
                        failed = Some(State::Failed {
                            check: r.check.clone(),
                            why: why_of(r, rule),
                        });
                    }
                }
                ValidationStatus::Warning => {
                    counted = true;
                    if warning.is_none() {
                        warning = Some(State::Warning {
                            check: r.check.clone(),
                            why: why_of(r, rule),
                        });
                    }
                }
                ValidationStatus::Passed => counted = true,
                ValidationStatus::Skipped => {}
            }
        }
        if let Some(f) = failed {
            return f;
        }
        for check in &self.checks {
            let latest = rs
                .iter()
                .filter(|r| r.check == check.name)
                .max_by_key(|r| r.at);
            match latest {
                None => {
                    return State::Missing {
                        check: Some(check.name.clone()),
                        why: "has no result".into(),
                    };
                }
                Some(r) if !fresh(r) => {
                    return State::Stale {
                        newest: r.at.with_timezone(&Utc),
                    };
                }
                Some(r) if r.status == Some(ValidationStatus::Skipped) && r.value.is_none() => {
                    return State::Missing {
                        check: Some(check.name.clone()),
                        why: "was skipped".into(),
                    };
                }
                Some(_) => {}
            }
        }
        if !counted {
            return match newest {
                Some(n)
                    if self
                        .max_age
                        .is_some_and(|age| now.signed_duration_since(n) > age) =>
                {
                    State::Stale { newest: n }
                }
                Some(_) => State::Missing {
                    check: None,
                    why: "has no passed or warning result (only skipped ones)".into(),
                },
                None => State::Missing {
                    check: None,
                    why: "has no result".into(),
                },
            };
        }
        warning.unwrap_or(State::Passed)
    }
}

impl ValidationRules {
    /// The state of every required category, in policy order.
    pub fn assess<'a>(
        &'a self,
        results: Option<&ValidationResults>,
        now: DateTime<Utc>,
    ) -> Vec<CategoryOutcome<'a>> {
        self.categories
            .iter()
            .map(|rule| CategoryOutcome {
                rule,
                state: rule.assess(results, now),
            })
            .collect()
    }
}

/// The deny findings of `deny` categories that failed, are missing or are stale.
pub(crate) fn findings(outcomes: &[CategoryOutcome], out: &mut Vec<Finding>) {
    for o in outcomes
        .iter()
        .filter(|o| o.rule.on_failure == OnFailure::Deny)
    {
        let id = match &o.state {
            State::Failed { .. } => FAILED_ID,
            s if s.is_missing() => MISSING_ID,
            _ => continue,
        };
        let mut f = Finding::new(
            id,
            Severity::Deny,
            o.state.describe(&o.rule.name, o.rule.max_age),
            Some(o.rule.source.clone()),
        )
        .with_detail("category", o.rule.name.as_str())
        .with_detail("state", o.state.as_str());
        match &o.state {
            State::Failed { check, .. }
            | State::Missing {
                check: Some(check), ..
            } => {
                f = f.with_detail("check", check.as_str());
            }
            State::Stale { newest } => {
                f = f.with_detail("newest", crate::time::format_utc(*newest));
                if let Some(age) = o.rule.max_age {
                    f = f.with_detail("max_age", format_duration(age));
                }
            }
            _ => {}
        }
        out.push(f);
    }
}
