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
use crate::model::Directory;
use crate::script::convert::{MAP_ENTRY_COST, bytes_cost, strings};
use crate::script::sandbox::charge;
use crate::script::state::{ApprovalsState, ValidApproval, state};

/// What building one approval's map (`by`, `role`, `at`) costs, beyond its strings' bytes.
const APPROVAL_COST: u64 = 3 * MAP_ENTRY_COST + 1;

/// Whether `a` counts in `role`: it names that role, or names none; and the person holds it.
fn counts_in(a: &ValidApproval, role: &str, directory: &Directory) -> bool {
    a.role.as_ref().is_none_or(|r| r.as_str() == role) && directory.has_role(&a.by, role)
}

/// What looking up a person's roles costs: one unit, and one per role compared.
fn lookup_cost(directory: &Directory, person: &str) -> u64 {
    1 + directory.roles_of(person).len() as u64
}

fn approved_by(ctx: NativeCallContext, person: &str) -> Result<bool, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("approved_by")?;
    charge(1 + a.valid.len() as u64)?;
    Ok(a.valid.iter().any(|v| v.by.as_str() == person))
}

fn approval_map(a: &ValidApproval, tz: chrono_tz::Tz) -> Map {
    let mut m = Map::new();
    m.insert("by".into(), Dynamic::from(a.by.clone()));
    m.insert(
        "role".into(),
        a.role.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    m.insert("at".into(), Dynamic::from(Instant::fixed(a.at, tz)));
    m
}

fn approvals(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
    let st = state(&ctx)?;
    let a = st.approvals("approvals")?;
    charge(1)?;
    a.valid
        .iter()
        .map(|v| {
            let text = v.by.len() + v.role.as_ref().map_or(0, |r| r.len());
            charge(APPROVAL_COST + bytes_cost(text))?;
            Ok(Dynamic::from_map(approval_map(v, st.tz)))
        })
        .collect()
}

/// The valid approvers counted in `role`, each once, in the order of their approvals.
fn in_role<'a>(
    a: &'a ApprovalsState,
    role: &str,
) -> Result<Vec<&'a ImmutableString>, Box<EvalAltResult>> {
    charge(1)?;
    let mut out: Vec<&ImmutableString> = Vec::new();
    for v in &a.valid {
        charge(lookup_cost(&a.directory, &v.by))?;
        if counts_in(v, role, &a.directory) && !out.contains(&&v.by) {
            charge(out.len() as u64)?;
            out.push(&v.by);
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
            Ok(Dynamic::from(by.clone()))
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
    charge(lookup_cost(&a.directory, person))?;
    Ok(a.directory.has_role(person, role))
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
    Ok(a.level.as_str().into())
}

pub(super) fn register(engine: &mut Engine) {
    engine.register_fn("approved_by", approved_by);
    engine.register_fn("approvals", approvals);
    engine.register_fn("approvers_in_role", approvers_in_role);
    engine.register_fn("count_in_role", count_in_role);
    engine.register_fn("has_role", has_role);
    engine.register_fn("roles_of", roles_of);
    engine.register_fn("risk_level", risk_level);
}
