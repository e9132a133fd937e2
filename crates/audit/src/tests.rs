//! Unit tests: one hand-written history per anomaly class.

use std::time::Duration;

use super::*;
use crate::history::{History, Observed, ObservedRecord, Outcome, ProducerHistory, SendRecord};

// ---- builders -------------------------------------------------------------

fn send(seq: u64, outcome: Outcome) -> SendRecord {
    SendRecord { seq, sent_at: Duration::from_millis(seq), done_at: Duration::from_millis(seq + 5), outcome }
}

fn acked(seq: u64, partition: i32, offset: i64) -> SendRecord {
    send(seq, Outcome::Acked { partition, offset: Some(offset) })
}

fn acked_no_offset(seq: u64, partition: i32) -> SendRecord {
    send(seq, Outcome::Acked { partition, offset: None })
}

fn failed(seq: u64) -> SendRecord {
    send(seq, Outcome::Failed { error: "Local: Message timed out".into(), possibly_persisted: false })
}

fn possibly_persisted(seq: u64) -> SendRecord {
    send(seq, Outcome::Failed { error: "Local: Message timed out".into(), possibly_persisted: true })
}

fn unknown(seq: u64) -> SendRecord {
    SendRecord { seq, sent_at: Duration::from_millis(seq), done_at: Duration::from_millis(seq), outcome: Outcome::Unknown }
}

/// The topic of [`producer`] and [`rec`], the only one [`observed`] reads.
const T: &str = "t";

/// A record read from topic 0 ([`T`] in [`observed`]).
fn rec(producer: &str, seq: u64, partition: i32, offset: i64) -> ObservedRecord {
    rec_in(0, producer, seq, partition, offset)
}

/// A record read from the topic with index `topic` in `Observed::topics`.
fn rec_in(topic: u32, producer: &str, seq: u64, partition: i32, offset: i64) -> ObservedRecord {
    ObservedRecord { topic, producer: producer.into(), seq, partition, offset }
}

/// A producer writing to [`T`].
fn producer(name: &str, sends: Vec<SendRecord>) -> ProducerHistory {
    producer_on(name, T, sends)
}

fn producer_on(name: &str, topic: &str, sends: Vec<SendRecord>) -> ProducerHistory {
    ProducerHistory { name: name.into(), topic: topic.into(), sends }
}

/// The records of topic [`T`] only.
fn observed(records: Vec<ObservedRecord>) -> Observed {
    observed_topics(&[T], records)
}

fn observed_topics(topics: &[&str], records: Vec<ObservedRecord>) -> Observed {
    Observed { topics: topics.iter().map(|&t| t.to_owned()).collect(), records, unreadable: 0 }
}

/// Audits a single producer "p".
fn one(sends: Vec<SendRecord>, records: Vec<ObservedRecord>) -> Verdict {
    let history = History { producers: vec![producer("p", sends)] };
    let mut verdicts = audit(&history, &observed(records));
    assert_eq!(verdicts.len(), 1);
    verdicts.remove(0)
}

/// `n` messages of "p", acked and observed in order in partition 0.
fn clean(n: u64) -> (Vec<SendRecord>, Vec<ObservedRecord>) {
    let sends = (0..n).map(|s| acked(s, 0, s as i64)).collect();
    let records = (0..n).map(|s| rec("p", s, 0, s as i64)).collect();
    (sends, records)
}

const ANOMALIES: &[&str] =
    &["duplicates", "lost", "phantom", "persisted_after_failure", "reordered", "offset_mismatch", "acked_without_offset", "unexpected"];

/// Asserts the anomaly counts named in `expected` and that every other
/// anomaly count is zero (so a fault is never counted in two classes).
#[track_caller]
fn assert_anomalies(v: &Verdict, expected: &[(&str, u64)]) {
    for name in ANOMALIES {
        let want = expected.iter().find(|(n, _)| n == name).map_or(0, |(_, c)| *c);
        let metric = Metric::from_name(name).unwrap_or_else(|| panic!("{name} is not a metric"));
        assert_eq!(v.get(metric), want, "{name} in {v:#?}");
    }
    for (name, _) in expected {
        assert!(ANOMALIES.contains(name), "{name} is not an anomaly class");
    }
}

// ---- clean run --------------------------------------------------------------

