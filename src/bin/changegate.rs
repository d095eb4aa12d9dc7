//! The `changegate` command-line tool: a thin face over the library.
//!
//! Exit codes: `check` 0 allowed (warnings included), 1 denied; `windows` 0 when at least one
//! window was found, 1 when none; `preview` 0; every command 2 on invalid input or policy.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use changegate::{
    Calendar, ChangeRequest, Decision, InputError, LoadError, Location, NextWindows, Outcome,
    PolicySet, Severity, WindowPreview,
};
use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "changegate",
    version,
    about = "Decide when a production change may happen and whether it may proceed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// What `check` and `windows` read: the request, the calendar, the policy and the time.
#[derive(Args)]
struct Inputs {
    /// The request (YAML or JSON).
    #[arg(long)]
    request: PathBuf,
    /// Deployments already scheduled and one-off blackouts (YAML or JSON); empty if absent.
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// A bundle directory (policy.yaml, *.rhai, *.ics); the built-in bundle if absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The time of the check (or of the search's start), RFC 3339 with an offset; the system
    /// clock if absent.
    #[arg(long)]
    now: Option<String>,
}

/// [`Inputs`], read and validated.
struct Loaded {
    now: DateTime<Utc>,
    policy: PolicySet,
    request: ChangeRequest,
    calendar: Calendar,
}

