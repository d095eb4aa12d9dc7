//! `risk`: additive integer factors, levels by thresholds and ordered overrides.
//!
//! Each factor has its points, an optional cap, a reason shown to people and mitigation
//! advice listed when it fires. The score is the sum of the factors' points (each within its
//! cap), so the order of factors does not matter; the level is the highest threshold the
//! score reaches, raised (never lowered) by the first override that matches. Evidence a
//! factor needs but does not have scores the factor's maximum and is listed in `missing`
//! (fail safe), so adding a failure never lowers the score: a missing validation category
//! scores its `failed` points, and a history with fewer than `min_changes` changes counts the
//! changes it lacks as failed.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use super::validation::{CategoryOutcome, State};
use super::{NamedWindow, Rule};
use crate::history::History;
use crate::model::{ChangeRequest, IncidentSeverity, RiskLevel};
use crate::time::{Interval, format_duration};

/// One factor's setting and what is shown when it fires.
#[derive(Debug, Clone)]
pub(crate) struct Factor<T> {
    pub value: T,
    /// The most points it adds.
    pub cap: Option<u32>,
    /// Shown to people before the specifics.
    pub reason: Option<String>,
    /// Advice listed when it fires.
    pub mitigation: Option<String>,
    /// `file:line` of the factor in policy.yaml.
    pub source: String,
}

impl<T> Factor<T> {
    fn capped(&self, points: u32) -> u32 {
        self.cap.map_or(points, |c| points.min(c))
    }
}

/// `change_type`: points per type, `default` for the others.
#[derive(Debug, Clone, Default)]
pub(crate) struct TypePoints {
    pub points: BTreeMap<String, u32>,
    pub default: u32,
}

/// `services`: `points` for every service past the first `over`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceCount {
    pub points: u32,
    pub over: u32,
}

/// `critical_services`: `points` for every listed service the change touches.
#[derive(Debug, Clone, Default)]
pub(crate) struct CriticalServices {
    pub services: Vec<String>,
    pub points: u32,
}

/// `validation`: points for a failed (missing, stale) or warning category.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidationPoints {
    pub failed: u32,
    pub warning: u32,
    /// Per category: (failed, warning).
    pub categories: BTreeMap<String, (u32, u32)>,
}

/// `duration`: `points` when the change is longer than `over`.
#[derive(Debug, Clone)]
pub(crate) struct DurationPoints {
    pub over: TimeDelta,
    pub points: u32,
}

/// `failure_rate`: `points` when the share of failed changes of the same services in the
/// environment over `window` is above `above`.
#[derive(Debug, Clone)]
pub(crate) struct FailureRate {
    pub window: TimeDelta,
    pub above: f64,
    pub min_changes: u32,
    pub points: u32,
}

/// `incidents`: points per incident caused by changes of the same services in `window`.
#[derive(Debug, Clone)]
pub(crate) struct IncidentPoints {
    pub window: TimeDelta,
    pub points: [u32; 4],
}

/// When an override applies; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct OverrideWhen {
    pub services: Option<Vec<String>>,
    pub types: Option<Vec<String>>,
    pub between: Vec<NamedWindow>,
}

/// An override: when it matches first, the level is at least `at_least`.
#[derive(Debug, Clone)]
pub(crate) struct Override {
    pub name: String,
    pub when: OverrideWhen,
    pub at_least: RiskLevel,
    pub reason: Option<String>,
    pub source: String,
}

/// The `risk:` section of an environment.
#[derive(Debug, Clone)]
pub(crate) struct RiskRules {
    /// Scores at which `medium`, `high` and `critical` start.
    pub levels: [u32; 3],
    pub change_type: Option<Factor<TypePoints>>,
    pub services: Option<Factor<ServiceCount>>,
    pub critical_services: Option<Factor<CriticalServices>>,
    pub validation: Option<Factor<ValidationPoints>>,
    pub duration: Option<Factor<DurationPoints>>,
    pub outside_preferred_window: Option<Factor<u32>>,
    pub failure_rate: Option<Factor<FailureRate>>,
    pub incidents: Option<Factor<IncidentPoints>>,
    pub overrides: Vec<Override>,
}

impl Default for RiskRules {
    fn default() -> Self {
        Self {
            levels: [u32::MAX, u32::MAX, u32::MAX],
            change_type: None,
            services: None,
            critical_services: None,
            validation: None,
            duration: None,
            outside_preferred_window: None,
            failure_rate: None,
            incidents: None,
            overrides: Vec::new(),
        }
    }
}

