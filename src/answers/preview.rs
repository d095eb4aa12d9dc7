//! The next occurrences of every recurring window of a policy ([`PolicySet::preview`]), in
//! local time and UTC, marked where a DST change moved or split one.

use chrono::{DateTime, FixedOffset, Offset, TimeDelta, TimeZone, Utc};
use serde::Serialize;

use super::local;
use crate::decision::RuleId;
use crate::policy::PolicySet;
use crate::rules::schedule::{blackout, preferred};
use crate::time::{Interval, add_saturating};

/// How a DST change touched one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DstMark {
    /// The UTC offset at the start differs from the offset at the end: a DST change falls
    /// inside the occurrence.
    Split,
    /// The UTC offset at the start differs from the previous occurrence's: the same local
    /// time is another UTC time.
    Moved,
}

impl DstMark {
    /// `split` or `moved`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DstMark::Split => "split",
            DstMark::Moved => "moved",
        }
    }
}

/// One occurrence of a window, in local time and UTC.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OccurrencePreview {
    /// Start, in the window's zone.
    pub start: DateTime<FixedOffset>,
    /// End (exclusive), in the window's zone.
    pub end: DateTime<FixedOffset>,
    /// Start in UTC.
    pub start_utc: DateTime<Utc>,
    /// End in UTC.
    pub end_utc: DateTime<Utc>,
    /// Where a DST change split or moved it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dst: Vec<DstMark>,
}

/// The next occurrences of one blackout or preferred window of the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WindowPreview {
    /// The environment it belongs to.
    pub environment: String,
    /// `blackout` or `preferred_window`.
    pub kind: RuleId,
    /// Its name in policy.yaml.
    pub name: String,
    /// A short description, e.g. `Fri 16:00 - Mon 06:00 Europe/Berlin`.
    pub description: String,
    /// The zone its local times are in.
    pub timezone: String,
    /// The next occurrences, in order of start (one in progress at `from` first).
    pub occurrences: Vec<OccurrencePreview>,
}

/// How far ahead [`PolicySet::preview`] looks for occurrences.
const PREVIEW_REACH_YEARS: i64 = 10;

impl PolicySet {
    /// The next `count` occurrences of every blackout and preferred window, per environment,
    /// from `from`, marked where a DST change moved or split one.
    ///
    /// # Example
    /// ```
    /// use changegate::PolicySet;
    /// let policy = PolicySet::builtin().unwrap();
    /// let from = chrono::DateTime::parse_from_rfc3339("2026-03-20T00:00:00Z").unwrap();
    /// let preview = policy.preview(from, 2);
    /// let weekend = preview.iter().find(|w| w.name == "weekend-freeze").unwrap();
    /// // The freeze of 27-30 March spans the switch to summer time.
    /// assert_eq!(weekend.occurrences[1].start.to_rfc3339(), "2026-03-27T16:00:00+01:00");
    /// assert_eq!(weekend.occurrences[1].end.to_rfc3339(), "2026-03-30T06:00:00+02:00");
    /// ```
    pub fn preview(&self, from: impl Into<DateTime<Utc>>, count: usize) -> Vec<WindowPreview> {
        let from = from.into();
        let reach_end = add_saturating(from, TimeDelta::days(366 * PREVIEW_REACH_YEARS));
        let reach = Interval::new(from, reach_end);
        let mut out = Vec::new();
        for env in self.environments() {
            let Some(rules) = self.schedule_rules(env) else {
                continue;
            };
            let blackouts = rules.blackouts.iter().map(|r| (blackout::ID, &r.value));
            let preferred = rules
                .preferred_window
                .iter()
                .flat_map(|r| r.value.iter())
                .map(|w| (preferred::ID, w));
            for (kind, w) in blackouts.chain(preferred) {
                let tz = w.window.tz();
                let mut occurrences = Vec::new();
                let mut previous: Option<FixedOffset> = None;
                for occ in reach
                    .iter()
                    .flat_map(|q| w.window.occurrences(*q))
                    .take(count)
                {
                    let offset =
                        |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
                    let (at_start, at_end) = (offset(occ.start()), offset(occ.end()));
                    let mut dst = Vec::new();
                    if at_start != at_end {
                        dst.push(DstMark::Split);
                    }
                    if previous.is_some_and(|p| p != at_start) {
                        dst.push(DstMark::Moved);
                    }
                    previous = Some(at_start);
                    occurrences.push(OccurrencePreview {
                        start: local(occ.start(), tz),
                        end: local(occ.end(), tz),
                        start_utc: occ.start(),
                        end_utc: occ.end(),
                        dst,
                    });
                }
                out.push(WindowPreview {
                    environment: env.to_owned(),
                    kind: RuleId::from(kind),
                    name: w.name.clone(),
                    description: w.window.to_string(),
                    timezone: tz.to_string(),
                    occurrences,
                });
            }
        }
        out
    }
}
