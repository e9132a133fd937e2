//! A sync send checks its topic (and partition) against the cluster's
//! metadata before handing the message to librdkafka, so that a topic that
//! does not exist is a 400 at once. Without it librdkafka holds such a
//! message for topic.metadata.propagation.max.ms (30 s by default: a topic
//! just created may not have reached every broker yet) before failing it
//! with `Local: Unknown topic`, and the HTTP request waits as long.
//!
//! Topics that exist are remembered for [`KNOWN_FOR`], so the check costs
//! one metadata request per topic per that period. A topic that does not
//! exist is not remembered: once created, the next send finds it. When the
//! metadata cannot be fetched in time (a slow or unreachable broker), the
//! message goes to librdkafka as before: the check only ever answers early,
//! it never refuses what librdkafka might still deliver.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::Producer;
use tokio::time::Instant;

use super::problem::Problem;
use super::producers::ServeProducer;

/// How long a topic's partition count is trusted.
const KNOWN_FOR: Duration = Duration::from_secs(10);
/// At most this many topics are remembered; past it the memory is cleared.
const REMEMBERED: usize = 1024;
/// The longest a sync send waits for the metadata before going ahead
/// (less when the delivery timeout is shorter).
const PATIENCE: Duration = Duration::from_secs(5);

/// What the metadata said of one topic.
enum Found {
    Partitions(i32),
    Missing,
    /// No answer in time, or an error other than "unknown topic".
    Unknown,
}

pub struct Topics {
    known: Mutex<HashMap<String, (Instant, i32)>>,
    patience: Duration,
}

impl Topics {
    pub fn new(delivery_timeout: Duration) -> Self {
        Topics { known: Mutex::default(), patience: PATIENCE.min(delivery_timeout) }
    }

    /// Err with a 400 problem when the cluster says the topic does not exist
    /// or has no such partition.
    pub async fn check(&self, producer: &ServeProducer, topic: &str, partition: Option<i32>) -> Result<(), Problem> {
        let remembered = self.known.lock().unwrap_or_else(|e| e.into_inner()).get(topic).copied();
        let partitions = match remembered {
            Some((at, partitions)) if at.elapsed() < KNOWN_FOR => partitions,
            _ => match fetch(producer, topic, self.patience).await {
                Found::Partitions(partitions) => {
                    let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
                    if known.len() >= REMEMBERED {
                        known.clear();
                    }
                    known.insert(topic.to_string(), (Instant::now(), partitions));
                    partitions
                }
                Found::Missing => {
                    return Err(Problem::invalid_param(
                        "topic",
                        format!(
                            "topic {topic} does not exist on the cluster (its metadata says so) and was not created; accepted: an existing topic"
                        ),
                    ));
                }
                Found::Unknown => return Ok(()),
            },
        };
        match partition {
            Some(p) if p >= partitions => Err(Problem::invalid_param(
                "partition",
                format!("partition {p} does not exist in topic {topic}, which has {partitions}; accepted: 0 to {}", partitions - 1),
            )),
            _ => Ok(()),
        }
    }
}

async fn fetch(producer: &ServeProducer, topic: &str, patience: Duration) -> Found {
    let (producer, name) = (producer.clone(), topic.to_string());
    // fetch_metadata blocks its thread until the broker answers.
    let fetched = tokio::task::spawn_blocking(move || producer.client().fetch_metadata(Some(&name), patience)).await;
    let Ok(Ok(metadata)) = fetched else { return Found::Unknown };
    let Some(found) = metadata.topics().iter().find(|t| t.name() == topic) else { return Found::Unknown };
    match found.error().map(RDKafkaErrorCode::from) {
        None if !found.partitions().is_empty() => Found::Partitions(found.partitions().len() as i32),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => Found::Missing,
        _ => Found::Unknown,
    }
}
