//! The text forms of the answers, shared by the CLI (`--format text`) and the Python bindings
//! (`to_text()`), so that both print the same lines. The JSON forms are the answers' serde
//! serializations (plus [`preview_to_json`] for a preview, which is a list with its start).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::decision::{Decision, Outcome, Severity};
use crate::model::ChangeRequest;
use crate::{DstMark, NextWindows, WindowPreview};

/// How a text form is styled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextStyle {
    /// Plain text.
    #[default]
    Plain,
    /// The outcome and the severities coloured with ANSI escape codes, for a terminal.
    Ansi,
}

impl TextStyle {
    fn paint(self, code: &str, text: &str) -> String {
        match self {
            TextStyle::Plain => text.to_owned(),
            TextStyle::Ansi => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

impl Decision {
    /// The decision as `changegate check` prints it: the outcome in capitals with the request
    /// it is about, one line per finding (with its source), the trace, the policy's digest.
    ///
    /// # Example
    /// ```
    /// use changegate::{Calendar, ChangeRequest, PolicySet, TextStyle};
    /// let policy = PolicySet::builtin().unwrap();
    /// let request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: checkout\nenvironment: production\ntype: feature\n\
    ///      start: 2026-12-01T23:00:00+01:00\nduration: 1h\nlabels: {ticket: CHG-1}\n",
    ///     "<request>",
    /// )
    /// .unwrap();
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z").unwrap();
    /// let decision = policy.check_schedule(&request, &Calendar::default(), now);
    /// let text = decision.to_text(&request, TextStyle::Plain);
    /// assert!(text.starts_with("ALLOW dep-1 (checkout in production, "));
    /// ```
    pub fn to_text(&self, request: &ChangeRequest, style: TextStyle) -> String {
        let (label, code) = match self.outcome {
            Outcome::Allow => ("ALLOW", "1;32"),
            Outcome::Warn => ("WARN", "1;33"),
            Outcome::Pending => ("PENDING", "1;35"),
            Outcome::Deny => ("DENY", "1;31"),
        };
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{} {} ({} in {}, {} .. {})",
            style.paint(code, label),
            request.id,
            request.services.join(", "),
            request.environment,
            request.start.to_rfc3339(),
            request.end().to_rfc3339()
        );
        for f in &self.findings {
            let code = match f.severity {
                Severity::Warn => "33",
                Severity::Pending => "35",
                Severity::Deny => "31",
            };
            let source = f
                .source
                .as_deref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            let question = f.question.map(|q| format!(" ({q})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {}{question}: {}{source}",
                style.paint(code, f.severity.as_str()),
                f.rule,
                f.message
            );
        }
        for line in &self.trace {
            let _ = writeln!(out, "  trace: {line}");
        }
        let _ = writeln!(out, "policy {}", self.policy.digest);
        out
    }
}

impl Decision {
    /// A risk decision ([`PolicySet::assess_risk`](crate::PolicySet::assess_risk)) as
    /// `changegate risk` prints it: the outcome line of [`Decision::to_text`], then the level
    /// and score, one row per factor (name, points, reason, source), the missing evidence and
    /// the mitigations, then the findings, trace and policy digest as [`Decision::to_text`].
    /// A decision without `details.risk` (an unknown environment) prints `risk: not assessed`.
    ///
    /// # Example
    /// ```
    /// use changegate::{ChangeRequest, PolicySet, RiskEvidence, TextStyle};
    /// let policy = PolicySet::builtin().unwrap();
    /// let request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: checkout\nenvironment: production\ntype: feature\n\
    ///      start: 2026-12-01T23:00:00+01:00\nduration: 1h\n",
    ///     "<request>",
    /// )
    /// .unwrap();
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z").unwrap();
    /// let decision = policy.assess_risk(&request, &RiskEvidence::default(), now);
    /// let text = decision.risk_to_text(&request, TextStyle::Plain);
    /// assert!(text.contains("\nrisk: "), "{text}");
    /// assert!(text.contains("missing: "), "{text}");
    /// ```
    pub fn risk_to_text(&self, request: &ChangeRequest, style: TextStyle) -> String {
        let full = self.to_text(request, style);
        let (head, rest) = full.split_once('\n').unwrap_or((&full, ""));
        let mut out = String::new();
        let _ = writeln!(out, "{head}");
        match self.details.get("risk") {
            Some(risk) => write_risk(&mut out, risk, style),
            None => {
                let _ = writeln!(out, "risk: not assessed");
            }
        }
        out.push_str(rest);
        out
    }
}

impl Decision {
    /// An approvals decision ([`PolicySet::check_approvals`](crate::PolicySet::check_approvals))
    /// as `changegate approvals` prints it: the outcome line of [`Decision::to_text`], then the
    /// approvals' state with the risk level, deadline and expiry, one row per rule (status,
    /// name, who approved or how many more it needs, source), the votes ignored with their
    /// reasons and the conditional approvals still waiting, then the findings, trace and
    /// digest as [`Decision::to_text`].
    ///
    /// # Example
    /// ```
    /// use changegate::{ChangeRequest, Evidence, PolicySet, RiskLevel, TextStyle};
    /// let policy = PolicySet::builtin().unwrap();
    /// let request = ChangeRequest::from_yaml(
    ///     "id: dep-1\nservice: checkout\nenvironment: staging\ntype: feature\n\
    ///      start: 2026-12-01T23:00:00+01:00\nduration: 1h\n",
    ///     "<request>",
    /// )
    /// .unwrap();
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z").unwrap();
    /// let evidence = Evidence::new().with_risk_level(RiskLevel::Low);
    /// let decision = policy.check_approvals(&request, &evidence, now);
    /// let text = decision.approvals_to_text(&request, TextStyle::Plain);
    /// assert!(text.contains("\napprovals: pending"), "{text}");
    /// ```
    pub fn approvals_to_text(&self, request: &ChangeRequest, style: TextStyle) -> String {
        let full = self.to_text(request, style);
        let (head, rest) = full.split_once('\n').unwrap_or((&full, ""));
        let mut out = String::new();
        let _ = writeln!(out, "{head}");
        match self.details.get("approvals") {
            Some(approvals) => write_approvals(&mut out, approvals, style),
            None => {
                let _ = writeln!(out, "approvals: not evaluated");
            }
        }
        out.push_str(rest);
        out
    }

    /// A readiness decision ([`PolicySet::evaluate`](crate::PolicySet::evaluate)) as
    /// `changegate evaluate` prints it: the outcome line, each question's outcome, the risk
    /// level and score (when assessed), the approvals as [`Decision::approvals_to_text`]
    /// shows them, then every finding with the question it came from, the trace and digest.
    pub fn readiness_to_text(&self, request: &ChangeRequest, style: TextStyle) -> String {
        let full = self.to_text(request, style);
        let (head, rest) = full.split_once('\n').unwrap_or((&full, ""));
        let mut out = String::new();
        let _ = writeln!(out, "{head}");
        if let Some(Value::Object(q)) = self.details.get("questions") {
            let parts: Vec<String> = q
                .iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or_default()))
                .collect();
            let _ = writeln!(out, "questions: {}", parts.join(", "));
        }
        if let Some(risk) = self.details.get("risk") {
            write_risk(&mut out, risk, style);
        }
        if let Some(approvals) = self.details.get("approvals") {
            write_approvals(&mut out, approvals, style);
        }
        out.push_str(rest);
        out
    }
}

/// The state, rules, ignored votes and conditional approvals of `details.approvals`.
fn write_approvals(out: &mut String, approvals: &Value, style: TextStyle) {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let state = text(approvals.get("state"));
    let code = match state.as_str() {
        "satisfied" => "1;32",
        "pending" => "1;35",
        _ => "1;31",
    };
    let mut line = format!(
        "approvals: {} (risk {}",
        style.paint(code, &state),
        text(approvals.get("risk_level"))
    );
    if let Some(from) = approvals.get("risk_level_from").and_then(Value::as_str) {
        let _ = write!(line, ", {from}");
    }
    line.push(')');
    if let Some(d) = approvals.get("deadline").and_then(Value::as_str) {
        let _ = write!(line, "; due {d}");
    }
    if let Some(e) = approvals.get("expires_at").and_then(Value::as_str) {
        let _ = write!(line, "; approvals expire {e}");
    }
    let _ = writeln!(out, "{line}");
    let empty = Vec::new();
    let list = |v: &Value, key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let rules = approvals
        .get("rules")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if rules.is_empty() {
        let _ = writeln!(out, "  no approval rule applies");
    }
    let name_w = rules
        .iter()
        .map(|r| text(r.get("name")).chars().count())
        .max()
        .unwrap_or(0);
    for r in rules {
        let status = text(r.get("status"));
        let code = match status.as_str() {
            "satisfied" => "32",
            "pending" => "35",
            _ => "31",
        };
        let approved = list(r, "approved_by");
        let rejected = list(r, "rejected_by");
        let needed = r.get("needed").and_then(Value::as_u64).unwrap_or(0);
        let mut who = if approved.is_empty() {
            "no approval yet".to_owned()
        } else {
            format!("approved by {}", approved.join(", "))
        };
        let have = u64::try_from(approved.len()).unwrap_or(u64::MAX);
        if status == "pending" && needed > have {
            let _ = write!(who, "; needs {} more", needed - have);
        }
        if !rejected.is_empty() {
            let _ = write!(who, "; rejected by {}", rejected.join(", "));
        }
        let source = r
            .get("source")
            .and_then(Value::as_str)
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        let padded = format!("{status:<9}");
        let _ = writeln!(
            out,
            "  {}  {:<name_w$}  {who}{source}",
            style.paint(code, &padded),
            text(r.get("name"))
        );
    }
    for (key, label) in [("ignored", "ignored"), ("conditional", "waiting")] {
        for v in approvals
            .get(key)
            .and_then(Value::as_array)
            .unwrap_or(&empty)
        {
            let why = v
                .get("reason")
                .or_else(|| v.get("unmet"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {label}: {} at {} ({why})",
                text(v.get("by")),
                text(v.get("at"))
            );
        }
    }
}

/// The level, score, factor table, missing evidence and mitigations of `details.risk`.
fn write_risk(out: &mut String, risk: &Value, style: TextStyle) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let level = risk.get("level").map(text).unwrap_or_default();
    let code = match level.as_str() {
        "low" => "1;32",
        "medium" => "1;33",
        "high" => "1;31",
        _ => "1;35",
    };
    let score = risk.get("score").and_then(Value::as_i64).unwrap_or(0);
    let _ = writeln!(
        out,
        "risk: {} (score {score})",
        style.paint(code, &level.to_uppercase())
    );
    if let Some(o) = risk.get("override").filter(|o| o.is_object()) {
        let _ = writeln!(
            out,
            "  override `{}`: at least {}{}",
            o.get("name").map(text).unwrap_or_default(),
            o.get("at_least").map(text).unwrap_or_default(),
            o.get("source")
                .and_then(Value::as_str)
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default()
        );
    }
    let empty = Vec::new();
    let factors = risk
        .get("factors")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if factors.is_empty() {
        let _ = writeln!(out, "  no factor scored");
    } else {
        let rows: Vec<(String, String, String, String)> = factors
            .iter()
            .map(|f| {
                (
                    f.get("name").map(text).unwrap_or_default(),
                    f.get("points")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                        .to_string(),
                    f.get("reason").map(text).unwrap_or_default(),
                    f.get("source").map(text).unwrap_or_default(),
                )
            })
            .collect();
        let name_w = rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        let points_w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(6);
        let _ = writeln!(
            out,
            "  {:<name_w$}  {:>points_w$}  reason [source]",
            "factor", "points"
        );
        for (name, points, reason, source) in rows {
            let source = if source.is_empty() {
                String::new()
            } else {
                format!(" [{source}]")
            };
            let _ = writeln!(
                out,
                "  {name:<name_w$}  {points:>points_w$}  {reason}{source}"
            );
        }
    }
    let list = |key: &str| -> Vec<String> {
        risk.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_default()
    };
    let missing = list("missing");
    let _ = writeln!(
        out,
        "missing: {}",
        if missing.is_empty() {
            "none".to_owned()
        } else {
            missing.join(", ")
        }
    );
    let mitigations = list("mitigations");
    if mitigations.is_empty() {
        let _ = writeln!(out, "mitigations: none");
    } else {
        let _ = writeln!(out, "mitigations:");
        for m in mitigations {
            let _ = writeln!(out, "  - {m}");
        }
    }
}

impl NextWindows {
    /// The answer as `changegate windows` prints it: the request and the stretch searched, one
    /// line per window (and its warnings), per blocked stretch, the note, the checks run.
    pub fn to_text(&self, request: &ChangeRequest) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} ({} in {}, {}): searched {} .. {}",
            request.id,
            request.services.join(", "),
            request.environment,
            crate::time::format_duration(request.duration),
            self.searched.from.to_rfc3339(),
            self.searched.until.to_rfc3339()
        );
        for (i, w) in self.windows.iter().enumerate() {
            let _ = writeln!(
                out,
                "window {}: start {} (free until {}, latest start {})",
                i + 1,
                w.start.to_rfc3339(),
                w.end.to_rfc3339(),
                w.latest_start.to_rfc3339()
            );
            for f in &w.warnings {
                let _ = writeln!(out, "  {} {}: {}", f.severity.as_str(), f.rule, f.message);
            }
        }
        for b in &self.blocked {
            let rules: Vec<&str> = b.rules.iter().map(|r| r.as_str()).collect();
            let _ = writeln!(
                out,
                "blocked {} .. {} [{}]: {}",
                b.from.to_rfc3339(),
                b.until.to_rfc3339(),
                rules.join(", "),
                b.reasons.join("; ")
            );
        }
        if let Some(note) = &self.note {
            let _ = writeln!(out, "note: {note}");
        }
        let _ = writeln!(out, "checks run: {}", self.confirmations);
        out
    }
}

