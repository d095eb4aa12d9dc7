//! JSON Schemas of the documents changegate reads (`policy.yaml`, requests, calendars, the
//! evidence documents) and of the decision it writes, derived with `schemars` from the serde
//! types that read and write them, so that a schema cannot drift from the code.
//!
//! The input types are the `*Doc` structs of this module's siblings; fields read as text and
//! checked after parsing (durations, instants, local times) are strings described by the marker
//! types below, each with a `description` and, where simple, a `pattern`. The files under
//! `docs/schema/` are these schemas, written by `cargo run --example write_schemas`.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use super::bundle::PolicyDoc;
use super::evidence::{ApprovalsFile, DirectoryDoc, HistoryDoc, ResultDoc};
use super::input::{CalendarDoc, RequestDoc};
use crate::decision::Decision;

/// The base of every schema's `$id`: where the files live in the repository.
const ID_BASE: &str = "https://changegate.dev/schema/";

/// The JSON Schemas (draft 2020-12) of every document changegate reads or writes, by name:
/// `policy` (`policy.yaml`), `request`, `calendar`, `validation` (validation results),
/// `history`, `approvals`, `directory` and `decision` (docs/decision-contract.md).
///
/// The measurement, event and rollback documents of the gates and rollback questions have no
/// schema yet.
//
///
/// # Example
/// ```
/// let schemas = changegate::schemas();
/// let (name, policy) = &schemas[0];
/// assert_eq!(*name, "policy");
/// assert_eq!(policy["$schema"], "https://json-schema.org/draft/2020-12/schema");
/// assert!(policy["properties"]["environments"].is_object());
/// ```
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "policy",
            input::<PolicyDoc>("policy", "a changegate policy (`policy.yaml`)"),
        ),
        (
            "request",
            input::<RequestDoc>("request", "a change request"),
        ),
        (
            "calendar",
            input::<CalendarDoc>(
                "calendar",
                "a calendar: the deployments already scheduled and one-off blackouts",
            ),
        ),
        (
            "validation",
            input::<Vec<ResultDoc>>("validation", "validation results: a list of check results"),
        ),
        (
            "history",
            input::<HistoryDoc>("history", "the history of past changes and their incidents"),
        ),
        (
            "approvals",
            input::<ApprovalsFile>(
                "approvals",
                "approvals given: a list, or a mapping with `approvals:`",
            ),
        ),
        (
            "directory",
            input::<DirectoryDoc>("directory", "the people who may approve and their roles"),
        ),
        (
            "measurements",
            telemetry(
                "measurements",
                "measurements of metrics: a list, a mapping with `measurements:`, or JSON lines \
                 (one object per line)",
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["metric", "at", "value"],
                    "properties": {
                        "metric": {"type": "string", "minLength": 1, "description": "the metric's name"},
                        "at": instant(),
                        "value": {
                            "description": "the value; null: the source had no data (counted as \
                                missing, never as a good value); NaN as `.nan` (YAML) or \
                                \"NaN\" (JSON)",
                            "anyOf": [{"type": "number"}, {"type": "null"}, {"const": "NaN"}],
                        },
                        "labels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "the series' labels; gates and triggers select by them",
                        },
                    },
                }),
            ),
        ),
        (
            "events",
            telemetry(
                "events",
                "events rollback triggers watch: a list, a mapping with `events:`, or JSON lines",
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["kind", "at"],
                    "properties": {
                        "kind": {"type": "string", "minLength": 1, "description": "what happened: `security_failure`, `infrastructure_failure`, ..."},
                        "at": instant(),
                        "source": {"type": "string", "description": "who reported it"},
                    },
                }),
            ),
        ),
        (
            "rollbacks",
            telemetry(
                "rollbacks",
                "rollbacks already performed: a list, a mapping with `rollbacks:`, or JSON lines",
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["level", "at"],
                    "properties": {
                        "level": {"type": "string", "minLength": 1, "description": "the level's name, as the policy's `rollback.levels` names it"},
                        "at": instant(),
                    },
                }),
            ),
        ),
        (
            "decision",
            finish(
                SchemaSettings::draft2020_12()
                    .for_serialize()
                    .into_generator()
                    .into_root_schema_for::<Decision>(),
                "decision",
                "a changegate decision (docs/decision-contract.md)",
            ),
        ),
    ]
}

/// The schema of an RFC 3339 instant, as the text types give it.
fn instant() -> Value {
    let mut value = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<InstantText>()
        .to_value();
    if let Value::Object(map) = &mut value {
        map.remove("$schema");
        map.remove("title");
    }
    value
}