#[test]
fn clean_run_counts_nothing() {
    let (sends, records) = clean(10);
    let v = one(sends, records);
    assert_eq!(v.producer, "p");
    assert_eq!((v.sent, v.acked, v.failed, v.possibly_persisted, v.unknown), (10, 10, 0, 0, 0));
    assert_anomalies(&v, &[]);
    assert_eq!(v.latency.count, 10);
    assert_eq!(v.latency.max_ms, 5.0);
}

#[test]
fn empty_history_gives_no_verdicts() {
    let records = vec![rec("p", 0, 0, 0)];
    assert!(audit(&History::default(), &observed(records)).is_empty());
}

#[test]
fn producer_without_sends_counts_its_records_as_unexpected() {
    let v = one(vec![], vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1)]);
    assert_eq!(v.sent, 0);
    assert_anomalies(&v, &[("unexpected", 2)]);
    assert_eq!(v.latency, LatencySummary::default());
}

// ---- duplicates -------------------------------------------------------------

#[test]
fn two_copies_are_one_duplicate() {
    let (sends, mut records) = clean(5);
    records.push(rec("p", 2, 0, 5));
    let v = one(sends, records);
    assert_anomalies(&v, &[("duplicates", 1)]);
}

#[test]
fn three_copies_are_two_duplicates() {
    let (sends, mut records) = clean(5);
    records.push(rec("p", 3, 0, 5));
    records.push(rec("p", 3, 0, 6));
    records.push(rec("p", 1, 0, 7)); // and two copies of another
    let v = one(sends, records);
    assert_anomalies(&v, &[("duplicates", 3)]);
}

#[test]
fn copy_in_another_partition_is_a_duplicate_not_a_reorder() {
    let (sends, mut records) = clean(5);
    records.push(rec("p", 0, 1, 0)); // seq 0 again, first in partition 1
    records.push(rec("p", 4, 1, 1));
    let v = one(sends, records);
    assert_anomalies(&v, &[("duplicates", 2)]);
}

// ---- lost ---------------------------------------------------------------------

#[test]
fn acked_but_never_observed_is_lost() {
    let sends = vec![acked(0, 0, 0), acked(1, 0, 1), acked_no_offset(2, 0)];
    let records = vec![rec("p", 0, 0, 0)];
    let v = one(sends, records);
    // seq 1's offset holds nothing: a mismatch too; seq 2 has no offset to check.
    assert_anomalies(&v, &[("lost", 2), ("offset_mismatch", 1), ("acked_without_offset", 1)]);
}

#[test]
fn failed_and_unobserved_is_not_lost() {
    let v = one(vec![failed(0), possibly_persisted(1), unknown(2)], vec![]);
    assert_eq!((v.sent, v.acked, v.failed, v.possibly_persisted, v.unknown), (3, 0, 1, 1, 1));
    assert_anomalies(&v, &[]);
}

// ---- phantom / persisted after failure -------------------------------------

#[test]
fn clean_failure_that_shows_up_is_phantom() {
    let sends = vec![acked(0, 0, 0), failed(1), failed(2)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1)];
    let v = one(sends, records);
    assert_eq!((v.acked, v.failed), (1, 2));
    assert_anomalies(&v, &[("phantom", 1)]);
}

#[test]
fn phantom_observed_twice_is_one_phantom_and_one_duplicate() {
    let v = one(vec![failed(0)], vec![rec("p", 0, 0, 0), rec("p", 0, 0, 1)]);
    assert_anomalies(&v, &[("phantom", 1), ("duplicates", 1)]);
}

#[test]
fn possibly_persisted_that_shows_up_is_persisted_after_failure() {
    let sends = vec![possibly_persisted(0), possibly_persisted(1), acked(2, 0, 1)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 2, 0, 1)];
    let v = one(sends, records);
    assert_eq!((v.acked, v.failed, v.possibly_persisted), (1, 0, 2));
    assert_anomalies(&v, &[("persisted_after_failure", 1)]);
}

// ---- reordered ----------------------------------------------------------------

#[test]
fn swap_of_two_is_one_reorder() {
    let sends = (0..4).map(|s| acked(s, 0, [0, 2, 1, 3][s as usize])).collect();
    let records = vec![rec("p", 0, 0, 0), rec("p", 2, 0, 1), rec("p", 1, 0, 2), rec("p", 3, 0, 3)];
    let v = one(sends, records);
    assert_anomalies(&v, &[("reordered", 1)]);
}