/// A preview ([`PolicySet::preview`](crate::PolicySet::preview)) as `changegate preview`
/// prints it: per window its environment, kind, name and description, then one line per
/// occurrence in local time and UTC, marked where a DST change moved or split it.
pub fn preview_to_text(previews: &[WindowPreview]) -> String {
    let mut out = String::new();
    for p in previews {
        let _ = writeln!(
            out,
            "{} {} `{}`: {}",
            p.environment, p.kind, p.name, p.description
        );
        if p.occurrences.is_empty() {
            let _ = writeln!(out, "  no occurrence ahead");
        }
        for o in &p.occurrences {
            let marks: Vec<&str> = o
                .dst
                .iter()
                .map(|m| match m {
                    DstMark::Split => "DST change inside",
                    DstMark::Moved => "DST moved it",
                })
                .collect();
            let _ = writeln!(
                out,
                "  {} .. {}  (UTC {} .. {}){}",
                o.start.format("%a %Y-%m-%d %H:%M %:z"),
                o.end.format("%a %Y-%m-%d %H:%M %:z"),
                o.start_utc.format("%Y-%m-%d %H:%M"),
                o.end_utc.format("%Y-%m-%d %H:%M"),
                if marks.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", marks.join(", "))
                }
            );
        }
    }
    out
}

