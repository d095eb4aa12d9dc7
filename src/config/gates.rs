//! The `gates:` section of an environment, read into [`GateRules`] (docs/policy-authoring.md,
//! "Gates and rollback").
//!
//! ```yaml
//! gates:
//!   score: {pass: 0.9, warn: 0.75}     # optional; without it every failed gate denies
//!   rules:
//!     - name: latency-generated
//!       metric: latency_seconds
//!       labels: {path: generated}       # optional
//!       aggregation: p95                # last avg min max p50 p90 p95 p99 count rate
//!       window: 5m
//!       max: 1.5s                       # number, duration (seconds) or percent (fraction)
//!       warn_max: 1.2s                  # also min / warn_min
//!       max_increase: 10%               # also warn_increase / max_decrease / warn_decrease
//!       min_samples: 10                 # default 1 (count: 0)
//!       weight: 2                       # default 1
//!       key: true                       # default false
//!       on_missing: inconclusive        # fail | inconclusive | pass
//!       on_nan: inconclusive            # fail | inconclusive | pass
//! ```
//!
//! The section is read as plain data and checked key by key here (not by serde's derive), so
//! that every error names the field and its line, and an unknown key or aggregation gets a
//! "did you mean".

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::bundle::PolicyCtx;
use super::yaml::Seg;
use crate::error::{LoadError, quote};
use crate::rules::aggregate::Aggregation;
use crate::rules::environment::suggest;
use crate::rules::gates::{Bounds, Gate, GateRules, MissingData, Relative, Score};
use crate::telemetry::Selector;

/// The `gates:` section as written.
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct GatesDoc(Map<String, Value>);

// The section is read key by key (see the module docs), so its schema is written here from
// the same key lists the reader checks against (`SECTION_KEYS`, `SCORE_KEYS`, `GATE_KEYS`).
impl JsonSchema for GatesDoc {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Gates".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let bound = json!({
            "description": "a number, a duration in seconds (`1.5s`, `300ms`, `2m`) or a \
                percent as a fraction (`5%`)",
            "anyOf": [{"type": "number"}, {"type": "string"}],
        });
        let relative = json!({
            "description": "a change against the baseline: a percent (`10%`) or a fraction",
            "anyOf": [{"type": "number"}, {"type": "string"}],
        });
        let window = generator
            .subschema_for::<super::schema::DurationText>()
            .to_value();
        let aggregation = generator
            .subschema_for::<super::schema::AggregationText>()
            .to_value();
        let on_missing = json!({
            "type": "string",
            "enum": ["fail", "inconclusive", "pass"],
        });
        let mut gate = Map::new();
        for key in GATE_KEYS {
            let schema = match key {
                "name" => json!({"type": "string", "description": "the gate's name"}),
                "metric" => json!({"type": "string", "description": "the metric it reads"}),
                "labels" => json!({
                    "type": "object",
                    "description": "labels every series read must carry",
                }),
                "aggregation" => aggregation.clone(),
                "window" => window.clone(),
                "max" | "warn_max" | "min" | "warn_min" => bound.clone(),
                "min_samples" => json!({"type": "integer", "minimum": 0}),
                "weight" => json!({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_WEIGHT}),
                "key" => json!({
                    "type": "boolean",
                    "description": "a failed key gate fails the whole check (default false)",
                }),
                "on_missing" | "on_nan" => on_missing.clone(),
                _ => relative.clone(),
            };
            gate.insert(key.to_owned(), schema);
        }
        let score: Map<String, Value> = SCORE_KEYS
            .iter()
            .map(|k| ((*k).to_owned(), json!({"type": "number"})))
            .collect();
        let mut section = Map::new();
        for key in SECTION_KEYS {
            let schema = match key {
                "score" => json!({
                    "type": "object",
                    "description": "optional weighted score; without it every failed gate denies",
                    "properties": score,
                    "additionalProperties": false,
                }),
                _ => json!({
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": gate,
                        "required": ["name", "metric", "aggregation", "window"],
                        "additionalProperties": false,
                    },
                }),
            };
            section.insert(key.to_owned(), schema);
        }
        schemars::json_schema!({
            "type": "object",
            "description": "health gates (docs/policy-authoring.md, \"Gates and rollback\")",
            "properties": section,
            "additionalProperties": false,
        })
    }
}

