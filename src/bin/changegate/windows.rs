//! `changegate windows`: the next start times at which the whole request would be allowed.

use clap::Args;

use crate::exit;
use crate::input::{Inputs, Loaded, invalid};
use crate::render::{Format, print, print_json};

#[derive(Args)]
pub(crate) struct WindowsArgs {
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
}

/// 0 when at least one window was found, 1 when none.
pub(crate) fn run(args: &WindowsArgs) -> crate::CommandResult {
    let horizon = changegate::time::parse_duration(&args.horizon)
        .map_err(|e| invalid("--horizon", e.to_string()))?;
    if args.count == 0 {
        return Err(invalid("--count", "`--count` must be at least 1".into()));
    }
    let Loaded {
        now,
        policy,
        request,
        calendar,
    } = args.inputs.load()?;
    let answer = policy.next_windows(&request, &calendar, now, args.count, horizon);
    match args.format {
        Format::Json => print_json(&serde_json::to_value(&answer).unwrap_or_default()),
        Format::Text => print(&answer.to_text(&request)),
    }
    Ok(if answer.windows.is_empty() {
        exit::DENIED
    } else {
        exit::OK
    })
}
