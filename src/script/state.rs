//! What a hook call can see, reachable from native functions through the call's tag, and what
//! the call learns about itself: its findings, and for how long its answer holds.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rhai::{EvalAltResult, ImmutableString, NativeCallContext};

use super::hooks::Hook;
use crate::calendar::Calendar;
use crate::decision::Finding;
use crate::model::ChangeRequest;
use crate::time::Interval;

/// The input of a `schedule` hook.
pub(crate) struct ScheduleInput<'a> {
    pub request: &'a ChangeRequest,
    /// `request.interval()`, as the caller computed it.
    pub interval: Interval,
    pub calendar: &'a Calendar,
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

/// The input of a `risk` hook: the request, the score of the built-in factors, and where the
/// points scripts add (`add_risk`) go once every script ran.
pub(crate) struct RiskInput<'a> {
    pub request: &'a ChangeRequest,
    pub interval: Interval,
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub score: u32,
    pub added: &'a Mutex<Vec<RiskAddition>>,
}

/// Points a script added with `add_risk`, with its reason and `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RiskAddition {
    pub points: u32,
    pub reason: String,
    pub source: String,
}

/// The input of an `approvals` hook: the request, its risk level, the directory (the
/// bundle's with the evidence's laid over it) and the valid approvals (latest vote per
/// person, `approve`, not expired, future, stale or after the deadline, conditions met), in
/// the order given.
pub(crate) struct ApprovalInput<'a> {
    pub request: &'a ChangeRequest,
    pub interval: Interval,
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub level: crate::model::RiskLevel,
    pub directory: &'a crate::model::Directory,
    pub valid: &'a [&'a crate::model::Approval],
}

/// What the `approvals` hook's functions read: the risk level, the directory and the valid
/// approvals, copied out of the [`ApprovalInput`] so that the call's state owns them (it is
/// shared with rhai through the call's tag and cannot borrow).
///
/// The approvals' names and roles are copied into one string (`text`), and both buffers are
/// taken from and given back to a per-thread pool, so that building the state for a call
/// allocates nothing once the thread has run a call with as many approvals.
pub(crate) struct ApprovalsState {
    pub level: crate::model::RiskLevel,
    /// The bundle's directory with the evidence's laid over it (a cheap clone: an `Arc`).
    pub directory: crate::model::Directory,
    /// The valid approvals, in the order given.
    valid: Vec<ValidApproval>,
    /// The names and roles of `valid`, one after the other.
    text: String,
    /// The roles the directory gives each valid approval's person, looked up once, by the
    /// first function that needs them.
    roles: std::sync::OnceLock<PersonRoles>,
}

/// The roles of each valid approval's person, as the directory gives them, in its order.
struct PersonRoles {
    /// Every role name, one after the other.
    names: String,
    /// Each role's range of `names`.
    roles: Vec<std::ops::Range<usize>>,
    /// Per valid approval, its person's range of `roles`.
    of: Vec<std::ops::Range<usize>>,
}

/// One valid approval, as the `approvals` hook's functions read it: its person and role as
/// ranges of [`ApprovalsState`]'s text.
struct ValidApproval {
    by: std::ops::Range<usize>,
    /// The role named in the approval, if any (it then counts in that role only).
    role: Option<std::ops::Range<usize>>,
    at: DateTime<Utc>,
}

/// One valid approval, borrowed from an [`ApprovalsState`].
#[derive(Clone, Copy)]
pub(crate) struct ValidRef<'a> {
    pub by: &'a str,
    /// The role named in the approval, if any (it then counts in that role only).
    pub role: Option<&'a str>,
    pub at: DateTime<Utc>,
}

thread_local! {
    /// The buffers of the last `approvals` state dropped on this thread, for the next one.
    static APPROVALS_BUFFERS: std::cell::Cell<Option<(Vec<ValidApproval>, String)>> =
        const { std::cell::Cell::new(None) };
}

