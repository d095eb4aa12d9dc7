//! Reading what the commands read (request, calendar, policy, instants) and reporting what
//! cannot be read: [`Invalid`], printed with its location and a snippet (exit code 2).

use std::io::Write;
use std::path::{Path, PathBuf};

use changegate::{
    Approval, Calendar, ChangeRequest, Directory, Event, Evidence, History, InputError,
    InputLimits, LoadError, Location, Measurement, PolicySet, RiskEvidence, RiskLevel,
    RollbackDone, Telemetry, ValidationResults,
};
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
    #[command(flatten)]
    limits: LimitArgs,
}

/// `--max-input-bytes`: the size limit of every file read.
#[derive(Args)]
pub(crate) struct LimitArgs {
    /// The largest file read (request, calendar, policy.yaml, scripts, .ics), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = changegate::DEFAULT_MAX_INPUT_BYTES)]
    max_input_bytes: usize,
}

impl LimitArgs {
    pub(crate) fn limits(&self) -> InputLimits {
        InputLimits {
            max_bytes: self.max_input_bytes,
            ..InputLimits::default()
        }
    }
}

/// `--validation` and `--history`: the evidence of the risk question.
#[derive(Args)]
pub(crate) struct EvidenceArgs {
    /// The change's validation results (YAML or JSON: a list of `{category, check, status or
    /// value, at}`); absent, every required category is missing.
    #[arg(long)]
    pub(crate) validation: Option<PathBuf>,
    /// Past changes and their outcomes (YAML or JSON: `changes: [...]`); absent, the history
    /// is missing.
    #[arg(long)]
    pub(crate) history: Option<PathBuf>,
}

impl EvidenceArgs {
    /// Whether either file was given.
    pub(crate) fn given(&self) -> bool {
        self.validation.is_some() || self.history.is_some()
    }

    /// Reads the files given; an absent one is `None` (missing evidence).
    pub(crate) fn load(&self, limits: &InputLimits) -> Result<RiskEvidence, Invalid> {
        let validation = match &self.validation {
            Some(path) => Some(ValidationResults::from_yaml_with_limits(
                &read(path, limits)?,
                &path.display().to_string(),
                limits,
            )?),
            None => None,
        };
        let history = match &self.history {
            Some(path) => Some(History::from_yaml_with_limits(
                &read(path, limits)?,
                &path.display().to_string(),
                limits,
            )?),
            None => None,
        };
        Ok(RiskEvidence::new(validation, history))
    }
}

/// `--approvals`, `--directory` and `--risk-level`: the evidence of the approvals question.
#[derive(Args)]
pub(crate) struct ApprovalArgs {
    /// Approvals given besides the request's `approvals:` (YAML or JSON: a list of `{by,
    /// decision, at, role?, artifact?, conditions?}` or `approvals: [...]`).
    #[arg(long)]
    approvals: Option<PathBuf>,
    /// People and their roles (YAML or JSON: `people: {alice@example.com: {roles: [...]}}`),
    /// laid over the bundle's `directory.yaml` person by person.
    #[arg(long)]
    directory: Option<PathBuf>,
    /// A risk level already assessed (low, medium, high, critical); without it the level is
    /// assessed from `--validation` and `--history` (missing evidence scores high).
    #[arg(long, value_name = "LEVEL")]
    risk_level: Option<String>,
}

impl ApprovalArgs {
    /// Reads the files given into `evidence`.
    pub(crate) fn load_into(
        &self,
        mut evidence: Evidence,
        limits: &InputLimits,
    ) -> Result<Evidence, Invalid> {
        if let Some(path) = &self.approvals {
            evidence = evidence.with_approvals(Approval::list_from_yaml_with_limits(
                &read(path, limits)?,
                &path.display().to_string(),
                limits,
            )?);
        }
        if let Some(path) = &self.directory {
            evidence = evidence.with_directory(Directory::from_yaml_with_limits(
                &read(path, limits)?,
                &path.display().to_string(),
                limits,
            )?);
        }
        if let Some(level) = &self.risk_level {
            let level = RiskLevel::named(level).ok_or_else(|| {
                invalid(
                    "--risk-level",
                    format!("unknown risk level `{level}`: give low, medium, high or critical"),
                )
            })?;
            evidence = evidence.with_risk_level(level);
        }
        Ok(evidence)
    }
}

/// What `gates` and `rollback` read: the deployment and its telemetry.
#[derive(Args)]
pub(crate) struct TelemetryArgs {
    /// The deployment (a request: YAML or JSON); its `environment` picks the policy section.
    #[arg(long)]
    pub(crate) deployment: PathBuf,
    /// Measurements (YAML, JSON or JSON lines: `{metric, at, value, labels?}` each, as a list
    /// or `measurements: [...]`); `value` may be null (no data) or NaN.
    #[arg(long)]
    measurements: PathBuf,
    /// Events (`{kind, at, source?}` each, as a list, `events: [...]` or JSON lines).
    #[arg(long)]
    events: Option<PathBuf>,
    /// The baseline's measurements, which relative gates (`max_increase`, ...) compare with.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Rollbacks already performed (`{level, at}` each, as a list, `rollbacks: [...]` or JSON
    /// lines).
    #[arg(long)]
    rollbacks: Option<PathBuf>,
}

