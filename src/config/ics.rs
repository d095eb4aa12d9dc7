//! Holiday calendars: the `VEVENT`s of an iCalendar (`.ics`) file named in `policy.yaml`, read
//! when the bundle loads. The only place that imports `icalendar` (and `iso8601`, for
//! `DURATION`).
//!
//! - An all-day event (`DTSTART;VALUE=DATE:20261225`) blocks whole local days in the window's
//!   zone, from 00:00 of its first day to 00:00 after its last (`DTEND` is exclusive, one day
//!   when absent).
//! - A timed event keeps its own zone: UTC (`...Z`), `TZID=Europe/Berlin`, or floating (no zone,
//!   read in the window's zone).
//! - `RRULE` and `EXDATE` repeat and thin out an event like the `rrule` window form does;
//!   `STATUS:CANCELLED` events are skipped.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use chrono_tz::Tz;
use icalendar::parser::{Component, Property, read_calendar, unfold};
use icalendar::{CalendarDateTime, DatePerhapsTime};

use crate::error::{LoadError, LoadErrorKind, Location};
use crate::time::{Interval, Recurrence, RuleSpan, Window, resolve_local};

struct IcsCtx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl IcsCtx<'_> {
    /// An error at the `prop` line of the `index`-th event (or at the event's `BEGIN`).
    fn error(&self, index: usize, prop: Option<&str>, message: String) -> LoadError {
        LoadError {
            kind: LoadErrorKind::Config,
            location: Location::new(self.origin, self.position(index, prop)),
            field: Some(match prop {
                Some(p) => format!("VEVENT[{index}].{p}"),
                None => format!("VEVENT[{index}]"),
            }),
            message: crate::error::bound_message(message),
        }
    }

    fn position(&self, index: usize, prop: Option<&str>) -> Option<(usize, usize)> {
        let mut lines = self.text.lines().enumerate();
        let mut seen = 0;
        let begin = loop {
            let (i, line) = lines.next()?;
            if line.trim_end().eq_ignore_ascii_case("BEGIN:VEVENT") {
                if seen == index {
                    break i;
                }
                seen += 1;
            }
        };
        let Some(prop) = prop else {
            return Some((begin + 1, 1));
        };
        for (i, line) in lines {
            if line.trim_end().eq_ignore_ascii_case("END:VEVENT") {
                break;
            }
            let name = line.split([':', ';']).next().unwrap_or_default();
            if name.eq_ignore_ascii_case(prop) {
                return Some((i + 1, 1));
            }
        }
        Some((begin + 1, 1))
    }
}

/// The local date-time (in `tz`) a `DATE` or `DATE-TIME` property names.
fn local_in(value: &DatePerhapsTime, tz: Tz) -> Result<NaiveDateTime, String> {
    Ok(match value {
        DatePerhapsTime::Date(d) => d.and_time(NaiveTime::MIN),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(n)) => *n,
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => t.with_timezone(&tz).naive_local(),
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            let own = zone(tzid)?;
            if own == tz {
                *date_time
            } else {
                resolve_local(own, *date_time)
                    .with_timezone(&tz)
                    .naive_local()
            }
        }
    })
}

fn zone(tzid: &str) -> Result<Tz, String> {
    let name = tzid.trim_matches('"');
    // Some producers prefix the IANA name (`/mozilla.org/20050126_1/Europe/Berlin`).
    let candidates = [name, name.trim_start_matches('/')];
    candidates
        .iter()
        .find_map(|n| n.parse::<Tz>().ok())
        .or_else(|| {
            let parts: Vec<&str> = name.split('/').collect();
            (1..parts.len()).find_map(|i| parts[parts.len() - i - 1..].join("/").parse::<Tz>().ok())
        })
        .ok_or_else(|| {
            format!(
                "unknown time zone `TZID={name}`, expected an IANA name such as `Europe/Berlin`"
            )
        })
}

fn date_time(prop: &Property) -> Result<DatePerhapsTime, String> {
    DatePerhapsTime::try_from(prop).map_err(|_| {
        format!(
            "invalid {} `{}`, expected `20261225`, `20261225T100000Z` or `TZID=...:20261225T100000`",
            prop.name.as_str(),
            prop.val.as_str()
        )
    })
}

/// The values of every `EXDATE` of an event: exact local times and whole days.
fn exdates(comp: &Component, tz: Tz) -> Result<(Vec<NaiveDateTime>, Vec<NaiveDate>), String> {
    let (mut times, mut days) = (Vec::new(), Vec::new());
    for prop in comp
        .properties
        .iter()
        .filter(|p| p.name.as_str().eq_ignore_ascii_case("EXDATE"))
    {
        let own = match prop
            .params
            .iter()
            .find(|p| p.key.as_str().eq_ignore_ascii_case("TZID"))
        {
            Some(p) => Some(zone(
                p.val.as_ref().map(|v| v.as_str()).unwrap_or_default(),
            )?),
            None => None,
        };
        for value in prop
            .val
            .as_str()
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            let bad = || {
                format!(
                    "invalid EXDATE `{value}`, expected `20261225`, `20261225T100000Z` or `20261225T100000`"
                )
            };
            if let Some(utc) = value.strip_suffix('Z') {
                let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
                times.push(t.and_utc().with_timezone(&tz).naive_local());
            } else if let Ok(t) = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S") {
                times.push(match own {
                    Some(z) if z != tz => resolve_local(z, t).with_timezone(&tz).naive_local(),
                    _ => t,
                });
            } else {
                days.push(NaiveDate::parse_from_str(value, "%Y%m%d").map_err(|_| bad())?);
            }
        }
    }
    Ok((times, days))
}

