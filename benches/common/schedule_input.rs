//! The input of `benches/schedule.rs`, shared with `examples/profile_check.rs` so that the
//! profile runs the bench's own calendar and request: the generated calendar, the request, the
//! time of the check, and their plain form for the floor. Included with `#[path]` beside the
//! `common` and `floor` modules.

use changegate::{Calendar, ChangeRequest};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

use super::common::Rng;
use super::floor;

pub fn base() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-01-05T00:00:00+01:00").unwrap()
}

/// Deployments a day in the generated calendars: the density stays the same whatever `n`, so
/// the 1 000 and 100 000 figures differ only by how well the index avoids the rest.
pub const PER_DAY: u64 = 100;

/// `n` production deployments on 200 services, 30 minutes to 4 hours each, `PER_DAY` a day
/// from 2026-01-05 (1 000 cover 10 days, 100 000 cover 1 000 days).
pub fn calendar(n: usize) -> Calendar {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let span_minutes = (n as u64 / PER_DAY).max(1) * 24 * 60;
    let deployments = (0..n)
        .map(|i| {
            let start = base() + TimeDelta::minutes(rng.below(span_minutes) as i64);
            let duration = TimeDelta::minutes(30 + rng.below(210) as i64);
            let service = format!("svc-{}", rng.below(200));
            let mut d = ChangeRequest::new(
                format!("dep-{i}"),
                [service],
                "production",
                "feature",
                start,
                duration,
            );
            d.labels
                .insert("team".into(), format!("team-{}", rng.below(40)).into());
            d
        })
        .collect();
    Calendar::new(deployments, Vec::new()).unwrap()
}

/// A Tuesday-night production change (inside the first 10 days, so both calendars are as busy
/// around it) of two services, with a ticket and a team label, so
/// every built-in rule and every script of the default bundle runs.
pub fn request() -> ChangeRequest {
    ChangeRequest::from_yaml(
        "id: bench-1\nservices: [svc-7, payments]\nenvironment: production\ntype: feature\n\
         start: 2026-01-13T22:30:00+01:00\nduration: 2h\nrequested_at: 2026-01-09T08:00:00Z\n\
         depends_on: [dep-17]\nlabels: {team: team-3, ticket: CHG-1234}\n",
        "bench",
    )
    .unwrap()
}

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-09T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A request or deployment as the floor's plain data.
pub fn plain(d: &ChangeRequest) -> floor::Change {
    let start = d.start.timestamp();
    floor::Change {
        id: d.id.as_str().to_owned(),
        services: d.services.clone(),
        environment: d.environment.clone(),
        change_type: d.change_type.clone(),
        start,
        end: start + d.duration.num_seconds().max(1),
        requested_at: d.requested_at.map(|t| t.timestamp()),
        depends_on: d.depends_on.iter().map(|x| x.as_str().to_owned()).collect(),
    }
}

pub fn floor_of(cal: &Calendar) -> floor::Floor {
    let one_offs = cal
        .blackouts()
        .iter()
        .map(|b| floor::OneOff {
            start: b.from.timestamp(),
            end: b.to.timestamp(),
            environments: b.environments.clone(),
            services: b.services.clone(),
        })
        .collect();
    floor::Floor::new(cal.deployments().iter().map(plain).collect(), one_offs)
}
