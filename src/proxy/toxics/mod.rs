//! One file per toxic. Each is a pipe over a chunk stream: it reads chunks
//! from its [`Stub`](super::stub::Stub)'s input, does its harm, and writes
//! to its output; the [`link`](super::link) chains them.
//!
//! The contract every pipe keeps: when interrupted it puts back what it
//! holds ([`Stub::unread`](super::stub::Stub::unread)) and returns
//! [`PipeEnd::Interrupted`](super::stub::PipeEnd::Interrupted), so a change
//! to the chain never loses, reorders or hurries a byte.

pub mod bandwidth;
pub mod latency;
pub mod limit_data;
pub mod noop;
pub mod reset_peer;
pub mod slicer;
pub mod slow_close;
pub mod timeout;

use std::time::Duration;

/// Go's `time.Duration(ms) * time.Millisecond` for a toxic attribute: a
/// negative value is no time at all.
pub(crate) fn millis(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}
