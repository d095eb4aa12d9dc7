//! Windows over the year from `now`: `blackout_always`, `blackout_never_active`,
//! `blackout_shadowed`, `preferred_never_opens`, `preferred_in_blackout` and
//! `when_window_never_opens`.

use super::{LintSeverity, Linter};
use crate::config::EnvironmentPolicy;
use crate::rules::{NamedWindow, Rule};
use crate::time::{IntervalSet, format_utc};

impl Linter<'_> {
    /// The instants of the year that `window` covers; `None` when its occurrences could not
    /// all be computed (past the cron or RRULE limits): such a window is not judged.
    fn covered(&self, window: &NamedWindow) -> Option<IntervalSet> {
        let mut set = IntervalSet::new();
        let truncated = window
            .window
            .for_each_computed(&self.year, |iv| set.insert(iv));
        truncated.is_none().then(|| set.clip(self.year))
    }

    /// "the year from <now>", for messages.
    fn year_text(&self) -> String {
        format!("the year from {}", format_utc(self.year.start()))
    }

    /// The window lints of environment `env`.
    pub(super) fn windows(&mut self, env: &str, policy: &EnvironmentPolicy) {
        let s = &policy.schedule;
        let blackouts: Vec<Option<IntervalSet>> =
            s.blackouts.iter().map(|b| self.covered(&b.value)).collect();
        for (i, (b, set)) in s.blackouts.iter().zip(&blackouts).enumerate() {
            let Some(set) = set else { continue };
            let field = format!("environments.{env}.blackouts[{i}]");
            let name = crate::error::quote(&b.value.name).into_owned();
            if set.covers(&self.year) {
                let everyone = b.exempt_types.is_empty() && b.value.services.is_none();
                let severity = if everyone {
                    LintSeverity::Error
                } else {
                    LintSeverity::Warning
                };
                self.push(
                    severity,
                    "blackout_always",
                    field,
                    format!(
                        "blackout `{name}` covers all of {}: no change it applies to can ever \
                         run; check its `from` and `to`",
                        self.year_text()
                    ),
                );
            } else if set.is_empty() {
                self.push(
                    LintSeverity::Info,
                    "blackout_never_active",
                    field,
                    format!(
                        "blackout `{name}` is not active at any time in {}: it blocks nothing \
                         in that year; remove it if it is over",
                        self.year_text()
                    ),
                );
            } else if let Some(j) = self.shadowing(&s.blackouts, &blackouts, i) {
                let other = s
                    .blackouts
                    .get(j)
                    .map(|o| crate::error::quote(&o.value.name).into_owned())
                    .unwrap_or_default();
                self.push(
                    LintSeverity::Warning,
                    "blackout_shadowed",
                    field,
                    format!(
                        "blackout `{name}` lies inside blackout `{other}` at every time in {} \
                         and applies to no change `{other}` spares: it blocks nothing more; \
                         remove it or change its times",
                        self.year_text()
                    ),
                );
            }
        }
        if let Some(preferred) = &s.preferred_window {
            self.preferred(env, preferred, &s.blackouts, &blackouts);
        }
        if let Some(risk) = &policy.risk {
            for (i, o) in risk.overrides.iter().enumerate() {
                let sets: Vec<Option<IntervalSet>> =
                    o.when.between.iter().map(|w| self.covered(w)).collect();
                if sets.is_empty()
                    || !sets
                        .iter()
                        .all(|s| s.as_ref().is_some_and(IntervalSet::is_empty))
                {
                    continue;
                }
                self.push(
                    LintSeverity::Warning,
                    "when_window_never_opens",
                    format!("environments.{env}.risk.overrides[{i}].when.between"),
                    format!(
                        "no window of `between` opens in {}: risk override `{}` never applies \
                         there; check the windows' dates",
                        self.year_text(),
                        crate::error::quote(&o.name),
                    ),
                );
            }
        }
    }

    /// The first other blackout that blocks everything blackout `i` blocks: its occurrences
    /// cover `i`'s over the year, it concerns every service `i` does and it exempts no type
    /// `i` does not. Of two identical blackouts, the later one is reported.
    fn shadowing(
        &self,
        rules: &[Rule<NamedWindow>],
        sets: &[Option<IntervalSet>],
        i: usize,
    ) -> Option<usize> {
        let covers = |a: usize, b: usize| -> bool {
            let (Some(ra), Some(rb)) = (rules.get(a), rules.get(b)) else {
                return false;
            };
            let (Some(Some(sa)), Some(Some(sb))) = (sets.get(a), sets.get(b)) else {
                return false;
            };
            !sb.is_empty()
                && sb.difference(sa).is_empty()
                && ra.exempt_types.iter().all(|t| rb.exempt_types.contains(t))
                && services_within(&rb.value, &ra.value)
        };
        (0..rules.len()).find(|&j| j != i && covers(j, i) && !(j > i && covers(i, j)))
    }

    /// `preferred_never_opens` and `preferred_in_blackout` for each window of a
    /// `preferred_window`.
    fn preferred(
        &mut self,
        env: &str,
        preferred: &Rule<Vec<NamedWindow>>,
        blackouts: &[Rule<NamedWindow>],
        sets: &[Option<IntervalSet>],
    ) {
        for (k, w) in preferred.value.iter().enumerate() {
            let Some(set) = self.covered(w) else { continue };
            let field = format!("environments.{env}.preferred_window.windows[{k}]");
            let name = crate::error::quote(&w.name).into_owned();
            if set.is_empty() {
                self.push(
                    LintSeverity::Warning,
                    "preferred_never_opens",
                    field,
                    format!(
                        "preferred window `{name}` never opens in {}: every change is outside \
                         it; check its dates",
                        self.year_text()
                    ),
                );
                continue;
            }
            // The blackouts that block every change this window would take.
            let mut blocked = IntervalSet::new();
            let mut names = Vec::new();
            for (b, bset) in blackouts.iter().zip(sets) {
                let Some(bset) = bset else { continue };
                let applies = b
                    .exempt_types
                    .iter()
                    .all(|t| preferred.exempt_types.contains(t))
                    && services_within(w, &b.value);
                if applies && !bset.intersection(&set).is_empty() {
                    for iv in bset.intervals() {
                        blocked.insert(*iv);
                    }
                    names.push(b.value.name.as_str());
                }
            }
            if set.difference(&blocked).is_empty() {
                self.push(
                    LintSeverity::Warning,
                    "preferred_in_blackout",
                    field,
                    format!(
                        "preferred window `{name}` lies inside blackouts {} at every time in {}: \
                         no change can run in it; move it out of the blackouts",
                        super::ticked(names),
                        self.year_text()
                    ),
                );
            }
        }
    }
}

/// Whether every service `inner` concerns is one `outer` concerns (a window naming no
/// services concerns them all).
fn services_within(inner: &NamedWindow, outer: &NamedWindow) -> bool {
    match (&inner.services, &outer.services) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(i), Some(o)) => i.iter().all(|s| o.contains(s)),
    }
}
