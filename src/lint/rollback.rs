//! Rollback triggers: `rollback_trigger_shadowed`.

use super::{LintSeverity, Linter};
use crate::config::EnvironmentPolicy;
use crate::rules::rollback::{Condition, Op, Trigger};

impl Linter<'_> {
    /// `rollback_trigger_shadowed`: a trigger on a metric whose condition implies another's
    /// (same series, aggregation, window and handling of missing data, a threshold at least as
    /// strict, held at least as long) but that demands a lower level: whenever it fires, the
    /// other fires too and demands more, so its level never decides anything.
    pub(super) fn rollback(&mut self, env: &str, policy: &EnvironmentPolicy) {
        let Some(rules) = &policy.rollback else {
            return;
        };
        let level_name = |i: usize| {
            rules
                .levels
                .get(i)
                .map(|l| crate::error::quote(&l.name).into_owned())
                .unwrap_or_default()
        };
        for (i, strict) in rules.triggers.iter().enumerate() {
            let Some(loose) = rules
                .triggers
                .iter()
                .find(|loose| loose.level > strict.level && implies(strict, loose))
            else {
                continue;
            };
            self.push(
                LintSeverity::Warning,
                "rollback_trigger_shadowed",
                format!("environments.{env}.rollback.triggers[{i}]"),
                format!(
                    "trigger `{}` fires only when trigger `{}` does too (same metric, window \
                     and aggregation, a threshold at least as strict) but demands the lower \
                     level `{}` (`{}` demands `{}`): its level never decides the rollback; give \
                     it a level at least `{}`, or remove it",
                    crate::error::quote(&strict.name),
                    crate::error::quote(&loose.name),
                    level_name(strict.level),
                    crate::error::quote(&loose.name),
                    level_name(loose.level),
                    level_name(loose.level),
                ),
            );
        }
    }
}

/// Whether `strict` firing implies `loose` firing: both compare the same aggregate of the
/// same series over the same window, in the same direction, with the same handling of
/// missing data; `strict`'s threshold is at least as far and it must hold at least as long.
fn implies(strict: &Trigger, loose: &Trigger) -> bool {
    let (
        Condition::Metric {
            selector: s1,
            aggregation: a1,
            window: w1,
            op: o1,
            threshold: t1,
        },
        Condition::Metric {
            selector: s2,
            aggregation: a2,
            window: w2,
            op: o2,
            threshold: t2,
        },
    ) = (&strict.condition, &loose.condition)
    else {
        return false;
    };
    let further = match o1 {
        Op::Above => t1 >= t2,
        Op::Below => t1 <= t2,
    };
    s1 == s2
        && a1 == a2
        && w1 == w2
        && o1 == o2
        && further
        && strict.on_missing == loose.on_missing
        && strict.sustain >= loose.sustain
}
