//! The aggregates of [`super::aggregate`] kept incrementally over a sliding window: amortized
//! O(1) per sample for last/avg/min/max/count/rate, O(log n) for percentiles. The rollback
//! sweep (batch and streaming alike) runs on these.
//!
//! TODO(rollback helper).