#[test]
fn late_duplicate_is_not_a_reorder() {
    // 0 1 2 3 then a retried copy of 1: a duplicate, not a reorder.
    let (sends, mut records) = clean(4);
    records.push(rec("p", 1, 0, 4));
    let v = one(sends, records);
    assert_anomalies(&v, &[("duplicates", 1)]);
}

#[test]
fn duplicate_then_first_copies_of_higher_seqs_are_in_order() {
    // 0 1 0 2 3: the second 0 is a duplicate; 2 and 3 still in order.
    let sends = (0..4).map(|s| acked(s, 0, [0, 1, 3, 4][s as usize])).collect();
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1), rec("p", 0, 0, 2), rec("p", 2, 0, 3), rec("p", 3, 0, 4)];
    let v = one(sends, records);
    assert_anomalies(&v, &[("duplicates", 1)]);
}

#[test]
fn two_partitions_each_in_order_are_not_reordered() {
    // Even seqs in partition 0, odd in 1; records interleave partitions, and
    // partition 1 is read first.
    let sends = (0..6).map(|s| acked(s, (s % 2) as i32, (s / 2) as i64)).collect();
    let records = vec![rec("p", 1, 1, 0), rec("p", 3, 1, 1), rec("p", 0, 0, 0), rec("p", 5, 1, 2), rec("p", 2, 0, 1), rec("p", 4, 0, 2)];
    let v = one(sends, records);
    assert_anomalies(&v, &[]);
}

#[test]
fn reorder_is_judged_in_offset_order_not_read_order() {
    // Read order is shuffled, offsets are in order: no reorder.
    let (sends, mut records) = clean(6);
    records.swap(1, 4);
    records.swap(0, 5);
    assert_anomalies(&one(sends.clone(), records), &[]);
    // Offsets out of order, given in offset order reversed: one swap.
    let mut sends = sends;
    sends[2] = acked(2, 0, 3);
    sends[3] = acked(3, 0, 2);
    let records = vec![rec("p", 5, 0, 5), rec("p", 4, 0, 4), rec("p", 2, 0, 3), rec("p", 3, 0, 2), rec("p", 1, 0, 1), rec("p", 0, 0, 0)];
    assert_anomalies(&one(sends, records), &[("reordered", 1)]);
}

#[test]
fn message_moved_back_counts_once_moved_forward_counts_per_jump() {
    // seq 0 lands after 1..=3: one first copy (0) after a higher seq.
    let order = [1, 2, 3, 0];
    let sends = (0..4).map(|s| acked(s, 0, order.iter().position(|&o| o == s).unwrap() as i64)).collect();
    let records = order.iter().enumerate().map(|(off, &s)| rec("p", s, 0, off as i64)).collect();
    assert_anomalies(&one(sends, records), &[("reordered", 1)]);
    // seq 3 lands before 0..=2: each of 0, 1, 2 comes after a higher seq.
    let order = [3, 0, 1, 2];
    let sends = (0..4).map(|s| acked(s, 0, order.iter().position(|&o| o == s).unwrap() as i64)).collect();
    let records = order.iter().enumerate().map(|(off, &s)| rec("p", s, 0, off as i64)).collect();
    assert_anomalies(&one(sends, records), &[("reordered", 3)]);
}

#[test]
fn other_producers_records_do_not_break_order() {
    // q's seq 9 between p's 0 and 1 says nothing about p's order.
    let history = History { producers: vec![producer("p", vec![acked(0, 0, 0), acked(1, 0, 2)]), producer("q", vec![acked(9, 0, 1)])] };
    let records = vec![rec("p", 0, 0, 0), rec("q", 9, 0, 1), rec("p", 1, 0, 2)];
    let v = audit(&history, &observed(records));
    assert_anomalies(&v[0], &[]);
    assert_anomalies(&v[1], &[]);
}

// ---- offset mismatch ----------------------------------------------------------

#[test]
fn another_message_at_the_acked_offset_is_a_mismatch() {
    let sends = vec![acked(0, 0, 0), acked(1, 0, 0)]; // 1 claims offset 0 too
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1)];
    let v = one(sends, records);
    assert_anomalies(&v, &[("offset_mismatch", 1)]);
}

