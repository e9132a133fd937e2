//! bandwidth: pass data at no more than `rate` KB/s (1 KB = 1000 bytes, as
//! in Toxiproxy).
//!
//! Each byte is released when the link would have finished sending it at
//! that rate; a chunk larger than 100 ms worth of bytes goes out in 100 ms
//! slices, as Toxiproxy does, so the receiver sees a steady trickle rather
//! than bursts. Deadlines are absolute, so timer granularity never adds up
//! over a long transfer. An idle link earns no credit: a burst after a
//! pause is paced from when it arrives. `rate` 0 lets nothing through,
//! which is what Toxiproxy does with it too.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::time::sleep_until;

use crate::pipe::{LinkState, Pipe};
use crate::stub::{PipeEnd, Stub};

/// Limits the connection to `rate` KB/s.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bandwidth {
    /// KB (1000 bytes) per second, 0 or more; 0 lets nothing through.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub rate: i64,
}

impl Bandwidth {
    /// How long `bytes` take at the rate.
    fn time_for(&self, bytes: usize) -> Duration {
        Duration::from_nanos((bytes as u64).saturating_mul(1_000_000) / self.rate as u64)
    }
}

impl Pipe for Bandwidth {
    fn validate(&self) -> Result<(), String> {
        if self.rate < 0 {
            return Err(format!("attributes.rate: `{}` is negative; accepted: 0 or more KB/s", self.rate));
        }
        Ok(())
    }

    /// `state.deadline` is when the link finishes sending what it passed on
    /// so far; it outlives restarts of this pipe.
    async fn pipe(&self, stub: &mut Stub, state: &mut LinkState) -> PipeEnd {
        let slice = (self.rate.max(0) as usize).saturating_mul(100);
        loop {
            let mut chunk = match stub.recv().await {
                Ok(chunk) => chunk,
                Err(end) => return end,
            };
            if self.rate <= 0 {
                stub.interruption().await;
                stub.unread(chunk);
                return PipeEnd::Interrupted;
            }
            // Paced from when the link is free, or from when this chunk came
            // if the link was idle then (not from "now": the few hundred
            // microseconds each wake-up is late would add up).
            let mut free = state.deadline.map_or(chunk.arrived, |d| d.max(chunk.arrived));
            while !chunk.is_empty() {
                let n = chunk.len().min(slice);
                let due = super::after(free, self.time_for(n));
                tokio::select! {
                    biased;
                    _ = stub.interruption() => {
                        stub.unread(chunk);
                        return PipeEnd::Interrupted;
                    }
                    _ = sleep_until(due) => {
                        stub.send(chunk.split_to(n));
                        state.deadline = Some(due);
                        free = due;
                    }
                }
            }
        }
    }
}
