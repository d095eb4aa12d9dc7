//! The policy document's schema: `timezone`, `description` and `environments`, each
//! environment read into an [`EnvironmentPolicy`] (its schedule rules and one field per other
//! section: `validation:`, `risk:`, `approvals:`, `break_glass:`, `gates:`, `rollback:`).

use std::collections::BTreeMap;

use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::Deserialize;

use super::approvals::{ApprovalsDoc, BreakGlassDoc};
use super::gates::GatesDoc;
use super::risk::RiskDoc;
use super::rollback::RollbackDoc;
use super::schedule::{
    ConcurrencyDoc, MaxDurationDoc, NoticeDoc, PreferredDoc, ScheduleDoc, ToggleDoc,
};
use super::schema::ZoneText;
use super::validation::ValidationDoc;
use super::windows::WindowDoc;
use super::yaml::{Seg, locate, path_string};
use crate::error::{LoadError, LoadErrorKind, Location};
use crate::rules::Rule;
use crate::rules::approvals::ApprovalRules;
use crate::rules::break_glass::BreakGlassRule;
use crate::rules::gates::GateRules;
use crate::rules::risk::{RiskRules, RiskSchedule};
use crate::rules::rollback::RollbackRules;
use crate::rules::schedule::ScheduleRules;
use crate::rules::validation::ValidationRules;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyDoc {
    #[schemars(with = "ZoneText")]
    pub(super) timezone: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) environments: BTreeMap<String, EnvDoc>,
}

/// One environment of `policy.yaml`.
///
/// The schedule keys sit directly under the environment (that is how bundles are written, and
/// serde cannot combine `flatten` with `deny_unknown_fields`), so they are fields here and
/// handed to [`PolicyCtx::schedule`] as a [`ScheduleDoc`]. The sections of the other questions
/// are nested, one key each, as `Option<...Doc>` fields (`validation:`, `risk:`, `approvals:`,
/// `break_glass:`, `gates:`, `rollback:`); an unknown key stays an error.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EnvDoc {
    advance_notice: Option<NoticeDoc>,
    max_duration: Option<MaxDurationDoc>,
    #[serde(default)]
    blackouts: Vec<WindowDoc>,
    preferred_window: Option<PreferredDoc>,
    conflicts: Option<ToggleDoc>,
    concurrency: Option<ConcurrencyDoc>,
    dependencies: Option<ToggleDoc>,
    validation: Option<ValidationDoc>,
    risk: Option<RiskDoc>,
    approvals: Option<ApprovalsDoc>,
    break_glass: Option<BreakGlassDoc>,
    gates: Option<GatesDoc>,
    rollback: Option<RollbackDoc>,
}

/// The sections of an environment other than the schedule, one field each.
struct Sections {
    validation: Option<ValidationDoc>,
    risk: Option<RiskDoc>,
    approvals: Option<ApprovalsDoc>,
    break_glass: Option<BreakGlassDoc>,
    gates: Option<GatesDoc>,
    rollback: Option<RollbackDoc>,
}

impl EnvDoc {
    /// The schedule section of the environment, and the other sections (`validation:`,
    /// `risk:`, `approvals:`, `break_glass:`, `gates:`, `rollback:`).
    fn split(self) -> (ScheduleDoc, Sections) {
        let schedule = ScheduleDoc {
            advance_notice: self.advance_notice,
            max_duration: self.max_duration,
            blackouts: self.blackouts,
            preferred_window: self.preferred_window,
            conflicts: self.conflicts,
            concurrency: self.concurrency,
            dependencies: self.dependencies,
        };
        let sections = Sections {
            validation: self.validation,
            risk: self.risk,
            approvals: self.approvals,
            break_glass: self.break_glass,
            gates: self.gates,
            rollback: self.rollback,
        };
        (schedule, sections)
    }
}

/// The validated content of `policy.yaml`.
#[derive(Debug, Clone)]
pub(crate) struct PolicyConfig {
    pub timezone: Tz,
    pub environments: BTreeMap<String, EnvironmentPolicy>,
    /// `file:line` of the `environments:` key, the source of `unknown_environment` findings.
    pub environments_source: String,
}

pub(super) struct PolicyCtx<'a> {
    pub(super) text: &'a str,
    pub(super) origin: &'a str,
    pub(super) bundle: &'a BundleFiles<'a>,
}

