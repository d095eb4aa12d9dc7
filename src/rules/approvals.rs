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
//!
//! Choices the points above leave open:
//! - Eligibility: an approval without a `role` counts in the first of the rule's roles the
//!   person holds, else as one of its `people`; one naming a `role` counts only in that role
//!   (not as one of `people`). The same eligibility, separation of duties included, decides
//!   whether a rejection denies: a rejection by the requester of a rule that does not allow
//!   self-approval is ignored (`requester`). Rejections are not checked for expiry, artifact
//!   or deadline (fail closed); they mark every applicable rule the person is eligible for
//!   `rejected` (each such rule's `rejected_by`), and give one `approval_rejected` per
//!   person, with the first such rule's source and all of them in `details.rules`.
//! - An approval's checks run in this order, the first that fails giving its reason:
//!   `expired`, `stale_artifact`, `after_deadline`, conditions (`conditional`), eligibility
//!   (`requester`, else `not_eligible`). `valid` holds the approvals that pass the first four,
//!   eligible or not.
//! - Conditions: `{validation: c}` holds when category `c` has at least one result and the
//!   latest result of each of its checks is `passed` or `warning` (freshness is the
//!   validation rules' concern); without validation evidence it does not hold. `{label: k}`
//!   holds when label `k` is present and not `null`, `false` or `""`. A conditional approval
//!   is listed in `conditional` (its first unmet condition), not in `ignored`; the pending
//!   finding of each rule its author could fill lists it in `details.unmet_conditions`.
//! - `min: all` counts the distinct people holding one of the rule's roles in the directory
//!   plus its `people`, without the requester, authors and trigger unless the rule allows
//!   self-approval; at least 1, so a rule nobody may fill stays pending (fail closed).
//! - A valid, eligible approval that no rule needed (its rules were full) is in `valid`,
//!   neither used nor ignored.
//! - Unordered: the assignment is a maximum matching (Kuhn's augmenting paths, votes in the
//!   order given, rules in the order written). Ordered: rule by rule, each takes the
//!   earliest admitted approvals not used by an earlier rule, at equal times preferring people
//!   eligible for fewer later rules, then the order given. This keeps every rule's
//!   completion as early as possible; it is not a search over all assignments, so a person
//!   eligible for two rules may be taken by the earlier one. An unused eligible approval is
//!   `out_of_order` when a rule it could fill admitted only later ones (or nothing yet,
//!   because a rule before it is unsatisfied or rejected). Only the first rule that is not
//!   satisfied gives a pending finding, and none when that rule is rejected.
//! - Deadline: at or past it with a rule pending, one `approval_deadline` deny (source: the
//!   `approvals:` key, `details.rules` the pending rules) replaces the pending findings.
//! - Artifact: when the policy binds approvals to the artifact and the request names none,
//!   one `approval_artifact` deny, and every approval is ignored as `stale_artifact`.
//! - Instants in details and messages are UTC RFC 3339 (`crate::time::format_utc`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::decision::{Finding, Severity};
use crate::error::MAX_QUOTE_CHARS;
use crate::evidence::ValidationResults;
use crate::model::{
    Approval, ApprovalCondition, ChangeRequest, Directory, RiskLevel, ValidationStatus, Vote,
};
use crate::time::{add_saturating, format_utc};

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
    /// Whether a rule was still pending at or after the deadline (`approval_deadline`).
    pub deadline_passed: bool,
    /// Whether the policy binds approvals to an artifact the request does not name
    /// (`approval_artifact`).
    pub artifact_missing: bool,
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

/// How a person's approval can fill one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill<'a> {
    /// Not eligible for the rule.
    No,
    /// Eligible, but the requester, an author or the trigger, and the rule does not allow it.
    SelfExcluded,
    /// Eligible, in this role (`None`: as one of the rule's `people`).
    Yes(Option<&'a str>),
}

/// What became of one vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// A valid approval by someone eligible for at least one applicable rule.
    Candidate,
    /// A latest rejection by someone eligible.
    Reject,
    /// A valid approval whose conditions do not hold yet.
    Conditional,
    Ignored(Ignored),
}

/// One vote as the evaluation sees it.
#[derive(Debug, Clone, Copy)]
struct Ballot<'a> {
    approval: &'a Approval,
    at: DateTime<Utc>,
    fate: Fate,
    /// The applicable rule (index) it fills.
    assigned: Option<usize>,
}

/// When a rule's approvals may have been given (ordered mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Since {
    Any,
    From(DateTime<Utc>),
    /// A rule before it is not satisfied: no approval given so far can count.
    Never,
}

impl Since {
    fn admits(self, at: DateTime<Utc>) -> bool {
        match self {
            Since::Any => true,
            Since::From(t) => at >= t,
            Since::Never => false,
        }
    }
}

impl When {
    /// Whether the rule applies to `request` at risk `level`.
    fn holds(&self, request: &ChangeRequest, level: RiskLevel) -> bool {
        self.types
            .as_ref()
            .is_none_or(|t| t.contains(&request.change_type))
            && self
                .services
                .as_ref()
                .is_none_or(|s| request.services.iter().any(|x| s.contains(x)))
            && self
                .labels
                .iter()
                .all(|(k, v)| request.labels.get(k) == Some(v))
            && self.risk_at_least.is_none_or(|r| level >= r)
    }
}

/// [`crate::error::quote`], without walking the characters of a text that has no more bytes
/// than the limit has characters (the common case: names and rule names), which it keeps
/// whole anyway.
fn quote(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_QUOTE_CHARS {
        std::borrow::Cow::Borrowed(text)
    } else {
        crate::error::quote(text)
    }
}

/// `t - d`, saturating like [`add_saturating`].
fn sub_saturating(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    add_saturating(
        t,
        TimeDelta::zero().checked_sub(&d).unwrap_or(TimeDelta::MAX),
    )
}

/// Whether `person` is the requester, an author or the trigger of `request`.
fn is_self(request: &ChangeRequest, person: &str) -> bool {
    request.requested_by.as_deref() == Some(person)
        || request.triggered_by.as_deref() == Some(person)
        || request.authors.iter().any(|a| a == person)
}

impl ApprovalRule {
    /// How `approval` (by a person holding `roles`) can fill this rule.
    fn fill<'a>(&'a self, approval: &Approval, roles: &[String], own: bool) -> Fill<'a> {
        let holds = |r: &str| roles.iter().any(|x| x == r);
        let fill = match approval.role.as_deref() {
            Some(named) => self
                .roles
                .iter()
                .find(|r| *r == named && holds(r))
                .map(|r| Fill::Yes(Some(r.as_str()))),
            None => self
                .roles
                .iter()
                .find(|r| holds(r))
                .map(|r| Fill::Yes(Some(r.as_str())))
                .or_else(|| {
                    self.people
                        .contains(&approval.by)
                        .then_some(Fill::Yes(None))
                }),
        };
        match fill {
            Some(_) if own && !self.allow_self_approval => Fill::SelfExcluded,
            Some(f) => f,
            None => Fill::No,
        }
    }

    /// Everyone who may fill this rule, sorted, each once: the directory's holders of its
    /// roles and its `people`, without the requester, authors and trigger unless the rule
    /// allows them. Built only for `min: all` and for pending findings.
    fn eligible_people<'a>(&'a self, dir: &'a Directory, request: &ChangeRequest) -> Vec<&'a str> {
        let mut all: Vec<&'a str> = self
            .roles
            .iter()
            .flat_map(|r| dir.people_with_role(r).iter().map(String::as_str))
            .chain(self.people.iter().map(String::as_str))
            .filter(|p| self.allow_self_approval || !is_self(request, p))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Writes who may fill it, for messages: ``role `a` ``, ``roles `a` or `b` ``, then its
    /// people, joined with "or".
    fn write_who(&self, out: &mut String) {
        use std::fmt::Write as _;
        match self.roles.len() {
            0 => {}
            1 => out.push_str("role "),
            _ => out.push_str("roles "),
        }
        for (i, name) in self.roles.iter().chain(&self.people).enumerate() {
            if i > 0 {
                out.push_str(" or ");
            }
            let _ = write!(out, "`{}`", quote(name));
        }
        if self.roles.is_empty() && self.people.is_empty() {
            out.push_str("nobody (the rule names no role and no person)");
        }
    }
}

/// The first condition of `approval` that does not hold, as text.
fn unmet_condition(approval: &Approval, ctx: &ApprovalCtx<'_>) -> Option<String> {
    approval.conditions.iter().find_map(|c| match c {
        ApprovalCondition::Validation(category) => {
            let passed = ctx.validation.is_some_and(|v| {
                let results = v.category(category);
                // Sorted by check, then time: the latest result of a check ends its run.
                !results.is_empty()
                    && results
                        .iter()
                        .enumerate()
                        .filter(|(i, r)| {
                            results
                                .get(i.saturating_add(1))
                                .is_none_or(|n| n.check != r.check)
                        })
                        .all(|(_, r)| {
                            matches!(
                                r.status,
                                Some(ValidationStatus::Passed | ValidationStatus::Warning)
                            )
                        })
            });
            (!passed).then(|| format!("validation `{}` has not passed", quote(category)))
        }
        ApprovalCondition::Label(key) => {
            let set = match ctx.request.labels.get(key) {
                None | Some(Value::Null | Value::Bool(false)) => false,
                Some(Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            };
            (!set).then(|| format!("label `{}` is not set", quote(key)))
        }
    })
}

/// A buffer of `len` copies of a value: on the stack up to `N` items, else on the heap. The
/// per-check working tables are small (a handful of votes and rules); this spares their
/// allocation.
enum Small<T: Copy, const N: usize> {
    Inline([T; N], usize),
    Heap(Vec<T>),
}

impl<T: Copy, const N: usize> Small<T, N> {
    fn new(len: usize, value: T) -> Self {
        if len <= N {
            Small::Inline([value; N], len)
        } else {
            Small::Heap(vec![value; len])
        }
    }
}

impl<T: Copy, const N: usize> std::ops::Deref for Small<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Small::Inline(a, n) => a.get(..*n).unwrap_or(&[]),
            Small::Heap(v) => v,
        }
    }
}

