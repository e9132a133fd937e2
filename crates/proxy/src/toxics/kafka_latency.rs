//! kafka_latency: delay the aimed requests (upstream) or their responses
//! (downstream) by `latency` ± `jitter` milliseconds, and nothing else:
//! with `api_key = "produce"` on the downstream stream, acknowledgements
//! stall while metadata and heartbeats flow.
//!
//! So frames that are not aimed at overtake the delayed ones on the same
//! connection. librdkafka matches responses to requests by correlation id
//! and takes them in any order; a client that expects them in order (the
//! Java client does) needs the plain `latency` toxic instead. The delayed
//! frames keep their order among themselves, and each is delayed from its
//! own arrival, as in `latency`.

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::latency::Latency;
use crate::aim::{Aim, KafkaPipe};
use crate::pipe::LinkState;
use crate::stub::{Chunk, PipeEnd, Stub};
use crate::timer::sleep_until;
use faultlab_audit::wire::Effect;

/// Kafka: delays the aimed requests (upstream) or their responses (downstream) only; other frames flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaLatency {
    /// Milliseconds added to each aimed frame (default 0).
    #[serde(default)]
    pub latency: i64,
    /// Up to this many milliseconds more or less, drawn per frame (default 0).
    #[serde(default)]
    pub jitter: i64,
}

impl KafkaPipe for KafkaLatency {
    async fn pipe(&self, aim: &Aim, stub: &mut Stub, state: &mut LinkState) -> PipeEnd {
        let delay = Latency { latency: self.latency, jitter: self.jitter };
        let mut held: VecDeque<(Instant, Chunk)> = VecDeque::new();
        loop {
            let due = held.front().map(|(due, _)| *due);
            tokio::select! {
                biased;
                _ = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    if let Some((due, mut chunk)) = held.pop_front() {
                        chunk.arrived = due;
                        stub.send(chunk);
                    }
                }
                received = stub.recv() => match received {
                    Ok(chunk) if aim.picks(&chunk, stub, state) => {
                        let wait = delay.delay(stub);
                        if let (Some(session), Some(frame)) = (&state.session, &chunk.frame) {
                            let effect = Effect::Delayed { response: frame.response, ms: wait.as_millis() as u64 };
                            session.note(frame.correlation_id, aim, "kafka_latency", effect);
                        }
                        let due = super::after(chunk.arrived, wait);
                        // Never before the frame held before it.
                        let due = held.back().map_or(due, |(last, _)| due.max(*last));
                        held.push_back((due, chunk));
                    }
                    Ok(chunk) => stub.send(chunk),
                    Err(PipeEnd::InputClosed) => return deliver_then_close(held, stub).await,
                    Err(end) => {
                        // Interrupted: give the held frames back, oldest first.
                        for (_, chunk) in held.into_iter().rev() {
                            stub.unread(chunk);
                        }
                        return end;
                    }
                }
            }
        }
    }
}

/// The input ended: each held frame still leaves when it is due.
async fn deliver_then_close(mut held: VecDeque<(Instant, Chunk)>, stub: &mut Stub) -> PipeEnd {
    while let Some((due, mut chunk)) = held.pop_front() {
        tokio::select! {
            biased;
            _ = stub.interruption() => {
                for (_, later) in held.into_iter().rev() {
                    stub.unread(later);
                }
                stub.unread(chunk);
                return PipeEnd::Interrupted;
            }
            _ = sleep_until(due) => {
                chunk.arrived = due;
                stub.send(chunk);
            }
        }
    }
    PipeEnd::InputClosed
}
