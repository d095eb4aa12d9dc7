//! Reading what the commands read (request, calendar, policy, instants) and reporting what
//! cannot be read: [`Invalid`], printed with its location and a snippet (exit code 2).

use std::io::Write;
use std::path::{Path, PathBuf};

use changegate::{Calendar, ChangeRequest, InputError, LoadError, Location, PolicySet};
use chrono::{DateTime, Utc};
use clap::Args;

/// What `check` and `windows` read: the request, the calendar, the policy and the time.
#[derive(Args)]
pub(crate) struct Inputs {
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
pub(crate) struct Loaded {
    pub(crate) now: DateTime<Utc>,
    pub(crate) policy: PolicySet,
    pub(crate) request: ChangeRequest,
    pub(crate) calendar: Calendar,
}

impl Inputs {
    pub(crate) fn load(&self) -> Result<Loaded, Invalid> {
        Ok(Loaded {
            now: instant_arg(self.now.as_deref(), "--now")?,
            policy: load_policy(self.policy.as_deref())?,
            request: load_request(&self.request)?,
            calendar: load_calendar(self.calendar.as_deref())?,
        })
    }
}

/// A failure to read input or policy: printed with its location and a snippet, exit code 2.
pub(crate) struct Invalid {
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

/// An error in `file` (or in the argument named so) without a position.
pub(crate) fn invalid(file: &str, message: String) -> Invalid {
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

fn read(path: &Path) -> Result<String, Invalid> {
    std::fs::read_to_string(path)
        .map_err(|e| invalid(&path.display().to_string(), format!("cannot read: {e}")))
}

/// `--now`/`--from`, or the system clock: the CLI is the one place allowed to read it; the
/// library never does.
pub(crate) fn instant_arg(text: Option<&str>, flag: &str) -> Result<DateTime<Utc>, Invalid> {
    match text {
        Some(text) => changegate::time::parse_instant(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| invalid(flag, e.to_string())),
        None => Ok(DateTime::<Utc>::from(std::time::SystemTime::now())),
    }
}

pub(crate) fn load_policy(policy_dir: Option<&Path>) -> Result<PolicySet, Invalid> {
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

/// Prints `error: file:line:col: message` and, when the file can be read, the line with a caret.
pub(crate) fn report(invalid: &Invalid) {
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
