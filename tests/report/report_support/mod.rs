//! A hand-built [`RunReport`] for the report tests (`mod report_support;`
//! in each `tests/report_*.rs` that needs it).
//!
//! Three scenarios:
//! - `response-delay`: one run, plain vs idempotent, plain writes 500
//!   duplicates during a 3 s latency fault (its chart series, from a
//!   hand-made history, marks 100); every expectation holds.
//! - `course-request-timeout`: two runs; producers `plain|acks=1` (a pipe in
//!   the name, as a report may carry it) and `idempotent`; the plain
//!   duplicates demonstration does not show (0, 0) and the required
//!   `idempotent: lost 0` fails in run 2 (0, 3).
//! - `never-ran`: no run completed; its one required expectation fails.

use std::path::Path;
use std::time::Duration;

use faultlab::audit::history::{History, Observed, ObservedRecord, Outcome, ProducerHistory, SendRecord};
use faultlab::audit::{LatencySummary, Verdict};
use faultlab::check::check;
use faultlab::env::BackendInfo;
use faultlab::report::series::series;
use faultlab::report::{Repeat, RunReport, ScenarioReport};
use faultlab::run::ProducerRun;
use faultlab::run::producer::ClientEvents;
use faultlab::run::timeline::FaultWindow;
use faultlab::scenario::{Scenario, parse};

pub const PIPE_PRODUCER: &str = "plain|acks=1";

fn scenario(toml: &str) -> Scenario {
    parse(toml, Path::new("fixture.toml")).expect("fixture scenario parses")
}

const RESPONSE_DELAY: &str = r#"
name = "response-delay"
description = "Broker responses are delayed past the socket timeout."
observe = "Compare the duplicates row."
[workload]
messages = 1000
[client]
"socket.timeout.ms" = 2000
[[producers]]
name = "plain"
preset = "plain"
[[producers]]
name = "idempotent"
preset = "idempotent"
[[faults]]
type = "latency"
at = "1.5s"
duration = "3s"
attributes = { latency = 3000 }
[[expect]]
producer = "plain"
duplicates = ">= 1"
level = "demonstration"
[[expect]]
producer = "idempotent"
duplicates = 0
lost = 0
"#;

const COURSE: &str = r#"
name = "course-request-timeout"
description = "The course's settings: request.timeout.ms only."
[workload]
messages = 100
[client]
"request.timeout.ms" = 1000
[[producers]]
name = "plain"
preset = "plain"
[[producers]]
name = "idempotent"
preset = "idempotent"
[[faults]]
type = "latency"
at = "1s"
duration = "2s"
attributes = { latency = 1500 }
[[expect]]
producer = "plain"
duplicates = ">= 1"
level = "demonstration"
[[expect]]
producer = "idempotent"
lost = 0
"#;

const NEVER_RAN: &str = r#"
name = "never-ran"
description = "Its broker never started."
[workload]
messages = 10
[[producers]]
name = "plain"
preset = "plain"
[[expect]]
producer = "plain"
lost = 0
"#;

pub fn verdict(producer: &str, sent: u64, duplicates: u64, lost: u64, p99_ms: f64) -> Verdict {
    Verdict {
        producer: producer.to_string(),
        sent,
        acked: sent - lost.min(sent),
        failed: 0,
        possibly_persisted: 2,
        unknown: 0,
        duplicates,
        lost,
        phantom: 0,
        persisted_after_failure: 1,
        reordered: 4,
        offset_mismatch: lost,
        acked_without_offset: 3,
        unexpected: 0,
        latency: LatencySummary { count: sent, p50_ms: 504.0, p99_ms, max_ms: p99_ms + 50.0 },
    }
}

pub fn backend() -> BackendInfo {
    BackendInfo {
        backend: "embedded".into(),
        broker: "tansu-broker (in process, memory storage)".into(),
        broker_version: "0.6.0".into(),
        proxy: "faultlab proxy (in process)".into(),
        proxy_version: "0.1.0".into(),
        client: "librdkafka 2.12.1".into(),
    }
}

fn producer_runs(scenario: &Scenario) -> Vec<ProducerRun> {
    scenario
        .producers
        .iter()
        .map(|p| ProducerRun {
            name: p.name.clone(),
            topic: format!("{}.{}", scenario.name, p.name),
            client: Some(p.client),
            client_version: "2.12.1".into(),
            settings: scenario.effective_settings(p),
            events: ClientEvents { request_timeouts: 2, disconnects: 1, message_timeouts: 0, samples: vec![] },
        })
        .collect()
}

