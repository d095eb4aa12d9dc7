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
