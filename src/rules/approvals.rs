//! `approvals`: who must approve a change, in which order, until when.
//!
//! Semantics (docs/policy-authoring.md, "Approvals", is the reference for authors):
//! - Rules apply when their `when` holds (types, services, labels, `risk_at_least`); every
//!   applicable rule must be satisfied.
//! - Votes: an approval dated after `now` is invalid (`future`). Of the rest, a person's latest
//!   vote (by `at`; at the same instant, the later in the list) replaces their earlier ones
//!   (`duplicate`). A latest `reject` by a person eligible for an applicable rule denies
//!   (`approval_rejected`); a rejection by someone not eligible is ignored (`not_eligible`).
//!   Rejections do not expire.
//! - An approval counts for a rule when the person is eligible (holds one of its `roles`, or
//!   is one of its `people`; an approval naming a `role` counts only in that role, and only
//!   if the person holds it), is not the requester, an author or the trigger (unless the rule
//!   has `allow_self_approval`), is younger than `max_age` (expired at exactly `max_age`),
//!   names the request's artifact when the policy binds approvals to it (`stale_artifact`,
//!   "artifact changed"), was given no later than the deadline (`after_deadline`), and its
//!   conditions hold in the evidence (else it is `conditional`: the rule stays pending and
//!   names the unmet condition).
//! - One person fills at most one slot across all rules: approvals are assigned to rules by
//!   maximum bipartite matching, so a satisfiable quorum is never blocked by a greedy choice.
//!   `min: all` needs every eligible person of the directory and of `people` (the requester,
//!   authors and trigger excepted when they may not approve).
//! - Ordered: rules are satisfied one after another in the order written; a rule's approvals
//!   count only when given at or after the moment the rules before it were satisfied (the
//!   time of the approval that completed them); an eligible approval given earlier is
//!   `out_of_order`. The pending finding names the next rule only.
//! - Deadline: the chain is due `deadline` before the start. Unsatisfied at or past it:
//!   `approval_deadline` deny ("approval deadline passed: reschedule"); before it,
//!   `approval_required` pending with `details.deadline`.
//! - Nothing is dropped silently: every vote that does not count is listed in `ignored` with
//!   its reason.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::decision::Finding;
use crate::evidence::ValidationResults;
use crate::model::{Approval, ChangeRequest, Directory, RiskLevel};

/// The id of the pending finding of an unsatisfied rule.
pub(crate) const REQUIRED_ID: &str = "approval_required";
/// The id of the deny finding of an eligible rejection.
pub(crate) const REJECTED_ID: &str = "approval_rejected";
/// The id of the deny finding of a chain not complete at its deadline.
pub(crate) const DEADLINE_ID: &str = "approval_deadline";
/// The id of the deny finding of a policy that binds approvals to the artifact of a request
/// that names none.
pub(crate) const ARTIFACT_ID: &str = "approval_artifact";

/// How many approvals a rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quorum {
    /// At least this many (at least 1).
    Count(u32),
    /// Every eligible person.
    All,
}

/// When a rule applies. Every given part must hold; an empty `When` always holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct When {
    /// The change's type is one of these.
    pub types: Option<Vec<String>>,
    /// The change touches one of these services.
    pub services: Option<Vec<String>>,
    /// The request has each of these labels with this value (compared as JSON).
    pub labels: BTreeMap<String, Value>,
    /// The change's risk level is at least this.
    pub risk_at_least: Option<RiskLevel>,
}

/// One approval rule: `{name, roles, people, min, when, allow_self_approval}`.
#[derive(Debug, Clone)]
pub(crate) struct ApprovalRule {
    pub name: String,
    pub roles: Vec<String>,
    pub people: Vec<String>,
    pub min: Quorum,
    pub when: When,
    /// Whether the requester, authors and trigger may approve for this rule.
    pub allow_self_approval: bool,
    /// `file:line` of the rule in policy.yaml.
    pub source: String,
}

/// The `approvals:` section of an environment.
#[derive(Debug, Clone)]
pub(crate) struct ApprovalRules {
    pub rules: Vec<ApprovalRule>,
    pub ordered: bool,
    /// Approvals this old or older have expired.
    pub max_age: Option<TimeDelta>,
    /// The chain is due this long before the start.
    pub deadline: Option<TimeDelta>,
    /// `bind_to: artifact`.
    pub bind_to_artifact: bool,
    /// `file:line` of the `approvals:` key.
    pub source: String,
}

/// What the approvals question reads besides the policy.
pub(crate) struct ApprovalCtx<'a> {
    pub request: &'a ChangeRequest,
    /// The request's approvals, then the evidence's, in the order given.
    pub approvals: &'a [&'a Approval],
    /// The bundle's directory with the evidence's laid over it.
    pub directory: &'a Directory,
    pub now: DateTime<Utc>,
    pub level: RiskLevel,
    /// For conditional approvals (`{validation: performance}`); `None`: not given, so a
    /// validation condition is unmet.
    pub validation: Option<&'a ValidationResults>,
}

