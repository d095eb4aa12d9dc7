//! The `gates` question: `check_gates`.
//!
//! TODO(gates helper).

use chrono::{DateTime, Utc};

use super::PolicySet;
use crate::decision::Decision;
use crate::model::ChangeRequest;
use crate::telemetry::Telemetry;

impl PolicySet {
    /// Is `deployment` healthy enough to continue or promote, given `telemetry` at `now`?
    ///
    /// Each gate of the environment's `gates:` section reduces its metric over a window ending
    /// at `now`; the decision has `check: "gates"`, one finding per gate that warned, failed or
    /// was inconclusive (with the observed value, the aggregate, the window, the threshold and
    /// the samples counted) and `details.gates`. Inconclusive gates make it `pending`.
    pub fn check_gates(
        &self,
        deployment: &ChangeRequest,
        telemetry: &Telemetry,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let _ = (deployment, telemetry, now.into());
        todo!("gates helper")
    }
}
