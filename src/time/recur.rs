//! The recurrence forms that come from other tools' syntax: GitLab-style cron pairs
//! ([`CronSpan`]) and RFC 5545 rules ([`RuleSpan`]). The only place that imports `croner` and
//! `rrule`.
//!
//! Both are evaluated on the **wall clock**: a pattern or rule is expanded over naive local
//! date-times of its zone (no zone attached, so the crates never apply their own DST rules), and
//! each local occurrence is then turned into an instant by [`resolve_local`], the one
//! rule for gaps and folds.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};

use super::resolve_local;
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use rrule::{Frequency, RRule, RRuleSet, RRuleSetIter, Unvalidated};

/// A five-field cron pattern (`minute hour day-of-month month day-of-week`), as GitLab writes
/// freeze periods: `0 16 * * 5` is Friday 16:00.
///
/// Day of week is `0`-`7` (Sunday is `0` and `7`) or `SUN`-`SAT`; when both day fields are
/// restricted, a day matching either one matches (Vixie cron's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronPattern {
    text: String,
    cron: Box<Cron>,
}

impl CronPattern {
    /// Parses a five-field pattern.
    ///
    /// # Errors
    /// A pattern that does not parse, has six or seven fields, or never matches any time.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.split_whitespace().count() != 5 && !trimmed.starts_with('@') {
            return Err(format!(
                "invalid cron pattern `{text}`, expected five fields `minute hour day-of-month month day-of-week` such as `0 16 * * 5`"
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(trimmed)
            .map_err(|e| format!("invalid cron pattern `{text}`: {e}"))?;
        let probe = NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        if cron.find_next_occurrence(&probe, true).is_err() {
            return Err(format!("cron pattern `{text}` never matches a time"));
        }
        Ok(Self {
            text: trimmed.to_owned(),
            cron: Box::new(cron),
        })
    }

    /// The first local time at or after (`inclusive`) or strictly after `from` that matches.
    pub(crate) fn next_after(&self, from: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.cron.find_next_occurrence(&from, inclusive).ok()
    }

    /// The last local time at or before `at` that matches.
    pub(crate) fn previous_at_or_before(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        self.cron.find_previous_occurrence(&at, true).ok()
    }
}

impl fmt::Display for CronPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A GitLab freeze period: active from each occurrence of `start` until the first occurrence of
/// `end` after it. Starts that come while a period is active extend nothing (the period still
/// ends at the next `end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronSpan {
    start: CronPattern,
    end: CronPattern,
}

impl CronSpan {
    /// The span from each `start` occurrence to the next `end` occurrence.
    pub(crate) fn new(start: CronPattern, end: CronPattern) -> Self {
        Self { start, end }
    }

    /// The start pattern.
    pub(crate) fn start(&self) -> &CronPattern {
        &self.start
    }

    /// The end pattern.
    pub(crate) fn end(&self) -> &CronPattern {
        &self.end
    }

    /// The first local period whose start is at or after `cursor`: `(start, end)` on the wall
    /// clock. A period whose end never comes ends at `far` (fail closed).
    pub(crate) fn period_from(
        &self,
        cursor: NaiveDateTime,
        far: NaiveDateTime,
    ) -> Option<(NaiveDateTime, NaiveDateTime)> {
        let s = self.start.next_after(cursor, true)?;
        let e = self.end.next_after(s, false).unwrap_or(far.max(s));
        Some((s, e))
    }

    /// Where to begin walking periods so that one active at `lo` is not missed.
    pub(crate) fn walk_origin(&self, lo: NaiveDateTime) -> NaiveDateTime {
        self.start.previous_at_or_before(lo).unwrap_or(lo)
    }
}

/// Most occurrences a [`RuleSpan`] expands from one anchor. Rules with a fixed period
/// (`HOURLY`, `DAILY`, `WEEKLY` without `COUNT`) are expanded from an anchor moved forward by
/// whole periods to within a year of the instants asked about, so this limit bounds the work
/// of one query rather than the reach of the rule; a query that needs more occurrences than
/// this from its anchor is answered fail-closed ([`RuleStarts::truncated`]).
pub(crate) const MAX_RULE_OCCURRENCES: usize = 1_000_000;