/// A preview as `changegate preview --format json` prints it: `{"from": ..., "windows": [...]}`.
pub fn preview_to_json(from: DateTime<Utc>, previews: &[WindowPreview]) -> Value {
    serde_json::json!({"from": from, "windows": previews})
}

// ---------------------------------------------------------------------------------------------
// The text forms of the gates and rollback decisions (`changegate gates|rollback` and Python's
// `Decision.to_text()` print the same), built from the decision's `details`
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
fn gates_text(decision: &Decision, request: &ChangeRequest, style: TextStyle) -> String {
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
fn rollback_text(decision: &Decision, request: &ChangeRequest, style: TextStyle) -> String {
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

impl Decision {
    /// A gates decision as `changegate gates` prints it: the outcome line, the score, one line
    /// per gate (status, name, aggregate of which metric over which window, the value observed,
    /// the threshold, the samples counted), then the findings, trace and digest.
    pub fn gates_to_text(&self, request: &ChangeRequest, style: TextStyle) -> String {
        gates_text(self, request, style)
    }

    /// A rollback decision as `changegate rollback` prints it: the outcome line, the level and
    /// deadline, one line per trigger (state, name, what it watches and observed, the level it
    /// demands), then the findings, trace and digest.
    pub fn rollback_to_text(&self, request: &ChangeRequest, style: TextStyle) -> String {
        rollback_text(self, request, style)
    }
}
