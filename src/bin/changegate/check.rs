//! `changegate check`: the decision for one request, with `--suggest` the next allowed start
//! when it is not allowed.

use changegate::{NextWindows, Outcome};
use chrono::TimeDelta;
use clap::Args;

use crate::exit;
use crate::input::{EvidenceArgs, Inputs, Loaded};
use crate::render::{Format, print, print_json, style};

#[derive(Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// With `--validation` or `--history`, the risk level they give drives the schedule rules
    /// (`when: {risk_at_least: ...}`); without, the check is the plain schedule check.
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// When denied, also give the next allowed start (searching 90 days ahead).
    #[arg(long)]
    suggest: bool,
}

/// How far `check --suggest` looks for the next allowed start.
const SUGGEST_HORIZON_DAYS: i64 = 90;

/// The exit code of a decision: 0 allow and warn, 3 pending, 1 deny (and any outcome a later
/// version adds, until this tool learns it: fail closed).
pub(crate) fn exit_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Allow | Outcome::Warn => exit::OK,
        Outcome::Pending => exit::PENDING,
        _ => exit::DENIED,
    }
}

pub(crate) fn run(args: &CheckArgs) -> crate::CommandResult {
    let Loaded {
        now,
        policy,
        request,
        calendar,
    } = args.inputs.load()?;
    let decision = if args.evidence.given() {
        let evidence = args.evidence.load(&args.inputs.limits())?;
        policy.check_schedule_with_risk(&request, &calendar, &evidence, now)
    } else {
        policy.check_schedule(&request, &calendar, now)
    };
    // Asked only when not allowed; the base decision JSON is unchanged unless --suggest is given.
    let suggestion = (args.suggest && !decision.allowed).then(|| {
        policy.next_windows(
            &request,
            &calendar,
            now,
            1,
            TimeDelta::days(SUGGEST_HORIZON_DAYS),
        )
    });
    match args.format {
        Format::Json => {
            let mut json = decision.to_json();
            if let (true, serde_json::Value::Object(map)) = (args.suggest, &mut json) {
                map.insert("suggestion".into(), suggestion_json(suggestion.as_ref()));
            }
            print_json(&json);
        }
        Format::Text => {
            let mut text = decision.to_text(&request, style());
            if let Some(answer) = &suggestion {
                text.push_str(&suggestion_line(answer));
                text.push('\n');
            }
            print(&text);
        }
    }
    Ok(exit_code(decision.outcome))
}

/// `null` when the check was allowed; otherwise the first window (or none) and why.
fn suggestion_json(answer: Option<&NextWindows>) -> serde_json::Value {
    let Some(answer) = answer else {
        return serde_json::Value::Null;
    };
    let first = answer.windows.first();
    serde_json::json!({
        "start": first.map(|w| w.start.to_rfc3339()),
        "end": first.map(|w| w.end.to_rfc3339()),
        "horizon_days": SUGGEST_HORIZON_DAYS,
        "note": answer.note,
    })
}

fn suggestion_line(answer: &NextWindows) -> String {
    match answer.windows.first() {
        Some(w) => format!(
            "next allowed start: {} (free until {})",
            w.start.to_rfc3339(),
            w.end.to_rfc3339()
        ),
        None => format!(
            "next allowed start: none within {SUGGEST_HORIZON_DAYS} days{}",
            answer
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
    }
}
