//! Reading YAML (and JSON, a subset of it): requests, calendars and `policy.yaml`. The only
//! module that imports the YAML crate. Every error names the file, line, column and field.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

use crate::calendar::Calendar;
use crate::checks::{NamedWindow, Rule, ScheduleRules};
use crate::error::{InputError, LoadError, LoadErrorKind, Location};
use crate::model::{Blackout, ChangeRequest, DeploymentId};
use crate::time::{
    CronPattern, CronSpan, Interval, Recurrence, RuleSpan, Window, parse_duration, parse_instant,
    parse_local_time, parse_weekday, resolve_local,
};

pub(crate) mod case;
mod ics;

// ---------------------------------------------------------------------------------------------
// Field types that validate while deserializing, so that errors carry the YAML position.

/// A positive duration such as `2h30m`.
struct DurationField(TimeDelta);

impl<'de> Deserialize<'de> for DurationField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(DurationField)
            .map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Positions.

/// One step of a path into a YAML document.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

struct YamlLine<'a> {
    indent: usize,
    dash: bool,
    key: Option<&'a str>,
    key_col: usize,
}

fn scan_line(line: &str) -> Option<YamlLine<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let (dash, body, key_col) = match rest.strip_prefix('-') {
        Some(after) if after.is_empty() || after.starts_with(' ') => {
            let trimmed = after.trim_start_matches(' ');
            (true, trimmed, indent + 1 + (after.len() - trimmed.len()))
        }
        _ => (false, rest, indent),
    };
    let key = body.find(':').and_then(|i| {
        let k = body[..i].trim_matches(|c| c == '"' || c == '\'');
        let after = &body[i + 1..];
        let plain = !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || "_-. ".contains(c));
        (plain && (after.is_empty() || after.starts_with(' '))).then_some(k)
    });
    Some(YamlLine {
        indent,
        dash,
        key,
        key_col,
    })
}

/// Finds the line and column of `path` in block-style YAML. Where the rest of a path is not
/// there (or is written flow-style, `weekly: {from: ...}`), the deepest part found is named;
/// when nothing is found (a JSON document), `None`, and callers point at the file alone.
fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let lines: Vec<Option<YamlLine>> = text.lines().map(scan_line).collect();
    let (mut from, mut to) = (0, lines.len());
    let mut found = None;
    for seg in path {
        let entries =
            || (from..to).filter_map(|i| lines.get(i).and_then(|l| l.as_ref()).map(|l| (i, l)));
        match seg {
            Seg::Key(k) => {
                let Some(level) = entries()
                    .find(|(_, l)| l.key.is_some())
                    .map(|(_, l)| l.key_col)
                else {
                    return found;
                };
                let Some((i, l)) = entries().find(|(_, l)| l.key_col == level && l.key == Some(k))
                else {
                    return found;
                };
                let end = entries()
                    .find(|(j, m)| {
                        *j > i
                            && (m.key_col < level
                                || (m.key_col == level && !(m.dash && m.indent == level)))
                    })
                    .map_or(to, |(j, _)| j);
                found = Some((i + 1, l.key_col + 1));
                (from, to) = (i + 1, end);
            }
            Seg::Index(n) => {
                let Some(level) = entries().find(|(_, l)| l.dash).map(|(_, l)| l.indent) else {
                    return found;
                };
                let Some((i, l)) = entries()
                    .filter(|(_, l)| l.dash && l.indent == level)
                    .nth(*n)
                else {
                    return found;
                };
                let end = entries()
                    .find(|(j, m)| *j > i && m.indent <= level)
                    .map_or(to, |(j, _)| j);
                found = Some((i + 1, l.indent + 1));
                (from, to) = (i, end);
            }
        }
    }
    found
}

/// A YAML error as (message, position, field path).
type YamlError = (String, Option<(usize, usize)>, Option<String>);

