//! Answers built on repeated evaluation, with no rule semantics of their own: the next allowed
//! windows ([`next_windows`]) and the preview of window occurrences ([`preview`]).

pub(crate) mod monitor;
pub(crate) mod next_windows;
pub(crate) mod preview;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;

/// `t` in the zone `tz`, with its offset.
fn local(t: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    t.with_timezone(&tz).fixed_offset()
}
