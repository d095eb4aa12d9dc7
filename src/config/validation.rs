//! The `validation:` section of an environment: required categories, per-check thresholds,
//! freshness and what a failure does, read into [`ValidationRules`].
//!
//! ```yaml
//! validation:
//!   max_age: 24h                  # default freshness of every category
//!   categories:
//!     tests:
//!       on_failure: deny          # deny (default) or risk
//!       max_age: 12h              # optional, this category's own
//!       checks:                   # optional; every listed check must have a result
//!         coverage: {min: 0.8, warn_min: 0.85}
//!     performance:
//!       on_failure: risk
//!       checks:
//!         p95_ms: {max: 1500, warn_max: 1200}
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::bundle::PolicyCtx;
use super::yaml::{DurationField, Seg};
use crate::error::LoadError;
use crate::rules::validation::{CategoryRule, CheckRule, OnFailure, ValidationRules};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ValidationDoc {
    max_age: Option<DurationField>,
    #[serde(default)]
    categories: BTreeMap<String, CategoryDoc>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CategoryDoc {
    on_failure: Option<OnFailureDoc>,
    max_age: Option<DurationField>,
    #[serde(default)]
    checks: BTreeMap<String, ThresholdDoc>,
}

#[derive(Deserialize, Clone, Copy, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum OnFailureDoc {
    Deny,
    Risk,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ThresholdDoc {
    min: Option<f64>,
    max: Option<f64>,
    warn_min: Option<f64>,
    warn_max: Option<f64>,
}

impl PolicyCtx<'_> {
    /// Reads the `validation:` section of environment `env`.
    pub(super) fn validation(
        &self,
        env: &str,
        doc: ValidationDoc,
    ) -> Result<ValidationRules, LoadError> {
        let base = [
            Seg::Key("environments"),
            Seg::Key(env),
            Seg::Key("validation"),
        ];
        let default_age = doc.max_age.map(|d| d.0);
        let mut categories = Vec::with_capacity(doc.categories.len());
        for (name, c) in doc.categories {
            let path = [&base[..], &[Seg::Key("categories"), Seg::Key(&name)]].concat();
            let mut checks = Vec::with_capacity(c.checks.len());
            for (check, t) in c.checks {
                let at = |key| {
                    [
                        &path[..],
                        &[Seg::Key("checks"), Seg::Key(&check), Seg::Key(key)],
                    ]
                    .concat()
                };
                for (key, v) in [
                    ("min", t.min),
                    ("max", t.max),
                    ("warn_min", t.warn_min),
                    ("warn_max", t.warn_max),
                ] {
                    if v.is_some_and(|v| !v.is_finite()) {
                        return Err(
                            self.error(&at(key), format!("`{key}` must be a finite number"))
                        );
                    }
                }
                if let (Some(min), Some(max)) = (t.min, t.max) {
                    if min > max {
                        return Err(self.error(
                            &at("max"),
                            format!("`max` {max} is below `min` {min}: nothing could pass"),
                        ));
                    }
                }
                if let (Some(min), Some(w)) = (t.min, t.warn_min) {
                    if w < min {
                        return Err(self.error(
                            &at("warn_min"),
                            format!("`warn_min` {w} is below `min` {min}; the warning band lies above `min`"),
                        ));
                    }
                }
                if let (Some(max), Some(w)) = (t.max, t.warn_max) {
                    if w > max {
                        return Err(self.error(
                            &at("warn_max"),
                            format!("`warn_max` {w} is above `max` {max}; the warning band lies below `max`"),
                        ));
                    }
                }
                checks.push(CheckRule {
                    name: check.clone(),
                    min: t.min,
                    max: t.max,
                    warn_min: t.warn_min,
                    warn_max: t.warn_max,
                });
            }
            categories.push(CategoryRule {
                on_failure: match c.on_failure {
                    None | Some(OnFailureDoc::Deny) => OnFailure::Deny,
                    Some(OnFailureDoc::Risk) => OnFailure::Risk,
                },
                max_age: c.max_age.map(|d| d.0).or(default_age),
                checks,
                source: self.source(&path),
                name,
            });
        }
        Ok(ValidationRules { categories })
    }
}
