//! `changegate validate [BUNDLE]`: loads a bundle (every load error is exit 2, with file, line,
//! column and field) and lints it (docs/policy-authoring.md, "Validate"): exit 1 when a lint is
//! an error, 0 otherwise (warnings and infos are printed).

use std::path::PathBuf;

use changegate::{Lint, LintSeverity};
use clap::Args;

use crate::input::{LimitArgs, instant_arg, load_policy};
use crate::render::{Format, print, print_json};

#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// A bundle directory (policy.yaml, *.rhai, *.ics, directory.yaml); the built-in bundle if
    /// absent.
    bundle: Option<PathBuf>,
    /// The instant windows are judged from (a blackout that covers the next year, a preferred
    /// window that never opens in it), RFC 3339 with an offset; the system clock if absent.
    #[arg(long)]
    now: Option<String>,
    /// Output format: one line per lint, or one JSON object `{lints, errors, warnings, infos}`.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(crate) fn run(args: &ValidateArgs) -> crate::CommandResult {
    let limits = args.limits.limits();
    let now = instant_arg(args.now.as_deref(), "--now")?;
    let policy = load_policy(args.bundle.as_deref(), &limits)?;
    let lints = policy.lint(now);
    let count = |s: LintSeverity| lints.iter().filter(|l| l.severity == s).count();
    let (errors, warnings, infos) = (
        count(LintSeverity::Error),
        count(LintSeverity::Warning),
        count(LintSeverity::Info),
    );
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "lints": lints.iter().map(Lint::to_json).collect::<Vec<_>>(),
            "errors": errors,
            "warnings": warnings,
            "infos": infos,
            "policy": {"digest": policy.digest()},
        })),
        Format::Text => {
            let mut out = String::new();
            for lint in &lints {
                out.push_str(&lint.to_string());
                out.push('\n');
            }
            let name = args.bundle.as_ref().map_or_else(
                || "the built-in bundle".to_owned(),
                |b| b.display().to_string(),
            );
            out.push_str(&format!(
                "{name}: loads; {errors} error(s), {warnings} warning(s), {infos} info(s)\n"
            ));
            print(&out);
        }
    }
    Ok(if errors > 0 {
        crate::exit::DENIED
    } else {
        crate::exit::OK
    })
}
