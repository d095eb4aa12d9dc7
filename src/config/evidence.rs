//! Evidence documents of the risk question: validation results and the history of past
//! changes, read with the same reader, limits and error quality as requests (file, line,
//! column and field; unknown fields rejected).
//!
//! Validation results are a list:
//! `[{category, check, status?, value?, at, url?}]` (at least one of `status` and `value`).
//! A history is `changes:`, each a calendar deployment plus `outcome` and optional
//! `incidents: [{severity: p1..p4, at?}]`.
//!
//! The approvals question's evidence: approvals, a list `[{by, decision, at, role?, artifact?,
//! comment?, conditions?}]` (also in a request's `approvals:`, or as a document
//! `approvals: [...]`), a request's `break_glass: {by, reason, incident, at, expires,
//! second_by?}`, and a directory `people: {alice@example.com: {roles: [release]}}`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

use super::input::{InputCtx, RequestDoc};
use super::schema::{DurationText, InstantText};
use super::yaml::Seg;
use crate::error::InputError;
use crate::evidence::ValidationResults;
use crate::history::History;
use crate::model::{
    Approval, ApprovalCondition, BreakGlass, ChangeOutcome, Directory, HistoryEntry, Incident,
    IncidentSeverity, ValidationResult, ValidationStatus, Vote,
};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ResultDoc {
    category: String,
    check: String,
    status: Option<ValidationStatus>,
    value: Option<f64>,
    #[schemars(with = "InstantText")]
    at: String,
    url: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct IncidentDoc {
    severity: IncidentSeverity,
    #[schemars(with = "Option<InstantText>")]
    at: Option<String>,
}

/// A past change: the fields of a request plus `outcome` and `incidents` (serde cannot
/// combine `flatten` with `deny_unknown_fields`, so the request's fields are repeated).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangeDoc {
    id: String,
    services: Option<Vec<String>>,
    service: Option<String>,
    environment: String,
    #[serde(rename = "type")]
    change_type: String,
    #[schemars(with = "InstantText")]
    start: String,
    #[schemars(with = "Option<DurationText>")]
    duration: Option<String>,
    #[schemars(with = "Option<InstantText>")]
    end: Option<String>,
    requested_by: Option<String>,
    #[schemars(with = "Option<InstantText>")]
    requested_at: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, serde_json::Value>,
    outcome: ChangeOutcome,
    #[serde(default)]
    incidents: Vec<IncidentDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct HistoryDoc {
    #[serde(default)]
    changes: Vec<ChangeDoc>,
}

impl InputCtx<'_> {
    /// Reads a list of validation results.
    pub(super) fn validation_results(&self) -> Result<ValidationResults, InputError> {
        if self.text.trim().is_empty() {
            return Ok(ValidationResults::default());
        }
        let docs: Vec<ResultDoc> = self.parse("validation results")?;
        let mut results = Vec::with_capacity(docs.len());
        for (i, d) in docs.into_iter().enumerate() {
            let at = |key| [Seg::Index(i), Seg::Key(key)];
            for (key, text) in [("category", &d.category), ("check", &d.check)] {
                if text.trim().is_empty() {
                    return Err(self.error(&at(key), format!("`{key}` must not be empty")));
                }
            }
            if let Some(v) = d.value.filter(|v| !v.is_finite()) {
                return Err(self.error(
                    &at("value"),
                    format!("`value` must be a finite number, not `{v}`"),
                ));
            }
            if d.status.is_none() && d.value.is_none() {
                return Err(self.error(
                    &at("status"),
                    "give `status` (passed, failed, warning, skipped, error), `value`, or both"
                        .into(),
                ));
            }
            results.push(ValidationResult {
                at: self.instant(&at("at"), &d.at)?,
                category: d.category,
                check: d.check,
                status: d.status,
                value: d.value,
                url: d.url,
            });
        }
        Ok(ValidationResults::new(results))
    }

    /// Reads a history document and indexes it.
    pub(super) fn history(&self) -> Result<History, InputError> {
        if self.text.trim().is_empty() {
            return Ok(History::default());
        }
        let doc: HistoryDoc = self.parse("history")?;
        let mut entries = Vec::with_capacity(doc.changes.len());
        for (i, c) in doc.changes.into_iter().enumerate() {
            let base = [Seg::Key("changes"), Seg::Index(i)];
            let mut incidents = Vec::with_capacity(c.incidents.len());
            for (j, inc) in c.incidents.into_iter().enumerate() {
                let at = inc
                    .at
                    .map(|t| {
                        let path = [
                            &base[..],
                            &[Seg::Key("incidents"), Seg::Index(j), Seg::Key("at")],
                        ]
                        .concat();
                        self.instant(&path, &t)
                    })
                    .transpose()?;
                incidents.push(Incident::new(inc.severity, at));
            }
            let request = RequestDoc {
                id: c.id,
                services: c.services,
                service: c.service,
                environment: c.environment,
                change_type: c.change_type,
                start: c.start,
                duration: c.duration,
                end: c.end,
                requested_by: c.requested_by,
                requested_at: c.requested_at,
                depends_on: c.depends_on,
                labels: c.labels,
                artifact: None,
                authors: Vec::new(),
                triggered_by: None,
                approvals: Vec::new(),
                break_glass: None,
            };
            let change = self.request(request, &base)?;
            entries.push(HistoryEntry {
                change,
                outcome: c.outcome,
                incidents,
            });
        }
        Ok(History::new(entries))
    }
}

