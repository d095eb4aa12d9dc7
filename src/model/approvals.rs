//! The evidence of the approvals question: the approvals given, the directory of people and
//! their roles, and a break-glass (a structured emergency bypass).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a person voted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    /// `approve`
    Approve,
    /// `reject`
    Reject,
}

impl Vote {
    /// `approve` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vote::Approve => "approve",
            Vote::Reject => "reject",
        }
    }
}

/// A condition a conditional approval waits for: it counts only once the condition holds in
/// the evidence given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalCondition {
    /// `{validation: performance}`: every result of the validation category passed (no
    /// failed, error or missing result; warnings count as passed).
    Validation(String),
    /// `{label: ticket}`: the request has this label, with a value that is not null, false or
    /// empty.
    Label(String),
}

/// One approval or rejection, as given: in the request's `approvals:` or a separate list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approval {
    /// Who voted (as the directory names them, e.g. an e-mail address).
    pub by: String,
    /// `approve` or `reject`.
    pub decision: Vote,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// The role they voted in; any role they hold when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The artifact (a digest such as `sha256:...`) they approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// What must hold before the approval counts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ApprovalCondition>,
}

impl Approval {
    /// An unconditional approval (`decision: approve`) by `by` at `at`.
    ///
    /// # Example
    /// ```
    /// use changegate::{Approval, Vote};
    /// let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap();
    /// let a = Approval::new("alice@example.com", at);
    /// assert_eq!(a.decision, Vote::Approve);
    /// ```
    pub fn new(by: impl Into<String>, at: DateTime<FixedOffset>) -> Self {
        Self {
            by: by.into(),
            decision: Vote::Approve,
            at,
            role: None,
            artifact: None,
            comment: None,
            conditions: Vec::new(),
        }
    }
}

/// A person of the directory: the roles they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Roles, e.g. `release`, `engineering`, `security`.
    pub roles: Vec<String>,
}

/// Who holds which roles: `people: {alice@example.com: {roles: [release, engineering]}}`.
///
/// A bundle may ship one (`directory.yaml`); one given at check time is laid over it, person
/// by person (a person listed at check time has exactly the roles given there). Cloning is
/// cheap (the data sits behind an `Arc`).
///
/// # Example
/// ```
/// use changegate::Directory;
/// let d = Directory::new([("alice@example.com", vec!["release", "engineering"])]);
/// assert!(d.has_role("alice@example.com", "release"));
/// assert!(!d.has_role("bob@example.com", "release"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Directory {
    inner: Arc<DirectoryData>,
}

#[derive(Debug, Default)]
struct DirectoryData {
    /// (key, person, roles (in the order given)), sorted by key then person: looked up by
    /// binary search, which compares the 8-byte keys and, only when they are equal, the
    /// names. Cheaper than hashing the name for the few lookups a check makes.
    people: Vec<(u64, String, Person)>,
    /// The keys of `people`, in the same order: searched alone, densely packed.
    keys: Vec<u64>,
    /// Everyone, sorted.
    sorted: Vec<String>,
    /// role -> the people holding it, sorted, each once; built once with the directory.
    by_role: HashMap<String, Vec<String>>,
}

