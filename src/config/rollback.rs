//! The `rollback:` section of an environment, read into [`RollbackRules`]
//! (docs/policy-authoring.md, "Rollback").
//!
//! ```yaml
//! rollback:
//!   levels:                               # escalation order, lightest first
//!     - {name: feature_flag, budget: 2m}
//!     - {name: traffic_routing, budget: 5m}
//!   triggers:
//!     - name: emergency-latency
//!       metric: latency_seconds           # a metric condition ...
//!       labels: {path: generated}         # optional series selector
//!       aggregation: p95                  # last avg min max p50 p90 p95 p99 count rate
//!       window: 5m
//!       above: 3s                         # or `below:`; number, duration or percent
//!       for: 2m                           # default 0s
//!       on_missing: inconclusive          # fire | ignore | inconclusive (the default)
//!       level: traffic_routing
//!     - name: security-failure
//!       event: security_failure           # ... an event condition (`min_count`, default 1) ...
//!       window: 10m
//!       level: traffic_routing
//!     - name: error-budget-burn           # ... or a multi-window burn rate
//!       burn_rate: {metric: error_rate, objective: 99.9%, long: 1h, short: 5m, factor: 14.4}
//!       level: traffic_routing
//! ```
//!
//! Every error names the field and its line; an unknown level has a "did you mean".

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;
use schemars::JsonSchema;
use serde::Deserialize;