/// One approval or rejection as written.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ApprovalDoc {
    by: String,
    decision: Vote,
    #[schemars(with = "InstantText")]
    at: String,
    role: Option<String>,
    artifact: Option<String>,
    comment: Option<String>,
    #[serde(default)]
    conditions: Vec<ConditionDoc>,
}

/// `{validation: performance}` or `{label: ticket}`: exactly one of the two keys.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConditionDoc {
    validation: Option<String>,
    label: Option<String>,
}

/// A request's `break_glass:` as written.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BreakGlassDoc {
    by: String,
    reason: String,
    incident: String,
    #[schemars(with = "InstantText")]
    at: String,
    #[schemars(with = "InstantText")]
    expires: String,
    second_by: Option<String>,
}

/// An approvals file: a list, or a document `approvals: [...]`.
pub(super) enum ApprovalsFile {
    List(Vec<ApprovalDoc>),
    Document(ApprovalsDocument),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ApprovalsDocument {
    #[serde(default)]
    approvals: Vec<ApprovalDoc>,
}

impl<'de> Deserialize<'de> for ApprovalsFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than `#[serde(untagged)]`, so that an error inside an item keeps its
        // message and position.
        struct FileVisitor;
        impl<'de> Visitor<'de> for FileVisitor {
            type Value = ApprovalsFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of approvals, or a mapping with `approvals:`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ApprovalsFile, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(ApprovalsFile::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ApprovalsFile, A::Error> {
                ApprovalsDocument::deserialize(MapAccessDeserializer::new(map))
                    .map(ApprovalsFile::Document)
            }
        }
        d.deserialize_any(FileVisitor)
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DirectoryDoc {
    #[serde(default)]
    people: BTreeMap<String, PersonDoc>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PersonDoc {
    #[serde(default)]
    roles: Vec<String>,
}

impl InputCtx<'_> {
    /// Reads one approval; `base` is its path (`approvals[1]`, `[1]`).
    pub(super) fn approval(&self, doc: ApprovalDoc, base: &[Seg]) -> Result<Approval, InputError> {
        let at = |key| [base, &[Seg::Key(key)]].concat();
        if doc.by.trim().is_empty() {
            return Err(self.error(&at("by"), "`by` must not be empty".into()));
        }
        if doc.role.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(self.error(
                &at("role"),
                "`role` must not be empty; leave it out to vote in any role held".into(),
            ));
        }
        let mut conditions = Vec::with_capacity(doc.conditions.len());
        for (j, c) in doc.conditions.into_iter().enumerate() {
            let path = [base, &[Seg::Key("conditions"), Seg::Index(j)]].concat();
            let condition = match (c.validation, c.label) {
                (Some(v), None) => ApprovalCondition::Validation(v),
                (None, Some(l)) => ApprovalCondition::Label(l),
                _ => {
                    return Err(self.error(
                        &path,
                        "a condition is either `{validation: <category>}` or `{label: <name>}`"
                            .into(),
                    ));
                }
            };
            let (ApprovalCondition::Validation(name) | ApprovalCondition::Label(name)) = &condition;
            if name.trim().is_empty() {
                return Err(self.error(&path, "a condition must name a category or label".into()));
            }
            conditions.push(condition);
        }
        Ok(Approval {
            at: self.instant(&at("at"), &doc.at)?,
            by: doc.by,
            decision: doc.decision,
            role: doc.role,
            artifact: doc.artifact,
            comment: doc.comment,
            conditions,
        })
    }

