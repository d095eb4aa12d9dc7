//! The functions of `fn gates(ctx)` and `fn rollback(ctx)`: aggregates of the deployment's
//! measurements over a window ending at `now` (`avg`, `min`, `max`, `last`, `p50`, `p90`,
//! `p95`, `p99`, `count`, `rate`, `samples`, `baseline`), event counts (`events`), and, in
//! `fn rollback(ctx)` only, `rollback_to(level, reason)`. A call from another hook is a script
//! error naming the hooks that have them.
//!
//! Each aggregate takes a metric, a window (`"5m"`, read as `policy.yaml` reads durations)
//! and optionally a map of labels every selected series must carry (`#{path: "cached"}`); it
//! may be called as a function (`avg("error_rate", "5m")`) or on the hook's `ctx`
//! (`ctx.avg("error_rate", "5m")`). The window holds the samples with `now - window < at <=
//! now` (measurements dated after `now` are not counted), aggregated as the built-in gates do
//! ([`crate::rules::aggregate`]). The result is a float, or `()` when the window holds no
//! usable value or a NaN: missing data is never a number a comparison could pass (`count`
//! is always a number: the values counted). Each call charges the cost budget one unit per
//! sample it reads.

use std::sync::PoisonError;

use rhai::{Dynamic, Engine, EvalAltResult, INT, ImmutableString, Map, NativeCallContext};

use super::request::ScriptRequest;
use crate::rules::aggregate::{Aggregate, Aggregation, aggregate, window};
use crate::script::convert::bytes_cost;
use crate::script::sandbox::{charge, limits};
use crate::script::state::{CallState, LevelDemand, state};
use crate::telemetry::{Selector, millis};

/// The most `rollback_to` calls in one check.
pub(crate) const MAX_DEMANDS: usize = 100;

/// The window `text` in milliseconds, or a script error naming `function`.
fn window_ms(function: &str, text: &str) -> Result<i64, Box<EvalAltResult>> {
    crate::time::parse_duration(text)
        .map(|d| d.num_milliseconds())
        .map_err(|e| format!("`{function}`: `{text}` is not a window such as `5m`: {e}").into())
}

/// The selector of `metric` with `labels` (values as text: strings, numbers or booleans).
fn selector(
    function: &str,
    metric: &str,
    labels: Option<&Map>,
) -> Result<Selector, Box<EvalAltResult>> {
    let mut sel = Selector::metric(metric);
    for (k, v) in labels.into_iter().flatten() {
        charge(bytes_cost(k.len()))?;
        let value = if let Some(s) = v.read_lock::<ImmutableString>() {
            s.to_string()
        } else if v.is_int() || v.is_bool() || v.is_float() {
            v.to_string()
        } else {
            return Err(format!(
                "`{function}`: label `{k}` must be a string, a number or a boolean, not {}",
                v.type_name()
            )
            .into());
        };
        charge(bytes_cost(value.len()))?;
        sel.labels.push((k.to_string(), value));
    }
    Ok(sel)
}

/// `agg` of the selected series (the baseline's with `baseline`) over the window ending at
/// `now`, charged per sample read.
fn read(
    st: &CallState,
    function: &str,
    metric: &str,
    window_text: &str,
    labels: Option<&Map>,
    agg: Aggregation,
    baseline: bool,
) -> Result<Aggregate, Box<EvalAltResult>> {
    let telemetry = st.telemetry(function)?;
    let len = window_ms(function, window_text)?;
    let sel = selector(function, metric, labels)?;
    charge(1 + bytes_cost(metric.len()))?;
    let set = if baseline {
        telemetry.baseline()
    } else {
        telemetry.measurements()
    };
    let samples = set.select(&sel);
    if let std::borrow::Cow::Owned(merged) = &samples {
        // Several series were merged: every sample of them was copied.
        charge(merged.len() as u64)?;
    }
    let win = window(&samples, millis(st.now), len);
    // Reading the window, and sorting it for a percentile.
    let n = win.len() as u64;
    charge(if agg.percentile().is_some() { 2 * n } else { n })?;
    Ok(aggregate(win, agg))
}

