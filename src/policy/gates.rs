//! The `gates` and `rollback` questions: `check_gates` and `check_rollback`.
//!
//! TODO(gates helper): `check_gates`; TODO(rollback helper): `check_rollback`.

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

    /// Should `deployment` roll back, how far and by when, given `telemetry` at `now`?
    ///
    /// `deny` means "roll back" (`details.rollback = {level, deadline, triggers}`); `pending`
    /// means "keep watching" (a trigger without data, a rollback in progress).
    pub fn check_rollback(
        &self,
        deployment: &ChangeRequest,
        telemetry: &Telemetry,
        now: impl Into<DateTime<Utc>>,
    ) -> Decision {
        let _ = (deployment, telemetry, now.into());
        todo!("rollback helper")
    }
}
