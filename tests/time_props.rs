#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Properties of `changegate::time` as a user sees it: durations and instants read and written
//! as text, with a typed error for anything else and never a panic; and requests with extreme
//! times and durations, which give a documented clamped answer instead of a panic
//! (docs/time-semantics.md, "Extreme values").
//!
//! The interval, local-time and window properties test crate-internal types; they live next to
//! them, in `src/time/` (`interval.rs`, `local.rs`, `window.rs`).

use changegate::time::{
    TimeParseErrorKind, format_duration, format_utc, parse_duration, parse_instant,
};
use changegate::{Calendar, ChangeRequest, PolicySet};
use chrono::{DateTime, FixedOffset, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

/// 36 600 days, the longest duration text may give.
const MAX_SECS: i64 = 366 * 86_400 * 100;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn durations_round_trip(secs in 1i64..=MAX_SECS) {
        let d = TimeDelta::seconds(secs);
        let text = format_duration(d);
        prop_assert_eq!(parse_duration(&text).unwrap(), d, "{}", text);
    }

    #[test]
    fn any_text_is_a_duration_or_an_error(text in "\\PC{0,24}") {
        if let Ok(d) = parse_duration(&text) {
            prop_assert!(d > TimeDelta::zero() && d <= TimeDelta::seconds(MAX_SECS));
        }
    }

    #[test]
    fn any_digits_and_units_are_a_duration_or_an_error(
        parts in prop::collection::vec(("[0-9]{1,25}", prop::sample::select(vec!["w", "d", "h", "m", "s"])), 1..5),
    ) {
        let text: String = parts.iter().map(|(n, u)| format!("{n}{u}")).collect();
        match parse_duration(&text) {
            Ok(d) => prop_assert!(d > TimeDelta::zero() && d <= TimeDelta::seconds(MAX_SECS)),
            Err(e) => {
                prop_assert_eq!(e.input(), text.as_str());
                prop_assert!(e.to_string().contains(&format!("`{text}`")), "{}", e);
            }
        }
    }

    #[test]
    fn instants_round_trip(secs in -62_135_596_800i64..253_402_300_799, offset_min in -1439i32..1440) {
        // Every second from 0001-01-01 to 9999-12-31 (UTC), written in any offset.
        let utc = Utc.timestamp_opt(secs, 0).unwrap();
        let offset = FixedOffset::east_opt(offset_min * 60).unwrap();
        let local = utc.with_timezone(&offset);
        prop_assume!((0..=9999).contains(&chrono::Datelike::year(&local.naive_local())));
        let parsed = parse_instant(&local.to_rfc3339()).unwrap();
        prop_assert_eq!(parsed, utc);
        prop_assert_eq!(parse_instant(&format_utc(utc)).unwrap(), utc);
    }

    #[test]
    fn any_text_is_an_instant_or_an_error(text in "\\PC{0,40}") {
        if let Err(e) = parse_instant(&text) {
            prop_assert!(matches!(
                e.kind(),
                TimeParseErrorKind::MissingOffset | TimeParseErrorKind::InvalidInstant
            ));
            prop_assert_eq!(e.input(), text.as_str());
        }
    }

    #[test]
    fn end_never_panics_and_saturates(
        secs in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>(), -10_000i64..10_000],
        millis in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>()],
        start in prop_oneof![Just(DateTime::<Utc>::MIN_UTC), Just(DateTime::<Utc>::MAX_UTC), Just(now())],
        offset_min in -1439i32..1440,
    ) {
        let duration = TimeDelta::try_seconds(secs)
            .or_else(|| TimeDelta::try_milliseconds(millis))
            .unwrap_or(TimeDelta::MAX);
        let offset = FixedOffset::east_opt(offset_min * 60).unwrap();
        let req = request(start.with_timezone(&offset), duration);
        let end = req.end();
        match start.checked_add_signed(duration) {
            Some(exact) if exact >= latest() - TimeDelta::days(1) || exact <= earliest() => {}
            Some(exact) => prop_assert_eq!(end, exact),
            None => prop_assert!(end == latest() || end == earliest(), "{}", end),
        }
        // What a user does with the answer must not panic either.
        let _ = end.to_rfc3339();
        let _ = end.naive_local();
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()
}

fn latest() -> DateTime<Utc> {
    DateTime::<Utc>::MAX_UTC - TimeDelta::days(1)
}

fn earliest() -> DateTime<Utc> {
    DateTime::<Utc>::MIN_UTC + TimeDelta::days(1)
}

fn request(start: DateTime<FixedOffset>, duration: TimeDelta) -> ChangeRequest {
    ChangeRequest::new(
        "dep-1",
        ["checkout"],
        "production",
        "feature",
        start,
        duration,
    )
}

#[test]
fn huge_durations_end_at_the_latest_instant() {
    let start = DateTime::parse_from_rfc3339("2026-12-01T22:00:00+01:00").unwrap();
    assert_eq!(request(start, TimeDelta::MAX).end(), latest());
    assert_eq!(request(start, TimeDelta::MIN).end(), earliest());
    // The end keeps the offset of the start.
    assert_eq!(
        request(start, TimeDelta::MAX).end().offset(),
        start.offset()
    );
    assert_eq!(
        request(start, TimeDelta::hours(2)).end().to_rfc3339(),
        "2026-12-02T00:00:00+01:00"
    );
}

#[test]
fn durations_longer_than_a_century_are_errors_not_panics() {
    for text in [
        "36601d",
        "1000000000d",
        "99999999999999999999999w",
        "9223372036854775807s",
        "1w9223372036854775807d",
        "5229w",
    ] {
        let err = parse_duration(text).unwrap_err();
        assert_eq!(err.kind(), TimeParseErrorKind::DurationTooLong, "{text}");
        assert_eq!(
            err.to_string(),
            format!("invalid duration `{text}`, expected at most 36600 days (100 years)")
        );
    }
    assert_eq!(parse_duration("36600d").unwrap(), TimeDelta::days(36_600));
}

#[test]
fn checks_of_extreme_requests_answer() {
    let policy = PolicySet::builtin().unwrap();
    let calendar = Calendar::default();
    let start = DateTime::parse_from_rfc3339("2026-12-01T22:00:00+01:00").unwrap();
    let far = DateTime::<Utc>::MAX_UTC.fixed_offset();
    let early = DateTime::<Utc>::MIN_UTC.fixed_offset();
    for (start, duration) in [
        (start, TimeDelta::MAX),
        (start, TimeDelta::MIN),
        (start, TimeDelta::days(36_600)),
        (start, TimeDelta::days(36_601)),
        (far, TimeDelta::hours(2)),
        (far, TimeDelta::MAX),
        (early, TimeDelta::hours(2)),
        (early, TimeDelta::MIN),
    ] {
        let req = request(start, duration);
        let decision = policy.check_schedule(&req, &calendar, now());
        // Changes this long, or this far out, are never allowed by the default bundle.
        assert!(!decision.allowed, "{start} for {duration}: {decision:?}");
        let _ = serde_json::to_string(&decision).unwrap();
    }
}