/// The largest `weight` (so that the weighted sum of any number of gates stays finite).
const MAX_WEIGHT: f64 = 1e6;

/// The keys of the section.
const SECTION_KEYS: [&str; 2] = ["score", "rules"];
/// The keys of `score:`.
const SCORE_KEYS: [&str; 2] = ["pass", "warn"];
/// The keys of a gate.
const GATE_KEYS: [&str; 18] = [
    "name",
    "metric",
    "labels",
    "aggregation",
    "window",
    "max",
    "warn_max",
    "min",
    "warn_min",
    "max_increase",
    "warn_increase",
    "max_decrease",
    "warn_decrease",
    "min_samples",
    "weight",
    "key",
    "on_missing",
    "on_nan",
];

/// The keys that set a bound: a gate needs at least one.
const BOUND_KEYS: [&str; 8] = [
    "max",
    "warn_max",
    "min",
    "warn_min",
    "max_increase",
    "warn_increase",
    "max_decrease",
    "warn_decrease",
];

/// `` `a`, `b`, `c` ``.
fn listing(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

/// `" (did you mean `x`?)"` when a name in `known` is close to `name`: the fewest edits away
/// (`min_sample` is `min_samples`, not `min`), else a prefix or extension of it.
fn hint(name: &str, known: &[&str]) -> String {
    let lower = name.to_lowercase();
    let nearest = known
        .iter()
        .map(|k| (edits(&lower, &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k);
    nearest
        .or_else(|| suggest(name, known))
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance of two short names (longer than 64 characters: too far).
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev
                .get(j)
                .map_or(usize::MAX, |p| p + usize::from(ca != cb));
            let delete = prev.get(j + 1).map_or(usize::MAX, |p| p + 1);
            let insert = cur.get(j).map_or(usize::MAX, |c| c + 1);
            cur.push(substitute.min(delete).min(insert));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(usize::MAX)
}

/// The JSON type of `v`, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A threshold as written: a number, a duration in seconds (`1.5s`, `300ms`, `2m`, `1h`) or a
/// percent (`1%` is `0.01`). `durations`: whether durations are allowed. An error is the
/// reason, for the caller to place.
pub(crate) fn parse_threshold(v: &Value, durations: bool) -> Result<f64, String> {
    let expected = if durations {
        "a number, a duration such as `1.5s` or `300ms`, or a percent such as `1%`"
    } else {
        "a number or a percent such as `10%`"
    };
    let number = |text: &str| -> Option<f64> {
        let text = text.trim();
        // `inf`, `nan` and the like parse as floats: only plain decimal numbers are taken.
        let plain = !text.is_empty()
            && text.chars().any(|c| c.is_ascii_digit())
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
        text.parse::<f64>().ok().filter(|v| plain && v.is_finite())
    };
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("expected {expected}, not `{n}`")),
        Value::String(s) => {
            let text = s.trim();
            let bad = || format!("expected {expected}, not `{}`", quote(s));
            if let Some(p) = text.strip_suffix('%') {
                return number(p).map(|v| v / 100.0).ok_or_else(bad);
            }
            if let Some(v) = number(text) {
                return Ok(v);
            }
            if !durations {
                return Err(bad());
            }
            for (unit, secs) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] {
                if let Some(p) = text.strip_suffix(unit) {
                    return number(p)
                        .map(|v| v * secs)
                        .filter(|v| v.is_finite())
                        .ok_or_else(bad);
                }
            }
            Err(bad())
        }
        other => Err(format!("expected {expected}, not {}", kind(other))),
    }
}

/// The aggregation other tools (or plain words) name `name`: `average` and its typos are
/// `avg`, `median` is `p50`, ...
fn aggregation_alias(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    [
        ("average", "avg"),
        ("mean", "avg"),
        ("median", "p50"),
        ("latest", "last"),
        ("minimum", "min"),
        ("maximum", "max"),
    ]
    .into_iter()
    .map(|(word, a)| (edits(&lower, word), a))
    .filter(|(d, _)| *d <= 2)
    .min_by_key(|(d, _)| *d)
    .map(|(_, a)| a)
}

