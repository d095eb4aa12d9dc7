//! The one rule that turns a local wall-clock time into an instant (DST gaps and folds), and
//! its per-thread memo.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// Resolves a local wall-clock time in `tz` to one UTC instant.
///
/// The rule, used for every recurring window: a local time that exists once maps to that
/// instant; one that exists twice (a fall-back overlap) maps to the **earlier** of the two; one
/// that does not exist (a spring-forward gap) is moved **forward by the length of the gap**, so
/// `02:30` on a day Europe/Berlin jumps from 02:00 to 03:00 becomes `03:30` CEST. This is RFC
/// 5545's rule and jiff's `Disambiguation::Compatible`.
///
/// Answers are memoized per thread (a small direct-mapped cache): the same window boundaries
/// are resolved by check after check, and a zone lookup costs far more than the cache probe.
pub(crate) fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    /// Slots in the per-thread cache (a power of two).
    const SLOTS: usize = 512;
    type Slot = Option<(Tz, NaiveDateTime, DateTime<Utc>)>;
    thread_local! {
        static CACHE: std::cell::RefCell<Vec<Slot>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let stamp = local.and_utc().timestamp() as u64;
    let mixed = (stamp ^ ((tz as u64) << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let slot = (mixed >> 32) as usize % SLOTS;
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.is_empty() {
            cache.resize(SLOTS, None);
        }
        match cache.get(slot) {
            Some(Some((z, l, utc))) if *z == tz && *l == local => *utc,
            _ => {
                let utc = resolve_local_uncached(tz, local);
                if let Some(entry) = cache.get_mut(slot) {
                    *entry = Some((tz, local, utc));
                }
                utc
            }
        }
    })
}

/// [`resolve_local`] without the cache.
///
/// At the very ends of chrono's range, where the arithmetic below would overflow, the local
/// time is taken as UTC (no zone has a rule there that anyone could mean).
fn resolve_local_uncached(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: apply the offset in force just before the transition. A day before the
            // gap is well clear of it for every zone in the tz database.
            let naive = local.and_utc();
            let probe = naive
                .checked_sub_signed(TimeDelta::days(1))
                .unwrap_or(naive);
            let before = tz.offset_from_utc_datetime(&probe.naive_utc()).fix();
            naive
                .checked_sub_signed(TimeDelta::seconds(i64::from(before.local_minus_utc())))
                .unwrap_or(naive)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
    use proptest::prelude::*;

    use super::resolve_local;
    use crate::time::testkit::{
        ZONES, offset_at, readings, resolve_by_offsets, transitions, utc, zone,
    };

    #[test]
    fn gap_moves_forward_and_overlap_takes_earlier() {
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(resolve_local(tz, gap), utc("2026-03-29T01:30:00Z"));
        let fold = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(resolve_local(tz, fold), utc("2026-10-25T00:30:00Z"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(192))]

        #[test]
        fn resolve_local_follows_the_documented_rule(
            tz_index in 0..ZONES.len(),
            pick in any::<prop::sample::Index>(),
            minutes in -180i64..180,
        ) {
            let tz = zone(tz_index);
            let transition = *pick.get(transitions(tz_index));
            // Local wall-clock times around the transition, on the minute.
            let local = transition.with_timezone(&tz).naive_local() + TimeDelta::minutes(minutes);
            let resolved = resolve_local(tz, local);
            prop_assert_eq!(resolved, resolve_by_offsets(tz, local), "{} in {}", local, tz);
            let reads = resolved.with_timezone(&tz).naive_local();
            match readings(tz, local) {
                // Exists once, or twice (the earlier instant): reads as asked.
                1 | 2 => prop_assert_eq!(reads, local),
                // In a gap: reads later by the gap's length.
                _ => {
                    let gap = offset_at(tz, transition) - offset_at(tz, transition - TimeDelta::hours(1));
                    prop_assert_eq!(reads - local, gap, "{} in {}", local, tz);
                }
            }
            // Round trip: an instant's own wall-clock reading resolves back to it, unless it is the
            // second pass through a fold, which resolves to the first.
            let instant = transition + TimeDelta::minutes(minutes);
            let back = resolve_local(tz, instant.with_timezone(&tz).naive_local());
            if back != instant {
                prop_assert!(back < instant);
                prop_assert_eq!(
                    back.with_timezone(&tz).naive_local(),
                    instant.with_timezone(&tz).naive_local()
                );
            }
        }
    }

    #[test]
    fn transitions_found_match_known_dates() {
        // Spot checks that the scan finds what the tz database says.
        let expect = [
            (0, "2026-03-29T01:00:00Z"),
            (0, "2026-10-25T01:00:00Z"),
            (1, "2026-03-08T07:00:00Z"),
            (1, "2026-11-01T06:00:00Z"),
            (2, "2026-04-04T15:00:00Z"),
            (2, "2026-10-03T15:30:00Z"),
        ];
        for (i, t) in expect {
            let t = DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
            assert!(
                transitions(i).contains(&t),
                "{} at {t}: {:?}",
                ZONES[i],
                transitions(i)
            );
        }
    }

    /// Round trips over ten years.
    mod round_trip {
        use chrono::{DateTime, TimeDelta, TimeZone, Utc};
        use chrono_tz::Tz;
        use proptest::prelude::*;

        use super::resolve_local;
        use crate::time::testkit::{ZONES, expected};

        fn base() -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        }

        fn zone() -> impl Strategy<Value = Tz> {
            (0..ZONES.len()).prop_map(|i| ZONES[i].parse::<Tz>().unwrap())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(192))]

            #[test]
            fn resolve_local_round_trips(tz in zone(), minutes in 0i64..3650 * 1440) {
                let t = base() + TimeDelta::minutes(minutes);
                let local = t.with_timezone(&tz).naive_local();
                let back = resolve_local(tz, local);
                prop_assert_eq!(back, expected(tz, local));
                // Equal unless `t` is the later of two instants with the same local time.
                if back != t {
                    prop_assert!(back < t);
                    prop_assert_eq!(back.with_timezone(&tz).naive_local(), local);
                }
            }
        }
    }
}
