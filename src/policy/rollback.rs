//! The `rollback` question: `check_rollback`.
//!
//! TODO(rollback helper).

use chrono::{DateTime, Utc};

use super::PolicySet;
use crate::decision::Decision;
use crate::model::ChangeRequest;
use crate::telemetry::Telemetry;

impl PolicySet {
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