#[test]
fn right_offset_wrong_partition_is_a_mismatch() {
    let sends = vec![acked(0, 0, 0), acked(1, 1, 0)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1)];
    let v = one(sends, records);
    assert_anomalies(&v, &[("offset_mismatch", 1)]);
}

#[test]
fn foreign_message_at_the_acked_offset_is_a_mismatch() {
    let sends = vec![acked(0, 0, 0)];
    let records = vec![rec("stranger", 0, 0, 0), rec("p", 0, 0, 1)];
    let v = one(sends, records);
    assert_anomalies(&v, &[("offset_mismatch", 1)]);
}

#[test]
fn nothing_at_the_acked_offset_is_a_mismatch() {
    // Offsets with a gap (non-contiguous lookup) and beyond the end.
    let sends = vec![acked(0, 0, 0), acked(1, 0, 5), acked(2, 0, 7)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 4), rec("p", 2, 0, 6)];
    let v = one(sends, records);
    assert_anomalies(&v, &[("offset_mismatch", 2)]);
    // Contiguous offsets: before the start, after the end, unknown partition.
    let sends = vec![acked(0, 0, -1), acked(1, 0, 3), acked(2, 7, 2)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1), rec("p", 2, 0, 2)];
    let v = one(sends, records);
    assert_anomalies(&v, &[("offset_mismatch", 3)]);
}

#[test]
fn acked_without_offset_is_not_checked_for_offset() {
    let sends = vec![acked(0, 0, 0), acked_no_offset(1, 0), acked_no_offset(2, 0)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1), rec("p", 2, 0, 2)];
    let v = one(sends, records);
    assert_eq!(v.acked, 3);
    assert_anomalies(&v, &[("acked_without_offset", 2)]);
}

#[test]
fn repeated_offset_in_observed_matches_either_record() {
    let sends = vec![acked(0, 0, 3), acked(1, 0, 3)];
    let records = vec![rec("p", 0, 0, 3), rec("p", 1, 0, 3)];
    let v = one(sends, records);
    assert_anomalies(&v, &[]);
}

// ---- topics ---------------------------------------------------------------------

/// `n` messages acked and observed in order in partition 0 of topic index
/// `topic`, at offsets 0..n.
fn clean_in(topic: u32, name: &str, n: u64) -> (Vec<SendRecord>, Vec<ObservedRecord>) {
    let sends = (0..n).map(|s| acked(s, 0, s as i64)).collect();
    let records = (0..n).map(|s| rec_in(topic, name, s, 0, s as i64)).collect();
    (sends, records)
}

#[test]
fn two_topics_with_the_same_partitions_and_offsets_do_not_mix() {
    // The real-run bug: a plain and an idempotent producer, each on its own
    // topic, acked at identical (partition, offset) pairs. Read order
    // interleaves the topics; the second topic's log is also the longer one.
    let (plain_sends, plain_records) = clean_in(0, "plain", 6);
    let (idem_sends, idem_records) = clean_in(1, "idem", 9);
    let history =
        History { producers: vec![producer_on("plain", "faultlab-plain", plain_sends), producer_on("idem", "faultlab-idem", idem_sends)] };
    let mut records = Vec::new();
    for (a, b) in plain_records.chunks(2).zip(idem_records.chunks(3)) {
        records.extend_from_slice(b);
        records.extend_from_slice(a);
    }
    let topics = ["faultlab-plain", "faultlab-idem"];
    let v = audit(&history, &observed_topics(&topics, records.clone()));
    assert_anomalies(&v[0], &[]);
    assert_anomalies(&v[1], &[]);
    // The topic order in `Observed` is only a naming: swap it, same verdicts.
    for r in &mut records {
        r.topic = 1 - r.topic;
    }
    let swapped = audit(&history, &observed_topics(&["faultlab-idem", "faultlab-plain"], records));
    assert_eq!(swapped, v);
}

