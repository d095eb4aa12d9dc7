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
//! - `validate`: 1 when a lint is an error, 0 otherwise;
//! - every command: 2 on invalid input or policy (with `--format json`, the error is one JSON
//!   object `{error: {file, line, column, field, message}}` on stdout).

mod approvals;
mod check;
mod gates;
mod input;
mod meta;
mod monitor;
mod preview;
mod render;
mod risk;
mod rollback;
mod test;
mod validate;
mod windows;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::input::Invalid;

#[derive(Parser)]
#[command(
    name = "changegate",
    version,
    about = "Decide when a production change may happen and whether it may proceed",
    after_help = EXIT_CODES
)]
struct Cli {
    /// When to colour the text output: `auto` (a terminal, and `NO_COLOR` unset), `always`
    /// or `never`.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: render::Color,
    #[command(subcommand)]
    command: Command,
}

/// The exit codes, as `--help` lists them.
const EXIT_CODES: &str = "Exit codes:
  0  allowed (warnings included); found; done
  1  denied (rollback: roll back; windows: none found; validate: a lint error; test: a failure)
  2  invalid input or policy: nothing was decided (the message names file, line and field)
  3  pending: not allowed yet, more evidence can allow it (gates, rollback: keep watching)";

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
    /// Load a bundle and lint it: quorums no one can fill, windows that never open or always
    /// block, blackouts that shadow each other, likely typos (exit 1 on a lint error).
    Validate(validate::ValidateArgs),
    /// Write the default bundle and its tests into a directory, as a starting point.
    Init(meta::InitArgs),
    /// Print (or write into a directory) the JSON Schemas of the documents changegate reads and
    /// writes: policy.yaml, requests, calendars, evidence, the decision.
    Schema(meta::SchemaArgs),
    /// Print the `.d.rhai` definitions of every hook and function scripts can use, for
    /// editors and docs.
    Definitions(meta::DefinitionsArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(meta::CompletionsArgs),
    /// Print the manual page (roff; `changegate man | man -l -`).
    Man,
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
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    render::set_color(cli.color);
    // `--format json` applies to errors too: whichever subcommand has it.
    let json = matches
        .subcommand()
        .and_then(|(_, m)| m.try_get_one::<render::Format>("format").ok().flatten())
        .is_some_and(|f| *f == render::Format::Json);
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
        Command::Validate(args) => validate::run(args),
        Command::Init(args) => meta::run_init(args),
        Command::Schema(args) => meta::run_schema(args),
        Command::Definitions(args) => meta::run_definitions(args),
        Command::Completions(args) => meta::run_completions(args),
        Command::Man => meta::run_man(),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(invalid) => {
            if json {
                render::print_json(&invalid.to_json());
            } else {
                input::report(&invalid);
            }
            ExitCode::from(exit::INVALID)
        }
    }
}

/// What a command returns: its exit code, or why nothing was decided.
type CommandResult = Result<u8, Invalid>;
