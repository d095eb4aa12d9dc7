//! `break_glass`: a structured emergency bypass. The policy lists the change types that may use
//! it, whether a second person from listed roles must confirm it, how long it may last and
//! which rules it bypasses. A valid break-glass turns the findings of those rules into
//! warnings marked `bypassed_by: break_glass` (never removes them) and always adds a
//! `break_glass` warning naming who, why and until when; an invalid one denies
//! (`break_glass_invalid`) and bypasses nothing.

use chrono::{DateTime, TimeDelta, Utc};

use crate::decision::{Finding, Severity};
use crate::error::quote;
use crate::model::{BreakGlass, ChangeRequest, Directory};
use crate::time::{format_duration, format_utc};

/// The id of the warning a valid break-glass leaves.
pub(crate) const ID: &str = "break_glass";
/// The id of the deny finding of an invalid break-glass.
pub(crate) const INVALID_ID: &str = "break_glass_invalid";
/// The name under which a break-glass bypasses the approval rules.
pub(crate) const APPROVALS: &str = "approvals";

/// The `break_glass:` section of an environment.
#[derive(Debug, Clone)]
pub(crate) struct BreakGlassRule {
    /// Change types that may use it.
    pub types: Vec<String>,
    /// Roles the second person must hold one of; no second person needed when empty.
    pub second_roles: Vec<String>,
    /// The longest it may last (`expires - at`).
    pub max_duration: Option<TimeDelta>,
    /// Rule ids it bypasses: `approvals` (every approval rule) and schedule rule ids
    /// (`blackout`, `advance_notice`, ...).
    pub bypasses: Vec<String>,
    /// `file:line` of `break_glass:` in policy.yaml.
    pub source: String,
}

/// A break-glass found valid: what it bypasses, and the warning it leaves.
#[derive(Debug, Clone)]
pub(crate) struct Grant<'a> {
    pub rule: &'a BreakGlassRule,
    pub break_glass: &'a BreakGlass,
}

/// Why a break-glass is not valid.
fn invalid(rule: Option<&BreakGlassRule>, bg: &BreakGlass, why: String) -> Finding {
    Finding::new(
        INVALID_ID,
        Severity::Deny,
        format!(
            "break-glass by `{}` for incident `{}` is not valid, so nothing is bypassed: {why}",
            quote(&bg.by),
            quote(&bg.incident)
        ),
        rule.map(|r| r.source.clone()),
    )
    .with_detail("by", bg.by.clone())
    .with_detail("incident", bg.incident.clone())
}

/// Checks the request's break-glass, if any, against `rule` (the environment's, if any) at
/// `now`. `Ok(None)`: no break-glass was invoked. `Ok(Some(grant))`: valid. `Err(finding)`:
/// invalid, a `break_glass_invalid` deny.
pub(crate) fn check<'a>(
    rule: Option<&'a BreakGlassRule>,
    request: &'a ChangeRequest,
    directory: &Directory,
    now: DateTime<Utc>,
) -> Result<Option<Grant<'a>>, Box<Finding>> {
    let Some(bg) = request.break_glass.as_ref() else {
        return Ok(None);
    };
    let Some(rule) = rule else {
        return Err(Box::new(invalid(
            None,
            bg,
            format!(
                "the policy allows no break-glass in environment `{}`",
                quote(&request.environment)
            ),
        )));
    };
    let (at, expires) = (bg.at.to_utc(), bg.expires.to_utc());
    let why = if !rule.types.contains(&request.change_type) {
        Some(format!(
            "change type `{}` may not use it (allowed: {})",
            quote(&request.change_type),
            listing(&rule.types)
        ))
    } else if bg.reason.trim().is_empty() || bg.incident.trim().is_empty() {
        Some("it needs a `reason` and an `incident`".to_owned())
    } else if at > now {
        Some(format!(
            "it is dated {}, after now ({})",
            at.to_rfc3339(),
            now.to_rfc3339()
        ))
    } else if expires <= now {
        Some(format!("it expired at {}", expires.to_rfc3339()))
    } else if expires <= at {
        Some("it expires before it was invoked".to_owned())
    } else if let Some(max) = rule.max_duration.filter(|m| expires - at > *m) {
        Some(format!(
            "it lasts {}, longer than the {} the policy allows",
            format_duration(expires - at),
            format_duration(max)
        ))
    } else if !rule.second_roles.is_empty() {
        match bg.second_by.as_deref() {
            None => Some(format!(
                "it needs a second person (`second_by`) holding one of {}",
                listing(&rule.second_roles)
            )),
            Some(second) if second == bg.by => {
                Some("the second person must be someone other than who invoked it".to_owned())
            }
            Some(second) if second_is_requester(request, second) => Some(format!(
                "the second person `{}` is the requester, an author or the trigger of the change",
                quote(second)
            )),
            Some(second)
                if !rule
                    .second_roles
                    .iter()
                    .any(|r| directory.has_role(second, r)) =>
            {
                Some(format!(
                    "the second person `{}` holds none of {} in the directory",
                    quote(second),
                    listing(&rule.second_roles)
                ))
            }
            Some(_) => None,
        }
    } else {
        None
    };
    match why {
        Some(why) => Err(Box::new(invalid(Some(rule), bg, why))),
        None => Ok(Some(Grant {
            rule,
            break_glass: bg,
        })),
    }
}