#[test]
fn ack_is_checked_against_its_own_topic_only() {
    // p writes to "t" (index 1). Its seq 0 is at (0, 0) of "t"; its seq 1 is
    // read only from "u", at (0, 1), exactly where its ack points but in the
    // wrong topic; "t" holds q's message at (0, 1).
    let history = History {
        producers: vec![producer_on("p", "t", vec![acked(0, 0, 0), acked(1, 0, 1)]), producer_on("q", "u", vec![acked(0, 0, 0)])],
    };
    let records = vec![rec_in(1, "p", 0, 0, 0), rec_in(1, "q", 7, 0, 1), rec_in(0, "q", 0, 0, 0), rec_in(0, "p", 1, 0, 1)];
    let v = audit(&history, &observed_topics(&["u", "t"], records));
    // seq 1 is not lost (a copy was read, in "u") but its ack was not truthful.
    assert_anomalies(&v[0], &[("offset_mismatch", 1)]);
    // q's seq 7 is not in its history, wherever it was read.
    assert_anomalies(&v[1], &[("unexpected", 1)]);
}

#[test]
fn producer_whose_topic_was_not_read_has_every_offset_ack_mismatched() {
    let history = History {
        producers: vec![
            producer_on("p", "unread", vec![acked(0, 0, 0), acked(1, 0, 1), acked_no_offset(2, 0), failed(3)]),
            producer("q", vec![acked(0, 0, 0), acked(1, 0, 1)]),
        ],
    };
    // Topic "t" holds q's messages at exactly p's acked offsets.
    let records = vec![rec("q", 0, 0, 0), rec("q", 1, 0, 1)];
    let v = audit(&history, &observed(records));
    assert_anomalies(&v[0], &[("lost", 3), ("offset_mismatch", 2), ("acked_without_offset", 1)]);
    assert_anomalies(&v[1], &[]);
    // No topic read at all: the same for every producer.
    let v = audit(&history, &observed_topics(&[], vec![]));
    assert_anomalies(&v[0], &[("lost", 3), ("offset_mismatch", 2), ("acked_without_offset", 1)]);
    assert_anomalies(&v[1], &[("lost", 2), ("offset_mismatch", 2)]);
}

#[test]
fn copies_read_from_another_topic_count_as_the_producers_messages() {
    // p writes to "t"; its failed seq 1 and a second copy of seq 0 turn up in
    // "u", as does a seq it never sent.
    let history = History { producers: vec![producer("p", vec![acked(0, 0, 0), failed(1)])] };
    let records = vec![rec_in(0, "p", 0, 0, 0), rec_in(1, "p", 0, 0, 0), rec_in(1, "p", 1, 0, 1), rec_in(1, "p", 9, 0, 2)];
    let v = audit(&history, &observed_topics(&[T, "u"], records));
    assert_anomalies(&v[0], &[("duplicates", 1), ("phantom", 1), ("unexpected", 1)]);
}

#[test]
fn reorder_is_judged_per_topic() {
    // p's seqs 3 4 5 are in partition 0 of its topic "t", at offsets 0 1 2;
    // seqs 0 1 2 were read from partition 0 of "u", at the same offsets. Each
    // topic is in seq order. Merged by (partition, offset), the log would read
    // 3 0 4 1 5 2 or 0 3 1 4 2 5: reordered either way.
    let mut sends: Vec<SendRecord> = (0..3).map(unknown).collect();
    sends.extend((3..6).map(|s| acked(s, 0, s as i64 - 3)));
    let history = History { producers: vec![producer("p", sends)] };
    for topics in [[T, "u"], ["u", T]] {
        let (t, u) = if topics[0] == T { (0, 1) } else { (1, 0) };
        let records: Vec<_> = (0..3i64).flat_map(|o| [rec_in(t, "p", o as u64 + 3, 0, o), rec_in(u, "p", o as u64, 0, o)]).collect();
        let v = audit(&history, &observed_topics(&topics, records));
        assert_eq!(v[0].unknown, 3);
        assert_anomalies(&v[0], &[]);
    }
}

// ---- unknown, unexpected, foreign, several producers -----------------------

#[test]
fn unknown_outcomes_are_counted_and_judged_no_further() {
    let sends = vec![acked(0, 0, 0), unknown(1), unknown(2)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1)];
    let v = one(sends, records);
    assert_eq!((v.sent, v.acked, v.unknown), (3, 1, 2));
    assert_anomalies(&v, &[]);
    assert_eq!(v.latency.count, 1);
}

#[test]
fn seqs_not_in_the_history_are_unexpected() {
    let (sends, mut records) = clean(3);
    records.push(rec("p", 3, 0, 3));
    records.push(rec("p", 1000, 0, 4));
    records.push(rec("p", 1000, 0, 5)); // every copy counts, not as a duplicate
    records.push(rec("p", u64::MAX, 0, 6));
    let v = one(sends, records);
    assert_anomalies(&v, &[("unexpected", 4)]);
}

