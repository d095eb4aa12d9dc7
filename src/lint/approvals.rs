//! Approval rules against the bundle's directory: `approval_unknown_role`,
//! `approval_no_eligible`, `approval_quorum`, `approval_quorum_shared`; and `when`s that can
//! never hold (`when_never_holds`).

use std::collections::{BTreeMap, BTreeSet};

use super::{LintSeverity, Linter, did_you_mean, ticked};
use crate::config::EnvironmentPolicy;
use crate::model::{Directory, RiskLevel};
use crate::rules::approvals::{ApprovalRule, Quorum};

/// Most rules the shared-quorum check matches (its search recurses once per rule).
const MAX_MATCHED_RULES: usize = 256;

impl<'a> Linter<'a> {
    /// The approval lints of environment `env`; the directory ones only when the bundle has a
    /// directory.
    pub(super) fn approvals(&mut self, env: &str, policy: &EnvironmentPolicy) {
        let directory: &'a Directory = self.directory;
        if directory.is_empty() {
            return;
        }
        let mut roles: BTreeSet<&str> = BTreeSet::new();
        for person in directory.people() {
            roles.extend(directory.roles_of(person).iter().map(String::as_str));
        }
        let roles: Vec<&str> = roles.into_iter().collect();
        if let Some(bg) = &policy.break_glass {
            for (j, role) in bg.second_roles.iter().enumerate() {
                self.unknown_role(
                    role,
                    &roles,
                    format!("environments.{env}.break_glass.second_person.roles[{j}]"),
                    "break-glass",
                );
            }
        }
        let Some(rules) = &policy.approvals else {
            return;
        };
        let base = format!("environments.{env}.approvals.rules");
        // Each rule's eligible people, when it could be filled on its own.
        let mut fillable: Vec<(usize, &ApprovalRule, Vec<&str>)> = Vec::new();
        for (i, rule) in rules.rules.iter().enumerate() {
            for (j, role) in rule.roles.iter().enumerate() {
                self.unknown_role(
                    role,
                    &roles,
                    format!("{base}[{i}].roles[{j}]"),
                    "approval rule",
                );
            }
            let eligible = eligible(directory, rule);
            if eligible.is_empty() {
                self.push(
                    LintSeverity::Error,
                    "approval_no_eligible",
                    format!("{base}[{i}]"),
                    format!(
                        "nobody in the bundle's directory holds a role of approval rule `{}` \
                         ({}) and it lists no `people`: it can never be satisfied; give \
                         someone one of these roles in directory.yaml",
                        crate::error::quote(&rule.name),
                        ticked(rule.roles.iter().map(String::as_str)),
                    ),
                );
                continue;
            }
            if let Quorum::Count(n) = rule.min {
                if usize::try_from(n).is_ok_and(|n| n > eligible.len()) {
                    self.push(
                        LintSeverity::Error,
                        "approval_quorum",
                        format!("{base}[{i}].min"),
                        format!(
                            "approval rule `{}` needs {n} approvals but only {} people may give \
                             them ({}): it can never be satisfied; lower `min` or add people",
                            crate::error::quote(&rule.name),
                            eligible.len(),
                            ticked(
                                eligible
                                    .iter()
                                    .copied()
                                    .take(crate::rules::schedule::MAX_LISTED)
                            ),
                        ),
                    );
                    continue;
                }
            }
            fillable.push((i, rule, eligible));
        }
        self.shared_quorum(&base, fillable);
    }

    /// `approval_unknown_role` for `role` when nobody in the directory holds it.
    fn unknown_role(&mut self, role: &str, roles: &[&str], field: String, what: &str) {
        if roles.contains(&role) {
            return;
        }
        self.push(
            LintSeverity::Warning,
            "approval_unknown_role",
            field,
            format!(
                "nobody in the bundle's directory holds role `{}` of this {what}{}",
                crate::error::quote(role),
                did_you_mean(role, roles),
            ),
        );
    }

