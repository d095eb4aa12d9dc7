//! [`Details`]: the `details` object of a decision, built when first read.
//!
//! A question's details (`details.risk`, `details.approvals`) can hold dozens of JSON values;
//! a caller that only reads `allowed` or `outcome` (a pipeline gate, a loop over thousands of
//! requests) never needs them. So the question records what it found in a plain owned form
//! and hands over a function that writes the JSON; the map is built the first time anyone
//! reads it (serializing the decision, `decision.details["risk"]`, Python's `to_dict()`) and
//! kept. Reading it twice gives the same map; nothing about the decision changes.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// Writes a question's details when they are first read.
type Build = Arc<dyn Fn() -> Map<String, Value> + Send + Sync>;

/// The `details` object of a [`Decision`](super::Decision): a JSON object (it dereferences to
/// a [`serde_json::Map`]), built the first time it is read.
///
/// # Example
/// ```
/// use changegate::Details;
/// let mut details = Details::deferred(|| {
///     let mut m = serde_json::Map::new();
///     m.insert("risk".into(), serde_json::json!({"level": "low"}));
///     m
/// });
/// assert_eq!(details["risk"]["level"], "low");
/// details.insert("extra".into(), 1.into());
/// assert_eq!(details.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Details {
    map: OnceLock<Map<String, Value>>,
    build: Option<Build>,
}

impl Details {
    /// Details that are `build()` when first read.
    pub fn deferred(build: impl Fn() -> Map<String, Value> + Send + Sync + 'static) -> Self {
        Self {
            map: OnceLock::new(),
            build: Some(Arc::new(build)),
        }
    }

    /// The map, built now if it was not yet.
    fn map(&self) -> &Map<String, Value> {
        self.map
            .get_or_init(|| self.build.as_ref().map_or_else(Map::new, |b| b()))
    }

    /// The map, owned.
    pub fn into_map(self) -> Map<String, Value> {
        let Self { map, build } = self;
        match map.into_inner() {
            Some(m) => m,
            None => build.map_or_else(Map::new, |b| b()),
        }
    }
}

impl From<Map<String, Value>> for Details {
    fn from(map: Map<String, Value>) -> Self {
        Self {
            map: OnceLock::from(map),
            build: None,
        }
    }
}

impl Deref for Details {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        self.map()
    }
}

impl DerefMut for Details {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        let map = std::mem::take(self).into_map();
        *self = Self::from(map);
        // `from` set it: `get_or_init` only initializes a map that was never there.
        let _ = self.map.get_or_init(Map::new);
        match self.map.get_mut() {
            Some(m) => m,
            None => unreachable_map(),
        }
    }
}

/// Never reached: the map was set just before. A function so that the impossible branch is
/// one line.
#[allow(clippy::panic)]
#[cold]
fn unreachable_map() -> ! {
    panic!("details map was set and is gone")
}

impl PartialEq for Details {
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.map().fmt(f)
    }
}

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map().serialize(s)
    }
}

// The schema of `details` (docs/decision-contract.md): an object with one key per question
// that has details, each described there; other keys may be added by a later version.
impl schemars::JsonSchema for Details {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Details".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let question = |what: &str| {
            serde_json::json!({
                "type": "object",
                "description": format!("{what} (docs/decision-contract.md)"),
            })
        };
        schemars::json_schema!({
            "type": "object",
            "description": "what the question found beyond its findings, one key per question \
                (docs/decision-contract.md); absent when empty",
            "properties": {
                "risk": question("the risk assessment: `details.risk`"),
                "approvals": question("the approval chain: `details.approvals`"),
                "gates": question("the gate results: `details.gates`"),
                "rollback": question("the rollback advice: `details.rollback`"),
                "questions": question("the outcome of each question of a readiness check"),
            },
        })
    }
}

impl IntoIterator for Details {
    type Item = (String, Value);
    type IntoIter = serde_json::map::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

/// For `skip_serializing_if`.
pub(super) fn is_empty(details: &Details) -> bool {
    details.map().is_empty()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn one(key: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(key.into(), Value::from(1));
        m
    }

    #[test]
    fn deferred_details_are_built_once_when_first_read_and_equal_eager_ones() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let details = Details::deferred(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            one("risk")
        });
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "not built before it is read"
        );
        assert_eq!(details["risk"], 1);
        assert_eq!(details.len(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "built once");
        assert_eq!(details, Details::from(one("risk")));
        assert_eq!(
            serde_json::to_string(&details).ok(),
            serde_json::to_string(&one("risk")).ok()
        );
    }

    #[test]
    fn writing_to_deferred_details_keeps_what_they_hold() {
        let mut details = Details::deferred(|| one("approvals"));
        let copy = details.clone();
        details.insert("questions".into(), Value::from(2));
        assert_eq!(details.len(), 2);
        assert_eq!(
            copy.len(),
            1,
            "a clone is not changed by a write to the original"
        );
        let keys: Vec<String> = details.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["approvals", "questions"]);
        assert!(is_empty(&Details::default()));
    }
}
