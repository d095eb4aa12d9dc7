//! Calendar queries, in `schedule` hooks only: small answers, never the calendar itself. Each
//! query around the request tells the call's stability when its answer would next change.

use rhai::{Array, Dynamic, Engine, EvalAltResult, INT, Map, NativeCallContext};
use serde_json::Value;

use super::instant::Instant;
use crate::calendar::Calendar;
use crate::model::ChangeRequest;
use crate::script::convert::{bytes_cost, labels_map, strings};
use crate::script::sandbox::charge;
use crate::script::state::{CallState, state};
use crate::time::Interval;

/// What building one deployment's map costs, beyond the bytes its strings copy.
const DEPLOYMENT_COST: u64 = 64;

fn deployment_map(d: &ChangeRequest, st: &CallState) -> Result<Map, Box<EvalAltResult>> {
    charge(DEPLOYMENT_COST + bytes_cost(d.id.as_str().len()))?;
    let mut m = Map::new();
    m.insert("id".into(), Dynamic::from(d.id.to_string()));
    m.insert(
        "services".into(),
        Dynamic::from_array(strings(&d.services)?),
    );
    m.insert("environment".into(), Dynamic::from(d.environment.clone()));
    m.insert("type".into(), Dynamic::from(d.change_type.clone()));
    let iv = d.interval();
    m.insert(
        "start".into(),
        Dynamic::from(Instant::fixed(iv.start(), st.tz)),
    );
    m.insert("end".into(), Dynamic::from(Instant::fixed(iv.end(), st.tz)));
    m.insert(
        "labels".into(),
        Dynamic::from_map(labels_map(d.labels.iter())?),
    );
    Ok(m)
}

/// The calendar, and the request's interval, with the next change of the queried set (the
/// deployments of `service`, or of the environment, that `matches`) recorded.
fn around<'a>(
    st: &'a CallState,
    function: &str,
    service: Option<&str>,
    matches: impl Fn(&ChangeRequest) -> bool,
) -> Result<(&'a Calendar, Interval), Box<EvalAltResult>> {
    let calendar = st.calendar(function)?;
    let r = &st.request;
    let interval = st.interval;
    if st.tracks_stability {
        if let Some(at) = calendar.next_change(&r.environment, service, interval, matches) {
            st.depends_until(at);
        }
    }
    Ok((calendar, interval))
}

/// Whether `d` has the label `key` with the string `value`.
fn labelled(d: &ChangeRequest, key: &str, value: &str) -> bool {
    d.labels.get(key).and_then(Value::as_str) == Some(value)
}

/// Sorted ids of the deployments in the request's environment that overlap it and whose label
/// `key` is the string `value`.
fn ids_with_label(
    st: &CallState,
    function: &str,
    key: &str,
    value: &str,
) -> Result<Array, Box<EvalAltResult>> {
    let r = &st.request;
    let matches = |d: &ChangeRequest| d.id != r.id && labelled(d, key, value);
    let (calendar, interval) = around(st, function, None, matches)?;
    let mut ids: Vec<&str> = calendar
        .overlapping_environment(&r.environment, interval)
        .filter(|d| matches(d))
        .map(|d| d.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            charge(bytes_cost(id.len()))?;
            Ok(Dynamic::from(rhai::ImmutableString::from(id)))
        })
        .collect()
}

/// The most deployments one query returns: a bigger answer is read page by page
/// (`overlapping_deployments_page`) or counted (`count_overlapping_deployments`), so that a
/// busy calendar never runs a script into the collection limits.
pub(crate) const QUERY_PAGE: usize = 1_000;

/// The deployments overlapping the request (in its environment, or of `service`), other than
/// the request itself.
fn overlapping_iter<'a>(
    calendar: &'a Calendar,
    st: &'a CallState,
    service: Option<&'a str>,
    interval: Interval,
) -> Box<dyn Iterator<Item = &'a ChangeRequest> + 'a> {
    let r = &st.request;
    let all: Box<dyn Iterator<Item = &'a ChangeRequest> + 'a> = match service {
        Some(service) => Box::new(calendar.overlapping_service(&r.environment, service, interval)),
        None => Box::new(calendar.overlapping_environment(&r.environment, interval)),
    };
    Box::new(all.filter(move |d| d.id != r.id))
}

/// `overlapping_deployments([service])`, or one page of it.
fn overlapping(
    ctx: &NativeCallContext,
    function: &str,
    service: Option<&str>,
    page: Option<INT>,
) -> Result<Array, Box<EvalAltResult>> {
    let st = state(ctx)?;
    let (calendar, interval) = around(&st, function, service, |_| true)?;
    let skip = match page {
        None => 0,
        Some(p) => usize::try_from(p)
            .ok()
            .and_then(|p| p.checked_mul(QUERY_PAGE))
            .ok_or_else(|| format!("{function}: page `{p}` must be 0 or more"))?,
    };
    let mut out = Array::new();
    for d in overlapping_iter(calendar, &st, service, interval).skip(skip) {
        charge(1)?;
        if out.len() == QUERY_PAGE {
            if page.is_none() {
                let total = QUERY_PAGE
                    + overlapping_iter(calendar, &st, service, interval)
                        .skip(QUERY_PAGE)
                        .count();
                return Err(format!(
                    "{function} would return {total} deployments, more than {QUERY_PAGE} at once: count them with count_overlapping_deployments, or read them with overlapping_deployments_page(page)"
                )
                .into());
            }
            break;
        }
        out.push(Dynamic::from_map(deployment_map(d, &st)?));
    }
    Ok(out)
}