#[test]
fn foreign_producers_are_ignored() {
    let (sends, mut records) = clean(3);
    records.push(rec("other", 0, 0, 3));
    records.push(rec("other", 0, 0, 4));
    records.push(rec("", 99, 1, 0));
    let v = one(sends, records);
    assert_anomalies(&v, &[]);
}

#[test]
fn two_producers_do_not_mix() {
    // Same seqs, same partition; a duplicate of a's 1 and b loses its 1.
    let history = History {
        producers: vec![
            producer("a", vec![acked(0, 0, 0), acked(1, 0, 2)]),
            producer("b", vec![acked(0, 0, 1), acked(1, 0, 3), failed(2)]),
        ],
    };
    let records = vec![rec("a", 0, 0, 0), rec("b", 0, 0, 1), rec("a", 1, 0, 2), rec("a", 1, 0, 3)];
    let v = audit(&history, &observed(records));
    assert_eq!(v.len(), 2);
    assert_eq!((v[0].producer.as_str(), v[1].producer.as_str()), ("a", "b"));
    assert_anomalies(&v[0], &[("duplicates", 1)]);
    assert_anomalies(&v[1], &[("lost", 1), ("offset_mismatch", 1)]);
    assert_eq!((v[1].sent, v[1].acked, v[1].failed), (3, 2, 1));
}

#[test]
fn many_producers_use_the_same_rules() {
    // More than the linear-scan limit of producer names.
    let names: Vec<String> = (0..20).map(|i| format!("producer-{i}")).collect();
    let history = History { producers: names.iter().enumerate().map(|(i, n)| producer(n, vec![acked(0, 0, i as i64)])).collect() };
    let mut records: Vec<_> = names.iter().enumerate().map(|(i, n)| rec(n, 0, 0, i as i64)).collect();
    records.push(rec("producer-7", 0, 0, 20));
    records.push(rec("producer-99", 0, 0, 21));
    let v = audit(&history, &observed(records));
    assert_eq!(v.len(), 20);
    for (i, verdict) in v.iter().enumerate() {
        assert_eq!(verdict.producer, names[i]);
        assert_anomalies(verdict, if i == 7 { &[("duplicates", 1)] } else { &[] });
    }
}

#[test]
fn sparse_seqs_are_judged_like_dense_ones() {
    // Seqs far apart use the map-backed table.
    let seqs = [5u64, 1_000_000, 7_000_000_000, u64::MAX - 1];
    let sends = vec![acked(seqs[0], 0, 0), acked(seqs[1], 0, 1), failed(seqs[2]), acked(seqs[3], 0, 3)];
    let records = vec![
        rec("p", seqs[1], 0, 0), // ahead of seqs[0]: seqs[0] is reordered
        rec("p", seqs[0], 0, 1),
        rec("p", seqs[2], 0, 2),
        rec("p", seqs[0], 0, 4),
        rec("p", 6, 0, 5),
    ];
    let v = one(sends, records);
    assert_anomalies(&v, &[("reordered", 1), ("phantom", 1), ("duplicates", 1), ("lost", 1), ("offset_mismatch", 3), ("unexpected", 1)]);
}

#[test]
fn repeated_seq_in_history_counts_copies_once() {
    let sends = vec![acked(0, 0, 0), acked(0, 0, 0)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 0, 0, 1)];
    let v = one(sends, records);
    assert_eq!((v.sent, v.acked), (2, 2));
    assert_anomalies(&v, &[("duplicates", 1)]);
}

// ---- latency --------------------------------------------------------------------

#[test]
fn latency_percentiles_of_a_known_distribution() {
    // Acked latencies 1..=100 ms; failed and unknown sends don't count.
    let mut sends: Vec<SendRecord> = (0..100u64)
        .map(|s| SendRecord {
            seq: s,
            sent_at: Duration::from_secs(1),
            done_at: Duration::from_secs(1) + Duration::from_millis(s + 1),
            outcome: Outcome::Acked { partition: 0, offset: Some(s as i64) },
        })
        .collect();
    sends.push(SendRecord { seq: 100, sent_at: Duration::ZERO, done_at: Duration::from_secs(30), ..failed(100) });
    sends.push(unknown(101));
    let records = (0..100).map(|s| rec("p", s, 0, s as i64)).collect();
    let v = one(sends, records);
    let l = v.latency;
    assert_eq!(l.count, 100);
    // HdrHistogram with 3 significant digits: within 0.1%.
    assert!((l.p50_ms - 50.0).abs() <= 0.05, "p50 {l:?}");
    assert!((l.p99_ms - 99.0).abs() <= 0.1, "p99 {l:?}");
    assert_eq!(l.max_ms, 100.0);
}

