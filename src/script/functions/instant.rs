//! Instants, read in the bundle's zone: `t.weekday`, `t.hour`, `t.date`, comparisons,
//! `minutes_between(a, b)`, `t.add_minutes(n)`, `t.next_local_time(hour, minute)`.
//!
//! An instant taken from the request (`request.start`, `request.end` and what is computed from
//! them) remembers that it moves with the request's start. Reading it tells the call's
//! [`Stability`](crate::script::state::Stability) how long the value read stays the same,
//! which is what lets the window search jump over start times a script would answer the same.

use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc,
};
use chrono_tz::Tz;
use rhai::{Engine, EvalAltResult, INT};

use crate::script::state::{CallState, next_step};
use crate::time::resolve_local;

/// An instant with the bundle's zone.
#[derive(Clone)]
pub(crate) struct Instant {
    pub utc: DateTime<Utc>,
    pub tz: Tz,
    /// Set when the instant moves with the request's start.
    pub anchor: Option<Anchor>,
}

/// How an instant moves with the request's start: `utc = start + offset`.
#[derive(Clone)]
pub(crate) struct Anchor {
    pub offset: TimeDelta,
    pub call: Arc<CallState>,
}

/// The local field a reading depends on.
#[derive(Clone, Copy)]
enum Unit {
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

/// The first instant after `t` at which the local `unit` of `t` (in `tz`) changes.
fn next_boundary(t: DateTime<Utc>, tz: Tz, unit: Unit) -> DateTime<Utc> {
    let local = t.with_timezone(&tz).naive_local();
    let date = local.date();
    let first = |d: Option<NaiveDate>| d.map(|d| d.and_time(NaiveTime::MIN));
    let mut next: Option<NaiveDateTime> = match unit {
        Unit::Minute => local
            .with_second(0)
            .and_then(|l| l.with_nanosecond(0))
            .and_then(|l| l.checked_add_signed(TimeDelta::minutes(1))),
        Unit::Hour => date
            .and_hms_opt(local.hour(), 0, 0)
            .and_then(|l| l.checked_add_signed(TimeDelta::hours(1))),
        Unit::Day => first(date.succ_opt()),
        Unit::Month => first(
            date.with_day(1)
                .and_then(|d| d.checked_add_months(Months::new(1))),
        ),
        Unit::Year => first(NaiveDate::from_ymd_opt(date.year().saturating_add(1), 1, 1)),
    };
    // A boundary inside a DST gap resolves forward; one that resolves to `t` or before (a fold)
    // is passed by the next one. Four tries reach past any transition.
    for _ in 0..4 {
        let Some(n) = next else { break };
        let at = resolve_local(tz, n);
        if at > t {
            return at;
        }
        next = n.checked_add_signed(match unit {
            Unit::Minute => TimeDelta::minutes(1),
            _ => TimeDelta::hours(1),
        });
    }
    next_step(t)
}

impl Instant {
    pub fn fixed(utc: DateTime<Utc>, tz: Tz) -> Self {
        Self {
            utc,
            tz,
            anchor: None,
        }
    }

    fn local(&self) -> DateTime<Tz> {
        self.utc.with_timezone(&self.tz)
    }

    /// A local field was read: the value holds until the field's next boundary.
    fn read(&self, unit: Unit) {
        if let Some(a) = &self.anchor {
            let at = next_boundary(self.utc, self.tz, unit);
            a.call
                .depends_until(at.checked_sub_signed(a.offset).unwrap_or(at));
        }
    }

