//! The audit's lookup structures: producer names, seqs and the log by
//! (topic, partition, offset), built once so the passes over millions of
//! records do no allocation and no string hashing beyond one producer lookup
//! per record (topics are already indices in the records).

use std::collections::HashMap;

use hdrhistogram::Histogram;

use super::LatencySummary;
use crate::history::{ObservedRecord, ProducerHistory, SendRecord};

/// Producer name -> index in the history, looked up once per record.
/// A linear scan beats hashing for the usual handful of producers.
pub(super) enum ProducerIndex<'a> {
    Few(Vec<&'a str>),
    Many(HashMap<&'a str, usize>),
}

impl<'a> ProducerIndex<'a> {
    const LINEAR_MAX: usize = 8;

    pub(super) fn new(producers: &'a [ProducerHistory]) -> Self {
        if producers.len() <= Self::LINEAR_MAX {
            // `position` finds the first entry, as the map below keeps it.
            ProducerIndex::Few(producers.iter().map(|p| p.name.as_str()).collect())
        } else {
            let mut map = HashMap::with_capacity(producers.len());
            for (i, p) in producers.iter().enumerate() {
                map.entry(p.name.as_str()).or_insert(i);
            }
            ProducerIndex::Many(map)
        }
    }

    #[inline]
    pub(super) fn get(&self, name: &str) -> Option<usize> {
        match self {
            ProducerIndex::Few(names) => names.iter().position(|n| *n == name),
            ProducerIndex::Many(map) => map.get(name).copied(),
        }
    }
}

/// One producer's seqs: which are in its history, and how many copies of
/// each were observed. A slot is a distinct seq of the history.
pub(super) struct SeqTable {
    index: SeqIndex,
    /// Observed copies per slot.
    pub(super) copies: Vec<u32>,
}

enum SeqIndex {
    /// `seq` is its own slot; `known[seq]` says whether the history has it.
    Dense { known: Vec<bool> },
    /// seq -> slot, for sparse or huge seqs.
    Sparse(HashMap<u64, u32>),
}

impl SeqTable {
    pub(super) fn new(sends: &[SendRecord]) -> Self {
        let max = sends.iter().map(|s| s.seq).max();
        // Dense when a Vec of max+1 entries costs at most ~2x the sends.
        let dense_limit = (sends.len() as u64).saturating_mul(2).saturating_add(64);
        match max {
            Some(max) if max < dense_limit => {
                let len = max as usize + 1;
                let mut known = vec![false; len];
                for s in sends {
                    known[s.seq as usize] = true;
                }
                SeqTable { index: SeqIndex::Dense { known }, copies: vec![0; len] }
            }
            _ => {
                let mut map = HashMap::with_capacity(sends.len());
                for s in sends {
                    let next = map.len() as u32;
                    map.entry(s.seq).or_insert(next);
                }
                let slots = map.len();
                SeqTable { index: SeqIndex::Sparse(map), copies: vec![0; slots] }
            }
        }
    }

    #[inline]
    pub(super) fn slot(&self, seq: u64) -> Option<usize> {
        match &self.index {
            SeqIndex::Dense { known } => {
                let i = usize::try_from(seq).ok()?;
                known.get(i).copied().unwrap_or(false).then_some(i)
            }
            SeqIndex::Sparse(map) => map.get(&seq).map(|&s| s as usize),
        }
    }
}

/// `Entry::producer` of a record whose producer is not in the history.
pub(super) const FOREIGN: u32 = u32::MAX;

/// One observed record, reduced to what the audit needs (no strings): the
/// producer's name is resolved to its index once, when the log is built.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) offset: i64,
    pub(super) seq: u64,
    /// Index of the producer in the history, or [`FOREIGN`].
    pub(super) producer: u32,
}

/// The observed records as a log: one [`Partition`] per (topic index,
/// partition) read, in ascending (topic index, partition) order, each one's
/// entries in offset order. Partition 0 of one topic and partition 0 of
/// another are two partitions here: their offsets are unrelated.
pub(super) struct Log {
    pub(super) partitions: Vec<Partition>,
}

/// One partition of one topic.
pub(super) struct Partition {
    /// Index of the topic in [`Observed::topics`](crate::history::Observed::topics).
    pub(super) topic: u32,
    pub(super) id: i32,
    pub(super) entries: Vec<Entry>,
    /// `Some(first offset)` when the offsets are exactly `first, first+1, ...`
    /// (no gaps, no repeats): the entry at offset `o` is at `o - first`.
    contiguous_from: Option<i64>,
}

