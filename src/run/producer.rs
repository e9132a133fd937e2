//! A direct rdkafka producer that records the fate of every message.
//!
//! It uses librdkafka's delivery callback rather than futures because only
//! the raw message tells whether a failed message may still have been
//! persisted (`rd_kafka_message_status`), which the audit needs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::audit::history::{Outcome, ProducerHistory, SendRecord};

/// What librdkafka said on its log while producing, summarised: which
/// timeouts fired and how often the connection was lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientEvents {
    /// "REQTMOUT" warnings: requests that got no response within
    /// socket.timeout.ms, after which librdkafka drops the connection and retries.
    pub request_timeouts: u64,
    /// Connection failures and disconnects ("FAIL" log lines).
    pub disconnects: u64,
    /// Messages that failed because message.timeout.ms expired.
    pub message_timeouts: u64,
    /// The first few warning lines, verbatim, for the report.
    pub samples: Vec<String>,
}

const SAMPLE_LINES: usize = 8;

/// Shared between the producing task and librdkafka's callbacks.
struct Recorder {
    started: Instant,
    sends: Mutex<Vec<SendRecord>>,
    events: Mutex<ClientEvents>,
    /// Live counts for the progress display.
    acked: AtomicU64,
    failed: AtomicU64,
}

struct RecordingContext(Arc<Recorder>);

impl ClientContext for RecordingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        if level as i32 > RDKafkaLogLevel::Warning as i32 {
            return;
        }
        let mut events = self.0.events.lock().unwrap_or_else(|e| e.into_inner());
        match facility {
            "REQTMOUT" => events.request_timeouts += 1,
            "FAIL" => events.disconnects += 1,
            _ => {}
        }
        if events.samples.len() < SAMPLE_LINES {
            events.samples.push(format!("{facility}: {line}"));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!("librdkafka error: {error}: {reason}");
    }
}

impl ProducerContext for RecordingContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, index: usize) {
        let done_at = self.0.started.elapsed();
        let outcome = match result {
            Ok(message) => {
                self.0.acked.fetch_add(1, Ordering::Relaxed);
                Outcome::Acked { partition: message.partition(), offset: (message.offset() >= 0).then_some(message.offset()) }
            }
            Err((error, message)) => {
                self.0.failed.fetch_add(1, Ordering::Relaxed);
                // SAFETY: the pointer is the live message librdkafka handed
                // to this callback; the status call only reads it.
                let status = unsafe { rdkafka::bindings::rd_kafka_message_status(message.ptr()) };
                if matches!(error, KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)) {
                    self.0.events.lock().unwrap_or_else(|e| e.into_inner()).message_timeouts += 1;
                }
                Outcome::Failed {
                    error: error.to_string(),
                    possibly_persisted: status == rdkafka::bindings::rd_kafka_msg_status_t::RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED,
                }
            }
        };
        let mut sends = self.0.sends.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = sends.get_mut(index) {
            record.done_at = done_at;
            record.outcome = outcome;
        }
    }
}

/// A producer's progress so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: u64,
    pub acked: u64,
    pub failed: u64,
}

/// One producer of a run.
pub struct RecordingProducer {
    name: String,
    producer: ThreadedProducer<RecordingContext>,
    recorder: Arc<Recorder>,
}

impl RecordingProducer {
    /// `settings` are the producer's effective librdkafka properties;
    /// bootstrap.servers is added here.
    pub fn new(name: &str, bootstrap: &str, settings: &BTreeMap<String, String>, started: Instant) -> anyhow::Result<Self> {
        let mut config = ClientConfig::new();
        for (key, value) in settings {
            config.set(key, value);
        }
        config.set("bootstrap.servers", bootstrap);
        // Its name, unless its settings give one: what a Kafka toxic's
        // `client_id` aims at (and what the broker's logs show).
        if !settings.contains_key("client.id") {
            config.set("client.id", name);
        }
        config.set_log_level(RDKafkaLogLevel::Warning);
        let recorder = Arc::new(Recorder {
            started,
            sends: Mutex::default(),
            events: Mutex::default(),
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        });
        let producer = config
            .create_with_context(RecordingContext(recorder.clone()))
            .with_context(|| format!("creating producer {name} (check its librdkafka settings)"))?;
        Ok(RecordingProducer { name: name.to_string(), producer, recorder })
    }

    /// Hand one message to librdkafka, waiting while its queue is full.
    pub async fn send(&self, topic: &str, seq: u64, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let index = {
            let mut sends = self.recorder.sends.lock().unwrap_or_else(|e| e.into_inner());
            let sent_at = self.recorder.started.elapsed();
            sends.push(SendRecord { seq, sent_at, done_at: sent_at, outcome: Outcome::Unknown });
            sends.len() - 1
        };
        loop {
            let record = BaseRecord::with_opaque_to(topic, index).key(key).payload(value);
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((error, _)) => {
                    let mut sends = self.recorder.sends.lock().unwrap_or_else(|e| e.into_inner());
                    sends[index].outcome = Outcome::Failed { error: error.to_string(), possibly_persisted: false };
                    return Ok(());
                }
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many messages are still waiting for a delivery report.
    pub fn in_flight(&self) -> i32 {
        self.producer.in_flight_count()
    }

    /// Wait until every message has its delivery report, or `patience` runs out.
    pub async fn flush(&self, patience: Duration) {
        let deadline = Instant::now() + patience;
        while self.producer.in_flight_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Messages handed over, acked and failed so far.
    pub fn counts(&self) -> Counts {
        Counts {
            sent: self.recorder.sends.lock().unwrap_or_else(|e| e.into_inner()).len() as u64,
            acked: self.recorder.acked.load(Ordering::Relaxed),
            failed: self.recorder.failed.load(Ordering::Relaxed),
        }
    }

    /// Stop and hand over what was recorded. Messages with no delivery
    /// report yet are left [`Outcome::Unknown`].
    pub fn finish(self) -> (ProducerHistory, ClientEvents) {
        let RecordingProducer { name, producer, recorder } = self;
        drop(producer);
        let sends = std::mem::take(&mut *recorder.sends.lock().unwrap_or_else(|e| e.into_inner()));
        let events = std::mem::take(&mut *recorder.events.lock().unwrap_or_else(|e| e.into_inner()));
        (ProducerHistory { name, topic: String::new(), sends }, events)
    }
}
