//! Reading a policy test case (`tests/cases/**/*.yaml`, see [`crate::testing`]): the YAML part of
//! the case runner, kept here because only `config` imports the YAML crate.
//!
//! Self-contained on purpose: it uses the parent module's position finder ([`super::locate`],
//! [`super::Seg`]) and document reader ([`super::from_yaml`]) and the public request and calendar
//! parsers, nothing else of `config`.
//!
//! The request and calendar of a case are sub-documents. Each is written back out as YAML text
//! (a string is taken as is) and read by [`ChangeRequest::from_yaml`] and
//! [`Calendar::from_yaml`], so the real input parsers are exercised; an error they report is
//! then moved into the case file: its field gets the `request.` or `calendar.` prefix and its
//! line and column are those of the field in the case file.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::yaml::{Seg, from_yaml, locate};
use crate::calendar::Calendar;
use crate::error::{InputError, Location};
use crate::evidence::{Evidence, ValidationResults};
use crate::history::History;
use crate::model::{
    Approval, ChangeRequest, Directory, Event, Measurement, RiskLevel, RollbackDone,
};
use crate::telemetry::Telemetry;
use crate::testing::{CaseCheck, Expectation, ExpectedApprovals, ExpectedFinding, ExpectedRisk};
use crate::time::parse_instant;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseDoc {
    description: String,
    #[serde(default)]
    policy: Option<String>,
    now: String,
    request: yaml::Value,
    #[serde(default)]
    calendar: Option<yaml::Value>,
    #[serde(default)]
    check: Option<CheckDoc>,
    #[serde(default)]
    validation: Option<yaml::Value>,
    #[serde(default)]
    history: Option<yaml::Value>,
    #[serde(default)]
    approvals: Option<yaml::Value>,
    #[serde(default)]
    directory: Option<yaml::Value>,
    #[serde(default)]
    risk_level: Option<String>,
    #[serde(default)]
    measurements: Option<yaml::Value>,
    #[serde(default)]
    baseline: Option<yaml::Value>,
    #[serde(default)]
    events: Option<yaml::Value>,
    #[serde(default)]
    rollbacks: Option<yaml::Value>,
    expect: ExpectDoc,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum CheckDoc {
    Schedule,
    Risk,
    Approvals,
    Readiness,
    Gates,
    Rollback,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalsExpectDoc {
    state: Option<String>,
    rules: Option<BTreeMap<String, String>>,
    used: Option<Vec<String>>,
    ignored: Option<BTreeMap<String, String>>,
    deadline: Option<String>,
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskExpectDoc {
    score: Option<u64>,
    level: Option<String>,
    factors: Option<BTreeMap<String, u64>>,
    missing: Option<Vec<String>>,
    #[serde(rename = "override")]
    override_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectDoc {
    outcome: String,
    #[serde(default)]
    findings: Option<Vec<ExpectFindingDoc>>,
    #[serde(default)]
    includes: Option<Vec<ExpectFindingDoc>>,
    #[serde(default)]
    absent: Option<Vec<String>>,
    #[serde(default)]
    trace: Option<Vec<String>>,
    #[serde(default)]
    risk: Option<RiskExpectDoc>,
    #[serde(default)]
    approvals: Option<ApprovalsExpectDoc>,
    #[serde(default)]
    details: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFindingDoc {
    rule: String,
    severity: String,
    #[serde(default)]
    details: Option<serde_json::Value>,
    #[serde(default)]
    message_contains: Option<OneOrMany>,
    #[serde(default)]
    source: Option<String>,
}

/// A case file, read and validated; the policy is still a path as written (relative to the
/// case file), resolved by the runner.
pub(crate) struct CaseFile {
    pub(crate) description: String,
    pub(crate) policy: Option<String>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) request: ChangeRequest,
    pub(crate) calendar: Calendar,
    /// The question the case asks.
    pub(crate) check: CaseCheck,
    pub(crate) evidence: Evidence,
    /// The measurements, baseline, events and rollbacks of a gates or rollback case.
    pub(crate) telemetry: Telemetry,
    pub(crate) expect: Expectation,
}

struct CaseCtx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl CaseCtx<'_> {
    fn error(&self, path: &[Seg], field: &str, message: String) -> InputError {
        InputError {
            location: Location::new(self.origin, locate(self.text, path)),
            field: Some(field.to_owned()),
            message,
        }
    }

    /// Moves an error of the request or calendar parser (`what`) into the case file.
    fn relocate(&self, what: &str, err: InputError) -> InputError {
        let field = err.field.as_deref().unwrap_or("");
        let parts = split_field(field);
        let mut path = vec![Seg::Key(what)];
        path.extend(parts.iter().map(|p| match p {
            Part::Key(k) => Seg::Key(k),
            Part::Index(i) => Seg::Index(*i),
        }));
        let field = if field.is_empty() {
            what.to_owned()
        } else if field.starts_with('[') {
            // A list's items follow its name without a dot: `measurements[1].value`.
            format!("{what}{field}")
        } else {
            format!("{what}.{field}")
        };
        InputError {
            location: Location::new(self.origin, locate(self.text, &path)),
            field: Some(field),
            message: err.message,
        }
    }

    /// A sub-document as text for the real parsers: a string is taken as is, anything else is
    /// written back out as YAML.
    fn sub_document(&self, key: &str, value: &yaml::Value) -> Result<String, InputError> {
        match value {
            yaml::Value::String(s) => Ok(s.clone()),
            other => yaml::to_string(other).map_err(|e| {
                self.error(
                    &[Seg::Key(key)],
                    key,
                    format!("`{key}` cannot be read as a document: {e}"),
                )
            }),
        }
    }
}

enum Part<'a> {
    Key(&'a str),
    Index(usize),
}

/// `deployments[3].start` -> `deployments`, `3`, `start` (the form of [`InputError::field`]).
fn split_field(field: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    for piece in field.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = piece.split_once('[').map_or((piece, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            parts.push(Part::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            if let Ok(i) = index.parse() {
                parts.push(Part::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    parts
}

/// Reads a case file's text; `origin` (its path) is used in errors.
///
/// Unknown or missing fields, an empty description, a `now` without an offset, a request or
/// calendar that does not parse: each is an [`InputError`] naming the case file, the line and
/// column, and the field (`request.start`, `calendar.deployments[0].id`, `expect.outcome`, ...).
pub(crate) fn read_case(
    text: &str,
    origin: &str,
    limits: &super::InputLimits,
) -> Result<CaseFile, InputError> {
    let ctx = CaseCtx { text, origin };
    if text.trim().is_empty() {
        return Err(InputError {
            location: Location::new(origin, None),
            field: None,
            message: "the case is empty".into(),
        });
    }
    let doc: CaseDoc = from_yaml(text, limits).map_err(|(message, pos, field)| InputError {
        location: Location::new(origin, pos),
        field,
        message: format!("{message} in case"),
    })?;
    if doc.description.trim().is_empty() {
        return Err(ctx.error(
            &[Seg::Key("description")],
            "description",
            "the case has no description".into(),
        ));
    }
    let now = parse_instant(&doc.now)
        .map_err(|e| ctx.error(&[Seg::Key("now")], "now", e.to_string()))?
        .with_timezone(&Utc);
    let request_text = ctx.sub_document("request", &doc.request)?;
    let request =
        ChangeRequest::from_yaml(&request_text, origin).map_err(|e| ctx.relocate("request", e))?;
    let calendar = match &doc.calendar {
        None => Calendar::default(),
        Some(c) => {
            let calendar_text = ctx.sub_document("calendar", c)?;
            Calendar::from_yaml(&calendar_text, origin).map_err(|e| ctx.relocate("calendar", e))?
        }
    };
    let validation = match &doc.validation {
        None => None,
        Some(v) => {
            let text = ctx.sub_document("validation", v)?;
            Some(
                ValidationResults::from_yaml(&text, origin)
                    .map_err(|e| ctx.relocate("validation", e))?,
            )
        }
    };
    let history = match &doc.history {
        None => None,
        Some(v) => {
            let text = ctx.sub_document("history", v)?;
            Some(History::from_yaml(&text, origin).map_err(|e| ctx.relocate("history", e))?)
        }
    };
    let approvals = match &doc.approvals {
        None => Vec::new(),
        Some(v) => {
            let text = ctx.sub_document("approvals", v)?;
            Approval::list_from_yaml(&text, origin).map_err(|e| ctx.relocate("approvals", e))?
        }
    };
    let directory = match &doc.directory {
        None => None,
        Some(v) => {
            let text = ctx.sub_document("directory", v)?;
            Some(Directory::from_yaml(&text, origin).map_err(|e| ctx.relocate("directory", e))?)
        }
    };
    let risk_level = match &doc.risk_level {
        None => None,
        Some(l) => Some(RiskLevel::named(l).ok_or_else(|| {
            ctx.error(
                &[Seg::Key("risk_level")],
                "risk_level",
                format!("unknown risk level `{l}`: give low, medium, high or critical"),
            )
        })?),
    };
    let measurements = match &doc.measurements {
        None => Vec::new(),
        Some(v) => {
            let text = ctx.sub_document("measurements", v)?;
            Measurement::list_from_yaml(&text, origin)
                .map_err(|e| ctx.relocate("measurements", e))?
        }
    };
    let baseline = match &doc.baseline {
        None => Vec::new(),
        Some(v) => {
            let text = ctx.sub_document("baseline", v)?;
            Measurement::list_from_yaml(&text, origin).map_err(|e| ctx.relocate("baseline", e))?
        }
    };
    let events = match &doc.events {
        None => Vec::new(),
        Some(v) => {
            let text = ctx.sub_document("events", v)?;
            Event::list_from_yaml(&text, origin).map_err(|e| ctx.relocate("events", e))?
        }
    };
    let rollbacks = match &doc.rollbacks {
        None => Vec::new(),
        Some(v) => {
            let text = ctx.sub_document("rollbacks", v)?;
            RollbackDone::list_from_yaml(&text, origin).map_err(|e| ctx.relocate("rollbacks", e))?
        }
    };
    let telemetry = Telemetry::new(measurements)
        .with_baseline(baseline)
        .with_events(events)
        .with_rollbacks(rollbacks);
    let expected = |list: Vec<ExpectFindingDoc>| -> Vec<ExpectedFinding> {
        list.into_iter()
            .map(|f| ExpectedFinding {
                rule: f.rule,
                severity: f.severity,
                details: f.details,
                message_contains: match f.message_contains {
                    None => Vec::new(),
                    Some(OneOrMany::One(s)) => vec![s],
                    Some(OneOrMany::Many(v)) => v,
                },
                source: f.source,
            })
            .collect()
    };
    // `findings` is the exact list; absent, it means "no findings" unless the case states its
    // findings another way (`includes:` or `absent:`), as it always has.
    let exact = doc.expect.findings.is_some()
        || (doc.expect.includes.is_none() && doc.expect.absent.is_none());
    let findings = expected(doc.expect.findings.unwrap_or_default());
    let includes = expected(doc.expect.includes.unwrap_or_default());
    let absent = doc.expect.absent.unwrap_or_default();
    Ok(CaseFile {
        description: doc.description,
        policy: doc.policy,
        now,
        request,
        calendar: calendar.clone(),
        check: match doc.check {
            None | Some(CheckDoc::Schedule) => CaseCheck::Schedule,
            Some(CheckDoc::Risk) => CaseCheck::Risk,
            Some(CheckDoc::Approvals) => CaseCheck::Approvals,
            Some(CheckDoc::Readiness) => CaseCheck::Readiness,
            Some(CheckDoc::Gates) => CaseCheck::Gates,
            Some(CheckDoc::Rollback) => CaseCheck::Rollback,
        },
        telemetry,
        evidence: {
            let mut e = Evidence::new()
                .with_calendar(calendar)
                .with_approvals(approvals);
            e.validation = validation;
            e.history = history;
            e.directory = directory;
            e.risk_level = risk_level;
            e
        },
        expect: Expectation {
            outcome: doc.expect.outcome,
            findings,
            findings_exact: exact,
            includes,
            absent,
            trace: doc.expect.trace,
            risk: doc.expect.risk.map(|r| ExpectedRisk {
                score: r.score,
                level: r.level,
                factors: r.factors,
                missing: r.missing,
                override_name: r.override_name,
            }),
            approvals: doc.expect.approvals.map(|a| ExpectedApprovals {
                state: a.state,
                rules: a.rules,
                used: a.used,
                ignored: a.ignored,
                deadline: a.deadline,
                expires_at: a.expires_at,
            }),
            details: doc.expect.details,
        },
    })
}
