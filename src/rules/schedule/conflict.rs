//! `conflict`: no other deployment of the same service may overlap the change.

use std::collections::BTreeSet;
use std::rc::Rc;

use super::{Blocker, Constraints, MAX_LISTED, ScheduleCtx, deny, listed};
use crate::calendar::Calendar;
use crate::decision::Finding;
use crate::error::quote;
use crate::model::ChangeRequest;
use crate::rules::Rule;
use crate::time::{Interval, IntervalSet};

/// The rule's id.
pub(crate) const ID: &str = "conflict";

pub(crate) fn check<'a>(rule: &Rule<()>, ctx: &ScheduleCtx<'a>, out: &mut Vec<Finding>) {
    let request = ctx.request;
    let others = |service: &'a str| {
        ctx.calendar
            .overlapping_service(&request.environment, service, ctx.interval)
            .filter(|other| other.id != request.id)
    };
    // Looked for first without collecting, so that a passing check allocates nothing.
    if !request.services.iter().any(|s| others(s).next().is_some()) {
        return;
    }
    let mut ids = Vec::new();
    let mut services = Vec::new();
    for service in &request.services {
        let before = ids.len();
        ids.extend(others(service).map(|other| other.id.as_str()));
        if ids.len() > before {
            services.push(service.as_str());
        }
    }
    let (ids_json, list, count) = listed(ids);
    let (svc_listed, svc, _) = listed(services);
    let mut finding = deny(
        ID,
        rule,
        format!(
            "conflicts with {list} already scheduled on {svc} in `{}`",
            quote(&request.environment)
        ),
    )
    .with_detail("deployments", ids_json)
    .with_detail("services", svc_listed);
    if count > MAX_LISTED {
        finding = finding.with_detail("count", count);
    }
    out.push(finding);
}

/// The deployment may not occupy the time another deployment of one of its services does.
pub(crate) fn constrain<'a>(ctx: &ScheduleCtx<'a>, range: Interval, c: &mut Constraints<'a>) {
    let request = ctx.request;
    for service in &request.services {
        let busy: IntervalSet = ctx
            .calendar
            .overlapping_service(&request.environment, service, range)
            .filter(|d| d.id != request.id)
            .map(|d| d.interval())
            .collect();
        if !busy.is_empty() {
            let label = Rc::new(Busy {
                service,
                request,
                calendar: ctx.calendar,
            });
            c.occupied.push((label, busy.clip(range)));
        }
    }
}

/// Other deployments of one service; their ids are looked up per reported stretch.
struct Busy<'a> {
    service: &'a str,
    request: &'a ChangeRequest,
    calendar: &'a Calendar,
}

impl Blocker for Busy<'_> {
    fn rule(&self) -> &str {
        ID
    }

    fn describe(&self, occupied: Option<Interval>) -> String {
        let ids: BTreeSet<&str> = occupied
            .into_iter()
            .flat_map(|iv| {
                self.calendar
                    .overlapping_service(&self.request.environment, self.service, iv)
            })
            .filter(|x| x.id != self.request.id)
            .map(|x| x.id.as_str())
            .collect();
        let ids: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
        format!("`{}` is busy with {}", self.service, ids.join(", "))
    }
}
