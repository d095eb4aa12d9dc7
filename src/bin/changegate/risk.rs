//! `changegate risk`: how risky is one change, and why (the `risk` question).

use std::path::PathBuf;

use clap::Args;

use crate::check::exit_code;
use crate::input::{EvidenceArgs, LimitArgs, instant_arg, load_policy, load_request};
use crate::render::{Format, print, print_json, style};

#[derive(Args)]
pub(crate) struct RiskArgs {
    /// The request (YAML or JSON; `-` reads standard input).
    #[arg(long)]
    request: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// A bundle directory (policy.yaml, *.rhai, *.ics); the built-in bundle if absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The time of the assessment, RFC 3339 with an offset; the system clock if absent.
    #[arg(long)]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(crate) fn run(args: &RiskArgs) -> crate::CommandResult {
    let limits = args.limits.limits();
    let now = instant_arg(args.now.as_deref(), "--now")?;
    let policy = load_policy(args.policy.as_deref(), &limits)?;
    let request = load_request(&args.request, &limits)?;
    let evidence = args.evidence.load(&limits)?;
    let decision = policy.assess_risk(&request, &evidence, now);
    match args.format {
        Format::Json => print_json(&decision.to_json()),
        Format::Text => print(&decision.risk_to_text(&request, style())),
    }
    Ok(exit_code(decision.outcome))
}
