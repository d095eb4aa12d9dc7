//! Calendar queries, in `schedule` hooks only: small answers, never the calendar itself. Each
//! query around the request tells the call's stability when its answer would next change.

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, NativeCallContext};
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
    let interval = r.interval();
    if let Some(at) = calendar.next_change(&r.environment, service, interval, matches) {
        st.depends_until(at);
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
            Ok(Dynamic::from(id.to_owned()))
        })
        .collect()
}

pub(super) fn register(engine: &mut Engine) {
    engine.register_fn("overlapping_deployments", |ctx: NativeCallContext| {
        let st = state(&ctx)?;
        let (calendar, interval) = around(&st, "overlapping_deployments", None, |_| true)?;
        let r = &st.request;
        let out: Array = calendar
            .overlapping_environment(&r.environment, interval)
            .filter(|d| d.id != r.id)
            .map(|d| deployment_map(d, &st).map(Dynamic::from_map))
            .collect::<Result<_, _>>()?;
        Ok::<_, Box<EvalAltResult>>(out)
    });
    engine.register_fn(
        "overlapping_deployments",
        |ctx: NativeCallContext, service: &str| {
            let st = state(&ctx)?;
            let (calendar, interval) =
                around(&st, "overlapping_deployments", Some(service), |_| true)?;
            let r = &st.request;
            let out: Array = calendar
                .overlapping_service(&r.environment, service, interval)
                .filter(|d| d.id != r.id)
                .map(|d| deployment_map(d, &st).map(Dynamic::from_map))
                .collect::<Result<_, _>>()?;
            Ok::<_, Box<EvalAltResult>>(out)
        },
    );
    engine.register_fn(
        "overlapping_with_same_label",
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
    engine.register_fn(
        "overlapping_with_label",
        |ctx: NativeCallContext, key: &str, value: &str| {
            state(&ctx).and_then(|st| ids_with_label(&st, "overlapping_with_label", key, value))
        },
    );
    engine.register_fn(
        "deployments_between",
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
    engine.register_fn("deployment", |ctx: NativeCallContext, id: &str| {
        let st = state(&ctx)?;
        let calendar = st.calendar("deployment")?;
        match calendar.get(id) {
            Some(d) => deployment_map(d, &st).map(Dynamic::from_map),
            None => Ok(Dynamic::UNIT),
        }
    });
}
