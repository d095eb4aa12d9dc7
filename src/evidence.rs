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

/// Everything a check may know about a change besides the request: the calendar (schedule),
/// validation results and history (risk), approvals given besides the request's own and the
/// directory of people (approvals), and a risk level already assessed.
///
/// Every part is optional; what a question needs and does not have is reported as missing,
/// never taken as passed. Build it with [`Evidence::new`] and the `with_` methods.
///
/// # Example
/// ```
/// use changegate::{Calendar, Directory, Evidence, RiskLevel};
/// let evidence = Evidence::new()
///     .with_calendar(Calendar::default())
///     .with_directory(Directory::new([("alice@example.com", ["release"])]))
///     .with_risk_level(RiskLevel::Low);
/// assert_eq!(evidence.risk_level, Some(RiskLevel::Low));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Evidence {
    /// Scheduled deployments and one-off blackouts (empty when not given).
    pub calendar: crate::calendar::Calendar,
    /// The change's validation results (risk; conditional approvals).
    pub validation: Option<ValidationResults>,
    /// Past changes and how they went (risk).
    pub history: Option<History>,
    /// Approvals and rejections given besides the request's `approvals:`; both count, in the
    /// order request first, then these.
    pub approvals: Vec<crate::model::Approval>,
    /// People and their roles, laid over the bundle's `directory.yaml` person by person.
    pub directory: Option<crate::model::Directory>,
    /// A risk level already assessed: the questions that depend on the level use it instead
    /// of assessing the risk from `validation` and `history`.
    pub risk_level: Option<crate::model::RiskLevel>,
}

impl Evidence {
    /// No evidence at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// With this calendar.
    #[must_use]
    pub fn with_calendar(mut self, calendar: crate::calendar::Calendar) -> Self {
        self.calendar = calendar;
        self
    }

    /// With these validation results.
    #[must_use]
    pub fn with_validation(mut self, validation: ValidationResults) -> Self {
        self.validation = Some(validation);
        self
    }

    /// With this history.
    #[must_use]
    pub fn with_history(mut self, history: History) -> Self {
        self.history = Some(history);
        self
    }

    /// With these approvals (besides the request's).
    #[must_use]
    pub fn with_approvals(mut self, approvals: Vec<crate::model::Approval>) -> Self {
        self.approvals = approvals;
        self
    }

    /// With this directory.
    #[must_use]
    pub fn with_directory(mut self, directory: crate::model::Directory) -> Self {
        self.directory = Some(directory);
        self
    }

    /// With a risk level already assessed.
    #[must_use]
    pub fn with_risk_level(mut self, level: crate::model::RiskLevel) -> Self {
        self.risk_level = Some(level);
        self
    }

    /// The part the risk question reads.
    pub fn risk(&self) -> RiskEvidence {
        RiskEvidence::new(self.validation.clone(), self.history.clone())
    }
}