/// A factor that fired.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FactorHit {
    pub name: String,
    pub points: u32,
    pub reason: String,
    pub source: String,
}

/// The result of an assessment, before it becomes the decision's `details.risk`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Assessment {
    pub score: u32,
    pub factors: Vec<FactorHit>,
    pub missing: Vec<String>,
    pub mitigations: Vec<String>,
    /// The override that matched, with its level.
    pub overridden: Option<(String, RiskLevel, String, Option<String>)>,
}

/// What the risk rules look at.
pub(crate) struct RiskCtx<'a> {
    pub request: &'a ChangeRequest,
    pub interval: Interval,
    pub now: DateTime<Utc>,
    pub validation: &'a [CategoryOutcome<'a>],
    pub history: Option<&'a History>,
    /// The environment's preferred window, when it has one and it applies to the type.
    pub preferred: Option<&'a Rule<Vec<NamedWindow>>>,
    /// Whether the change runs outside the preferred window (computed by the schedule rule).
    pub outside_preferred: bool,
}

impl Assessment {
    fn add<T>(&mut self, name: String, points: u32, factor: &Factor<T>, specifics: String) {
        if points == 0 {
            return;
        }
        self.score = self.score.saturating_add(points);
        let reason = match &factor.reason {
            Some(r) => format!("{r}: {specifics}"),
            None => specifics,
        };
        self.factors.push(FactorHit {
            name,
            points,
            reason,
            source: factor.source.clone(),
        });
        if let Some(m) = &factor.mitigation {
            if !self.mitigations.contains(m) {
                self.mitigations.push(m.clone());
            }
        }
    }

    /// The level of the score under `levels`, raised by the override that matched.
    pub fn level(&self, levels: &[u32; 3]) -> RiskLevel {
        let by_score = match levels.iter().rposition(|t| self.score >= *t) {
            Some(2) => RiskLevel::Critical,
            Some(1) => RiskLevel::High,
            Some(0) => RiskLevel::Medium,
            _ => RiskLevel::Low,
        };
        match &self.overridden {
            Some((_, at_least, _, _)) => by_score.max(*at_least),
            None => by_score,
        }
    }

    /// Adds points a script gave (`add_risk`), with its reason and `file:line`.
    pub fn add_script(&mut self, points: u32, reason: String, source: String) {
        self.score = self.score.saturating_add(points);
        self.factors.push(FactorHit {
            name: "script".into(),
            points,
            reason,
            source,
        });
    }

    /// `details.risk`.
    pub fn into_json(self, levels: &[u32; 3]) -> Value {
        let level = self.level(levels);
        let factors: Vec<Value> = self
            .factors
            .into_iter()
            .map(|f| {
                let mut m = Map::with_capacity(4);
                m.insert("name".into(), f.name.into());
                m.insert("points".into(), f.points.into());
                m.insert("reason".into(), f.reason.into());
                m.insert("source".into(), f.source.into());
                Value::Object(m)
            })
            .collect();
        let mut risk = Map::with_capacity(6);
        risk.insert("score".into(), self.score.into());
        risk.insert("level".into(), level.as_str().into());
        risk.insert("factors".into(), factors.into());
        risk.insert("missing".into(), self.missing.into());
        risk.insert("mitigations".into(), self.mitigations.into());
        if let Some((name, level, source, reason)) = self.overridden {
            let mut o = json!({"name": name, "at_least": level.as_str(), "source": source});
            if let (Some(r), Some(obj)) = (reason, o.as_object_mut()) {
                obj.insert("reason".into(), r.into());
            }
            risk.insert("override".into(), o);
        }
        risk.into()
    }
}

