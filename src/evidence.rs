//! The evidence of the risk question: validation results, indexed once per category, and the
//! [`RiskEvidence`] bundle that [`crate::PolicySet::assess_risk`] takes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::history::History;
use crate::model::ValidationResult;

/// Validation results, indexed once per category.
///
/// Build it with [`ValidationResults::new`] or parse it with [`ValidationResults::from_yaml`];
/// cloning is cheap (the data sits behind an `Arc`).
///
/// # Example
/// ```
/// use changegate::{ValidationResult, ValidationResults, ValidationStatus};
/// let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap();
/// let results = ValidationResults::new(vec![
///     ValidationResult::new("security", "sast", ValidationStatus::Passed, at),
/// ]);
/// assert_eq!(results.in_category("security").count(), 1);
/// assert_eq!(results.in_category("tests").count(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ValidationResults {
    inner: Arc<ResultsData>,
}

#[derive(Debug, Default)]
struct ResultsData {
    results: Vec<ValidationResult>,
    /// The results again, sorted by category, check and time (stable).
    grouped: Vec<ValidationResult>,
    /// category -> its range in `grouped`
    by_category: HashMap<String, (usize, usize)>,
}

impl ValidationResults {
    /// Indexes `results` (any order).
    pub fn new(results: Vec<ValidationResult>) -> Self {
        let mut grouped = results.clone();
        // By category, then check, then time: the latest result of a check ends its run.
        grouped.sort_by(|a, b| (&a.category, &a.check, a.at).cmp(&(&b.category, &b.check, b.at)));
        let mut by_category: HashMap<String, (usize, usize)> = HashMap::new();
        for (i, r) in grouped.iter().enumerate() {
            by_category
                .entry(r.category.clone())
                .and_modify(|range| range.1 = i + 1)
                .or_insert((i, i + 1));
        }
        Self {
            inner: Arc::new(ResultsData {
                results,
                grouped,
                by_category,
            }),
        }
    }

    /// Every result, in the order given.
    pub fn results(&self) -> &[ValidationResult] {
        &self.inner.results
    }

    /// Whether there is no result.
    pub fn is_empty(&self) -> bool {
        self.inner.results.is_empty()
    }

    /// The results of one category, by check and then time.
    pub fn in_category<'a>(
        &'a self,
        category: &str,
    ) -> impl Iterator<Item = &'a ValidationResult> + 'a {
        self.category(category).iter()
    }

    /// The results of one category as a slice, sorted by check and then time, so that the
    /// latest result of a check is the last of its run.
    pub(crate) fn category(&self, category: &str) -> &[ValidationResult] {
        self.inner
            .by_category
            .get(category)
            .and_then(|&(a, b)| self.inner.grouped.get(a..b))
            .unwrap_or_default()
    }
}

/// What the risk question knows about a change besides the request: its validation results
/// and the history of past changes. `None` means "not given": the factors that need it score
/// their maximum and are listed as missing (fail safe).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RiskEvidence {
    /// The change's validation results.
    pub validation: Option<ValidationResults>,
    /// Past changes and how they went.
    pub history: Option<History>,
}

impl RiskEvidence {
    /// Evidence with both parts (either may be `None`).
    pub fn new(validation: Option<ValidationResults>, history: Option<History>) -> Self {
        Self {
            validation,
            history,
        }
    }
}