/// Deserializes `text`, turning a YAML error into (message, position, field path).
///
/// A document that starts with `{` is read as JSON, by serde_json: several times faster than
/// the YAML parser for the same input (what the Python bindings send), with its own line and
/// column. Everything else, JSON included when it does not start with `{`, is read as YAML.
fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    if text.trim_start().starts_with('{') {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let text = inner.to_string();
            // Prefix the path as yaml_serde does: the mapping for an unknown or missing field
            // (the message names the field), the field itself otherwise.
            let named = text.contains("unknown field `") || text.contains("missing field `");
            let prefix = if named {
                path.rsplit_once('.').map_or("", |(parent, _)| parent)
            } else {
                path.as_str()
            };
            let msg = match prefix {
                "" | "." => text,
                p => format!("{p}: {text}"),
            };
            describe(msg, Some((inner.line(), inner.column())))
        })?;
        de.end()
            .map_err(|e| describe(e.to_string(), Some((e.line(), e.column()))))?;
        return Ok(value);
    }
    yaml::from_str(text)
        .map_err(|e| describe(e.to_string(), e.location().map(|l| (l.line(), l.column()))))
}

/// Splits a parser's message into the message, its position and the field it names.
fn describe(mut msg: String, pos: Option<(usize, usize)>) -> YamlError {
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    // yaml_serde prefixes the path of the field at fault: `deployments[0].start: ...`
    let (prefix, rest) = msg
        .split_once(": ")
        .filter(|(p, _)| !p.contains(' '))
        .map_or((None, msg.as_str()), |(p, r)| (Some(p), r));
    // An unknown or missing field is named by the message, not by the path: add it.
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|lead| rest.strip_prefix(lead))
        .and_then(|r| r.split_once('`'))
        .map(|(name, _)| name);
    let field = match (prefix, named) {
        (Some(p), Some(n)) => Some(format!("{p}.{n}")),
        (None, Some(n)) => Some(n.to_owned()),
        (p, None) => p.map(str::to_owned),
    };
    (msg, pos, field)
}

// ---------------------------------------------------------------------------------------------
// Requests and calendars.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestDoc {
    id: String,
    services: Option<Vec<String>>,
    service: Option<String>,
    environment: String,
    #[serde(rename = "type")]
    change_type: String,
    // Times and durations are read as text and checked in `InputCtx::request`, so that an
    // error names the field and its line (serde would only name the enclosing mapping).
    start: String,
    duration: Option<String>,
    end: Option<String>,
    requested_by: Option<String>,
    requested_at: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlackoutDoc {
    name: String,
    from: String,
    to: String,
    environments: Option<Vec<String>>,
    services: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarDoc {
    #[serde(default)]
    deployments: Vec<RequestDoc>,
    #[serde(default)]
    blackouts: Vec<BlackoutDoc>,
}

struct InputCtx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl InputCtx<'_> {
    fn error(&self, path: &[Seg], message: String) -> InputError {
        InputError {
            location: Location::new(self.origin, locate(self.text, path)),
            field: Some(path_string(path)),
            message,
        }
    }

    fn parse<T: DeserializeOwned>(&self, what: &str) -> Result<T, InputError> {
        if self.text.trim().is_empty() {
            return Err(InputError {
                location: Location::new(self.origin, None),
                field: None,
                message: format!("the {what} is empty"),
            });
        }
        from_yaml(self.text).map_err(|(message, pos, field)| InputError {
            location: Location::new(self.origin, pos),
            field,
            message: format!("{message} in {what}"),
        })
    }

    fn instant(&self, path: &[Seg], text: &str) -> Result<DateTime<FixedOffset>, InputError> {
        parse_instant(text).map_err(|message| self.error(path, message))
    }

    fn request(&self, doc: RequestDoc, base: &[Seg]) -> Result<ChangeRequest, InputError> {
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
        let duration = match (doc.duration, doc.end) {
            (Some(_), Some(_)) => {
                return Err(self.error(
                    &at("end"),
                    "give either `duration` or `end`, not both".into(),
                ));
            }
            (Some(d), None) => {
                parse_duration(&d).map_err(|message| self.error(&at("duration"), message))?
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
        })
    }
}

