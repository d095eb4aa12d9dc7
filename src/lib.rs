#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod answers;
mod calendar;
mod config;
mod decision;
mod error;
mod evidence;
mod history;
mod lint;
mod model;
mod policy;
mod render;
mod rules;
mod script;
mod telemetry;
pub mod testing;
pub mod time;

pub use answers::monitor::Monitor;
pub use answers::next_windows::{
    AllowedWindow, BlockedStretch, MAX_CONFIRMATIONS, MAX_HORIZON_DAYS, NextWindows, Searched,
};
pub use answers::preview::{DstMark, OccurrencePreview, WindowPreview};
pub use calendar::{Calendar, DuplicateId};
pub use config::{
    DEFAULT_MAX_DEPTH, DEFAULT_MAX_INPUT_BYTES, InputLimits, read_input_file, schemas,
};
pub use decision::{
    Check, Decision, Details, Finding, Outcome, PolicyInfo, RuleId, SCHEMA_VERSION, Severity,
};
pub use error::{
    InputError, LoadError, LoadErrorKind, Location, MAX_MESSAGE_CHARS, MAX_QUOTE_CHARS,
};
pub use evidence::{Evidence, RiskEvidence, ValidationResults};
pub use history::History;
pub use lint::{Lint, LintSeverity};
pub use model::{
    Approval, ApprovalCondition, Blackout, BreakGlass, ChangeOutcome, ChangeRequest, DeploymentId,
    Directory, HistoryEntry, Incident, IncidentSeverity, Person, RiskLevel, ValidationResult,
    ValidationStatus, Vote,
};
pub use model::{Event, Measurement, RollbackDone};
pub use policy::{PolicySet, builtin_files, builtin_sources, builtin_tests};
pub use render::{TextStyle, preview_to_json, preview_to_text};
pub use script::script_definitions;
pub use telemetry::Telemetry;