impl ApprovalsState {
    fn new(input: &ApprovalInput) -> Self {
        let (mut valid, mut text) = APPROVALS_BUFFERS
            .with(std::cell::Cell::take)
            .unwrap_or_default();
        valid.clear();
        text.clear();
        let mut push = |s: &str| {
            let from = text.len();
            text.push_str(s);
            from..text.len()
        };
        valid.extend(input.valid.iter().map(|a| ValidApproval {
            by: push(&a.by),
            role: a.role.as_deref().map(&mut push),
            at: a.at.with_timezone(&Utc),
        }));
        Self {
            level: input.level,
            directory: input.directory.clone(),
            valid,
            text,
            roles: std::sync::OnceLock::new(),
        }
    }

    /// The roles the directory gives the person of the `i`th valid approval (none past the
    /// end), as [`Directory::roles_of`](crate::model::Directory::roles_of) gives them.
    pub fn roles_of_valid(&self, i: usize) -> impl ExactSizeIterator<Item = &str> + '_ {
        let cache = self.roles.get_or_init(|| {
            let mut cache = PersonRoles {
                names: String::with_capacity(16 * self.valid.len()),
                roles: Vec::with_capacity(2 * self.valid.len()),
                of: Vec::with_capacity(self.valid.len()),
            };
            for v in self.valid() {
                let from = cache.roles.len();
                for role in self.directory.roles_of(v.by) {
                    let at = cache.names.len();
                    cache.names.push_str(role);
                    cache.roles.push(at..cache.names.len());
                }
                cache.of.push(from..cache.roles.len());
            }
            cache
        });
        let span = cache.of.get(i).cloned().unwrap_or_default();
        cache.roles[span].iter().map(|r| &cache.names[r.clone()])
    }

    /// The valid approvals, in the order given.
    pub fn valid(&self) -> impl ExactSizeIterator<Item = ValidRef<'_>> + '_ {
        self.valid.iter().map(|v| ValidRef {
            by: &self.text[v.by.clone()],
            role: v.role.clone().map(|r| &self.text[r]),
            at: v.at,
        })
    }
}

impl Drop for ApprovalsState {
    fn drop(&mut self) {
        let buffers = (
            std::mem::take(&mut self.valid),
            std::mem::take(&mut self.text),
        );
        // Kept only while small: a call with many approvals does not pin its memory.
        if buffers.0.capacity() <= 64 && buffers.1.capacity() <= 4096 {
            let _ = APPROVALS_BUFFERS.try_with(|b| b.set(Some(buffers)));
        }
    }
}

/// The input of a `gates` hook: the deployment and its telemetry (measurements, baseline,
/// events, rollbacks performed) at `now`.
pub(crate) struct GatesInput<'a> {
    pub request: &'a ChangeRequest,
    pub interval: Interval,
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub telemetry: &'a crate::telemetry::Telemetry,
}

/// The input of a `rollback` hook: as a `gates` hook, plus the policy's level names (in
/// escalation order) and where the levels scripts demand (`rollback_to`) go once every script
/// ran.
pub(crate) struct RollbackInput<'a> {
    pub request: &'a ChangeRequest,
    pub interval: Interval,
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub telemetry: &'a crate::telemetry::Telemetry,
    pub levels: &'a [String],
    pub demanded: &'a Mutex<Vec<LevelDemand>>,
}

/// A rollback level a script demanded with `rollback_to(level, reason)`, with `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LevelDemand {
    /// An index into the input's `levels`.
    pub level: usize,
    pub reason: String,
    pub source: String,
}