/// Why a vote does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ignored {
    NotEligible,
    /// The requester, an author or the trigger, for rules that do not allow it.
    Requester,
    Expired,
    Future,
    StaleArtifact,
    OutOfOrder,
    Duplicate,
    AfterDeadline,
}

impl Ignored {
    /// The reason as written in `details.approvals.ignored[].reason`: `not_eligible`,
    /// `requester`, `expired`, `future`, `stale_artifact`, `out_of_order`, `duplicate`,
    /// `after_deadline`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::NotEligible => "not_eligible",
            Ignored::Requester => "requester",
            Ignored::Expired => "expired",
            Ignored::Future => "future",
            Ignored::StaleArtifact => "stale_artifact",
            Ignored::OutOfOrder => "out_of_order",
            Ignored::Duplicate => "duplicate",
            Ignored::AfterDeadline => "after_deadline",
        }
    }
}

/// Where the approvals stand, once evaluated: what the decision's `details.approvals` shows,
/// and what the `approvals` hook's functions read.
#[derive(Debug, Clone)]
pub(crate) struct ApprovalState<'a> {
    /// Every rule that applies, in the order written, with how it stands.
    pub rules: Vec<RuleState<'a>>,
    /// Approvals that count: each filled one slot of one rule.
    pub used: Vec<Used<'a>>,
    /// Votes that do not count, each with its reason.
    pub ignored: Vec<(&'a Approval, Ignored)>,
    /// Valid approvals (latest vote, approve, not expired, future or stale) whose conditions
    /// do not hold yet, with the first unmet condition as text (`validation performance has
    /// not passed`).
    pub conditional: Vec<(&'a Approval, String)>,
    /// Latest votes that are valid approvals (not future, expired, stale or after the
    /// deadline; conditions met), whether or not a rule used them: what scripts ask about.
    pub valid: Vec<&'a Approval>,
    /// When the chain is due (`start - deadline`).
    pub deadline: Option<DateTime<Utc>>,
    /// The earliest expiry among the approvals used.
    pub expires_at: Option<DateTime<Utc>>,
}

/// How one rule stands.
#[derive(Debug, Clone)]
pub(crate) struct RuleState<'a> {
    pub rule: &'a ApprovalRule,
    /// How many approvals it needs (for `min: all`, the eligible people counted).
    pub needed: u32,
    /// The people whose approvals filled it.
    pub approved_by: Vec<&'a str>,
    /// Whether an eligible person rejected.
    pub rejected_by: Vec<&'a str>,
    pub status: RuleStatus,
}

/// `satisfied`, `pending` (more approvals needed; in ordered mode also a later rule waiting
/// for an earlier one) or `rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleStatus {
    Satisfied,
    Pending,
    Rejected,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Satisfied => "satisfied",
            RuleStatus::Pending => "pending",
            RuleStatus::Rejected => "rejected",
        }
    }
}

/// An approval that counts, and for which rule.
#[derive(Debug, Clone)]
pub(crate) struct Used<'a> {
    pub approval: &'a Approval,
    pub rule: &'a str,
    /// The role it counted in (the approval's, or the first of the rule's roles the person
    /// holds); `None` when the person is one of the rule's `people`.
    pub role: Option<&'a str>,
}

impl ApprovalRules {
    /// Evaluates the approvals given in `ctx` against the rules: how every applicable rule
    /// stands, and the findings (`approval_required` pending per unsatisfied rule, only the
    /// next one when ordered; `approval_rejected`, `approval_deadline`, `approval_artifact`
    /// denies), pushed to `out`. Each finding has the rule's source and `details` with the
    /// values compared (`rule`, `needed`, `have`, `eligible` (at most 10 names, sorted, not
    /// yet approved), `eligible_count`, `deadline`, `unmet_conditions`).
    pub fn evaluate<'a>(
        &'a self,
        ctx: &ApprovalCtx<'a>,
        out: &mut Vec<Finding>,
    ) -> ApprovalState<'a> {
        let _ = (ctx, out);
        todo!("approvals helper")
    }
}

impl ApprovalState<'_> {
    /// `details.approvals`: `{state, risk_level, ordered, rules: [{name, status, needed,
    /// approved_by, rejected_by, source}], used: [{by, rule, role, at, expires_at}], ignored:
    /// [{by, decision, at, reason}], conditional: [{by, at, unmet}], deadline, expires_at}`;
    /// instants as UTC RFC 3339, `null` when absent. `state` is `satisfied`, `pending` or
    /// `denied` (a rejection, a passed deadline or a missing artifact).
    pub fn to_json(&self, rules: &ApprovalRules, level: RiskLevel) -> Map<String, Value> {
        let _ = (rules, level);
        todo!("approvals helper")
    }
}
