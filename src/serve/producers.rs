//! One rdkafka producer per mode, created on first use and reused, and the
//! JSON value every message carries.
//!
//! A ThreadedProducer with its own delivery callback rather than a
//! FutureProducer: the callback reads, for a message that was not
//! delivered, librdkafka's own verdict on whether it may be in the topic
//! anyway (rd_kafka_message_status), which FutureProducer drops.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rdkafka::bindings::{rd_kafka_message_status, rd_kafka_msg_status_t};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, oneshot};

use super::account::{Account, Fate, Ticket};
use super::config::ServeConfig;
use super::params::{Mode, SendMode, SendParams};

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

/// Whether a message that was not acknowledged may be in the topic anyway,
/// as librdkafka tracks it (rd_kafka_message_status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Never sent, or the broker answered that it did not write it.
    No,
    /// Sent, and no answer came (a timeout, a purge in flight): it may be
    /// in the topic, for acks=1 even more than once.
    Possibly,
    /// The broker acknowledged it, yet the report is an error (rare).
    Yes,
}

impl Written {
    pub fn as_str(self) -> &'static str {
        match self {
            Written::No => "no",
            Written::Possibly => "possibly",
            Written::Yes => "yes",
        }
    }

    fn of(message: &BorrowedMessage<'_>) -> Written {
        // SAFETY: the pointer is the live message of this delivery callback.
        match unsafe { rd_kafka_message_status(message.ptr()) } {
            rd_kafka_msg_status_t::RD_KAFKA_MSG_STATUS_NOT_PERSISTED => Written::No,
            rd_kafka_msg_status_t::RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED => Written::Possibly,
            rd_kafka_msg_status_t::RD_KAFKA_MSG_STATUS_PERSISTED => Written::Yes,
        }
    }
}

/// One message's delivery report: (partition, offset) or the error.
pub type Report = Result<(i32, i64), (KafkaError, Written)>;

/// What travels with a message through librdkafka, to its delivery report.
pub struct InFlight {
    account: Arc<Account>,
    request_id: String,
    event_id: String,
    send_mode: SendMode,
    reply: oneshot::Sender<Report>,
}

impl ProducerContext for ServeContext {
    type DeliveryOpaque = Box<InFlight>;

    /// Every accepted message comes here exactly once (librdkafka's
    /// guarantee, purges included), so the account is settled here, not in
    /// the handler: a sync client that hangs up drops its handler, not this.
    fn delivery(&self, result: &DeliveryResult<'_>, message: Self::DeliveryOpaque) {
        let InFlight { account, request_id, event_id, send_mode, reply } = *message;
        let ticket = Ticket { mode: self.mode, send_mode, request_id: &request_id, event_id: &event_id };
        let report = match result {
            Ok(delivered) => {
                account.settle(&ticket, Fate::Delivered, None);
                Ok((delivered.partition(), delivered.offset()))
            }
            Err((error, failed)) => {
                let written = Written::of(failed);
                account.settle(&ticket, Fate::of_error(error), Some((&error.to_string(), written)));
                Err((error.clone(), written))
            }
        };
        // Nobody is waiting when a sync client hung up; the account has it.
        let _ = reply.send(report);
    }
}

pub type ServeProducer = Arc<ThreadedProducer<ServeContext>>;

/// The two producers, each created the first time its mode is asked for.
pub struct Producers {
    config: ServeConfig,
    plain: OnceCell<ServeProducer>,
    idempotent: OnceCell<ServeProducer>,
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
                for (key, value) in self.config.mode_properties(mode) {
                    client.set(key, value);
                }
                client.set_log_level(RDKafkaLogLevel::Warning);
                tracing::info!(mode = mode.as_str(), "creating the {} producer", mode.as_str());
                client
                    .create_with_context::<_, ThreadedProducer<ServeContext>>(ServeContext { mode })
                    .map(Arc::new)
                    .with_context(|| format!("creating the {} producer (check its librdkafka settings)", mode.as_str()))
            })
            .await
    }

    /// Hand one message to librdkafka without waiting: QueueFull and other
    /// immediate refusals come back as errors, and the message is then not
    /// accepted. An accepted one is settled in `account` by its report.
    pub fn enqueue(
        producer: &ServeProducer,
        account: &Arc<Account>,
        params: &SendParams,
        request_id: &str,
        value: &[u8],
    ) -> Result<oneshot::Receiver<Report>, KafkaError> {
        let (reply, report) = oneshot::channel();
        let in_flight = InFlight {
            account: account.clone(),
            request_id: request_id.to_string(),
            event_id: params.event_id.clone(),
            send_mode: params.send_mode,
            reply,
        };
        let mut record = BaseRecord::with_opaque_to(&params.topic, Box::new(in_flight)).key(params.key.as_bytes()).payload(value);
        if let Some(partition) = params.partition {
            record = record.partition(partition);
        }
        // Counted before librdkafka has it, so that its report cannot be
        // settled before it is accepted.
        account.accept(params.mode);
        if let Err((error, _)) = producer.send(record) {
            account.unaccept(params.mode);
            return Err(error);
        }
        Ok(report)
    }

    /// Messages still waiting for a delivery report, per mode created so far.
    pub fn in_flight(&self) -> Vec<(Mode, i32)> {
        [Mode::Plain, Mode::Idempotent].into_iter().filter_map(|mode| self.cell(mode).get().map(|p| (mode, p.in_flight_count()))).collect()
    }

    /// Flush every producer created so far, side by side, each bounded by
    /// `patience`; returns how many messages were still undelivered per mode.
    pub async fn flush(&self, patience: Duration) -> Vec<(Mode, i32)> {
        let mut flushes = Vec::new();
        for mode in [Mode::Plain, Mode::Idempotent] {
            let Some(producer) = self.cell(mode).get() else { continue };
            // flush blocks its thread while librdkafka delivers.
            let flushing = producer.clone();
            flushes.push((mode, producer.clone(), tokio::task::spawn_blocking(move || flushing.flush(patience))));
        }
        let mut left = Vec::new();
        for (mode, producer, flush) in flushes {
            match flush.await {
                Ok(Ok(())) => {}
                // Timing out is the expected way for a flush to end with messages left.
                Ok(Err(KafkaError::Flush(code))) if code == rdkafka::types::RDKafkaErrorCode::OperationTimedOut => {}
                Ok(Err(error)) => tracing::warn!(mode = mode.as_str(), "flush at shutdown: {error}"),
                Err(error) => tracing::warn!(mode = mode.as_str(), "flush at shutdown: {error}"),
            }
            left.push((mode, producer.in_flight_count()));
        }
        left
    }

    /// Purge every message still queued or in flight: librdkafka fails each
    /// at once with PurgeQueue or PurgeInflight, so every accepted message
    /// gets its delivery report (rd_kafka_purge; the reports are served by
    /// FutureProducer's polling thread and by the flush that follows).
    pub async fn purge(&self) {
        for mode in [Mode::Plain, Mode::Idempotent] {
            let Some(producer) = self.cell(mode).get() else { continue };
            let purging = producer.clone();
            // rd_kafka_purge may block briefly while its threads' queues are purged.
            if let Err(error) = tokio::task::spawn_blocking(move || purging.purge(PurgeConfig::default().queue().inflight())).await {
                tracing::warn!(mode = mode.as_str(), "purge at shutdown: {error}");
            }
        }
    }
}
