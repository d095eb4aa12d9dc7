#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod calendar;
mod checks;
mod config;
mod decision;
mod error;
mod model;
mod policy;
mod script;
pub mod testing;
pub mod time;
mod windows;

pub use calendar::{Calendar, DuplicateId};
pub use decision::{Decision, Finding, Outcome, PolicyInfo, RuleId, Severity};
pub use error::{InputError, LoadError, LoadErrorKind, Location};
pub use model::{Blackout, ChangeRequest, DeploymentId};
pub use policy::{PolicySet, builtin_files};
pub use windows::{
    AllowedWindow, BlockedStretch, DstMark, MAX_CONFIRMATIONS, NextWindows, OccurrencePreview,
    Searched, WindowPreview,
};
