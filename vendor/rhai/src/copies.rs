//! changegate patch (not in upstream rhai 1.27): a per-thread count of the items copied when a
//! script reads a variable by value (`let b = a;`, `f(a)`, `[a, a]`, `return a`).
//!
//! Rhai copies an array or map on every such read, and its operation count does not see the
//! copy: a loop that copies a 10 000-item array runs for seconds within the operations limit.
//! The host reads and resets this count (for example in its `on_progress` callback) to charge
//! the copies against a budget, deterministically.

use crate::types::dynamic::Union;
use crate::Dynamic;
use std::cell::Cell;

std::thread_local! {
    static COPIED: Cell<u64> = const { Cell::new(0) };
}

/// Records a copy of `value`: the items of its arrays, four per entry of its maps and one per
/// eight bytes of its BLOBs, nested ones included (counted without recursion). Scalars, strings and shared
/// values (whose copy is a reference count) add nothing.
#[inline]
pub(crate) fn record(value: &Dynamic) {
    if !matches!(value.0, Union::Array(..) | Union::Map(..) | Union::Blob(..)) {
        return;
    }
    let mut items: u64 = 0;
    let mut stack: Vec<&Dynamic> = vec![value];
    while let Some(v) = stack.pop() {
        match v.0 {
            Union::Array(ref a, ..) => {
                items = items.saturating_add(a.len() as u64);
                stack.extend(a.iter().filter(|x| is_collection(x)));
            }
            Union::Map(ref m, ..) => {
                // A map entry (a key and a tree node) takes about four times an array item.
                items = items.saturating_add(4 * m.len() as u64);
                stack.extend(m.values().filter(|x| is_collection(x)));
            }
            Union::Blob(ref b, ..) => items = items.saturating_add(b.len() as u64 / 8),
            _ => (),
        }
    }
    COPIED.with(|c| c.set(c.get().saturating_add(items)));
}

#[inline]
fn is_collection(v: &Dynamic) -> bool {
    matches!(v.0, Union::Array(..) | Union::Map(..) | Union::Blob(..))
}

/// The items copied on this thread since the last call, and resets the count.
#[inline]
#[must_use]
pub fn take() -> u64 {
    COPIED.with(|c| c.replace(0))
}