/// An aggregate as scripts see it: a float, or `()` for no data or a NaN.
fn to_dynamic(a: Aggregate) -> Dynamic {
    match a.value {
        Some(v) if !v.is_nan() => Dynamic::from_float(v),
        _ => Dynamic::UNIT,
    }
}

fn aggregate_fn(
    ctx: &NativeCallContext,
    agg: Aggregation,
    metric: &str,
    window_text: &str,
    labels: Option<&Map>,
) -> Result<Dynamic, Box<EvalAltResult>> {
    let st = state(ctx)?;
    read(&st, agg.name(), metric, window_text, labels, agg, false).map(to_dynamic)
}

/// `samples(metric, window[, labels])`: the usable values in the window (neither missing nor
/// NaN).
fn samples(
    ctx: &NativeCallContext,
    metric: &str,
    window_text: &str,
    labels: Option<&Map>,
) -> Result<INT, Box<EvalAltResult>> {
    let st = state(ctx)?;
    let a = read(
        &st,
        "samples",
        metric,
        window_text,
        labels,
        Aggregation::Count,
        false,
    )?;
    Ok(INT::try_from(a.samples).unwrap_or(INT::MAX))
}

/// `baseline(aggregation, metric, window[, labels])`: an aggregate of the baseline's
/// measurements over the same window.
fn baseline(
    ctx: &NativeCallContext,
    aggregation: &str,
    metric: &str,
    window_text: &str,
    labels: Option<&Map>,
) -> Result<Dynamic, Box<EvalAltResult>> {
    let st = state(ctx)?;
    let Some(agg) = Aggregation::named(aggregation) else {
        let names: Vec<String> = Aggregation::ALL
            .iter()
            .map(|a| format!("`{}`", a.name()))
            .collect();
        return Err(format!(
            "`baseline`: unknown aggregation `{aggregation}`, expected one of {}",
            names.join(", ")
        )
        .into());
    };
    read(&st, "baseline", metric, window_text, labels, agg, true).map(to_dynamic)
}

/// `events(kind, window)`: how many events of `kind` happened in the window.
fn events(
    ctx: &NativeCallContext,
    kind: &str,
    window_text: &str,
) -> Result<INT, Box<EvalAltResult>> {
    let st = state(ctx)?;
    let telemetry = st.telemetry("events")?;
    let len = window_ms("events", window_text)?;
    charge(1 + bytes_cost(kind.len()))?;
    let times = telemetry.events(kind);
    let now = millis(st.now);
    let from = now.saturating_sub(len);
    let lo = times.partition_point(|&t| t <= from);
    let hi = times.partition_point(|&t| t <= now);
    Ok(INT::try_from(hi.saturating_sub(lo)).unwrap_or(INT::MAX))
}

