//! The `gates:` section of an environment, read into [`GateRules`] (docs/policy-authoring.md,
//! "Gates and rollback").
//!
//! TODO(config helper): the documents and their checks.

use serde::Deserialize;

use super::bundle::PolicyCtx;
use crate::error::LoadError;
use crate::rules::gates::GateRules;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GatesDoc {}

impl PolicyCtx<'_> {
    /// Reads the `gates:` section of environment `env`.
    pub(super) fn gates(&self, env: &str, doc: GatesDoc) -> Result<GateRules, LoadError> {
        let _ = (env, doc);
        Ok(GateRules::default())
    }
}
