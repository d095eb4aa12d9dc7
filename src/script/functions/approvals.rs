//! The `approvals` hook's functions: who approved (`approved_by`, `approvals`), who holds
//! which role (`has_role`, `roles_of`, `approvers_in_role`, `count_in_role`) and the risk level
//! (`risk_level`). A call from another hook is a script error naming `fn approvals(ctx)`.
//!
//! The approvals they read are the valid ones (latest vote per person, `approve`, not expired,
//! future, stale or after the deadline, conditions met), in the order given. An approval that
//! names a role counts in that role only, and only when the directory gives the person that
//! role (as the built-in rules count it); one that names none counts in every role the person
//! holds.

use rhai::{Array, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Map, NativeCallContext};

use super::instant::Instant;
use crate::model::RiskLevel;
use crate::script::convert::{MAP_ENTRY_COST, bytes_cost, strings};
use crate::script::sandbox::charge;
use crate::script::state::{ApprovalsState, ValidRef, state};

/// What building one approval's map (`by`, `role`, `at`) costs, beyond its strings' bytes.
const APPROVAL_COST: u64 = 3 * MAP_ENTRY_COST + 1;

/// What looking up a person's roles costs: one unit, and one per role compared.
fn lookup_cost(roles: &[String]) -> u64 {
    1 + roles.len() as u64
}

fn approved_by(ctx: NativeCallContext, person: &str) -> Result<bool, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("approved_by")?;
    let mut valid = a.valid();
    charge(1 + valid.len() as u64)?;
    Ok(valid.any(|v| v.by == person))
}

fn approval_map(a: ValidRef, tz: chrono_tz::Tz) -> Map {
    let mut m = Map::new();
    m.insert("by".into(), Dynamic::from(ImmutableString::from(a.by)));
    m.insert(
        "role".into(),
        a.role
            .map_or(Dynamic::UNIT, |r| Dynamic::from(ImmutableString::from(r))),
    );
    m.insert("at".into(), Dynamic::from(Instant::fixed(a.at, tz)));
    m
}

fn approvals(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("approvals")?;
    charge(1)?;
    a.valid()
        .map(|v| {
            let text = v.by.len() + v.role.map_or(0, str::len);
            charge(APPROVAL_COST + bytes_cost(text))?;
            Ok(Dynamic::from_map(approval_map(v, st.tz)))
        })
        .collect()
}

/// The valid approvers counted in `role`, each once, in the order of their approvals: an
/// approval counts in `role` when it names that role, or names none, and the directory gives
/// the person that role.
fn in_role<'a>(a: &'a ApprovalsState, role: &str) -> Result<Vec<&'a str>, Box<EvalAltResult>> {
    charge(1)?;
    let mut out: Vec<&str> = Vec::new();
    for (i, v) in a.valid().enumerate() {
        let mut roles = a.roles_of_valid(i);
        charge(1 + roles.len() as u64)?;
        let counts = v.role.is_none_or(|r| r == role) && roles.any(|r| r == role);
        if counts && !out.contains(&v.by) {
            charge(out.len() as u64)?;
            out.push(v.by);
        }
    }
    Ok(out)
}

fn approvers_in_role(ctx: NativeCallContext, role: &str) -> Result<Array, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("approvers_in_role")?;
    in_role(a, role)?
        .into_iter()
        .map(|by| {
            charge(bytes_cost(by.len()))?;
            Ok(Dynamic::from(ImmutableString::from(by)))
        })
        .collect()
}

fn count_in_role(ctx: NativeCallContext, role: &str) -> Result<INT, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("count_in_role")?;
    Ok(INT::try_from(in_role(a, role)?.len()).unwrap_or(INT::MAX))
}

fn has_role(ctx: NativeCallContext, person: &str, role: &str) -> Result<bool, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("has_role")?;
    let roles = a.directory.roles_of(person);
    charge(lookup_cost(roles))?;
    Ok(roles.iter().any(|r| r == role))
}

fn roles_of(ctx: NativeCallContext, person: &str) -> Result<Array, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("roles_of")?;
    charge(1)?;
    strings(a.directory.roles_of(person))
}

fn risk_level(ctx: NativeCallContext) -> Result<ImmutableString, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("risk_level")?;
    charge(1)?;
    Ok(level_name(a.level))
}

/// The name of `level` as a shared string, made once per process (`risk_level()` then
/// allocates nothing).
fn level_name(level: RiskLevel) -> ImmutableString {
    static NAMES: std::sync::OnceLock<Vec<(RiskLevel, ImmutableString)>> =
        std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            RiskLevel::ALL
                .into_iter()
                .map(|l| (l, l.as_str().into()))
                .collect()
        })
        .iter()
        .find(|(l, _)| *l == level)
        .map_or_else(|| level.as_str().into(), |(_, name)| name.clone())
}

pub(super) fn register(engine: &mut Engine) {
    def!(
        engine,
        "approved_by",
        ["person"],
        &["Whether `person` gave a valid approval (`approvals` hook only)."],
        approved_by
    );
    def!(
        engine,
        "approvals",
        [],
        &["The valid approvals as maps (`by`, `role`, `at`), in order (`approvals` hook only)."],
        approvals
    );
    def!(
        engine,
        "approvers_in_role",
        ["role"],
        &[
            "The valid approvers counted in `role`, each once, in the order of their approvals: an approval counts in `role` when it names that role, or names none, and the directory gives the person that role."
        ],
        approvers_in_role
    );
    def!(
        engine,
        "count_in_role",
        ["role"],
        &["How many valid approvers count in `role`."],
        count_in_role
    );
    def!(
        engine,
        "has_role",
        ["person", "role"],
        &["Whether the directory gives `person` the role `role`."],
        has_role
    );
    def!(
        engine,
        "roles_of",
        ["person"],
        &["The roles the directory gives `person`."],
        roles_of
    );
    def!(
        engine,
        "risk_level",
        [],
        &["The change's risk level: `low`, `medium`, `high` or `critical`."],
        risk_level
    );
}
