//! One rdkafka producer per mode, created on first use and reused, and the
//! JSON value every message carries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, ClientContext};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::config::ServeConfig;
use super::params::{Mode, SendParams};

/// The value of every message the service writes, serialised by serde so
/// that any eventId (quotes, backslashes, newlines) round-trips intact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServeMessage {
    pub event_id: String,
    /// plain or idempotent.
    pub mode: String,
    /// sync or async.
    pub send_mode: String,
    /// Milliseconds since the Unix epoch when the request arrived.
    pub timestamp: u64,
    /// Always "faultlab-serve": tells these records apart from a harness run's.
    pub source: String,
}

impl ServeMessage {
    pub fn new(params: &SendParams) -> Self {
        ServeMessage {
            event_id: params.event_id.clone(),
            mode: params.mode.as_str().into(),
            send_mode: params.send_mode.as_str().into(),
            timestamp: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
            source: "faultlab-serve".into(),
        }
    }
}

/// librdkafka's log and errors go to tracing.
pub struct ServeContext {
    mode: Mode,
}

impl ClientContext for ServeContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        let mode = self.mode.as_str();
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(mode, "librdkafka {facility}: {line}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(mode, "librdkafka {facility}: {line}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => tracing::info!(mode, "librdkafka {facility}: {line}"),
            RDKafkaLogLevel::Debug => tracing::debug!(mode, "librdkafka {facility}: {line}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(mode = self.mode.as_str(), "librdkafka error: {error}: {reason}");
    }
}

pub type ServeProducer = FutureProducer<ServeContext>;

/// The two producers, each created the first time its mode is asked for.
pub struct Producers {
    config: ServeConfig,
    plain: OnceCell<ServeProducer>,
    idempotent: OnceCell<ServeProducer>,
}

/// The librdkafka properties of one mode: the shared ones, then the mode's.
pub fn mode_properties(config: &ServeConfig, mode: Mode) -> Vec<(String, String)> {
    let mut properties = config.common_properties();
    let own: [(&str, &str); 2] = match mode {
        Mode::Plain => [("acks", "1"), ("enable.idempotence", "false")],
        Mode::Idempotent => [("acks", "all"), ("enable.idempotence", "true")],
    };
    properties.extend(own.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    properties
}

impl Producers {
    pub fn new(config: ServeConfig) -> Self {
        Producers { config, plain: OnceCell::new(), idempotent: OnceCell::new() }
    }

    fn cell(&self, mode: Mode) -> &OnceCell<ServeProducer> {
        match mode {
            Mode::Plain => &self.plain,
            Mode::Idempotent => &self.idempotent,
        }
    }

    /// The mode's producer, created now if this is its first use.
    pub async fn get(&self, mode: Mode) -> anyhow::Result<&ServeProducer> {
        self.cell(mode)
            .get_or_try_init(|| async {
                let mut client = ClientConfig::new();
                for (key, value) in mode_properties(&self.config, mode) {
                    client.set(key, value);
                }
                client.set_log_level(RDKafkaLogLevel::Warning);
                tracing::info!(mode = mode.as_str(), "creating the {} producer", mode.as_str());
                client
                    .create_with_context(ServeContext { mode })
                    .with_context(|| format!("creating the {} producer (check its librdkafka settings)", mode.as_str()))
            })
            .await
    }

    /// Hand one message to librdkafka without waiting: QueueFull and other
    /// immediate refusals come back as errors.
    pub fn enqueue(producer: &ServeProducer, params: &SendParams, value: &[u8]) -> Result<DeliveryFuture, KafkaError> {
        let mut record = FutureRecord::to(&params.topic).key(params.key.as_bytes()).payload(value);
        if let Some(partition) = params.partition {
            record = record.partition(partition);
        }
        producer.send_result(record).map_err(|(error, _)| error)
    }

    /// Messages still waiting for a delivery report, per mode created so far.
    pub fn in_flight(&self) -> Vec<(Mode, i32)> {
        [Mode::Plain, Mode::Idempotent]
            .into_iter()
            .filter_map(|mode| self.cell(mode).get().map(|p| (mode, p.in_flight_count())))
            .collect()
    }

    /// Flush every producer created so far, each bounded by `patience`;
    /// returns how many messages were still undelivered per mode.
    pub async fn flush(&self, patience: Duration) -> Vec<(Mode, i32)> {
        let mut left = Vec::new();
        for mode in [Mode::Plain, Mode::Idempotent] {
            let Some(producer) = self.cell(mode).get() else { continue };
            // flush blocks its thread while librdkafka delivers.
            let flushing = producer.clone();
            match tokio::task::spawn_blocking(move || flushing.flush(patience)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(mode = mode.as_str(), "flush at shutdown: {error}"),
                Err(error) => tracing::warn!(mode = mode.as_str(), "flush at shutdown: {error}"),
            }
            left.push((mode, producer.in_flight_count()));
        }
        left
    }
}
