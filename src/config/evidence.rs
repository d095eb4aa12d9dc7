//! Evidence documents of the risk question: validation results and the history of past
//! changes, read with the same reader, limits and error quality as requests (file, line,
//! column and field; unknown fields rejected).
//!
//! Validation results are a list:
//! `[{category, check, status?, value?, at, url?}]` (at least one of `status` and `value`).
//! A history is `changes:`, each a calendar deployment plus `outcome` and optional
//! `incidents: [{severity: p1..p4, at?}]`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::input::{InputCtx, RequestDoc};
use super::yaml::Seg;
use crate::error::InputError;
use crate::evidence::ValidationResults;
use crate::history::History;
use crate::model::{
    ChangeOutcome, HistoryEntry, Incident, IncidentSeverity, ValidationResult, ValidationStatus,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultDoc {
    category: String,
    check: String,
    status: Option<ValidationStatus>,
    value: Option<f64>,
    at: String,
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentDoc {
    severity: IncidentSeverity,
    at: Option<String>,
}

/// A past change: the fields of a request plus `outcome` and `incidents` (serde cannot
/// combine `flatten` with `deny_unknown_fields`, so the request's fields are repeated).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeDoc {
    id: String,
    services: Option<Vec<String>>,
    service: Option<String>,
    environment: String,
    #[serde(rename = "type")]
    change_type: String,
    start: String,
    duration: Option<String>,
    end: Option<String>,
    requested_by: Option<String>,
    requested_at: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, serde_json::Value>,
    outcome: ChangeOutcome,
    #[serde(default)]
    incidents: Vec<IncidentDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryDoc {
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
