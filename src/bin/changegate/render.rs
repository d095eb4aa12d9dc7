//! Writing to stdout. The text forms themselves live in the library (`Decision::to_text`,
//! `NextWindows::to_text`, `preview_to_text`), shared with the Python bindings.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use changegate::{ChangeRequest, Decision, TextStyle};
use clap::ValueEnum;
use serde_json::Value;

/// `--format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// Writes `text` to stdout through one buffered writer; a closed pipe (`| head`) is not a
/// reason to change the verdict.
pub(crate) fn print(text: &str) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes `value` to stdout as pretty JSON and a newline, serialized straight into one
/// buffered writer (stdout's own line buffering would write a large decision line by line).
pub(crate) fn print_json(value: &serde_json::Value) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if serde_json::to_writer_pretty(&mut out, value).is_ok() {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// `--color`: when the text output is coloured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Color {
    /// When stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

static COLOR: std::sync::OnceLock<Color> = std::sync::OnceLock::new();

/// Sets `--color` once, before any output.
pub(crate) fn set_color(color: Color) {
    let _ = COLOR.set(color);
}

/// Colour as `--color` says; `auto` (the default): when stdout is a terminal and `NO_COLOR` is
/// not set (<https://no-color.org>).
pub(crate) fn style() -> TextStyle {
    let on = match COLOR.get().copied().unwrap_or_default() {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    if on {
        TextStyle::Ansi
    } else {
        TextStyle::Plain
    }
}

// ---------------------------------------------------------------------------------------------
// The text forms of the gates and rollback decisions, built from the decision's `details`
// (the same JSON `--format json` prints), so that they show exactly what the library decided.

/// A number as a person reads it: at most 6 significant digits, no trailing zeros (`0.002`
/// rather than `0.0020000000000000005`, `1` rather than `1.0`).
fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    // Digits after the point for 6 significant ones (at most 12).
    let magnitude = v.abs().log10().floor();
    let decimals = (5.0 - magnitude).clamp(0.0, 12.0);
    // In 0..=12: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let decimals = decimals as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A JSON value as a person reads it: text without quotes, numbers short, `null` as `-`.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => number(f),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{} {}", k.replace('_', " "), shown(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The first of `keys` present (and not null) in `primary`, then in `fallback`.
fn pick<'a>(primary: &'a Value, fallback: Option<&'a Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| {
        primary
            .get(k)
            .filter(|v| !v.is_null())
            .or_else(|| fallback.and_then(|f| f.get(k)).filter(|v| !v.is_null()))
    })
}

