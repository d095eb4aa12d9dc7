//! `unknown_environment`: the policy does not know the request's environment, so every
//! question denies (fail closed). Written once for the pipeline and the window search.

use crate::decision::{Finding, Severity};

/// The rule's id.
pub(crate) const ID: &str = "unknown_environment";

/// Why `environment` is denied, naming the environments the policy knows and, when one is
/// close, suggesting it.
pub(crate) fn message<'a>(environment: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = known.into_iter().collect();
    let hint = suggest(environment, &names)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    let environment = crate::error::quote(environment);
    let known: Vec<String> = names.iter().map(|e| format!("`{e}`")).collect();
    if known.is_empty() {
        format!("environment `{environment}` is not in the policy, which lists no environments")
    } else {
        format!(
            "environment `{environment}` is not in the policy, which knows {}{hint}",
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

/// A name in `known` close to `name` (a prefix, an extension, or a few letters apart), for
/// "did you mean".
pub(crate) fn suggest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let close = |k: &str| {
        let k = k.to_lowercase();
        if lower.len() >= 2 && (k.starts_with(&lower) || lower.starts_with(&k)) {
            return Some(0);
        }
        let d = edit_distance(&lower, &k);
        (d <= 2.max(k.chars().count() / 3)).then_some(d)
    };
    known
        .iter()
        .filter_map(|k| close(k).map(|d| (d, *k)))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance, for short names (environment names): longer ones are not compared.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggestions_find_close_names() {
        let known = ["development", "production", "staging"];
        assert_eq!(suggest("prod", &known), Some("production"));
        assert_eq!(suggest("producton", &known), Some("production"));
        assert_eq!(suggest("stagng", &known), Some("staging"));
        assert_eq!(suggest("qa", &known), None);
    }
}