impl<T: Copy, const N: usize> std::ops::DerefMut for Small<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Small::Inline(a, n) => a.get_mut(..*n).unwrap_or(&mut []),
            Small::Heap(v) => v,
        }
    }
}

/// The eligibility table: `fills[i * m + r]` is how ballot `i` can fill rule `r`.
struct Table<'a> {
    fills: Small<Fill<'a>, 32>,
    m: usize,
}

impl<'a> Table<'a> {
    fn get(&self, ballot: usize, rule: usize) -> Fill<'a> {
        ballot
            .checked_mul(self.m)
            .and_then(|x| x.checked_add(rule))
            .and_then(|x| self.fills.get(x))
            .copied()
            .unwrap_or(Fill::No)
    }

    fn can(&self, ballot: usize, rule: usize) -> bool {
        matches!(self.get(ballot, rule), Fill::Yes(_))
    }
}

/// Per applicable rule, the assignment's working state.
#[derive(Debug, Clone, Copy)]
struct Work {
    needed: u32,
    /// How many ballots fill it.
    count: u32,
    /// Seen in the current augmenting path.
    visited: bool,
    /// What it admitted (ordered mode).
    since: Since,
}

/// Kuhn's augmenting path from ballot `v`: assigns it to a rule with a free slot, moving
/// earlier assignments along the way (rules tried in the order written).
fn augment(v: usize, table: &Table<'_>, work: &mut [Work], ballots: &mut [Ballot<'_>]) -> bool {
    for r in 0..work.len() {
        if !table.can(v, r) {
            continue;
        }
        let Some(w) = work.get_mut(r) else { continue };
        if w.visited {
            continue;
        }
        w.visited = true;
        let free = w.count < w.needed;
        if free {
            w.count = w.count.saturating_add(1);
        }
        // Full: try to move one of its ballots elsewhere.
        let moved = free
            || (0..ballots.len()).any(|u| {
                u != v
                    && ballots.get(u).is_some_and(|b| b.assigned == Some(r))
                    && augment(u, table, work, ballots)
            });
        if moved {
            if let Some(b) = ballots.get_mut(v) {
                b.assigned = Some(r);
            }
            return true;
        }
    }
    false
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
        let request = ctx.request;
        let now = ctx.now;
        // The applicable rules, with what each needs; nothing else is built for the others.
        let mut rules: Vec<RuleState<'a>> = Vec::with_capacity(self.rules.len());
        rules.extend(
            self.rules
                .iter()
                .filter(|r| r.when.holds(request, ctx.level))
                .map(|rule| RuleState {
                    rule,
                    needed: match rule.min {
                        Quorum::Count(n) => n,
                        // Fail closed: a rule nobody may fill stays pending, it never passes.
                        Quorum::All => {
                            u32::try_from(rule.eligible_people(ctx.directory, request).len())
                                .unwrap_or(u32::MAX)
                                .max(1)
                        }
                    },
                    approved_by: Vec::new(),
                    rejected_by: Vec::new(),
                    status: RuleStatus::Pending,
                }),
        );
        let m = rules.len();
        let deadline = self
            .deadline
            .map(|d| sub_saturating(request.start.to_utc(), d));
        let artifact_missing = self.bind_to_artifact && request.artifact.is_none() && m > 0;
        // Expired means `now >= add_saturating(at, max_age)`. Below the latest instant that
        // is `at <= now - max_age` (nothing has expired when that underflows), one subtraction
        // per check instead of a saturating addition per approval; at the latest instant the
        // saturating form is kept.
        let cutoff = (now < crate::time::latest())
            .then(|| self.max_age.and_then(|age| now.checked_sub_signed(age)));

        // Votes: future ones first, then each person's latest.
        let ballot = |a: &'a Approval| {
            let at = a.at.to_utc();
            Ballot {
                approval: a,
                at,
                fate: if at > now {
                    Fate::Ignored(Ignored::Future)
                } else {
                    Fate::Candidate
                },
                assigned: None,
            }
        };
        let mut ballots: Small<Ballot<'a>, 16> = match ctx.approvals.first() {
            Some(first) => Small::new(ctx.approvals.len(), ballot(first)),
            None => Small::Heap(Vec::new()),
        };
        for (b, a) in ballots.iter_mut().zip(ctx.approvals) {
            *b = ballot(a);
        }
        mark_duplicates(&mut ballots);

        // How each latest vote can fill each rule, and what becomes of it.
        let mut table = Table {
            fills: Small::new(ballots.len().saturating_mul(m), Fill::No),
            m,
        };
        let mut conditional: Vec<(&'a Approval, String)> = Vec::new();
        let mut valid: Vec<&'a Approval> = Vec::with_capacity(ballots.len());
        let mut rejections: Vec<usize> = Vec::new();
        for (i, b) in ballots.iter_mut().enumerate() {
            if b.fate != Fate::Candidate {
                continue;
            }
            let a = b.approval;
            let roles = ctx.directory.roles_of(&a.by);
            let own = is_self(request, &a.by);
            let row = i
                .checked_mul(m)
                .and_then(|lo| table.fills.get_mut(lo..lo.saturating_add(m)))
                .unwrap_or_default();
            let (mut any_yes, mut any_self) = (false, false);
            for (cell, state) in row.iter_mut().zip(&rules) {
                *cell = state.rule.fill(a, roles, own);
                any_yes |= matches!(cell, Fill::Yes(_));
                any_self |= *cell == Fill::SelfExcluded;
            }
            let not_eligible = if any_self {
                Ignored::Requester
            } else {
                Ignored::NotEligible
            };
            if a.decision == Vote::Reject {
                // Rejections do not expire and do not depend on the artifact: fail closed.
                if any_yes {
                    b.fate = Fate::Reject;
                    rejections.push(i);
                    for (cell, state) in row.iter().zip(rules.iter_mut()) {
                        if matches!(cell, Fill::Yes(_)) {
                            state.rejected_by.push(a.by.as_str());
                        }
                    }
                } else {
                    b.fate = Fate::Ignored(not_eligible);
                }
                continue;
            }
            let expired = match (self.max_age, cutoff) {
                (None, _) => false,
                (Some(_), Some(c)) => c.is_some_and(|c| b.at <= c),
                (Some(age), None) => now >= add_saturating(b.at, age),
            };
            b.fate = if expired {
                Fate::Ignored(Ignored::Expired)
            } else if self.bind_to_artifact
                && (request.artifact.is_none() || a.artifact != request.artifact)
            {
                Fate::Ignored(Ignored::StaleArtifact)
            } else if deadline.is_some_and(|d| b.at > d) {
                Fate::Ignored(Ignored::AfterDeadline)
            } else if let Some(unmet) = unmet_condition(a, ctx) {
                conditional.push((a, unmet));
                Fate::Conditional
            } else {
                valid.push(a);
                if any_yes {
                    Fate::Candidate
                } else {
                    Fate::Ignored(not_eligible)
                }
            };
        }

        // Assignment.
        let mut work: Small<Work, 8> = Small::new(
            m,
            Work {
                needed: 0,
                count: 0,
                visited: false,
                since: Since::Any,
            },
        );
        for (w, s) in work.iter_mut().zip(&rules) {
            w.needed = s.needed;
        }
        if self.ordered {
            assign_ordered(&mut ballots, &table, &rules, &mut work);
        } else {
            for v in 0..ballots.len() {
                if ballots.get(v).is_some_and(|b| b.fate == Fate::Candidate) {
                    work.iter_mut().for_each(|w| w.visited = false);
                    augment(v, &table, &mut work, &mut ballots);
                }
            }
        }

        // How each rule stands, and what was used.
        let assigned = ballots.iter().filter(|b| b.assigned.is_some()).count();
        let mut used: Vec<Used<'a>> = Vec::with_capacity(assigned);
        for (r, state) in rules.iter_mut().enumerate() {
            let count = work.get(r).map_or(0, |w| w.count);
            state
                .approved_by
                .reserve_exact(usize::try_from(count).unwrap_or(0));
            for (i, b) in ballots.iter().enumerate() {
                if b.assigned == Some(r) {
                    state.approved_by.push(b.approval.by.as_str());
                    let role = match table.get(i, r) {
                        Fill::Yes(role) => role,
                        _ => None,
                    };
                    used.push(Used {
                        approval: b.approval,
                        rule: state.rule.name.as_str(),
                        role,
                    });
                }
            }
            let have = u32::try_from(state.approved_by.len()).unwrap_or(u32::MAX);
            state.status = if !state.rejected_by.is_empty() {
                RuleStatus::Rejected
            } else if have >= state.needed {
                RuleStatus::Satisfied
            } else {
                RuleStatus::Pending
            };
        }

        // Votes that do not count, in the order given.
        let mut ignored: Vec<(&'a Approval, Ignored)> = Vec::new();
        for (i, b) in ballots.iter().enumerate() {
            match b.fate {
                Fate::Ignored(why) => ignored.push((b.approval, why)),
                Fate::Candidate if b.assigned.is_none() && self.ordered => {
                    // Eligible, valid and unused: out of order when a rule it could fill
                    // did not admit it yet; else its rules needed no more (not ignored).
                    let late = work
                        .iter()
                        .enumerate()
                        .any(|(r, w)| table.can(i, r) && !w.since.admits(b.at));
                    if late {
                        ignored.push((b.approval, Ignored::OutOfOrder));
                    }
                }
                _ => {}
            }
        }

        // `add_saturating` is monotonic: the earliest expiry is that of the oldest approval.
        let expires_at = self.max_age.and_then(|age| {
            ballots
                .iter()
                .filter(|b| b.assigned.is_some())
                .map(|b| b.at)
                .min()
                .map(|at| add_saturating(at, age))
        });

        let pending = rules.iter().any(|r| r.status == RuleStatus::Pending);
        let deadline_passed = pending && deadline.is_some_and(|d| now >= d);

        // Findings.
        if artifact_missing {
            out.push(
                Finding::new(
                    ARTIFACT_ID,
                    Severity::Deny,
                    "the policy binds approvals to the artifact, but the request names no \
                     `artifact`, so no approval counts",
                    Some(self.source.clone()),
                )
                .with_detail("bind_to", "artifact"),
            );
        }
        for i in rejections {
            let Some(b) = ballots.get(i) else { continue };
            let names: Vec<&str> = rules
                .iter()
                .enumerate()
                .filter(|(r, _)| table.can(i, *r))
                .map(|(_, s)| s.rule.name.as_str())
                .collect();
            let Some(first) = rules.iter().enumerate().find(|(r, _)| table.can(i, *r)) else {
                continue;
            };
            let listed: Vec<String> = names.iter().map(|n| format!("`{}`", quote(n))).collect();
            let mut f = Finding::new(
                REJECTED_ID,
                Severity::Deny,
                format!(
                    "`{}` rejected the change ({} {}){}",
                    quote(&b.approval.by),
                    if listed.len() == 1 { "rule" } else { "rules" },
                    listed.join(", "),
                    b.approval
                        .comment
                        .as_deref()
                        .map(|c| format!(": {}", quote(c)))
                        .unwrap_or_default()
                ),
                Some(first.1.rule.source.clone()),
            )
            .with_detail("by", b.approval.by.clone())
            .with_detail("rule", first.1.rule.name.clone())
            .with_detail(
                "rules",
                names.iter().map(|n| Value::from(*n)).collect::<Vec<_>>(),
            )
            .with_detail("at", format_utc(b.at));
            if let Some(c) = &b.approval.comment {
                f = f.with_detail("comment", c.clone());
            }
            out.push(f);
        }
        if deadline_passed {
            let waiting: Vec<&RuleState<'_>> = rules
                .iter()
                .filter(|r| r.status == RuleStatus::Pending)
                .collect();
            let names: Vec<String> = waiting
                .iter()
                .map(|r| format!("`{}`", quote(&r.rule.name)))
                .collect();
            let due = deadline.map(format_utc).unwrap_or_default();
            out.push(
                Finding::new(
                    DEADLINE_ID,
                    Severity::Deny,
                    format!(
                        "approval deadline passed: reschedule (due {due}; {} {} not satisfied)",
                        if names.len() == 1 { "rule" } else { "rules" },
                        names.join(", ")
                    ),
                    Some(self.source.clone()),
                )
                .with_detail("deadline", due)
                .with_detail(
                    "rules",
                    waiting
                        .iter()
                        .map(|r| Value::from(r.rule.name.as_str()))
                        .collect::<Vec<_>>(),
                ),
            );
        } else if pending {
            let state = Pending {
                ctx,
                ballots: &ballots,
                table: &table,
                conditional: &conditional,
                deadline,
            };
            for (r, rs) in rules.iter().enumerate() {
                if rs.status == RuleStatus::Pending {
                    out.push(state.finding(r, rs));
                    if self.ordered {
                        break;
                    }
                }
                if self.ordered && rs.status == RuleStatus::Rejected {
                    break;
                }
            }
        }

        ApprovalState {
            rules,
            used,
            ignored,
            conditional,
            valid,
            deadline,
            expires_at,
            deadline_passed,
            artifact_missing,
        }
    }
}