/// The local starts a [`RuleSpan`] has for a query, and whether expansion stopped at
/// [`MAX_RULE_OCCURRENCES`] before the end of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleStarts {
    /// Starts of the occurrences overlapping the query, in order, without the excluded ones.
    pub(crate) starts: Vec<NaiveDateTime>,
    /// `Some(t)`: occurrences could not be computed from local time `t` to the end of the
    /// query; the caller must treat that part as covered (fail closed).
    pub(crate) truncated: Option<NaiveDateTime>,
}

/// An RFC 5545 recurrence rule with a local start (`DTSTART`) and a length, e.g.
/// `FREQ=MONTHLY;BYDAY=-1FR` from `2026-01-01T18:00` for `12h`: 18:00 on the last Friday of
/// every month until 06:00 the next morning.
///
/// As in RFC 5545, a length of whole days (`1d`, `2w`, also `24h`) is counted in calendar days
/// on the wall clock (the occurrence ends at the same local time that many days later); any
/// other length is elapsed time from the resolved start. So an occurrence never vanishes in a
/// DST gap, and an all-day event always covers its local day.
///
/// Occurrences are expanded lazily and kept (behind a lock shared by clones), so each
/// occurrence is computed once however often the rule is queried.
#[derive(Clone)]
pub(crate) struct RuleSpan {
    inner: Arc<RuleInner>,
}

#[derive(Clone)]
struct RuleInner {
    text: String,
    start: NaiveDateTime,
    length: TimeDelta,
    exdates: BTreeSet<NaiveDateTime>,
    exdays: BTreeSet<NaiveDate>,
    set: RRuleSet,
    /// The rule as parsed (with `UNTIL` applied), to rebuild it from a later anchor.
    rule: RRule<Unvalidated>,
    until: Option<NaiveDateTime>,
    /// The length of one period when the rule can be started any whole number of periods
    /// later without changing its occurrences (`HOURLY`, `DAILY`, `WEEKLY`, no `COUNT`).
    period: Option<TimeDelta>,
    cache: Arc<RwLock<RuleCache>>,
}

struct RuleCache {
    /// Where the expansion kept in `starts` began (the rule's start, or later by whole periods).
    anchor: NaiveDateTime,
    starts: Vec<NaiveDateTime>,
    /// `None` once the rule has no more occurrences (or the limit was reached).
    iter: Option<RRuleSetIter>,
    /// Whether expansion stopped at [`MAX_RULE_OCCURRENCES`] (not at the rule's end).
    truncated: bool,
}

/// The period of a rule that may be shifted by whole periods, see [`RuleInner::period`].
fn shift_period(rule: &RRule<Unvalidated>) -> Option<TimeDelta> {
    if rule.get_count().is_some() {
        return None;
    }
    let n = i64::from(rule.get_interval().max(1));
    match rule.get_freq() {
        Frequency::Hourly => Some(TimeDelta::hours(n)),
        Frequency::Daily => Some(TimeDelta::days(n)),
        Frequency::Weekly => Some(TimeDelta::weeks(n)),
        _ => None,
    }
}

/// How far apart anchors are: the whole periods in a year (at least one).
fn anchor_step(period: TimeDelta) -> TimeDelta {
    let year = TimeDelta::days(366);
    let k = (year.num_seconds() / period.num_seconds().max(1)).max(1);
    period * i32::try_from(k).unwrap_or(1)
}

/// A zone-less stand-in: local wall-clock times are expanded as if they were UTC, so the rrule
/// crate applies no DST rule of its own.
fn floating(local: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&local)
}

/// Parses `20261231T000000Z`, `20261231T000000` or `20261231` (an RRULE `UNTIL`).
fn parse_until(value: &str, tz: Tz) -> Option<NaiveDateTime> {
    if let Some(utc) = value.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(Utc.from_utc_datetime(&t).with_timezone(&tz).naive_local());
    }
    NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(value, "%Y%m%d")
                .ok()
                .and_then(|d| d.and_hms_opt(23, 59, 59))
        })
}

