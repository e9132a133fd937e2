//! The headline demonstration, on the embedded backend (real tansu broker,
//! real TCP proxy, real librdkafka producers): responses delayed past
//! socket.timeout.ms make the plain producer write duplicates and the
//! idempotent producer none.

use std::path::Path;

use faultlab::harness::{self, Options};
use faultlab::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_duplicates_and_idempotent_does_not() {
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let report = harness::run_scenario(&scenario, &Options::default()).await.result().expect("the scenario runs");
    let repeat = &report.repeats[0];
    let verdict = |name: &str| repeat.verdicts.iter().find(|v| v.producer == name).expect("producer ran").clone();
    let (plain, idempotent) = (verdict("plain"), verdict("idempotent"));
    eprintln!("plain: {plain:?}\nidempotent: {idempotent:?}");

    assert_eq!(plain.sent, 1000);
    assert_eq!(idempotent.sent, 1000);
    assert!(plain.duplicates > 0, "the plain producer retried into duplicates");
    assert_eq!(idempotent.duplicates, 0, "the broker deduplicated the idempotent retries");
    assert_eq!(idempotent.lost, 0, "nothing acked was lost");
    let timeouts: u64 = repeat.producers.iter().map(|p| p.events.request_timeouts).sum();
    assert!(timeouts > 0, "the fault made librdkafka time requests out");
    assert!(report.passed(), "every required expectation of the file held: {:?}", report.expectations);
}
