//! latency: delay every chunk by `latency` ± `jitter` milliseconds.
//!
//! Each chunk is delayed from its own arrival, so chunks that follow each
//! other closely (pipelined Kafka requests) keep their spacing instead of
//! queueing one delay behind another. With jitter, a chunk never overtakes
//! the one before it: order on a TCP stream is preserved.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::time::sleep_until;

use crate::proxy::stub::{PipeEnd, Stub};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Milliseconds added to each chunk.
    #[serde(default)]
    pub latency: i64,
    /// Up to this many milliseconds more or less, drawn per chunk.
    #[serde(default)]
    pub jitter: i64,
}

impl Latency {
    fn delay(&self, stub: &mut Stub) -> Duration {
        let jitter = if self.jitter > 0 { stub.rng.random_range(-self.jitter..=self.jitter) } else { 0 };
        Duration::from_millis((self.latency + jitter).max(0) as u64)
    }

    pub async fn pipe(&self, stub: &mut Stub) -> PipeEnd {
        loop {
            let chunk = match stub.recv().await {
                Ok(chunk) => chunk,
                Err(end) => return end,
            };
            let due = chunk.arrived + self.delay(stub);
            tokio::select! {
                biased;
                _ = stub.interrupt.cancelled() => {
                    // Removed while holding data: pass it on now, drop nothing.
                    stub.send(chunk);
                    return PipeEnd::Interrupted;
                }
                _ = sleep_until(due) => stub.send(chunk),
            }
        }
    }
}
