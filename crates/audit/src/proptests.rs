//! Property test: inject known faults into a clean run; the audit must count
//! exactly what was injected.
//!
//! The clean run: N messages of one producer, acked over P partitions, observed
//! in order at the acked offsets. Each message gets one role:
//! - `Drop`: removed from the topic (its offset becomes a hole) -> 1 lost and
//!   1 offset mismatch (nothing at its acked offset);
//! - `Dup(k)`: k extra copies appended at the end of its partition, at new
//!   offsets no ack points to -> k duplicates;
//! - `SwapStart`: swapped with the next message of its partition, if that one
//!   is `Plain` or `SwapStart` and not already in a swap -> 1 reorder. The acks
//!   either follow the swap (the broker wrote and acked them swapped: no
//!   mismatch) or keep the clean offsets (2 mismatches: each ack points at the
//!   other message);
//! - `Plain`: untouched.
//!
//! Keeping the injections from interacting, by construction:
//! - a message has one role, so a dropped or duplicated message is never in a
//!   swap, and a swap's two messages are never dropped or duplicated;
//! - swapped pairs are adjacent and don't overlap, and a clean partition is in
//!   increasing seq order, so every seq before a pair is lower than both:
//!   exactly one first copy (the lower seq) comes after a higher one per pair;
//!   removing other (dropped) messages keeps that true;
//! - duplicate copies come after every first copy of their partition, so
//!   they are never first copies and never judged for order, and their
//!   offsets are past every acked offset.
//!
//! Beside it, a second producer "q" writes a clean run to its own topic, over
//! the same partitions and from offset 0, so the two topics share (partition,
//! offset) pairs: q must stay clean and p must count exactly its injections
//! (the topics don't mix). Which of the two topics comes first in
//! `Observed::topics` is drawn too.
//!
//! Two variations must not change the verdict: the read order of the records
//! (partitions of both topics interleaved in random chunks, or fully
//! shuffled) and sparse seqs (every seq of p multiplied by a large factor:
//! the map-backed table).

use std::time::Duration;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use super::*;
use crate::history::{History, Observed, ObservedRecord, Outcome, ProducerHistory, SendRecord};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Plain,
    Drop,
    Dup(u64),
    SwapStart,
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![
        5 => Just(Role::Plain),
        1 => Just(Role::Drop),
        1 => (1u64..=2).prop_map(Role::Dup),
        2 => Just(Role::SwapStart),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    partition_of: Vec<i32>,
    roles: Vec<Role>,
    acks_follow_swaps: bool,
    /// Length of q's clean run.
    other_len: usize,
    /// Whether p's topic is `Observed::topics[0]` (else q's is).
    p_topic_first: bool,
    sparse: bool,
    shuffle_fully: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..300, 1i32..=4).prop_flat_map(|(n, p)| {
        (
            prop::collection::vec(0..p, n),
            prop::collection::vec(role(), n),
            any::<bool>(),
            0usize..100,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(|(partition_of, roles, acks_follow_swaps, other_len, p_topic_first, sparse, shuffle_fully, seed)| Case {
                partition_of,
                roles,
                acks_follow_swaps,
                other_len,
                p_topic_first,
                sparse,
                shuffle_fully,
                seed,
            })
    })
}

/// The expected anomaly counts.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    lost: u64,
    duplicates: u64,
    reordered: u64,
    offset_mismatch: u64,
}

