//! The hooks a script can define: one per question. Discovered once, when a bundle loads.

use std::fmt;

/// A function a script defines to take part in one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Hook {
    /// `fn schedule(request)`: may this change run at this time?
    Schedule,
    /// `fn risk(ctx)`: how risky is it? (`ctx` is the request; `add_risk(points, reason)`)
    Risk,
    /// `fn approvals(ctx)`: do the approvals given satisfy the policy? (`ctx` is the
    /// request; `approved_by(person)`, `approvals()`, `approvers_in_role(role)`,
    /// `count_in_role(role)`, `has_role(person, role)`, `roles_of(person)`, `risk_level()`,
    /// and `pending(...)` for what is still missing)
    Approvals,
    /// `fn gates(ctx)`: is the change healthy enough to continue or promote? (`ctx` is the
    /// deployment; aggregates of its measurements over a window ending at `now`: `avg`,
    /// `min`, `max`, `last`, `p50`, `p90`, `p95`, `p99`, `count`, `rate` (`(metric, window[,
    /// labels])`, a float or `()` for no data), `samples(metric, window[, labels])`,
    /// `baseline(aggregation, metric, window[, labels])`, `events(kind, window)`, and
    /// `pending(...)` while data is missing)
    Gates,
    /// `fn rollback(ctx)`: should it roll back? (`ctx` is the deployment; the functions of
    /// `fn gates(ctx)`, and `rollback_to(level, reason)` to demand one of the policy's
    /// rollback levels)
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
