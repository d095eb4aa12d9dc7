//! `when`s that can never hold (`when_never_holds`) and change types that look like typos
//! (`unknown_type`).

use std::collections::BTreeMap;

use super::{LintSeverity, Linter, did_you_mean};
use crate::config::EnvironmentPolicy;
use crate::rules::Rule;

impl<'a> Linter<'a> {
    /// `when_never_holds` for the `when`s of environment `env` with an empty list: no change
    /// has a type (or touches a service) in an empty list, so the rule never applies.
    pub(super) fn whens(&mut self, env: &str, policy: &EnvironmentPolicy) {
        let mut empty: Vec<(String, &str, &str)> = Vec::new();
        if let Some(rules) = &policy.approvals {
            for (i, rule) in rules.rules.iter().enumerate() {
                for (key, list) in [
                    ("types", &rule.when.types),
                    ("services", &rule.when.services),
                ] {
                    if list.as_ref().is_some_and(Vec::is_empty) {
                        empty.push((
                            format!("environments.{env}.approvals.rules[{i}].when.{key}"),
                            key,
                            "approval rule",
                        ));
                    }
                }
            }
        }
        if let Some(risk) = &policy.risk {
            for (i, o) in risk.overrides.iter().enumerate() {
                for (key, list) in [("types", &o.when.types), ("services", &o.when.services)] {
                    if list.as_ref().is_some_and(Vec::is_empty) {
                        empty.push((
                            format!("environments.{env}.risk.overrides[{i}].when.{key}"),
                            key,
                            "risk override",
                        ));
                    }
                }
            }
        }
        for (field, key, what) in empty {
            let noun = if key == "types" {
                "has a type"
            } else {
                "touches a service"
            };
            self.push(
                LintSeverity::Error,
                "when_never_holds",
                field,
                format!(
                    "`{key}` is empty: no change {noun} in an empty list, so this {what} never \
                     applies; list at least one, or leave `{key}` out to match every change"
                ),
            );
        }
    }

    /// `unknown_type`: a change type the whole policy names once (in `exempt_types`, a
    /// `when.types`, break-glass `types` or the risk `change_type` points) and that is close
    /// to a type named elsewhere: most likely a typo of it.
    pub(super) fn types(&mut self) {
        let config: &'a crate::config::PolicyConfig = self.config;
        let mut mentions: Vec<(&'a str, String)> = Vec::new();
        for (env, policy) in &config.environments {
            let at = |key: &str| format!("environments.{env}.{key}");
            let s = &policy.schedule;
            let mut exempt = |rule_key: String, types: &'a [String]| {
                for (j, t) in types.iter().enumerate() {
                    mentions.push((t.as_str(), format!("{rule_key}.exempt_types[{j}]")));
                }
            };
            fn types_of<T>(r: &Option<Rule<T>>) -> &[String] {
                r.as_ref().map_or(&[], |r| r.exempt_types.as_slice())
            }
            exempt(at("advance_notice"), types_of(&s.advance_notice));
            exempt(at("max_duration"), types_of(&s.max_duration));
            exempt(at("preferred_window"), types_of(&s.preferred_window));
            exempt(at("conflicts"), types_of(&s.conflicts));
            exempt(at("concurrency"), types_of(&s.concurrency));
            exempt(at("dependencies"), types_of(&s.dependencies));
            for (i, b) in s.blackouts.iter().enumerate() {
                exempt(at(&format!("blackouts[{i}]")), &b.exempt_types);
            }
            if let Some(rules) = &policy.approvals {
                for (i, r) in rules.rules.iter().enumerate() {
                    for (j, t) in r.when.types.iter().flatten().enumerate() {
                        let f = at(&format!("approvals.rules[{i}].when.types[{j}]"));
                        mentions.push((t.as_str(), f));
                    }
                }
            }
            if let Some(bg) = &policy.break_glass {
                for (j, t) in bg.types.iter().enumerate() {
                    mentions.push((t.as_str(), at(&format!("break_glass.types[{j}]"))));
                }
            }
            if let Some(risk) = &policy.risk {
                if let Some(ct) = &risk.change_type {
                    for t in ct.value.points.keys() {
                        let f = at(&format!("risk.factors.change_type.points.{t}"));
                        mentions.push((t.as_str(), f));
                    }
                }
                for (i, o) in risk.overrides.iter().enumerate() {
                    for (j, t) in o.when.types.iter().flatten().enumerate() {
                        let f = at(&format!("risk.overrides[{i}].when.types[{j}]"));
                        mentions.push((t.as_str(), f));
                    }
                }
            }
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (t, _) in &mentions {
            *counts.entry(t).or_default() += 1;
        }
        for (t, field) in &mentions {
            if counts.get(t) != Some(&1) {
                continue;
            }
            let others: Vec<&str> = counts.keys().copied().filter(|o| o != t).collect();
            let suggestion = did_you_mean(t, &others);
            if suggestion.is_empty() {
                continue;
            }
            self.push(
                LintSeverity::Warning,
                "unknown_type",
                field.clone(),
                format!(
                    "change type `{}` is named nowhere else in the policy{suggestion}",
                    crate::error::quote(t)
                ),
            );
        }
    }
}
