//! The hooks a script can define: one per question. Discovered once, when a bundle loads.

use std::fmt;

/// A function a script defines to take part in one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Hook {
    /// `fn schedule(request)` (see [`Hook::doc`]).
    Schedule,
    /// `fn risk(ctx)` (see [`Hook::doc`]).
    Risk,
    /// `fn approvals(ctx)` (see [`Hook::doc`]).
    Approvals,
    /// `fn gates(ctx)` (see [`Hook::doc`]).
    Gates,
    /// `fn rollback(ctx)` (see [`Hook::doc`]).
    Rollback,
}

impl Hook {
    /// Every hook, in the order they are listed to authors.
    pub const ALL: [Hook; 5] = [
        Hook::Schedule,
        Hook::Risk,
        Hook::Approvals,
        Hook::Gates,
        Hook::Rollback,
    ];

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            Hook::Schedule => "schedule",
            Hook::Risk => "risk",
            Hook::Approvals => "approvals",
            Hook::Gates => "gates",
            Hook::Rollback => "rollback",
        }
    }

    /// Its parameters, as authors write them.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Hook::Schedule => &["request"],
            Hook::Risk | Hook::Approvals | Hook::Gates | Hook::Rollback => &["ctx"],
        }
    }

    /// What the hook is for and what it can call: written into the `.d.rhai` definitions
    /// (`changegate::script_definitions()`), the one place this is documented for authors.
    pub fn doc(self) -> &'static [&'static str] {
        match self {
            Hook::Schedule => &[
                "Hook: may this change run at this time? `request` is the change request.",
                "The calendar functions (`overlapping_deployments`, `deployments_between`, ...) \
                 are available here only.",
            ],
            Hook::Risk => &[
                "Hook: how risky is it? `ctx` is the request; `add_risk(points, reason)` adds to \
                 the score and `risk_score()` reads it.",
            ],
            Hook::Approvals => &[
                "Hook: do the approvals given satisfy the policy? `ctx` is the request;",
                "`approved_by(person)`, `approvals()`, `approvers_in_role(role)`, \
                 `count_in_role(role)`, `has_role(person, role)`, `roles_of(person)`, \
                 `risk_level()`, and `pending(...)` for what is still missing.",
            ],
            Hook::Gates => &[
                "Hook: is the change healthy enough to continue or promote? `ctx` is the \
                 deployment;",
                "aggregates of its measurements over a window ending at `now`: `avg`, `min`, \
                 `max`, `last`, `p50`, `p90`, `p95`, `p99`, `count`, `rate` (`(metric, \
                 window[, labels])`, a float or `()` for no data), `samples(metric, window[, \
                 labels])`, `baseline(aggregation, metric, window[, labels])`, \
                 `events(kind, window)`, and `pending(...)` while data is missing.",
            ],
            Hook::Rollback => &[
                "Hook: should it roll back? `ctx` is the deployment; the functions of \
                 `fn gates(ctx)`, and `rollback_to(level, reason)` to demand one of the \
                 policy's rollback levels.",
            ],
        }
    }

    /// The hook a function of this name is, if any.
    pub fn named(name: &str) -> Option<Hook> {
        Self::ALL.into_iter().find(|h| h.name() == name)
    }

    /// Every hook's signature, for messages: "`fn schedule(request)`".
    pub fn listing() -> String {
        let all: Vec<String> = Self::ALL.iter().map(|h| format!("`{h}`")).collect();
        all.join(", ")
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fn {}({})", self.name(), self.params().join(", "))
    }
}
