//! The curated library: every file in scenarios/ runs on the embedded
//! backend (real broker, real proxy, real producers) and every `required`
//! expectation in it holds. Demonstrations that do not show are printed,
//! not failed, exactly as `faultlab run` treats them.

use std::path::PathBuf;

use faultlab::harness::{self, Options};
use faultlab::scenario;
use rstest::rstest;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curated_scenario_meets_its_required_expectations(#[files("scenarios/*.toml")] path: PathBuf) {
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = harness::run_scenario(&scenario, &Options::default()).await.result().unwrap_or_else(|e| panic!("{e}"));
    for result in &report.expectations {
        eprintln!(
            "{} {} {} {}: measured {:?} ({})",
            scenario.name,
            result.producer,
            result.metric,
            result.expected,
            result.measured,
            if result.held { "held" } else { "did not hold" }
        );
    }
    let failed: Vec<_> = report.expectations.iter().filter(|e| e.fails_run()).collect();
    assert!(failed.is_empty(), "{}: required expectations failed: {failed:#?}", path.display());
}