impl RuleSpan {
    /// A rule (`FREQ=...`, with or without a leading `RRULE:`) starting at the local time
    /// `start` in `tz`, each occurrence lasting `length` on the wall clock.
    ///
    /// `UNTIL` may be UTC (`...Z`, converted to local time in `tz`) or local. Rules more frequent
    /// than hourly are refused (a blackout that repeats every minute is not a window).
    ///
    /// # Errors
    /// A rule that does not parse or validate, a non-positive length, a rule more frequent than
    /// `HOURLY`, or one that never occurs.
    pub(crate) fn new(
        rule: &str,
        start: NaiveDateTime,
        length: TimeDelta,
        tz: Tz,
    ) -> Result<Self, String> {
        let text = rule.trim();
        let body = text.strip_prefix("RRULE:").unwrap_or(text);
        if length <= TimeDelta::zero() {
            return Err("an occurrence must last longer than zero".into());
        }
        // The rrule crate slices `BYDAY` values by bytes and panics inside a multi-byte
        // character (found by fuzz/check): a rule is ASCII or it is refused here.
        if !text.is_ascii() {
            return Err(format!(
                "invalid recurrence rule `{text}`: only ASCII characters may appear in a rule"
            ));
        }
        // UNTIL is taken out and applied on the wall clock, like every other time here.
        let mut until = None;
        let mut parts = Vec::new();
        for part in body.split(';').filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("UNTIL") => {
                    until = Some(parse_until(v.trim(), tz).ok_or_else(|| {
                        format!("invalid `UNTIL={v}` in rule `{text}`, expected `20261231T000000Z` or `20261231`")
                    })?);
                }
                _ => parts.push(part),
            }
        }
        let parsed: RRule<Unvalidated> = RRule::from_str(&parts.join(";"))
            .map_err(|e| format!("invalid recurrence rule `{text}`: {e}"))?;
        if matches!(parsed.get_freq(), Frequency::Minutely | Frequency::Secondly) {
            return Err(format!(
                "recurrence rule `{text}` repeats more often than hourly; use `HOURLY` or a coarser `FREQ`"
            ));
        }
        let parsed = match until {
            Some(u) => parsed.until(floating(u)),
            None => parsed,
        };
        let period = shift_period(&parsed);
        let set = parsed
            .clone()
            .build(floating(start))
            .map_err(|e| format!("invalid recurrence rule `{text}`: {e}"))?
            .limit();
        let span = Self {
            inner: Arc::new(RuleInner {
                text: text.to_owned(),
                start,
                length,
                exdates: BTreeSet::new(),
                exdays: BTreeSet::new(),
                cache: Arc::new(RwLock::new(RuleCache {
                    anchor: start,
                    starts: Vec::new(),
                    iter: Some(set.clone().into_iter()),
                    truncated: false,
                })),
                set,
                rule: parsed,
                until,
                period,
            }),
        };
        if !span.occurs() {
            return Err(format!(
                "recurrence rule `{text}` never occurs after {start}"
            ));
        }
        Ok(span)
    }

    /// Leaves out the occurrences that start at one of `times` (local), or on one of `days`.
    pub(crate) fn with_exdates(
        mut self,
        times: impl IntoIterator<Item = NaiveDateTime>,
        days: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        let inner = Arc::make_mut(&mut self.inner);
        inner.exdates.extend(times);
        inner.exdays.extend(days);
        self
    }

    /// The rule as written.
    pub(crate) fn rule(&self) -> &str {
        &self.inner.text
    }

    /// The local start (`DTSTART`).
    pub(crate) fn start(&self) -> NaiveDateTime {
        self.inner.start
    }

    /// How long each occurrence lasts (see the type's docs for whole days).
    pub(crate) fn length(&self) -> TimeDelta {
        self.inner.length
    }

    /// The instants of the occurrence that starts at local time `start` in `tz`.
    pub(crate) fn occurrence(
        &self,
        tz: Tz,
        start: NaiveDateTime,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let from = resolve_local(tz, start);
        let length = self.inner.length;
        let whole_days = length.num_seconds() % 86_400 == 0 && length.subsec_nanos() == 0;
        // At the end of chrono's range an occurrence is cut there.
        let to = if whole_days {
            resolve_local(
                tz,
                start
                    .checked_add_signed(length)
                    .unwrap_or(NaiveDateTime::MAX),
            )
        } else {
            from.checked_add_signed(length)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        (from, to)
    }

    /// Whether the rule has at least one occurrence (expanding just the first).
    fn occurs(&self) -> bool {
        let mut cache = self
            .inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.starts.is_empty() {
            match cache.iter.as_mut().and_then(Iterator::next) {
                Some(t) => cache.starts.push(t.naive_utc()),
                None => cache.iter = None,
            }
        }
        !cache.starts.is_empty()
    }

    /// Where to expand from so that an occurrence overlapping local time `lo` is found:
    /// the rule's start, or (for a rule with a fixed period) a later start by whole periods,
    /// quantized to about a year so nearby queries share one expansion.
    fn anchor_for(&self, lo: NaiveDateTime) -> NaiveDateTime {
        let inner = &self.inner;
        let Some(period) = inner.period else {
            return inner.start;
        };
        let Some(needed) = lo.checked_sub_signed(inner.length) else {
            return inner.start;
        };
        if needed <= inner.start {
            return inner.start;
        }
        let step = anchor_step(period);
        let steps = (needed - inner.start).num_seconds() / step.num_seconds().max(1);
        i32::try_from(steps)
            .ok()
            .and_then(|k| step.checked_mul(k))
            .and_then(|d| inner.start.checked_add_signed(d))
            .unwrap_or(inner.start)
    }

    /// A fresh expansion from `anchor` (`None` when nothing occurs from there).
    fn iter_from(&self, anchor: NaiveDateTime) -> Result<Option<RRuleSetIter>, ()> {
        let inner = &self.inner;
        if anchor == inner.start {
            return Ok(Some(inner.set.clone().into_iter()));
        }
        if inner.until.is_some_and(|u| u < anchor) {
            return Ok(None);
        }
        inner
            .rule
            .clone()
            .build(floating(anchor))
            .map(|set| Some(set.limit().into_iter()))
            .map_err(|_| ())
    }

    /// Expands the rule until its last kept occurrence is at or after `hi`.
    fn extend(cache: &mut RuleCache, hi: NaiveDateTime) {
        let covered = |c: &RuleCache| c.iter.is_none() || c.starts.last().is_some_and(|l| *l >= hi);
        while !covered(cache) {
            if cache.starts.len() >= MAX_RULE_OCCURRENCES {
                cache.iter = None;
                cache.truncated = true;
                break;
            }
            match cache.iter.as_mut().and_then(Iterator::next) {
                Some(t) => cache.starts.push(t.naive_utc()),
                None => cache.iter = None,
            }
        }
    }

    /// Local starts of the occurrences that overlap `[lo, hi)` on the wall clock, in order,
    /// without the excluded ones, and where (if anywhere) expansion could not reach `hi`.
    pub(crate) fn starts_overlapping(&self, lo: NaiveDateTime, hi: NaiveDateTime) -> RuleStarts {
        let anchor = self.anchor_for(lo);
        {
            let cache = self
                .inner
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let ready = cache.iter.is_none() || cache.starts.last().is_some_and(|l| *l >= hi);
            if cache.anchor == anchor && ready {
                return self.pick(&cache, lo, hi);
            }
        }
        let mut guard = self
            .inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let cache = &mut *guard;
        if cache.anchor != anchor {
            match self.iter_from(anchor) {
                Ok(iter) => {
                    *cache = RuleCache {
                        anchor,
                        starts: Vec::new(),
                        iter,
                        truncated: false,
                    };
                }
                Err(()) => {
                    return RuleStarts {
                        starts: Vec::new(),
                        truncated: Some(lo),
                    };
                }
            }
        }
        Self::extend(cache, hi);
        self.pick(cache, lo, hi)
    }

    /// The kept starts overlapping `[lo, hi)`, see [`Self::starts_overlapping`].
    fn pick(&self, cache: &RuleCache, lo: NaiveDateTime, hi: NaiveDateTime) -> RuleStarts {
        let from = lo
            .checked_sub_signed(self.inner.length)
            .unwrap_or(NaiveDateTime::MIN);
        let a = cache.starts.partition_point(|s| *s <= from);
        let b = cache.starts.partition_point(|s| *s < hi);
        let reached = cache.starts.last().is_some_and(|l| *l >= hi);
        let truncated = (cache.truncated && !reached)
            .then(|| cache.starts.last().copied().unwrap_or(lo).max(lo));
        let starts = cache
            .starts
            .get(a..b)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|s| !self.inner.exdates.contains(s) && !self.inner.exdays.contains(&s.date()))
            .collect();
        RuleStarts { starts, truncated }
    }
}

