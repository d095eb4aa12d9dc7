//! `unknown_environment`: the policy does not know the request's environment, so every
//! question denies (fail closed). Written once for the pipeline and the window search.

use crate::decision::{Finding, Severity};

/// The rule's id.
pub(crate) const ID: &str = "unknown_environment";

/// Why `environment` is denied, naming the environments the policy knows.
pub(crate) fn message<'a>(environment: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let known: Vec<String> = known.into_iter().map(|e| format!("`{e}`")).collect();
    if known.is_empty() {
        format!("environment `{environment}` is not in the policy, which lists no environments")
    } else {
        format!(
            "environment `{environment}` is not in the policy, which knows {}",
            known.join(", ")
        )
    }
}

/// The deny finding, with the policy's `environments:` key as its source.
pub(crate) fn finding<'a>(
    environment: &str,
    known: impl IntoIterator<Item = &'a str>,
    source: &str,
) -> Finding {
    Finding::new(
        ID,
        Severity::Deny,
        message(environment, known),
        Some(source.to_owned()),
    )
    .with_detail("environment", environment)
}
