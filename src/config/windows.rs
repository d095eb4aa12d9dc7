//! Window forms: a named window of `policy.yaml` (`weekly`, `yearly`, `once`, `cron`, `rrule`
//! or `ics`) read into a [`NamedWindow`], each form's fields checked with their own position.

use chrono::{NaiveDate, NaiveDateTime, Weekday};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::Deserialize;

use super::bundle::PolicyCtx;
use super::schema::{CronText, LocalDateTimeText, RRuleText, WeeklyTimeText, ZoneText};
use super::yaml::{DurationField, Seg};
use crate::error::LoadError;
use crate::rules::NamedWindow;
use crate::time::{
    CronPattern, CronSpan, Interval, Recurrence, RuleSpan, Window, parse_instant, parse_local_time,
    parse_weekday, resolve_local,
};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WindowDoc {
    name: String,
    #[schemars(with = "Option<ZoneText>")]
    timezone: Option<String>,
    weekly: Option<WeeklyDoc>,
    yearly: Option<RangeDoc>,
    once: Option<RangeDoc>,
    cron: Option<CronDoc>,
    rrule: Option<RRuleDoc>,
    ics: Option<String>,
    services: Option<Vec<String>>,
    #[serde(default)]
    pub(super) exempt_types: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WeeklyDoc {
    days: Option<Vec<String>>,
    #[schemars(with = "WeeklyTimeText")]
    from: String,
    #[schemars(with = "WeeklyTimeText")]
    to: String,
}

/// `cron: {start: "0 16 * * 5", end: "0 6 * * 1"}`, GitLab's freeze period.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CronDoc {
    #[schemars(with = "CronText")]
    start: String,
    #[schemars(with = "CronText")]
    end: String,
}

/// `rrule: {rule: "FREQ=MONTHLY;BYDAY=-1FR", start: "2026-01-01T18:00", duration: 12h}`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RRuleDoc {
    #[schemars(with = "RRuleText")]
    rule: String,
    #[schemars(with = "LocalDateTimeText")]
    start: String,
    duration: DurationField,
    #[serde(default)]
    exdates: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RangeDoc {
    #[schemars(with = "LocalDateTimeText")]
    from: String,
    #[schemars(with = "LocalDateTimeText")]
    to: String,
}

impl PolicyCtx<'_> {
    pub(super) fn window(
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
        let events = super::ics::parse_calendar(text, origin, tz)?;
        Ok(Recurrence::Calendar {
            name: name.to_owned(),
            events,
        })
    }
}