/// The input of one hook call.
pub(crate) enum HookInput<'a> {
    Schedule(ScheduleInput<'a>),
    Risk(RiskInput<'a>),
    Approvals(ApprovalInput<'a>),
    Gates(GatesInput<'a>),
    Rollback(RollbackInput<'a>),
}

impl HookInput<'_> {
    pub fn hook(&self) -> Hook {
        match self {
            HookInput::Schedule(_) => Hook::Schedule,
            HookInput::Risk(_) => Hook::Risk,
            HookInput::Approvals(_) => Hook::Approvals,
            HookInput::Gates(_) => Hook::Gates,
            HookInput::Rollback(_) => Hook::Rollback,
        }
    }
}

/// Per-call state. Scripts reach it only through the functions registered for their hook.
pub(crate) struct CallState {
    pub hook: Hook,
    /// The request, shared with the calls before this one on this thread when it is the same
    /// (see [`shared_request`]).
    pub request: Arc<SharedRequest>,
    /// The calendar, in a `schedule` hook.
    pub calendar: Option<Calendar>,
    pub now: DateTime<Utc>,
    pub tz: Tz,
    /// `request.interval()`, computed once.
    pub interval: Interval,
    /// `interval.start()`.
    pub start: DateTime<Utc>,
    pub findings: Mutex<Vec<Finding>>,
    /// Findings recorded by every script of this check so far.
    pub recorded: AtomicUsize,
    /// What the running script read that depends on the request's start time.
    pub stability: Mutex<Stability>,
    /// Whether anyone reads `stability` (the window search does; a plain check does not, and
    /// then calendar queries skip looking for their next change).
    pub tracks_stability: bool,
    /// In a `risk` hook: the points scripts added so far.
    pub risk: Option<Mutex<Vec<RiskAddition>>>,
    /// In a `risk` hook: the score of the built-in factors.
    pub risk_score: u32,
    /// In an `approvals` hook: the level, the directory and the valid approvals.
    pub approvals: Option<ApprovalsState>,
    /// In a `gates` or `rollback` hook: the measurements, baseline, events and rollbacks
    /// performed (a cheap clone: an `Arc`).
    pub telemetry: Option<crate::telemetry::Telemetry>,
    /// In a `rollback` hook: the policy's level names, in escalation order.
    pub levels: Vec<String>,
    /// In a `rollback` hook: the levels scripts demanded so far (`rollback_to`).
    pub demanded: Option<Mutex<Vec<LevelDemand>>>,
}

/// For how long the running script's answer holds when only the request's start moves (the
/// window search asks this; nothing else depends on it).
///
/// Every script function whose answer depends on the start time narrows `until` to the first
/// start at which that answer could change: `request.start.hour` to the next local hour,
/// `request.start.weekday` to the next local midnight, a calendar query to the next
/// deployment that would enter or leave it, a comparison with a fixed instant to the moment it
/// flips. A script reads its input through these functions only and has no clock or random
/// source, so its findings are the same for every start in `[start, until)`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stability {
    /// `None`: the same for every start.
    pub until: Option<DateTime<Utc>>,
    /// The latest `retry_at` a denial of this script gave.
    pub retry_at: Option<DateTime<Utc>>,
}

impl Stability {
    /// Narrows `until` to `t` (a start-time boundary), if earlier.
    pub fn narrow(&mut self, t: DateTime<Utc>) {
        self.until = Some(self.until.map_or(t, |u| u.min(t)));
    }
}

/// The start times just after `start`: the answer may change at the next resolution step.
pub(crate) fn next_step(start: DateTime<Utc>) -> DateTime<Utc> {
    start
        .checked_add_signed(TimeDelta::nanoseconds(1))
        .unwrap_or(start)
}

impl CallState {
    pub fn new(input: &HookInput) -> Self {
        match input {
            HookInput::Schedule(s) => Self {
                hook: Hook::Schedule,
                request: shared_request(s.request),
                calendar: Some(s.calendar.clone()),
                now: s.now,
                tz: s.tz,
                interval: s.interval,
                start: s.interval.start(),
                findings: Mutex::new(Vec::new()),
                recorded: AtomicUsize::new(0),
                stability: Mutex::new(Stability::default()),
                tracks_stability: true,
                risk: None,
                risk_score: 0,
                approvals: None,
                telemetry: None,
                levels: Vec::new(),
                demanded: None,
            },
            HookInput::Risk(r) => Self {
                hook: Hook::Risk,
                request: shared_request(r.request),
                calendar: None,
                now: r.now,
                tz: r.tz,
                interval: r.interval,
                start: r.interval.start(),
                findings: Mutex::new(Vec::new()),
                recorded: AtomicUsize::new(0),
                stability: Mutex::new(Stability::default()),
                tracks_stability: true,
                risk: Some(Mutex::new(Vec::new())),
                risk_score: r.score,
                approvals: None,
                telemetry: None,
                levels: Vec::new(),
                demanded: None,
            },
            HookInput::Approvals(a) => Self {
                hook: Hook::Approvals,
                request: shared_request(a.request),
                calendar: None,
                now: a.now,
                tz: a.tz,
                interval: a.interval,
                start: a.interval.start(),
                findings: Mutex::new(Vec::new()),
                recorded: AtomicUsize::new(0),
                stability: Mutex::new(Stability::default()),
                tracks_stability: true,
                risk: None,
                risk_score: 0,
                approvals: Some(ApprovalsState::new(a)),
                telemetry: None,
                levels: Vec::new(),
                demanded: None,
            },
            HookInput::Gates(g) => Self {
                hook: Hook::Gates,
                request: shared_request(g.request),
                calendar: None,
                now: g.now,
                tz: g.tz,
                interval: g.interval,
                start: g.interval.start(),
                findings: Mutex::new(Vec::new()),
                recorded: AtomicUsize::new(0),
                stability: Mutex::new(Stability::default()),
                tracks_stability: true,
                risk: None,
                risk_score: 0,
                approvals: None,
                telemetry: Some(g.telemetry.clone()),
                levels: Vec::new(),
                demanded: None,
            },
            HookInput::Rollback(r) => Self {
                hook: Hook::Rollback,
                request: shared_request(r.request),
                calendar: None,
                now: r.now,
                tz: r.tz,
                interval: r.interval,
                start: r.interval.start(),
                findings: Mutex::new(Vec::new()),
                recorded: AtomicUsize::new(0),
                stability: Mutex::new(Stability::default()),
                tracks_stability: true,
                risk: None,
                risk_score: 0,
                approvals: None,
                telemetry: Some(r.telemetry.clone()),
                levels: r.levels.to_vec(),
                demanded: Some(Mutex::new(Vec::new())),
            },
        }
    }

    /// Narrows the running script's stability to start times before `boundary`.
    pub fn depends_until(&self, boundary: DateTime<Utc>) {
        self.stability
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .narrow(boundary.max(next_step(self.start)));
    }

    /// The running script's answer may change with the next start time.
    pub fn depends_on_every_start(&self) {
        self.depends_until(next_step(self.start));
    }

    /// The approvals hook's state, or an error naming the hook that has it.
    pub fn approvals(&self, function: &str) -> Result<&ApprovalsState, Box<EvalAltResult>> {
        self.approvals.as_ref().ok_or_else(|| {
            format!(
                "`{function}` reads the approvals evidence (approvals, directory, risk level), which only `{}` has, not `{}`",
                Hook::Approvals,
                self.hook
            )
            .into()
        })
    }

    /// The telemetry, or an error naming the hooks that have it.
    pub fn telemetry(
        &self,
        function: &str,
    ) -> Result<&crate::telemetry::Telemetry, Box<EvalAltResult>> {
        self.telemetry.as_ref().ok_or_else(|| {
            format!(
                "`{function}` reads the deployment's measurements and events, which only `{}` and `{}` have, not `{}`",
                Hook::Gates,
                Hook::Rollback,
                self.hook
            )
            .into()
        })
    }

    /// The calendar, or an error naming the hooks that have one.
    pub fn calendar(&self, function: &str) -> Result<&Calendar, Box<EvalAltResult>> {
        self.calendar.as_ref().ok_or_else(|| {
            format!(
                "`{function}` queries the calendar, which only `{}` has, not `{}`",
                Hook::Schedule,
                self.hook
            )
            .into()
        })
    }
}

/// The request as hooks hold it, with the strings scripts read most already in rhai's form,
/// so that `request.environment` and `request.type` hand out a shared string instead of
/// copying one on every read.
///
/// It dereferences to the fields scripts can read (see [`script_view`]); its `environment` and
/// `change_type` fields (these strings) shadow the copy's, which are left empty.
pub(crate) struct SharedRequest {
    request: ChangeRequest,
    pub environment: ImmutableString,
    pub change_type: ImmutableString,
}

impl std::ops::Deref for SharedRequest {
    type Target = ChangeRequest;

    fn deref(&self) -> &ChangeRequest {
        &self.request
    }
}

thread_local! {
    /// The request of the last call on this thread.
    static LAST_REQUEST: std::cell::RefCell<Option<Arc<SharedRequest>>> =
        const { std::cell::RefCell::new(None) };
}

/// `request` as a shared value for the hooks, which need one they own: the last call's copy
/// when it is the same request as scripts see it (checking one request many times, or many
/// requests against one policy in a loop, compares instead of copying), also when only its
/// start moved (the window search) and no earlier call still holds that copy (its start is
/// then updated in place), else a new copy (see [`script_view`]).
fn shared_request(request: &ChangeRequest) -> Arc<SharedRequest> {
    LAST_REQUEST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some(shared) = last.as_mut() {
            if same_but_start(shared, request) {
                if shared.request.start == request.start {
                    return shared.clone();
                }
                if let Some(only) = Arc::get_mut(shared) {
                    only.request.start = request.start;
                    return shared.clone();
                }
            }
        }
        // The environment and type repeat from request to request: the last copy's strings
        // are shared when equal rather than made anew.
        let reuse = |text: &str, previous: Option<&ImmutableString>| {
            previous
                .filter(|p| p.as_str() == text)
                .cloned()
                .unwrap_or_else(|| text.into())
        };
        let shared = Arc::new(SharedRequest {
            request: script_view(request),
            environment: reuse(
                &request.environment,
                last.as_deref().map(|l| &l.environment),
            ),
            change_type: reuse(
                &request.change_type,
                last.as_deref().map(|l| &l.change_type),
            ),
        });
        *last = Some(shared.clone());
        shared
    })
}

