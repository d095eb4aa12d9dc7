//! Input documents: a request and a calendar (deployments and one-off blackouts), read into
//! [`ChangeRequest`] and [`Calendar`]. Times and durations are read as text and checked here,
//! so that an error names the field and its line.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, TimeDelta};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::evidence::{ApprovalDoc, BreakGlassDoc};
use super::limits::{InputLimits, strip_bom};
use super::schema::{DurationText, InstantText};
use super::yaml::{Seg, from_yaml, locate, path_string};
use crate::calendar::Calendar;
use crate::error::{InputError, Location, bound_message, quote};
use crate::model::{Blackout, ChangeRequest, DeploymentId};
use crate::time::{parse_duration, parse_instant};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RequestDoc {
    pub(super) id: String,
    pub(super) services: Option<Vec<String>>,
    pub(super) service: Option<String>,
    pub(super) environment: String,
    #[serde(rename = "type")]
    pub(super) change_type: String,
    // Times and durations are read as text and checked in `InputCtx::request`, so that an
    // error names the field and its line (serde would only name the enclosing mapping).
    #[schemars(with = "InstantText")]
    pub(super) start: String,
    #[schemars(with = "Option<DurationText>")]
    pub(super) duration: Option<String>,
    #[schemars(with = "Option<InstantText>")]
    pub(super) end: Option<String>,
    pub(super) requested_by: Option<String>,
    #[schemars(with = "Option<InstantText>")]
    pub(super) requested_at: Option<String>,
    #[serde(default)]
    pub(super) depends_on: Vec<String>,
    #[serde(default)]
    pub(super) labels: BTreeMap<String, serde_json::Value>,
    pub(super) artifact: Option<String>,
    #[serde(default)]
    pub(super) authors: Vec<String>,
    pub(super) triggered_by: Option<String>,
    #[serde(default)]
    pub(super) approvals: Vec<ApprovalDoc>,
    pub(super) break_glass: Option<BreakGlassDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BlackoutDoc {
    name: String,
    #[schemars(with = "InstantText")]
    from: String,
    #[schemars(with = "InstantText")]
    to: String,
    environments: Option<Vec<String>>,
    services: Option<Vec<String>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CalendarDoc {
    #[serde(default)]
    deployments: Vec<RequestDoc>,
    #[serde(default)]
    blackouts: Vec<BlackoutDoc>,
}

pub(super) struct InputCtx<'a> {
    pub(super) text: &'a str,
    pub(super) origin: &'a str,
    pub(super) limits: &'a InputLimits,
}

impl<'a> InputCtx<'a> {
    /// A context for `text` (a leading byte order mark skipped).
    pub(super) fn new(text: &'a str, origin: &'a str, limits: &'a InputLimits) -> Self {
        Self {
            text: strip_bom(text),
            origin,
            limits,
        }
    }

    pub(super) fn error(&self, path: &[Seg], message: String) -> InputError {
        InputError {
            location: Location::new(self.origin, locate(self.text, path)),
            field: Some(path_string(path)),
            message: bound_message(message),
        }
    }

    pub(super) fn parse<T: DeserializeOwned>(&self, what: &str) -> Result<T, InputError> {
        if self.text.trim().is_empty() {
            return Err(InputError {
                location: Location::new(self.origin, None),
                field: None,
                message: format!("the {what} is empty"),
            });
        }
        from_yaml(self.text, self.limits).map_err(|(message, pos, field)| InputError {
            location: Location::new(self.origin, pos),
            field,
            message: format!("{message} in {what}"),
        })
    }

    pub(super) fn instant(
        &self,
        path: &[Seg],
        text: &str,
    ) -> Result<DateTime<FixedOffset>, InputError> {
        parse_instant(text).map_err(|e| self.error(path, e.to_string()))
    }

    pub(super) fn request(
        &self,
        doc: RequestDoc,
        base: &[Seg],
    ) -> Result<ChangeRequest, InputError> {
        let at = |key| [base, &[Seg::Key(key)]].concat();
        let services = match (doc.services, doc.service) {
            (Some(_), Some(_)) => {
                return Err(self.error(
                    &at("service"),
                    "give either `services` or `service`, not both".into(),
                ));
            }
            (Some(s), None) => s,
            (None, Some(s)) => vec![s],
            (None, None) => {
                return Err(self.error(
                    &at("services"),
                    "missing field `services` (or its shorthand `service`)".into(),
                ));
            }
        };
        if services.is_empty() || services.iter().any(|s| s.trim().is_empty()) {
            return Err(self.error(
                &at("services"),
                "`services` must name at least one service, and no name may be empty".into(),
            ));
        }
        if doc.id.trim().is_empty() {
            return Err(self.error(&at("id"), "`id` must not be empty".into()));
        }
        let start = self.instant(&at("start"), &doc.start)?;
        let doc_has_end = doc.end.is_some();
        let duration = match (doc.duration, doc.end) {
            (Some(_), Some(_)) => {
                return Err(self.error(
                    &at("end"),
                    "give either `duration` or `end`, not both".into(),
                ));
            }
            (Some(d), None) => {
                parse_duration(&d).map_err(|e| self.error(&at("duration"), e.to_string()))?
            }
            (None, Some(end)) => {
                let end = self.instant(&at("end"), &end)?;
                let d = end - start;
                if d <= TimeDelta::zero() {
                    return Err(self.error(
                        &at("end"),
                        format!(
                            "`end` {} is not after `start` {}",
                            end.to_rfc3339(),
                            start.to_rfc3339()
                        ),
                    ));
                }
                d
            }
            (None, None) => {
                return Err(self.error(
                    &at("duration"),
                    "missing field `duration` (or `end`)".into(),
                ));
            }
        };
        if let Some(i) = doc.depends_on.iter().position(|d| *d == doc.id) {
            return Err(self.error(
                &[base, &[Seg::Key("depends_on"), Seg::Index(i)]].concat(),
                format!(
                    "`depends_on` names the request itself (`{}`); a change cannot depend on itself",
                    quote(&doc.id)
                ),
            ));
        }
        if start
            .to_utc()
            .checked_add_signed(duration)
            .is_none_or(|end| end > crate::time::last_writable())
        {
            return Err(self.error(
                &at(if doc_has_end { "end" } else { "duration" }),
                format!(
                    "the change would end after 9999-12-31T23:59:59Z, the last instant changegate \
                     reads and writes (it starts at {})",
                    start.to_rfc3339()
                ),
            ));
        }
        let mut approvals = Vec::with_capacity(doc.approvals.len());
        for (i, a) in doc.approvals.into_iter().enumerate() {
            let path = [base, &[Seg::Key("approvals"), Seg::Index(i)]].concat();
            approvals.push(self.approval(a, &path)?);
        }
        let break_glass = doc
            .break_glass
            .map(|b| self.break_glass(b, &at("break_glass")))
            .transpose()?;
        Ok(ChangeRequest {
            id: DeploymentId::from(doc.id),
            services,
            environment: doc.environment,
            change_type: doc.change_type,
            start,
            duration,
            requested_by: doc.requested_by,
            requested_at: doc
                .requested_at
                .map(|t| self.instant(&at("requested_at"), &t))
                .transpose()?,
            depends_on: doc.depends_on.into_iter().map(DeploymentId::from).collect(),
            labels: doc.labels,
            artifact: doc.artifact,
            authors: doc.authors,
            triggered_by: doc.triggered_by,
            approvals,
            break_glass,
        })
    }

    /// Reads a calendar document and indexes it.
    pub(super) fn calendar(&self) -> Result<Calendar, InputError> {
        if self.text.trim().is_empty() {
            return Ok(Calendar::default());
        }
        let doc: CalendarDoc = self.parse("calendar")?;
        let mut deployments = Vec::with_capacity(doc.deployments.len());
        for (i, d) in doc.deployments.into_iter().enumerate() {
            deployments.push(self.request(d, &[Seg::Key("deployments"), Seg::Index(i)])?);
        }
        let mut blackouts = Vec::with_capacity(doc.blackouts.len());
        for (i, b) in doc.blackouts.into_iter().enumerate() {
            let at = |key| [Seg::Key("blackouts"), Seg::Index(i), Seg::Key(key)];
            let (from, to) = (
                self.instant(&at("from"), &b.from)?,
                self.instant(&at("to"), &b.to)?,
            );
            if to <= from {
                return Err(self.error(
                    &[Seg::Key("blackouts"), Seg::Index(i), Seg::Key("to")],
                    format!("blackout `{}` ends before it starts", b.name),
                ));
            }
            blackouts.push(Blackout {
                name: b.name,
                from,
                to,
                environments: b.environments,
                services: b.services,
            });
        }
        Calendar::new(deployments, blackouts).map_err(|dup| {
            self.error(
                &[
                    Seg::Key("deployments"),
                    Seg::Index(dup.index),
                    Seg::Key("id"),
                ],
                format!("deployment id `{}` appears more than once", dup.id),
            )
        })
    }
}

impl InputCtx<'_> {
    /// Reads a calendar and checks that every environment its deployments and blackouts name
    /// is one of `known` (the policy's): an unknown one (`prod` for `production`) is an error
    /// with a "did you mean", rather than an entry that silently never applies.
    pub(super) fn calendar_for(&self, known: &[&str]) -> Result<Calendar, InputError> {
        let calendar = self.calendar()?;
        match first_unknown_environment(&calendar, known) {
            Some((env, path)) => Err(self.error(&path, unknown_environment(env, known))),
            None => Ok(calendar),
        }
    }
}

