//! The `changegate` command-line tool: a thin face over the library.
//!
//! `main` parses the arguments and dispatches to one module per subcommand; each returns its
//! exit code, or an [`Invalid`] input that [`input::report`] prints. Exit codes:
//! - `check`, `risk`, `approvals`, `evaluate`, `gates` and `rollback`: 0 allowed (warnings
//!   included), 1 denied (for `rollback`: roll back), 3 pending (not allowed yet: more evidence
//!   can allow it; for `gates` and `rollback`: keep watching);
//! - `monitor`: 1 at the first rollback decision, 0 at the end of the input;
//! - `windows`: 0 when at least one window was found, 1 when none;
//! - `preview`: 0;
//! - `test`: 0 every case passed, 1 a case failed or coverage is below `--min-coverage`;
//! - every command: 2 on invalid input or policy.

mod approvals;
mod check;
mod gates;
mod input;
mod monitor;
mod preview;
mod render;
mod risk;
mod rollback;
mod test;
mod windows;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::input::Invalid;

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

#[derive(Subcommand)]
enum Command {
    /// Check a deployment request against the schedule rules of a policy bundle.
    Check(check::CheckArgs),
    /// How risky is a change, and why: the level, score and factors from its validation
    /// results and the history of past changes (missing evidence scores as its maximum).
    Risk(risk::RiskArgs),
    /// Do the approvals given satisfy the policy? Each rule as satisfied, pending or denied,
    /// with who approved, who may still approve, and every vote ignored with its reason
    /// (exit 3 while approvals are pending).
    Approvals(approvals::ApprovalsArgs),
    /// May the change start now? Schedule, risk and approvals in one decision (exit 3 while
    /// approvals are pending).
    Evaluate(approvals::EvaluateArgs),
    /// Is the deployment healthy enough to continue or promote? Each SLO gate of the policy
    /// (an aggregate of a metric over a window ending at `--now`, against its thresholds) as
    /// pass, warn, fail or inconclusive, and the weighted score (exit 3 while inconclusive).
    Gates(gates::GatesArgs),
    /// Should the deployment roll back, how far and by when? Each rollback trigger as firing,
    /// holding, clear or inconclusive, the level demanded and its deadline (exit 1: roll back;
    /// exit 3: keep watching).
    Rollback(rollback::RollbackArgs),
    /// Watch a deployment: read measurements, events and rollbacks performed as JSON lines
    /// from stdin and print a line each time the rollback decision changes (exit 1 at the
    /// first rollback decision).
    Monitor(monitor::MonitorArgs),
    /// When can I deploy? The next start times at which the whole request would be allowed
    /// (the request's duration, services, environment and type count; its start does not).
    Windows(windows::WindowsArgs),
    /// The next occurrences of every blackout and preferred window, in local time and UTC.
    Preview(preview::PreviewArgs),
    /// Run a bundle's own tests (`tests/**/*.yaml` inside it) and, with `--coverage`, report
    /// what they exercised (exit 1: a case failed or coverage is below `--min-coverage`).
    Test(test::TestArgs),
}

/// The exit codes the commands share.
mod exit {
    /// Allowed (warnings included), or the answer asked for was found.
    pub(crate) const OK: u8 = 0;
    /// Denied, or nothing found.
    pub(crate) const DENIED: u8 = 1;
    /// Invalid input or policy: nothing was decided.
    pub(crate) const INVALID: u8 = 2;
    /// Pending: not allowed yet; more evidence can allow it.
    pub(crate) const PENDING: u8 = 3;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Check(args) => check::run(args),
        Command::Risk(args) => risk::run(args),
        Command::Approvals(args) => approvals::run(args),
        Command::Evaluate(args) => approvals::run_evaluate(args),
        Command::Gates(args) => gates::run(args),
        Command::Rollback(args) => rollback::run(args),
        Command::Monitor(args) => monitor::run(args),
        Command::Windows(args) => windows::run(args),
        Command::Preview(args) => preview::run(args),
        Command::Test(args) => test::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(invalid) => {
            input::report(&invalid);
            ExitCode::from(exit::INVALID)
        }
    }
}

/// What a command returns: its exit code, or why nothing was decided.
type CommandResult = Result<u8, Invalid>;
