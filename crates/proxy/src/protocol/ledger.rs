//! The ledger: every Produce batch attempt a Kafka-mode proxy forwards,
//! what the broker answered, and what a Kafka toxic did to it: the wire's
//! ground truth ([`faultlab_audit::wire`]), from which the audit tells why
//! each duplicate was written.
//!
//! Requests are read as they arrive from the client and responses as they
//! arrive from the broker, before any toxic; a Kafka toxic notes its own
//! effect ([`Ledger::note`]). Batches are decoded with tansu-sans-io (their
//! headers only: the records stay compressed bytes), and only on proxies
//! that keep a ledger.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use tansu_sans_io::{Body, Frame};

use super::aim::Aim;
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
        let body = match Frame::request_from_bytes(&frame[..]) {
            Ok(decoded) => decoded.body,
            Err(e) => return tracing::debug!("proxy {proxy}: a Produce request did not decode, not in the ledger: {e}"),
        };
        let Body::ProduceRequest(produce) = body else { return };
        let mut entries = lock(&self.inner);
        if entries.attempts.len() >= MOST {
            if !std::mem::replace(&mut entries.full, true) {
                tracing::warn!("the Produce ledger holds {MOST} batch attempts and records no more");
            }
            return;
        }
        let mut indices = Vec::new();
        for topic in produce.topic_data.into_iter().flatten() {
            for partition in topic.partition_data.into_iter().flatten() {
                for batch in partition.records.map(|r| r.batches).unwrap_or_default() {
                    indices.push(entries.attempts.len());
                    entries.attempts.push(BatchAttempt {
                        proxy: proxy.to_string(),
                        connection,
                        client_id: client_id.to_string(),
                        topic: topic.name.clone(),
                        partition: partition.index,
                        producer_id: batch.producer_id,
                        producer_epoch: batch.producer_epoch,
                        base_sequence: batch.base_sequence,
                        records: batch.record_count,
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
        let body = match Frame::response_from_bytes(&frame[..], super::PRODUCE, api_version) {
            Ok(decoded) => decoded.body,
            Err(e) => return tracing::debug!("proxy {proxy}: a Produce response did not decode, not in the ledger: {e}"),
        };
        let Body::ProduceResponse(produce) = body else { return };
        for topic in produce.responses.into_iter().flatten() {
            for answer in topic.partition_responses.into_iter().flatten() {
                let broker = BrokerAnswer { error_code: answer.error_code, base_offset: answer.base_offset };
                for &i in &indices {
                    let attempt = &mut entries.attempts[i];
                    if attempt.topic == topic.name && attempt.partition == answer.index {
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
