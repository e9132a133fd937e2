//! How much work a scenario may ask for: one set of limits, checked by
//! `faultlab validate` and therefore by `faultlab run` (which validates
//! first), documented in the JSON Schema and the README from these
//! constants.
//!
//! The limits keep a run finite and its memory bounded, and keep every
//! number the run computes from the file (pacing, fault times, timeouts) in
//! range, so a file `validate` accepts never makes the run overflow:
//!
//! - time: every duration (`at`, `duration`, a toxic's delay, the time
//!   `messages` take at `rate`) is at most [`MAX_DURATION`];
//! - work: [`MAX_MESSAGES_PER_RUN`] messages over all producers,
//!   [`MAX_BYTES_PER_RUN`] of payload, [`MAX_PARTITIONS`] partitions,
//!   [`MAX_PRODUCERS`] producers, [`MAX_REPEAT`] repeats;
//! - memory: a run takes at most about [`BYTES_PER_MESSAGE`] per message
//!   sent (its history, the audit's index and librdkafka's queues; the
//!   payload is not kept once delivered) and, on the embedded backend, the
//!   topics' data itself. At the limits that is under 1 GiB besides the
//!   embedded broker's copy of the data (docs/limits.md has the runs).
//!
//! [`check`] works on the validated model and names the field at fault;
//! `load` turns that into file:line:col.

use std::time::Duration;

use super::{BackendFault, FaultKind, Scenario};
use crate::proxy::toxic::ToxicKind;

/// The longest duration anywhere in a scenario: a fault's `at` and
/// `duration`, a toxic's delay attribute, the time `messages` take at
/// `rate`.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// The longest delay attribute of a toxic or backend fault, in milliseconds.
pub const MAX_DELAY_MS: i64 = 3_600_000;
/// Messages sent in one run, summed over the producers.
pub const MAX_MESSAGES_PER_RUN: u64 = 2_000_000;
/// `messages * payload_bytes`, summed over the producers: the embedded
/// broker keeps every topic in memory.
pub const MAX_BYTES_PER_RUN: u64 = 1 << 30;
/// The largest `payload_bytes`: with the message's JSON envelope it stays
/// under librdkafka's and Kafka's default 1 MB message limit
/// (`message.max.bytes`), so every message can be produced.
pub const MAX_PAYLOAD_BYTES: i64 = 900_000;
/// Brokers a backend may start (`brokers`): the backends' own limit.
pub use crate::env::backend::MAX_BROKERS;
/// Partitions of each producer's topic.
pub const MAX_PARTITIONS: i64 = 1000;
/// `[[producers]]` tables.
pub const MAX_PRODUCERS: usize = 16;
/// `repeat`, in the file or as `--repeat`.
pub const MAX_REPEAT: i64 = 100;
/// The slowest `rate` (messages per second) and the fastest.
pub const MIN_RATE: f64 = 0.01;
pub const MAX_RATE: f64 = 1_000_000.0;
/// What a run takes per message, at most: 2,000,000 messages peaked at
/// 518 MB RSS with the broker out of process, everything included
/// (docs/limits.md).
pub const BYTES_PER_MESSAGE: u64 = 300;

/// One limit a scenario exceeds: the field (as `load` names fields:
/// `workload.messages`, `faults[2].at`, `faults[0].attributes.latency`) and
/// what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    pub field: String,
    pub message: String,
}

fn exceeded(field: impl Into<String>, message: impl Into<String>) -> Exceeded {
    Exceeded { field: field.into(), message: message.into() }
}