    /// `approval_quorum_shared`: the rules that apply to every change (no `when`, or only
    /// `risk_at_least`), taken by rising risk level, need more distinct people than the
    /// directory has for them. One person fills one slot across rules, so the slots are
    /// assigned by maximum matching; the first rule whose slots cannot all be filled is named.
    fn shared_quorum(&mut self, base: &str, mut rules: Vec<(usize, &ApprovalRule, Vec<&str>)>) {
        rules.retain(|(_, r, _)| {
            r.when.types.is_none() && r.when.services.is_none() && r.when.labels.is_empty()
        });
        if rules.len() < 2 || rules.len() > MAX_MATCHED_RULES {
            return;
        }
        rules.sort_by_key(|(_, r, _)| r.when.risk_at_least.unwrap_or(RiskLevel::Low));
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, people) in &rules {
            for p in people {
                let next = index.len();
                index.entry(p).or_insert(next);
            }
        }
        let eligible: Vec<Vec<usize>> = rules
            .iter()
            .map(|(_, _, people)| {
                people
                    .iter()
                    .filter_map(|p| index.get(p).copied())
                    .collect()
            })
            .collect();
        let mut matching = Matching {
            eligible: &eligible,
            owner: vec![None; index.len()],
        };
        let mut needed = 0usize;
        for (k, (i, rule, people)) in rules.iter().enumerate() {
            let slots = match rule.min {
                Quorum::Count(n) => usize::try_from(n).unwrap_or(usize::MAX),
                Quorum::All => people.len(),
            };
            needed = needed.saturating_add(slots);
            for filled in 0..slots {
                if matching.augment(k) {
                    continue;
                }
                let level = rule.when.risk_at_least.unwrap_or(RiskLevel::Low);
                let names = rules
                    .get(..=k)
                    .unwrap_or_default()
                    .iter()
                    .map(|(_, r, _)| r.name.as_str());
                let done = matching.owner.iter().filter(|o| o.is_some()).count();
                self.push(
                    LintSeverity::Error,
                    "approval_quorum_shared",
                    format!("{base}[{i}]"),
                    format!(
                        "approval rules {} all apply to a change at risk `{}` and need {} \
                         approvals from different people (one person fills one slot across \
                         rules), but the bundle's directory can fill only {} of them: rule \
                         `{}` gets {filled} of its {slots}; add people holding its roles or \
                         lower a `min`",
                        ticked(names),
                        level.as_str(),
                        needed,
                        done,
                        crate::error::quote(&rule.name),
                    ),
                );
                return;
            }
        }
    }
}

/// The people who may approve for `rule`: the holders of its roles and its `people`, sorted,
/// each once.
fn eligible<'a>(directory: &'a Directory, rule: &'a ApprovalRule) -> Vec<&'a str> {
    let mut out: BTreeSet<&str> = rule.people.iter().map(String::as_str).collect();
    for role in &rule.roles {
        out.extend(directory.people_with_role(role).iter().map(String::as_str));
    }
    out.into_iter().collect()
}

/// A maximum matching of rule slots to people, grown one slot at a time (augmenting paths).
struct Matching<'a> {
    /// Per rule (in matching order), the people eligible for it.
    eligible: &'a [Vec<usize>],
    /// Per person, the rule whose slot they fill.
    owner: Vec<Option<usize>>,
}

impl Matching<'_> {
    /// Fills one more slot of `rule`, moving people between rules if needed; false when no
    /// assignment of people fills every slot taken so far and this one.
    fn augment(&mut self, rule: usize) -> bool {
        let mut seen_people = vec![false; self.owner.len()];
        let mut seen_rules = vec![false; self.eligible.len()];
        self.find(rule, &mut seen_people, &mut seen_rules)
    }

    /// Depth-first search for an augmenting path from `rule`; each rule and person is visited
    /// once, so the depth is at most the number of rules.
    fn find(&mut self, rule: usize, seen_people: &mut [bool], seen_rules: &mut [bool]) -> bool {
        match seen_rules.get_mut(rule) {
            Some(seen) if !*seen => *seen = true,
            _ => return false,
        }
        let Some(people) = self.eligible.get(rule) else {
            return false;
        };
        // A free person first: the common case needs no search.
        for &p in people {
            if self.owner.get(p) == Some(&None) {
                if let Some(o) = self.owner.get_mut(p) {
                    *o = Some(rule);
                }
                return true;
            }
        }
        for &p in people {
            match seen_people.get_mut(p) {
                Some(seen) if !*seen => *seen = true,
                _ => continue,
            }
            let Some(Some(other)) = self.owner.get(p).copied() else {
                continue;
            };
            if self.find(other, seen_people, seen_rules) {
                if let Some(o) = self.owner.get_mut(p) {
                    *o = Some(rule);
                }
                return true;
            }
        }
        false
    }
}