/// Marks every vote but each person's latest (by `at`; at the same instant, the later in the
/// list) `duplicate`. Future votes are already out. Quadratic without allocating for the
/// handful of votes a change has; sorted beyond that.
fn mark_duplicates(ballots: &mut [Ballot<'_>]) {
    const SMALL: usize = 16;
    let open = |b: &Ballot<'_>| b.fate == Fate::Candidate;
    // Whether ballot `j` (at index `j`) replaces ballot `i`.
    let replaces = |i: usize, bi: &Ballot<'_>, j: usize, bj: &Ballot<'_>| {
        (bj.at, j) > (bi.at, i) && bj.approval.by == bi.approval.by
    };
    if ballots.len() <= SMALL {
        for i in 0..ballots.len() {
            let dup = ballots.get(i).is_some_and(|bi| {
                open(bi)
                    && ballots
                        .iter()
                        .enumerate()
                        .any(|(j, bj)| open(bj) && replaces(i, bi, j, bj))
            });
            if dup {
                if let Some(b) = ballots.get_mut(i) {
                    b.fate = Fate::Ignored(Ignored::Duplicate);
                }
            }
        }
        return;
    }
    let mut order: Vec<usize> = (0..ballots.len())
        .filter(|&i| ballots.get(i).is_some_and(open))
        .collect();
    let key = |i: usize| ballots.get(i).map(|b| (b.approval.by.as_str(), b.at, i));
    order.sort_unstable_by_key(|&i| key(i));
    let dups: Vec<usize> = order
        .windows(2)
        .filter_map(|w| match *w {
            [i, j] if key(i).map(|k| k.0) == key(j).map(|k| k.0) => Some(i),
            _ => None,
        })
        .collect();
    for i in dups {
        if let Some(b) = ballots.get_mut(i) {
            b.fate = Fate::Ignored(Ignored::Duplicate);
        }
    }
}

/// Ordered mode: rule by rule in the order written, each takes the earliest unused eligible
/// approvals given at or after the moment the rules before it were satisfied; at equal
/// times, people eligible for fewer later rules first (then the order given). A rule
/// completes at the time of the approval that filled its last slot; once a rule is not
/// satisfied (or rejected), the rules after it admit nothing yet. `work[r].since` records
/// what rule `r` admitted. Picks by repeated minimum, no allocation: `needed` is small.
fn assign_ordered(
    ballots: &mut [Ballot<'_>],
    table: &Table<'_>,
    rules: &[RuleState<'_>],
    work: &mut [Work],
) {
    let m = work.len();
    let mut current = Since::Any;
    for (r, (w, state)) in work.iter_mut().zip(rules).enumerate() {
        w.since = current;
        let mut completed_at = None;
        while w.count < w.needed {
            let best = ballots
                .iter()
                .enumerate()
                .filter(|(i, b)| {
                    b.fate == Fate::Candidate
                        && b.assigned.is_none()
                        && table.can(*i, r)
                        && current.admits(b.at)
                })
                .map(|(i, b)| {
                    let later = (r.saturating_add(1)..m)
                        .filter(|&k| table.can(i, k))
                        .count();
                    (b.at, later, i)
                })
                .min();
            let Some((at, _, i)) = best else { break };
            if let Some(b) = ballots.get_mut(i) {
                b.assigned = Some(r);
            }
            w.count = w.count.saturating_add(1);
            completed_at = Some(at);
        }
        let satisfied = w.count >= w.needed && state.rejected_by.is_empty();
        current = match (satisfied, completed_at) {
            (false, _) => Since::Never,
            (true, Some(at)) => Since::From(at),
            (true, None) => current,
        };
    }
}

/// What the pending findings read.
struct Pending<'s, 'a> {
    ctx: &'s ApprovalCtx<'a>,
    ballots: &'s [Ballot<'a>],
    table: &'s Table<'a>,
    conditional: &'s [(&'a Approval, String)],
    deadline: Option<DateTime<Utc>>,
}

/// How many names a pending finding lists.
const MAX_LISTED: usize = 10;

impl Pending<'_, '_> {
    /// The `approval_required` finding of rule `r`.
    fn finding(&self, r: usize, rs: &RuleState<'_>) -> Finding {
        use std::fmt::Write as _;
        let rule = rs.rule;
        let request = self.ctx.request;
        let have = u32::try_from(rs.approved_by.len()).unwrap_or(u32::MAX);
        let more = rs.needed.saturating_sub(have);
        // Not yet approved: nobody whose approval is used, for this rule or another.
        let open = |p: &str| {
            (rule.allow_self_approval || !is_self(request, p))
                && !self
                    .ballots
                    .iter()
                    .any(|b| b.assigned.is_some() && b.approval.by == p)
        };
        let (listed, eligible_count): (Vec<&str>, usize) = match (&rule.roles[..], &rule.people[..])
        {
            // One role: the directory's index is sorted and without repeats, so the few
            // people left out are looked up in it instead of comparing everyone with them.
            ([role], []) => {
                let holders = self.ctx.directory.people_with_role(role);
                let own = request
                    .requested_by
                    .iter()
                    .chain(request.triggered_by.iter())
                    .chain(request.authors.iter())
                    .filter(|_| !rule.allow_self_approval);
                let used = self
                    .ballots
                    .iter()
                    .filter(|b| b.assigned.is_some())
                    .map(|b| &b.approval.by);
                let mut out: Vec<&str> = own
                    .chain(used)
                    .map(String::as_str)
                    .filter(|p| holders.binary_search_by(|h| h.as_str().cmp(p)).is_ok())
                    .collect();
                out.sort_unstable();
                out.dedup();
                let listed: Vec<&str> = holders
                    .iter()
                    .map(String::as_str)
                    .filter(|p| out.binary_search(p).is_err())
                    .take(MAX_LISTED)
                    .collect();
                (listed, holders.len().saturating_sub(out.len()))
            }
            _ => {
                let mut all = rule.eligible_people(self.ctx.directory, request);
                all.retain(|p| open(p));
                let count = all.len();
                all.truncate(MAX_LISTED);
                (all, count)
            }
        };
        // Conditional approvals by people who could fill this rule.
        let unmet: Vec<(&Approval, &str)> = self
            .ballots
            .iter()
            .enumerate()
            .filter(|(i, b)| b.fate == Fate::Conditional && self.table.can(*i, r))
            .filter_map(|(_, b)| {
                self.conditional
                    .iter()
                    .find(|(a, _)| std::ptr::eq(*a, b.approval))
                    .map(|(a, why)| (*a, why.as_str()))
            })
            .collect();
        let mut message = String::with_capacity(160);
        let _ = write!(
            message,
            "rule `{}` needs {more} more approval{} from ",
            quote(&rule.name),
            if more == 1 { "" } else { "s" },
        );
        rule.write_who(&mut message);
        if listed.is_empty() {
            message.push_str(" (nobody else is eligible)");
        } else {
            message.push_str(" (eligible: ");
            for (i, p) in listed.iter().enumerate() {
                if i > 0 {
                    message.push_str(", ");
                }
                message.push_str(&quote(p));
            }
            if eligible_count > MAX_LISTED {
                let _ = write!(
                    message,
                    ", ... {} more",
                    eligible_count.saturating_sub(MAX_LISTED)
                );
            }
            message.push(')');
        }
        for (a, why) in &unmet {
            let _ = write!(message, "; `{}` approved on condition: {why}", quote(&a.by));
        }
        let due = self.deadline.map(format_utc);
        if let Some(d) = &due {
            message.push_str("; due ");
            message.push_str(d);
        }
        let mut f = Finding::new(
            REQUIRED_ID,
            Severity::Pending,
            message,
            Some(rule.source.clone()),
        );
        // Sized once for the details below: no regrowth of the map.
        f.details = Map::with_capacity(7);
        f = f
            .with_detail("rule", rule.name.clone())
            .with_detail("needed", rs.needed)
            .with_detail("have", have)
            .with_detail(
                "eligible",
                listed.iter().map(|p| Value::from(*p)).collect::<Vec<_>>(),
            )
            .with_detail("eligible_count", eligible_count);
        if let Some(d) = due {
            f = f.with_detail("deadline", d);
        }
        if !unmet.is_empty() {
            let list: Vec<Value> = unmet
                .iter()
                .map(|(a, why)| {
                    let mut m = Map::with_capacity(2);
                    m.insert("by".into(), a.by.clone().into());
                    m.insert("unmet".into(), (*why).into());
                    Value::Object(m)
                })
                .collect();
            f = f.with_detail("unmet_conditions", list);
        }
        f
    }
}