fn duration(text: &str) -> Result<TimeDelta, String> {
    let bad = || format!("invalid DURATION `{text}`, expected ISO 8601 such as `PT2H` or `P1D`");
    let d = iso8601::duration(text.trim()).map_err(|_| bad())?;
    TimeDelta::from_std(std::time::Duration::from(d)).map_err(|_| bad())
}

/// One event as a window, or `None` when it blocks nothing (cancelled, or no length).
fn event(
    comp: &Component,
    index: usize,
    ctx: &IcsCtx,
    default_tz: Tz,
) -> Result<Option<Window>, LoadError> {
    let find = |name: &str| {
        comp.properties
            .iter()
            .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
    };
    if find("STATUS").is_some_and(|p| p.val.as_str().eq_ignore_ascii_case("CANCELLED")) {
        return Ok(None);
    }
    let err = |prop: &str, message: String| ctx.error(index, Some(prop), message);
    let start_prop =
        find("DTSTART").ok_or_else(|| ctx.error(index, None, "event has no `DTSTART`".into()))?;
    let start = date_time(start_prop).map_err(|m| err("DTSTART", m))?;
    let all_day = matches!(start, DatePerhapsTime::Date(_));
    // The zone occurrences are expanded in: the window's for all-day and floating events.
    let tz = match &start {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(_)) => chrono_tz::UTC,
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { tzid, .. }) => {
            zone(tzid).map_err(|m| err("DTSTART", m))?
        }
        _ => default_tz,
    };
    let local_start = local_in(&start, tz).map_err(|m| err("DTSTART", m))?;
    let local_end = match (find("DTEND"), find("DURATION")) {
        (Some(_), Some(_)) => {
            return Err(err(
                "DURATION",
                "give either `DTEND` or `DURATION`, not both".into(),
            ));
        }
        (Some(p), None) => {
            let end = date_time(p).map_err(|m| err("DTEND", m))?;
            local_in(&end, tz).map_err(|m| err("DTEND", m))?
        }
        (None, Some(p)) => {
            local_start + duration(p.val.as_str()).map_err(|m| err("DURATION", m))?
        }
        (None, None) if all_day => local_start + TimeDelta::days(1),
        (None, None) => local_start,
    };
    let length = local_end - local_start;
    if length < TimeDelta::zero() {
        return Err(err("DTEND", "event ends before it starts".into()));
    }
    if length == TimeDelta::zero() {
        return Ok(None);
    }
    let recurrence = match find("RRULE") {
        Some(rule) => {
            let (times, days) = exdates(comp, tz).map_err(|m| err("EXDATE", m))?;
            let span = RuleSpan::new(rule.val.as_str(), local_start, length, tz)
                .map_err(|m| err("RRULE", m))?;
            Recurrence::Rule(span.with_exdates(times, days))
        }
        None => {
            let from = resolve_local(tz, local_start);
            // DTEND is a time of its own; DURATION is elapsed time, or whole days on the
            // wall clock (RFC 5545), like the length of a recurring event.
            let whole_days = length.num_seconds() % 86_400 == 0;
            let to = if find("DTEND").is_some() || whole_days {
                resolve_local(tz, local_end)
            } else {
                from + length
            };
            match Interval::new(from, to) {
                Some(iv) => Recurrence::Once(iv),
                None => return Ok(None),
            }
        }
    };
    Ok(Some(Window::new(recurrence, tz)))
}

/// Every blocking event of an `.ics` file, as windows; `default_tz` is the zone of the window
/// that names the file (for all-day and floating events).
///
/// # Errors
/// Text that is not iCalendar, an event without `DTSTART`, bad dates, zones, durations or rules:
/// each names the file, the event's property line and the property.
pub(super) fn parse_calendar(
    text: &str,
    origin: &str,
    default_tz: Tz,
) -> Result<Vec<Window>, LoadError> {
    let ctx = IcsCtx { text, origin };
    let unfolded = unfold(text);
    let calendar = read_calendar(&unfolded).map_err(|e| LoadError {
        kind: LoadErrorKind::Config,
        location: Location::new(origin, None),
        field: None,
        message: crate::error::bound_message(format!(
            "not a valid iCalendar file: {}",
            e.trim_start_matches("error: ")
                .lines()
                .next()
                .unwrap_or_default()
        )),
    })?;
    let mut events = Vec::new();
    let mut index = 0;
    let mut stack: Vec<&Component> = calendar.components.iter().rev().collect();
    // Events sit at the top level or inside the VCALENDAR; VTIMEZONE and the like are skipped.
    let mut ordered = Vec::new();
    while let Some(c) = stack.pop() {
        if c.name.as_str().eq_ignore_ascii_case("VEVENT") {
            ordered.push(c);
        } else if !c.name.as_str().eq_ignore_ascii_case("VTIMEZONE") {
            stack.extend(c.components.iter().rev());
        }
    }
    for comp in ordered {
        if let Some(w) = event(comp, index, &ctx, default_tz)? {
            events.push(w);
        }
        index += 1;
    }
    Ok(events)
}
