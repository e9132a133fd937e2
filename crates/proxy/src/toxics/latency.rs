//! latency: delay every chunk by `latency` ± `jitter` milliseconds.
//!
//! Each chunk is delayed from its own arrival, so chunks that follow each
//! other closely (pipelined Kafka requests) keep their spacing instead of
//! queueing one delay behind another. With jitter, a chunk never overtakes
//! the one before it: order on a TCP stream is preserved. A chunk leaves
//! stamped with the time it was due, so two latency toxics in one chain add
//! up, as in Toxiproxy.
//!
//! The wait uses [`crate::timer::sleep_until`], not tokio's: tokio's
//! timer has a 1 ms resolution and rounds up, so a 10 ms latency came out
//! about 11.1 ms; the finer timer keeps the error in tens of microseconds
//! (measured by `faultlab bench --only proxy`, see BENCHMARKS.md).

use std::time::Duration;

use rand::Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::pipe::{LinkState, Pipe};
use crate::stub::{PipeEnd, Stub};
use crate::timer::sleep_until;

/// Delays every chunk of data by `latency` ms, give or take up to `jitter` ms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Milliseconds added to each chunk (default 0).
    #[serde(default)]
    pub latency: i64,
    /// Up to this many milliseconds more or less, drawn per chunk (default 0).
    #[serde(default)]
    pub jitter: i64,
}

impl Latency {
    pub(super) fn delay(&self, stub: &mut Stub) -> Duration {
        let jitter = if self.jitter > 0 { stub.rng.random_range(-self.jitter..=self.jitter) } else { 0 };
        super::millis(self.latency.saturating_add(jitter))
    }
}

impl Pipe for Latency {
    async fn pipe(&self, stub: &mut Stub, _state: &mut LinkState) -> PipeEnd {
        loop {
            let mut chunk = match stub.recv().await {
                Ok(chunk) => chunk,
                Err(end) => return end,
            };
            let due = super::after(chunk.arrived, self.delay(stub));
            tokio::select! {
                biased;
                _ = stub.interruption() => {
                    // The chain is changing: hand the chunk back with its
                    // arrival time, so it is still due when it was due.
                    stub.unread(chunk);
                    return PipeEnd::Interrupted;
                }
                _ = sleep_until(due) => {
                    chunk.arrived = due;
                    stub.send(chunk);
                }
            }
        }
    }
}
