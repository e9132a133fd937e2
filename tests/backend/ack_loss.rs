//! The curated ack-loss scenario (scenarios/kafka-ack-loss.toml: the 5th,
//! 15th and 25th Produce acknowledgement of each producer lost), with
//! `repeat` repeats on one backend: shared by the embedded, mock and
//! external tests here and the Apache Kafka ones in tests/backend_local.rs,
//! which includes this file.

use std::collections::BTreeMap;
use std::path::Path;

use faultlab::env::Backend;
use faultlab::harness::{self, Options};
use faultlab::report::{Repeat, ScenarioReport};
use faultlab::scenario;

/// The plain producer's duplicates by cause, as the report's wire
/// attribution names it (the toxic's type): all 3 from lost acknowledgements.
const PLAIN_CAUSE: &str = "acknowledgement lost (kafka_ack_loss)";

/// Both producers, every repeat: the plain one exactly 3 duplicates, each
/// attributed to its lost acknowledgement; the idempotent one none, its
/// retries recognised by the broker; nothing lost; every expectation holds.
pub async fn exact_counts(backend: Backend, repeats: u32) {
    exact_counts_with(Options { backend, ..Options::default() }, repeats).await;
}

/// [`exact_counts`] with `options`' backend and its flags; the report.
pub async fn exact_counts_with(options: Options, repeats: u32) -> ScenarioReport {
    let backend = options.backend;
    let report = run(options, repeats, &[]).await;
    assert!(report.backend.proxy.contains("Kafka mode"), "{:?}", report.backend);
    for repeat in &report.repeats {
        for (producer, duplicates) in [("plain", 3), ("idempotent", 0)] {
            assert_eq!(counts(repeat, producer), (40, duplicates, 0), "{producer} on {backend}");
        }
        let plain = &repeat.wire.get("plain").expect("the plain producer's wire attribution");
        let by_cause = BTreeMap::from([(PLAIN_CAUSE, 3)]);
        assert_eq!(plain.duplicates_by_cause.iter().map(|(c, n)| (c.as_str(), *n)).collect::<BTreeMap<_, _>>(), by_cause);
        let idempotent = repeat.wire.get("idempotent").expect("the idempotent producer's wire attribution");
        assert!(idempotent.duplicates_by_cause.is_empty(), "{idempotent:?}");
        // At least one per repeat. More than 3 when requests in flight
        // behind a lost acknowledgement (up to 5) lose their responses with
        // the closed connection and are retried too: 5 seen on tansu.
        assert!(idempotent.deduplicated_retries >= 1, "retries the broker recognised: {idempotent:?}");
    }
    assert!(report.passed(), "{backend}: {:#?}", report.expectations);
    report
}

/// (sent, duplicates, lost) of the plain producer alone in each repeat.
pub async fn plain_counts(backend: Backend, repeats: u32) -> Vec<(u64, u64, u64)> {
    let report = run(Options { backend, ..Options::default() }, repeats, &["plain"]).await;
    report.repeats.iter().map(|r| counts(r, "plain")).collect()
}

/// The scenario on `options`' backend (only the producers in `only`, all
/// when empty): every repeat ran, every toxic played and removed without a note.
async fn run(options: Options, repeats: u32, only: &[&str]) -> ScenarioReport {
    let backend = options.backend;
    let scenario = scenario::load(Path::new("scenarios/kafka-ack-loss.toml")).expect("the scenario file is valid");
    let only = only.iter().map(|p| p.to_string()).collect();
    let options = Options { repeat: Some(repeats), only, ..options };
    let report = harness::run_scenario(&scenario, &options).await.result().unwrap_or_else(|e| panic!("on {backend}: {e}"));
    assert_eq!(report.repeats.len(), repeats as usize, "every repeat ran");
    for repeat in &report.repeats {
        for window in &repeat.faults {
            assert!(window.added_at.is_some() && window.removed_at.is_some() && window.notes.is_empty(), "{window:?}");
        }
    }
    let counts: Vec<Vec<(&str, u64, u64, u64)>> =
        report.repeats.iter().map(|r| r.verdicts.iter().map(|v| (v.producer.as_str(), v.sent, v.duplicates, v.lost)).collect()).collect();
    eprintln!("on {backend} ({}), (producer, sent, duplicates, lost) per repeat: {counts:?}", report.backend.proxy);
    report
}

fn counts(repeat: &Repeat, producer: &str) -> (u64, u64, u64) {
    let v = repeat.verdicts.iter().find(|v| v.producer == producer).expect("the producer ran");
    (v.sent, v.duplicates, v.lost)
}
