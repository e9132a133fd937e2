//! Reading a topic back from the beginning to the end of every partition.
//!
//! The end is where the consumer reports partition EOF, not a watermark
//! from ListOffsets: tansu's "latest" offset is not reliable
//! (docs/architecture.md).

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use super::message::{MessageValue, parse_event_id};
use crate::audit::history::{Observed, ObservedRecord};

/// Read `partitions` partitions of `topic` from offset 0 to their end into
/// `observed`, decoding each value; records of another run are counted as unreadable.
/// Blocking: call it from a blocking task.
pub fn read_topic(
    observed: &mut Observed,
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    run_id: &str,
    patience: Duration,
) -> anyhow::Result<()> {
    let consumer: BaseConsumer<QuietAtEof> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("faultlab-audit-{}", uuid::Uuid::new_v4().simple()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .create_with_context(QuietAtEof)
        .context("creating the audit consumer")?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment).context("assigning partitions to the audit consumer")?;

    let topic_index = observed.topics.len() as u32;
    observed.topics.push(topic.to_string());
    let mut at_end = HashSet::new();
    let deadline = std::time::Instant::now() + patience;
    while at_end.len() < partitions as usize {
        if std::time::Instant::now() > deadline {
            bail!("reading {topic} back: {} of {partitions} partitions reached their end within {patience:?}", at_end.len());
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                at_end.insert(partition);
            }
            Some(Err(error)) => tracing::debug!("audit consumer: {error}"),
            Some(Ok(message)) => match message.payload().and_then(|v| decode(v, run_id)) {
                Some((producer, seq)) => observed.records.push(ObservedRecord {
                    topic: topic_index,
                    producer,
                    seq,
                    partition: message.partition(),
                    offset: message.offset(),
                }),
                None => observed.unreadable += 1,
            },
        }
    }
    Ok(())
}

/// The producer and sequence number of a record of run `run_id`: a direct
/// producer's [`MessageValue`], or the value `faultlab serve` writes for an
/// http producer, whose eventId carries them.
fn decode(value: &[u8], run_id: &str) -> Option<(String, u64)> {
    if let Ok(value) = serde_json::from_slice::<MessageValue>(value) {
        return (value.run_id == run_id).then_some((value.producer, value.seq));
    }
    let served = serde_json::from_slice::<crate::serve::ServeMessage>(value).ok()?;
    parse_event_id(run_id, &served.event_id)
}

/// The audit consumer's context: reaching the end of a partition is how
/// reading stops, not an error worth logging.
struct QuietAtEof;

impl ClientContext for QuietAtEof {
    fn error(&self, error: KafkaError, reason: &str) {
        let at_end = matches!(error, KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF);
        if !at_end {
            tracing::warn!("audit consumer: {error}: {reason}");
        }
    }
}

impl ConsumerContext for QuietAtEof {}
