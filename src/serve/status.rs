//! The async send results /api/v1/status answers from: bounded in size and
//! in age. Expired entries go first, then the oldest finished (OK or ERROR)
//! ones; an entry still PENDING is never evicted for room, so when the store
//! is full of them a new async send is refused (503) instead of growing it.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// What became of one async send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "UPPERCASE")]
pub enum SendState {
    Pending,
    Ok {
        topic: String,
        partition: i32,
        /// None when the broker acknowledged without an offset (an
        /// idempotent retry it recognised as a duplicate).
        offset: Option<i64>,
    },
    Error {
        error: String,
        /// The HTTP status a sync send would have answered.
        status: u16,
    },
}

struct Entry {
    seq: u64,
    inserted: Instant,
    event_id: String,
    state: SendState,
}

/// The answer to one status query.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    pub request_id: String,
    pub event_id: String,
    #[serde(flatten)]
    pub state: SendState,
}

/// The store is full of PENDING entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreFull;

pub struct StatusStore {
    capacity: usize,
    ttl: Duration,
    next_seq: u64,
    entries: HashMap<String, Entry>,
    /// Every entry by insertion order, for expiry.
    by_age: BTreeMap<u64, String>,
    /// Finished entries by insertion order, for eviction when full.
    finished: BTreeMap<u64, String>,
}

impl StatusStore {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        StatusStore {
            capacity: capacity.max(1),
            ttl,
            next_seq: 0,
            entries: HashMap::new(),
            by_age: BTreeMap::new(),
            finished: BTreeMap::new(),
        }
    }

    /// Record a new PENDING send, making room if needed.
    pub fn insert_pending(&mut self, request_id: &str, event_id: &str, now: Instant) -> Result<(), StoreFull> {
        self.expire(now);
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.finished.pop_first() else {
                return Err(StoreFull);
            };
            self.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_age.insert(seq, request_id.to_string());
        let entry = Entry { seq, inserted: now, event_id: event_id.to_string(), state: SendState::Pending };
        if let Some(previous) = self.entries.insert(request_id.to_string(), entry) {
            // requestIds are fresh UUIDs; a clash only replaces the old entry.
            self.by_age.remove(&previous.seq);
            self.finished.remove(&previous.seq);
        }
        Ok(())
    }

    /// The send finished. An entry already expired or removed is ignored.
    pub fn finish(&mut self, request_id: &str, state: SendState) {
        if let Some(entry) = self.entries.get_mut(request_id) {
            entry.state = state;
            self.finished.insert(entry.seq, request_id.to_string());
        }
    }

    /// Forget a send that never got into librdkafka's queue.
    pub fn remove(&mut self, request_id: &str) {
        if let Some(entry) = self.entries.remove(request_id) {
            self.by_age.remove(&entry.seq);
            self.finished.remove(&entry.seq);
        }
    }

    pub fn get(&mut self, request_id: &str, now: Instant) -> Option<StatusView> {
        self.expire(now);
        self.entries.get(request_id).map(|entry| StatusView {
            request_id: request_id.to_string(),
            event_id: entry.event_id.clone(),
            state: entry.state.clone(),
        })
    }

    /// (pending, finished) entry counts.
    pub fn counts(&self) -> (usize, usize) {
        (self.entries.len() - self.finished.len(), self.finished.len())
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn expire(&mut self, now: Instant) {
        while let Some((&seq, id)) = self.by_age.first_key_value() {
            match self.entries.get(id) {
                Some(entry) if now.duration_since(entry.inserted) < self.ttl => break,
                Some(_) => {
                    let id = id.clone();
                    self.remove(&id);
                }
                None => {
                    self.by_age.remove(&seq);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> SendState {
        SendState::Ok { topic: "t".into(), partition: 0, offset: Some(1) }
    }

    #[test]
    fn full_of_pending_refuses_and_finished_entries_make_room() {
        let now = Instant::now();
        let mut store = StatusStore::new(2, Duration::from_secs(60));
        store.insert_pending("a", "ea", now).unwrap();
        store.insert_pending("b", "eb", now).unwrap();
        assert_eq!(store.insert_pending("c", "ec", now), Err(StoreFull));
        store.finish("b", ok());
        store.insert_pending("c", "ec", now).unwrap();
        assert!(store.get("b", now).is_none(), "the oldest finished entry was evicted");
        assert_eq!(store.get("a", now).unwrap().state, SendState::Pending);
        assert_eq!(store.counts(), (2, 0));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let now = Instant::now();
        let mut store = StatusStore::new(10, Duration::from_secs(5));
        store.insert_pending("a", "ea", now).unwrap();
        store.insert_pending("b", "eb", now + Duration::from_secs(3)).unwrap();
        store.finish("a", ok());
        assert!(store.get("a", now + Duration::from_secs(4)).is_some());
        assert!(store.get("a", now + Duration::from_secs(6)).is_none());
        assert!(store.get("b", now + Duration::from_secs(6)).is_some());
        assert_eq!(store.counts(), (1, 0));
        store.finish("a", ok());
        assert_eq!(store.counts(), (1, 0), "finishing an expired entry does nothing");
    }

    #[test]
    fn the_view_flattens_the_state() {
        let mut store = StatusStore::new(10, Duration::from_secs(5));
        let now = Instant::now();
        store.insert_pending("r", "e", now).unwrap();
        let json = serde_json::to_value(store.get("r", now).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"requestId": "r", "eventId": "e", "state": "PENDING"}));
        store.finish("r", ok());
        let json = serde_json::to_value(store.get("r", now).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"requestId": "r", "eventId": "e", "state": "OK", "topic": "t", "partition": 0, "offset": 1}));
    }
}
