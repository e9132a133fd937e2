//! The ack-loss scenario with exact answers (tests/backend/ack-loss.toml),
//! run with `repeat` repeats on one backend, one producer at a time: shared
//! by the embedded test here and the Apache Kafka one in
//! tests/backend_local.rs, which includes this file.

use std::path::Path;

use faultlab::env::Backend;
use faultlab::harness::{self, Options};
use faultlab::scenario;

/// Every repeat of the plain producer has exactly 3 duplicates (one per
/// lost acknowledgement), every repeat of the idempotent one none; no
/// message lost; every toxic played and removed without a note.
pub async fn exact_counts(backend: Backend, repeats: u32) {
    for (producer, duplicates) in [("plain", 3), ("idempotent", 0)] {
        let counts = counts(backend, producer, repeats).await;
        assert!(counts.iter().all(|c| *c == (40, duplicates, 0)), "{producer} on {backend}: (sent, duplicates, lost) {counts:?}");
    }
}

/// (sent, duplicates, lost) of `producer` alone in each of `repeats`
/// repeats on `backend`, its proxy in Kafka mode and every toxic played
/// and removed without a note.
pub async fn counts(backend: Backend, producer: &str, repeats: u32) -> Vec<(u64, u64, u64)> {
    let scenario = scenario::load(Path::new("tests/backend/ack-loss.toml")).expect("the scenario file is valid");
    let options = Options { backend, repeat: Some(repeats), only: vec![producer.into()], ..Options::default() };
    let report = harness::run_scenario(&scenario, &options).await.result().unwrap_or_else(|e| panic!("{producer} on {backend}: {e}"));
    assert!(report.backend.proxy.contains("Kafka mode"), "{:?}", report.backend);
    assert_eq!(report.repeats.len(), repeats as usize, "{producer}: every repeat ran");
    for repeat in &report.repeats {
        for window in &repeat.faults {
            assert!(window.added_at.is_some() && window.removed_at.is_some() && window.notes.is_empty(), "{window:?}");
        }
    }
    let counts: Vec<(u64, u64, u64)> = report
        .repeats
        .iter()
        .map(|r| {
            let v = r.verdicts.iter().find(|v| v.producer == producer).expect("the producer ran");
            (v.sent, v.duplicates, v.lost)
        })
        .collect();
    eprintln!("{producer} on {backend}, (sent, duplicates, lost) per repeat: {counts:?}");
    counts
}
