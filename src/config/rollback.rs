//! The `rollback:` section of an environment, read into [`RollbackRules`]
//! (docs/policy-authoring.md, "Gates and rollback").
//!
//! TODO(rollback helper): the document and its checks.

use serde::Deserialize;

use super::bundle::PolicyCtx;
use crate::error::LoadError;
use crate::rules::rollback::RollbackRules;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackDoc {}

impl PolicyCtx<'_> {
    /// Reads the `rollback:` section of environment `env`.
    pub(super) fn rollback(&self, env: &str, doc: RollbackDoc) -> Result<RollbackRules, LoadError> {
        let _ = (env, doc);
        Ok(RollbackRules::default())
    }
}
