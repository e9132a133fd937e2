//! What a run records: one [`SendRecord`] per message a producer was asked to
//! send, and the [`Observed`] records read back from the topic afterwards.
//!
//! These are the two inputs of the audit. They hold plain data only (no
//! Kafka types, no clocks), so hand-written histories can drive the audit's
//! unit tests exactly like real runs do.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything the producers of one run were asked to send, and what they
/// were told about it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct History {
    pub producers: Vec<ProducerHistory>,
}

/// One producer's sends, in sequence order (`sends[i].seq == i` in a run;
/// the audit does not rely on it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProducerHistory {
    pub name: String,
    /// The topic it wrote to: its acks' partitions and offsets are in it.
    pub topic: String,
    pub sends: Vec<SendRecord>,
}

/// One message: when it was handed to the client, when the client reported
/// its fate, and that fate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SendRecord {
    /// The producer's sequence number of this message, from 0.
    pub seq: u64,
    /// Time since the start of producing when the message was handed to the client.
    pub sent_at: Duration,
    /// Time since the start of producing when the delivery report arrived
    /// (equal to `sent_at` for [`Outcome::Unknown`]).
    pub done_at: Duration,
    pub outcome: Outcome,
}

/// What the client said about a message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// The broker acknowledged it. `offset` is `None` when the broker
    /// acknowledged without an offset, as tansu does for an idempotent retry
    /// it recognised as a duplicate (DUPLICATE_SEQUENCE_NUMBER).
    Acked { partition: i32, offset: Option<i64> },
    /// The client gave up on it. `possibly_persisted` is librdkafka's
    /// judgement that it may have reached the log anyway (it timed out in
    /// flight), which the audit keeps apart from clean failures.
    Failed { error: String, possibly_persisted: bool },
    /// No delivery report arrived (the run was interrupted).
    Unknown,
}

/// A record read back from the topic, decoded from its JSON value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObservedRecord {
    /// Index of the topic it was read from in [`Observed::topics`].
    pub topic: u32,
    /// The producer name carried in the value.
    pub producer: String,
    /// The producer's sequence number carried in the value.
    pub seq: u64,
    pub partition: i32,
    pub offset: i64,
}

/// The topic(s) as read from the beginning to the end of every partition.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Observed {
    /// The topics read, named once; records refer to them by index.
    pub topics: Vec<String>,
    /// Records in the order read: per topic and partition in offset order;
    /// partitions interleave arbitrarily.
    pub records: Vec<ObservedRecord>,
    /// Records whose value was not a faultlab message (counted, not audited).
    pub unreadable: u64,
}