impl Directory {
    /// A directory of `people`, each with their roles.
    pub fn new<P, R, S>(people: impl IntoIterator<Item = (P, R)>) -> Self
    where
        P: Into<String>,
        R: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let people: HashMap<String, Person> = people
            .into_iter()
            .map(|(p, roles)| {
                (
                    p.into(),
                    Person {
                        roles: roles.into_iter().map(Into::into).collect(),
                    },
                )
            })
            .collect();
        Self::from_map(people)
    }

    fn from_map(people: HashMap<String, Person>) -> Self {
        let mut sorted: Vec<String> = people.keys().cloned().collect();
        sorted.sort();
        let mut by_role: HashMap<String, Vec<String>> = HashMap::new();
        // Walking `sorted` keeps every role's list sorted; a role listed twice for one
        // person is kept once.
        for p in &sorted {
            for role in people.get(p).map_or(&[][..], |x| x.roles.as_slice()) {
                let holders = by_role.entry(role.clone()).or_default();
                if holders.last() != Some(p) {
                    holders.push(p.clone());
                }
            }
        }
        let mut index: Vec<(u64, String, Person)> = people
            .into_iter()
            .map(|(p, person)| (key(&p), p, person))
            .collect();
        index.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let keys = index.iter().map(|(k, _, _)| *k).collect();
        Self {
            inner: Arc::new(DirectoryData {
                people: index,
                keys,
                sorted,
                by_role,
            }),
        }
    }

    /// The entry of `person`.
    fn get(&self, person: &str) -> Option<&Person> {
        let k = key(person);
        let keys = &self.inner.keys;
        let first = keys.partition_point(|&x| x < k);
        let rest = self.inner.people.get(first..)?;
        match rest.first() {
            // Usually the only one with this key.
            Some((pk, p, x)) if *pk == k && p == person => return Some(x),
            Some((pk, _, _)) if *pk == k => {}
            _ => return None,
        }
        // The people whose names start with the same 8 bytes, sorted by name.
        let len = keys.get(first..)?.partition_point(|&x| x == k);
        let group = rest.get(..len)?;
        group
            .binary_search_by(|(_, p, _)| p.as_str().cmp(person))
            .ok()
            .and_then(|i| group.get(i))
            .map(|(_, _, x)| x)
    }

    /// The roles of `person`; none for a person the directory does not list.
    pub fn roles_of(&self, person: &str) -> &[String] {
        self.get(person).map_or(&[], |p| p.roles.as_slice())
    }

    /// Whether `person` holds `role`.
    pub fn has_role(&self, person: &str, role: &str) -> bool {
        self.roles_of(person).iter().any(|r| r == role)
    }

    /// Whether the directory lists `person`.
    pub fn contains(&self, person: &str) -> bool {
        self.get(person).is_some()
    }

    /// The people holding `role`, sorted, each once; none for a role nobody holds. A lookup
    /// in an index built with the directory, not a scan.
    ///
    /// # Example
    /// ```
    /// use changegate::Directory;
    /// let d = Directory::new([
    ///     ("bob@example.com", vec!["release"]),
    ///     ("alice@example.com", vec!["release", "engineering"]),
    /// ]);
    /// assert_eq!(d.people_with_role("release"), ["alice@example.com", "bob@example.com"]);
    /// assert!(d.people_with_role("security").is_empty());
    /// ```
    pub fn people_with_role(&self, role: &str) -> &[String] {
        self.inner.by_role.get(role).map_or(&[], Vec::as_slice)
    }

    /// Everyone, sorted.
    pub fn people(&self) -> &[String] {
        &self.inner.sorted
    }

    /// How many people it lists.
    pub fn len(&self) -> usize {
        self.inner.sorted.len()
    }

    /// Whether it lists nobody.
    pub fn is_empty(&self) -> bool {
        self.inner.sorted.is_empty()
    }

    /// This directory with `over` laid over it: a person `over` lists has exactly the roles
    /// given there; everyone else keeps theirs.
    pub fn overlaid(&self, over: &Directory) -> Directory {
        if self.is_empty() {
            return over.clone();
        }
        if over.is_empty() {
            return self.clone();
        }
        let mut people: HashMap<String, Person> = self
            .inner
            .people
            .iter()
            .map(|(_, p, person)| (p.clone(), person.clone()))
            .collect();
        for (_, p, person) in &over.inner.people {
            people.insert(p.clone(), person.clone());
        }
        Self::from_map(people)
    }
}

/// The lookup key of a name: its first 8 bytes, big-endian (zero-padded).
fn key(name: &str) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(name.as_bytes()) {
        *d = *s;
    }
    u64::from_be_bytes(b)
}

/// A structured emergency bypass, given in the request's `break_glass:`. The policy says
/// which change types may use it, whether a second person must confirm it and which rules it
/// bypasses; a valid one always leaves a `break_glass` warning with who, why and until when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakGlass {
    /// Who invoked it.
    pub by: String,
    /// Why, shown in the warning.
    pub reason: String,
    /// The incident it answers (e.g. `INC-4711`).
    pub incident: String,
    /// When it was invoked.
    pub at: DateTime<FixedOffset>,
    /// When it stops bypassing anything.
    pub expires: DateTime<FixedOffset>,
    /// The second person who confirmed it, when the policy asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_names_sharing_their_first_bytes() {
        let names = [
            "",
            "a",
            "ab",
            "ab\0",
            "service-account-1@x",
            "service-account-2@x",
            "service-account-10@x",
            "service-",
            "servicf",
            "z@x",
        ];
        let d = Directory::new(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, vec![format!("r{i}")])),
        );
        for (i, n) in names.iter().enumerate() {
            assert!(d.contains(n), "{n:?}");
            assert_eq!(d.roles_of(n), [format!("r{i}")], "{n:?}");
        }
        for n in [
            "service-account-3@x",
            "service",
            "abc",
            "ab\0\0",
            "z@y",
            "zz",
        ] {
            assert!(!d.contains(n), "{n:?}");
            assert!(d.roles_of(n).is_empty(), "{n:?}");
        }
        let over = Directory::new([("service-account-2@x", vec!["new"])]);
        let both = d.overlaid(&over);
        assert_eq!(both.roles_of("service-account-2@x"), ["new"]);
        assert_eq!(both.roles_of("service-account-1@x"), ["r4"]);
        assert_eq!(both.len(), names.len());
    }
}
