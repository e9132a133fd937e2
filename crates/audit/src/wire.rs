//! The wire's ground truth: every Produce batch attempt as faultlab's proxy
//! saw it in Kafka mode ([`BatchAttempt`]), and what it tells about each
//! duplicate ([`attribute`]): which write it copies, and why the client
//! sent that batch again.
//!
//! A duplicate is a record written twice. The first copy's offset falls in
//! the range a broker answered for one attempt: that attempt's batch was
//! written, yet the client sent it again, and the attempt says why: its
//! acknowledgement was lost (`kafka_ack_loss`), the client was told an
//! error after the write (`kafka_error` downstream), or the response never
//! reached the client for another reason (a byte toxic closed the
//! connection, a request timed out). Attempts of one idempotent batch
//! (same producer id, epoch, base sequence) that the broker answered with
//! the first write's offset, or DUPLICATE_SEQUENCE_NUMBER, were
//! deduplicated instead.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::history::{History, Observed};

/// One Produce batch (one partition of one Produce request) as it crossed
/// the proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAttempt {
    /// The proxy and its connection (numbered from 0 per proxy).
    pub proxy: String,
    pub connection: u64,
    pub client_id: String,
    pub topic: String,
    pub partition: i32,
    /// -1 for a producer that is not idempotent.
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records: u32,
    /// What the broker answered, as the proxy read it (before any toxic):
    /// None when it never answered (the request was not forwarded, or the
    /// connection closed first).
    pub broker: Option<BrokerAnswer>,
    /// What a Kafka toxic did to the attempt.
    pub fault: Option<WireFault>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerAnswer {
    pub error_code: i16,
    /// -1 when the broker gave none.
    pub base_offset: i64,
}

/// A Kafka toxic's effect on an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireFault {
    /// The toxic's type (`kafka_ack_loss`, `kafka_error`).
    pub toxic: String,
    pub effect: Effect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// The broker's response was dropped.
    ResponseLost,
    /// The broker's response reached the client with this error code instead.
    ErrorAfterWrite { error_code: i16 },
    /// The request never reached the broker; the proxy answered this error.
    ErrorInstead { error_code: i16 },
    /// The request (upstream) or its response (downstream) was held back
    /// this many milliseconds.
    Delayed { response: bool, ms: u64 },
}

/// Kafka's DUPLICATE_SEQUENCE_NUMBER: the broker has this idempotent batch already.
const DUPLICATE_SEQUENCE_NUMBER: i16 = 46;

/// Why a duplicate's batch was sent again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Written, and its acknowledgement lost by `toxic`.
    AckLost { toxic: String },
    /// Written, and the client told `error_code` by `toxic`.
    ErrorAfterWrite { toxic: String, error_code: i16 },
    /// Written, its request or response held back by `toxic`: the client
    /// gave up waiting and sent the batch again.
    Delayed { toxic: String, response: bool },
    /// Written and answered, but no Kafka toxic touched the response: it did
    /// not reach the client (a byte toxic, a closed connection, a timeout).
    ResponseNotDelivered,
    /// The first copy's offset is in no attempt the proxy saw.
    NotSeen,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::AckLost { toxic } => write!(f, "acknowledgement lost ({toxic})"),
            Cause::ErrorAfterWrite { toxic, error_code } => write!(f, "error {error_code} after the write ({toxic})"),
            Cause::Delayed { toxic, response: true } => write!(f, "response delayed past the client's timeout ({toxic})"),
            Cause::Delayed { toxic, response: false } => write!(f, "request delayed past the client's timeout ({toxic})"),
            Cause::ResponseNotDelivered => f.write_str("response not delivered (no Kafka toxic on it)"),
            Cause::NotSeen => f.write_str("first write not seen by the proxy"),
        }
    }
}

/// What the wire says about one topic's duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// Batch attempts through the proxy to the topic.
    pub attempts: u64,
    /// Duplicate records (copies beyond the first), by why their batch was sent again.
    pub duplicates_by_cause: BTreeMap<String, u64>,
    /// Attempts of an idempotent batch the broker already had, answered
    /// with the first write's offset or DUPLICATE_SEQUENCE_NUMBER.
    pub deduplicated_retries: u64,
    /// One duplicated batch, attempt by attempt.
    pub example: Option<Example>,
}

/// A batch the client sent more than once, and what became of each attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub partition: i32,
    /// The offsets its first record was written at.
    pub written_at: Vec<i64>,
    pub attempts: Vec<BatchAttempt>,
}

/// [`attribute`] for each producer of a run: its topic's records in
/// `observed` against the attempts. Empty without attempts (no ledger).
pub fn attribute_producers(history: &History, observed: &Observed, attempts: &[BatchAttempt]) -> BTreeMap<String, Attribution> {
    if attempts.is_empty() {
        return BTreeMap::new();
    }
    let mut found = BTreeMap::new();
    for producer in &history.producers {
        let topic = observed.topics.iter().position(|t| *t == producer.topic);
        let mut copies = BTreeMap::<(i32, u64), Vec<i64>>::new();
        for record in observed.records.iter().filter(|r| Some(r.topic as usize) == topic && r.producer == producer.name) {
            copies.entry((record.partition, record.seq)).or_default().push(record.offset);
        }
        for offsets in copies.values_mut() {
            offsets.sort_unstable();
        }
        found.insert(producer.name.clone(), attribute(&producer.topic, &copies, attempts));
    }
    found
}