impl ChangeRequest {
    /// Parses a request from YAML or JSON text; `origin` (a file name) is used in errors.
    ///
    /// # Errors
    /// Unknown or missing fields, times without an offset, bad durations, `end` before `start`:
    /// each names the field and its line and column.
    ///
    /// # Example
    /// ```
    /// use changegate::ChangeRequest;
    /// let req = ChangeRequest::from_yaml("id: dep-1\nservice: checkout\nenvironment: production\n\
    ///     type: feature\nstart: 2026-12-01T22:00:00+01:00\nduration: 2h\n", "request.yaml").unwrap();
    /// assert_eq!(req.services, ["checkout"]);
    /// let err = ChangeRequest::from_yaml("id: dep-1\nstrat: x\n", "request.yaml").unwrap_err();
    /// assert!(err.to_string().contains("unknown field `strat`"));
    /// ```
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, InputError> {
        let ctx = InputCtx { text, origin };
        let doc: RequestDoc = ctx.parse("request")?;
        ctx.request(doc, &[])
    }
}

impl Calendar {
    /// Parses a calendar (`deployments:` and `blackouts:`) from YAML or JSON text and indexes it.
    ///
    /// # Errors
    /// Like [`ChangeRequest::from_yaml`] for each deployment; also a blackout whose `to` is not
    /// after its `from`, and two deployments with the same id.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, InputError> {
        let ctx = InputCtx { text, origin };
        if text.trim().is_empty() {
            return Ok(Calendar::default());
        }
        let doc: CalendarDoc = ctx.parse("calendar")?;
        let mut deployments = Vec::with_capacity(doc.deployments.len());
        for (i, d) in doc.deployments.into_iter().enumerate() {
            deployments.push(ctx.request(d, &[Seg::Key("deployments"), Seg::Index(i)])?);
        }
        let mut blackouts = Vec::with_capacity(doc.blackouts.len());
        for (i, b) in doc.blackouts.into_iter().enumerate() {
            let at = |key| [Seg::Key("blackouts"), Seg::Index(i), Seg::Key(key)];
            let (from, to) = (
                ctx.instant(&at("from"), &b.from)?,
                ctx.instant(&at("to"), &b.to)?,
            );
            if to <= from {
                return Err(ctx.error(
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
            ctx.error(
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

// ---------------------------------------------------------------------------------------------
// policy.yaml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDoc {
    timezone: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    environments: BTreeMap<String, EnvDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvDoc {
    advance_notice: Option<NoticeDoc>,
    max_duration: Option<MaxDurationDoc>,
    #[serde(default)]
    blackouts: Vec<WindowDoc>,
    preferred_window: Option<PreferredDoc>,
    conflicts: Option<ToggleDoc>,
    concurrency: Option<ConcurrencyDoc>,
    dependencies: Option<ToggleDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeDoc {
    min: DurationField,
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaxDurationDoc {
    max: DurationField,
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToggleDoc {
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConcurrencyDoc {
    max: u32,
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreferredDoc {
    windows: Vec<WindowDoc>,
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowDoc {
    name: String,
    timezone: Option<String>,
    weekly: Option<WeeklyDoc>,
    yearly: Option<RangeDoc>,
    once: Option<RangeDoc>,
    cron: Option<CronDoc>,
    rrule: Option<RRuleDoc>,
    ics: Option<String>,
    services: Option<Vec<String>>,
    #[serde(default)]
    exempt_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeeklyDoc {
    days: Option<Vec<String>>,
    from: String,
    to: String,
}

/// `cron: {start: "0 16 * * 5", end: "0 6 * * 1"}`, GitLab's freeze period.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CronDoc {
    start: String,
    end: String,
}

/// `rrule: {rule: "FREQ=MONTHLY;BYDAY=-1FR", start: "2026-01-01T18:00", duration: 12h}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RRuleDoc {
    rule: String,
    start: String,
    duration: DurationField,
    #[serde(default)]
    exdates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeDoc {
    from: String,
    to: String,
}

/// The validated content of `policy.yaml`.
#[derive(Debug, Clone)]
pub(crate) struct PolicyConfig {
    pub timezone: Tz,
    pub environments: BTreeMap<String, ScheduleRules>,
    /// `file:line` of the `environments:` key, the source of `unknown_environment` findings.
    pub environments_source: String,
}

struct PolicyCtx<'a> {
    text: &'a str,
    origin: &'a str,
    bundle: &'a BundleFiles<'a>,
}

/// The other files of a bundle that `policy.yaml` may name (`ics: holidays.ics`): bundle-relative
/// name -> (name in errors, text).
pub(crate) type BundleFiles<'a> = BTreeMap<&'a str, (String, &'a str)>;

impl PolicyCtx<'_> {
    fn error(&self, path: &[Seg], message: String) -> LoadError {
        LoadError {
            kind: LoadErrorKind::Config,
            location: Location::new(self.origin, locate(self.text, path)),
            field: Some(path_string(path)),
            message,
        }
    }

    fn source(&self, path: &[Seg]) -> String {
        match locate(self.text, path) {
            Some((line, _)) => format!("{}:{line}", self.origin),
            None => self.origin.to_owned(),
        }
    }

    fn zone(&self, name: &str, path: &[Seg]) -> Result<Tz, LoadError> {
        name.parse::<Tz>().map_err(|_| {
            self.error(
                path,
                format!(
                    "unknown time zone `{name}`, expected an IANA name such as `Europe/Berlin`"
                ),
            )
        })
    }

    fn rule<T>(&self, value: T, exempt_types: Vec<String>, path: &[Seg]) -> Rule<T> {
        Rule {
            value,
            exempt_types,
            source: self.source(path),
        }
    }

    fn window(
        &self,
        doc: WindowDoc,
        default_tz: Tz,
        path: &[Seg],
    ) -> Result<NamedWindow, LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        if doc.name.trim().is_empty() {
            return Err(self.error(&at("name"), "a window needs a non-empty `name`".into()));
        }
        let tz = match &doc.timezone {
            Some(z) => self.zone(z, &at("timezone"))?,
            None => default_tz,
        };
        let forms = [
            doc.weekly.is_some(),
            doc.yearly.is_some(),
            doc.once.is_some(),
            doc.cron.is_some(),
            doc.rrule.is_some(),
            doc.ics.is_some(),
        ];
        if forms.iter().filter(|f| **f).count() != 1 {
            return Err(self.error(
                path,
                format!(
                    "window `{}` needs exactly one of `weekly`, `yearly`, `once`, `cron`, `rrule` or `ics`",
                    doc.name
                ),
            ));
        }
        let recurrence = if let Some(w) = doc.weekly {
            self.weekly(w, &at("weekly"))?
        } else if let Some(y) = doc.yearly {
            self.yearly(y, &at("yearly"))?
        } else if let Some(o) = doc.once {
            self.once(o, tz, &at("once"))?
        } else if let Some(c) = doc.cron {
            self.cron(c, &at("cron"))?
        } else if let Some(r) = doc.rrule {
            self.rrule(r, tz, &at("rrule"))?
        } else if let Some(file) = doc.ics {
            self.ics(&file, tz, &at("ics"))?
        } else {
            return Err(self.error(path, format!("window `{}` has no recurrence", doc.name)));
        };
        Ok(NamedWindow {
            name: doc.name,
            window: Window::new(recurrence, tz),
            services: doc.services,
        })
    }

    fn time(&self, text: &str, path: &[Seg]) -> Result<chrono::NaiveTime, LoadError> {
        parse_local_time(text).ok_or_else(|| {
            self.error(
                path,
                format!("invalid local time `{text}`, expected `HH:MM` such as `16:00`"),
            )
        })
    }

    fn day(&self, text: &str, path: &[Seg]) -> Result<Weekday, LoadError> {
        parse_weekday(text).ok_or_else(|| {
            self.error(path, format!("invalid weekday `{text}`, expected one of `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`"))
        })
    }

    fn weekly(&self, doc: WeeklyDoc, path: &[Seg]) -> Result<Recurrence, LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        match doc.days {
            Some(days) => {
                // `days: [mon, tue]`, `from: "22:00"`, `to: "06:00"`: one occurrence per day,
                // ending the next day when `to` is not after `from`.
                if days.is_empty() {
                    return Err(
                        self.error(&at("days"), "`days` must name at least one weekday".into())
                    );
                }
                let mut parsed = Vec::with_capacity(days.len());
                for (i, d) in days.iter().enumerate() {
                    parsed.push(self.day(d, &[path, &[Seg::Key("days"), Seg::Index(i)]].concat())?);
                }
                let from = self.time(&doc.from, &at("from"))?;
                let to = self.time(&doc.to, &at("to"))?;
                Ok(Recurrence::Weekly {
                    days: parsed,
                    from,
                    end_days: u32::from(to <= from),
                    to,
                })
            }
            None => {
                // `from: "fri 16:00"`, `to: "mon 06:00"`: one span a week.
                let split = |text: &str,
                             key: &'static str|
                 -> Result<(Weekday, chrono::NaiveTime), LoadError> {
                    let (d, t) = text.trim().split_once(' ').ok_or_else(|| {
                        self.error(&at(key), format!("invalid weekly time `{text}`, expected a weekday and a time such as `fri 16:00` (or give `days:` and plain times)"))
                    })?;
                    Ok((self.day(d, &at(key))?, self.time(t, &at(key))?))
                };
                let (from_day, from) = split(&doc.from, "from")?;
                let (to_day, to) = split(&doc.to, "to")?;
                let mut end_days =
                    (to_day.num_days_from_monday() + 7 - from_day.num_days_from_monday()) % 7;
                if end_days == 0 && to <= from {
                    end_days = 7;
                }
                Ok(Recurrence::Weekly {
                    days: vec![from_day],
                    from,
                    end_days,
                    to,
                })
            }
        }
    }

    fn yearly(&self, doc: RangeDoc, path: &[Seg]) -> Result<Recurrence, LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        let split = |text: &str,
                     key: &'static str|
         -> Result<((u32, u32), chrono::NaiveTime), LoadError> {
            let bad = || {
                self.error(
                    &at(key),
                    format!(
                        "invalid yearly time `{text}`, expected `MM-DD HH:MM` such as `12-20 00:00`"
                    ),
                )
            };
            let (md, t) = text
                .trim()
                .split_once(' ')
                .unwrap_or((text.trim(), "00:00"));
            let (m, d) = md.split_once('-').ok_or_else(bad)?;
            let (m, d): (u32, u32) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
            // Validate against a leap year, so 02-29 is accepted (it occurs in leap years only).
            NaiveDate::from_ymd_opt(2000, m, d).ok_or_else(bad)?;
            Ok(((m, d), self.time(t, &at(key))?))
        };
        let (from_date, from_time) = split(&doc.from, "from")?;
        let (to_date, to_time) = split(&doc.to, "to")?;
        if (from_date, from_time) == (to_date, to_time) {
            return Err(self.error(
                &at("to"),
                "a yearly window must end at a different time than it starts".into(),
            ));
        }
        Ok(Recurrence::Yearly {
            from_date,
            from_time,
            to_date,
            to_time,
        })
    }

    fn once(&self, doc: RangeDoc, tz: Tz, path: &[Seg]) -> Result<Recurrence, LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        // An instant with an offset is taken as is; one without is local time in the zone.
        let instant = |text: &str, key: &'static str| {
            if let Ok(t) = parse_instant(text) {
                return Ok(t.with_timezone(&chrono::Utc));
            }
            ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
                .map(|local| resolve_local(tz, local))
                .ok_or_else(|| {
                    self.error(
                        &at(key),
                        format!(
                            "invalid time `{text}`, expected `2026-12-24T00:00` (local) or RFC 3339"
                        ),
                    )
                })
        };
        let (from, to) = (instant(&doc.from, "from")?, instant(&doc.to, "to")?);
        Interval::new(from, to)
            .map(Recurrence::Once)
            .ok_or_else(|| {
                self.error(
                    &at("to"),
                    format!(
                        "window ends at `{}`, not after it starts at `{}`",
                        doc.to, doc.from
                    ),
                )
            })
    }

    fn cron(&self, doc: CronDoc, path: &[Seg]) -> Result<Recurrence, LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        let start = CronPattern::parse(&doc.start).map_err(|m| self.error(&at("start"), m))?;
        let end = CronPattern::parse(&doc.end).map_err(|m| self.error(&at("end"), m))?;
        Ok(Recurrence::Cron(CronSpan::new(start, end)))
    }

    /// A local date-time written `2026-01-01T18:00` (or with seconds, or a space).
    fn local(&self, text: &str) -> Option<NaiveDateTime> {
        [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
    }

    fn rrule(&self, doc: RRuleDoc, tz: Tz, path: &[Seg]) -> Result<Recurrence, LoadError> {
        let at = |key| [path, &[Seg::Key(key)]].concat();
        let start = self.local(&doc.start).ok_or_else(|| {
            self.error(
                &at("start"),
                format!(
                    "invalid start `{}`, expected a local time such as `2026-01-01T18:00`",
                    doc.start
                ),
            )
        })?;
        let (mut times, mut days) = (Vec::new(), Vec::new());
        for (i, text) in doc.exdates.iter().enumerate() {
            if let Some(t) = self.local(text) {
                times.push(t);
            } else if let Ok(t) = parse_instant(text) {
                times.push(t.with_timezone(&tz).naive_local());
            } else if let Ok(d) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                days.push(d);
            } else {
                return Err(self.error(
                    &[path, &[Seg::Key("exdates"), Seg::Index(i)]].concat(),
                    format!("invalid exdate `{text}`, expected a local time `2026-12-25T18:00`, a day `2026-12-25` or RFC 3339"),
                ));
            }
        }
        let rule = RuleSpan::new(&doc.rule, start, doc.duration.0, tz)
            .map_err(|m| self.error(&at("rule"), m))?;
        Ok(Recurrence::Rule(rule.with_exdates(times, days)))
    }

    fn ics(&self, file: &str, tz: Tz, path: &[Seg]) -> Result<Recurrence, LoadError> {
        let name = file.trim().trim_start_matches("./");
        let escapes = name.starts_with('/') || name.split(['/', '\\']).any(|p| p == "..");
        if name.is_empty() || escapes || !name.ends_with(".ics") {
            return Err(self.error(
                path,
                format!("invalid calendar file `{file}`, expected an `.ics` file inside the bundle such as `holidays.ics`"),
            ));
        }
        let (origin, text) = self
            .bundle
            .get(name)
            .ok_or_else(|| self.error(path, format!("the bundle has no calendar file `{name}`")))?;
        let events = ics::parse_calendar(text, origin, tz)?;
        Ok(Recurrence::Calendar {
            name: name.to_owned(),
            events,
        })
    }

    fn environment(&self, name: &str, doc: EnvDoc, tz: Tz) -> Result<ScheduleRules, LoadError> {
        let base = [Seg::Key("environments"), Seg::Key(name)];
        let at = |key| [&base[..], &[Seg::Key(key)]].concat();
        let mut rules = ScheduleRules {
            advance_notice: doc
                .advance_notice
                .map(|d| self.rule(d.min.0, d.exempt_types, &at("advance_notice"))),
            max_duration: doc
                .max_duration
                .map(|d| self.rule(d.max.0, d.exempt_types, &at("max_duration"))),
            conflicts: doc
                .conflicts
                .map(|d| self.rule((), d.exempt_types, &at("conflicts"))),
            dependencies: doc
                .dependencies
                .map(|d| self.rule((), d.exempt_types, &at("dependencies"))),
            ..ScheduleRules::default()
        };
        if let Some(c) = doc.concurrency {
            if c.max == 0 {
                return Err(self.error(
                    &[&at("concurrency")[..], &[Seg::Key("max")]].concat(),
                    "`max` must be at least 1".into(),
                ));
            }
            rules.concurrency = Some(self.rule(c.max, c.exempt_types, &at("concurrency")));
        }
        for (i, w) in doc.blackouts.into_iter().enumerate() {
            let path = [&at("blackouts")[..], &[Seg::Index(i)]].concat();
            let exempt = w.exempt_types.clone();
            let window = self.window(w, tz, &path)?;
            rules.blackouts.push(self.rule(window, exempt, &path));
        }
        if let Some(p) = doc.preferred_window {
            let mut windows = Vec::with_capacity(p.windows.len());
            for (i, w) in p.windows.into_iter().enumerate() {
                let path = [
                    &at("preferred_window")[..],
                    &[Seg::Key("windows"), Seg::Index(i)],
                ]
                .concat();
                if !w.exempt_types.is_empty() {
                    return Err(self.error(
                        &path,
                        "`exempt_types` belongs on `preferred_window`, not on one of its windows"
                            .into(),
                    ));
                }
                windows.push(self.window(w, tz, &path)?);
            }
            if windows.is_empty() {
                return Err(self.error(
                    &at("preferred_window"),
                    "`windows` must list at least one window".into(),
                ));
            }
            rules.preferred_window =
                Some(self.rule(windows, p.exempt_types, &at("preferred_window")));
        }
        Ok(rules)
    }
}

/// Parses and validates `policy.yaml`; `origin` names the file in errors and finding sources;
/// `bundle` holds the calendar files it may name.
pub(crate) fn parse_policy(
    text: &str,
    origin: &str,
    bundle: &BundleFiles,
) -> Result<PolicyConfig, LoadError> {
    let ctx = PolicyCtx {
        text,
        origin,
        bundle,
    };
    let doc: PolicyDoc = from_yaml(text).map_err(|(message, pos, field)| LoadError {
        kind: LoadErrorKind::Config,
        location: Location::new(origin, pos),
        field,
        message,
    })?;
    let _ = doc.description;
    let timezone = ctx.zone(&doc.timezone, &[Seg::Key("timezone")])?;
    let mut environments = BTreeMap::new();
    for (name, env) in doc.environments {
        let rules = ctx.environment(&name, env, timezone)?;
        environments.insert(name, rules);
    }
    Ok(PolicyConfig {
        timezone,
        environments,
        environments_source: ctx.source(&[Seg::Key("environments")]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_nested_keys_and_items() {
        let text = "timezone: UTC\nenvironments:\n  production:\n    blackouts:\n      - name: a\n        weekly: {from: x, to: y}\n      - name: b\n        yearly:\n          from: z\n";
        let p = [
            Seg::Key("environments"),
            Seg::Key("production"),
            Seg::Key("blackouts"),
            Seg::Index(1),
            Seg::Key("yearly"),
            Seg::Key("from"),
        ];
        assert_eq!(locate(text, &p), Some((9, 11)));
        let p = [
            Seg::Key("environments"),
            Seg::Key("production"),
            Seg::Key("blackouts"),
            Seg::Index(0),
            Seg::Key("weekly"),
        ];
        assert_eq!(locate(text, &p), Some((6, 9)));
        assert_eq!(locate(text, &[Seg::Key("nope")]), None);
    }
}