fn build(case: &Case) -> (History, Observed, Expected) {
    let n = case.roles.len();
    let seq_of = |i: usize| {
        if case.sparse { i as u64 * 1_000_003 + 7 } else { i as u64 }
    };
    let parts = case.partition_of.iter().max().map_or(0, |&p| p as usize + 1);
    let mut expected = Expected::default();

    // Clean logs: message indices per partition, in order.
    let mut logs: Vec<Vec<usize>> = vec![Vec::new(); parts];
    for i in 0..n {
        logs[case.partition_of[i] as usize].push(i);
    }
    let clean_offset = offsets(&logs, n);

    // Swaps.
    let swappable = |r: Role| matches!(r, Role::Plain | Role::SwapStart);
    for log in &mut logs {
        let mut j = 0;
        while j + 1 < log.len() {
            if case.roles[log[j]] == Role::SwapStart && swappable(case.roles[log[j + 1]]) {
                log.swap(j, j + 1);
                expected.reordered += 1;
                if !case.acks_follow_swaps {
                    expected.offset_mismatch += 2;
                }
                j += 2;
            } else {
                j += 1;
            }
        }
    }
    let log_offset = offsets(&logs, n);
    let acked_offset = if case.acks_follow_swaps { &log_offset } else { &clean_offset };

    let sends = (0..n)
        .map(|i| SendRecord {
            seq: seq_of(i),
            sent_at: Duration::from_millis(i as u64),
            done_at: Duration::from_millis(i as u64 + 1 + (i as u64 % 7)),
            outcome: Outcome::Acked { partition: case.partition_of[i], offset: Some(acked_offset[i]) },
        })
        .collect();
    let (p_topic, q_topic) = if case.p_topic_first { (0, 1) } else { (1, 0) };
    let mut topics = vec![String::new(); 2];
    topics[p_topic as usize] = "faultlab-p".into();
    topics[q_topic as usize] = "faultlab-q".into();

    // q: a clean run, message i in partition i % parts at the next offset.
    let q_partition = |i: usize| (i % parts) as i32;
    let q_offset = |i: usize| (i / parts) as i64;
    let q_sends = (0..case.other_len)
        .map(|i| SendRecord {
            seq: i as u64,
            sent_at: Duration::from_millis(i as u64),
            done_at: Duration::from_millis(i as u64 + 2),
            outcome: Outcome::Acked { partition: q_partition(i), offset: Some(q_offset(i)) },
        })
        .collect();
    let history = History {
        producers: vec![
            ProducerHistory { name: "p".into(), topic: topics[p_topic as usize].clone(), sends },
            ProducerHistory { name: "q".into(), topic: topics[q_topic as usize].clone(), sends: q_sends },
        ],
    };

    // p's topic: drops leave holes, duplicates go at the end.
    let mut rng = StdRng::seed_from_u64(case.seed);
    let mut queues: Vec<Vec<ObservedRecord>> = Vec::new();
    for (p, log) in logs.iter().enumerate() {
        let record =
            |i: usize, offset: i64| ObservedRecord { topic: p_topic, producer: "p".into(), seq: seq_of(i), partition: p as i32, offset };
        let mut queue = Vec::new();
        let mut copies = Vec::new();
        for (offset, &i) in log.iter().enumerate() {
            match case.roles[i] {
                Role::Drop => {
                    expected.lost += 1;
                    expected.offset_mismatch += 1;
                }
                Role::Dup(k) => {
                    expected.duplicates += k;
                    copies.extend(std::iter::repeat_n(i, k as usize));
                    queue.push(record(i, offset as i64));
                }
                Role::Plain | Role::SwapStart => queue.push(record(i, offset as i64)),
            }
        }
        copies.shuffle(&mut rng);
        for (k, i) in copies.into_iter().enumerate() {
            queue.push(record(i, (log.len() + k) as i64));
        }
        queues.push(queue);
    }
    // q's topic, partition by partition.
    for p in 0..parts {
        queues.push(
            (p..case.other_len)
                .step_by(parts)
                .map(|i| ObservedRecord {
                    topic: q_topic,
                    producer: "q".into(),
                    seq: i as u64,
                    partition: q_partition(i),
                    offset: q_offset(i),
                })
                .collect(),
        );
    }

    // Read order: partitions of both topics interleaved in random chunks (as a consumer
    // reads), or fully shuffled.
    let mut records = Vec::new();
    let mut heads = vec![0usize; queues.len()];
    loop {
        let open: Vec<usize> = (0..queues.len()).filter(|&q| heads[q] < queues[q].len()).collect();
        let Some(&q) = open.choose(&mut rng) else {
            break;
        };
        let take = rng.random_range(1..=8).min(queues[q].len() - heads[q]);
        records.extend_from_slice(&queues[q][heads[q]..heads[q] + take]);
        heads[q] += take;
    }
    if case.shuffle_fully {
        records.shuffle(&mut rng);
    }
    (history, Observed { topics, records, unreadable: 0 }, expected)
}

/// Offset of each message index, from its position in its partition's log.
fn offsets(logs: &[Vec<usize>], n: usize) -> Vec<i64> {
    let mut offset = vec![-1; n];
    for log in logs {
        for (o, &i) in log.iter().enumerate() {
            offset[i] = o as i64;
        }
    }
    offset
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn audit_counts_exactly_what_was_injected(case in case()) {
        let (history, observed, expected) = build(&case);
        let verdicts = audit(&history, &observed);
        prop_assert_eq!(verdicts.len(), 2);
        let v = &verdicts[0];
        let n = case.roles.len() as u64;
        prop_assert_eq!((v.sent, v.acked, v.failed, v.possibly_persisted, v.unknown), (n, n, 0, 0, 0));
        let got = Expected {
            lost: v.lost,
            duplicates: v.duplicates,
            reordered: v.reordered,
            offset_mismatch: v.offset_mismatch,
        };
        prop_assert_eq!(got, expected);
        prop_assert_eq!(
            (v.phantom, v.persisted_after_failure, v.acked_without_offset, v.unexpected),
            (0, 0, 0, 0)
        );
        prop_assert_eq!(v.latency.count, n);

        // q, clean, in a topic sharing p's (partition, offset) pairs.
        let q = &verdicts[1];
        let m = case.other_len as u64;
        prop_assert_eq!((q.sent, q.acked), (m, m));
        for metric in Metric::ALL.iter().copied() {
            if !matches!(metric, Metric::Sent | Metric::Acked) {
                prop_assert_eq!(q.get(metric), 0, "q's {}", metric);
            }
        }
    }

    #[test]
    fn read_order_and_seq_density_do_not_change_the_verdict(case in case()) {
        let verdict = |c: &Case| {
            let (history, observed, _) = build(c);
            audit(&history, &observed)
        };
        let base = Case { sparse: false, shuffle_fully: false, ..case.clone() };
        let reference = verdict(&base);
        for (sparse, shuffle_fully) in [(false, true), (true, false), (true, true)] {
            let other = verdict(&Case { sparse, shuffle_fully, ..case.clone() });
            prop_assert_eq!(&other, &reference);
        }
    }
}