fn second_is_requester(request: &ChangeRequest, person: &str) -> bool {
    request.requested_by.as_deref() == Some(person)
        || request.triggered_by.as_deref() == Some(person)
        || request.authors.iter().any(|a| a == person)
}

fn listing(items: &[String]) -> String {
    let all: Vec<String> = items.iter().map(|i| format!("`{}`", quote(i))).collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}

impl Grant<'_> {
    /// Whether it bypasses the rule with this id (`approvals` stands for every approval
    /// finding).
    pub fn bypasses(&self, rule_id: &str) -> bool {
        let id = if is_approval_finding(rule_id) {
            APPROVALS
        } else {
            rule_id
        };
        self.rule.bypasses.iter().any(|b| b == id)
    }

    /// Turns the deny and pending findings of `findings` that it bypasses into warnings,
    /// marked in their message and with `details.bypassed_by`, and adds the `break_glass`
    /// warning. A rejection is never bypassed: an eligible person said no.
    pub fn apply(&self, findings: &mut Vec<Finding>) {
        let bg = self.break_glass;
        for f in findings.iter_mut() {
            if matches!(f.severity, Severity::Deny | Severity::Pending)
                && f.rule.as_str() != super::approvals::REJECTED_ID
                && self.bypasses(f.rule.as_str())
            {
                f.severity = Severity::Warn;
                f.message = format!(
                    "bypassed by break-glass (incident `{}`): {}",
                    quote(&bg.incident),
                    f.message
                );
                f.details.insert("bypassed_by".into(), ID.into());
            }
        }
        let mut warning = Finding::new(
            ID,
            Severity::Warn,
            format!(
                "break-glass invoked by `{}`{} for incident `{}`: {}; bypasses {} until {}",
                quote(&bg.by),
                bg.second_by
                    .as_deref()
                    .map(|s| format!(" (confirmed by `{}`)", quote(s)))
                    .unwrap_or_default(),
                quote(&bg.incident),
                quote(&bg.reason),
                listing(&self.rule.bypasses),
                bg.expires.to_rfc3339()
            ),
            Some(self.rule.source.clone()),
        )
        .with_detail("by", bg.by.clone())
        .with_detail("reason", bg.reason.clone())
        .with_detail("incident", bg.incident.clone())
        .with_detail("at", format_utc(bg.at.to_utc()))
        .with_detail("expires", format_utc(bg.expires.to_utc()))
        .with_detail(
            "bypasses",
            self.rule
                .bypasses
                .iter()
                .map(|b| serde_json::Value::from(b.as_str()))
                .collect::<Vec<_>>(),
        );
        if let Some(second) = &bg.second_by {
            warning = warning.with_detail("second_by", second.clone());
        }
        findings.push(warning);
    }
}

/// Whether `rule_id` is a finding of the approval rules (bypassed as `approvals`).
fn is_approval_finding(rule_id: &str) -> bool {
    use super::approvals::{ARTIFACT_ID, DEADLINE_ID, REQUIRED_ID};
    [REQUIRED_ID, DEADLINE_ID, ARTIFACT_ID].contains(&rule_id)
}
