//! JSON values to and from script values (labels in, finding details out).

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use super::functions::instant::Instant;
use crate::time::format_utc;

pub(crate) fn json_to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Dynamic::from_int)
            .or_else(|| n.as_f64().map(Dynamic::from_float))
            .unwrap_or(Dynamic::UNIT),
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(a) => Dynamic::from_array(a.iter().map(json_to_dynamic).collect()),
        Value::Object(o) => Dynamic::from_map(
            o.iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect(),
        ),
    }
}

pub(crate) fn dynamic_to_json(v: &Dynamic) -> Value {
    if let Some(b) = v.clone().try_cast::<bool>() {
        Value::Bool(b)
    } else if let Ok(i) = v.as_int() {
        Value::from(i)
    } else if let Ok(f) = v.as_float() {
        Value::from(f)
    } else if let Some(t) = v.read_lock::<Instant>() {
        Value::String(format_utc(t.utc))
    } else if v.is_unit() {
        Value::Null
    } else if let Some(a) = v.read_lock::<Array>() {
        Value::Array(a.iter().map(dynamic_to_json).collect())
    } else if let Some(m) = v.read_lock::<Map>() {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), dynamic_to_json(v)))
                .collect(),
        )
    } else {
        Value::String(v.to_string())
    }
}

pub(crate) fn strings(items: &[String]) -> Array {
    items.iter().map(|s| Dynamic::from(s.clone())).collect()
}