impl Log {
    pub(super) fn new(records: &[ObservedRecord], producers: &ProducerIndex) -> Self {
        // One pass over the records, in read order. Records come in runs of
        // one partition of one topic, so hash the (topic, partition) key only
        // when the run changes.
        let mut by_key: HashMap<(u32, i32), Vec<Entry>> = HashMap::new();
        let mut current: Option<(u32, i32)> = None;
        let mut entries: Vec<Entry> = Vec::new();
        for r in records {
            let key = (r.topic, r.partition);
            if current != Some(key) {
                if let Some(k) = current {
                    by_key.insert(k, std::mem::take(&mut entries));
                }
                entries = by_key.remove(&key).unwrap_or_default();
                current = Some(key);
            }
            let producer = producers.get(&r.producer).map_or(FOREIGN, |p| p as u32);
            entries.push(Entry { offset: r.offset, seq: r.seq, producer });
        }
        if let Some(k) = current {
            by_key.insert(k, entries);
        }

        let mut partitions: Vec<Partition> = by_key
            .into_iter()
            .map(|((topic, id), mut entries)| {
                // Offset order; sort only when needed (stable: ties keep read order).
                if !entries.windows(2).all(|w| w[0].offset <= w[1].offset) {
                    entries.sort_by_key(|e| e.offset);
                }
                let strict = entries.windows(2).all(|w| w[0].offset < w[1].offset);
                let contiguous_from = match (entries.first(), entries.last()) {
                    (Some(first), Some(last)) if strict && last.offset.checked_sub(first.offset) == Some(entries.len() as i64 - 1) => {
                        Some(first.offset)
                    }
                    _ => None,
                };
                Partition { topic, id, entries, contiguous_from }
            })
            .collect();
        partitions.sort_unstable_by_key(|p| (p.topic, p.id));
        Log { partitions }
    }

    /// Whether the log holds `(producer, seq)` at `(partition, offset)` of
    /// the topic with index `topic`.
    pub(super) fn holds(&self, topic: u32, partition: i32, offset: i64, producer: u32, seq: u64) -> bool {
        let Ok(pi) = self.partitions.binary_search_by_key(&(topic, partition), |p| (p.topic, p.id)) else {
            return false;
        };
        let part = &self.partitions[pi];
        let is_it = |e: &Entry| e.producer == producer && e.seq == seq;
        if let Some(first) = part.contiguous_from {
            return offset.checked_sub(first).and_then(|d| usize::try_from(d).ok()).and_then(|d| part.entries.get(d)).is_some_and(is_it);
        }
        // Several records at one offset (not a real log, but possible in a
        // hand-written one): any of them will do.
        let from = part.entries.partition_point(|e| e.offset < offset);
        part.entries[from..].iter().take_while(|e| e.offset == offset).any(is_it)
    }
}

/// Ack latencies in microseconds.
pub(super) struct LatencyRecorder {
    hist: Histogram<u64>,
    max_us: u64,
}

impl LatencyRecorder {
    pub(super) fn new() -> Self {
        LatencyRecorder { hist: Histogram::new(3).expect("3 significant digits is a valid histogram precision"), max_us: 0 }
    }

    pub(super) fn record(&mut self, send: &SendRecord) {
        let us = send.done_at.saturating_sub(send.sent_at).as_micros();
        let us = u64::try_from(us).unwrap_or(u64::MAX);
        // `record` grows the auto-resizing histogram (`saturating_record`
        // would not: it clamps to the current, initially tiny, range); it
        // fails only past i64::MAX / 2 us, which is then clamped.
        if self.hist.record(us).is_err() {
            self.hist.saturating_record(us);
        }
        self.max_us = self.max_us.max(us);
    }

    pub(super) fn summary(&self) -> LatencySummary {
        let count = self.hist.len();
        if count == 0 {
            return LatencySummary::default();
        }
        // HdrHistogram reports the top of a bucket; never above the true max.
        let at = |q: f64| self.hist.value_at_quantile(q).min(self.max_us) as f64 / 1000.0;
        LatencySummary { count, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: self.max_us as f64 / 1000.0 }
    }
}