/// The other files of a bundle that `policy.yaml` may name (`ics: holidays.ics`): bundle-relative
/// name -> (name in errors, text).
pub(crate) type BundleFiles<'a> = BTreeMap<&'a str, (String, &'a str)>;

impl PolicyCtx<'_> {
    pub(super) fn error(&self, path: &[Seg], message: String) -> LoadError {
        LoadError {
            kind: LoadErrorKind::Config,
            location: Location::new(self.origin, locate(self.text, path)),
            field: Some(path_string(path)),
            message: crate::error::bound_message(message),
        }
    }

    pub(super) fn source(&self, path: &[Seg]) -> String {
        match locate(self.text, path) {
            Some((line, _)) => format!("{}:{line}", self.origin),
            None => self.origin.to_owned(),
        }
    }

    pub(super) fn zone(&self, name: &str, path: &[Seg]) -> Result<Tz, LoadError> {
        name.parse::<Tz>().map_err(|_| {
            self.error(
                path,
                format!(
                    "unknown time zone `{name}`, expected an IANA name such as `Europe/Berlin`"
                ),
            )
        })
    }

    pub(super) fn rule<T>(&self, value: T, exempt_types: Vec<String>, path: &[Seg]) -> Rule<T> {
        Rule {
            value,
            exempt_types,
            source: self.source(path),
        }
    }
}

/// What the policy says about one environment, one field per question.
///
/// Each question's rules are a field of their own (each read from its nested section of the
/// environment, see `EnvDoc`), so that code asking one question reads one field.
#[derive(Debug, Clone)]
pub(crate) struct EnvironmentPolicy {
    /// The schedule rules (`advance_notice`, `blackouts`, ...).
    pub schedule: ScheduleRules,
    /// How the risk level tightens the schedule rules (`stricter:`).
    pub schedule_risk: RiskSchedule,
    /// The required validation categories (`validation:`); none when absent.
    pub validation: ValidationRules,
    /// The risk factors (`risk:`); every change is `low` when absent.
    pub risk: Option<RiskRules>,
    /// The approval rules (`approvals:`); no approval is needed when absent.
    pub approvals: Option<std::sync::Arc<ApprovalRules>>,
    /// `break_glass:`: who may bypass which rules in an emergency; none when absent.
    pub break_glass: Option<BreakGlassRule>,
    /// The SLO gates (`gates:`); none when absent.
    pub gates: Option<std::sync::Arc<GateRules>>,
    /// The rollback levels and triggers (`rollback:`); none when absent.
    pub rollback: Option<std::sync::Arc<RollbackRules>>,
}

impl PolicyCtx<'_> {
    /// Reads the policy document.
    pub(super) fn policy(&self, doc: PolicyDoc) -> Result<PolicyConfig, LoadError> {
        let _ = doc.description;
        let timezone = self.zone(&doc.timezone, &[Seg::Key("timezone")])?;
        let mut environments = BTreeMap::new();
        for (name, env) in doc.environments {
            let (schedule, sections) = env.split();
            let (schedule, schedule_risk) = self.schedule(&name, schedule, timezone)?;
            let validation = sections
                .validation
                .map(|v| self.validation(&name, v))
                .transpose()?
                .unwrap_or_default();
            let risk = sections
                .risk
                .map(|r| self.risk(&name, r, timezone))
                .transpose()?;
            let approvals = sections
                .approvals
                .map(|a| self.approvals(&name, a).map(std::sync::Arc::new))
                .transpose()?;
            let break_glass = sections
                .break_glass
                .map(|b| self.break_glass(&name, b))
                .transpose()?;
            let gates = sections
                .gates
                .map(|g| self.gates(&name, g).map(std::sync::Arc::new))
                .transpose()?;
            let rollback = sections
                .rollback
                .map(|r| self.rollback(&name, r).map(std::sync::Arc::new))
                .transpose()?;
            environments.insert(
                name,
                EnvironmentPolicy {
                    schedule,
                    schedule_risk,
                    validation,
                    risk,
                    approvals,
                    break_glass,
                    gates,
                    rollback,
                },
            );
        }
        Ok(PolicyConfig {
            timezone,
            environments,
            environments_source: self.source(&[Seg::Key("environments")]),
        })
    }
}