/// The first deployment or blackout of `calendar` (in that order, each in the order given)
/// naming an environment not in `known`: the environment and the path of its field.
pub(super) fn first_unknown_environment<'c>(
    calendar: &'c Calendar,
    known: &[&str],
) -> Option<(&'c str, Vec<Seg<'static>>)> {
    for (i, d) in calendar.deployments().iter().enumerate() {
        if !known.contains(&d.environment.as_str()) {
            let path = vec![
                Seg::Key("deployments"),
                Seg::Index(i),
                Seg::Key("environment"),
            ];
            return Some((&d.environment, path));
        }
    }
    for (i, b) in calendar.blackouts().iter().enumerate() {
        for (j, env) in b.environments.iter().flatten().enumerate() {
            if !known.contains(&env.as_str()) {
                let path = vec![
                    Seg::Key("blackouts"),
                    Seg::Index(i),
                    Seg::Key("environments"),
                    Seg::Index(j),
                ];
                return Some((env, path));
            }
        }
    }
    None
}

/// The message for a calendar entry naming `env`, which is not in `known`, with a "did you
/// mean".
pub(super) fn unknown_environment(env: &str, known: &[&str]) -> String {
    let hint = crate::rules::environment::suggest(env, known)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    format!(
        "environment `{}` is not in the policy{hint}; it knows {}",
        quote(env),
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    )
}

/// Checks that every environment `calendar` names is in `known`, see
/// [`crate::PolicySet::check_calendar`]; the error has no line (the calendar may not come from
/// text) but names the field.
pub(crate) fn check_calendar(calendar: &Calendar, known: &[&str]) -> Result<(), InputError> {
    match first_unknown_environment(calendar, known) {
        None => Ok(()),
        Some((env, path)) => Err(InputError {
            location: Location::new("<calendar>", None),
            field: Some(path_string(&path)),
            message: bound_message(unknown_environment(env, known)),
        }),
    }
}
