//! Per-run time series for the charts: acknowledgements per time bucket and
//! the messages that were written more than once.
//!
//! [`series`] is a pure function of the run's [`History`] and [`Observed`]
//! records, like the audit. Its output is compact (one count per bucket),
//! except for the duplicate markers, which are one per duplicated message
//! and capped at [`MAX_DUPLICATE_MARKERS`] per producer.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audit::history::{History, Observed, Outcome};

/// At most this many duplicate markers are kept per producer; beyond it the
/// markers are thinned evenly over time (see [`ProducerSeries::duplicates_omitted`]).
pub const MAX_DUPLICATE_MARKERS: usize = 2000;

/// Counts per time bucket: `values[i]` counts the events in
/// `[i * bucket_ms, (i + 1) * bucket_ms)` milliseconds after producing started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub bucket_ms: u64,
    pub values: Vec<u64>,
}

impl Series {
    /// The start of bucket `i`, in seconds since producing started.
    pub fn start_secs(&self, i: usize) -> f64 {
        (i as u64 * self.bucket_ms) as f64 / 1000.0
    }

    /// The end of the last bucket, in seconds.
    pub fn end_secs(&self) -> f64 {
        self.start_secs(self.values.len())
    }
}

/// One message observed more than once in the topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateMarker {
    /// The producer's sequence number of the message.
    pub seq: u64,
    /// When it was handed to the client, in milliseconds since producing started.
    pub sent_ms: u64,
    /// How many copies the topics hold (>= 2).
    pub copies: u32,
}

/// One producer's time series in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerSeries {
    pub producer: String,
    /// Acknowledged sends by the time their delivery report arrived (`done_at`).
    pub acks: Series,
    /// Duplicated messages in the order they were sent.
    pub duplicates: Vec<DuplicateMarker>,
    /// Duplicated messages left out of `duplicates` by the cap.
    #[serde(default)]
    pub duplicates_omitted: u64,
}

/// The time series of one run, one entry per producer of `history`, in
/// history order. `bucket` is the width of an ack bucket (a zero width is
/// taken as 1 ms). Every producer's series has the same number of buckets,
/// enough to hold the latest acknowledgement of any producer.
pub fn series(history: &History, observed: &Observed, bucket: Duration) -> Vec<ProducerSeries> {
    let bucket_ms = (bucket.as_millis() as u64).max(1);
    let last_ack = history
        .producers
        .iter()
        .flat_map(|p| &p.sends)
        .filter(|s| matches!(s.outcome, Outcome::Acked { .. }))
        .map(|s| s.done_at.as_millis() as u64)
        .max();
    let buckets = last_ack.map_or(0, |ms| (ms / bucket_ms + 1) as usize);

    // Copies of each (producer, seq), whichever topic they were read from
    // (a message's identity does not involve the topic, as in the audit).
    let index: HashMap<&str, usize> = history.producers.iter().enumerate().rev().map(|(i, p)| (p.name.as_str(), i)).collect();
    let mut copies: Vec<HashMap<u64, u32>> = vec![HashMap::new(); history.producers.len()];
    for record in &observed.records {
        if let Some(&p) = index.get(record.producer.as_str()) {
            *copies[p].entry(record.seq).or_default() += 1;
        }
    }

    history
        .producers
        .iter()
        .zip(copies)
        .map(|(producer, mut copies)| {
            let mut values = vec![0u64; buckets];
            for send in &producer.sends {
                if matches!(send.outcome, Outcome::Acked { .. }) {
                    values[(send.done_at.as_millis() as u64 / bucket_ms) as usize] += 1;
                }
            }
            let mut duplicates: Vec<DuplicateMarker> = Vec::new();
            for send in &producer.sends {
                // `remove`: a seq sent twice is marked once, at its first send.
                match copies.remove(&send.seq) {
                    Some(k) if k > 1 => {
                        duplicates.push(DuplicateMarker { seq: send.seq, sent_ms: send.sent_at.as_millis() as u64, copies: k })
                    }
                    _ => {}
                }
            }
            duplicates.sort_by_key(|d| (d.sent_ms, d.seq));
            let (duplicates, duplicates_omitted) = thin(duplicates, MAX_DUPLICATE_MARKERS);
            ProducerSeries { producer: producer.name.clone(), acks: Series { bucket_ms, values }, duplicates, duplicates_omitted }
        })
        .collect()
}

/// Keep at most `cap` markers, evenly spread over the sorted list (first and
/// last kept), so a capped chart still shows when duplicates happened.
fn thin(markers: Vec<DuplicateMarker>, cap: usize) -> (Vec<DuplicateMarker>, u64) {
    let n = markers.len();
    if n <= cap {
        return (markers, 0);
    }
    if cap == 0 {
        return (Vec::new(), n as u64);
    }
    if cap == 1 {
        return (vec![markers[0]], n as u64 - 1);
    }
    let kept: Vec<DuplicateMarker> = (0..cap).map(|i| markers[i * (n - 1) / (cap - 1)]).collect();
    (kept, (n - cap) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::history::{ObservedRecord, ProducerHistory, SendRecord};

    fn marker(seq: u64) -> DuplicateMarker {
        DuplicateMarker { seq, sent_ms: seq, copies: 2 }
    }

    #[test]
    fn thinning_keeps_both_ends_and_counts_the_rest() {
        let (kept, omitted) = thin((0..10).map(marker).collect(), 4);
        assert_eq!(kept.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![0, 3, 6, 9]);
        assert_eq!(omitted, 6);
        let (kept, omitted) = thin((0..3).map(marker).collect(), 4);
        assert_eq!((kept.len(), omitted), (3, 0));
    }

    #[test]
    fn failed_sends_are_not_acks_and_zero_bucket_is_one_ms() {
        let send = |seq: u64, ms: u64, outcome: Outcome| SendRecord {
            seq,
            sent_at: Duration::from_millis(ms),
            done_at: Duration::from_millis(ms),
            outcome,
        };
        let history = History {
            producers: vec![ProducerHistory {
                name: "p".into(),
                topic: "t".into(),
                sends: vec![
                    send(0, 0, Outcome::Acked { partition: 0, offset: Some(0) }),
                    send(1, 2, Outcome::Failed { error: "x".into(), possibly_persisted: false }),
                    send(2, 3, Outcome::Acked { partition: 0, offset: None }),
                ],
            }],
        };
        let observed = Observed {
            topics: vec!["t".into()],
            records: vec![ObservedRecord { topic: 0, producer: "p".into(), seq: 0, partition: 0, offset: 0 }],
            unreadable: 0,
        };
        let s = series(&history, &observed, Duration::ZERO);
        assert_eq!(s[0].acks, Series { bucket_ms: 1, values: vec![1, 0, 0, 1] });
        assert!(s[0].duplicates.is_empty());
    }
}