/// The first limit `scenario` exceeds, if any. Ranges of single values
/// that the loader checks as it reads them (partitions, payload_bytes,
/// repeat, rate) use the same constants.
pub fn check(scenario: &Scenario) -> Result<(), Exceeded> {
    let w = &scenario.workload;
    let producers = scenario.producers.len() as u64;
    if scenario.producers.len() > MAX_PRODUCERS {
        return Err(exceeded("producers", format!("{producers} producers; accepted: at most {MAX_PRODUCERS} [[producers]] tables")));
    }
    let total = w.messages.checked_mul(producers).filter(|t| *t <= MAX_MESSAGES_PER_RUN);
    if total.is_none() {
        let each = match producers {
            1 => String::new(),
            n => format!(" ({n} producers: at most {} each)", MAX_MESSAGES_PER_RUN / n),
        };
        return Err(exceeded(
            "workload.messages",
            format!(
                "`{}` per producer; accepted: at most {MAX_MESSAGES_PER_RUN} messages in a run, summed over the producers{each}",
                w.messages
            ),
        ));
    }
    let bytes = w.messages.saturating_mul(producers).saturating_mul(w.payload_bytes as u64);
    if bytes > MAX_BYTES_PER_RUN {
        return Err(exceeded(
            "workload.payload_bytes",
            format!(
                "`{}` bytes in each of {} messages is {} MiB of payload; accepted: at most {} MiB in a run \
             (messages x payload_bytes x producers): lower payload_bytes or messages",
                w.payload_bytes,
                w.messages.saturating_mul(producers),
                bytes >> 20,
                MAX_BYTES_PER_RUN >> 20
            ),
        ));
    }
    if let Some(rate) = w.rate {
        let sending = w.messages as f64 / rate;
        if sending > MAX_DURATION.as_secs_f64() {
            return Err(exceeded(
                "workload.rate",
                format!(
                    "{} messages at {rate} per second take {sending:.0} s; accepted: a rate at which they take at most {} s \
                 (here >= {})",
                    w.messages,
                    MAX_DURATION.as_secs(),
                    w.messages as f64 / MAX_DURATION.as_secs_f64()
                ),
            ));
        }
    }
    for (i, fault) in scenario.faults.iter().enumerate() {
        if fault.at > MAX_DURATION {
            return Err(too_long(format!("faults[{i}].at"), fault.at));
        }
        if let Some(d) = fault.duration.filter(|d| *d > MAX_DURATION) {
            return Err(too_long(format!("faults[{i}].duration"), d));
        }
        for (name, value, max, unit) in delays(&fault.kind) {
            if value > max {
                return Err(exceeded(
                    format!("faults[{i}].attributes.{name}"),
                    format!("`{value}` {unit}; accepted: at most {max} (one hour)"),
                ));
            }
        }
    }
    Ok(())
}

fn too_long(field: String, d: Duration) -> Exceeded {
    let shown = super::format_duration(d);
    exceeded(field, format!("\"{shown}\" is longer than a run may be; accepted: at most \"{}\"", super::format_duration(MAX_DURATION)))
}

/// The attributes of a fault that are delays: name, value, the most
/// accepted and the unit (the slicer's `delay` is in microseconds, the
/// others in milliseconds). Negative values mean no delay, as in
/// Toxiproxy, and are within the limits.
fn delays(kind: &FaultKind) -> Vec<(&'static str, i64, i64, &'static str)> {
    const MS: &str = "milliseconds";
    match kind {
        FaultKind::Toxic(ToxicKind::Latency(t)) => vec![("latency", t.latency, MAX_DELAY_MS, MS), ("jitter", t.jitter, MAX_DELAY_MS, MS)],
        FaultKind::Toxic(ToxicKind::KafkaLatency(t)) => {
            vec![("latency", t.toxic.latency, MAX_DELAY_MS, MS), ("jitter", t.toxic.jitter, MAX_DELAY_MS, MS)]
        }
        FaultKind::Toxic(ToxicKind::Timeout(t)) => vec![("timeout", t.timeout, MAX_DELAY_MS, MS)],
        FaultKind::Toxic(ToxicKind::SlowClose(t)) => vec![("delay", t.delay, MAX_DELAY_MS, MS)],
        FaultKind::Toxic(ToxicKind::Slicer(t)) => vec![("delay", t.delay, MAX_DELAY_MS * 1000, "microseconds")],
        FaultKind::Backend(BackendFault::BrokerRtt(r)) => vec![("rtt", i64::from(r.rtt), MAX_DELAY_MS, MS)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_are_consistent() {
        // Every message of a run at the limits fits the memory bound the
        // module documents, and the fastest rate sends the most messages
        // well within the longest duration.
        assert!(MAX_MESSAGES_PER_RUN * BYTES_PER_MESSAGE < 1 << 30);
        assert!(MAX_MESSAGES_PER_RUN as f64 / MAX_RATE < MAX_DURATION.as_secs_f64());
        assert_eq!(MAX_DELAY_MS as u128, MAX_DURATION.as_millis());
    }
}
