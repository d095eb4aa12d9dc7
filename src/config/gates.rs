//! The `gates:` and `rollback:` sections of an environment, read into [`GateRules`] and
//! [`RollbackRules`] (docs/policy-authoring.md, "Gates and rollback").
//!
//! TODO(config helper): the documents and their checks.

use serde::Deserialize;

use super::bundle::PolicyCtx;
use crate::error::LoadError;
use crate::rules::gates::GateRules;
use crate::rules::rollback::RollbackRules;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GatesDoc {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackDoc {}

impl PolicyCtx<'_> {
    /// Reads the `gates:` section of environment `env`.
    pub(super) fn gates(&self, env: &str, doc: GatesDoc) -> Result<GateRules, LoadError> {
        let _ = (env, doc);
        Ok(GateRules::default())
    }

    /// Reads the `rollback:` section of environment `env`.
    pub(super) fn rollback(&self, env: &str, doc: RollbackDoc) -> Result<RollbackRules, LoadError> {
        let _ = (env, doc);
        Ok(RollbackRules::default())
    }
}
