//! Attribution on hand-written wire records, as a run would give them.

use super::*;

fn attempt(connection: u64, producer_id: i64, base_sequence: i32, broker: Option<(i16, i64)>, fault: Option<Effect>) -> BatchAttempt {
    BatchAttempt {
        proxy: "kafka".into(),
        connection,
        client_id: "plain".into(),
        topic: "t".into(),
        partition: 0,
        producer_id,
        producer_epoch: 0,
        base_sequence,
        records: 1,
        broker: broker.map(|(error_code, base_offset)| BrokerAnswer { error_code, base_offset }),
        fault: fault.map(|effect| WireFault {
            toxic: match effect {
                Effect::ResponseLost => "kafka_ack_loss",
                Effect::Delayed { .. } => "kafka_latency",
                Effect::ErrorAfterWrite { .. } | Effect::ErrorInstead { .. } => "kafka_error",
            }
            .into(),
            effect,
        }),
    }
}

fn copies(written: &[(u64, &[i64])]) -> BTreeMap<(i32, u64), Vec<i64>> {
    written.iter().map(|&(seq, offsets)| ((0, seq), offsets.to_vec())).collect()
}

#[test]
fn a_lost_acknowledgement_is_the_cause_of_the_copy_it_made() {
    let attempts = [
        attempt(0, -1, -1, Some((0, 0)), None),
        attempt(0, -1, -1, Some((0, 1)), Some(Effect::ResponseLost)),
        attempt(1, -1, -1, Some((0, 2)), None),
    ];
    let found = attribute("t", &copies(&[(0, &[0]), (1, &[1, 2])]), &attempts);
    assert_eq!(found.attempts, 3);
    assert_eq!(found.duplicates_by_cause, [("acknowledgement lost (kafka_ack_loss)".to_string(), 1)].into());
    let example = found.example.unwrap();
    assert_eq!(example.written_at, [1, 2]);
    assert_eq!(example.attempts, attempts[1..].to_vec(), "the lost attempt, then the retry that wrote it again");
    assert_eq!(found.deduplicated_retries, 0);
}

#[test]
fn each_cause_is_told_apart() {
    let attempts = [
        attempt(0, -1, -1, Some((0, 0)), Some(Effect::ErrorAfterWrite { error_code: 6 })),
        attempt(0, -1, -1, Some((0, 1)), None),
        attempt(0, -1, -1, Some((0, 2)), None),
        // Never forwarded: no write, so never the cause of a copy.
        attempt(0, -1, -1, None, Some(Effect::ErrorInstead { error_code: 6 })),
    ];
    // seq 0 at 0 and 1 (error after write), seq 1 at 2 and 3 (3 not in a seen attempt,
    // 2's response left the proxy untouched), seq 2 at 5 and 6 (5 never seen).
    let found = attribute("t", &copies(&[(0, &[0, 1]), (1, &[2, 3]), (2, &[5, 6])]), &attempts);
    let expected: BTreeMap<String, u64> = [
        ("error 6 after the write (kafka_error)".to_string(), 1),
        ("response not delivered (no Kafka toxic on it)".to_string(), 1),
        ("first write not seen by the proxy".to_string(), 1),
    ]
    .into();
    assert_eq!(found.duplicates_by_cause, expected);
    assert_eq!(attribute("other", &copies(&[]), &attempts).attempts, 0, "attempts are the topic's");
}

#[test]
fn a_record_written_three_times_counts_two_causes() {
    let attempts = [
        attempt(0, -1, -1, Some((0, 0)), Some(Effect::ResponseLost)),
        attempt(1, -1, -1, Some((0, 1)), Some(Effect::ResponseLost)),
        attempt(2, -1, -1, Some((0, 2)), None),
    ];
    let found = attribute("t", &copies(&[(0, &[0, 1, 2])]), &attempts);
    assert_eq!(found.duplicates_by_cause, [("acknowledgement lost (kafka_ack_loss)".to_string(), 2)].into());
    assert_eq!(found.example.unwrap().attempts.len(), 3);
}

#[test]
fn idempotent_retries_the_broker_recognised_are_deduplicated() {
    // Kafka answers the retry with the first write's offset; tansu with
    // DUPLICATE_SEQUENCE_NUMBER; a new sequence is a new batch.
    let attempts = [
        attempt(0, 7, 0, Some((0, 0)), Some(Effect::ResponseLost)),
        attempt(1, 7, 0, Some((0, 0)), None),
        attempt(1, 7, 1, Some((0, 1)), Some(Effect::ResponseLost)),
        attempt(2, 7, 1, Some((46, -1)), None),
        attempt(2, 7, 2, Some((0, 2)), None),
    ];
    let found = attribute("t", &copies(&[(0, &[0]), (1, &[1]), (2, &[2])]), &attempts);
    assert_eq!(found.deduplicated_retries, 2);
    assert!(found.duplicates_by_cause.is_empty());
    assert_eq!(found.example, None);
}

#[test]
fn each_producer_is_attributed_on_its_own_topic() {
    use crate::history::{ObservedRecord, ProducerHistory};
    let history = History {
        producers: vec![
            ProducerHistory { name: "plain".into(), topic: "t".into(), sends: Vec::new() },
            ProducerHistory { name: "idem".into(), topic: "u".into(), sends: Vec::new() },
        ],
    };
    let record = |topic, producer: &str, seq, offset| ObservedRecord { topic, producer: producer.into(), seq, partition: 0, offset };
    let observed = Observed {
        topics: vec!["t".into(), "u".into()],
        records: vec![record(0, "plain", 0, 1), record(0, "plain", 0, 0), record(1, "idem", 0, 0)],
        unreadable: 0,
    };
    let attempts = [attempt(0, -1, -1, Some((0, 0)), Some(Effect::ResponseLost)), attempt(1, -1, -1, Some((0, 1)), None)];
    let found = attribute_producers(&history, &observed, &attempts);
    assert_eq!(found["plain"].duplicates_by_cause.values().sum::<u64>(), 1);
    assert_eq!(found["plain"].example.as_ref().unwrap().written_at, [0, 1], "offsets in order");
    assert_eq!(found["idem"].attempts, 0);
    assert!(attribute_producers(&history, &observed, &[]).is_empty(), "no ledger, no attribution");
    assert_eq!(attempts[0].describe(), "kafka connection 0: 1 record(s), written at offset 0, response lost (kafka_ack_loss)");
}

#[test]
fn a_delay_past_the_timeout_is_told_by_its_stream() {
    let attempts = [
        attempt(0, -1, -1, Some((0, 0)), Some(Effect::Delayed { response: true, ms: 3000 })),
        attempt(1, -1, -1, Some((0, 1)), None),
        attempt(1, -1, -1, Some((0, 2)), Some(Effect::Delayed { response: false, ms: 3000 })),
        attempt(2, -1, -1, Some((0, 3)), None),
    ];
    let found = attribute("t", &copies(&[(0, &[0, 1]), (1, &[2, 3])]), &attempts);
    let expected: BTreeMap<String, u64> = [
        ("response delayed past the client's timeout (kafka_latency)".to_string(), 1),
        ("request delayed past the client's timeout (kafka_latency)".to_string(), 1),
    ]
    .into();
    assert_eq!(found.duplicates_by_cause, expected);
    let example = found.example.unwrap();
    assert!(example.attempts[0].describe().contains("response held back 3000 ms (kafka_latency)"), "{:?}", example.attempts[0].describe());
}
