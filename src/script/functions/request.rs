//! The request as scripts see it: `request.services`, `request.start.hour`, ... and `now()`,
//! the time given to the check (never the clock).

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map, NativeCallContext};

use super::instant::{Anchor, Instant};
use crate::script::convert::{json_to_dynamic, strings};
use crate::script::state::{CallState, state};

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

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<ScriptRequest>("Request")
        .register_get("id", |r: &mut ScriptRequest| r.0.request.id.to_string())
        .register_get("services", |r: &mut ScriptRequest| {
            strings(&r.0.request.services)
        })
        .register_get("environment", |r: &mut ScriptRequest| {
            r.0.request.environment.clone()
        })
        .register_get("type", |r: &mut ScriptRequest| {
            r.0.request.change_type.clone()
        })
        .register_get("requested_by", |r: &mut ScriptRequest| {
            r.0.request
                .requested_by
                .clone()
                .map_or(Dynamic::UNIT, Dynamic::from)
        })
        .register_get("depends_on", |r: &mut ScriptRequest| -> Array {
            r.0.request
                .depends_on
                .iter()
                .map(|d| Dynamic::from(d.to_string()))
                .collect()
        })
        .register_get("labels", |r: &mut ScriptRequest| -> Map {
            r.0.request
                .labels
                .iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect()
        })
        .register_fn("label", |r: &mut ScriptRequest, key: &str| {
            r.0.request
                .labels
                .get(key)
                .map_or(Dynamic::UNIT, json_to_dynamic)
        })
        .register_get("start", |r: &mut ScriptRequest| {
            r.instant(chrono::TimeDelta::zero())
        })
        .register_get("end", |r: &mut ScriptRequest| {
            r.instant(r.0.request.interval().length())
        })
        .register_get("duration_minutes", |r: &mut ScriptRequest| {
            r.0.request.duration.num_minutes()
        })
        .register_fn("to_string", |r: &mut ScriptRequest| {
            format!("request `{}`", r.0.request.id)
        });
    engine.register_fn("now", |ctx: NativeCallContext| {
        state(&ctx).map(|st| Instant::fixed(st.now, st.tz))
    });
}