/// `rollback_to(level, reason)`: demands a rollback to `level` (one of the policy's
/// `rollback.levels`), in `fn rollback(ctx)` only.
fn rollback_to(
    ctx: &NativeCallContext,
    level: &str,
    reason: &str,
) -> Result<(), Box<EvalAltResult>> {
    let st = state(ctx)?;
    let Some(sink) = st.demanded.as_ref() else {
        return Err(format!(
            "`rollback_to` demands a rollback, which only `{}` can, not `{}`",
            crate::script::Hook::Rollback,
            st.hook
        )
        .into());
    };
    charge(1 + st.levels.len() as u64)?;
    let Some(index) = st.levels.iter().position(|l| l == level) else {
        if st.levels.is_empty() {
            return Err(format!(
                "`rollback_to`: unknown rollback level `{level}`: the environment's policy has no `rollback.levels`"
            )
            .into());
        }
        let known: Vec<&str> = st.levels.iter().map(String::as_str).collect();
        let hint = crate::rules::environment::suggest(level, &known)
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        let listed: Vec<String> = known.iter().map(|l| format!("`{l}`")).collect();
        return Err(format!(
            "`rollback_to`: unknown rollback level `{level}`{hint}; the levels are {}",
            listed.join(", ")
        )
        .into());
    };
    if reason.trim().is_empty() {
        return Err("`rollback_to` needs a reason shown to people".into());
    }
    charge(bytes_cost(reason.len().min(limits::MESSAGE_BYTES)))?;
    let mut demanded = sink.lock().unwrap_or_else(PoisonError::into_inner);
    if demanded.len() >= MAX_DEMANDS {
        return Err(format!(
            "the scripts called `rollback_to` more than the limit of {MAX_DEMANDS} times in one check"
        )
        .into());
    }
    let origin = ctx.call_source().unwrap_or("<script>");
    let source = match ctx.call_position().line() {
        Some(line) => format!("{origin}:{line}"),
        None => origin.to_owned(),
    };
    demanded.push(LevelDemand {
        level: index,
        reason: reason.chars().take(limits::MESSAGE_BYTES).collect(),
        source,
    });
    Ok(())
}

