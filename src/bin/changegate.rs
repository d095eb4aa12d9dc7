//! The `changegate` command-line tool: a thin face over the library.
//!
//! Exit codes: 0 allowed (warnings included), 1 denied, 2 invalid input or policy.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use changegate::{Calendar, ChangeRequest, Decision, Location, Outcome, PolicySet, Severity};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "changegate", version, about = "Decide when a production change may happen and whether it may proceed")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check a deployment request against the schedule rules of a policy bundle.
    Check {
        /// The request (YAML or JSON).
        #[arg(long)]
        request: PathBuf,
        /// Deployments already scheduled and one-off blackouts (YAML or JSON); empty if absent.
        #[arg(long)]
        calendar: Option<PathBuf>,
        /// A bundle directory (policy.yaml and *.rhai); the built-in bundle if absent.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The time of the check, RFC 3339 with an offset; the system clock if absent.
        #[arg(long)]
        now: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// A failure to read input or policy: printed with its location and a snippet, exit code 2.
struct Invalid {
    location: Location,
    message: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check {
            request,
            calendar,
            policy,
            now,
            format,
        } => check(&request, calendar.as_deref(), policy.as_deref(), now.as_deref(), format),
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
    std::fs::read_to_string(path).map_err(|e| Invalid {
        location: Location {
            file: path.display().to_string(),
            line: None,
            column: None,
        },
        message: format!("cannot read: {e}"),
    })
}

fn check(
    request_path: &Path,
    calendar_path: Option<&Path>,
    policy_dir: Option<&Path>,
    now: Option<&str>,
    format: Format,
) -> Result<ExitCode, Invalid> {
    let now: DateTime<Utc> = match now {
        Some(text) => changegate::time::parse_instant(text)
            .map_err(|message| Invalid {
                location: Location {
                    file: "--now".into(),
                    line: None,
                    column: None,
                },
                message,
            })?
            .with_timezone(&Utc),
        // The CLI is the one place allowed to read the clock; the library never does.
        None => DateTime::<Utc>::from(std::time::SystemTime::now()),
    };
    let policy = match policy_dir {
        Some(dir) => PolicySet::load(dir),
        None => PolicySet::builtin(),
    }
    .map_err(|e| Invalid {
        location: e.location,
        message: e.message,
    })?;
    let request_text = read(request_path)?;
    let request = ChangeRequest::from_yaml(&request_text, &request_path.display().to_string())
        .map_err(|e| Invalid {
            location: e.location,
            message: e.message,
        })?;
    let calendar = match calendar_path {
        Some(path) => Calendar::from_yaml(&read(path)?, &path.display().to_string()).map_err(
            |e| Invalid {
                location: e.location,
                message: e.message,
            },
        )?,
        None => Calendar::default(),
    };
    let decision = policy.check_schedule(&request, &calendar, now);
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &decision.to_json())
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        Format::Text => write_text(&mut out, &request, &decision, colour_enabled()),
    };
    // A closed pipe (`| head`) is not a reason to change the verdict.
    let _ = written;
    Ok(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
    let _ = writeln!(err, "error: {}: {}", invalid.location, invalid.message);
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
