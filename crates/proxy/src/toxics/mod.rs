//! One file per toxic. Each is a pipe over a chunk stream: it reads chunks
//! from its [`Stub`](super::stub::Stub)'s input, does its harm, and writes
//! to its output; the [`link`](super::link) chains them.
//!
//! The contract every pipe keeps: when interrupted it puts back what it
//! holds ([`Stub::unread`](super::stub::Stub::unread)) and returns
//! [`PipeEnd::Interrupted`](super::stub::PipeEnd::Interrupted), so a change
//! to the chain never loses, reorders or hurries a byte.

pub mod bandwidth;
pub mod kafka_ack_loss;
pub mod kafka_error;
pub mod kafka_latency;
pub mod latency;
pub mod limit_data;
pub mod noop;
pub mod reset_peer;
pub mod slicer;
pub mod slow_close;
pub mod timeout;

use std::time::Duration;

use tokio::time::Instant;

/// Go's `time.Duration(ms) * time.Millisecond` for a toxic attribute: a
/// negative value is no time at all.
pub(crate) fn millis(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// About 30 years: tokio's own "never" for a sleep beyond its clock.
const NEVER: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `from + delay`, checked: a delay beyond what the clock can hold is a
/// deadline never reached, so the toxic waits until it is interrupted.
/// An unchecked `Instant + Duration` panics the link's task on overflow
/// ("overflow when adding duration to instant"). On Linux, std's Instant
/// holds i64 seconds, so the largest attribute (i64::MAX ms, 9.2e15 s)
/// still fits (measured: no panic without this check either); the check
/// keeps it so wherever the clock is narrower. Toxiproxy's Go multiplies
/// such values into durations with int64 wrap-around instead; the README's
/// proxy section says what that does.
pub(crate) fn after(from: Instant, delay: Duration) -> Instant {
    from.checked_add(delay).or_else(|| from.checked_add(NEVER)).unwrap_or(from)
}
