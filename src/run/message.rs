//! What each message carries, so the topic can be audited on its own.
//!
//! The value is JSON written by serde: the course's eventId plus the
//! producer's name and sequence number, the run id and a timestamp.

use serde::{Deserialize, Serialize};

use crate::scenario::KeyStrategy;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageValue {
    pub event_id: String,
    pub producer: String,
    pub seq: u64,
    pub run_id: String,
    /// Milliseconds since the Unix epoch when the message was created.
    pub timestamp: u64,
    /// Padding to the scenario's payload size.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub padding: String,
}

impl MessageValue {
    pub fn new(run_id: &str, producer: &str, seq: u64, payload_bytes: usize) -> Self {
        MessageValue {
            event_id: event_id(run_id, producer, seq),
            producer: producer.to_string(),
            seq,
            run_id: run_id.to_string(),
            timestamp: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
            padding: "x".repeat(payload_bytes),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a MessageValue always serialises")
    }
}

/// The course's eventId: unique per run, producer and message.
pub fn event_id(run_id: &str, producer: &str, seq: u64) -> String {
    format!("{run_id}-{producer}-{seq}")
}

/// The producer and sequence number in an eventId made by [`event_id`] for
/// run `run_id`; `None` for any other eventId. This is how the read-back
/// recognises records an http producer had a service write.
pub fn parse_event_id(run_id: &str, event_id: &str) -> Option<(String, u64)> {
    let rest = event_id.strip_prefix(run_id)?.strip_prefix('-')?;
    let (producer, seq) = rest.rsplit_once('-')?;
    if producer.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((producer.to_string(), seq.parse().ok()?))
}

/// The record key the scenario's key strategy gives this message.
pub fn key_for(strategy: &KeyStrategy, event_id: &str, seq: u64) -> String {
    match strategy {
        KeyStrategy::EventId => event_id.to_string(),
        KeyStrategy::Fixed(key) => key.clone(),
        KeyStrategy::Spread(keys) => format!("key-{}", seq % u64::from((*keys).max(1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip() {
        let id = event_id("ab12cd34", "plain-http_2", 17);
        assert_eq!(parse_event_id("ab12cd34", &id), Some(("plain-http_2".to_string(), 17)));
        assert_eq!(parse_event_id("ffffffff", &id), None);
        assert_eq!(parse_event_id("ab12cd34", "ab12cd34-plain-x1"), None);
        assert_eq!(parse_event_id("ab12cd34", "ab12cd34-7"), None);
    }
}