impl fmt::Debug for RuleSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSpan")
            .field("rule", &self.inner.text)
            .field("start", &self.inner.start)
            .field("length", &self.inner.length)
            .field("exdates", &self.inner.exdates)
            .field("exdays", &self.inner.exdays)
            .finish()
    }
}

impl PartialEq for RuleSpan {
    fn eq(&self, other: &Self) -> bool {
        self.inner.set == other.inner.set
            && self.inner.start == other.inner.start
            && self.inner.length == other.inner.length
            && self.inner.exdates == other.inner.exdates
            && self.inner.exdays == other.inner.exdays
    }
}

impl Eq for RuleSpan {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_patterns_parse_or_say_why_not() {
        assert!(CronPattern::parse("0 16 * * 5").is_ok());
        assert!(CronPattern::parse("0 16 * *").is_err());
        assert!(CronPattern::parse("0 0 30 2 *").is_err()); // 30 February never comes
    }

    #[test]
    fn rules_more_frequent_than_hourly_or_unknown_are_refused() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(18, 0, 0)
            .unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let rule = RuleSpan::new("FREQ=MONTHLY;BYDAY=-1FR", start, TimeDelta::hours(12), tz);
        assert!(rule.is_ok());
        assert!(RuleSpan::new("FREQ=FORTNIGHTLY", start, TimeDelta::hours(1), tz).is_err());
        // Found by fuzz/check: rrule panicked on a multi-byte character in BYDAY.
        assert!(
            RuleSpan::new(
                "FREQ=MONTHLY;BYDAY=-\u{3b9}R",
                start,
                TimeDelta::hours(1),
                tz
            )
            .is_err()
        );
    }

    #[test]
    fn anchored_expansion_finds_what_expansion_from_the_start_finds() {
        let tz: Tz = "UTC".parse().unwrap();
        let at = |y, m, d, h| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        let start = at(2000, 1, 6, 10); // a Thursday
        for rule in [
            "FREQ=WEEKLY;BYDAY=MO,FR",
            "FREQ=WEEKLY;INTERVAL=3",
            "FREQ=HOURLY;INTERVAL=7;BYMINUTE=0,30",
            "FREQ=DAILY;INTERVAL=2;BYMONTH=3,6",
            "FREQ=DAILY;BYHOUR=1,13;UNTIL=20300101T000000Z",
        ] {
            let span = RuleSpan::new(rule, start, TimeDelta::hours(2), tz).unwrap();
            let (lo, hi) = (at(2026, 3, 1, 0), at(2026, 7, 1, 0));
            let anchored = span.starts_overlapping(lo, hi);
            assert_eq!(anchored.truncated, None, "{rule}");
            let from = lo - TimeDelta::hours(2);
            let full: Vec<NaiveDateTime> = span
                .inner
                .set
                .clone()
                .into_iter()
                .map(|t| t.naive_utc())
                .skip_while(|t| *t <= from)
                .take_while(|t| *t < hi)
                .collect();
            assert!(!full.is_empty(), "{rule}");
            assert_eq!(anchored.starts, full, "{rule}");
        }
    }
}
