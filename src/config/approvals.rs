//! The `approvals:` and `break_glass:` sections of an environment, read into [`ApprovalRules`]
//! and [`BreakGlassRule`] (docs/policy-authoring.md, "Approvals" and "Break-glass").
//!
//! ```yaml
//! approvals:
//!   ordered: true            # default false
//!   max_age: 72h             # optional
//!   deadline: 2h             # optional: the chain is due this long before the start
//!   bind_to: artifact        # optional; the only value
//!   rules:
//!     - name: release
//!       roles: [release]     # and/or `people: [...]`; at least one of the two
//!       min: 1               # a number >= 1 or `all`; default 1
//!       when: {types: [feature], services: [payments], labels: {team: payments}, risk_at_least: medium}
//!       allow_self_approval: false
//! break_glass:
//!   types: [emergency]
//!   second_person: {roles: [operations, cto]}
//!   max_duration: 4h
//!   bypasses: [approvals, blackout, advance_notice]
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::TimeDelta;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::bundle::PolicyCtx;
use super::schema::DurationText;
use super::yaml::Seg;
use crate::error::{LoadError, quote};
use crate::model::RiskLevel;
use crate::rules::approvals::{ApprovalRule, ApprovalRules, Quorum, When};
use crate::rules::break_glass::{APPROVALS, BreakGlassRule};
use crate::rules::schedule;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ApprovalsDoc {
    #[serde(default)]
    ordered: bool,
    // Durations are read as text and checked after parsing, so that an error names the field
    // and its line (serde would only name the enclosing mapping).
    #[schemars(with = "Option<DurationText>")]
    max_age: Option<String>,
    #[schemars(with = "Option<DurationText>")]
    deadline: Option<String>,
    bind_to: Option<BindTo>,
    rules: Vec<RuleDoc>,
}

#[derive(Deserialize, Clone, Copy, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum BindTo {
    Artifact,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    name: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    people: Vec<String>,
    min: Option<MinDoc>,
    #[serde(default)]
    when: WhenDoc,
    #[serde(default)]
    allow_self_approval: bool,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WhenDoc {
    types: Option<Vec<String>>,
    services: Option<Vec<String>>,
    #[serde(default)]
    labels: BTreeMap<String, serde_json::Value>,
    risk_at_least: Option<RiskLevel>,
}

/// `min:` as written: a whole number (checked to be at least 1 after parsing, so that the
/// error names the field) or `all`.
enum MinDoc {
    Count(i128),
    All,
}

impl JsonSchema for MinDoc {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quorum".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "how many of the rule's approvers must approve: a whole number of \
                at least 1, or `all`; default 1",
            "anyOf": [{"type": "integer", "minimum": 1}, {"const": "all"}],
        })
    }
}