#[test]
fn latency_is_kept_in_microseconds() {
    let sends = vec![
        SendRecord {
            seq: 0,
            sent_at: Duration::from_micros(100),
            done_at: Duration::from_micros(1_600),
            outcome: Outcome::Acked { partition: 0, offset: Some(0) },
        },
        // A clock oddity (done before sent) counts as zero, never panics.
        SendRecord {
            seq: 1,
            sent_at: Duration::from_millis(10),
            done_at: Duration::from_millis(9),
            outcome: Outcome::Acked { partition: 0, offset: Some(1) },
        },
    ];
    let records = vec![rec("p", 0, 0, 0), rec("p", 1, 0, 1)];
    let l = one(sends, records).latency;
    assert_eq!(l.count, 2);
    assert_eq!(l.p50_ms, 0.0);
    assert_eq!(l.p99_ms, 1.5);
    assert_eq!(l.max_ms, 1.5);
}

#[test]
fn no_acks_no_latency() {
    assert_eq!(one(vec![failed(0)], vec![]).latency, LatencySummary::default());
}

// ---- the Verdict API --------------------------------------------------------------

#[test]
fn metric_names_every_count() {
    let (sends, records) = clean(2);
    let mut v = one(sends, records);
    v.duplicates = 3;
    v.reordered = 4;
    assert_eq!(v.get(Metric::Duplicates), 3);
    assert_eq!(v.get(Metric::Reordered), 4);
    assert_eq!((v.get(Metric::Sent), v.get(Metric::Acked)), (2, 2));
    assert_eq!(Metric::from_name("latency"), None);
    assert_eq!(Metric::from_name("producer"), None);
    assert_eq!(Metric::from_name("Duplicates"), None);
    // Every list is a list of distinct metrics.
    for list in [&Metric::EXPECTABLE[..], &Metric::SUMMARY, &Metric::ANOMALIES] {
        let distinct: std::collections::BTreeSet<_> = list.iter().collect();
        assert_eq!(distinct.len(), list.len(), "{list:?}");
    }
    // Every u64 field of the JSON form is a metric, and vice versa.
    let json = serde_json::to_value(&v).unwrap();
    let counts: Vec<&str> = json.as_object().unwrap().iter().filter(|(_, x)| x.is_u64()).map(|(k, _)| k.as_str()).collect();
    assert_eq!(counts.len(), Metric::ALL.len());
    for k in counts {
        let metric = Metric::from_name(k).unwrap_or_else(|| panic!("{k} is not a metric"));
        assert_eq!(Some(v.get(metric)), json[k].as_u64(), "{k}");
        assert_eq!(serde_json::to_value(metric).unwrap(), k, "serde and name() agree");
    }
}

#[test]
fn verdict_round_trips_through_json() {
    let sends = vec![acked(0, 0, 0), failed(1), possibly_persisted(2)];
    let records = vec![rec("p", 0, 0, 0), rec("p", 0, 0, 1), rec("p", 1, 0, 2)];
    let v = one(sends, records);
    let json = serde_json::to_string(&v).unwrap();
    let back: Verdict = serde_json::from_str(&json).unwrap();
    assert_eq!(back, v);
}

#[test]
fn long_latencies_grow_the_histogram() {
    // Two hours: far past the histogram's initial range.
    let sends = vec![SendRecord {
        seq: 0,
        sent_at: Duration::ZERO,
        done_at: Duration::from_secs(7200),
        outcome: Outcome::Acked { partition: 0, offset: Some(0) },
    }];
    let l = one(sends, vec![rec("p", 0, 0, 0)]).latency;
    assert_eq!(l.max_ms, 7_200_000.0);
    assert!((l.p50_ms - 7_200_000.0).abs() <= 7_200.0, "{l:?}");
    assert_eq!(l.p99_ms, l.p50_ms);
}