    /// The exact value was read (a timestamp, a text): it may change with every start.
    fn read_exactly(&self) {
        if let Some(a) = &self.anchor {
            a.call.depends_on_every_start();
        }
    }
}

/// Records how long the order of `a` and `b` stays the same while the start moves.
fn compared(a: &Instant, b: &Instant) {
    match (&a.anchor, &b.anchor) {
        (Some(_), Some(_)) | (None, None) => {}
        (Some(moving), None) => order_until(moving, a.utc, b.utc),
        (None, Some(moving)) => order_until(moving, b.utc, a.utc),
    }
}

/// `moving` (at `at`, growing with the start) against the fixed `fixed`: below it until it
/// reaches it, equal for one instant, above it for good.
fn order_until(moving: &Anchor, at: DateTime<Utc>, fixed: DateTime<Utc>) {
    if at < fixed {
        let start = fixed.checked_sub_signed(moving.offset).unwrap_or(fixed);
        moving.call.depends_until(start);
    } else if at == fixed {
        moving.call.depends_on_every_start();
    }
}

fn add_minutes(t: Instant, minutes: INT) -> Result<Instant, Box<EvalAltResult>> {
    let delta = TimeDelta::try_minutes(minutes);
    let utc = delta.and_then(|d| t.utc.checked_add_signed(d));
    match (utc, delta) {
        (Some(utc), Some(d)) => Ok(Instant {
            utc,
            tz: t.tz,
            anchor: t.anchor.map(|a| Anchor {
                offset: a.offset.checked_add(&d).unwrap_or(a.offset),
                call: a.call,
            }),
        }),
        _ => Err(format!("add_minutes({minutes}) leaves the range of instants").into()),
    }
}

/// The first instant after `t` whose local wall time is `hour:minute` (a time in a DST gap
/// resolves forward, as windows do).
fn next_local_time(t: Instant, hour: INT, minute: INT) -> Result<Instant, Box<EvalAltResult>> {
    let time = u32::try_from(hour)
        .ok()
        .zip(u32::try_from(minute).ok())
        .and_then(|(h, m)| NaiveTime::from_hms_opt(h, m, 0))
        .ok_or_else(|| format!("next_local_time({hour}, {minute}): not a time of day"))?;
    let mut date = Some(t.local().date_naive());
    for _ in 0..4 {
        let Some(d) = date else { break };
        let at = resolve_local(t.tz, d.and_time(time));
        if at > t.utc {
            if let Some(a) = &t.anchor {
                // The answer is the same for every start until the request reaches it.
                a.call
                    .depends_until(at.checked_sub_signed(a.offset).unwrap_or(at));
            }
            return Ok(Instant::fixed(at, t.tz));
        }
        date = d.succ_opt();
    }
    Err(format!("next_local_time({hour}, {minute}) leaves the range of instants").into())
}

/// The documentation of the `Instant` type, for the definitions.
pub(crate) const INSTANT_DOC: &str = "Instant: a point in time seen in the bundle's zone \
    (`request.start`, `now()`); compare two with `<`, `<=`, `>`, `>=`, `==` and `!=`.";

pub(super) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Instant>("Instant");
    get!(
        engine,
        "weekday",
        &["The local day of the week, 1 (Monday) to 7 (Sunday)."],
        |t: &mut Instant| {
            t.read(Unit::Day);
            i64::from(t.local().weekday().number_from_monday())
        }
    );
    get!(
        engine,
        "weekday_name",
        &["The local day of the week's name in lowercase (`monday`)."],
        |t: &mut Instant| {
            t.read(Unit::Day);
            t.local().weekday().to_string().to_lowercase()
        }
    );
    get!(
        engine,
        "hour",
        &["The local hour, 0 to 23."],
        |t: &mut Instant| {
            t.read(Unit::Hour);
            i64::from(t.local().hour())
        }
    );
    get!(
        engine,
        "minute",
        &["The local minute, 0 to 59."],
        |t: &mut Instant| {
            t.read(Unit::Minute);
            i64::from(t.local().minute())
        }
    );
    get!(engine, "year", &["The local year."], |t: &mut Instant| {
        t.read(Unit::Year);
        i64::from(t.local().year())
    });
    get!(
        engine,
        "month",
        &["The local month, 1 to 12."],
        |t: &mut Instant| {
            t.read(Unit::Month);
            i64::from(t.local().month())
        }
    );
    get!(
        engine,
        "day",
        &["The local day of the month, 1 to 31."],
        |t: &mut Instant| {
            t.read(Unit::Day);
            i64::from(t.local().day())
        }
    );
    get!(
        engine,
        "date",
        &["The local date, `YYYY-MM-DD`."],
        |t: &mut Instant| {
            t.read(Unit::Day);
            t.local().format("%Y-%m-%d").to_string()
        }
    );
    get!(
        engine,
        "timestamp",
        &["Seconds since the Unix epoch."],
        |t: &mut Instant| {
            t.read_exactly();
            t.utc.timestamp()
        }
    );
    def!(
        engine,
        "to_string",
        ["instant"],
        &["The instant as RFC 3339 text in the bundle's zone."],
        |t: &mut Instant| {
            t.read_exactly();
            t.local().to_rfc3339()
        }
    );
    def!(
        engine,
        "to_debug",
        ["instant"],
        &["The instant as RFC 3339 text in the bundle's zone."],
        |t: &mut Instant| {
            t.read_exactly();
            t.local().to_rfc3339()
        }
    );
    engine.register_fn("<", |a: Instant, b: Instant| {
        compared(&a, &b);
        a.utc < b.utc
    });
    engine.register_fn("<=", |a: Instant, b: Instant| {
        compared(&a, &b);
        a.utc <= b.utc
    });
    engine.register_fn(">", |a: Instant, b: Instant| {
        compared(&a, &b);
        a.utc > b.utc
    });
    engine.register_fn(">=", |a: Instant, b: Instant| {
        compared(&a, &b);
        a.utc >= b.utc
    });
    engine.register_fn("==", |a: Instant, b: Instant| {
        compared(&a, &b);
        a.utc == b.utc
    });
    engine.register_fn("!=", |a: Instant, b: Instant| {
        compared(&a, &b);
        a.utc != b.utc
    });
    def!(
        engine,
        "minutes_between",
        ["from", "to"],
        &["Whole minutes from `from` to `to` (negative when `to` is earlier)."],
        |a: Instant, b: Instant| {
            if a.anchor.is_some() != b.anchor.is_some() {
                a.read_exactly();
                b.read_exactly();
            }
            b.utc.signed_duration_since(a.utc).num_minutes()
        }
    );
    def!(
        engine,
        "add_minutes",
        ["instant", "minutes"],
        &["The instant `minutes` later (earlier when negative)."],
        add_minutes
    );
    def!(
        engine,
        "next_local_time",
        ["instant", "hour", "minute"],
        &[
            "The first instant after `instant` whose local wall time is `hour:minute` (a time in a DST gap resolves forward, as windows do)."
        ],
        next_local_time
    );
}
