//! The evidence of the gates and rollback questions, read from text: measurements
//! (`{metric, at, value, labels?}`), events (`{kind, at, source?}`) and rollbacks performed
//! (`{level, at}`), with the same limits and error quality as every other reader (file, line,
//! column and field; unknown fields rejected).
//!
//! Each is read from
//! - YAML or JSON: a list, or a mapping with one key (`measurements:`, `events:`,
//!   `rollbacks:`) holding the list; an empty text is an empty list;
//! - JSON lines: one object per line (blank lines skipped). The text is JSON lines when its
//!   first non-blank line is a whole JSON object by itself and either another line follows or
//!   that object is an item (not a document with the list's key). An error names the line:
//!   the field is `line 7` (`line 7.value` for a field of that line's object).
//!
//! `at` is RFC 3339 with an offset. `value` is a number or null (the source had no data); NaN
//! is accepted as `.nan` in YAML or the string `"NaN"` in JSON (serde_json has no NaN);
//! infinities are refused. Label values are text (a number or boolean is taken as written).
//! Times and values are checked while deserializing, so that their errors carry the parser's
//! line and column in every form (block YAML, flow YAML, JSON, JSON lines).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::value::SeqAccessDeserializer;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

use super::input::InputCtx;
use super::limits::InputLimits;
use super::yaml::from_yaml;
use crate::error::{InputError, Location, bound_message};
use crate::model::{Event, Measurement, RollbackDone};
use crate::time::parse_instant;

// ---------------------------------------------------------------------------------------------
// Field types that validate while deserializing (their errors carry the parser's position).

/// An instant, RFC 3339 with an offset.
struct At(DateTime<Utc>);

