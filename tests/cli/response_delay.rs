//! The headline demonstration, on the embedded backend (real tansu broker,
//! real TCP proxy, real librdkafka producers): responses delayed past
//! socket.timeout.ms make the plain producer write duplicates and the
//! idempotent producer none.

#[allow(dead_code)]
use crate::cli_support;

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

/// One scenario that cannot run does not lose the others: it carries its
/// error in every report format, the rest run and are reported, and the
/// exit code is 1. (Here it cannot run because `--only plain` names a
/// producer it does not have.)
#[test]
fn a_scenario_that_cannot_run_is_reported_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str, producer: &str| {
        format!(
            "name = \"{name}\"\ndescription = \"d\"\n[workload]\nmessages = 20\nrate = 100\n\
             [[producers]]\nname = \"{producer}\"\npreset = \"plain\"\n[[expect]]\nproducer = \"{producer}\"\nlost = 0\n"
        )
    };
    std::fs::write(dir.path().join("a-first.toml"), scenario("runs", "plain")).unwrap();
    std::fs::write(dir.path().join("b-second.toml"), scenario("cannot-run", "other")).unwrap();
    let out = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let outcome = cli_support::run(
        &mut cli_support::command(
            &[
                "run",
                &out("a-first.toml"),
                &out("b-second.toml"),
                "--only",
                "plain",
                "--junit",
                &out("r.xml"),
                "--markdown",
                &out("r.md"),
                "--json",
                &out("r.json"),
            ],
            dir.path(),
        ),
        std::time::Duration::from_secs(120),
        "two tiny scenarios on the embedded backend",
    );
    assert_eq!(outcome.code, Some(1), "{}", outcome.shown());
    assert!(outcome.stdout.contains("ERROR: The scenario did not run: --only plain"), "{}", outcome.shown());
    assert!(outcome.stdout.contains("FAILED: 1 of 2 scenarios"), "{}", outcome.shown());
    let junit = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(junit.contains("<error message=\"The scenario did not run: --only plain"), "{junit}");
    let markdown = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(markdown.contains("**The scenario did not run**: --only plain"), "{markdown}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["scenarios"][0]["repeats"].as_array().map(Vec::len), Some(1), "the first scenario ran");
    assert!(json["scenarios"][0].get("error").is_none());
    assert!(json["scenarios"][1]["error"].as_str().unwrap().contains("has no such producer"));
}