/// A span of [`ApprovalRecord::text`].
type Span = (u32, u32);

/// How one rule stands, in an [`ApprovalRecord`]: (index in `rules.rules`, status, needed,
/// approved_by, rejected_by), the people as ranges of `people`.
type RuleRecord = (usize, RuleStatus, u32, (usize, usize), (usize, usize));

/// An owned copy of what `details.approvals` shows, with every name copied into one string, so
/// that the JSON is written only when the decision's details are read ([`crate::Details`]).
#[derive(Debug, Clone)]
pub(crate) struct ApprovalRecord {
    rules: Arc<ApprovalRules>,
    level: RiskLevel,
    level_from: &'static str,
    state: &'static str,
    text: String,
    rule_states: Vec<RuleRecord>,
    people: Vec<Span>,
    /// (by, rule index, role, at)
    used: Vec<(Span, usize, Option<Span>, DateTime<Utc>)>,
    /// (by, decision, at, reason)
    ignored: Vec<(Span, crate::model::Vote, DateTime<Utc>, Ignored)>,
    /// (by, at, unmet)
    conditional: Vec<(Span, DateTime<Utc>, Span)>,
    deadline: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl ApprovalState<'_> {
    /// `details.approvals` as an owned record: `{state, risk_level, ordered, rules: [{name,
    /// status, needed, approved_by, rejected_by, source}], used: [{by, rule, role, at,
    /// expires_at}], ignored: [{by, decision, at, reason}], conditional: [{by, at, unmet}],
    /// deadline, expires_at, risk_level_from}` once written ([`ApprovalRecord::to_json`]).
    /// `state` is `satisfied`, `pending` or `denied` (a rejection, a passed deadline or a
    /// missing artifact). `rules` must be the rules this state was evaluated with.
    pub fn record(
        &self,
        rules: &Arc<ApprovalRules>,
        level: RiskLevel,
        level_from: &'static str,
    ) -> ApprovalRecord {
        let state = if self.artifact_missing
            || self.deadline_passed
            || self.rules.iter().any(|r| r.status == RuleStatus::Rejected)
        {
            "denied"
        } else if self.rules.iter().all(|r| r.status == RuleStatus::Satisfied) {
            "satisfied"
        } else {
            "pending"
        };
        let mut text = String::with_capacity(256);
        let mut span = |s: &str| -> Span {
            let from = u32::try_from(text.len()).unwrap_or(u32::MAX);
            text.push_str(s);
            (from, u32::try_from(text.len()).unwrap_or(u32::MAX))
        };
        // By name: names are unique in a section.
        let index = |rule: &ApprovalRule| {
            rules
                .rules
                .iter()
                .position(|r| r.name == rule.name)
                .unwrap_or(usize::MAX)
        };
        let mut people = Vec::with_capacity(self.used.len() + 2);
        let mut spans = |names: &[&str], span: &mut dyn FnMut(&str) -> Span| {
            let from = people.len();
            people.extend(names.iter().map(|n| span(n)));
            (from, people.len())
        };
        let rule_states = self
            .rules
            .iter()
            .map(|r| {
                (
                    index(r.rule),
                    r.status,
                    r.needed,
                    spans(&r.approved_by, &mut span),
                    spans(&r.rejected_by, &mut span),
                )
            })
            .collect();
        let used = self
            .used
            .iter()
            .map(|u| {
                let rule = rules
                    .rules
                    .iter()
                    .position(|r| r.name == u.rule)
                    .unwrap_or(usize::MAX);
                (
                    span(&u.approval.by),
                    rule,
                    u.role.map(&mut span),
                    u.approval.at.to_utc(),
                )
            })
            .collect();
        let ignored = self
            .ignored
            .iter()
            .map(|(a, why)| (span(&a.by), a.decision, a.at.to_utc(), *why))
            .collect();
        let conditional = self
            .conditional
            .iter()
            .map(|(a, unmet)| (span(&a.by), a.at.to_utc(), span(unmet)))
            .collect();
        ApprovalRecord {
            rules: Arc::clone(rules),
            level,
            level_from,
            state,
            text,
            rule_states,
            people,
            used,
            ignored,
            conditional,
            deadline: self.deadline,
            expires_at: self.expires_at,
        }
    }
}

#[cfg(test)]
impl ApprovalState<'_> {
    /// `details.approvals` at once, for the tests of this module.
    pub fn to_json(&self, rules: &ApprovalRules, level: RiskLevel) -> Map<String, Value> {
        let mut m = self
            .record(&Arc::new(rules.clone()), level, "given")
            .to_json();
        m.remove("risk_level_from");
        m
    }
}

impl ApprovalRecord {
    /// The text of `span`.
    fn get(&self, (from, to): Span) -> &str {
        self.text
            .get(from as usize..to as usize)
            .unwrap_or_default()
    }

    /// `details.approvals`, see [`ApprovalState::record`]; instants as UTC RFC 3339, `null`
    /// when absent.
    pub fn to_json(&self) -> Map<String, Value> {
        let instant = |t: Option<DateTime<Utc>>| t.map_or(Value::Null, |t| format_utc(t).into());
        let names = |(from, to): (usize, usize)| {
            Value::Array(
                self.people
                    .get(from..to)
                    .unwrap_or_default()
                    .iter()
                    .map(|s| Value::from(self.get(*s)))
                    .collect(),
            )
        };
        let rule = |i: usize| self.rules.rules.get(i);
        let rule_list: Vec<Value> = self
            .rule_states
            .iter()
            .map(|(i, status, needed, approved, rejected)| {
                let mut m = Map::with_capacity(6);
                m.insert(
                    "name".into(),
                    rule(*i).map_or(Value::Null, |r| r.name.clone().into()),
                );
                m.insert("status".into(), status.as_str().into());
                m.insert("needed".into(), (*needed).into());
                m.insert("approved_by".into(), names(*approved));
                m.insert("rejected_by".into(), names(*rejected));
                m.insert(
                    "source".into(),
                    rule(*i).map_or(Value::Null, |r| r.source.clone().into()),
                );
                Value::Object(m)
            })
            .collect();
        let used: Vec<Value> = self
            .used
            .iter()
            .map(|(by, i, role, at)| {
                let mut m = Map::with_capacity(5);
                m.insert("by".into(), self.get(*by).into());
                m.insert(
                    "rule".into(),
                    rule(*i).map_or(Value::Null, |r| r.name.clone().into()),
                );
                m.insert(
                    "role".into(),
                    role.map_or(Value::Null, |r| self.get(r).into()),
                );
                m.insert("at".into(), format_utc(*at).into());
                m.insert(
                    "expires_at".into(),
                    instant(self.rules.max_age.map(|age| add_saturating(*at, age))),
                );
                Value::Object(m)
            })
            .collect();
        let ignored: Vec<Value> = self
            .ignored
            .iter()
            .map(|(by, decision, at, why)| {
                let mut m = Map::with_capacity(4);
                m.insert("by".into(), self.get(*by).into());
                m.insert("decision".into(), decision.as_str().into());
                m.insert("at".into(), format_utc(*at).into());
                m.insert("reason".into(), why.as_str().into());
                Value::Object(m)
            })
            .collect();
        let conditional: Vec<Value> = self
            .conditional
            .iter()
            .map(|(by, at, unmet)| {
                let mut m = Map::with_capacity(3);
                m.insert("by".into(), self.get(*by).into());
                m.insert("at".into(), format_utc(*at).into());
                m.insert("unmet".into(), self.get(*unmet).into());
                Value::Object(m)
            })
            .collect();
        let mut out = Map::with_capacity(10);
        out.insert("state".into(), self.state.into());
        out.insert("risk_level".into(), self.level.as_str().into());
        out.insert("ordered".into(), self.rules.ordered.into());
        out.insert("rules".into(), rule_list.into());
        out.insert("used".into(), used.into());
        out.insert("ignored".into(), ignored.into());
        out.insert("conditional".into(), conditional.into());
        out.insert("deadline".into(), instant(self.deadline));
        out.insert("expires_at".into(), instant(self.expires_at));
        out.insert("risk_level_from".into(), self.level_from.into());
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, FixedOffset, TimeDelta};
    use serde_json::{Value, json};

    use super::*;
    use crate::model::ValidationResult;

    const START: &str = "2026-12-01T22:00:00Z";
    const NOW: &str = "2026-12-01T09:00:00Z";

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn u(s: &str) -> DateTime<Utc> {
        t(s).to_utc()
    }

    fn rule(name: &str, roles: &[&str], min: Quorum) -> ApprovalRule {
        ApprovalRule {
            name: name.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            people: Vec::new(),
            min,
            when: When::default(),
            allow_self_approval: false,
            source: format!("policy.yaml:{}", name.len()),
        }
    }