pub(super) fn register(engine: &mut Engine) {
    for agg in Aggregation::ALL {
        let name = agg.name();
        let doc = format!(
            "The `{name}` of the deployment's measurements of `metric` over the window ending at \
             `now` (`window` a duration such as `5m`), as a float, or `()` without data \
             (`gates` and `rollback` hooks)."
        );
        let with_labels = format!(
            "`{name}(metric, window)` over the series whose labels include every entry of \
             `labels`."
        );
        def!(
            engine,
            name,
            ["metric", "window"],
            &[&doc],
            move |ctx: NativeCallContext, metric: &str, window: &str| {
                aggregate_fn(&ctx, agg, metric, window, None)
            },
        );
        def!(
            engine,
            name,
            ["metric", "window", "labels"],
            &[&with_labels],
            move |ctx: NativeCallContext, metric: &str, window: &str, labels: Map| {
                aggregate_fn(&ctx, agg, metric, window, Some(&labels))
            },
        );
        def!(
            engine,
            name,
            ["ctx", "metric", "window"],
            &[&doc],
            move |ctx: NativeCallContext, _: &mut ScriptRequest, metric: &str, window: &str| {
                aggregate_fn(&ctx, agg, metric, window, None)
            },
        );
        def!(
            engine,
            name,
            ["ctx", "metric", "window", "labels"],
            &[&with_labels],
            move |ctx: NativeCallContext,
                  _: &mut ScriptRequest,
                  metric: &str,
                  window: &str,
                  labels: Map| {
                aggregate_fn(&ctx, agg, metric, window, Some(&labels))
            },
        );
    }
    def!(
        engine,
        "samples",
        ["metric", "window"],
        &[
            "The measurements of `metric` over the window ending at `now`, as an array of floats (`()` for a sample without data), oldest first."
        ],
        |ctx: NativeCallContext, metric: &str, window: &str| samples(&ctx, metric, window, None),
    );
    def!(
        engine,
        "samples",
        ["metric", "window", "labels"],
        &[
            "`samples(metric, window)` over the series whose labels include every entry of `labels`."
        ],
        |ctx: NativeCallContext, metric: &str, window: &str, labels: Map| {
            samples(&ctx, metric, window, Some(&labels))
        },
    );
    def!(
        engine,
        "samples",
        ["ctx", "metric", "window"],
        &[
            "The measurements of `metric` over the window ending at `now`, as an array of floats (`()` for a sample without data), oldest first."
        ],
        |ctx: NativeCallContext, _: &mut ScriptRequest, metric: &str, window: &str| {
            samples(&ctx, metric, window, None)
        },
    );
    def!(
        engine,
        "samples",
        ["ctx", "metric", "window", "labels"],
        &[
            "`samples(metric, window)` over the series whose labels include every entry of `labels`."
        ],
        |ctx: NativeCallContext, _: &mut ScriptRequest, metric: &str, window: &str, labels: Map| {
            samples(&ctx, metric, window, Some(&labels))
        },
    );
    def!(
        engine,
        "baseline",
        ["aggregation", "metric", "window"],
        &[
            "The aggregation `aggregation` (`avg`, `p95`, ...) of the baseline's measurements of `metric` over the window, or `()` without data."
        ],
        |ctx: NativeCallContext, agg: &str, metric: &str, window: &str| {
            baseline(&ctx, agg, metric, window, None)
        },
    );
    def!(
        engine,
        "baseline",
        ["aggregation", "metric", "window", "labels"],
        &[
            "`baseline(aggregation, metric, window)` over the series whose labels include every entry of `labels`."
        ],
        |ctx: NativeCallContext, agg: &str, metric: &str, window: &str, labels: Map| {
            baseline(&ctx, agg, metric, window, Some(&labels))
        },
    );
    def!(
        engine,
        "baseline",
        ["ctx", "aggregation", "metric", "window"],
        &[
            "The aggregation `aggregation` (`avg`, `p95`, ...) of the baseline's measurements of `metric` over the window, or `()` without data."
        ],
        |ctx: NativeCallContext, _: &mut ScriptRequest, agg: &str, metric: &str, window: &str| {
            baseline(&ctx, agg, metric, window, None)
        },
    );
    def!(
        engine,
        "baseline",
        ["ctx", "aggregation", "metric", "window", "labels"],
        &[
            "`baseline(aggregation, metric, window)` over the series whose labels include every entry of `labels`."
        ],
        |ctx: NativeCallContext,
         _: &mut ScriptRequest,
         agg: &str,
         metric: &str,
         window: &str,
         labels: Map| { baseline(&ctx, agg, metric, window, Some(&labels)) },
    );
    def!(
        engine,
        "events",
        ["kind", "window"],
        &["How many events of `kind` happened in the window ending at `now`."],
        |ctx: NativeCallContext, kind: &str, window: &str| events(&ctx, kind, window),
    );
    def!(
        engine,
        "events",
        ["ctx", "kind", "window"],
        &["How many events of `kind` happened in the window ending at `now`."],
        |ctx: NativeCallContext, _: &mut ScriptRequest, kind: &str, window: &str| {
            events(&ctx, kind, window)
        },
    );
    def!(
        engine,
        "rollback_to",
        ["level", "reason"],
        &[
            "Demands the rollback level `level` with `reason` (`rollback` hook only); the decision advises the heaviest level demanded."
        ],
        |ctx: NativeCallContext, level: &str, reason: &str| rollback_to(&ctx, level, reason),
    );
    def!(
        engine,
        "rollback_to",
        ["ctx", "level", "reason"],
        &[
            "Demands the rollback level `level` with `reason` (`rollback` hook only); the decision advises the heaviest level demanded."
        ],
        |ctx: NativeCallContext, _: &mut ScriptRequest, level: &str, reason: &str| {
            rollback_to(&ctx, level, reason)
        },
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

    use crate::decision::{Finding, Severity};
    use crate::model::{ChangeRequest, Event, Measurement};
    use crate::script::{HookInput, LevelDemand, RollbackInput, Scripts};
    use crate::telemetry::Telemetry;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn levels() -> Vec<String> {
        ["feature_flag", "traffic_routing", "full_system"]
            .map(String::from)
            .to_vec()
    }

    /// Runs `fn rollback(ctx)` of `script` at 10:00 over a little telemetry.
    fn rollback(script: &str) -> (Vec<Finding>, Vec<LevelDemand>) {
        let scripts = Scripts::compile(&[("rollback.rhai".to_owned(), script.to_owned())]).unwrap();
        let request = ChangeRequest::new(
            "dep-1",
            ["search"],
            "production",
            "feature",
            at("2026-12-01T09:00:00Z"),
            TimeDelta::hours(2),
        );
        let now: DateTime<Utc> = at("2026-12-01T10:00:00Z").into();
        let telemetry = Telemetry::new(vec![
            Measurement::new("latency", at("2026-12-01T09:58:00Z"), Some(2.0)),
            Measurement::new("latency", at("2026-12-01T09:59:00Z"), Some(4.0)),
            Measurement::new("latency", at("2026-12-01T10:01:00Z"), Some(100.0)),
        ])
        .with_events(vec![
            Event::new("security_failure", at("2026-12-01T09:55:00Z")),
            Event::new("security_failure", at("2026-12-01T10:05:00Z")),
        ]);
        let levels = levels();
        let demanded = Mutex::new(Vec::new());
        let input = HookInput::Rollback(RollbackInput {
            request: &request,
            interval: request.interval(),
            now,
            tz: chrono_tz::UTC,
            telemetry: &telemetry,
            levels: &levels,
            demanded: &demanded,
        });
        let (mut out, mut trace) = (Vec::new(), Vec::new());
        scripts.run(&input, None, &mut out, &mut trace, None);
        (out, demanded.into_inner().unwrap())
    }

    #[test]
    fn rollback_to_demands_a_level_with_its_reason_and_line() {
        let (out, demanded) = rollback(
            "fn rollback(ctx) {\n    if ctx.avg(\"latency\", \"5m\") > 2.5 && events(\"security_failure\", \"10m\") == 1 {\n        rollback_to(\"traffic_routing\", \"slow and attacked\");\n    }\n}\n",
        );
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(
            demanded,
            [LevelDemand {
                level: 1,
                reason: "slow and attacked".into(),
                source: "rollback.rhai:3".into(),
            }]
        );
    }

    #[test]
    fn an_unknown_level_fails_closed_naming_the_levels() {
        let (out, demanded) =
            rollback("fn rollback(ctx) { rollback_to(\"full_sytem\", \"x\"); }\n");
        assert!(demanded.is_empty());
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].rule.as_str(), out[0].severity),
            ("policy_error", Severity::Deny)
        );
        assert!(
            out[0].message.contains("unknown rollback level `full_sytem` (did you mean `full_system`?); the levels are `feature_flag`, `traffic_routing`, `full_system`"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn aggregates_read_the_window_ending_at_now() {
        let (out, _) = rollback(
            "fn rollback(ctx) {\n    deny(\"probe\", `${max(\"latency\", \"5m\")} ${samples(\"latency\", \"5m\")} ${p50(\"latency\", \"5m\")} ${avg(\"latency\", \"1m\")}|${avg(\"latency\", \"2m\")} ${avg(\"nothing\", \"5m\") == ()} ${count(\"nothing\", \"5m\")} ${events(\"security_failure\", \"1h\")}`);\n}\n",
        );
        assert_eq!(out[0].message, "4.0 2 2.0 |4.0 true 0.0 1");
        let (out, _) = rollback(
            "fn rollback(ctx) { deny(\"b\", `${ctx.baseline(\"avg\", \"latency\", \"5m\") == ()} ${ctx.p95(\"latency\", \"5m\", #{path: 1})}`); }\n",
        );
        assert_eq!(out[0].message, "true ");
        let (out, _) = rollback("fn rollback(ctx) { baseline(\"mean\", \"latency\", \"5m\"); }\n");
        assert!(
            out[0].message.contains("unknown aggregation `mean`"),
            "{}",
            out[0].message
        );
        let (out, _) = rollback("fn rollback(ctx) { avg(\"latency\", \"5 minutes\"); }\n");
        assert_eq!(out[0].rule.as_str(), "policy_error");
        assert!(
            out[0]
                .message
                .contains("`avg`: `5 minutes` is not a window such as `5m`"),
            "{}",
            out[0].message
        );
    }
}
