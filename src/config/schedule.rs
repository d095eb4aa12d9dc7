//! The schedule section of an environment: `advance_notice`, `max_duration`, `blackouts`,
//! `preferred_window`, `conflicts`, `concurrency` and `dependencies`, read into
//! [`ScheduleRules`]. These keys sit directly under the environment in `policy.yaml`.

use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::Deserialize;

use super::bundle::PolicyCtx;
use super::windows::WindowDoc;
use super::yaml::{DurationField, Seg};
use crate::error::LoadError;
use crate::model::RiskLevel;
use crate::rules::risk::RiskSchedule;
use crate::rules::schedule::ScheduleRules;

/// The schedule keys of one environment, as written (see `EnvDoc`, which holds them).
pub(super) struct ScheduleDoc {
    pub(super) advance_notice: Option<NoticeDoc>,
    pub(super) max_duration: Option<MaxDurationDoc>,
    pub(super) blackouts: Vec<WindowDoc>,
    pub(super) preferred_window: Option<PreferredDoc>,
    pub(super) conflicts: Option<ToggleDoc>,
    pub(super) concurrency: Option<ConcurrencyDoc>,
    pub(super) dependencies: Option<ToggleDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NoticeDoc {
    min: DurationField,
    #[serde(default)]
    exempt_types: Vec<String>,
    /// `- {when: {risk_at_least: critical}, min: 48h}`
    #[serde(default)]
    stricter: Vec<StricterNoticeDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WhenRiskDoc {
    risk_at_least: RiskLevel,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StricterNoticeDoc {
    when: WhenRiskDoc,
    min: DurationField,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum SeverityDoc {
    Deny,
    Warn,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StricterPreferredDoc {
    when: WhenRiskDoc,
    severity: SeverityDoc,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MaxDurationDoc {
    max: DurationField,
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ToggleDoc {
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConcurrencyDoc {
    max: u32,
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PreferredDoc {
    windows: Vec<WindowDoc>,
    #[serde(default)]
    exempt_types: Vec<String>,
    /// `- {when: {risk_at_least: high}, severity: deny}`
    #[serde(default)]
    stricter: Vec<StricterPreferredDoc>,
}

impl PolicyCtx<'_> {
    /// Reads the schedule keys of environment `name`; `tz` is the policy's zone.
    pub(super) fn schedule(
        &self,
        name: &str,
        doc: ScheduleDoc,
        tz: Tz,
    ) -> Result<(ScheduleRules, RiskSchedule), LoadError> {
        let base = [Seg::Key("environments"), Seg::Key(name)];
        let at = |key| [&base[..], &[Seg::Key(key)]].concat();
        let mut by_risk = RiskSchedule::default();
        let mut doc = doc;
        if let Some(n) = doc.advance_notice.as_mut() {
            for (i, s) in std::mem::take(&mut n.stricter).into_iter().enumerate() {
                let path = [
                    &at("advance_notice")[..],
                    &[Seg::Key("stricter"), Seg::Index(i)],
                ]
                .concat();
                if s.min.0 <= n.min.0 {
                    return Err(self.error(
                        &[&path[..], &[Seg::Key("min")]].concat(),
                        "a stricter `min` must be longer than the rule's own `min`".into(),
                    ));
                }
                by_risk
                    .notice
                    .push((s.when.risk_at_least, s.min.0, self.source(&path)));
            }
        }
        if let Some(p) = doc.preferred_window.as_mut() {
            for (i, s) in std::mem::take(&mut p.stricter).into_iter().enumerate() {
                let path = [
                    &at("preferred_window")[..],
                    &[Seg::Key("stricter"), Seg::Index(i)],
                ]
                .concat();
                if s.severity == SeverityDoc::Warn {
                    return Err(self.error(
                        &[&path[..], &[Seg::Key("severity")]].concat(),
                        "the preferred window already warns: a stricter `severity` can only be `deny`".into(),
                    ));
                }
                let level = s.when.risk_at_least;
                if by_risk
                    .preferred_deny
                    .as_ref()
                    .is_none_or(|(l, _)| level < *l)
                {
                    by_risk.preferred_deny = Some((level, self.source(&path)));
                }
            }
        }
        let mut rules = ScheduleRules {
            advance_notice: doc
                .advance_notice
                .map(|d| self.rule(d.min.0, d.exempt_types, &at("advance_notice"))),
            max_duration: doc
                .max_duration
                .map(|d| self.rule(d.max.0, d.exempt_types, &at("max_duration"))),
            conflicts: doc
                .conflicts
                .map(|d| self.rule((), d.exempt_types, &at("conflicts"))),
            dependencies: doc
                .dependencies
                .map(|d| self.rule((), d.exempt_types, &at("dependencies"))),
            ..ScheduleRules::default()
        };
        if let Some(c) = doc.concurrency {
            if c.max == 0 {
                return Err(self.error(
                    &[&at("concurrency")[..], &[Seg::Key("max")]].concat(),
                    "`max` must be at least 1".into(),
                ));
            }
            rules.concurrency = Some(self.rule(c.max, c.exempt_types, &at("concurrency")));
        }
        for (i, w) in doc.blackouts.into_iter().enumerate() {
            let path = [&at("blackouts")[..], &[Seg::Index(i)]].concat();
            let exempt = w.exempt_types.clone();
            let window = self.window(w, tz, &path)?;
            rules.blackouts.push(self.rule(window, exempt, &path));
        }
        if let Some(p) = doc.preferred_window {
            let mut windows = Vec::with_capacity(p.windows.len());
            for (i, w) in p.windows.into_iter().enumerate() {
                let path = [
                    &at("preferred_window")[..],
                    &[Seg::Key("windows"), Seg::Index(i)],
                ]
                .concat();
                if !w.exempt_types.is_empty() {
                    return Err(self.error(
                        &path,
                        "`exempt_types` belongs on `preferred_window`, not on one of its windows"
                            .into(),
                    ));
                }
                windows.push(self.window(w, tz, &path)?);
            }
            if windows.is_empty() {
                return Err(self.error(
                    &at("preferred_window"),
                    "`windows` must list at least one window".into(),
                ));
            }
            rules.preferred_window =
                Some(self.rule(windows, p.exempt_types, &at("preferred_window")));
        }
        Ok((rules, by_risk))
    }
}
