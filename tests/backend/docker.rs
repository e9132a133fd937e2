//! The Docker backend for real: Apache Kafka and Toxiproxy containers.
//! Runs only where a Docker daemon answers; elsewhere each test prints why
//! it skipped and passes. (The containers' configuration is unit tested
//! without Docker in `env::docker`.)

use std::path::Path;

use faultlab::env::Backend;
use faultlab::env::docker;
use faultlab::harness::{self, Options};
use faultlab::scenario;

/// Print past the test harness's capture, so a passing run shows why it skipped.
fn skip(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// `true` when a daemon answers; otherwise prints the reason to skip.
async fn docker_answers(test: &str) -> bool {
    match docker::daemon().await {
        Ok(version) => {
            eprintln!("{test}: Docker {version} answers");
            true
        }
        Err(reason) => {
            skip(&format!("SKIPPED {test}: {reason}"));
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_delay_on_kafka_behind_toxiproxy() {
    if !docker_answers("response_delay_on_kafka_behind_toxiproxy").await {
        return;
    }
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let options = Options { backend: Backend::Docker, ..Options::default() };
    let report = harness::run_scenario(&scenario, &options).await.result().expect("the scenario runs on Docker");
    assert_eq!(report.backend.backend, "docker");
    assert_eq!(report.backend.broker_version, docker::parse_image(docker::KAFKA_IMAGE).unwrap().1);
    let repeat = &report.repeats[0];
    let verdict = |name: &str| repeat.verdicts.iter().find(|v| v.producer == name).expect("producer ran").clone();
    let (plain, idempotent) = (verdict("plain"), verdict("idempotent"));
    eprintln!("plain: {plain:?}\nidempotent: {idempotent:?}");
    assert!(plain.duplicates > 0, "the toxic went through Toxiproxy: the plain producer duplicated");
    assert_eq!(idempotent.duplicates, 0, "Kafka deduplicates idempotent retries");
    assert_eq!(idempotent.lost, 0);
    // The environment was dropped with the report: nothing of ours is left.
    assert_eq!(docker::remove_leftovers().await.expect("listing containers"), 0, "every container was removed on drop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_daemon_the_backend_says_so() {
    if docker::daemon().await.is_ok() {
        skip("SKIPPED without_a_daemon_the_backend_says_so: a Docker daemon answers here");
        return;
    }
    let scenario = scenario::load(Path::new("scenarios/response-delay.toml")).expect("the scenario file is valid");
    let options = Options { backend: Backend::Docker, ..Options::default() };
    let error = harness::run_scenario(&scenario, &options).await.result().expect_err("no daemon, no run");
    assert!(format!("{error:#}").contains("--backend docker needs a Docker daemon"), "{error:#}");
}