/// The schema of a telemetry document (src/config/telemetry.rs): a list of `item`, or a
/// mapping with `key:` holding one (JSON lines are a list, one item per line).
fn telemetry(key: &str, title: &str, item: Value) -> Value {
    let list = json!({"type": "array", "items": item});
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "anyOf": [
            list,
            {
                "type": "object",
                "additionalProperties": false,
                "required": [key],
                "properties": {key: list},
            },
        ],
    });
    let schema = Schema::try_from(schema).unwrap_or_default();
    finish(schema, key, title)
}

/// The schema of a document read through serde as `T`.
fn input<T: JsonSchema>(name: &str, title: &str) -> Value {
    let schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>();
    finish(schema, name, title)
}

/// `schema` with its `$id` and `title`, as a JSON value with `$schema` and `$id` first.
fn finish(schema: Schema, name: &str, title: &str) -> Value {
    let mut out = serde_json::Map::new();
    let mut body = match schema.to_value() {
        Value::Object(body) => body,
        other => return other,
    };
    if let Some(s) = body.remove("$schema") {
        out.insert("$schema".into(), s);
    }
    out.insert(
        "$id".into(),
        Value::String(format!("{ID_BASE}{name}.schema.json")),
    );
    out.insert("title".into(), Value::String(title.into()));
    body.remove("title");
    out.extend(body);
    Value::Object(out)
}

/// Implements `JsonSchema` for a marker type: a string with a description and maybe a pattern.
macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $description:expr $(, $pattern:expr)?) => {
        $(#[$doc])*
        pub(super) struct $name;

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                false
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                #[allow(unused_mut)]
                let mut schema = json_schema!({
                    "type": "string",
                    "description": $description,
                });
                $(schema.insert("pattern".into(), Value::String($pattern.into()));)?
                schema
            }
        }
    };
}

text_schema!(
    /// A duration (`90m`, `2h30m`, `1d`, `1w2d`, `45s`).
    DurationText,
    "a duration: a number and a unit, units `w`, `d`, `h`, `m` and `s`, each at most once and \
     largest first, such as `90m`, `2h30m` or `1d`; positive, at most 36600 days",
    "^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
);

text_schema!(
    /// An RFC 3339 instant with an offset.
    InstantText,
    "an RFC 3339 date and time with an offset, such as `2026-12-01T22:00:00+01:00` or \
     `2026-11-28T10:00:00Z`; a time without an offset is an error",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
);

text_schema!(
    /// A local date and time (`2026-12-20T00:00`) or a day of the year (`12-20 00:00`).
    LocalDateTimeText,
    "a local date and time in the window's zone: `YYYY-MM-DDTHH:MM` for `once:` and `rrule:`, \
     `MM-DD HH:MM` for `yearly:`, or an RFC 3339 instant with an offset"
);

text_schema!(
    /// An IANA time zone name.
    ZoneText,
    "an IANA time zone name, such as `Europe/Berlin` or `UTC`"
);

text_schema!(
    /// A weekly time (`22:00`, `fri 16:00`).
    WeeklyTimeText,
    "a local time `HH:MM`, or a weekday and a time `fri 16:00` (the window then runs from that \
     day and time to the `to` day and time); `24:00` is the end of the day"
);

text_schema!(
    /// A cron pattern.
    CronText,
    "a five-field cron pattern (minute hour day-of-month month day-of-week), such as \
     `0 16 * * 5`, in the window's zone"
);

text_schema!(
    /// An RFC 5545 recurrence rule.
    RRuleText,
    "an RFC 5545 recurrence rule without `DTSTART`, such as `FREQ=MONTHLY;BYDAY=-1FR`"
);

/// An aggregation of a series.
pub(super) struct AggregationText;

impl JsonSchema for AggregationText {
    fn schema_name() -> Cow<'static, str> {
        "Aggregation".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "how a window of a series is reduced to one value",
            "enum": ["last", "avg", "min", "max", "p50", "p90", "p95", "p99", "count", "rate"],
        })
    }
}

/// What a rollback trigger does without data.
pub(super) struct OnMissingText;

impl JsonSchema for OnMissingText {
    fn schema_name() -> Cow<'static, str> {
        "TriggerOnMissing".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "what the trigger does when its window has no data (default \
                `inconclusive`)",
            "enum": ["fire", "ignore", "inconclusive"],
        })
    }
}

impl JsonSchema for super::yaml::DurationField {
    fn schema_name() -> Cow<'static, str> {
        DurationText::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        DurationText::json_schema(generator)
    }
}

impl JsonSchema for ApprovalsFile {
    fn schema_name() -> Cow<'static, str> {
        "ApprovalsFile".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let list = generator.subschema_for::<Vec<super::evidence::ApprovalDoc>>();
        let document = generator.subschema_for::<super::evidence::ApprovalsDocument>();
        json_schema!({
            "description": "a list of approvals, or a mapping with `approvals:`",
            "anyOf": [list, document],
        })
    }
}
