//! `changegate preview`: the next occurrences of every blackout and preferred window.

use std::path::PathBuf;

use clap::Args;

use crate::exit;
use crate::input::{LimitArgs, instant_arg, load_policy};
use crate::render::{Format, print, print_json};

#[derive(Args)]
pub(crate) struct PreviewArgs {
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
    #[command(flatten)]
    limits: LimitArgs,
}

/// Always 0 once the policy is read.
pub(crate) fn run(args: &PreviewArgs) -> crate::CommandResult {
    let from = instant_arg(args.from.as_deref(), "--from")?;
    let policy = load_policy(args.policy.as_deref(), &args.limits.limits())?;
    let previews = policy.preview(from, args.count);
    match args.format {
        Format::Json => print_json(&changegate::preview_to_json(from, &previews)),
        Format::Text => print(&changegate::preview_to_text(&previews)),
    }
    Ok(exit::OK)
}