    fn one(name: &str, role: &str) -> ApprovalRule {
        rule(name, &[role], Quorum::Count(1))
    }

    fn policy(rules: Vec<ApprovalRule>) -> ApprovalRules {
        ApprovalRules {
            rules,
            ordered: false,
            max_age: None,
            deadline: None,
            bind_to_artifact: false,
            source: "policy.yaml:1".into(),
        }
    }

    fn request() -> ChangeRequest {
        let mut r = ChangeRequest::new(
            "dep-1",
            ["checkout"],
            "production",
            "feature",
            t(START),
            TimeDelta::hours(2),
        );
        r.requested_by = Some("req@x".into());
        r
    }

    fn directory() -> Directory {
        Directory::new([
            ("a1@x", vec!["A"]),
            ("a2@x", vec!["A"]),
            ("a3@x", vec!["A"]),
            ("b1@x", vec!["B"]),
            ("x@x", vec!["A", "B"]),
            ("y@x", vec!["A"]),
            ("s1@x", vec!["security"]),
            ("req@x", vec!["A", "B"]),
            ("author@x", vec!["A"]),
            ("bot@x", vec!["A"]),
        ])
    }

    fn approve(by: &str, at: &str) -> Approval {
        Approval::new(by, t(at))
    }

    fn reject(by: &str, at: &str) -> Approval {
        let mut a = Approval::new(by, t(at));
        a.decision = Vote::Reject;
        a
    }

    /// What one evaluation gives: `details.approvals` and the findings.
    struct Run {
        json: Map<String, Value>,
        findings: Vec<Finding>,
        valid: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    }