    /// Reads a request's `break_glass:`; `base` is its path.
    pub(super) fn break_glass(
        &self,
        doc: BreakGlassDoc,
        base: &[Seg],
    ) -> Result<BreakGlass, InputError> {
        let at = |key| [base, &[Seg::Key(key)]].concat();
        if doc.by.trim().is_empty() {
            return Err(self.error(&at("by"), "`by` must not be empty".into()));
        }
        if doc
            .second_by
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(self.error(&at("second_by"), "`second_by` must not be empty".into()));
        }
        Ok(BreakGlass {
            at: self.instant(&at("at"), &doc.at)?,
            expires: self.instant(&at("expires"), &doc.expires)?,
            by: doc.by,
            reason: doc.reason,
            incident: doc.incident,
            second_by: doc.second_by,
        })
    }

    /// Reads an approvals file: a list, or a document `approvals: [...]`; an empty text is
    /// no approvals.
    pub(super) fn approvals(&self) -> Result<Vec<Approval>, InputError> {
        if self.text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let (docs, document) = match self.parse::<ApprovalsFile>("approvals")? {
            ApprovalsFile::List(docs) => (docs, false),
            ApprovalsFile::Document(d) => (d.approvals, true),
        };
        let mut approvals = Vec::with_capacity(docs.len());
        for (i, d) in docs.into_iter().enumerate() {
            let path = if document {
                vec![Seg::Key("approvals"), Seg::Index(i)]
            } else {
                vec![Seg::Index(i)]
            };
            approvals.push(self.approval(d, &path)?);
        }
        Ok(approvals)
    }

    /// Reads a directory; an empty text is an empty directory.
    pub(super) fn directory(&self) -> Result<Directory, InputError> {
        if self.text.trim().is_empty() {
            return Ok(Directory::default());
        }
        let doc: DirectoryDoc = self.parse("directory")?;
        for (person, p) in &doc.people {
            if person.trim().is_empty() {
                return Err(self.error(
                    &[Seg::Key("people")],
                    "a person's name must not be empty".into(),
                ));
            }
            if let Some(j) = p.roles.iter().position(|r| r.trim().is_empty()) {
                let path = [
                    Seg::Key("people"),
                    Seg::Key(person),
                    Seg::Key("roles"),
                    Seg::Index(j),
                ];
                let mut err = self.error(
                    &path,
                    format!("a role of `{}` is empty", crate::error::quote(person)),
                );
                // The locator reads plain keys only; an e-mail address is not one: point at
                // the person's line at least.
                if err.location.line.is_none_or(|l| l <= 1) {
                    if let Some((line, column)) = key_line(self.text, person) {
                        // Then the role within the person's block, if written block-style.
                        let block: String = self
                            .text
                            .lines()
                            .skip(line)
                            .flat_map(|l| [l, "\n"])
                            .collect();
                        let inner =
                            super::yaml::locate(&block, &[Seg::Key("roles"), Seg::Index(j)]);
                        let (line, column) = inner
                            .filter(|_| key_line(&block, "roles").is_some_and(|(l, _)| l == 1))
                            .map_or((line, column), |(l, c)| (line.saturating_add(l), c));
                        err.location.line = Some(line);
                        err.location.column = Some(column);
                    }
                }
                return Err(err);
            }
        }
        Ok(Directory::new(
            doc.people.into_iter().map(|(person, p)| (person, p.roles)),
        ))
    }
}

/// The line and column (1-based) of the first block-style key `key` (plain or quoted) in
/// `text`.
fn key_line(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let body = line.trim_start_matches(' ');
        let column = line.len() - body.len() + 1;
        let rest = body
            .strip_prefix(key)
            .or_else(|| {
                body.strip_prefix('"')
                    .and_then(|b| b.strip_prefix(key))
                    .and_then(|b| b.strip_prefix('"'))
            })
            .or_else(|| {
                body.strip_prefix('\'')
                    .and_then(|b| b.strip_prefix(key))
                    .and_then(|b| b.strip_prefix('\''))
            })?;
        rest.starts_with(':').then_some((i + 1, column))
    })
}