/// `count_overlapping_deployments([service])`.
fn count(ctx: &NativeCallContext, service: Option<&str>) -> Result<INT, Box<EvalAltResult>> {
    let st = state(ctx)?;
    let (calendar, interval) = around(&st, "count_overlapping_deployments", service, |_| true)?;
    let mut n: INT = 0;
    for _ in overlapping_iter(calendar, &st, service, interval) {
        charge(1)?;
        n = n.saturating_add(1);
    }
    Ok(n)
}

pub(super) fn register(engine: &mut Engine) {
    def!(
        engine,
        "overlapping_deployments",
        [],
        &[
            "The deployments of the calendar (`schedule` hook only) that overlap the request in its environment, other than the request itself: an array of maps (`id`, `services`, `environment`, `type`, `start`, `end`, `labels`, ...), at most one page; read more with `overlapping_deployments_page`."
        ],
        |ctx: NativeCallContext| { overlapping(&ctx, "overlapping_deployments", None, None) }
    );
    def!(
        engine,
        "overlapping_deployments",
        ["service"],
        &["`overlapping_deployments()` restricted to the deployments of `service`."],
        |ctx: NativeCallContext, service: &str| {
            overlapping(&ctx, "overlapping_deployments", Some(service), None)
        },
    );
    def!(
        engine,
        "overlapping_deployments_page",
        ["page"],
        &["Page `page` (from 0) of `overlapping_deployments()`."],
        |ctx: NativeCallContext, page: INT| {
            overlapping(&ctx, "overlapping_deployments_page", None, Some(page))
        },
    );
    def!(
        engine,
        "overlapping_deployments_page",
        ["service", "page"],
        &["Page `page` (from 0) of `overlapping_deployments(service)`."],
        |ctx: NativeCallContext, service: &str, page: INT| {
            overlapping(
                &ctx,
                "overlapping_deployments_page",
                Some(service),
                Some(page),
            )
        },
    );
    def!(
        engine,
        "count_overlapping_deployments",
        [],
        &["How many deployments overlap the request in its environment."],
        |ctx: NativeCallContext| { count(&ctx, None) }
    );
    def!(
        engine,
        "count_overlapping_deployments",
        ["service"],
        &["How many deployments of `service` overlap the request."],
        |ctx: NativeCallContext, service: &str| count(&ctx, Some(service)),
    );
    def!(
        engine,
        "overlapping_with_same_label",
        ["key"],
        &[
            "The sorted ids of the overlapping deployments whose label `key` has the same (string) value as the request's; empty when the request has no such label."
        ],
        |ctx: NativeCallContext, key: &str| {
            let st = state(&ctx)?;
            match st.request.labels.get(key).and_then(Value::as_str) {
                Some(value) => ids_with_label(&st, "overlapping_with_same_label", key, value),
                None => st
                    .calendar("overlapping_with_same_label")
                    .map(|_| Array::new()),
            }
        },
    );
    def!(
        engine,
        "overlapping_with_label",
        ["key", "value"],
        &["The sorted ids of the overlapping deployments whose label `key` is the string `value`."],
        |ctx: NativeCallContext, key: &str, value: &str| {
            state(&ctx).and_then(|st| ids_with_label(&st, "overlapping_with_label", key, value))
        },
    );
    def!(
        engine,
        "deployments_between",
        ["service", "from", "to"],
        &[
            "The deployments of `service` in the request's environment that overlap `[from, to)`, other than the request: an array of maps like `overlapping_deployments()`."
        ],
        |ctx: NativeCallContext, service: &str, from: Instant, to: Instant| {
            let st = state(&ctx)?;
            let calendar = st.calendar("deployments_between")?;
            if from.anchor.is_some() || to.anchor.is_some() {
                st.depends_on_every_start();
            }
            let r = &st.request;
            let Some(iv) = Interval::new(from.utc, to.utc) else {
                return Ok(Array::new());
            };
            let out: Array = calendar
                .overlapping_service(&r.environment, service, iv)
                .filter(|d| d.id != r.id)
                .map(|d| deployment_map(d, &st).map(Dynamic::from_map))
                .collect::<Result<_, _>>()?;
            Ok::<_, Box<EvalAltResult>>(out)
        },
    );
    def!(
        engine,
        "deployment",
        ["id"],
        &["The deployment `id` of the calendar as a map, or `()` when there is none."],
        |ctx: NativeCallContext, id: &str| {
            let st = state(&ctx)?;
            let calendar = st.calendar("deployment")?;
            match calendar.get(id) {
                Some(d) => deployment_map(d, &st).map(Dynamic::from_map),
                None => Ok(Dynamic::UNIT),
            }
        }
    );
}