impl Inputs {
    fn load(&self) -> Result<Loaded, Invalid> {
        Ok(Loaded {
            now: instant_arg(self.now.as_deref(), "--now")?,
            policy: load_policy(self.policy.as_deref())?,
            request: load_request(&self.request)?,
            calendar: load_calendar(self.calendar.as_deref())?,
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Check a deployment request against the schedule rules of a policy bundle.
    Check {
        #[command(flatten)]
        inputs: Inputs,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// When denied, also give the next allowed start (searching 90 days ahead).
        #[arg(long)]
        suggest: bool,
    },
    /// When can I deploy? The next start times at which the whole request would be allowed
    /// (the request's duration, services, environment and type count; its start does not).
    Windows {
        #[command(flatten)]
        inputs: Inputs,
        /// How many windows to find.
        #[arg(long, default_value_t = 3)]
        count: usize,
        /// How far ahead to search, e.g. `90d`, `2w`.
        #[arg(long, default_value = "90d")]
        horizon: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The next occurrences of every blackout and preferred window, in local time and UTC.
    Preview {
        /// A bundle directory (policy.yaml, *.rhai, *.ics); the built-in bundle if absent.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Start from this time, RFC 3339 with an offset; the system clock if absent.
        #[arg(long)]
        from: Option<String>,
        /// Occurrences per window.
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// How far `check --suggest` looks for the next allowed start.
const SUGGEST_HORIZON_DAYS: i64 = 90;

/// A failure to read input or policy: printed with its location and a snippet, exit code 2.
struct Invalid {
    location: Location,
    /// The field at fault, e.g. `environments.production.max_duration.max`, where known.
    field: Option<String>,
    message: String,
}

impl From<InputError> for Invalid {
    fn from(e: InputError) -> Self {
        Self {
            location: e.location,
            field: e.field,
            message: e.message,
        }
    }
}

impl From<LoadError> for Invalid {
    fn from(e: LoadError) -> Self {
        Self {
            location: e.location,
            field: e.field,
            message: e.message,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check {
            inputs,
            format,
            suggest,
        } => check(&inputs, format, suggest),
        Command::Windows {
            inputs,
            count,
            horizon,
            format,
        } => windows(&inputs, count, &horizon, format),
        Command::Preview {
            policy,
            from,
            count,
            format,
        } => preview(policy.as_deref(), from.as_deref(), count, format),
    };
    match result {
        Ok(code) => code,
        Err(invalid) => {
            report(&invalid);
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path) -> Result<String, Invalid> {
    std::fs::read_to_string(path)
        .map_err(|e| invalid(&path.display().to_string(), format!("cannot read: {e}")))
}

fn invalid(file: &str, message: String) -> Invalid {
    Invalid {
        location: Location {
            file: file.to_owned(),
            line: None,
            column: None,
        },
        field: None,
        message,
    }
}

/// `--now`/`--from`, or the system clock: the CLI is the one place allowed to read it; the
/// library never does.
fn instant_arg(text: Option<&str>, flag: &str) -> Result<DateTime<Utc>, Invalid> {
    match text {
        Some(text) => changegate::time::parse_instant(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| invalid(flag, e.to_string())),
        None => Ok(DateTime::<Utc>::from(std::time::SystemTime::now())),
    }
}

fn load_policy(policy_dir: Option<&Path>) -> Result<PolicySet, Invalid> {
    Ok(match policy_dir {
        Some(dir) => PolicySet::load(dir)?,
        None => PolicySet::builtin()?,
    })
}

fn load_request(path: &Path) -> Result<ChangeRequest, Invalid> {
    Ok(ChangeRequest::from_yaml(
        &read(path)?,
        &path.display().to_string(),
    )?)
}

fn load_calendar(path: Option<&Path>) -> Result<Calendar, Invalid> {
    match path {
        Some(path) => Ok(Calendar::from_yaml(
            &read(path)?,
            &path.display().to_string(),
        )?),
        None => Ok(Calendar::default()),
    }
}

/// Writes with `f`; a closed pipe (`| head`) is not a reason to change the verdict.
fn emit(f: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>) {
    let mut out = std::io::stdout().lock();
    let _ = f(&mut out);
}

fn write_json(out: &mut impl Write, value: &serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

fn check(inputs: &Inputs, format: Format, suggest: bool) -> Result<ExitCode, Invalid> {
    let Loaded {
        now,
        policy,
        request,
        calendar,
    } = inputs.load()?;
    let decision = policy.check_schedule(&request, &calendar, now);
    // Asked only when denied; the base decision JSON is unchanged unless --suggest is given.
    let suggestion = (suggest && !decision.allowed).then(|| {
        policy.next_windows(
            &request,
            &calendar,
            now,
            1,
            TimeDelta::days(SUGGEST_HORIZON_DAYS),
        )
    });
    emit(|out| match format {
        Format::Json => {
            let mut json = decision.to_json();
            if let (true, serde_json::Value::Object(map)) = (suggest, &mut json) {
                map.insert("suggestion".into(), suggestion_json(suggestion.as_ref()));
            }
            write_json(out, &json)
        }
        Format::Text => {
            write_text(out, &request, &decision, colour_enabled())?;
            match &suggestion {
                Some(answer) => writeln!(out, "{}", suggestion_line(answer)),
                None => Ok(()),
            }
        }
    });
    Ok(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `null` when the check was allowed; otherwise the first window (or none) and why.
fn suggestion_json(answer: Option<&NextWindows>) -> serde_json::Value {
    let Some(answer) = answer else {
        return serde_json::Value::Null;
    };
    let first = answer.windows.first();
    serde_json::json!({
        "start": first.map(|w| w.start.to_rfc3339()),
        "end": first.map(|w| w.end.to_rfc3339()),
        "horizon_days": SUGGEST_HORIZON_DAYS,
        "note": answer.note,
    })
}

fn suggestion_line(answer: &NextWindows) -> String {
    match answer.windows.first() {
        Some(w) => format!(
            "next allowed start: {} (free until {})",
            w.start.to_rfc3339(),
            w.end.to_rfc3339()
        ),
        None => format!(
            "next allowed start: none within {SUGGEST_HORIZON_DAYS} days{}",
            answer
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
    }
}

fn windows(
    inputs: &Inputs,
    count: usize,
    horizon: &str,
    format: Format,
) -> Result<ExitCode, Invalid> {
    let horizon = changegate::time::parse_duration(horizon)
        .map_err(|e| invalid("--horizon", e.to_string()))?;
    if count == 0 {
        return Err(invalid("--count", "`--count` must be at least 1".into()));
    }
    let Loaded {
        now,
        policy,
        request,
        calendar,
    } = inputs.load()?;
    let answer = policy.next_windows(&request, &calendar, now, count, horizon);
    emit(|out| match format {
        Format::Json => write_json(out, &serde_json::to_value(&answer).unwrap_or_default()),
        Format::Text => write_windows_text(out, &request, &answer),
    });
    Ok(if answer.windows.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_windows_text(
    out: &mut impl Write,
    request: &ChangeRequest,
    answer: &NextWindows,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} ({} in {}, {}): searched {} .. {}",
        request.id,
        request.services.join(", "),
        request.environment,
        changegate::time::format_duration(request.duration),
        answer.searched.from.to_rfc3339(),
        answer.searched.until.to_rfc3339()
    )?;
    for (i, w) in answer.windows.iter().enumerate() {
        writeln!(
            out,
            "window {}: start {} (free until {}, latest start {})",
            i + 1,
            w.start.to_rfc3339(),
            w.end.to_rfc3339(),
            w.latest_start.to_rfc3339()
        )?;
        for f in &w.warnings {
            writeln!(out, "  warn {}: {}", f.rule, f.message)?;
        }
    }
    for b in &answer.blocked {
        let rules: Vec<&str> = b.rules.iter().map(|r| r.as_str()).collect();
        writeln!(
            out,
            "blocked {} .. {} [{}]: {}",
            b.from.to_rfc3339(),
            b.until.to_rfc3339(),
            rules.join(", "),
            b.reasons.join("; ")
        )?;
    }
    if let Some(note) = &answer.note {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out, "checks run: {}", answer.confirmations)
}

fn preview(
    policy_dir: Option<&Path>,
    from: Option<&str>,
    count: usize,
    format: Format,
) -> Result<ExitCode, Invalid> {
    let from = instant_arg(from, "--from")?;
    let policy = load_policy(policy_dir)?;
    let previews = policy.preview(from, count);
    emit(|out| match format {
        Format::Json => write_json(out, &serde_json::json!({"from": from, "windows": previews})),
        Format::Text => write_preview_text(out, &previews),
    });
    Ok(ExitCode::SUCCESS)
}

fn write_preview_text(out: &mut impl Write, previews: &[WindowPreview]) -> std::io::Result<()> {
    for p in previews {
        writeln!(
            out,
            "{} {} `{}`: {}",
            p.environment, p.kind, p.name, p.description
        )?;
        if p.occurrences.is_empty() {
            writeln!(out, "  no occurrence ahead")?;
        }
        for o in &p.occurrences {
            let marks: Vec<&str> = o
                .dst
                .iter()
                .map(|m| match m {
                    changegate::DstMark::Split => "DST change inside",
                    changegate::DstMark::Moved => "DST moved it",
                })
                .collect();
            writeln!(
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
            )?;
        }
    }
    Ok(())
}

fn colour_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn write_text(
    out: &mut impl Write,
    request: &ChangeRequest,
    decision: &Decision,
    colour: bool,
) -> std::io::Result<()> {
    let (label, code) = match decision.outcome {
        Outcome::Allow => ("ALLOW", "1;32"),
        Outcome::Warn => ("WARN", "1;33"),
        Outcome::Deny => ("DENY", "1;31"),
    };
    writeln!(
        out,
        "{} {} ({} in {}, {} .. {})",
        paint(colour, code, label),
        request.id,
        request.services.join(", "),
        request.environment,
        request.start.to_rfc3339(),
        request.end().to_rfc3339()
    )?;
    for f in &decision.findings {
        let sev = match f.severity {
            Severity::Deny => paint(colour, "31", "deny"),
            Severity::Warn => paint(colour, "33", "warn"),
        };
        let source = f
            .source
            .as_deref()
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        writeln!(out, "  {sev} {}: {}{source}", f.rule, f.message)?;
    }
    for line in &decision.trace {
        writeln!(out, "  trace: {line}")?;
    }
    writeln!(out, "policy {}", decision.policy.digest)
}

/// Prints `error: file:line:col: message` and, when the file can be read, the line with a caret.
fn report(invalid: &Invalid) {
    let mut err = std::io::stderr().lock();
    // Name the field unless the message already does (`unknown field `strat``).
    let field = invalid
        .field
        .as_deref()
        .filter(|f| {
            let last = f.rsplit('.').next().unwrap_or(f);
            !f.is_empty()
                && !invalid.message.starts_with(&format!("{f}:"))
                && !invalid.message.contains(&format!("`{last}`"))
        })
        .map(|f| format!("field `{f}`: "))
        .unwrap_or_default();
    let _ = writeln!(
        err,
        "error: {}: {field}{}",
        invalid.location, invalid.message
    );
    let (Some(line), Ok(text)) = (
        invalid.location.line,
        std::fs::read_to_string(&invalid.location.file),
    ) else {
        return;
    };
    let Some(src) = text.lines().nth(line.saturating_sub(1)) else {
        return;
    };
    let col = invalid.location.column.unwrap_or(1).max(1);
    let width = line.to_string().len();
    let _ = writeln!(err, "{:width$} |", "");
    let _ = writeln!(err, "{line} | {src}");
    let _ = writeln!(err, "{:width$} | {:>col$}", "", "^");
}