    struct Input<'v> {
        request: ChangeRequest,
        directory: Directory,
        now: DateTime<Utc>,
        level: RiskLevel,
        validation: Option<&'v ValidationResults>,
    }

    impl Default for Input<'_> {
        fn default() -> Self {
            Self {
                request: request(),
                directory: directory(),
                now: u(NOW),
                level: RiskLevel::Low,
                validation: None,
            }
        }
    }

    fn run_with(p: &ApprovalRules, approvals: &[Approval], input: &Input<'_>) -> Run {
        let votes: Vec<&Approval> = approvals.iter().collect();
        let ctx = ApprovalCtx {
            request: &input.request,
            approvals: &votes,
            directory: &input.directory,
            now: input.now,
            level: input.level,
            validation: input.validation,
        };
        let mut findings = Vec::new();
        let state = p.evaluate(&ctx, &mut findings);
        Run {
            json: state.to_json(p, input.level),
            valid: state.valid.iter().map(|a| a.by.clone()).collect(),
            expires_at: state.expires_at,
            findings,
        }
    }

    fn run(p: &ApprovalRules, approvals: &[Approval]) -> Run {
        run_with(p, approvals, &Input::default())
    }

    impl Run {
        fn state(&self) -> &str {
            self.json["state"].as_str().unwrap()
        }

        fn statuses(&self) -> Vec<(String, String)> {
            self.json["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().to_owned(),
                        r["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        }

        fn status(&self, rule: &str) -> String {
            self.statuses()
                .into_iter()
                .find(|(n, _)| n == rule)
                .map(|(_, s)| s)
                .unwrap_or_else(|| panic!("rule {rule} not applicable"))
        }

        fn ids(&self) -> Vec<&str> {
            self.findings.iter().map(|f| f.rule.as_str()).collect()
        }

        fn ignored(&self) -> Vec<(String, String)> {
            self.json["ignored"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["by"].as_str().unwrap().to_owned(),
                        i["reason"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        }

        fn used(&self) -> Vec<(String, String)> {
            self.json["used"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["by"].as_str().unwrap().to_owned(),
                        i["rule"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        }

        fn finding(&self, id: &str) -> &Finding {
            self.findings
                .iter()
                .find(|f| f.rule.as_str() == id)
                .unwrap_or_else(|| panic!("no {id} finding in {:?}", self.ids()))
        }
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    // ---- quorum ----------------------------------------------------------------------------

    #[test]
    fn exactly_min_is_satisfied() {
        let p = policy(vec![rule("eng", &["A"], Quorum::Count(2))]);
        let r = run(
            &p,
            &[
                approve("a1@x", "2026-12-01T08:00:00Z"),
                approve("a2@x", "2026-12-01T08:01:00Z"),
            ],
        );
        assert_eq!(r.state(), "satisfied");
        assert!(r.findings.is_empty());
        assert_eq!(r.json["rules"][0]["needed"], 2);
        assert_eq!(r.json["rules"][0]["approved_by"], json!(["a1@x", "a2@x"]));
    }

    #[test]
    fn one_short_is_pending_with_details() {
        let p = policy(vec![rule("eng", &["A"], Quorum::Count(2))]);
        let r = run(&p, &[approve("a1@x", "2026-12-01T08:00:00Z")]);
        assert_eq!(r.state(), "pending");
        assert_eq!(r.ids(), [REQUIRED_ID]);
        let f = r.finding(REQUIRED_ID);
        assert_eq!(f.severity, Severity::Pending);
        assert_eq!(f.source.as_deref(), Some("policy.yaml:3"));
        assert_eq!(f.details["rule"], "eng");
        assert_eq!(f.details["needed"], 2);
        assert_eq!(f.details["have"], 1);
        // Holders of A but a1 (approved) and req (the requester).
        assert_eq!(
            f.details["eligible"],
            json!(["a2@x", "a3@x", "author@x", "bot@x", "x@x", "y@x"])
        );
        assert_eq!(f.details["eligible_count"], 6);
        assert!(!f.details.contains_key("deadline"));
        assert!(
            f.message
                .starts_with("rule `eng` needs 1 more approval from role `A` (eligible: a2@x"),
            "{}",
            f.message
        );
    }

    #[test]
    fn person_in_two_roles_is_matched_where_greedy_would_block() {
        // x holds A and B, y only A. Greedy x -> A would leave B empty.
        let p = policy(vec![one("a", "A"), one("b", "B")]);
        let r = run(
            &p,
            &[
                approve("x@x", "2026-12-01T08:00:00Z"),
                approve("y@x", "2026-12-01T08:01:00Z"),
            ],
        );
        assert_eq!(r.state(), "satisfied", "{:?}", r.json);
        assert_eq!(r.used(), [pair("y@x", "a"), pair("x@x", "b")]);
        assert_eq!(r.json["used"][1]["role"], "B");
    }

    #[test]
    fn person_in_two_roles_fills_one_slot_only() {
        let p = policy(vec![one("a", "A"), one("b", "B")]);
        let r = run(&p, &[approve("x@x", "2026-12-01T08:00:00Z")]);
        assert_eq!(r.state(), "pending");
        let pending: Vec<_> = r
            .statuses()
            .into_iter()
            .filter(|(_, s)| s == "pending")
            .collect();
        assert_eq!(pending.len(), 1);
        assert_eq!(r.ids(), [REQUIRED_ID]);
        // x is not listed as eligible any more: they approved.
        let eligible = &r.finding(REQUIRED_ID).details["eligible"];
        assert!(!eligible.as_array().unwrap().contains(&json!("x@x")));
    }

    #[test]
    fn approval_naming_a_role_counts_only_in_it() {
        let p = policy(vec![one("a", "A"), one("b", "B")]);
        let mut x = approve("x@x", "2026-12-01T08:00:00Z");
        x.role = Some("A".into());
        let mut b1 = approve("b1@x", "2026-12-01T08:00:00Z");
        b1.role = Some("A".into()); // b1 does not hold A
        let r = run(&p, &[x, b1]);
        assert_eq!(r.status("a"), "satisfied");
        assert_eq!(r.status("b"), "pending");
        assert_eq!(r.ignored(), [pair("b1@x", "not_eligible")]);
    }

    #[test]
    fn people_listed_by_name_count_without_a_role() {
        let mut cto = rule("cto", &[], Quorum::Count(1));
        cto.people = vec!["boss@x".into()];
        let r = run(
            &policy(vec![cto]),
            &[approve("boss@x", "2026-12-01T08:00:00Z")],
        );
        assert_eq!(r.state(), "satisfied");
        assert_eq!(r.json["used"][0]["role"], Value::Null);
    }

    #[test]
    fn min_all_needs_every_eligible_person_but_the_requester() {
        // Holders of A: a1 a2 a3 author bot req x y; the requester (req) and the authors and
        // trigger are excepted.
        let p = policy(vec![rule("all", &["A"], Quorum::All)]);
        let mut input = Input::default();
        input.request.authors = vec!["author@x".into()];
        input.request.triggered_by = Some("bot@x".into());
        let everyone = ["a1@x", "a2@x", "a3@x", "x@x", "y@x"];
        let votes: Vec<Approval> = everyone
            .iter()
            .map(|p| approve(p, "2026-12-01T08:00:00Z"))
            .collect();
        let r = run_with(&p, &votes, &input);
        assert_eq!(r.json["rules"][0]["needed"], 5);
        assert_eq!(r.state(), "satisfied");
        let r = run_with(&p, &votes[..4], &input);
        assert_eq!(r.state(), "pending");
        assert_eq!(r.finding(REQUIRED_ID).details["eligible"], json!(["y@x"]));
    }

    #[test]
    fn min_all_with_nobody_eligible_stays_pending() {
        let p = policy(vec![rule("all", &["nobody"], Quorum::All)]);
        let r = run(&p, &[]);
        assert_eq!(r.state(), "pending");
        assert_eq!(r.finding(REQUIRED_ID).details["eligible_count"], 0);
    }

    // ---- separation of duties ----------------------------------------------------------------

    #[test]
    fn requester_author_and_trigger_cannot_approve() {
        let p = policy(vec![rule("eng", &["A"], Quorum::Count(1))]);
        let mut input = Input::default();
        input.request.authors = vec!["author@x".into()];
        input.request.triggered_by = Some("bot@x".into());
        for who in ["req@x", "author@x", "bot@x"] {
            let r = run_with(&p, &[approve(who, "2026-12-01T08:00:00Z")], &input);
            assert_eq!(r.state(), "pending", "{who}");
            assert_eq!(r.ignored(), [pair(who, "requester")]);
            // Still a valid approval, for scripts to see.
            assert_eq!(r.valid, [who]);
        }
    }

    #[test]
    fn allow_self_approval_lets_the_requester_approve() {
        let mut eng = one("eng", "A");
        eng.allow_self_approval = true;
        let r = run(
            &policy(vec![eng]),
            &[approve("req@x", "2026-12-01T08:00:00Z")],
        );
        assert_eq!(r.state(), "satisfied");
        assert_eq!(r.used(), [pair("req@x", "eng")]);
    }

    #[test]
    fn requester_may_fill_only_the_rule_that_allows_it() {
        let mut b = one("b", "B");
        b.allow_self_approval = true;
        let p = policy(vec![one("a", "A"), b]);
        let r = run(&p, &[approve("req@x", "2026-12-01T08:00:00Z")]);
        assert_eq!(r.status("b"), "satisfied");
        assert_eq!(r.status("a"), "pending");
    }

    #[test]
    fn someone_without_a_role_is_not_eligible() {
        let r = run(
            &policy(vec![one("eng", "A")]),
            &[approve("stranger@x", "2026-12-01T08:00:00Z")],
        );
        assert_eq!(r.ignored(), [pair("stranger@x", "not_eligible")]);
        assert_eq!(r.state(), "pending");
    }

    // ---- time ------------------------------------------------------------------------------

    #[test]
    fn expired_at_exactly_max_age_valid_one_second_before() {
        let mut p = policy(vec![one("eng", "A")]);
        p.max_age = Some(TimeDelta::hours(72));
        // now - 72h
        let r = run(&p, &[approve("a1@x", "2026-11-28T09:00:00Z")]);
        assert_eq!(r.ignored(), [pair("a1@x", "expired")]);
        assert_eq!(r.state(), "pending");
        let r = run(&p, &[approve("a1@x", "2026-11-28T09:00:01Z")]);
        assert_eq!(r.state(), "satisfied");
        assert_eq!(r.expires_at, Some(u("2026-12-01T09:00:01Z")));
        assert_eq!(r.json["expires_at"], "2026-12-01T09:00:01Z");
        assert_eq!(r.json["used"][0]["expires_at"], "2026-12-01T09:00:01Z");
    }

    #[test]
    fn expires_at_is_the_earliest_expiry_of_the_approvals_used() {
        let mut p = policy(vec![one("a", "A"), one("b", "B")]);
        p.max_age = Some(TimeDelta::hours(1));
        let r = run(
            &p,
            &[
                approve("a1@x", "2026-12-01T08:30:00Z"),
                approve("b1@x", "2026-12-01T08:10:00Z"),
            ],
        );
        assert_eq!(r.json["expires_at"], "2026-12-01T09:10:00Z");
    }

    #[test]
    fn huge_max_age_saturates() {
        let mut p = policy(vec![one("a", "A")]);
        p.max_age = Some(TimeDelta::MAX);
        p.deadline = Some(TimeDelta::MAX);
        let r = run(&p, &[approve("a1@x", "2026-12-01T08:30:00Z")]);
        // The deadline saturates at the earliest instant: passed, and the approval is after it.
        assert_eq!(r.state(), "denied");
        assert_eq!(r.ignored(), [pair("a1@x", "after_deadline")]);
    }

    #[test]
    fn approval_from_the_future_is_ignored() {
        let r = run(
            &policy(vec![one("eng", "A")]),
            &[approve("a1@x", "2026-12-01T09:00:01Z")],
        );
        assert_eq!(r.ignored(), [pair("a1@x", "future")]);
        assert_eq!(r.state(), "pending");
        assert!(r.valid.is_empty());
        // At exactly now it counts.
        let r = run(&policy(vec![one("eng", "A")]), &[approve("a1@x", NOW)]);
        assert_eq!(r.state(), "satisfied");
    }

    #[test]
    fn future_vote_does_not_replace_a_present_one() {
        let r = run(
            &policy(vec![one("eng", "A")]),
            &[
                approve("a1@x", "2026-12-01T08:00:00Z"),
                reject("a1@x", "2026-12-02T08:00:00Z"),
            ],
        );
        assert_eq!(r.state(), "satisfied");
        assert_eq!(r.ignored(), [pair("a1@x", "future")]);
    }

    #[test]
    fn deadline_minute() {
        let mut p = policy(vec![one("eng", "A")]);
        p.deadline = Some(TimeDelta::hours(2)); // due 20:00
        let at_due = Input {
            now: u("2026-12-01T20:00:00Z"),
            ..Input::default()
        };
        let r = run_with(&p, &[], &at_due);
        assert_eq!(r.ids(), [DEADLINE_ID]);
        let f = r.finding(DEADLINE_ID);
        assert_eq!(f.severity, Severity::Deny);
        assert!(
            f.message
                .starts_with("approval deadline passed: reschedule")
        );
        assert_eq!(f.details["deadline"], "2026-12-01T20:00:00Z");
        assert_eq!(r.state(), "denied");
        assert_eq!(r.json["deadline"], "2026-12-01T20:00:00Z");

        let before = Input {
            now: u("2026-12-01T19:59:59Z"),
            ..Input::default()
        };
        let r = run_with(&p, &[], &before);
        assert_eq!(r.ids(), [REQUIRED_ID]);
        let f = r.finding(REQUIRED_ID);
        assert_eq!(f.details["deadline"], "2026-12-01T20:00:00Z");
        assert!(
            f.message.ends_with("; due 2026-12-01T20:00:00Z"),
            "{}",
            f.message
        );
        assert_eq!(r.state(), "pending");
    }

    #[test]
    fn satisfied_chain_is_not_denied_by_the_deadline() {
        let mut p = policy(vec![one("eng", "A")]);
        p.deadline = Some(TimeDelta::hours(2));
        let input = Input {
            now: u("2026-12-01T21:00:00Z"),
            ..Input::default()
        };
        let r = run_with(&p, &[approve("a1@x", "2026-12-01T19:00:00Z")], &input);
        assert_eq!(r.state(), "satisfied");
        assert!(r.findings.is_empty());
    }

    #[test]
    fn approval_after_the_deadline_does_not_count() {
        let mut p = policy(vec![rule("eng", &["A"], Quorum::Count(2))]);
        p.deadline = Some(TimeDelta::hours(2));
        let input = Input {
            now: u("2026-12-01T21:00:00Z"),
            ..Input::default()
        };
        let r = run_with(
            &p,
            &[
                approve("a1@x", "2026-12-01T19:00:00Z"),
                approve("a2@x", "2026-12-01T20:00:01Z"),
            ],
            &input,
        );
        assert_eq!(r.ignored(), [pair("a2@x", "after_deadline")]);
        assert_eq!(r.ids(), [DEADLINE_ID]);
    }

    // ---- votes -----------------------------------------------------------------------------

    #[test]
    fn rejection_then_approval_by_the_same_person_approves() {
        let r = run(
            &policy(vec![one("eng", "A")]),
            &[
                reject("a1@x", "2026-12-01T07:00:00Z"),
                approve("a1@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.state(), "satisfied");
        assert_eq!(r.ignored(), [pair("a1@x", "duplicate")]);
        assert_eq!(r.json["ignored"][0]["decision"], "reject");
    }

    #[test]
    fn approval_then_rejection_denies() {
        let mut no = reject("a1@x", "2026-12-01T08:00:00Z");
        no.comment = Some("not before the load test".into());
        let r = run(
            &policy(vec![one("eng", "A"), one("b", "B")]),
            &[approve("a1@x", "2026-12-01T07:00:00Z"), no],
        );
        assert_eq!(r.state(), "denied");
        assert_eq!(r.status("eng"), "rejected");
        assert_eq!(r.json["rules"][0]["rejected_by"], json!(["a1@x"]));
        assert_eq!(r.ids(), [REJECTED_ID, REQUIRED_ID]);
        let f = r.finding(REJECTED_ID);
        assert_eq!(f.severity, Severity::Deny);
        assert_eq!(f.details["by"], "a1@x");
        assert_eq!(f.details["rule"], "eng");
        assert!(f.message.contains("`a1@x`") && f.message.contains("`eng`"));
        assert!(f.message.contains("not before the load test"));
        // The pending finding names the rule still waiting, not the rejected one.
        assert_eq!(r.finding(REQUIRED_ID).details["rule"], "b");
    }

    #[test]
    fn one_rejected_finding_per_rejecting_person() {
        let r = run(
            &policy(vec![one("a", "A"), one("b", "B")]),
            &[
                reject("x@x", "2026-12-01T08:00:00Z"),
                reject("a1@x", "2026-12-01T08:00:00Z"),
            ],
        );
        let rejected: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule.as_str() == REJECTED_ID)
            .collect();
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[0].details["rules"], json!(["a", "b"]));
        assert!(
            rejected[0].message.contains("(rules `a`, `b`)"),
            "{}",
            rejected[0].message
        );
        assert_eq!(r.status("a"), "rejected");
        assert_eq!(r.status("b"), "rejected");
    }

    #[test]
    fn rejection_by_someone_not_eligible_is_ignored() {
        let r = run(
            &policy(vec![one("eng", "A")]),
            &[
                reject("s1@x", "2026-12-01T08:00:00Z"),
                approve("a1@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.state(), "satisfied");
        assert_eq!(r.ignored(), [pair("s1@x", "not_eligible")]);
    }

    #[test]
    fn same_instant_later_in_the_list_wins() {
        let r = run(
            &policy(vec![one("eng", "A")]),
            &[
                approve("a1@x", "2026-12-01T08:00:00Z"),
                reject("a1@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.state(), "denied");
        assert_eq!(r.ignored(), [pair("a1@x", "duplicate")]);
        assert_eq!(r.json["ignored"][0]["decision"], "approve");
    }

    // ---- artifact --------------------------------------------------------------------------

    #[test]
    fn stale_artifact_is_listed_in_ignored() {
        let mut p = policy(vec![one("eng", "A")]);
        p.bind_to_artifact = true;
        let mut input = Input::default();
        input.request.artifact = Some("sha256:new".into());
        let mut old = approve("a1@x", "2026-12-01T08:00:00Z");
        old.artifact = Some("sha256:old".into());
        let mut none = approve("a2@x", "2026-12-01T08:00:00Z");
        none.artifact = None;
        let r = run_with(&p, &[old.clone(), none], &input);
        assert_eq!(
            r.ignored(),
            [
                pair("a1@x", "stale_artifact"),
                pair("a2@x", "stale_artifact")
            ]
        );
        assert_eq!(r.state(), "pending");
        let mut fresh = approve("a2@x", "2026-12-01T08:00:00Z");
        fresh.artifact = Some("sha256:new".into());
        let r = run_with(&p, &[old, fresh], &input);
        assert_eq!(r.state(), "satisfied");
    }

    #[test]
    fn artifact_missing_denies_and_nothing_counts() {
        let mut p = policy(vec![one("eng", "A")]);
        p.bind_to_artifact = true;
        let mut a = approve("a1@x", "2026-12-01T08:00:00Z");
        a.artifact = Some("sha256:x".into());
        let r = run(&p, &[a, approve("a2@x", "2026-12-01T08:00:00Z")]);
        assert_eq!(r.ids(), [ARTIFACT_ID, REQUIRED_ID]);
        let arts: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule.as_str() == ARTIFACT_ID)
            .collect();
        assert_eq!(arts.len(), 1);
        assert_eq!(arts[0].severity, Severity::Deny);
        assert_eq!(r.state(), "denied");
        assert!(r.used().is_empty());
        assert_eq!(
            r.ignored(),
            [
                pair("a1@x", "stale_artifact"),
                pair("a2@x", "stale_artifact")
            ]
        );
    }

    // ---- conditions ------------------------------------------------------------------------

    fn conditional(by: &str, c: ApprovalCondition) -> Approval {
        let mut a = approve(by, "2026-12-01T08:00:00Z");
        a.conditions = vec![c];
        a
    }

    #[test]
    fn label_condition_met_and_unmet() {
        let p = policy(vec![one("eng", "A")]);
        let votes = [conditional(
            "a1@x",
            ApprovalCondition::Label("ticket".into()),
        )];
        for (value, met) in [
            (None, false),
            (Some(Value::Null), false),
            (Some(json!(false)), false),
            (Some(json!("")), false),
            (Some(json!("CHG-1")), true),
            (Some(json!(0)), true),
        ] {
            let mut input = Input::default();
            if let Some(v) = value.clone() {
                input.request.labels.insert("ticket".into(), v);
            }
            let r = run_with(&p, &votes, &input);
            assert_eq!(r.state() == "satisfied", met, "{value:?}");
            if !met {
                assert_eq!(
                    r.json["conditional"][0]["unmet"],
                    "label `ticket` is not set"
                );
                assert_eq!(
                    r.finding(REQUIRED_ID).details["unmet_conditions"],
                    json!([{"by": "a1@x", "unmet": "label `ticket` is not set"}])
                );
                assert!(r.ignored().is_empty());
                assert!(r.valid.is_empty());
            }
        }
    }

    #[test]
    fn validation_condition_met_and_unmet() {
        let p = policy(vec![one("eng", "A")]);
        let votes = [conditional(
            "a1@x",
            ApprovalCondition::Validation("performance".into()),
        )];
        let res = |rs: Vec<(&str, ValidationStatus, &str)>| {
            ValidationResults::new(
                rs.into_iter()
                    .map(|(c, s, at)| ValidationResult::new("performance", c, s, t(at)))
                    .collect(),
            )
        };
        use ValidationStatus::*;
        let cases = [
            // latest per check: failed then passed -> passed; warning counts.
            (
                res(vec![
                    ("load", Failed, "2026-12-01T01:00:00Z"),
                    ("load", Passed, "2026-12-01T02:00:00Z"),
                    ("soak", Warning, "2026-12-01T01:00:00Z"),
                ]),
                true,
            ),
            // passed then failed -> not passed.
            (
                res(vec![
                    ("load", Passed, "2026-12-01T01:00:00Z"),
                    ("load", Failed, "2026-12-01T02:00:00Z"),
                ]),
                false,
            ),
            (res(vec![("load", Skipped, "2026-12-01T01:00:00Z")]), false),
            // no result in the category
            (res(vec![]), false),
        ];
        for (i, (results, met)) in cases.iter().enumerate() {
            let input = Input {
                validation: Some(results),
                ..Input::default()
            };
            let r = run_with(&p, &votes, &input);
            assert_eq!(r.state() == "satisfied", *met, "case {i}");
        }
        // No validation evidence at all: unmet.
        let r = run(&p, &votes);
        assert_eq!(r.state(), "pending");
        assert_eq!(
            r.json["conditional"][0]["unmet"],
            "validation `performance` has not passed"
        );
        assert!(
            r.finding(REQUIRED_ID)
                .message
                .contains("approved on condition")
        );
    }

    // ---- when ------------------------------------------------------------------------------

    #[test]
    fn when_risk_at_least() {
        let mut sec = one("security", "security");
        sec.when.risk_at_least = Some(RiskLevel::High);
        let p = policy(vec![one("eng", "A"), sec]);
        let votes = [approve("a1@x", "2026-12-01T08:00:00Z")];
        for (level, applies) in [
            (RiskLevel::Medium, false),
            (RiskLevel::High, true),
            (RiskLevel::Critical, true),
        ] {
            let input = Input {
                level,
                ..Input::default()
            };
            let r = run_with(&p, &votes, &input);
            assert_eq!(r.statuses().len(), if applies { 2 } else { 1 }, "{level:?}");
            assert_eq!(r.state() == "satisfied", !applies);
            assert_eq!(r.json["risk_level"], level.as_str());
        }
    }

    #[test]
    fn when_types_services_and_labels() {
        let mut by_type = one("t", "A");
        by_type.when.types = Some(vec!["hotfix".into(), "feature".into()]);
        let mut other_type = one("t2", "A");
        other_type.when.types = Some(vec!["emergency".into()]);
        let mut by_service = one("s", "A");
        by_service.when.services = Some(vec!["payments".into(), "checkout".into()]);
        let mut other_service = one("s2", "A");
        other_service.when.services = Some(vec!["search".into()]);
        let mut by_label = one("l", "A");
        by_label
            .when
            .labels
            .insert("team".into(), json!("payments"));
        let mut other_label = one("l2", "A");
        other_label
            .when
            .labels
            .insert("team".into(), json!("search"));
        let mut number_label = one("l3", "A");
        number_label.when.labels.insert("tier".into(), json!(1));
        let p = policy(vec![
            by_type,
            other_type,
            by_service,
            other_service,
            by_label,
            other_label,
            number_label,
        ]);
        let mut input = Input::default();
        input
            .request
            .labels
            .insert("team".into(), json!("payments"));
        input.request.labels.insert("tier".into(), json!("1"));
        let r = run_with(&p, &[], &input);
        let names: Vec<String> = r.statuses().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["t", "s", "l"]);
    }

    #[test]
    fn no_applicable_rule_is_satisfied() {
        let mut sec = one("security", "security");
        sec.when.risk_at_least = Some(RiskLevel::Critical);
        let mut p = policy(vec![sec]);
        p.bind_to_artifact = true;
        let r = run(&p, &[]);
        assert_eq!(r.state(), "satisfied");
        assert!(r.findings.is_empty());
    }

    // ---- ordered ---------------------------------------------------------------------------

    fn ordered(rules: Vec<ApprovalRule>) -> ApprovalRules {
        let mut p = policy(rules);
        p.ordered = true;
        p
    }

    #[test]
    fn ordered_pending_names_the_next_rule_only() {
        let p = ordered(vec![one("a", "A"), one("b", "B"), one("s", "security")]);
        let r = run(&p, &[]);
        assert_eq!(r.ids(), [REQUIRED_ID]);
        assert_eq!(r.finding(REQUIRED_ID).details["rule"], "a");
        assert_eq!(
            r.statuses(),
            [
                pair("a", "pending"),
                pair("b", "pending"),
                pair("s", "pending")
            ]
        );
        assert_eq!(r.json["ordered"], true);
        let r = run(&p, &[approve("a1@x", "2026-12-01T08:00:00Z")]);
        assert_eq!(r.ids(), [REQUIRED_ID]);
        assert_eq!(r.finding(REQUIRED_ID).details["rule"], "b");
    }

    #[test]
    fn ordered_approval_before_the_previous_rule_is_out_of_order() {
        let p = ordered(vec![one("a", "A"), one("b", "B")]);
        let r = run(
            &p,
            &[
                approve("b1@x", "2026-12-01T07:00:00Z"),
                approve("a1@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.status("a"), "satisfied");
        assert_eq!(r.status("b"), "pending");
        assert_eq!(r.ignored(), [pair("b1@x", "out_of_order")]);
        assert_eq!(r.finding(REQUIRED_ID).details["rule"], "b");
        // In order (and at the same instant) it counts.
        let r = run(
            &p,
            &[
                approve("b1@x", "2026-12-01T08:00:00Z"),
                approve("a1@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.state(), "satisfied");
    }

    #[test]
    fn ordered_approval_for_a_rule_after_an_unsatisfied_one_is_out_of_order() {
        let p = ordered(vec![one("a", "A"), one("s", "security")]);
        let r = run(&p, &[approve("s1@x", "2026-12-01T08:00:00Z")]);
        assert_eq!(r.ignored(), [pair("s1@x", "out_of_order")]);
        assert_eq!(r.finding(REQUIRED_ID).details["rule"], "a");
    }

    #[test]
    fn ordered_prefers_at_equal_times_people_needed_by_fewer_later_rules() {
        // x (A, B) and y (A) at the same instant: y fills a, x fills b.
        let p = ordered(vec![one("a", "A"), one("b", "B")]);
        let r = run(
            &p,
            &[
                approve("x@x", "2026-12-01T08:00:00Z"),
                approve("y@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.state(), "satisfied", "{:?}", r.json);
        assert_eq!(r.used(), [pair("y@x", "a"), pair("x@x", "b")]);
    }

    #[test]
    fn ordered_rule_completes_at_its_last_approval() {
        // a needs 2: completed at 08:10; b's approval at 08:05 is out of order.
        let p = ordered(vec![rule("a", &["A"], Quorum::Count(2)), one("b", "B")]);
        let r = run(
            &p,
            &[
                approve("a1@x", "2026-12-01T08:00:00Z"),
                approve("b1@x", "2026-12-01T08:05:00Z"),
                approve("a2@x", "2026-12-01T08:10:00Z"),
            ],
        );
        assert_eq!(r.status("a"), "satisfied");
        assert_eq!(r.status("b"), "pending");
        assert_eq!(r.ignored(), [pair("b1@x", "out_of_order")]);
    }

    #[test]
    fn surplus_approval_is_valid_but_neither_used_nor_ignored() {
        let p = policy(vec![one("a", "A")]);
        let r = run(
            &p,
            &[
                approve("a1@x", "2026-12-01T08:00:00Z"),
                approve("a2@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.used(), [pair("a1@x", "a")]);
        assert!(r.ignored().is_empty());
        assert_eq!(r.valid, ["a1@x", "a2@x"]);
    }

    // ---- findings and details --------------------------------------------------------------

    #[test]
    fn pending_lists_at_most_ten_eligible_names() {
        let people: Vec<(String, Vec<&str>)> = (0..25)
            .map(|i| (format!("p{i:02}@x"), vec!["release"]))
            .collect();
        let input = Input {
            directory: Directory::new(people),
            ..Input::default()
        };
        let mut p = policy(vec![one("release", "release")]);
        p.deadline = Some(TimeDelta::hours(2));
        let r = run_with(&p, &[approve("p00@x", "2026-12-01T08:00:00Z")], &input);
        assert_eq!(r.state(), "satisfied");
        let p2 = policy(vec![rule("release", &["release"], Quorum::Count(2))]);
        let r = run_with(&p2, &[approve("p00@x", "2026-12-01T08:00:00Z")], &input);
        let f = r.finding(REQUIRED_ID);
        assert_eq!(f.details["eligible"].as_array().unwrap().len(), 10);
        assert_eq!(f.details["eligible"][0], "p01@x");
        assert_eq!(f.details["eligible_count"], 24);
        assert!(f.message.contains("p10@x, ... 14 more)"), "{}", f.message);
    }

    #[test]
    fn pending_eligible_of_several_roles_and_people_lists_each_once() {
        let mut r2 = rule("two", &["B", "security"], Quorum::Count(2));
        r2.people = vec!["x@x".into(), "boss@x".into()];
        let r = run(
            &policy(vec![r2]),
            &[approve("b1@x", "2026-12-01T08:00:00Z")],
        );
        let f = r.finding(REQUIRED_ID);
        // req@x holds B but is the requester; b1@x approved; x@x is in B and in people.
        assert_eq!(f.details["eligible"], json!(["boss@x", "s1@x", "x@x"]));
        assert_eq!(f.details["eligible_count"], 3);
        assert!(
            f.message
                .contains("from roles `B` or `security` or `x@x` or `boss@x`"),
            "{}",
            f.message
        );
    }

    #[test]
    fn to_json_has_the_documented_shape() {
        let mut p = policy(vec![one("a", "A")]);
        p.max_age = Some(TimeDelta::hours(72));
        let r = run(
            &p,
            &[
                approve("a1@x", "2026-12-01T08:00:00+01:00"),
                approve("a1@x", "2026-12-01T10:00:00Z"),
            ],
        );
        assert_eq!(
            Value::Object(r.json),
            json!({
                "state": "satisfied",
                "risk_level": "low",
                "ordered": false,
                "rules": [{"name": "a", "status": "satisfied", "needed": 1,
                           "approved_by": ["a1@x"], "rejected_by": [],
                           "source": "policy.yaml:1"}],
                "used": [{"by": "a1@x", "rule": "a", "role": "A",
                          "at": "2026-12-01T07:00:00Z", "expires_at": "2026-12-04T07:00:00Z"}],
                "ignored": [{"by": "a1@x", "decision": "approve",
                             "at": "2026-12-01T10:00:00Z", "reason": "future"}],
                "conditional": [],
                "deadline": null,
                "expires_at": "2026-12-04T07:00:00Z",
            })
        );
    }

    #[test]
    fn user_text_in_messages_is_quoted() {
        let long = "r".repeat(500);
        let p = policy(vec![one(&long, "A")]);
        let r = run(&p, &[]);
        let f = r.finding(REQUIRED_ID);
        assert!(f.message.len() < 400, "{}", f.message.len());
        assert_eq!(f.details["rule"], Value::from(long));
    }

    #[test]
    fn matching_handles_many_votes_and_rules() {
        // 40 rules of role A, 60 holders approving: 40 filled, the rest surplus.
        let people: Vec<(String, Vec<&str>)> =
            (0..60).map(|i| (format!("p{i}@x"), vec!["A"])).collect();
        let input = Input {
            directory: Directory::new(people),
            ..Input::default()
        };
        let p = policy((0..40).map(|i| one(&format!("r{i}"), "A")).collect());
        let votes: Vec<Approval> = (0..60)
            .map(|i| approve(&format!("p{i}@x"), "2026-12-01T08:00:00Z"))
            .collect();
        let r = run_with(&p, &votes, &input);
        assert_eq!(r.state(), "satisfied");
        assert_eq!(r.used().len(), 40);
    }

    #[test]
    fn votes_are_classified_when_no_rule_applies() {
        // Scripts read the valid approvals even when no built-in rule applies.
        let mut sec = one("security", "security");
        sec.when.risk_at_least = Some(RiskLevel::Critical);
        let r = run(
            &policy(vec![sec]),
            &[
                approve("a1@x", "2026-12-01T08:00:00Z"),
                approve("a2@x", "2026-12-01T10:00:00Z"),
            ],
        );
        assert_eq!(r.valid, ["a1@x"]);
        assert_eq!(
            r.ignored(),
            [pair("a1@x", "not_eligible"), pair("a2@x", "future")]
        );
    }

    #[test]
    fn many_votes_keep_each_persons_latest() {
        // More votes than the quadratic path handles: the sorted path.
        let mut votes = Vec::new();
        for i in 0..10 {
            votes.push(reject("a1@x", &format!("2026-12-01T07:{i:02}:00Z")));
            votes.push(approve("a2@x", &format!("2026-12-01T07:{i:02}:00Z")));
        }
        votes.push(approve("a1@x", "2026-12-01T07:30:00Z"));
        votes.push(reject("a2@x", "2026-12-01T07:05:00Z"));
        let r = run(&policy(vec![rule("eng", &["A"], Quorum::Count(2))]), &votes);
        assert_eq!(r.state(), "satisfied", "{:?}", r.json);
        let dups = r.ignored().iter().filter(|(_, w)| w == "duplicate").count();
        assert_eq!(dups, 20);
    }

    #[test]
    fn ordered_rejected_rule_blocks_the_rules_after_it() {
        let p = ordered(vec![one("a", "A"), one("s", "security")]);
        let r = run(
            &p,
            &[
                reject("a1@x", "2026-12-01T07:00:00Z"),
                approve("s1@x", "2026-12-01T08:00:00Z"),
            ],
        );
        assert_eq!(r.state(), "denied");
        assert_eq!(r.ids(), [REJECTED_ID]);
        assert_eq!(r.status("a"), "rejected");
        assert_eq!(r.status("s"), "pending");
        assert_eq!(r.ignored(), [pair("s1@x", "out_of_order")]);
    }

    /// The performance target: a policy of 5 rules, 4 approvals and a 200-person directory
    /// in 5 roles. Run with `cargo test --release --lib approvals::tests::timing -- --ignored
    /// --nocapture`.
    #[test]
    #[ignore = "timing, run in release"]
    fn timing() {
        let roles = ["release", "engineering", "operations", "security", "cto"];
        let people: Vec<(String, Vec<&str>)> = (0..200)
            .map(|i| (format!("person{i:03}@example.com"), vec![roles[i % 5]]))
            .collect();
        let input = Input {
            directory: Directory::new(people),
            level: RiskLevel::High,
            ..Input::default()
        };
        let mut p = policy(roles.iter().map(|r| one(r, r)).collect());
        p.ordered = true;
        p.max_age = Some(TimeDelta::hours(72));
        p.deadline = Some(TimeDelta::hours(2));
        let votes: Vec<Approval> = (0..4)
            .map(|i| approve(&format!("person{i:03}@example.com"), "2026-12-01T08:00:00Z"))
            .collect();
        let refs: Vec<&Approval> = votes.iter().collect();
        let ctx = ApprovalCtx {
            request: &input.request,
            approvals: &refs,
            directory: &input.directory,
            now: input.now,
            level: input.level,
            validation: None,
        };
        for (name, ordered) in [("ordered", true), ("matching", false)] {
            p.ordered = ordered;
            let n = 200_000u32;
            let mut out = Vec::new();
            let t0 = std::time::Instant::now();
            for _ in 0..n {
                out.clear();
                let state = p.evaluate(&ctx, &mut out);
                std::hint::black_box(&state);
            }
            let eval = t0.elapsed() / n;
            let t0 = std::time::Instant::now();
            for _ in 0..n {
                out.clear();
                let state = p.evaluate(&ctx, &mut out);
                std::hint::black_box(state.to_json(&p, input.level));
            }
            let with_json = t0.elapsed() / n;
            println!(
                "{name}: evaluate {eval:?} per check (1 pending finding); with to_json {with_json:?}"
            );
        }
        // All satisfied: no finding built.
        let votes: Vec<Approval> = (0..5)
            .map(|i| approve(&format!("person{i:03}@example.com"), "2026-12-01T08:00:00Z"))
            .collect();
        let refs: Vec<&Approval> = votes.iter().collect();
        let ctx = ApprovalCtx {
            approvals: &refs,
            ..ctx
        };
        let n = 200_000u32;
        let mut out = Vec::new();
        let t0 = std::time::Instant::now();
        for _ in 0..n {
            out.clear();
            std::hint::black_box(p.evaluate(&ctx, &mut out));
        }
        assert!(out.is_empty());
        println!("satisfied: evaluate {:?} per check", t0.elapsed() / n);
    }
}
