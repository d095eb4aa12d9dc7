//! `changegate approvals`: do the approvals given satisfy the policy (the `approvals` question),
//! and `changegate evaluate`: may the change start now (schedule, risk and approvals together).

use std::path::PathBuf;

use clap::Args;

use crate::check::exit_code;
use crate::input::{
    ApprovalArgs, EvidenceArgs, LimitArgs, instant_arg, load_evidence, load_policy, load_request,
};
use crate::render::{Format, print, print_json, style};

#[derive(Args)]
pub(crate) struct ApprovalsArgs {
    /// The request (YAML or JSON; `-` reads standard input); its `approvals:` count, with
    /// those of `--approvals`.
    #[arg(long)]
    request: PathBuf,
    #[command(flatten)]
    approvals: ApprovalArgs,
    /// With `--validation` and `--history`, the risk level is assessed from them (rules with
    /// `when: {risk_at_least}` read it); `--risk-level` gives it instead.
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// A bundle directory (policy.yaml, *.rhai, *.ics, directory.yaml); the built-in bundle if
    /// absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The time of the check, RFC 3339 with an offset; the system clock if absent.
    #[arg(long)]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(crate) fn run(args: &ApprovalsArgs) -> crate::CommandResult {
    let limits = args.limits.limits();
    let now = instant_arg(args.now.as_deref(), "--now")?;
    let policy = load_policy(args.policy.as_deref(), &limits)?;
    let request = load_request(&args.request, &limits)?;
    let evidence = load_evidence(&args.evidence, &args.approvals, None, &policy, &limits)?;
    let decision = policy.check_approvals(&request, &evidence, now);
    match args.format {
        Format::Json => print_json(&decision.to_json()),
        Format::Text => print(&decision.approvals_to_text(&request, style())),
    }
    Ok(exit_code(decision.outcome))
}

#[derive(Args)]
pub(crate) struct EvaluateArgs {
    /// The request (YAML or JSON; `-` reads standard input).
    #[arg(long)]
    request: PathBuf,
    /// Deployments already scheduled and one-off blackouts (YAML or JSON); empty if absent.
    #[arg(long)]
    calendar: Option<PathBuf>,
    #[command(flatten)]
    evidence: EvidenceArgs,
    #[command(flatten)]
    approvals: ApprovalArgs,
    /// A bundle directory (policy.yaml, *.rhai, *.ics, directory.yaml); the built-in bundle if
    /// absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The time of the check, RFC 3339 with an offset; the system clock if absent.
    #[arg(long)]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(crate) fn run_evaluate(args: &EvaluateArgs) -> crate::CommandResult {
    let limits = args.limits.limits();
    let now = instant_arg(args.now.as_deref(), "--now")?;
    let policy = load_policy(args.policy.as_deref(), &limits)?;
    let request = load_request(&args.request, &limits)?;
    let evidence = load_evidence(
        &args.evidence,
        &args.approvals,
        args.calendar.as_deref(),
        &policy,
        &limits,
    )?;
    let decision = policy.evaluate(&request, &evidence, now);
    match args.format {
        Format::Json => print_json(&decision.to_json()),
        Format::Text => print(&decision.readiness_to_text(&request, style())),
    }
    Ok(exit_code(decision.outcome))
}
