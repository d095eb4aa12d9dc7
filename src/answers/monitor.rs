//! The streaming monitor: a deployment's gates and rollback decisions, kept current as
//! measurements and events arrive one at a time. Its decision after any prefix of a stream
//! equals [`PolicySet::check_rollback`] / [`PolicySet::check_gates`] over the same evidence.
//!
//! TODO(rollback helper).

use chrono::{DateTime, TimeDelta, Utc};

use crate::decision::Decision;
use crate::error::InputError;
use crate::model::{ChangeRequest, Event, Measurement, RollbackDone};
use crate::policy::PolicySet;

/// A deployment watched as its telemetry arrives.
#[derive(Debug)]
pub struct Monitor {
    _policy: PolicySet,
    _deployment: ChangeRequest,
    _start: DateTime<Utc>,
    _tolerance: TimeDelta,
}

impl Monitor {
    /// Watches `deployment` under `policy` from `start` on (earlier measurements are
    /// rejected).
    pub fn new(
        policy: &PolicySet,
        deployment: ChangeRequest,
        start: impl Into<DateTime<Utc>>,
    ) -> Self {
        Self {
            _policy: policy.clone(),
            _deployment: deployment,
            _start: start.into(),
            _tolerance: TimeDelta::zero(),
        }
    }

    /// Accepts measurements and events up to `tolerance` older than the latest one seen;
    /// decisions then lag the latest by `tolerance`. Default: zero.
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: TimeDelta) -> Self {
        self._tolerance = tolerance;
        self
    }

    /// Adds one measurement and returns the current rollback decision.
    ///
    /// # Errors
    /// A measurement older than the latest seen minus the tolerance, or before the start.
    pub fn push_measurement(&mut self, m: Measurement) -> Result<&Decision, InputError> {
        let _ = m;
        todo!("rollback helper")
    }

    /// Adds one event and returns the current rollback decision.
    ///
    /// # Errors
    /// As [`Monitor::push_measurement`].
    pub fn push_event(&mut self, e: Event) -> Result<&Decision, InputError> {
        let _ = e;
        todo!("rollback helper")
    }

    /// Records a rollback performed and returns the current rollback decision.
    ///
    /// # Errors
    /// As [`Monitor::push_measurement`].
    pub fn push_rollback(&mut self, r: RollbackDone) -> Result<&Decision, InputError> {
        let _ = r;
        todo!("rollback helper")
    }

    /// The current rollback decision (at [`Monitor::now`]).
    pub fn decision(&self) -> &Decision {
        todo!("rollback helper")
    }

    /// The gates decision at [`Monitor::now`].
    pub fn gates(&self) -> Decision {
        todo!("rollback helper")
    }

    /// The instant the decisions are made at: the latest instant seen minus the tolerance.
    pub fn now(&self) -> DateTime<Utc> {
        todo!("rollback helper")
    }
}
