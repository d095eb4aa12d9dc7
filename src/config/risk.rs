//! The `risk:` section of an environment: levels, factors and overrides, read into
//! [`RiskRules`] (docs/policy-authoring.md, "Risk", has every factor and its YAML).

use std::collections::BTreeMap;

use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::Deserialize;

use super::bundle::PolicyCtx;
use super::windows::WindowDoc;
use super::yaml::{DurationField, Seg};
use crate::error::LoadError;
use crate::model::{IncidentSeverity, RiskLevel};
use crate::rules::risk::{
    CriticalServices, DurationPoints, Factor, FailureRate, IncidentPoints, Override, OverrideWhen,
    RiskRules, ServiceCount, TypePoints, ValidationPoints,
};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskDoc {
    levels: LevelsDoc,
    #[serde(default)]
    factors: FactorsDoc,
    #[serde(default)]
    overrides: Vec<OverrideDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LevelsDoc {
    medium: u32,
    high: u32,
    critical: u32,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FactorsDoc {
    change_type: Option<ChangeTypeDoc>,
    services: Option<ServicesDoc>,
    critical_services: Option<CriticalDoc>,
    validation: Option<ValidationPointsDoc>,
    duration: Option<DurationDoc>,
    outside_preferred_window: Option<PointsDoc>,
    failure_rate: Option<FailureRateDoc>,
    incidents: Option<IncidentsDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangeTypeDoc {
    #[serde(default)]
    points: BTreeMap<String, u32>,
    #[serde(default)]
    default: u32,
    cap: Option<u32>,
    reason: Option<String>,
    mitigation: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ServicesDoc {
    points: u32,
    #[serde(default = "one")]
    over: u32,
    cap: Option<u32>,
    reason: Option<String>,
    mitigation: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CriticalDoc {
    services: Vec<String>,
    points: u32,
    cap: Option<u32>,
    reason: Option<String>,
    mitigation: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CategoryPointsDoc {
    failed: u32,
    #[serde(default)]
    warning: u32,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ValidationPointsDoc {
    failed: u32,
    #[serde(default)]
    warning: u32,
    #[serde(default)]
    categories: BTreeMap<String, CategoryPointsDoc>,
    cap: Option<u32>,
    reason: Option<String>,
    mitigation: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DurationDoc {
    over: DurationField,
    points: u32,
    cap: Option<u32>,
    reason: Option<String>,
    mitigation: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PointsDoc {
    points: u32,
    cap: Option<u32>,
    reason: Option<String>,
    mitigation: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FailureRateDoc {
    window: DurationField,
    above: f64,
    #[serde(default)]
    min_changes: u32,
    points: u32,
    cap: Option<u32>,
    reason: Option<String>,
    mitigation: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct IncidentsDoc {
    window: DurationField,
    points: BTreeMap<IncidentSeverity, u32>,
    cap: u32,
    reason: Option<String>,
    mitigation: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OverrideDoc {
    name: String,
    #[serde(default)]
    when: WhenDoc,
    at_least: RiskLevel,
    reason: Option<String>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WhenDoc {
    services: Option<Vec<String>>,
    types: Option<Vec<String>>,
    #[serde(default)]
    between: Vec<WindowDoc>,
}

impl PolicyCtx<'_> {
    fn factor<T>(
        &self,
        value: T,
        cap: Option<u32>,
        reason: Option<String>,
        mitigation: Option<String>,
        path: &[Seg],
    ) -> Factor<T> {
        Factor {
            value,
            cap,
            reason,
            mitigation,
            source: self.source(path),
        }
    }

    /// Reads the `risk:` section of environment `env`; `tz` is the policy's zone.
    pub(super) fn risk(&self, env: &str, doc: RiskDoc, tz: Tz) -> Result<RiskRules, LoadError> {
        let base = [Seg::Key("environments"), Seg::Key(env), Seg::Key("risk")];
        let at = |keys: &[&'static str]| {
            let mut p = base.to_vec();
            p.extend(keys.iter().map(|k| Seg::Key(k)));
            p
        };
        let l = &doc.levels;
        if !(l.medium < l.high && l.high < l.critical) {
            return Err(self.error(
                &at(&["levels"]),
                format!(
                    "levels must rise: `medium` {} < `high` {} < `critical` {}",
                    l.medium, l.high, l.critical
                ),
            ));
        }
        let f = doc.factors;
        let mut rules = RiskRules {
            levels: [l.medium, l.high, l.critical],
            ..RiskRules::default()
        };
        rules.change_type = f.change_type.map(|d| {
            self.factor(
                TypePoints {
                    points: d.points,
                    default: d.default,
                },
                d.cap,
                d.reason,
                d.mitigation,
                &at(&["factors", "change_type"]),
            )
        });
        rules.services = f.services.map(|d| {
            self.factor(
                ServiceCount {
                    points: d.points,
                    over: d.over,
                },
                d.cap,
                d.reason,
                d.mitigation,
                &at(&["factors", "services"]),
            )
        });
        rules.critical_services = f.critical_services.map(|d| {
            self.factor(
                CriticalServices {
                    services: d.services,
                    points: d.points,
                },
                d.cap,
                d.reason,
                d.mitigation,
                &at(&["factors", "critical_services"]),
            )
        });
        if let Some(d) = f.validation {
            let path = at(&["factors", "validation"]);
            if d.warning > d.failed {
                return Err(self.error(
                    &[&path[..], &[Seg::Key("warning")]].concat(),
                    format!(
                        "`warning` {} is above `failed` {}: a failure would lower the risk",
                        d.warning, d.failed
                    ),
                ));
            }
            let mut categories = BTreeMap::new();
            for (name, c) in d.categories {
                if c.warning > c.failed {
                    return Err(self.error(
                        &[
                            &path[..],
                            &[Seg::Key("categories"), Seg::Key(&name), Seg::Key("warning")],
                        ]
                        .concat(),
                        format!(
                            "`warning` {} is above `failed` {}: a failure would lower the risk",
                            c.warning, c.failed
                        ),
                    ));
                }
                categories.insert(name, (c.failed, c.warning));
            }
            rules.validation = Some(self.factor(
                ValidationPoints {
                    failed: d.failed,
                    warning: d.warning,
                    categories,
                },
                d.cap,
                d.reason,
                d.mitigation,
                &path,
            ));
        }
        rules.duration = f.duration.map(|d| {
            self.factor(
                DurationPoints {
                    over: d.over.0,
                    points: d.points,
                },
                d.cap,
                d.reason,
                d.mitigation,
                &at(&["factors", "duration"]),
            )
        });
        rules.outside_preferred_window = f.outside_preferred_window.map(|d| {
            self.factor(
                d.points,
                d.cap,
                d.reason,
                d.mitigation,
                &at(&["factors", "outside_preferred_window"]),
            )
        });
        if let Some(d) = f.failure_rate {
            let path = at(&["factors", "failure_rate"]);
            if !(0.0..1.0).contains(&d.above) {
                return Err(self.error(
                    &[&path[..], &[Seg::Key("above")]].concat(),
                    format!(
                        "`above` is a share of changes from 0 to below 1, not {}",
                        d.above
                    ),
                ));
            }
            rules.failure_rate = Some(self.factor(
                FailureRate {
                    window: d.window.0,
                    above: d.above,
                    min_changes: d.min_changes,
                    points: d.points,
                },
                d.cap,
                d.reason,
                d.mitigation,
                &path,
            ));
        }
        if let Some(d) = f.incidents {
            let mut points = [0u32; 4];
            for (sev, p) in d.points {
                let i = IncidentSeverity::ALL.iter().position(|s| *s == sev);
                if let Some(slot) = i.and_then(|i| points.get_mut(i)) {
                    *slot = p;
                }
            }
            rules.incidents = Some(self.factor(
                IncidentPoints {
                    window: d.window.0,
                    points,
                },
                Some(d.cap),
                d.reason,
                d.mitigation,
                &at(&["factors", "incidents"]),
            ));
        }
        for (i, o) in doc.overrides.into_iter().enumerate() {
            let path = [&at(&["overrides"])[..], &[Seg::Index(i)]].concat();
            let mut between = Vec::with_capacity(o.when.between.len());
            for (j, w) in o.when.between.into_iter().enumerate() {
                let wpath = [
                    &path[..],
                    &[Seg::Key("when"), Seg::Key("between"), Seg::Index(j)],
                ]
                .concat();
                between.push(self.window(w, tz, &wpath)?);
            }
            rules.overrides.push(Override {
                name: o.name,
                when: OverrideWhen {
                    services: o.when.services,
                    types: o.when.types,
                    between,
                },
                at_least: o.at_least,
                reason: o.reason,
                source: self.source(&path),
            });
        }
        Ok(rules)
    }
}
