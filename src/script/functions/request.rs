//! The request as scripts see it: `request.services`, `request.start.hour`, ... and `now()`,
//! the time given to the check (never the clock).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::instant::{Anchor, Instant};
use crate::script::convert::{bytes_cost, json_to_dynamic, labels_map, strings};
use crate::script::sandbox::charge;
use crate::script::state::{CallState, state};
use crate::time::{parse_local_time, resolve_local};

/// The request of the current call.
#[derive(Clone)]
pub(crate) struct ScriptRequest(pub Arc<CallState>);

impl ScriptRequest {
    /// An instant `offset` after the start, moving with it.
    fn instant(&self, offset: chrono::TimeDelta) -> Instant {
        let st = &self.0;
        Instant {
            utc: st.start.checked_add_signed(offset).unwrap_or(st.start),
            tz: st.tz,
            anchor: Some(Anchor {
                offset,
                call: st.clone(),
            }),
        }
    }
}

/// A time of day for [`within_hours`]: `HH:MM`, or `24:00` for the end of the day.
fn time_of_day(text: &str) -> Result<Option<NaiveTime>, Box<EvalAltResult>> {
    if text.trim() == "24:00" {
        return Ok(None);
    }
    parse_local_time(text).map(Some).ok_or_else(|| {
        format!("within_hours: `{text}` is not a time of day such as `09:00`").into()
    })
}

/// `request.within_hours(from, to)`: whether the whole request runs between `from` and `to`
/// (local times of the bundle's zone, `to` may be `24:00`) on the day it starts. The answer
/// holds, as the start moves, until the request would cross `to` or reach the next `from`.
fn within_hours(r: &mut ScriptRequest, from: &str, to: &str) -> Result<bool, Box<EvalAltResult>> {
    let (Some(open_at), close_at) = (time_of_day(from)?, time_of_day(to)?) else {
        return Err("within_hours: `24:00` can only end the hours".into());
    };
    if close_at.is_some_and(|c| c <= open_at) {
        return Err(format!("within_hours: `{to}` must be after `{from}`").into());
    }
    let st = &r.0;
    let tz = st.tz;
    let length = st.interval.length();
    let open = |d: NaiveDate| resolve_local(tz, d.and_time(open_at));
    let close = |d: NaiveDate| match close_at {
        Some(c) => Some(resolve_local(tz, d.and_time(c))),
        None => d
            .succ_opt()
            .map(|n| resolve_local(tz, n.and_time(NaiveTime::MIN))),
    };
    let fits = |d: NaiveDate, s: DateTime<Utc>| {
        close(d)
            .is_some_and(|c| s >= open(d) && s.checked_add_signed(length).is_some_and(|e| e <= c))
    };
    let s = st.start;
    let date = s.with_timezone(&tz).date_naive();
    if fits(date, s) {
        // Inside until the end would pass `to`.
        if let Some(until) = close(date)
            .and_then(|c| c.checked_sub_signed(length))
            .and_then(|t| t.checked_add_signed(TimeDelta::nanoseconds(1)))
        {
            st.depends_until(until);
        }
        return Ok(true);
    }
    // Outside until the next opening at which the request fits (within a week: hours shorter
    // than the request never fit, and the answer then never changes).
    let mut day = Some(date);
    for _ in 0..8 {
        let Some(d) = day else { break };
        let at = open(d);
        if at > s && fits(d, at) {
            st.depends_until(at);
            break;
        }
        day = d.succ_opt();
    }
    Ok(false)
}

/// The documentation of the `Request` type, for the definitions.
pub(crate) const REQUEST_DOC: &str = "Request: the change request of the check (`request` in \
    `fn schedule(request)`, `ctx` in the other hooks), read-only.";

pub(super) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<ScriptRequest>("Request");
    get!(
        engine,
        "id",
        &["The request's id."],
        |r: &mut ScriptRequest| { rhai::ImmutableString::from(r.0.request.id.as_str()) }
    );
    get!(
        engine,
        "services",
        &["The services it changes (an array of strings)."],
        |r: &mut ScriptRequest| strings(&r.0.request.services),
    );
    get!(
        engine,
        "environment",
        &["The environment it deploys to."],
        |r: &mut ScriptRequest| r.0.request.environment.clone(),
    );
    get!(
        engine,
        "type",
        &["The change type (`feature`, `hotfix`, `emergency`, ...)."],
        |r: &mut ScriptRequest| r.0.request.change_type.clone(),
    );
    get!(
        engine,
        "requested_by",
        &["Who requested it, or `()` when the request does not say."],
        |r: &mut ScriptRequest| {
            r.0.request
                .requested_by
                .clone()
                .map_or(Dynamic::UNIT, Dynamic::from)
        },
    );
    get!(
        engine,
        "depends_on",
        &["The ids of the changes it depends on (an array of strings)."],
        |r: &mut ScriptRequest| -> Result<Array, Box<EvalAltResult>> {
            r.0.request
                .depends_on
                .iter()
                .map(|d| {
                    let d = d.to_string();
                    charge(bytes_cost(d.len()))?;
                    Ok(Dynamic::from(d))
                })
                .collect()
        },
    );
    get!(
        engine,
        "labels",
        &["Its free-form labels, as a map."],
        |r: &mut ScriptRequest| -> Result<Map, Box<EvalAltResult>> {
            labels_map(r.0.request.labels.iter())
        },
    );
    def!(
        engine,
        "label",
        ["request", "key"],
        &["The label `key` of the request, or `()` when it has none."],
        |r: &mut ScriptRequest, key: &str| {
            r.0.request
                .labels
                .get(key)
                .map_or(Ok(Dynamic::UNIT), json_to_dynamic)
        },
    );
    get!(
        engine,
        "start",
        &["When it starts, an `Instant` in the bundle's zone."],
        |r: &mut ScriptRequest| r.instant(chrono::TimeDelta::zero()),
    );
    get!(
        engine,
        "end",
        &["When it ends (exclusive), an `Instant` in the bundle's zone."],
        |r: &mut ScriptRequest| r.instant(r.0.interval.length()),
    );
    get!(
        engine,
        "duration_minutes",
        &["How long it runs, in whole minutes."],
        |r: &mut ScriptRequest| r.0.request.duration.num_minutes(),
    );
    def!(
        engine,
        "within_hours",
        ["request", "from", "to"],
        &[
            "Whether the whole request runs between `from` and `to` (local times `HH:MM` of the \
             bundle's zone, `to` may be `24:00`) on the day it starts.",
        ],
        within_hours,
    );
    def!(
        engine,
        "to_string",
        ["request"],
        &["The request as text: request `id`."],
        |r: &mut ScriptRequest| format!("request `{}`", r.0.request.id),
    );
    def!(
        engine,
        "now",
        [],
        &[
            "The time given to the check (`now`, never the clock), an `Instant` in the bundle's zone."
        ],
        |ctx: NativeCallContext| state(&ctx).map(|st| Instant::fixed(st.now, st.tz)),
    );
}