/// What a gate or trigger measured, from its entry in `details` and the details of its
/// finding (for what the entry leaves out): `p95 of latency_seconds{path=generated} over 5m =
/// 1.62 (baseline 1.4); max 1.5, warn max 1.2; 312 samples`, `events security_failure over 10m
/// = 2; min count 1`, `burn rate of error_rate (objective 0.999) = 16.2 over 1h, 20.1 over 5m;
/// factor 14.4`.
fn measured(entry: &Value, finding: Option<&Value>) -> String {
    let get = |keys: &[&str]| pick(entry, finding, keys);
    let observed = |key: &str| {
        entry
            .get(key)
            .or_else(|| finding.and_then(|f| f.get(key)))
            .map_or_else(
                || "no data".to_owned(),
                |v| match v {
                    Value::Null => "no data".to_owned(),
                    v => shown(v),
                },
            )
    };
    let labels = get(&["labels"])
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .map(|m| {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", shown(v))).collect();
            format!("{{{}}}", parts.join(","))
        })
        .unwrap_or_default();
    let window = get(&["window"])
        .map(|w| format!(" over {}", shown(w)))
        .unwrap_or_default();
    let mut notes = Vec::new();
    let mut out = if let Some(event) = get(&["event"]) {
        if let Some(n) = get(&["min_count"]) {
            notes.push(format!("min count {}", shown(n)));
        }
        format!("events {}{window} = {}", shown(event), observed("observed"))
    } else if get(&["objective"]).is_some()
        || get(&["kind"]).and_then(Value::as_str) == Some("burn_rate")
    {
        let metric = get(&["metric"])
            .map(|m| format!(" of {}{labels}", shown(m)))
            .unwrap_or_default();
        let objective = get(&["objective"])
            .map(|o| format!(" (objective {})", shown(o)))
            .unwrap_or_default();
        let over = |key: &str| {
            get(&[key]).map_or_else(|| format!(" ({key})"), |w| format!(" over {}", shown(w)))
        };
        if let Some(f) = get(&["factor"]) {
            notes.push(format!("factor {}", shown(f)));
        }
        format!(
            "burn rate{metric}{objective} = {}{}, {}{}",
            observed("observed"),
            over("long"),
            observed("observed_short"),
            over("short")
        )
    } else {
        let what = match (get(&["aggregation"]), get(&["metric"])) {
            (Some(a), Some(m)) => format!("{} of {}{labels}{window} = ", shown(a), shown(m)),
            (None, Some(m)) => format!("{}{labels}{window} = ", shown(m)),
            _ => "observed ".to_owned(),
        };
        let mut text = format!("{what}{}", observed("observed"));
        if let Some(b) = get(&["baseline"]) {
            let _ = write!(text, " (baseline {})", shown(b));
        }
        match (get(&["op"]), get(&["threshold"])) {
            (Some(op), Some(t)) => notes.push(format!("{} {}", shown(op), shown(t))),
            (None, Some(t)) => notes.push(shown(t)),
            _ => {}
        }
        text
    };
    if let Some(f) = get(&["for"]).filter(|f| f.as_str() != Some("0s")) {
        notes.push(format!("for {}", shown(f)));
    }
    // An event trigger's samples are its events: the value observed already counts them.
    if let Some(n) = get(&["samples"]).filter(|_| get(&["event"]).is_none()) {
        notes.push(format!("{} samples", shown(n)));
    }
    if let Some(r) = get(&["reason"]) {
        notes.push(match r.as_str() {
            Some("missing") => "missing data".to_owned(),
            Some("nan") => "NaN in the window".to_owned(),
            other => other.map_or_else(|| shown(r), |o| o.replace('_', " ")),
        });
    }
    notes.retain(|n| !n.is_empty());
    if !notes.is_empty() {
        let _ = write!(out, "; {}", notes.join("; "));
    }
    out
}

/// The details of the first finding whose details name `name` under `key`.
fn finding_for(decision: &Decision, key: &str, name: &str) -> Option<Value> {
    decision
        .findings
        .iter()
        .find(|f| f.details.get(key).and_then(Value::as_str) == Some(name))
        .map(|f| Value::Object(f.details.clone()))
}

fn paint_status(style: TextStyle, status: &str, width: usize) -> String {
    let padded = format!("{status:<width$}");
    let code = match status {
        "pass" | "clear" => "32",
        "warn" | "holding" => "33",
        "fail" | "firing" => "31",
        _ => "35",
    };
    match style {
        TextStyle::Ansi => format!("\x1b[{code}m{padded}\x1b[0m"),
        _ => padded,
    }
}

/// The outcome line, then `rest` built by `body`, then the findings, trace and digest, as the
/// other text forms lay them out.
fn framed(
    decision: &Decision,
    request: &ChangeRequest,
    style: TextStyle,
    body: impl FnOnce(&mut String),
) -> String {
    let full = decision.to_text(request, style);
    let (head, rest) = full.split_once('\n').unwrap_or((&full, ""));
    let mut out = String::new();
    let _ = writeln!(out, "{head}");
    body(&mut out);
    out.push_str(rest);
    out
}