/// A history for the charts: each producer sends `n` messages 5 ms apart;
/// those sent while a fault holds responses (1.5 s to 4.5 s) are acked in
/// a burst when it ends, the others 5 ms after sending. The first
/// producer's messages with a seq in `dups` are observed twice.
pub fn history(names: &[&str], n: u64, dups: std::ops::Range<u64>) -> (History, Observed) {
    let mut history = History::default();
    let mut observed = Observed::default();
    for (i, name) in names.iter().enumerate() {
        let topic = format!("t-{name}");
        observed.topics.push(topic.clone());
        let sends = (0..n)
            .map(|seq| {
                let sent = seq * 5;
                let done = if (1500..4500).contains(&sent) { 4500 + (sent - 1500) / 10 } else { sent + 5 };
                SendRecord {
                    seq,
                    sent_at: Duration::from_millis(sent),
                    done_at: Duration::from_millis(done),
                    outcome: Outcome::Acked { partition: 0, offset: Some(seq as i64) },
                }
            })
            .collect();
        history.producers.push(ProducerHistory { name: name.to_string(), topic, sends });
        for seq in 0..n {
            let copies = if i == 0 && dups.contains(&seq) { 2 } else { 1 };
            for _ in 0..copies {
                let offset = observed.records.len() as i64;
                observed.records.push(ObservedRecord { topic: i as u32, producer: name.to_string(), seq, partition: 0, offset });
            }
        }
    }
    (history, observed)
}

fn window(scenario: &Scenario, added_ms: u64, removed_ms: u64) -> Vec<FaultWindow> {
    scenario
        .faults
        .iter()
        .map(|f| FaultWindow {
            fault: f.clone(),
            added_at: Some(Duration::from_millis(added_ms)),
            removed_at: Some(Duration::from_millis(removed_ms)),
            notes: Vec::new(),
            requests: None,
        })
        .collect()
}

fn scenario_report(scenario: Scenario, repeats: Vec<Repeat>, notes: Vec<String>) -> ScenarioReport {
    let verdicts: Vec<Vec<Verdict>> = repeats.iter().map(|r| r.verdicts.clone()).collect();
    ScenarioReport {
        expectations: check(&scenario.expectations(), &verdicts),
        seed: 7,
        backend: backend(),
        repeats,
        notes,
        source: scenario.source.clone(),
        scenario,
        error: None,
    }
}

/// The three-scenario report described at the top of this file.
pub fn report() -> RunReport {
    let delay = scenario(RESPONSE_DELAY);
    let (h, o) = history(&["plain", "idempotent"], 1000, 300..400);
    let one = Repeat {
        run_id: "a1b2c3d4".into(),
        verdicts: vec![verdict("plain", 1000, 500, 0, 2953.0), verdict("idempotent", 1000, 0, 0, 2959.0)],
        faults: window(&delay, 1501, 4500),
        producers: producer_runs(&delay),
        producing_ms: 5230,
        series: series(&h, &o, Duration::from_millis(100)),
        wire: Default::default(),
    };
    let delay = scenario_report(delay, vec![one], vec![]);

    let mut course = scenario(COURSE);
    course.producers[0].name = PIPE_PRODUCER.to_string();
    course.expect[0].producer = PIPE_PRODUCER.to_string();
    let (h, o) = history(&[PIPE_PRODUCER, "idempotent"], 1000, 0..0);
    let repeats = [("run00001", 0, 1200), ("run00002", 3, 1350)]
        .into_iter()
        .map(|(id, lost, ms)| Repeat {
            run_id: id.into(),
            verdicts: vec![verdict(PIPE_PRODUCER, 100, 0, 0, 1100.0), verdict("idempotent", 100, 0, lost, 1200.0)],
            faults: window(&course, 1000, 3000),
            producers: producer_runs(&course),
            producing_ms: ms,
            series: series(&h, &o, Duration::from_millis(100)),
            wire: Default::default(),
        })
        .collect();
    let note = "librdkafka's MockCluster checks sequences only for transactional producers | beware".to_string();
    let course = scenario_report(course, repeats, vec![note]);

    let never = scenario_report(scenario(NEVER_RAN), vec![], vec![]);
    RunReport::new(vec![delay, course, never], "2025-01-02T03:04:05Z".to_string())
}
