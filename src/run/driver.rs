//! A run's producer, whichever way it sends: a direct librdkafka producer,
//! Apache Kafka's Java producer in a JVM, or the http driver. All record
//! into the same [`ProducerHistory`].

use std::time::Duration;

use super::http::HttpProducer;
use super::java::JavaProducer;
use super::message::MessageValue;
use super::producer::{ClientEvents, Counts, RecordingProducer};
use crate::audit::history::ProducerHistory;

pub enum RunProducer {
    Direct(RecordingProducer),
    Java(JavaProducer),
    Http(HttpProducer),
}

impl RunProducer {
    pub fn name(&self) -> &str {
        match self {
            RunProducer::Direct(p) => p.name(),
            RunProducer::Java(p) => p.name(),
            RunProducer::Http(p) => p.name(),
        }
    }

    /// Send one message: a direct or Java producer writes `value` as its
    /// JSON; the http driver sends its eventId, and the service writes its
    /// own value.
    pub async fn send(&self, topic: &str, seq: u64, key: &str, value: &MessageValue) -> anyhow::Result<()> {
        match self {
            RunProducer::Direct(p) => p.send(topic, seq, key, &value.to_json()).await,
            RunProducer::Java(p) => p.send(topic, seq, key, &value.to_json()).await,
            RunProducer::Http(p) => p.send(topic, seq, key, &value.event_id).await,
        }
    }

    /// Messages still waiting for their fate.
    pub fn in_flight(&self) -> i32 {
        match self {
            RunProducer::Direct(p) => p.in_flight(),
            RunProducer::Java(p) => p.in_flight(),
            RunProducer::Http(p) => p.in_flight(),
        }
    }

    pub async fn flush(&self, patience: Duration) {
        match self {
            RunProducer::Direct(p) => p.flush(patience).await,
            RunProducer::Java(p) => p.flush(patience).await,
            RunProducer::Http(p) => p.flush(patience).await,
        }
    }

    pub fn counts(&self) -> Counts {
        match self {
            RunProducer::Direct(p) => p.counts(),
            RunProducer::Java(p) => p.counts(),
            RunProducer::Http(p) => p.counts(),
        }
    }

    pub fn finish(self) -> (ProducerHistory, ClientEvents) {
        match self {
            RunProducer::Direct(p) => p.finish(),
            RunProducer::Java(p) => p.finish(),
            RunProducer::Http(p) => p.finish(),
        }
    }
}