use super::bundle::PolicyCtx;
use super::schema::{AggregationText, DurationText, OnMissingText};
use super::yaml::Seg;
use crate::error::{LoadError, quote};
use crate::rules::aggregate::Aggregation;
use crate::rules::rollback::{Condition, Level, OnMissing, Op, RollbackRules, Trigger};
use crate::telemetry::Selector;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackDoc {
    #[serde(default)]
    levels: Vec<LevelDoc>,
    #[serde(default)]
    triggers: Vec<TriggerDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LevelDoc {
    name: String,
    // Durations and thresholds are read as text (or numbers) and checked after parsing, so
    // that an error names the field and its line.
    #[schemars(with = "DurationText")]
    budget: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TriggerDoc {
    name: String,
    metric: Option<String>,
    event: Option<String>,
    burn_rate: Option<BurnRateDoc>,
    #[serde(default)]
    labels: BTreeMap<String, serde_json::Value>,
    #[schemars(with = "Option<AggregationText>")]
    aggregation: Option<String>,
    #[schemars(with = "Option<DurationText>")]
    window: Option<String>,
    above: Option<Number>,
    below: Option<Number>,
    #[serde(rename = "for")]
    #[schemars(with = "Option<DurationText>")]
    sustain: Option<String>,
    #[schemars(with = "Option<OnMissingText>")]
    on_missing: Option<String>,
    min_count: Option<i128>,
    level: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BurnRateDoc {
    metric: String,
    objective: Number,
    #[schemars(with = "DurationText")]
    long: String,
    #[schemars(with = "DurationText")]
    short: String,
    factor: Number,
}

/// A threshold as written: a YAML number, or text (`3s`, `300ms`, `5%`, `99.9%`, `0.5`).
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum Number {
    Value(f64),
    Text(String),
}

/// The keys only one kind of trigger may carry, with the kinds that may.
const KINDS: [&str; 3] = ["metric", "event", "burn_rate"];

/// Reads a threshold: a number, a duration in seconds (`1.5s`, `300ms`, `2m`, `1h`) or a
/// percent as a fraction (`5%` -> 0.05). `None`: not one of those, or not finite.
fn threshold(n: &Number) -> Option<f64> {
    let v = match n {
        Number::Value(v) => *v,
        Number::Text(t) => {
            let t = t.trim();
            // Sub-units as a decimal exponent, so that `99.9%` is the double nearest 0.999.
            let scaled = |body: &str, times: f64, exponent: &str| {
                let body = body.trim_end();
                // A plain decimal only: no `inf`, `nan` or exponent written in a unit.
                let plain = !body.is_empty()
                    && body
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
                plain
                    .then(|| format!("{body}{exponent}").parse::<f64>().ok())
                    .flatten()
                    .map(|v| v * times)
            };
            if let Ok(d) = crate::time::parse_duration(t) {
                d.num_milliseconds() as f64 / 1000.0
            } else if let Some(body) = t.strip_suffix('%') {
                scaled(body, 1.0, "e-2")?
            } else if let Some(body) = t.strip_suffix("ms") {
                scaled(body, 1.0, "e-3")?
            } else if let Some(body) = t.strip_suffix('s') {
                scaled(body, 1.0, "")?
            } else if let Some(body) = t.strip_suffix('m') {
                scaled(body, 60.0, "")?
            } else if let Some(body) = t.strip_suffix('h') {
                scaled(body, 3600.0, "")?
            } else {
                scaled(t, 1.0, "")?
            }
        }
    };
    v.is_finite().then_some(v)
}

/// Reads `for:`: a duration, or zero (`0s`, `0`).
fn sustain(text: &str) -> Option<TimeDelta> {
    let t = text.trim();
    let digits = t.trim_end_matches(['w', 'd', 'h', 'm', 's']);
    if !digits.is_empty()
        && digits.bytes().all(|b| b == b'0')
        && t.len().saturating_sub(digits.len()) <= 1
    {
        return Some(TimeDelta::zero());
    }
    crate::time::parse_duration(t).ok()
}

impl PolicyCtx<'_> {
    /// Reads the `rollback:` section of environment `env`.
    pub(super) fn rollback(&self, env: &str, doc: RollbackDoc) -> Result<RollbackRules, LoadError> {
        let base = vec![
            Seg::Key("environments"),
            Seg::Key(env),
            Seg::Key("rollback"),
        ];
        let at = join;
        let err = |p: &[Seg], message: String| self.error(p, message);

        if doc.levels.is_empty() {
            return Err(err(
                &at(&base, "levels"),
                "`levels` must list at least one rollback level (lightest first), e.g. \
                 `{name: feature_flag, budget: 2m}`"
                    .into(),
            ));
        }
        let mut levels: Vec<Level> = Vec::with_capacity(doc.levels.len());
        for (i, l) in doc.levels.into_iter().enumerate() {
            let p = [&at(&base, "levels")[..], &[Seg::Index(i)]].concat();
            if l.name.trim().is_empty() {
                return Err(err(&at(&p, "name"), "`name` must not be empty".into()));
            }
            if levels.iter().any(|x| x.name == l.name) {
                return Err(err(
                    &at(&p, "name"),
                    format!(
                        "rollback level `{}` appears more than once; level names are unique",
                        quote(&l.name)
                    ),
                ));
            }
            let budget = crate::time::parse_duration(&l.budget).map_err(|e| {
                err(
                    &at(&p, "budget"),
                    format!("`budget`: {e}; a level's budget is a positive duration such as `2m`"),
                )
            })?;
            levels.push(Level {
                name: l.name,
                budget,
                source: self.source(&p),
            });
        }
        let level_names: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();

        let mut names = BTreeSet::new();
        let mut triggers = Vec::with_capacity(doc.triggers.len());
        for (i, t) in doc.triggers.into_iter().enumerate() {
            let p = [&at(&base, "triggers")[..], &[Seg::Index(i)]].concat();
            let field = |key: &'static str| at(&p, key);
            if t.name.trim().is_empty() {
                return Err(err(&field("name"), "`name` must not be empty".into()));
            }
            if !names.insert(t.name.clone()) {
                return Err(err(
                    &field("name"),
                    format!(
                        "rollback trigger `{}` appears more than once; trigger names are unique",
                        quote(&t.name)
                    ),
                ));
            }
            let name = quote(&t.name).into_owned();
            let given: Vec<&str> = [t.metric.is_some(), t.event.is_some(), t.burn_rate.is_some()]
                .iter()
                .zip(KINDS)
                .filter_map(|(g, k)| g.then_some(k))
                .collect();
            if given.len() != 1 {
                let what = if given.is_empty() {
                    "none of them".to_owned()
                } else {
                    given
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                };
                return Err(err(
                    &p,
                    format!(
                        "rollback trigger `{name}` must have exactly one of `metric`, `event` and \
                         `burn_rate`, not {what}"
                    ),
                ));
            }
            // Keys that belong to another kind of trigger.
            let not_for = |kind: &str, keys: &[(&'static str, bool)]| {
                keys.iter().find(|(_, set)| *set).map(|(key, _)| {
                    err(
                        &field(key),
                        format!("`{key}` does not apply to a `{kind}` trigger (`{name}`)"),
                    )
                })
            };
            let window = |required: bool| -> Result<Option<TimeDelta>, LoadError> {
                match &t.window {
                    None if required => Err(err(
                        &p,
                        format!("rollback trigger `{name}` needs a `window`, such as `5m`"),
                    )),
                    None => Ok(None),
                    Some(w) => crate::time::parse_duration(w)
                        .map(Some)
                        .map_err(|e| err(&field("window"), format!("`window`: {e}"))),
                }
            };
            let selector = |metric: &str, metric_key: Vec<Seg>| {
                if metric.trim().is_empty() {
                    return Err(err(&metric_key, "the metric name must not be empty".into()));
                }
                let mut labels = Vec::with_capacity(t.labels.len());
                for (k, v) in &t.labels {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => {
                            return Err(err(
                                &field("labels"),
                                format!("label `{}` must be a string", quote(k)),
                            ));
                        }
                    };
                    labels.push((k.clone(), v));
                }
                Ok(Selector {
                    metric: metric.to_owned(),
                    labels,
                })
            };
            let condition = if let Some(metric) = &t.metric {
                if let Some(e) = not_for("metric", &[("min_count", t.min_count.is_some())]) {
                    return Err(e);
                }
                let aggregation = match &t.aggregation {
                    None => {
                        return Err(err(
                            &p,
                            format!(
                                "metric trigger `{name}` needs an `aggregation` (one of {})",
                                aggregation_list()
                            ),
                        ));
                    }
                    Some(a) => Aggregation::named(a).ok_or_else(|| {
                        let known: Vec<&str> = Aggregation::ALL.iter().map(|a| a.name()).collect();
                        let hint = crate::rules::environment::suggest(a, &known)
                            .map(|k| format!(" (did you mean `{k}`?)"))
                            .unwrap_or_default();
                        err(
                            &field("aggregation"),
                            format!(
                                "unknown aggregation `{}`{hint}; expected one of {}",
                                quote(a),
                                aggregation_list()
                            ),
                        )
                    })?,
                };
                let (op, key, value) = match (&t.above, &t.below) {
                    (Some(v), None) => (Op::Above, "above", v),
                    (None, Some(v)) => (Op::Below, "below", v),
                    (Some(_), Some(_)) => {
                        return Err(err(
                            &field("below"),
                            format!(
                                "metric trigger `{name}` has both `above` and `below`; give one \
                                 (write two triggers for a band)"
                            ),
                        ));
                    }
                    (None, None) => {
                        return Err(err(
                            &p,
                            format!(
                                "metric trigger `{name}` needs `above` or `below`, e.g. \
                                 `above: 3s`"
                            ),
                        ));
                    }
                };
                let threshold = threshold(value).ok_or_else(|| {
                    err(
                        &field(key),
                        format!(
                            "`{key}` must be a number, a duration (`1.5s`, `300ms`) or a percent \
                             (`5%`), not {}",
                            number_text(value)
                        ),
                    )
                })?;
                Condition::Metric {
                    selector: selector(metric, field("metric"))?,
                    aggregation,
                    window: window(true)?.unwrap_or_default(),
                    op,
                    threshold,
                }
            } else if let Some(kind) = &t.event {
                if let Some(e) = not_for(
                    "event",
                    &[
                        ("aggregation", t.aggregation.is_some()),
                        ("above", t.above.is_some()),
                        ("below", t.below.is_some()),
                        ("labels", !t.labels.is_empty()),
                        ("on_missing", t.on_missing.is_some()),
                    ],
                ) {
                    return Err(e);
                }
                if kind.trim().is_empty() {
                    return Err(err(
                        &field("event"),
                        "the event kind must not be empty".into(),
                    ));
                }
                let min_count = match t.min_count {
                    None => 1,
                    Some(n) => usize::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                        err(
                            &field("min_count"),
                            format!("`min_count` must be a whole number of at least 1, not {n}"),
                        )
                    })?,
                };
                Condition::Event {
                    kind: kind.clone(),
                    window: window(true)?.unwrap_or_default(),
                    min_count,
                }
            } else {
                let Some(b) = &t.burn_rate else {
                    return Err(err(&p, "no condition".into()));
                };
                if let Some(e) = not_for(
                    "burn_rate",
                    &[
                        ("aggregation", t.aggregation.is_some()),
                        ("above", t.above.is_some()),
                        ("below", t.below.is_some()),
                        ("window", t.window.is_some()),
                        ("min_count", t.min_count.is_some()),
                    ],
                ) {
                    return Err(e);
                }
                let bp = field("burn_rate");
                let bfield = |key: &'static str| at(&bp, key);
                let objective = threshold(&b.objective)
                    .filter(|o| *o > 0.0 && *o < 1.0)
                    .ok_or_else(|| {
                        err(
                            &bfield("objective"),
                            format!(
                                "`objective` must be a fraction strictly between 0 and 1 (`99.9%` \
                                 or `0.999`), not {}",
                                number_text(&b.objective)
                            ),
                        )
                    })?;
                let factor = threshold(&b.factor).filter(|f| *f > 0.0).ok_or_else(|| {
                    err(
                        &bfield("factor"),
                        format!(
                            "`factor` must be a number above 0 (`14.4`), not {}",
                            number_text(&b.factor)
                        ),
                    )
                })?;
                let long = crate::time::parse_duration(&b.long)
                    .map_err(|e| err(&bfield("long"), format!("`long`: {e}")))?;
                let short = crate::time::parse_duration(&b.short)
                    .map_err(|e| err(&bfield("short"), format!("`short`: {e}")))?;
                if short >= long {
                    return Err(err(
                        &bfield("short"),
                        format!(
                            "`short` ({}) must be shorter than `long` ({})",
                            quote(&b.short),
                            quote(&b.long)
                        ),
                    ));
                }
                Condition::BurnRate {
                    selector: selector(&b.metric, bfield("metric"))?,
                    objective,
                    long,
                    short,
                    factor,
                }
            };
            let sustain = match &t.sustain {
                None => TimeDelta::zero(),
                Some(s) => self::sustain(s).ok_or_else(|| {
                    err(
                        &field("for"),
                        format!(
                            "`for` must be a duration such as `2m` (or `0s`), not `{}`",
                            quote(s)
                        ),
                    )
                })?,
            };
            let on_missing = match t.on_missing.as_deref() {
                None | Some("inconclusive") => OnMissing::Inconclusive,
                Some("fire") => OnMissing::Fire,
                Some("ignore") => OnMissing::Ignore,
                Some(other) => {
                    return Err(err(
                        &field("on_missing"),
                        format!(
                            "unknown `on_missing` value `{}`; expected `fire`, `ignore` or \
                             `inconclusive`",
                            quote(other)
                        ),
                    ));
                }
            };
            let level = levels
                .iter()
                .position(|l| l.name == t.level)
                .ok_or_else(|| {
                    let hint = crate::rules::environment::suggest(&t.level, &level_names)
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    let list: Vec<String> = level_names.iter().map(|k| format!("`{k}`")).collect();
                    err(
                        &field("level"),
                        format!(
                            "unknown rollback level `{}`{hint}; the levels are {}",
                            quote(&t.level),
                            list.join(", ")
                        ),
                    )
                })?;
            triggers.push(Trigger {
                name: t.name,
                condition,
                sustain,
                on_missing,
                level,
                source: self.source(&p),
            });
        }
        Ok(RollbackRules {
            levels,
            triggers,
            source: self.source(&base),
        })
    }
}