/// A gates decision as `changegate gates` prints it: the outcome line, the score, one line per
/// gate (status, name, the aggregate of which metric over which window, the value observed,
/// the threshold and the samples counted), then the findings, trace and digest.
pub(crate) fn gates_text(decision: &Decision, request: &ChangeRequest, style: TextStyle) -> String {
    framed(decision, request, style, |out| {
        let Some(gates) = decision.details.get("gates") else {
            let _ = writeln!(out, "gates: not evaluated");
            return;
        };
        let results = gates
            .get("results")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let score = match gates.get("score") {
            Some(s) if !s.is_null() => {
                let mut line = format!("score {}", shown(s));
                let bounds: Vec<String> = ["pass", "warn"]
                    .iter()
                    .filter_map(|k| {
                        gates
                            .get(*k)
                            .filter(|v| v.is_number())
                            .map(|v| format!("{k} at {v}"))
                    })
                    .collect();
                if !bounds.is_empty() {
                    let _ = write!(line, " ({})", bounds.join(", "));
                }
                line
            }
            _ => "no score".to_owned(),
        };
        if results.is_empty() {
            let _ = writeln!(out, "gates: none in `{}`", request.environment);
            return;
        }
        let _ = writeln!(out, "gates: {} gates, {score}", results.len());
        let width = results
            .iter()
            .filter_map(|r| r.get("name").and_then(Value::as_str))
            .map(str::len)
            .max()
            .unwrap_or(0);
        for r in results {
            let name = r.get("name").map(shown).unwrap_or_default();
            let status = r.get("status").map(shown).unwrap_or_default();
            let finding = finding_for(decision, "gate", &name);
            let _ = writeln!(
                out,
                "  {} {name:<width$}  {}",
                paint_status(style, &status, 12),
                measured(r, finding.as_ref())
            );
        }
    })
}

/// A rollback decision as `changegate rollback` prints it: the outcome line, the level to roll
/// back to and the deadline, one line per trigger (state, name, what it measured against which
/// threshold, since when it holds and when it fired, the level it demands), the rollbacks
/// already performed, then the findings, trace and digest.
pub(crate) fn rollback_text(
    decision: &Decision,
    request: &ChangeRequest,
    style: TextStyle,
) -> String {
    framed(decision, request, style, |out| {
        let Some(rollback) = decision.details.get("rollback") else {
            let _ = writeln!(out, "rollback: not evaluated");
            return;
        };
        match rollback.get("level").filter(|l| !l.is_null()) {
            Some(level) => {
                let deadline = rollback
                    .get("deadline")
                    .filter(|d| !d.is_null())
                    .map(|d| format!(" by {}", shown(d)))
                    .unwrap_or_default();
                let _ = writeln!(out, "rollback: to {}{deadline}", shown(level));
            }
            None => {
                let _ = writeln!(out, "rollback: none demanded");
            }
        }
        let triggers = rollback
            .get("triggers")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let width = triggers
            .iter()
            .filter_map(|r| r.get("name").and_then(Value::as_str))
            .map(str::len)
            .max()
            .unwrap_or(0);
        for t in triggers {
            let name = t.get("name").map(shown).unwrap_or_default();
            let state = t.get("state").map(shown).unwrap_or_default();
            let finding = finding_for(decision, "trigger", &name);
            let mut line = measured(t, finding.as_ref());
            if let Some(since) = t.get("since").filter(|v| !v.is_null()) {
                let _ = write!(line, "; since {}", shown(since));
            }
            if let Some(fired) = t.get("fired_at").filter(|v| !v.is_null()) {
                let _ = write!(line, "; fired at {}", shown(fired));
            }
            if let Some(level) = t.get("level").filter(|v| !v.is_null()) {
                let _ = write!(line, " -> {}", shown(level));
            }
            let _ = writeln!(
                out,
                "  {} {name:<width$}  {line}",
                paint_status(style, &state, 12)
            );
        }
        let performed: Vec<String> = rollback
            .get("performed")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{} at {}",
                    p.get("level").map(shown).unwrap_or_default(),
                    p.get("at").map(shown).unwrap_or_default()
                )
            })
            .collect();
        if !performed.is_empty() {
            let _ = writeln!(out, "performed: {}", performed.join(", "));
        }
    })
}
