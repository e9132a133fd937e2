//! Topic ids to names. Since Produce v13 (Apache Kafka 4.1) a client names
//! the topics it writes by id only, and the ledger and a Kafka toxic's
//! `topic` aim speak of names; the names come from the Metadata responses
//! the proxy reads (v10 and later carry each topic's id), which a client
//! always asks for before it produces.
//!
//! One map for the process: a topic id is a random UUID the cluster gives
//! a topic once, so ids from different clusters or proxies do not meet.

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use kafka_protocol::messages::MetadataResponse;
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

static NAMES: LazyLock<RwLock<HashMap<Uuid, String>>> = LazyLock::new(RwLock::default);

/// Remember the id of every topic a Metadata response names.
pub fn learn(metadata: &MetadataResponse) {
    let known: Vec<(Uuid, String)> = metadata
        .topics
        .iter()
        .filter(|topic| !topic.topic_id.is_nil())
        .filter_map(|topic| Some((topic.topic_id, topic.name.as_ref()?.to_string())))
        .collect();
    if !known.is_empty() {
        NAMES.write().unwrap_or_else(|e| e.into_inner()).extend(known);
    }
}

/// A topic's name, as a Produce request or response gives it: its `name`
/// up to v12, its id from v13 on. An id never seen in a Metadata response
/// is written as the id itself.
pub fn name(name: &StrBytes, id: Uuid) -> String {
    if !name.is_empty() || id.is_nil() {
        return name.to_string();
    }
    match NAMES.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        Some(name) => name.clone(),
        None => id.to_string(),
    }
}