/// A copy of `request` with the fields scripts can read (through `ScriptRequest`'s getters,
/// and the calendar functions' `id` and `environment`); those they cannot read (`artifact`,
/// `authors`, `triggered_by`, `approvals`, `break_glass`: the `approvals` hook reads the
/// valid approvals through [`ApprovalsState`]) are left empty, and are not copied, and so are
/// `environment` and `change_type`, which [`SharedRequest`] holds as rhai strings.
fn script_view(request: &ChangeRequest) -> ChangeRequest {
    let ChangeRequest {
        id,
        services,
        environment: _,
        change_type: _,
        start,
        duration,
        requested_by,
        requested_at,
        depends_on,
        labels,
        artifact: _,
        authors: _,
        triggered_by: _,
        approvals: _,
        break_glass: _,
    } = request;
    ChangeRequest {
        id: id.clone(),
        services: services.clone(),
        environment: String::new(),
        change_type: String::new(),
        start: *start,
        duration: *duration,
        requested_by: requested_by.clone(),
        requested_at: *requested_at,
        depends_on: depends_on.clone(),
        labels: labels.clone(),
        artifact: None,
        authors: Vec::new(),
        triggered_by: None,
        approvals: Vec::new(),
        break_glass: None,
    }
}

/// Whether `shared` holds `b` as scripts see it but for `start`: equal in every field
/// [`script_view`] keeps but `start`, and in `environment` and `change_type`.
fn same_but_start(shared: &SharedRequest, b: &ChangeRequest) -> bool {
    let ChangeRequest {
        id,
        services,
        environment: _,
        change_type: _,
        start: _,
        duration,
        requested_by,
        requested_at,
        depends_on,
        labels,
        artifact: _,
        authors: _,
        triggered_by: _,
        approvals: _,
        break_glass: _,
    } = &shared.request;
    *id == b.id
        && *duration == b.duration
        && shared.environment.as_str() == b.environment
        && shared.change_type.as_str() == b.change_type
        && *services == b.services
        && *requested_at == b.requested_at
        && *requested_by == b.requested_by
        && *depends_on == b.depends_on
        && *labels == b.labels
}

#[derive(Clone)]
pub(crate) struct Ctx(pub Arc<CallState>);

/// The state of the current call.
pub(crate) fn state(ctx: &NativeCallContext) -> Result<Arc<CallState>, Box<EvalAltResult>> {
    ctx.tag()
        .and_then(|t| t.read_lock::<Ctx>().map(|c| c.0.clone()))
        .ok_or_else(|| "this function is only available inside a policy hook".into())
}