impl PolicyCtx<'_> {
    /// Checks that `map` has only `known` keys: an error naming the first other one, with a
    /// "did you mean".
    fn known_keys(
        &self,
        map: &Map<String, Value>,
        known: &[&str],
        path: &[Seg],
        what: &str,
    ) -> Result<(), LoadError> {
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(self.error(
                &[path, &[Seg::Key(k)]].concat(),
                format!(
                    "unknown key `{}` in {what}{}; expected one of {}",
                    quote(k),
                    hint(k, known),
                    listing(known)
                ),
            ));
        }
        Ok(())
    }

    /// The mapping at `path`, or an error.
    fn mapping<'v>(
        &self,
        v: &'v Value,
        path: &[Seg],
        what: &str,
    ) -> Result<&'v Map<String, Value>, LoadError> {
        v.as_object().ok_or_else(|| {
            self.error(
                path,
                format!("{what} must be a mapping of keys, not {}", kind(v)),
            )
        })
    }

    /// The non-empty text of `key` in `map`, required or optional.
    fn text<'v>(
        &self,
        map: &'v Map<String, Value>,
        key: &str,
        path: &[Seg],
    ) -> Result<Option<&'v str>, LoadError> {
        let at = || [path, &[Seg::Key(key)]].concat();
        match map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.as_str())),
            Some(Value::String(_)) => Err(self.error(&at(), format!("`{key}` must not be empty"))),
            Some(other) => {
                Err(self.error(&at(), format!("`{key}` must be text, not {}", kind(other))))
            }
        }
    }

    /// The threshold `key` of `map`, if set.
    fn threshold(
        &self,
        map: &Map<String, Value>,
        key: &str,
        durations: bool,
        path: &[Seg],
    ) -> Result<Option<f64>, LoadError> {
        map.get(key)
            .map(|v| {
                parse_threshold(v, durations).map_err(|e| {
                    self.error(&[path, &[Seg::Key(key)]].concat(), format!("`{key}`: {e}"))
                })
            })
            .transpose()
    }

    /// `on_missing` / `on_nan`.
    fn missing_policy(
        &self,
        map: &Map<String, Value>,
        key: &str,
        path: &[Seg],
    ) -> Result<MissingData, LoadError> {
        let Some(text) = self.text(map, key, path)? else {
            return Ok(MissingData::Inconclusive);
        };
        let names: Vec<&str> = MissingData::ALL.iter().map(|m| m.name()).collect();
        MissingData::named(text).ok_or_else(|| {
            self.error(
                &[path, &[Seg::Key(key)]].concat(),
                format!(
                    "unknown `{key}` policy `{}`{}; expected one of {}",
                    quote(text),
                    hint(text, &names),
                    listing(&names)
                ),
            )
        })
    }

    /// Reads the `gates:` section of environment `env`.
    pub(super) fn gates(&self, env: &str, doc: GatesDoc) -> Result<GateRules, LoadError> {
        let base = [Seg::Key("environments"), Seg::Key(env), Seg::Key("gates")];
        let doc = doc.0;
        self.known_keys(&doc, &SECTION_KEYS, &base, "`gates`")?;
        let score = doc
            .get("score")
            .map(|v| self.score(v, &[&base[..], &[Seg::Key("score")]].concat()))
            .transpose()?;
        let rules_path = [&base[..], &[Seg::Key("rules")]].concat();
        let rules = match doc.get("rules") {
            Some(Value::Array(rules)) if !rules.is_empty() => rules,
            Some(Value::Array(_)) | None => {
                return Err(self.error(
                    &rules_path,
                    "`rules` must list at least one gate; leave out `gates:` when there is none"
                        .into(),
                ));
            }
            Some(other) => {
                return Err(self.error(
                    &rules_path,
                    format!("`rules` must be a list of gates, not {}", kind(other)),
                ));
            }
        };
        let mut names = BTreeSet::new();
        let mut gates = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let path = [&rules_path[..], &[Seg::Index(i)]].concat();
            let gate = self.gate(rule, &path)?;
            if !names.insert(gate.name.clone()) {
                return Err(self.error(
                    &[&path[..], &[Seg::Key("name")]].concat(),
                    format!(
                        "gate `{}` appears more than once; gate names are unique",
                        quote(&gate.name)
                    ),
                ));
            }
            gates.push(gate);
        }
        Ok(GateRules {
            gates,
            score,
            source: self.source(&base),
        })
    }

    /// `score: {pass, warn}`: fractions in [0, 1], `warn <= pass` (`warn` defaults to `pass`).
    fn score(&self, v: &Value, path: &[Seg]) -> Result<Score, LoadError> {
        let map = self.mapping(v, path, "`score`")?;
        self.known_keys(map, &SCORE_KEYS, path, "`score`")?;
        let fraction = |key: &str| -> Result<Option<f64>, LoadError> {
            let value = self.threshold(map, key, false, path)?;
            match value {
                Some(x) if !(0.0..=1.0).contains(&x) => Err(self.error(
                    &[path, &[Seg::Key(key)]].concat(),
                    format!(
                        "`{key}` must be between 0 and 1 (the score is a weighted fraction of \
                         the gates), not {x}"
                    ),
                )),
                other => Ok(other),
            }
        };
        let Some(pass) = fraction("pass")? else {
            return Err(self.error(
                path,
                "`score` needs `pass` (and optionally `warn`), the lowest scores that pass and \
                 that only warn"
                    .into(),
            ));
        };
        let warn = fraction("warn")?.unwrap_or(pass);
        if warn > pass {
            return Err(self.error(
                &[path, &[Seg::Key("warn")]].concat(),
                format!(
                    "`warn` {warn} is above `pass` {pass}: a score that only warns must be lower \
                     than one that passes"
                ),
            ));
        }
        let (source_line, source) = match super::yaml::locate(self.text, path) {
            Some((line, _)) => (line, format!("{}:{line}", self.origin)),
            None => (0, self.origin.to_owned()),
        };
        Ok(Score {
            pass,
            warn,
            source_line,
            source,
        })
    }

    /// One gate.
    fn gate(&self, v: &Value, path: &[Seg]) -> Result<Gate, LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        let map = self.mapping(v, path, "a gate")?;
        let name = self.text(map, "name", path)?;
        let what = match name {
            Some(n) => format!("gate `{}`", quote(n)),
            None => "a gate".to_owned(),
        };
        self.known_keys(map, &GATE_KEYS, path, &what)?;
        let required =
            |key: &str, about: &str| self.error(path, format!("{what} needs `{key}` ({about})"));
        let name = name.ok_or_else(|| required("name", "unique within the section"))?;
        let metric = self
            .text(map, "metric", path)?
            .ok_or_else(|| required("metric", "the metric it reads"))?;
        let aggregation = self
            .text(map, "aggregation", path)?
            .ok_or_else(|| required("aggregation", "how the window is reduced, such as `p95`"))?;
        let names: Vec<&str> = Aggregation::ALL.iter().map(|a| a.name()).collect();
        let aggregation = Aggregation::named(aggregation).ok_or_else(|| {
            let hint = match aggregation_alias(aggregation) {
                Some(a) => format!(" (did you mean `{a}`?)"),
                None => hint(aggregation, &names),
            };
            self.error(
                &at("aggregation"),
                format!(
                    "unknown aggregation `{}`{hint}; expected one of {}",
                    quote(aggregation),
                    listing(&names)
                ),
            )
        })?;
        let window = self
            .text(map, "window", path)?
            .ok_or_else(|| required("window", "how far back from `now` it reads, such as `5m`"))?;
        let window = crate::time::parse_duration(window)
            .map_err(|e| self.error(&at("window"), format!("`window`: {e}")))?;
        let labels = match map.get("labels") {
            None => Vec::new(),
            Some(v) => {
                let labels = self.mapping(v, &at("labels"), "`labels`")?;
                let mut out = Vec::with_capacity(labels.len());
                for (k, v) in labels {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => {
                            return Err(self.error(
                                &[&at("labels")[..], &[Seg::Key(k)]].concat(),
                                format!(
                                    "label `{}` must be text, a number or a boolean, not {}",
                                    quote(k),
                                    kind(other)
                                ),
                            ));
                        }
                    };
                    out.push((k.clone(), value));
                }
                out
            }
        };
        if !BOUND_KEYS.iter().any(|k| map.contains_key(*k)) {
            return Err(self.error(
                path,
                format!(
                    "{what} has no threshold, so it could never fail: set at least one of {}",
                    listing(&BOUND_KEYS)
                ),
            ));
        }
        let bounds = Bounds {
            max: self.threshold(map, "max", true, path)?,
            warn_max: self.threshold(map, "warn_max", true, path)?,
            min: self.threshold(map, "min", true, path)?,
            warn_min: self.threshold(map, "warn_min", true, path)?,
        };
        let relative = Relative {
            max_increase: self.threshold(map, "max_increase", false, path)?,
            warn_increase: self.threshold(map, "warn_increase", false, path)?,
            max_decrease: self.threshold(map, "max_decrease", false, path)?,
            warn_decrease: self.threshold(map, "warn_decrease", false, path)?,
        };
        self.check_bands(&bounds, &relative, path)?;
        let min_samples = match map.get("min_samples") {
            None if aggregation == Aggregation::Count => 0,
            None => 1,
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    self.error(
                        &at("min_samples"),
                        format!(
                            "`min_samples` must be a whole number of at least 0, not `{}`",
                            quote(&v.to_string())
                        ),
                    )
                })?,
        };
        let weight = match map.get("weight") {
            None => 1.0,
            Some(v) => v
                .as_f64()
                .filter(|w| *w > 0.0 && *w <= MAX_WEIGHT)
                .ok_or_else(|| {
                    self.error(
                        &at("weight"),
                        format!(
                            "`weight` must be a number above 0 and at most {MAX_WEIGHT}, not `{}`",
                            quote(&v.to_string())
                        ),
                    )
                })?,
        };
        let key = match map.get("key") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(self.error(
                    &at("key"),
                    format!("`key` must be `true` or `false`, not {}", kind(other)),
                ));
            }
        };
        Ok(Gate {
            name: name.to_owned(),
            selector: Selector {
                metric: metric.to_owned(),
                labels,
            },
            aggregation,
            window,
            bounds,
            relative,
            min_samples,
            weight,
            key,
            on_missing: self.missing_policy(map, "on_missing", path)?,
            on_nan: self.missing_policy(map, "on_nan", path)?,
            source: self.source(path),
        })
    }

    /// The warning bands lie inside the pass bands, and the pass band is not empty.
    fn check_bands(
        &self,
        bounds: &Bounds,
        relative: &Relative,
        path: &[Seg],
    ) -> Result<(), LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        let pairs = [
            // (warn key, warn, fail key, fail, the warn bound must be <= the fail bound)
            ("warn_max", bounds.warn_max, "max", bounds.max, true),
            ("warn_min", bounds.warn_min, "min", bounds.min, false),
            (
                "warn_increase",
                relative.warn_increase,
                "max_increase",
                relative.max_increase,
                true,
            ),
            (
                "warn_decrease",
                relative.warn_decrease,
                "max_decrease",
                relative.max_decrease,
                true,
            ),
        ];
        for (wk, w, fk, f, below) in pairs {
            if let (Some(w), Some(f)) = (w, f) {
                if (below && w > f) || (!below && w < f) {
                    return Err(self.error(
                        &at(wk),
                        format!(
                            "`{wk}` {w} is outside the pass band set by `{fk}` {f}: a value \
                             warns before it fails, so `{wk}` must be {} `{fk}`",
                            if below { "at most" } else { "at least" }
                        ),
                    ));
                }
            }
        }
        for (key, v) in [
            ("max_increase", relative.max_increase),
            ("warn_increase", relative.warn_increase),
            ("max_decrease", relative.max_decrease),
            ("warn_decrease", relative.warn_decrease),
        ] {
            if let Some(v) = v.filter(|v| *v < 0.0) {
                return Err(self.error(
                    &at(key),
                    format!("`{key}` must be 0 or more (a change from the baseline), not {v}"),
                ));
            }
        }
        if let (Some(lo), Some(hi)) = (bounds.min, bounds.max) {
            if lo > hi {
                return Err(self.error(
                    &at("min"),
                    format!("`min` {lo} is above `max` {hi}: no value could pass"),
                ));
            }
        }
        if let (Some(lo), Some(hi)) = (bounds.warn_min, bounds.warn_max) {
            if lo > hi {
                return Err(self.error(
                    &at("warn_min"),
                    format!("`warn_min` {lo} is above `warn_max` {hi}: every value would warn"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BundleFiles, InputLimits, parse_policy};
    use serde_json::json;

    fn load(gates: &str) -> Result<GateRules, LoadError> {
        let text = format!("timezone: UTC\nenvironments:\n  production:\n    gates:\n{gates}");
        let config = parse_policy(
            &text,
            "p.yaml",
            &BundleFiles::new(),
            &InputLimits::default(),
        )?;
        let prod = config.environments.get("production").cloned();
        Ok(prod
            .and_then(|p| p.gates)
            .map(|g| (*g).clone())
            .unwrap_or_default())
    }

    #[test]
    fn thresholds_read_numbers_durations_and_percents() {
        let t = |v: Value| parse_threshold(&v, true);
        assert_eq!(t(json!(1.5)), Ok(1.5));
        assert_eq!(t(json!(3)), Ok(3.0));
        assert_eq!(t(json!("1.5s")), Ok(1.5));
        assert_eq!(t(json!("300ms")), Ok(0.3));
        assert_eq!(t(json!("2m")), Ok(120.0));
        assert_eq!(t(json!("1h")), Ok(3600.0));
        assert_eq!(t(json!("1%")), Ok(0.01));
        assert_eq!(t(json!("80%")), Ok(0.8));
        assert_eq!(t(json!("0.25")), Ok(0.25));
        assert!(t(json!("1e306h")).is_err());
        for bad in ["inf", "nan", "1.5x", "%", "s", "", "1.5 s s", "NaN%"] {
            assert!(t(json!(bad)).is_err(), "{bad}");
        }
        assert!(t(json!(true)).is_err());
        assert!(parse_threshold(&json!("1.5s"), false).is_err());
        assert_eq!(parse_threshold(&json!("10%"), false), Ok(0.1));
    }

    #[test]
    fn a_full_gate_reads_every_key() {
        let rules = load(
            "      score: {pass: 0.9, warn: 0.75}
      rules:
        - name: latency
          metric: latency_seconds
          labels: {path: generated, code: 200}
          aggregation: p95
          window: 5m
          max: 1.5s
          warn_max: 1200ms
          max_increase: 10%
          warn_increase: 5%
          min_samples: 10
          weight: 2
          key: true
          on_missing: fail
          on_nan: pass
        - name: hits
          metric: cache_hit_rate
          aggregation: avg
          window: 10m
          min: 80%
          warn_min: 85%
        - name: requests
          metric: requests
          aggregation: count
          window: 1m
          min: 1
",
        )
        .unwrap();
        let s = rules.score.as_ref().unwrap();
        assert_eq!((s.pass, s.warn, s.source.as_str()), (0.9, 0.75, "p.yaml:5"));
        let g = &rules.gates[0];
        assert_eq!(g.name, "latency");
        assert_eq!(g.selector.metric, "latency_seconds");
        assert_eq!(
            g.selector.labels,
            [
                ("path".to_owned(), "generated".to_owned()),
                ("code".to_owned(), "200".to_owned())
            ]
        );
        assert_eq!(g.aggregation, Aggregation::P95);
        assert_eq!(g.window, chrono::TimeDelta::minutes(5));
        assert_eq!(g.bounds.max, Some(1.5));
        assert_eq!(g.bounds.warn_max, Some(1.2));
        assert_eq!(g.relative.max_increase, Some(0.1));
        assert_eq!(g.relative.warn_increase, Some(0.05));
        assert_eq!((g.min_samples, g.weight, g.key), (10, 2.0, true));
        assert_eq!(
            (g.on_missing, g.on_nan),
            (MissingData::Fail, MissingData::Pass)
        );
        assert_eq!(g.source, "p.yaml:7");
        let h = &rules.gates[1];
        assert_eq!((h.bounds.min, h.bounds.warn_min), (Some(0.8), Some(0.85)));
        assert_eq!((h.min_samples, h.weight, h.key), (1, 1.0, false));
        assert_eq!(
            (h.on_missing, h.on_nan),
            (MissingData::Inconclusive, MissingData::Inconclusive)
        );
        assert_eq!(rules.gates[2].min_samples, 0);
    }

    fn err(gates: &str) -> LoadError {
        load(gates).unwrap_err()
    }

    #[test]
    fn errors_name_the_field_and_line_with_a_hint() {
        let e = err("      rules:
        - {name: a, metric: m, aggregation: avg, window: 5m, max: 1}
        - {name: b, metric: m, aggregation: avg, window: 5m, max: 1}
        - name: c
          metric: m
          aggregation: maximum
          window: 5m
          max: 1
");
        assert_eq!(
            e.field.as_deref(),
            Some("environments.production.gates.rules[2].aggregation")
        );
        assert_eq!(e.location.line, Some(10), "{e}");
        assert!(e.message.contains("did you mean `max`?"), "{e}");

        let e = err("      rules:
        - name: c
          metric: m
          aggregaton: p95
          window: 5m
          max: 1
");
        assert_eq!(
            e.field.as_deref(),
            Some("environments.production.gates.rules[0].aggregaton")
        );
        assert_eq!(e.location.line, Some(8));
        assert!(e.message.contains("did you mean `aggregation`?"), "{e}");

        let e = err("      scor: {pass: 1}\n      rules: []\n");
        assert!(e.message.contains("did you mean `score`?"), "{e}");
    }

    #[test]
    fn bad_values_are_rejected() {
        let gate = |extra: &str| {
            err(&format!(
                "      rules:\n        - name: g\n          metric: m\n          aggregation: avg\n          window: 5m\n{extra}"
            ))
        };
        let cases: &[(&str, &str, &str)] = &[
            ("          max: fast\n", "rules[0].max", "expected a number"),
            (
                "          max: 1\n          warn_max: 2\n",
                "rules[0].warn_max",
                "outside the pass band",
            ),
            (
                "          min: 0.8\n          warn_min: 0.7\n",
                "rules[0].warn_min",
                "outside the pass band",
            ),
            (
                "          max_increase: 10%\n          warn_increase: 20%\n",
                "rules[0].warn_increase",
                "outside the pass band",
            ),
            (
                "          min: 2\n          max: 1\n",
                "rules[0].min",
                "no value could pass",
            ),
            ("          weight: 2\n", "rules[0]", "no threshold"),
            (
                "          max: 1\n          weight: 0\n",
                "rules[0].weight",
                "above 0",
            ),
            (
                "          max: 1\n          weight: 1e7\n",
                "rules[0].weight",
                "at most 1000000",
            ),
            (
                "          max: 1\n          min_samples: -1\n",
                "rules[0].min_samples",
                "whole number",
            ),
            (
                "          max: 1\n          on_missing: pas\n",
                "rules[0].on_missing",
                "did you mean `pass`?",
            ),
            (
                "          max: 1\n          key: yes please\n",
                "rules[0].key",
                "`true` or `false`",
            ),
            (
                "          max_increase: 1.5s\n",
                "rules[0].max_increase",
                "a number or a percent",
            ),
            (
                "          max_decrease: -5%\n",
                "rules[0].max_decrease",
                "0 or more",
            ),
        ];
        for (extra, field, message) in cases {
            let e = gate(extra);
            assert_eq!(
                e.field.as_deref(),
                Some(format!("environments.production.gates.{field}").as_str()),
                "{extra}: {e}"
            );
            assert!(e.message.contains(message), "{extra}: {e}");
        }
        let e = err(
            "      rules:\n        - {name: a, metric: m, aggregation: avg, window: 5x, max: 1}\n",
        );
        assert_eq!(
            e.field.as_deref(),
            Some("environments.production.gates.rules[0].window")
        );
        let e = err(
            "      rules:\n        - {name: a, metric: m, aggregation: avg, window: 5m, max: 1}\n        - {name: a, metric: m, aggregation: avg, window: 5m, max: 1}\n",
        );
        assert_eq!(
            e.field.as_deref(),
            Some("environments.production.gates.rules[1].name")
        );
        assert!(e.message.contains("more than once"), "{e}");
        let e = err("      rules:\n        - {metric: m, aggregation: avg, window: 5m, max: 1}\n");
        assert!(e.message.contains("needs `name`"), "{e}");
        let e = err("      rules: []\n");
        assert!(e.message.contains("at least one gate"), "{e}");
    }

    #[test]
    fn the_score_is_checked() {
        let with = |score: &str| {
            load(&format!(
                "      score: {score}\n      rules:\n        - {{name: a, metric: m, aggregation: avg, window: 5m, max: 1}}\n"
            ))
        };
        let e = with("{pass: 0.7, warn: 0.8}").unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("environments.production.gates.score.warn")
        );
        let e = with("{pass: 1.2}").unwrap_err();
        assert!(e.message.contains("between 0 and 1"), "{e}");
        let e = with("{warn: 0.5}").unwrap_err();
        assert!(e.message.contains("needs `pass`"), "{e}");
        let e = with("{pass: 0.9, wran: 0.5}").unwrap_err();
        assert!(e.message.contains("did you mean `warn`?"), "{e}");
        let s = with("{pass: 90%}").unwrap().score.unwrap();
        assert_eq!((s.pass, s.warn), (0.9, 0.9));
    }
}
