//! Duplicates by cause: the attribution the audit makes from a proxy's
//! ledger, shown per producer in every report format, and absent when no
//! ledger was kept.

use super::report_support;

use faultlab::audit::wire::{self, BatchAttempt, BrokerAnswer, Effect, WireFault};
use faultlab::report::{html, markdown, terminal};

fn attempt(connection: u64, offset: i64, records: u32, lost: bool) -> BatchAttempt {
    BatchAttempt {
        proxy: "kafka".into(),
        connection,
        client_id: "plain".into(),
        topic: "t-plain".into(),
        partition: 0,
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        records,
        broker: Some(BrokerAnswer { error_code: 0, base_offset: offset }),
        fault: lost.then(|| WireFault { toxic: "kafka_ack_loss".into(), effect: Effect::ResponseLost }),
    }
}

#[test]
fn every_format_shows_duplicates_by_cause_with_an_example() {
    let mut report = report_support::report();
    let without = (terminal::render(&report), markdown::render(&report), html::render(&report));
    assert!(
        !without.0.contains("duplicates by cause")
            && !without.1.contains("Duplicates by cause")
            && !without.2.contains("Duplicates by cause")
    );

    // Message 1 written at 1 (acknowledgement lost), then again at 2 with message 2.
    let history = faultlab::audit::history::History {
        producers: vec![faultlab::audit::history::ProducerHistory { name: "plain".into(), topic: "t-plain".into(), sends: Vec::new() }],
    };
    let record = |seq, offset| faultlab::audit::history::ObservedRecord { topic: 0, producer: "plain".into(), seq, partition: 0, offset };
    let observed = faultlab::audit::history::Observed {
        topics: vec!["t-plain".into()],
        records: vec![record(0, 0), record(1, 1), record(1, 2), record(2, 3)],
        unreadable: 0,
    };
    let attempts = [attempt(0, 0, 1, false), attempt(0, 1, 1, true), attempt(1, 2, 2, false)];
    report.scenarios[0].repeats[0].wire = wire::attribute_producers(&history, &observed, &attempts);

    let text = terminal::render(&report);
    assert!(text.contains("duplicates by cause, plain: 1 duplicate(s): 1 acknowledgement lost (kafka_ack_loss)"), "{text}");
    assert!(text.contains("a record written at offsets 1, 2"), "{text}");
    assert!(text.contains("1. kafka connection 0: 1 record(s), written at offset 1, response lost (kafka_ack_loss)"), "{text}");
    assert!(text.contains("2. kafka connection 1: 2 record(s), written at offset 2"), "{text}");
    let md = markdown::render(&report);
    assert!(md.contains("#### Duplicates by cause"), "{md}");
    assert!(md.contains("- **plain**: 1 duplicate(s): 1 acknowledgement lost (kafka\\_ack\\_loss)"), "{md}");
    let page = html::render(&report);
    assert!(page.contains("<h3>Duplicates by cause</h3>") && page.contains("response lost (kafka_ack_loss)</li>"), "{page}");
    let json = serde_json::to_value(&report).unwrap();
    let plain = &json["scenarios"][0]["repeats"][0]["wire"]["plain"];
    assert_eq!(plain["duplicates_by_cause"]["acknowledgement lost (kafka_ack_loss)"], 1, "{plain}");
    assert_eq!(plain["example"]["attempts"].as_array().unwrap().len(), 2);
}