impl<'de> Deserialize<'de> for MinDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MinVisitor;
        impl Visitor<'_> for MinVisitor {
            type Value = MinDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of at least 1, or `all`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MinDoc, E> {
                Ok(MinDoc::Count(i128::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MinDoc, E> {
                Ok(MinDoc::Count(i128::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MinDoc, E> {
                if v == "all" {
                    Ok(MinDoc::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(MinVisitor)
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BreakGlassDoc {
    types: Vec<String>,
    second_person: Option<SecondPersonDoc>,
    #[schemars(with = "Option<DurationText>")]
    max_duration: Option<String>,
    bypasses: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SecondPersonDoc {
    roles: Vec<String>,
}

/// The rule ids a break-glass may bypass: every approval finding (`approvals`) and the
/// schedule rules.
const BYPASSABLE: [&str; 9] = [
    APPROVALS,
    schedule::notice::ID,
    schedule::duration::ID,
    schedule::preferred::ID,
    schedule::blackout::ID,
    schedule::past::ID,
    schedule::conflict::ID,
    schedule::dependency::ID,
    schedule::concurrency::ID,
];

/// The first empty name of `names`, as its index.
fn first_empty(names: &[String]) -> Option<usize> {
    names.iter().position(|n| n.trim().is_empty())
}

impl PolicyCtx<'_> {
    /// Reads the duration `text` of the field at `path`.
    fn duration_at(
        &self,
        text: Option<String>,
        path: &[Seg],
    ) -> Result<Option<TimeDelta>, LoadError> {
        text.map(|t| crate::time::parse_duration(&t).map_err(|e| self.error(path, e.to_string())))
            .transpose()
    }

    /// Reads the `approvals:` section of environment `env`.
    pub(super) fn approvals(
        &self,
        env: &str,
        doc: ApprovalsDoc,
    ) -> Result<ApprovalRules, LoadError> {
        let base = [
            Seg::Key("environments"),
            Seg::Key(env),
            Seg::Key("approvals"),
        ];
        if doc.rules.is_empty() {
            return Err(self.error(
                &[&base[..], &[Seg::Key("rules")]].concat(),
                "`rules` must list at least one rule; leave out `approvals:` when no approval is \
                 needed"
                    .into(),
            ));
        }
        let mut names = BTreeSet::new();
        let mut rules = Vec::with_capacity(doc.rules.len());
        for (i, r) in doc.rules.into_iter().enumerate() {
            let path = [&base[..], &[Seg::Key("rules"), Seg::Index(i)]].concat();
            let at = |key| [&path[..], &[Seg::Key(key)]].concat();
            if r.name.trim().is_empty() {
                return Err(self.error(&at("name"), "`name` must not be empty".into()));
            }
            if !names.insert(r.name.clone()) {
                return Err(self.error(
                    &at("name"),
                    format!(
                        "approval rule `{}` appears more than once; rule names are unique",
                        quote(&r.name)
                    ),
                ));
            }
            if r.roles.is_empty() && r.people.is_empty() {
                return Err(self.error(
                    &path,
                    format!(
                        "approval rule `{}` names neither `roles` nor `people`: nobody could \
                         approve",
                        quote(&r.name)
                    ),
                ));
            }
            for (key, list) in [("roles", &r.roles), ("people", &r.people)] {
                if let Some(j) = first_empty(list) {
                    return Err(self.error(
                        &[&path[..], &[Seg::Key(key), Seg::Index(j)]].concat(),
                        format!("`{key}` must not hold an empty name"),
                    ));
                }
            }
            let min = match r.min {
                None => Quorum::Count(1),
                Some(MinDoc::All) => Quorum::All,
                Some(MinDoc::Count(n)) => {
                    let n = u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                        self.error(
                            &at("min"),
                            format!("`min` must be at least 1 (or `all`), not {n}"),
                        )
                    })?;
                    let distinct: BTreeSet<&String> = r.people.iter().collect();
                    let listed = u32::try_from(distinct.len()).unwrap_or(u32::MAX);
                    if r.roles.is_empty() && n > listed {
                        return Err(self.error(
                            &at("min"),
                            format!(
                                "`min` {n} is more than the {listed} people listed in `people`: \
                                 the rule could never be satisfied"
                            ),
                        ));
                    }
                    Quorum::Count(n)
                }
            };
            for (key, list) in [("types", &r.when.types), ("services", &r.when.services)] {
                if let Some(j) = list.as_deref().and_then(first_empty) {
                    return Err(self.error(
                        &[&path[..], &[Seg::Key("when"), Seg::Key(key), Seg::Index(j)]].concat(),
                        format!("`{key}` must not hold an empty name"),
                    ));
                }
            }
            rules.push(ApprovalRule {
                source: self.source(&path),
                name: r.name,
                roles: r.roles,
                people: r.people,
                min,
                when: When {
                    types: r.when.types,
                    services: r.when.services,
                    labels: r.when.labels,
                    risk_at_least: r.when.risk_at_least,
                },
                allow_self_approval: r.allow_self_approval,
            });
        }
        Ok(ApprovalRules {
            rules,
            ordered: doc.ordered,
            max_age: self
                .duration_at(doc.max_age, &[&base[..], &[Seg::Key("max_age")]].concat())?,
            deadline: self
                .duration_at(doc.deadline, &[&base[..], &[Seg::Key("deadline")]].concat())?,
            bind_to_artifact: matches!(doc.bind_to, Some(BindTo::Artifact)),
            source: self.source(&base),
        })
    }

    /// Reads the `break_glass:` section of environment `env`.
    pub(super) fn break_glass(
        &self,
        env: &str,
        doc: BreakGlassDoc,
    ) -> Result<BreakGlassRule, LoadError> {
        let base = [
            Seg::Key("environments"),
            Seg::Key(env),
            Seg::Key("break_glass"),
        ];
        let at = |key| [&base[..], &[Seg::Key(key)]].concat();
        if doc.types.is_empty() {
            return Err(self.error(
                &at("types"),
                "`types` must list at least one change type that may break the glass".into(),
            ));
        }
        if let Some(j) = first_empty(&doc.types) {
            return Err(self.error(
                &[&at("types")[..], &[Seg::Index(j)]].concat(),
                "`types` must not hold an empty name".into(),
            ));
        }
        let second_roles = match doc.second_person {
            None => Vec::new(),
            Some(s) => {
                let path = [&at("second_person")[..], &[Seg::Key("roles")]].concat();
                if s.roles.is_empty() {
                    return Err(self.error(
                        &path,
                        "`roles` must list at least one role; leave out `second_person` when no \
                         second person is needed"
                            .into(),
                    ));
                }
                if let Some(j) = first_empty(&s.roles) {
                    return Err(self.error(
                        &[&path[..], &[Seg::Index(j)]].concat(),
                        "`roles` must not hold an empty name".into(),
                    ));
                }
                s.roles
            }
        };
        if doc.bypasses.is_empty() {
            return Err(self.error(
                &at("bypasses"),
                "`bypasses` must name at least one rule id: a break-glass that bypasses nothing \
                 is only a warning"
                    .into(),
            ));
        }
        for (j, id) in doc.bypasses.iter().enumerate() {
            if !BYPASSABLE.contains(&id.as_str()) {
                let hint = crate::rules::environment::suggest(id, &BYPASSABLE)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                let list: Vec<String> = BYPASSABLE.iter().map(|k| format!("`{k}`")).collect();
                return Err(self.error(
                    &[&at("bypasses")[..], &[Seg::Index(j)]].concat(),
                    format!(
                        "unknown rule id `{}` in `bypasses`{hint}; a break-glass may bypass {}",
                        quote(id),
                        list.join(", ")
                    ),
                ));
            }
        }
        Ok(BreakGlassRule {
            types: doc.types,
            second_roles,
            max_duration: self.duration_at(doc.max_duration, &at("max_duration"))?,
            bypasses: doc.bypasses,
            source: self.source(&base),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BundleFiles, InputLimits, parse_policy};

    #[test]
    fn the_default_bundle_has_the_approval_chain_and_break_glass() {
        let text = include_str!("../../policies/policy.yaml");
        let config = parse_policy(
            text,
            "policies/policy.yaml",
            &BundleFiles::new(),
            &InputLimits::default(),
        )
        .unwrap();
        let prod = config.environments.get("production").unwrap();
        let a = prod.approvals.as_ref().unwrap();
        let names: Vec<&str> = a.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["release", "engineering", "operations", "security", "cto"]
        );
        assert!(a.ordered);
        assert!(!a.bind_to_artifact);
        assert_eq!(a.max_age, Some(TimeDelta::hours(72)));
        assert_eq!(a.deadline, Some(TimeDelta::hours(2)));
        let levels: Vec<Option<RiskLevel>> = a.rules.iter().map(|r| r.when.risk_at_least).collect();
        assert_eq!(
            levels,
            [
                None,
                None,
                Some(RiskLevel::Medium),
                Some(RiskLevel::High),
                Some(RiskLevel::Critical)
            ]
        );
        assert!(a.rules.iter().all(|r| r.min == Quorum::Count(1)
            && r.people.is_empty()
            && !r.allow_self_approval
            && r.source.starts_with("policies/policy.yaml:")));
        assert!(a.source.starts_with("policies/policy.yaml:"));
        let bg = prod.break_glass.as_ref().unwrap();
        assert_eq!(bg.types, ["emergency"]);
        assert_eq!(bg.second_roles, ["operations", "cto"]);
        assert_eq!(bg.max_duration, Some(TimeDelta::hours(4)));
        assert_eq!(bg.bypasses, ["approvals", "blackout", "advance_notice"]);

        let staging = config.environments.get("staging").unwrap();
        let s = staging.approvals.as_ref().unwrap();
        assert_eq!(s.rules.len(), 1);
        assert_eq!(s.rules[0].name, "release-or-engineering");
        assert_eq!(s.rules[0].roles, ["release", "engineering"]);
        assert!(!s.ordered && s.max_age.is_none() && s.deadline.is_none());
        assert!(staging.break_glass.is_none());

        let dev = config.environments.get("development").unwrap();
        assert!(dev.approvals.is_none() && dev.break_glass.is_none());
    }

    #[test]
    fn sources_point_at_each_rule_and_section() {
        let text = "timezone: UTC\nenvironments:\n  production:\n    approvals:\n      rules:\n        - name: a\n          roles: [x]\n        - name: b\n          people: [p]\n    break_glass:\n      types: [emergency]\n      bypasses: [approvals]\n";
        let config =
            parse_policy(text, "p.yaml", &BundleFiles::new(), &InputLimits::default()).unwrap();
        let prod = config.environments.get("production").unwrap();
        let a = prod.approvals.as_ref().unwrap();
        assert_eq!(a.source, "p.yaml:4");
        assert_eq!(a.rules[0].source, "p.yaml:6");
        assert_eq!(a.rules[1].source, "p.yaml:8");
        assert_eq!(prod.break_glass.as_ref().unwrap().source, "p.yaml:10");
    }
}