/// `path` and then `key`.
fn join<'a>(path: &[Seg<'a>], key: &'a str) -> Vec<Seg<'a>> {
    [path, &[Seg::Key(key)]].concat()
}

fn aggregation_list() -> String {
    Aggregation::ALL
        .iter()
        .map(|a| format!("`{}`", a.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn number_text(n: &Number) -> String {
    match n {
        Number::Value(v) => v.to_string(),
        Number::Text(t) => format!("`{}`", quote(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BundleFiles, InputLimits, parse_policy};

    fn load(section: &str) -> Result<std::sync::Arc<RollbackRules>, LoadError> {
        let text = format!("timezone: UTC\nenvironments:\n  production:\n    rollback:\n{section}");
        let config = parse_policy(
            &text,
            "p.yaml",
            &BundleFiles::new(),
            &InputLimits::default(),
        )?;
        Ok(config
            .environments
            .get("production")
            .and_then(|e| e.rollback.clone())
            .unwrap())
    }

    const LEVELS: &str = "      levels:\n        - {name: feature_flag, budget: 2m}\n        - {name: traffic_routing, budget: 5m}\n        - {name: full_system, budget: 10m}\n";

    #[test]
    fn thresholds_read_numbers_durations_and_percents() {
        let t = |s: &str| threshold(&Number::Text(s.into()));
        assert_eq!(t("3s"), Some(3.0));
        assert_eq!(t("300ms"), Some(0.3));
        assert_eq!(t("1.5s"), Some(1.5));
        assert_eq!(t("2m"), Some(120.0));
        assert_eq!(t("5%"), Some(0.05));
        assert_eq!(t("99.9%"), Some(0.999));
        assert_eq!(t("0.25"), Some(0.25));
        assert_eq!(t("1h30m"), Some(5400.0));
        assert_eq!(t("fast"), None);
        assert_eq!(t("nan"), None);
        assert_eq!(t("inf%"), None);
        assert_eq!(threshold(&Number::Value(f64::INFINITY)), None);
        assert_eq!(sustain("0s"), Some(TimeDelta::zero()));
        assert_eq!(sustain("0"), Some(TimeDelta::zero()));
        assert_eq!(sustain("2m"), Some(TimeDelta::minutes(2)));
        assert_eq!(sustain("-1s"), None);
    }

    #[test]
    fn a_full_section_reads_with_sources() {
        let r = load(&format!(
            "{LEVELS}      triggers:\n        - name: lat\n          metric: latency_seconds\n          labels: {{path: generated}}\n          aggregation: p95\n          window: 5m\n          above: 3s\n          for: 2m\n          level: traffic_routing\n        - name: sec\n          event: security_failure\n          window: 10m\n          min_count: 2\n          level: full_system\n        - name: burn\n          burn_rate: {{metric: error_rate, objective: 99.9%, long: 1h, short: 5m, factor: 14.4}}\n          on_missing: ignore\n          level: feature_flag\n"
        ))
        .unwrap();
        assert_eq!(r.levels.len(), 3);
        assert_eq!(r.levels[1].budget, TimeDelta::minutes(5));
        assert_eq!(r.triggers.len(), 3);
        let lat = &r.triggers[0];
        assert_eq!(lat.sustain, TimeDelta::minutes(2));
        assert_eq!(lat.level, 1);
        assert_eq!(lat.on_missing, OnMissing::Inconclusive);
        assert_eq!(lat.source, "p.yaml:10");
        match &lat.condition {
            Condition::Metric {
                selector,
                aggregation,
                window,
                op,
                threshold,
            } => {
                assert_eq!(selector.labels, [("path".into(), "generated".into())]);
                assert_eq!(*aggregation, Aggregation::P95);
                assert_eq!(*window, TimeDelta::minutes(5));
                assert_eq!(*op, Op::Above);
                assert_eq!(*threshold, 3.0);
            }
            _ => panic!("metric"),
        }
        assert!(matches!(
            r.triggers[1].condition,
            Condition::Event { min_count: 2, .. }
        ));
        match &r.triggers[2].condition {
            Condition::BurnRate {
                objective, factor, ..
            } => {
                assert_eq!(*objective, 0.999);
                assert_eq!(*factor, 14.4);
            }
            _ => panic!("burn"),
        }
        assert_eq!(r.triggers[2].on_missing, OnMissing::Ignore);
        assert_eq!(r.source, "p.yaml:4");
    }

    fn error(section: &str) -> LoadError {
        load(&format!("{LEVELS}      triggers:\n{section}")).unwrap_err()
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let e = error(
            "        - name: lat\n          metric: m\n          aggregation: p95\n          window: 5m\n          above: 3s\n          level: trafic_routing\n",
        );
        assert_eq!(
            e.field.as_deref(),
            Some("environments.production.rollback.triggers[0].level")
        );
        assert_eq!(e.location.line, Some(15));
        assert!(e.message.contains("did you mean `traffic_routing`?"), "{e}");
        let e = error(
            "        - name: lat\n          metric: m\n          aggregation: p95\n          window: 5m\n          above: 3s\n          below: 1s\n          level: full_system\n",
        );
        assert!(e.field.as_deref().unwrap().ends_with("triggers[0].below"));
        let e = error(
            "        - name: lat\n          metric: m\n          event: e\n          window: 5m\n          level: full_system\n",
        );
        assert!(e.message.contains("exactly one of"), "{e}");
        let e = error(
            "        - name: lat\n          metric: m\n          aggregation: p955\n          window: 5m\n          above: 1\n          level: full_system\n",
        );
        assert!(e.message.contains("did you mean `p95`?"), "{e}");
        let e = error(
            "        - name: b\n          burn_rate: {metric: e, objective: 100%, long: 1h, short: 5m, factor: 2}\n          level: full_system\n",
        );
        assert!(e.field.as_deref().unwrap().ends_with("burn_rate.objective"));
        let e = error(
            "        - name: b\n          burn_rate: {metric: e, objective: 99%, long: 5m, short: 1h, factor: 2}\n          level: full_system\n",
        );
        assert!(e.field.as_deref().unwrap().ends_with("burn_rate.short"));
        let e = error(
            "        - name: lat\n          metric: m\n          aggregation: avg\n          window: 5m\n          above: 5%\n          for: soon\n          level: full_system\n",
        );
        assert!(e.field.as_deref().unwrap().ends_with("triggers[0].for"));
        assert_eq!(e.location.line, Some(15));
        let e = error(
            "        - name: lat\n          metric: m\n          aggregation: avg\n          window: 5m\n          above: 5%\n          on_missing: pass\n          level: full_system\n",
        );
        assert!(
            e.message.contains("`fire`, `ignore` or `inconclusive`"),
            "{e}"
        );
        let e = load(
            "      levels:\n        - {name: a, budget: 2m}\n        - {name: a, budget: 0s}\n",
        )
        .unwrap_err();
        assert!(
            e.field.as_deref().unwrap().ends_with("levels[1].name"),
            "{e}"
        );
        let e = load("      levels:\n        - {name: a, budget: 0s}\n").unwrap_err();
        assert!(
            e.field.as_deref().unwrap().ends_with("levels[0].budget"),
            "{e}"
        );
        let e = load("      triggers: []\n").unwrap_err();
        assert!(
            e.field.as_deref().unwrap().ends_with("rollback.levels"),
            "{e}"
        );
    }
}
