//! The chart time series from hand-made histories.

use std::time::Duration;

use faultlab::audit::history::{History, Observed, ObservedRecord, Outcome, ProducerHistory, SendRecord};
use faultlab::report::series::{DuplicateMarker, MAX_DUPLICATE_MARKERS, Series, series};

fn send(seq: u64, sent_ms: u64, done_ms: u64, outcome: Outcome) -> SendRecord {
    SendRecord { seq, sent_at: Duration::from_millis(sent_ms), done_at: Duration::from_millis(done_ms), outcome }
}

fn acked(seq: u64, sent_ms: u64, done_ms: u64) -> SendRecord {
    send(seq, sent_ms, done_ms, Outcome::Acked { partition: 0, offset: Some(seq as i64) })
}

fn record(topic: u32, producer: &str, seq: u64) -> ObservedRecord {
    ObservedRecord { topic, producer: producer.into(), seq, partition: 0, offset: seq as i64 }
}

fn producer(name: &str, sends: Vec<SendRecord>) -> ProducerHistory {
    ProducerHistory { name: name.into(), topic: format!("t-{name}"), sends }
}

#[test]
fn acks_are_counted_per_bucket_by_delivery_time() {
    let history = History {
        producers: vec![
            producer(
                "plain",
                vec![
                    acked(0, 0, 0),
                    acked(1, 10, 99),  // last millisecond of bucket 0
                    acked(2, 20, 100), // first of bucket 1
                    acked(3, 30, 250),
                    acked(4, 40, 250),
                    send(5, 50, 260, Outcome::Failed { error: "timed out".into(), possibly_persisted: true }),
                    send(6, 60, 60, Outcome::Unknown),
                    send(7, 70, 80, Outcome::Failed { error: "refused".into(), possibly_persisted: false }),
                ],
            ),
            producer("idempotent", vec![acked(0, 0, 520), send(1, 0, 180, Outcome::Acked { partition: 0, offset: None })]),
        ],
    };
    let s = series(&history, &Observed::default(), Duration::from_millis(100));
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].producer, "plain");
    // Both series reach the latest ack of any producer (520 ms: bucket 5).
    assert_eq!(s[0].acks, Series { bucket_ms: 100, values: vec![2, 1, 2, 0, 0, 0] });
    assert_eq!(s[1].acks, Series { bucket_ms: 100, values: vec![0, 1, 0, 0, 0, 1] });
    assert_eq!(s[1].acks.end_secs(), 0.6);
    assert!(s.iter().all(|p| p.duplicates.is_empty()));
}

#[test]
fn messages_observed_more_than_once_are_marked_at_their_send_time() {
    let history = History {
        producers: vec![
            producer("plain", vec![acked(0, 5, 10), acked(1, 300, 900), acked(2, 200, 950), acked(3, 400, 990)]),
            producer("idempotent", vec![acked(0, 5, 10), acked(1, 6, 11)]),
        ],
    };
    let observed = Observed {
        topics: vec!["t-plain".into(), "t-idempotent".into(), "elsewhere".into()],
        records: vec![
            record(0, "plain", 0),
            record(0, "plain", 1),
            record(0, "plain", 1),
            record(2, "plain", 1), // a copy in another topic is a copy too
            record(0, "plain", 2),
            record(0, "plain", 2),
            record(0, "plain", 3),
            record(0, "plain", 9), // never sent: not a duplicate of anything
            record(0, "plain", 9),
            record(1, "idempotent", 0),
            record(1, "idempotent", 1),
            record(1, "stranger", 0), // no such producer
            record(1, "stranger", 0),
        ],
        unreadable: 0,
    };
    let s = series(&history, &observed, Duration::from_millis(250));
    assert_eq!(
        s[0].duplicates,
        vec![DuplicateMarker { seq: 2, sent_ms: 200, copies: 2 }, DuplicateMarker { seq: 1, sent_ms: 300, copies: 3 }]
    );
    assert_eq!(s[0].duplicates_omitted, 0);
    assert!(s[1].duplicates.is_empty());
    assert_eq!(s[0].acks.values, vec![1, 0, 0, 3]);
}

#[test]
fn duplicate_markers_are_capped_evenly_over_time() {
    let n = MAX_DUPLICATE_MARKERS as u64 + 500;
    let sends: Vec<SendRecord> = (0..n).map(|seq| acked(seq, seq, seq + 1)).collect();
    let records: Vec<ObservedRecord> = (0..n).flat_map(|seq| [record(0, "plain", seq), record(0, "plain", seq)]).collect();
    let history = History { producers: vec![producer("plain", sends)] };
    let observed = Observed { topics: vec!["t-plain".into()], records, unreadable: 0 };
    let s = series(&history, &observed, Duration::from_millis(100));
    let marks = &s[0].duplicates;
    assert_eq!(marks.len(), MAX_DUPLICATE_MARKERS);
    assert_eq!(s[0].duplicates_omitted, 500);
    assert_eq!((marks[0].seq, marks[marks.len() - 1].seq), (0, n - 1));
    assert!(marks.windows(2).all(|w| w[0].sent_ms < w[1].sent_ms));
    // Evenly: no gap between kept markers is more than twice the average.
    let widest = marks.windows(2).map(|w| w[1].seq - w[0].seq).max().unwrap();
    assert!(widest <= 2, "gap of {widest}");
}

#[test]
fn an_empty_history_has_no_buckets() {
    let history = History { producers: vec![producer("plain", vec![])] };
    let s = series(&history, &Observed::default(), Duration::from_millis(100));
    assert_eq!(s[0].acks, Series { bucket_ms: 100, values: vec![] });
}
