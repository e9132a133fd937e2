//! The ledger: every Produce batch attempt a Kafka-mode proxy forwards,
//! what the broker answered, and what a Kafka toxic did to it: the wire's
//! ground truth ([`faultlab_audit::wire`]), from which the audit tells why
//! each duplicate was written.
//!
//! Requests are read as they arrive from the client and responses as they
//! arrive from the broker, before any toxic; a Kafka toxic notes its own
//! effect ([`Ledger::note`]). Requests and responses are decoded with the
//! proxy's codec ([`super::codec`]), batches only as far as their headers
//! (the records stay compressed bytes), and only on proxies that keep a
//! ledger. Topics are named even where a client gives only their ids
//! ([`super::topics`]).

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use kafka_protocol::messages::{RequestKind, ResponseKind};

use super::aim::Aim;
use super::{codec, topics};
use crate::sync::lock;
use faultlab_audit::wire::{BatchAttempt, BrokerAnswer, WireFault};

/// Attempts kept at most; beyond, the ledger stops and says so once (a
/// long run at full speed would otherwise grow without bound).
const MOST: usize = 2_000_000;

#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    attempts: Vec<BatchAttempt>,
    /// The attempts of each request, by (proxy, connection, correlation
    /// id): its response and the toxics' notes find them there.
    requests: HashMap<(String, u64, i32), Vec<usize>>,
    full: bool,
}

impl Ledger {
    /// Every attempt recorded so far.
    pub fn attempts(&self) -> Vec<BatchAttempt> {
        lock(&self.inner).attempts.clone()
    }

    /// A Produce request read from the client on `connection` of `proxy`.
    pub(crate) fn request(&self, proxy: &str, connection: u64, client_id: &str, correlation_id: i32, frame: &Bytes) {
        let produce = match codec::decode_request(frame) {
            Ok((_, RequestKind::Produce(produce))) => produce,
            Ok(_) => return,
            Err(e) => return tracing::warn!("proxy {proxy}: a Produce request did not decode, not in the ledger: {e}"),
        };
        let mut entries = lock(&self.inner);
        if entries.attempts.len() >= MOST {
            if !std::mem::replace(&mut entries.full, true) {
                tracing::warn!("the Produce ledger holds {MOST} batch attempts and records no more");
            }
            return;
        }
        let mut indices = Vec::new();
        for topic in produce.topic_data {
            let name = topics::name(&topic.name.0, topic.topic_id);
            for partition in topic.partition_data {
                for batch in codec::batch_headers(partition.records.as_deref().unwrap_or_default()) {
                    indices.push(entries.attempts.len());
                    entries.attempts.push(BatchAttempt {
                        proxy: proxy.to_string(),
                        connection,
                        client_id: client_id.to_string(),
                        topic: name.clone(),
                        partition: partition.index,
                        producer_id: batch.producer_id,
                        producer_epoch: batch.producer_epoch,
                        base_sequence: batch.base_sequence,
                        records: u32::try_from(batch.records).unwrap_or(0),
                        broker: None,
                        fault: None,
                    });
                }
            }
        }
        entries.requests.insert((proxy.to_string(), connection, correlation_id), indices);
    }

    /// The broker's response to a Produce request.
    pub(crate) fn response(&self, proxy: &str, connection: u64, correlation_id: i32, api_version: i16, frame: &Bytes) {
        let mut entries = lock(&self.inner);
        let Some(indices) = entries.requests.get(&(proxy.to_string(), connection, correlation_id)).cloned() else { return };
        let produce = match codec::decode_response(frame, super::PRODUCE, api_version) {
            Ok((_, ResponseKind::Produce(produce))) => produce,
            Ok(_) => return,
            Err(e) => return tracing::warn!("proxy {proxy}: a Produce response did not decode, not in the ledger: {e}"),
        };
        for topic in produce.responses {
            let name = topics::name(&topic.name.0, topic.topic_id);
            for answer in topic.partition_responses {
                let broker = BrokerAnswer { error_code: answer.error_code, base_offset: answer.base_offset };
                for &i in &indices {
                    let attempt = &mut entries.attempts[i];
                    if attempt.topic == name && attempt.partition == answer.index {
                        attempt.broker = Some(broker);
                    }
                }
            }
        }
    }

    /// A Kafka toxic's effect on the attempts of one request, those of the
    /// partitions `aimed` names.
    pub(crate) fn note(&self, proxy: &str, connection: u64, correlation_id: i32, aimed: &Aim, fault: WireFault) {
        let mut entries = lock(&self.inner);
        let Entries { attempts, requests, .. } = &mut *entries;
        for &i in requests.get(&(proxy.to_string(), connection, correlation_id)).into_iter().flatten() {
            if aimed.names(&attempts[i].topic, attempts[i].partition) {
                attempts[i].fault = Some(fault.clone());
            }
        }
    }
}