fn plural(n: u32, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

impl RiskRules {
    /// Scores every factor for `ctx`.
    pub fn assess(&self, ctx: &RiskCtx) -> Assessment {
        let mut a = Assessment::default();
        let request = ctx.request;
        if let Some(f) = &self.change_type {
            let p = f
                .value
                .points
                .get(&request.change_type)
                .copied()
                .unwrap_or(f.value.default);
            a.add(
                "change_type".into(),
                f.capped(p),
                f,
                format!("type `{}`", request.change_type),
            );
        }
        if let Some(f) = &self.services {
            let n = u32::try_from(request.services.len()).unwrap_or(u32::MAX);
            let p = n
                .saturating_sub(f.value.over)
                .saturating_mul(f.value.points);
            a.add(
                "services".into(),
                f.capped(p),
                f,
                format!("touches {}", plural(n, "service")),
            );
        }
        if let Some(f) = &self.critical_services {
            let hit: Vec<&str> = request
                .services
                .iter()
                .filter(|s| f.value.services.contains(s))
                .map(String::as_str)
                .collect();
            let n = u32::try_from(hit.len()).unwrap_or(u32::MAX);
            let p = n.saturating_mul(f.value.points);
            let names: Vec<String> = hit.iter().map(|s| format!("`{s}`")).collect();
            a.add(
                "critical_services".into(),
                f.capped(p),
                f,
                format!("touches critical {}", names.join(", ")),
            );
        }
        if let Some(f) = &self.validation {
            let mut hits = Vec::new();
            for o in ctx.validation {
                let (failed, warning) = f
                    .value
                    .categories
                    .get(&o.rule.name)
                    .copied()
                    .unwrap_or((f.value.failed, f.value.warning));
                let p = match &o.state {
                    State::Passed => 0,
                    State::Warning { .. } => warning.min(failed),
                    State::Failed { .. } | State::Missing { .. } | State::Stale { .. } => failed,
                };
                if o.state.is_missing() {
                    a.missing.push(format!("validation.{}", o.rule.name));
                }
                if p > 0 {
                    hits.push((o, p));
                }
            }
            // Each category is its own factor; the cap bounds their sum, taken off the last
            // ones so that the listed points add up to the score.
            let mut left = f.cap.unwrap_or(u32::MAX);
            for (o, p) in hits {
                let p = p.min(left);
                left = left.saturating_sub(p);
                a.add(
                    format!("validation.{}", o.rule.name),
                    p,
                    f,
                    o.state.describe(&o.rule.name, o.rule.max_age),
                );
            }
        }
        if let Some(f) = &self.duration {
            if ctx.interval.length() > f.value.over {
                a.add(
                    "duration".into(),
                    f.capped(f.value.points),
                    f,
                    format!(
                        "runs {}, longer than {}",
                        format_duration(request.duration),
                        format_duration(f.value.over)
                    ),
                );
            }
        }
        if let Some(f) = &self.outside_preferred_window {
            if ctx.outside_preferred {
                let names: Vec<String> = ctx
                    .preferred
                    .map(|r| r.value.iter().map(|w| format!("`{}`", w.name)).collect())
                    .unwrap_or_default();
                a.add(
                    "outside_preferred_window".into(),
                    f.capped(f.value),
                    f,
                    format!("starts outside the preferred window {}", names.join(", ")),
                );
            }
        }
        let walk = ctx.history.map(|h| self.walk(ctx, h)).unwrap_or_default();
        if let Some(f) = &self.failure_rate {
            let max = f.capped(f.value.points);
            match ctx.history {
                None => {
                    a.missing.push("history".into());
                    a.add(
                        "failure_rate".into(),
                        max,
                        f,
                        "no history was given; scored as its maximum".into(),
                    );
                }
                Some(_) => {
                    let (total, failed) = (walk.total, walk.failed);
                    // Changes short of `min_changes` count as failed (fail safe, monotonic).
                    let lacking = f.value.min_changes.saturating_sub(total);
                    let denominator = total.max(f.value.min_changes);
                    let counted = failed.saturating_add(lacking);
                    let rate = if denominator == 0 {
                        1.0
                    } else {
                        f64::from(counted) / f64::from(denominator)
                    };
                    if rate > f.value.above {
                        let mut specifics = format!(
                            "{failed} of {} in the last {} failed or rolled back",
                            plural(total, "change"),
                            format_duration(f.value.window)
                        );
                        if lacking > 0 {
                            specifics.push_str(&format!(
                                " (fewer than {} changes: the {lacking} missing count as failed)",
                                f.value.min_changes
                            ));
                        }
                        specifics.push_str(&format!(
                            ", a rate of {:.0}% above {:.0}%",
                            rate * 100.0,
                            f.value.above * 100.0
                        ));
                        a.add("failure_rate".into(), max, f, specifics);
                    }
                }
            }
        }
        if let Some(f) = &self.incidents {
            match ctx.history {
                None => {
                    if !a.missing.iter().any(|m| m == "history") {
                        a.missing.push("history".into());
                    }
                    let max = f.cap.unwrap_or(f.value.points[0]);
                    a.add(
                        "incidents".into(),
                        max,
                        f,
                        "no history was given; scored as its maximum".into(),
                    );
                }
                Some(_) => {
                    let (counts, p) = (walk.incidents, walk.incident_points);
                    let listed: Vec<String> = IncidentSeverity::ALL
                        .iter()
                        .zip(counts)
                        .filter(|(_, c)| *c > 0)
                        .map(|(s, c)| format!("{c} {s}"))
                        .collect();
                    a.add(
                        "incidents".into(),
                        f.capped(p),
                        f,
                        format!(
                            "changes of the same services caused {} in the last {}",
                            listed.join(", "),
                            format_duration(f.value.window)
                        ),
                    );
                }
            }
        }
        for o in &self.overrides {
            if o.when.matches(ctx) {
                a.overridden = Some((
                    o.name.clone(),
                    o.at_least,
                    o.source.clone(),
                    o.reason.clone(),
                ));
                break;
            }
        }
        a
    }
}

/// What one walk of the history found for the history factors.
#[derive(Debug, Default)]
struct Walk {
    total: u32,
    failed: u32,
    incidents: [u32; 4],
    incident_points: u32,
}

impl RiskRules {
    /// One walk of the changes of the request's services over the longer of the two history
    /// windows, counting each factor's part inside its own window.
    fn walk(&self, ctx: &RiskCtx, history: &History) -> Walk {
        let since = |window: TimeDelta| {
            ctx.now
                .checked_sub_signed(window)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let from_rate = self.failure_rate.as_ref().map(|f| since(f.value.window));
        let incidents = self
            .incidents
            .as_ref()
            .map(|f| (since(f.value.window), &f.value.points));
        let Some(from) = [from_rate, incidents.map(|i| i.0)]
            .into_iter()
            .flatten()
            .min()
        else {
            return Walk::default();
        };
        let mut w = Walk::default();
        let request = ctx.request;
        history.for_each_change(
            &request.environment,
            &request.services,
            from,
            ctx.now,
            |e| {
                if from_rate.is_some_and(|t| e.start >= t) {
                    w.total = w.total.saturating_add(1);
                    if e.outcome.is_failure() {
                        w.failed = w.failed.saturating_add(1);
                    }
                }
                if let Some((_, points)) = incidents.filter(|(t, _)| e.start >= *t) {
                    for ((count, seen), pts) in w.incidents.iter_mut().zip(e.incidents).zip(points)
                    {
                        *count = count.saturating_add(u32::from(seen));
                        w.incident_points = w
                            .incident_points
                            .saturating_add(u32::from(seen).saturating_mul(*pts));
                    }
                }
            },
        );
        w
    }
}

impl OverrideWhen {
    fn matches(&self, ctx: &RiskCtx) -> bool {
        let r = ctx.request;
        self.services
            .as_ref()
            .is_none_or(|s| r.services.iter().any(|x| s.contains(x)))
            && self
                .types
                .as_ref()
                .is_none_or(|t| t.contains(&r.change_type))
            && (self.between.is_empty()
                || self.between.iter().any(|w| {
                    let mut hit = false;
                    w.window.for_each_overlapping(&ctx.interval, |_| hit = true);
                    hit
                }))
    }
}

/// How the risk level tightens the schedule rules of an environment (`stricter:` under
/// `advance_notice` and `preferred_window`). Applied only when a check knows the level
/// ([`crate::PolicySet::check_schedule_with_risk`]); without it the schedule rules are as
/// written.
#[derive(Debug, Clone, Default)]
pub(crate) struct RiskSchedule {
    /// From this level on, at least this much notice; with the entry's source.
    pub notice: Vec<(RiskLevel, TimeDelta, String)>,
    /// From this level on, running outside the preferred window denies; with its source.
    pub preferred_deny: Option<(RiskLevel, String)>,
}

impl RiskSchedule {
    /// The most notice `level` requires beyond the rule's own, with its source.
    pub fn notice_for(&self, level: RiskLevel) -> Option<(TimeDelta, &str)> {
        self.notice
            .iter()
            .filter(|(at, _, _)| level >= *at)
            .max_by_key(|(_, min, _)| *min)
            .map(|(_, min, source)| (*min, source.as_str()))
    }
}
