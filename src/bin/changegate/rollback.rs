//! `changegate rollback`: should the deployment roll back, how far and by when (the `rollback`
//! question), given its measurements, events and the rollbacks already performed at `now`.

use std::path::PathBuf;

use clap::Args;

use crate::check::exit_code;
use crate::input::{LimitArgs, TelemetryArgs, instant_arg, load_policy};
use crate::render::{Format, print, print_json, style};

#[derive(Args)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    telemetry: TelemetryArgs,
    /// A bundle directory (policy.yaml, *.rhai); the built-in bundle if absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The time of the check (windows end here), RFC 3339 with an offset; the system clock if
    /// absent.
    #[arg(long)]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(crate) fn run(args: &RollbackArgs) -> crate::CommandResult {
    let limits = args.limits.limits();
    let now = instant_arg(args.now.as_deref(), "--now")?;
    let policy = load_policy(args.policy.as_deref(), &limits)?;
    let (deployment, telemetry) = args.telemetry.load(&limits)?;
    let decision = policy.check_rollback(&deployment, &telemetry, now);
    match args.format {
        Format::Json => print_json(&decision.to_json()),
        Format::Text => print(&decision.rollback_to_text(&deployment, style())),
    }
    Ok(exit_code(decision.outcome))
}
