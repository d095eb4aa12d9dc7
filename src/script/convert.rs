//! JSON values to and from script values (labels in, finding details out). Every conversion
//! is depth-limited ([`limits::NESTING_DEPTH`]) and charges the call's cost budget for the
//! items and bytes it copies.

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString, Map};
use serde_json::Value;

use super::functions::instant::Instant;
use super::sandbox::{charge, limits, too_deep};
use crate::time::format_utc;

/// The cost of copying a string of `len` bytes: one unit per 64 bytes, and one for the item.
pub(crate) fn bytes_cost(len: usize) -> u64 {
    1 + (len / 64) as u64
}

/// What inserting one entry into a map costs, beyond copying its key and value.
pub(crate) const MAP_ENTRY_COST: u64 = 3;

/// Labels (or any JSON object) as a map, charged per entry.
pub(crate) fn labels_map<'a>(
    labels: impl Iterator<Item = (&'a String, &'a Value)>,
) -> Result<Map, Box<EvalAltResult>> {
    labels
        .map(|(k, v)| {
            charge(MAP_ENTRY_COST + bytes_cost(k.len()))?;
            Ok((k.as_str().into(), json_to_dynamic(v)?))
        })
        .collect()
}

pub(crate) fn json_to_dynamic(v: &Value) -> Result<Dynamic, Box<EvalAltResult>> {
    json_at(v, 1)
}

fn json_at(v: &Value, depth: usize) -> Result<Dynamic, Box<EvalAltResult>> {
    if depth > limits::NESTING_DEPTH {
        return Err(too_deep());
    }
    Ok(match v {
        Value::Null => {
            charge(1)?;
            Dynamic::UNIT
        }
        Value::Bool(b) => {
            charge(1)?;
            Dynamic::from_bool(*b)
        }
        Value::Number(n) => {
            charge(1)?;
            n.as_i64()
                .map(Dynamic::from_int)
                .or_else(|| n.as_f64().map(Dynamic::from_float))
                .unwrap_or(Dynamic::UNIT)
        }
        Value::String(s) => {
            charge(bytes_cost(s.len()))?;
            // Straight into rhai's string, without an intermediate `String` copy.
            Dynamic::from(ImmutableString::from(s.as_str()))
        }
        Value::Array(a) => {
            charge(1)?;
            Dynamic::from_array(
                a.iter()
                    .map(|x| json_at(x, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Object(o) => {
            charge(1)?;
            Dynamic::from_map(
                o.iter()
                    .map(|(k, x)| {
                        charge(MAP_ENTRY_COST + bytes_cost(k.len()))?;
                        Ok((k.as_str().into(), json_at(x, depth + 1)?))
                    })
                    .collect::<Result<_, Box<EvalAltResult>>>()?,
            )
        }
    })
}

/// `v` as JSON, at most [`limits::NESTING_DEPTH`] levels deep and `max_bytes` (roughly, as the
/// bytes of its strings and items) large.
pub(crate) fn dynamic_to_json(v: &Dynamic, max_bytes: usize) -> Result<Value, Box<EvalAltResult>> {
    let mut budget = max_bytes;
    to_json_at(v, 1, &mut budget).map_err(|e| match e {
        Spent::Error(e) => e,
        Spent::Budget => format!(
            "finding details are larger than the limit of {} bytes",
            limits::DETAILS_BYTES
        )
        .into(),
    })
}

/// `map.to_json()`, depth-limited, at most [`limits::STRING_SIZE`] bytes.
pub(crate) fn map_to_json(m: &Map) -> Result<String, Box<EvalAltResult>> {
    let mut budget = limits::STRING_SIZE;
    let mut out = serde_json::Map::new();
    for (k, v) in m.iter() {
        let value = to_json_at(v, 2, &mut budget).map_err(|e| match e {
            Spent::Error(e) => e,
            Spent::Budget => Box::<EvalAltResult>::from(format!(
                "to_json: the map's JSON is larger than the limit of {} bytes",
                limits::STRING_SIZE
            )),
        })?;
        out.insert(k.to_string(), value);
    }
    Ok(Value::Object(out).to_string())
}

/// Why a conversion to JSON stopped.
enum Spent {
    /// Its byte budget ran out.
    Budget,
    Error(Box<EvalAltResult>),
}

impl From<Box<EvalAltResult>> for Spent {
    fn from(e: Box<EvalAltResult>) -> Self {
        Spent::Error(e)
    }
}

fn spend(budget: &mut usize, bytes: usize) -> Result<(), Spent> {
    charge(bytes_cost(bytes))?;
    *budget = budget.checked_sub(bytes.max(1)).ok_or(Spent::Budget)?;
    Ok(())
}

fn to_json_at(v: &Dynamic, depth: usize, budget: &mut usize) -> Result<Value, Spent> {
    if depth > limits::NESTING_DEPTH {
        return Err(too_deep().into());
    }
    Ok(if let Some(b) = v.clone().try_cast::<bool>() {
        spend(budget, 5)?;
        Value::Bool(b)
    } else if let Ok(i) = v.as_int() {
        spend(budget, 8)?;
        Value::from(i)
    } else if let Ok(f) = v.as_float() {
        spend(budget, 8)?;
        Value::from(f)
    } else if let Some(t) = v.read_lock::<Instant>() {
        spend(budget, 25)?;
        Value::String(format_utc(t.utc))
    } else if v.is_unit() {
        spend(budget, 4)?;
        Value::Null
    } else if let Some(a) = v.read_lock::<Array>() {
        spend(budget, 2)?;
        Value::Array(
            a.iter()
                .map(|x| to_json_at(x, depth + 1, budget))
                .collect::<Result<_, _>>()?,
        )
    } else if let Some(m) = v.read_lock::<Map>() {
        spend(budget, 2)?;
        let mut out = serde_json::Map::new();
        for (k, x) in m.iter() {
            spend(budget, k.len() + 3)?;
            out.insert(k.to_string(), to_json_at(x, depth + 1, budget)?);
        }
        Value::Object(out)
    } else if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        spend(budget, s.len() + 2)?;
        Value::String(s.to_string())
    } else {
        let s = v.to_string();
        spend(budget, s.len() + 2)?;
        Value::String(s)
    })
}

pub(crate) fn strings(items: &[String]) -> Result<Array, Box<EvalAltResult>> {
    items
        .iter()
        .map(|s| {
            charge(bytes_cost(s.len()))?;
            Ok(Dynamic::from(ImmutableString::from(s.as_str())))
        })
        .collect()
}