impl TelemetryArgs {
    /// Reads the deployment and the telemetry files given.
    pub(crate) fn load(&self, limits: &InputLimits) -> Result<(ChangeRequest, Telemetry), Invalid> {
        let deployment = load_request(&self.deployment, limits)?;
        let measurements = measurements_file(&self.measurements, limits)?;
        let baseline = match &self.baseline {
            Some(path) => measurements_file(path, limits)?,
            None => Vec::new(),
        };
        let events = match &self.events {
            Some(path) => {
                Event::list_from_yaml_with_limits(&read(path, limits)?, &name(path), limits)?
            }
            None => Vec::new(),
        };
        let rollbacks = match &self.rollbacks {
            Some(path) => {
                RollbackDone::list_from_yaml_with_limits(&read(path, limits)?, &name(path), limits)?
            }
            None => Vec::new(),
        };
        let telemetry = Telemetry::new(measurements)
            .with_baseline(baseline)
            .with_events(events)
            .with_rollbacks(rollbacks);
        Ok((deployment, telemetry))
    }
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

fn measurements_file(path: &Path, limits: &InputLimits) -> Result<Vec<Measurement>, Invalid> {
    Ok(Measurement::list_from_yaml_with_limits(
        &read(path, limits)?,
        &name(path),
        limits,
    )?)
}

/// Everything a readiness or approvals check reads besides the request and the policy.
pub(crate) fn load_evidence(
    risk: &EvidenceArgs,
    approvals: &ApprovalArgs,
    calendar: Option<&Path>,
    policy: &PolicySet,
    limits: &InputLimits,
) -> Result<Evidence, Invalid> {
    let RiskEvidence {
        validation,
        history,
        ..
    } = risk.load(limits)?;
    let mut evidence = Evidence::new().with_calendar(load_calendar(calendar, policy, limits)?);
    evidence.validation = validation;
    evidence.history = history;
    approvals.load_into(evidence, limits)
}

/// [`Inputs`], read and validated.
pub(crate) struct Loaded {
    pub(crate) now: DateTime<Utc>,
    pub(crate) policy: PolicySet,
    pub(crate) request: ChangeRequest,
    pub(crate) calendar: Calendar,
}

impl Inputs {
    /// The input limits `--max-input-bytes` sets.
    pub(crate) fn limits(&self) -> InputLimits {
        self.limits.limits()
    }

    pub(crate) fn load(&self) -> Result<Loaded, Invalid> {
        let limits = self.limits.limits();
        let now = instant_arg(self.now.as_deref(), "--now")?;
        let policy = load_policy(self.policy.as_deref(), &limits)?;
        let request = load_request(&self.request, &limits)?;
        let calendar = load_calendar(self.calendar.as_deref(), &policy, &limits)?;
        Ok(Loaded {
            now,
            policy,
            request,
            calendar,
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

/// Reads a regular file of at most `limits.max_bytes` bytes.
fn read(path: &Path, limits: &InputLimits) -> Result<String, Invalid> {
    Ok(changegate::read_input_file(path, limits)?)
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

pub(crate) fn load_policy(
    policy_dir: Option<&Path>,
    limits: &InputLimits,
) -> Result<PolicySet, Invalid> {
    Ok(match policy_dir {
        Some(dir) => PolicySet::load_with_limits(dir, limits)?,
        None => PolicySet::builtin()?,
    })
}

pub(crate) fn load_request(path: &Path, limits: &InputLimits) -> Result<ChangeRequest, Invalid> {
    Ok(ChangeRequest::from_yaml_with_limits(
        &read(path, limits)?,
        &path.display().to_string(),
        limits,
    )?)
}

/// The calendar, checked against the policy: an environment it does not know is an error.
pub(crate) fn load_calendar(
    path: Option<&Path>,
    policy: &PolicySet,
    limits: &InputLimits,
) -> Result<Calendar, Invalid> {
    match path {
        Some(path) => Ok(Calendar::from_yaml_checked(
            &read(path, limits)?,
            &path.display().to_string(),
            policy,
            limits,
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
    let path = Path::new(&invalid.location.file);
    let (Some(line), Ok(text)) = (
        invalid.location.line,
        // Within the default limit only, and never a FIFO or device.
        changegate::read_input_file(path, &InputLimits::default()),
    ) else {
        return;
    };
    let Some(src) = text.lines().nth(line.saturating_sub(1)) else {
        return;
    };
    let (src, col) = excerpt(src, invalid.location.column.unwrap_or(1).max(1));
    let width = line.to_string().len();
    let _ = writeln!(err, "{:width$} |", "");
    let _ = writeln!(err, "{line} | {src}");
    let _ = writeln!(err, "{:width$} | {:>col$}", "", "^");
}

/// At most [`changegate::MAX_QUOTE_CHARS`] characters of `line` around the 1-based column
/// `col` (counted in characters), and the column within that excerpt.
fn excerpt(line: &str, col: usize) -> (String, usize) {
    const MAX: usize = changegate::MAX_QUOTE_CHARS;
    let chars = line.chars().count();
    if chars <= MAX {
        return (line.to_owned(), col);
    }
    let first = col.saturating_sub(MAX / 2).min(chars - MAX);
    let mut text: String = line.chars().skip(first).take(MAX).collect();
    let mut col = col - first;
    if first > 0 {
        text.insert_str(0, "...");
        col += 3;
    }
    if first + MAX < chars {
        text.push_str("...");
    }
    (text, col)
}
