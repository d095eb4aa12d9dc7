//! `changegate monitor`: the rollback decision kept current as telemetry arrives on stdin,
//! one JSON object per line: a measurement `{metric, at, value, labels?}`, an event `{kind, at,
//! source?}` or a rollback performed `{level, at}`, told apart by their keys (`metric`, `kind`,
//! `level`). A line is printed each time the decision's outcome or level changes; the command
//! exits 1 at the first rollback (deny) decision, 2 at a line that cannot be read or is
//! rejected (too old), naming the line, and 0 at the end of the input.
//!
//! Decisions are the library's [`Monitor`]'s: made at the latest line's time minus the
//! tolerance, over the lines older than that (an instant is decided once a later line
//! arrives, since more lines of the same instant may follow).

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use changegate::{
    Decision, Event, InputError, InputLimits, Measurement, Monitor, Outcome, RollbackDone,
};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use clap::Args;
use serde_json::{Value, json};

use crate::exit;
use crate::input::{Invalid, LimitArgs, instant_arg, invalid, load_policy, load_request};
use crate::render::Format;

#[derive(Args)]
pub(crate) struct MonitorArgs {
    /// The deployment (a request: YAML or JSON); its `environment` picks the policy section.
    #[arg(long)]
    deployment: PathBuf,
    /// When the watch starts, RFC 3339 with an offset; earlier telemetry is rejected. The
    /// deployment's `start` if absent.
    #[arg(long)]
    start: Option<String>,
    /// How much older than the latest line a line may be (`30s`, `2m`): such lines wait in a
    /// reorder buffer and decisions lag the latest line by this much. Zero if absent.
    #[arg(long, value_name = "DURATION")]
    tolerance: Option<String>,
    /// A bundle directory (policy.yaml, *.rhai); the built-in bundle if absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Output format: a text line, or one JSON object per line `{line, now, outcome, level,
    /// deadline, decision}`.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The name of the input in errors.
const STDIN: &str = "<stdin>";

pub(crate) fn run(args: &MonitorArgs) -> crate::CommandResult {
    let limits = args.limits.limits();
    let policy = load_policy(args.policy.as_deref(), &limits)?;
    if args.deployment.as_os_str() == crate::input::STDIN {
        return Err(invalid(
            "--deployment",
            "standard input carries the telemetry here: give the deployment as a file".to_owned(),
        ));
    }
    let deployment = load_request(&args.deployment, &limits)?;
    let start = match args.start.as_deref() {
        Some(text) => instant_arg(Some(text), "--start")?,
        None => deployment.start.with_timezone(&Utc),
    };
    let tolerance = match args.tolerance.as_deref().map(str::trim) {
        None | Some("0" | "0s") => TimeDelta::zero(),
        Some(text) => changegate::time::parse_duration(text)
            .map_err(|e| invalid("--tolerance", e.to_string()))?,
    };
    let mut monitor = Monitor::new(&policy, deployment, start).with_tolerance(tolerance);
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut last: Option<(Outcome, Option<String>)> = None;
    let mut buf = Vec::new();
    let mut n = 0usize;
    let mut pushed = false;
    loop {
        n = n.saturating_add(1);
        buf.clear();
        let cap = u64::try_from(limits.max_bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let read = Read::by_ref(&mut input)
            .take(cap)
            .read_until(b'\n', &mut buf)
            .map_err(|e| at_line(n, None, format!("cannot read the input: {e}")))?;
        if read == 0 {
            // The end of the input: what waited (the latest instant, the tolerance) counts
            // too, and the final decision is printed if it changed (nothing read: nothing to
            // say).
            if !pushed {
                return Ok(exit::OK);
            }
            monitor.flush();
            let decision = monitor.decision();
            let key = (decision.outcome, level(decision));
            if last.as_ref() != Some(&key) {
                let text = match args.format {
                    Format::Text => text_line(decision, monitor.now(), n.saturating_sub(1)),
                    Format::Json => json_line(decision, monitor.now(), n.saturating_sub(1)),
                };
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
                if key.0 == Outcome::Deny {
                    return Ok(exit::DENIED);
                }
            }
            return Ok(exit::OK);
        }
        if buf.len() > limits.max_bytes {
            return Err(at_line(
                n,
                None,
                format!(
                    "the line is longer than the limit of {} bytes; raise it with \
                     `--max-input-bytes`",
                    limits.max_bytes
                ),
            ));
        }
        let line = std::str::from_utf8(&buf)
            .map_err(|_| at_line(n, None, "the line is not UTF-8 text".into()))?;
        if line.trim().is_empty() {
            continue;
        }
        push(&mut monitor, line, n, &limits)?;
        pushed = true;
        let decision = monitor.decision();
        let key = (decision.outcome, level(decision));
        if last.as_ref() != Some(&key) {
            let text = match args.format {
                Format::Text => text_line(decision, monitor.now(), n),
                Format::Json => json_line(decision, monitor.now(), n),
            };
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
            if key.0 == Outcome::Deny {
                return Ok(exit::DENIED);
            }
            last = Some(key);
        }
    }
}

/// Reads line `n` (a measurement, an event or a rollback) and pushes it.
fn push(monitor: &mut Monitor, line: &str, n: usize, limits: &InputLimits) -> Result<(), Invalid> {
    let object = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(at_line(n, None, EXPECTED.into())),
        Err(e) => {
            let message = e.to_string();
            let message = message
                .split_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            return Err(at_line(
                n,
                Some(e.column()),
                format!("not JSON: {message}; {EXPECTED}"),
            ));
        }
    };
    let one = |e: InputError| -> Invalid { relocate(e, n).into() };
    let pushed = if object.contains_key("metric") {
        let item = first(
            Measurement::list_from_yaml_with_limits(line, STDIN, limits).map_err(one)?,
            n,
        )?;
        monitor.push_measurement(item)
    } else if object.contains_key("kind") {
        let item = first(
            Event::list_from_yaml_with_limits(line, STDIN, limits).map_err(one)?,
            n,
        )?;
        monitor.push_event(item)
    } else if object.contains_key("level") {
        let item = first(
            RollbackDone::list_from_yaml_with_limits(line, STDIN, limits).map_err(one)?,
            n,
        )?;
        monitor.push_rollback(item)
    } else {
        return Err(at_line(n, None, EXPECTED.into()));
    };
    match pushed {
        Ok(_) => Ok(()),
        Err(e) => {
            let mut e = relocate(e, n);
            e.message = format!("line {n} rejected: {}", e.message);
            Err(e.into())
        }
    }
}

const EXPECTED: &str = "each line is a JSON object: a measurement `{metric, at, value, labels?}`, \
                        an event `{kind, at, source?}` or a rollback performed `{level, at}`";

/// The one item a line holds.
fn first<T>(items: Vec<T>, n: usize) -> Result<T, Invalid> {
    items
        .into_iter()
        .next()
        .ok_or_else(|| at_line(n, None, EXPECTED.into()))
}

/// An error the reader reported for a line read alone (its line 1): moved to line `n` of the
/// input.
fn relocate(mut e: InputError, n: usize) -> InputError {
    e.location.file = STDIN.to_owned();
    e.location.line = Some(n);
    e.field = Some(
        match e.field.as_deref().and_then(|f| f.strip_prefix("line 1")) {
            Some(rest) => format!("line {n}{rest}"),
            None => format!("line {n}"),
        },
    );
    e
}

fn at_line(n: usize, column: Option<usize>, message: String) -> Invalid {
    InputError {
        location: changegate::Location {
            file: STDIN.to_owned(),
            line: Some(n),
            column,
        },
        field: Some(format!("line {n}")),
        message,
    }
    .into()
}

/// `details.rollback.level`, when a level is demanded.
fn level(decision: &Decision) -> Option<String> {
    rollback_field(decision, "level")
}

fn rollback_field(decision: &Decision, key: &str) -> Option<String> {
    decision
        .details
        .get("rollback")
        .and_then(|r| r.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `2026-12-01T10:07:00Z DENY rollback to traffic_routing by 2026-12-01T10:12:00Z
/// [rollback_trigger, rollback] (line 42)`.
fn text_line(decision: &Decision, now: DateTime<Utc>, n: usize) -> String {
    let mut line = format!(
        "{} {}",
        instant(now),
        decision.outcome.as_str().to_uppercase()
    );
    if let Some(level) = level(decision) {
        line.push_str(&format!(" rollback to {level}"));
        if let Some(deadline) = rollback_field(decision, "deadline") {
            line.push_str(&format!(" by {deadline}"));
        }
    }
    let rules: Vec<&str> = decision.findings.iter().map(|f| f.rule.as_str()).collect();
    if !rules.is_empty() {
        line.push_str(&format!(" [{}]", rules.join(", ")));
    }
    line.push_str(&format!(" (line {n})"));
    line
}

fn json_line(decision: &Decision, now: DateTime<Utc>, n: usize) -> String {
    json!({
        "line": n,
        "now": instant(now),
        "outcome": decision.outcome.as_str(),
        "level": level(decision),
        "deadline": rollback_field(decision, "deadline"),
        "decision": decision.to_json(),
    })
    .to_string()
}