impl BatchAttempt {
    /// One line for a report: where it went and what became of it.
    pub fn describe(&self) -> String {
        let answer = match self.broker {
            Some(BrokerAnswer { error_code: 0, base_offset }) if base_offset >= 0 => format!("written at offset {base_offset}"),
            Some(BrokerAnswer { error_code: DUPLICATE_SEQUENCE_NUMBER, .. }) => {
                "recognised as a duplicate (DUPLICATE_SEQUENCE_NUMBER)".into()
            }
            Some(BrokerAnswer { error_code: 0, .. }) => "acknowledged without an offset".into(),
            Some(BrokerAnswer { error_code, .. }) => format!("answered error {error_code}"),
            None => "never answered by the broker".into(),
        };
        let fault = match &self.fault {
            None => String::new(),
            Some(WireFault { toxic, effect: Effect::ResponseLost }) => format!(", response lost ({toxic})"),
            Some(WireFault { toxic, effect: Effect::ErrorAfterWrite { error_code } }) => {
                format!(", client told error {error_code} ({toxic})")
            }
            Some(WireFault { toxic, effect: Effect::ErrorInstead { error_code } }) => {
                format!(", not forwarded: the proxy answered error {error_code} ({toxic})")
            }
            Some(WireFault { toxic, effect: Effect::Delayed { response, ms } }) => {
                format!(", {} held back {ms} ms ({toxic})", if *response { "response" } else { "request" })
            }
        };
        let sequence = if self.producer_id >= 0 {
            format!(", producer id {} epoch {} sequence {}", self.producer_id, self.producer_epoch, self.base_sequence)
        } else {
            String::new()
        };
        format!("{} connection {}: {} record(s){sequence}, {answer}{fault}", self.proxy, self.connection, self.records)
    }
}

/// Attribute the duplicates of `topic`: `copies` are the offsets each
/// record of the topic's partition `p` was written at, per (partition,
/// producer seq), in offset order; `attempts` the proxy's record.
pub fn attribute(topic: &str, copies: &BTreeMap<(i32, u64), Vec<i64>>, attempts: &[BatchAttempt]) -> Attribution {
    let attempts: Vec<&BatchAttempt> = attempts.iter().filter(|a| a.topic == topic).collect();
    let mut attribution = Attribution { attempts: attempts.len() as u64, ..Attribution::default() };
    for (&(partition, _seq), offsets) in copies {
        // Each write but the last was followed by another attempt.
        for (i, &offset) in offsets.iter().enumerate().take(offsets.len().saturating_sub(1)) {
            let written = attempts.iter().find(|a| a.partition == partition && covers(a, offset));
            let cause = written.map_or(Cause::NotSeen, |a| cause_of(a));
            *attribution.duplicates_by_cause.entry(cause.to_string()).or_default() += 1;
            if attribution.example.is_none() && i == 0 {
                attribution.example = written.map(|first| example(partition, offsets, first, &attempts));
            }
        }
    }
    attribution.deduplicated_retries = deduplicated(&attempts);
    attribution
}

fn covers(attempt: &BatchAttempt, offset: i64) -> bool {
    match attempt.broker {
        Some(BrokerAnswer { error_code: 0, base_offset }) if base_offset >= 0 => {
            (base_offset..base_offset + i64::from(attempt.records)).contains(&offset)
        }
        _ => false,
    }
}

fn cause_of(attempt: &BatchAttempt) -> Cause {
    match &attempt.fault {
        Some(WireFault { toxic, effect: Effect::ResponseLost }) => Cause::AckLost { toxic: toxic.clone() },
        Some(WireFault { toxic, effect: Effect::ErrorAfterWrite { error_code } }) => {
            Cause::ErrorAfterWrite { toxic: toxic.clone(), error_code: *error_code }
        }
        Some(WireFault { toxic, effect: Effect::Delayed { response, .. } }) => Cause::Delayed { toxic: toxic.clone(), response: *response },
        Some(WireFault { effect: Effect::ErrorInstead { .. }, .. }) | None => Cause::ResponseNotDelivered,
    }
}

/// The attempts of the batch `first` wrote: a plain producer's retry is a
/// new batch to the proxy (no sequence), so the attempts that follow on the
/// partition up to the next write of the same record are shown.
fn example(partition: i32, offsets: &[i64], first: &BatchAttempt, attempts: &[&BatchAttempt]) -> Example {
    let same_batch = |a: &&&BatchAttempt| {
        a.partition == partition
            && if first.producer_id >= 0 {
                (a.producer_id, a.producer_epoch, a.base_sequence) == (first.producer_id, first.producer_epoch, first.base_sequence)
            } else {
                // The retry may carry more records (messages queued meanwhile join it).
                a.client_id == first.client_id && offsets.iter().any(|&o| covers(a, o))
            }
    };
    Example { partition, written_at: offsets.to_vec(), attempts: attempts.iter().filter(same_batch).map(|a| (*a).clone()).collect() }
}

/// Retries of idempotent batches the broker recognised.
fn deduplicated(attempts: &[&BatchAttempt]) -> u64 {
    let mut first_offset: BTreeMap<(i32, i64, i16, i32), i64> = BTreeMap::new();
    let mut count = 0;
    for a in attempts.iter().filter(|a| a.producer_id >= 0) {
        let Some(answer) = a.broker else { continue };
        let key = (a.partition, a.producer_id, a.producer_epoch, a.base_sequence);
        match first_offset.get(&key) {
            Some(&offset) if answer.error_code == DUPLICATE_SEQUENCE_NUMBER || (answer.error_code == 0 && answer.base_offset == offset) => {
                count += 1
            }
            Some(_) => {}
            None if answer.error_code == 0 => {
                first_offset.insert(key, answer.base_offset);
            }
            None => {}
        }
    }
    count
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