// Checked inside the visitor (not after `String::deserialize` returns), so that the reader
// still knows the field and its position when the error is made.
impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = At;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 time with an offset")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<At, E> {
                parse_instant(v)
                    .map(|t| At(t.with_timezone(&Utc)))
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// A name that is not empty (a metric, an event kind, a level).
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("must not be empty"));
                }
                Ok(Name(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// A measured value: a number, null (no data), or NaN (`.nan`, `"NaN"`).
struct Value(Option<f64>);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, null (no data) or NaN (`.nan` in YAML, \"NaN\" in JSON)")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                if v.is_infinite() {
                    return Err(E::custom(format!(
                        "`value` must be a finite number, null or NaN, not `{v}`"
                    )));
                }
                Ok(Value(Some(v)))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value(Some(v as f64)))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value(Some(v as f64)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                if v.trim().eq_ignore_ascii_case("nan") {
                    return Ok(Value(Some(f64::NAN)));
                }
                Err(E::custom(format!(
                    "`value` must be a number, null (no data) or NaN, not the text `{}`",
                    crate::error::quote(v)
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A label's value: text; a number or boolean is taken as written.
struct Label(String);

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Label;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a label value (text)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Label, E> {
                Ok(Label(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Label, E> {
                Ok(Label(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Label, E> {
                Ok(Label(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Label, E> {
                Ok(Label(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Label, E> {
                Ok(Label(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// The items as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasurementDoc {
    metric: Name,
    at: At,
    value: Value,
    #[serde(default)]
    labels: BTreeMap<String, Label>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventDoc {
    kind: Name,
    at: At,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackDoc {
    level: Name,
    at: At,
}

/// One kind of item: its document's key and what it is called in messages.
trait Item: DeserializeOwned {
    /// The key of the document form (`measurements`).
    const KEY: &'static str;
    /// `[KEY]`, for "unknown field" messages.
    const FIELDS: &'static [&'static str];
    /// What a list of them is called (`measurements`).
    const WHAT: &'static str;
    type Out;
    /// Checks what deserializing could not; `Err` is (message, the field at fault).
    fn finish(self) -> Result<Self::Out, (String, &'static str)>;
}

impl Item for MeasurementDoc {
    const KEY: &'static str = "measurements";
    const FIELDS: &'static [&'static str] = &["measurements"];
    const WHAT: &'static str = "measurements";
    type Out = Measurement;
    fn finish(self) -> Result<Measurement, (String, &'static str)> {
        if self.labels.keys().any(|k| k.trim().is_empty()) {
            return Err(("a label's name must not be empty".into(), "labels"));
        }
        Ok(Measurement {
            metric: self.metric.0,
            at: self.at.0,
            value: self.value.0,
            labels: self.labels.into_iter().map(|(k, v)| (k, v.0)).collect(),
        })
    }
}

impl Item for EventDoc {
    const KEY: &'static str = "events";
    const FIELDS: &'static [&'static str] = &["events"];
    const WHAT: &'static str = "events";
    type Out = Event;
    fn finish(self) -> Result<Event, (String, &'static str)> {
        Ok(Event {
            kind: self.kind.0,
            at: self.at.0,
            source: self.source,
        })
    }
}

impl Item for RollbackDoc {
    const KEY: &'static str = "rollbacks";
    const FIELDS: &'static [&'static str] = &["rollbacks"];
    const WHAT: &'static str = "rollbacks";
    type Out = RollbackDone;
    fn finish(self) -> Result<RollbackDone, (String, &'static str)> {
        Ok(RollbackDone {
            level: self.level.0,
            at: self.at.0,
        })
    }
}

/// A file of items: a list, or a mapping with the one key `T::KEY`.
enum ListFile<T> {
    List(Vec<T>),
    Document(Vec<T>),
}

impl<'de, T: Item> Deserialize<'de> for ListFile<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than `#[serde(untagged)]`, so that an error inside an item keeps its
        // message and position.
        struct FileVisitor<T>(PhantomData<T>);
        impl<'de, T: Item> Visitor<'de> for FileVisitor<T> {
            type Value = ListFile<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a list of {}, or a mapping with `{}:`", T::WHAT, T::KEY)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ListFile<T>, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(ListFile::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListFile<T>, A::Error> {
                let mut items: Option<Vec<T>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != T::KEY {
                        return Err(de::Error::unknown_field(&key, T::FIELDS));
                    }
                    if items.is_some() {
                        return Err(de::Error::duplicate_field(T::KEY));
                    }
                    items = Some(map.next_value::<Option<Vec<T>>>()?.unwrap_or_default());
                }
                Ok(ListFile::Document(items.unwrap_or_default()))
            }
        }
        d.deserialize_any(FileVisitor(PhantomData))
    }
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// Whether `text` is JSON lines for items of `T` (see the module docs).
fn is_json_lines<T: Item>(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    if !first.starts_with('{') {
        return false;
    }
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(first)
    else {
        return false;
    };
    lines.next().is_some() || !object.contains_key(T::KEY)
}

impl InputCtx<'_> {
    /// Reads a list of items of `T` in any of the forms of the module docs.
    fn telemetry<T: Item>(&self) -> Result<Vec<T::Out>, InputError> {
        if let Some(message) = self.limits.size_error(self.text.len()) {
            return Err(InputError {
                location: Location::new(self.origin, None),
                field: None,
                message,
            });
        }
        if self.text.trim().is_empty() {
            return Ok(Vec::new());
        }
        if is_json_lines::<T>(self.text) {
            return self.json_lines::<T>();
        }
        let (docs, document) = match self.parse::<ListFile<T>>(T::WHAT)? {
            ListFile::List(docs) => (docs, false),
            ListFile::Document(docs) => (docs, true),
        };
        let mut out = Vec::with_capacity(docs.len());
        for (i, d) in docs.into_iter().enumerate() {
            out.push(d.finish().map_err(|(message, key)| {
                let mut path = Vec::with_capacity(3);
                if document {
                    path.push(super::yaml::Seg::Key(T::KEY));
                }
                path.push(super::yaml::Seg::Index(i));
                path.push(super::yaml::Seg::Key(key));
                self.error(&path, message)
            })?);
        }
        Ok(out)
    }

    /// Reads JSON lines: one object per non-blank line.
    fn json_lines<T: Item>(&self) -> Result<Vec<T::Out>, InputError> {
        let mut out = Vec::new();
        for (i, line) in self.text.lines().enumerate() {
            let n = i.saturating_add(1);
            let body = line.trim();
            if body.is_empty() {
                continue;
            }
            let at_line = |column: Option<usize>, field: Option<String>, message: String| {
                let field = match field.as_deref().map(|f| f.trim_start_matches('.')) {
                    None | Some("") => format!("line {n}"),
                    Some(f) => format!("line {n}.{f}"),
                };
                InputError {
                    location: Location::new(self.origin, Some((n, column.unwrap_or(1)))),
                    field: Some(field),
                    message: bound_message(message),
                }
            };
            if !body.starts_with('{') {
                return Err(at_line(
                    None,
                    None,
                    format!(
                        "expected a JSON object on each line of JSON lines ({})",
                        T::WHAT
                    ),
                ));
            }
            // The column in `line` of the body's first character.
            let indent = line.len() - line.trim_start().len();
            let doc: T = from_yaml(body, self.limits).map_err(|(message, pos, field)| {
                // The reader starts some messages with the field's path: it is in `field`.
                let message = field
                    .as_deref()
                    .and_then(|f| message.strip_prefix(f))
                    .and_then(|m| m.strip_prefix(": "))
                    .map_or_else(|| message.clone(), str::to_owned);
                at_line(
                    pos.map(|(_, c)| c.saturating_add(indent)),
                    field,
                    format!("{message} in {}", T::WHAT),
                )
            })?;
            out.push(
                doc.finish()
                    .map_err(|(message, key)| at_line(None, Some(key.into()), message))?,
            );
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// The public readers.

macro_rules! list_reader {
    ($ty:ty, $doc:ty, $what:literal, $example:literal) => {
        impl $ty {
            #[doc = concat!("Parses a list of ", $what, " from YAML, JSON or JSON lines text (a list,")]
            #[doc = concat!("a mapping `", $what, ": [...]`, or one object per line); `origin` (a file")]
            /// name) is used in errors. An empty text is an empty list.
            ///
            /// # Errors
            /// Unknown or missing fields, a time without an offset, a value that is not a
            /// number, null or NaN: each names the file, line, column and field (`[3].value`,
            #[doc = concat!("`", $what, "[3].value` in a mapping, `line 7.value` in JSON lines).")]
            ///
            /// # Example
            /// ```
            #[doc = $example]
            /// ```
            pub fn list_from_yaml(text: &str, origin: &str) -> Result<Vec<Self>, InputError> {
                Self::list_from_yaml_with_limits(text, origin, &InputLimits::default())
            }

            #[doc = concat!("[`", stringify!($ty), "::list_from_yaml`] with other [`InputLimits`].")]
            ///
            /// # Errors
            /// As `list_from_yaml`, and text larger or nested deeper than `limits`.
            pub fn list_from_yaml_with_limits(
                text: &str,
                origin: &str,
                limits: &InputLimits,
            ) -> Result<Vec<Self>, InputError> {
                InputCtx::new(text, origin, limits).telemetry::<$doc>()
            }
        }
    };
}

list_reader!(
    Measurement,
    MeasurementDoc,
    "measurements",
    "use changegate::Measurement;
let list = Measurement::list_from_yaml(
    \"- {metric: error_rate, at: 2026-12-01T08:00:00Z, value: 0.002}\\n\\
     - {metric: latency_seconds, at: 2026-12-01T08:00:00Z, value: .nan, labels: {path: cached}}\\n\",
    \"measurements.yaml\").unwrap();
assert_eq!(list[0].value, Some(0.002));
assert!(list[1].value.unwrap().is_nan());
let lines = Measurement::list_from_yaml(
    \"{\\\"metric\\\": \\\"error_rate\\\", \\\"at\\\": \\\"2026-12-01T08:00:00Z\\\", \\\"value\\\": null}\\n\",
    \"m.jsonl\").unwrap();
assert_eq!(lines[0].value, None);
let err = Measurement::list_from_yaml(
    \"measurements:\\n  - {metric: error_rate, at: 2026-12-01T08:00:00Z, value: high}\\n\", \"m.yaml\")
    .unwrap_err();
assert_eq!(err.field.as_deref(), Some(\"measurements[0].value\"), \"{err}\");"
);

list_reader!(
    Event,
    EventDoc,
    "events",
    "use changegate::Event;
let list = Event::list_from_yaml(
    \"events:\\n  - {kind: security_failure, at: 2026-12-01T08:00:00Z, source: waf}\\n\",
    \"events.yaml\").unwrap();
assert_eq!(list[0].kind, \"security_failure\");
let err = Event::list_from_yaml(\"- {kind: x, at: 2026-12-01T08:00:00}\\n\", \"e.yaml\").unwrap_err();
assert!(err.message.contains(\"no UTC offset\"), \"{err}\");"
);

list_reader!(
    RollbackDone,
    RollbackDoc,
    "rollbacks",
    "use changegate::RollbackDone;
let list = RollbackDone::list_from_yaml(
    \"- {level: feature_flag, at: 2026-12-01T08:00:00Z}\\n\", \"rollbacks.yaml\").unwrap();
assert_eq!(list[0].level, \"feature_flag\");
let err = RollbackDone::list_from_yaml(\"- {levle: x, at: 2026-12-01T08:00:00Z}\\n\", \"r.yaml\")
    .unwrap_err();
assert!(err.message.contains(\"unknown field `levle`\"), \"{err}\");"
);
