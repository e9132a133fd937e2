//! Running scenarios end to end: environment, repeats, audit, expectations.

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::audit::audit;
use crate::audit::history::History;
use crate::check::check;
use crate::env::{self, Backend};
use crate::report::series::series;
use crate::report::{Repeat, RunReport, ScenarioReport};
use crate::run::progress::Progress;
use crate::run::run_once;
use crate::run::timeline::FaultWindow;
use crate::scenario::Scenario;

/// The width of the time buckets the report's charts count acks in.
const SERIES_BUCKET: std::time::Duration = std::time::Duration::from_millis(100);

/// Choices made on the command line that override the scenario file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub backend: Backend,
    /// Flags of the docker and external backends.
    pub backend_config: env::BackendConfig,
    pub seed: Option<u64>,
    pub repeat: Option<u32>,
    /// Run only these producers (all when empty).
    pub only: Vec<String>,
    /// Draw live progress on stderr (when it is a terminal).
    pub progress: bool,
    /// Cancelled to stop early (Ctrl-C): the run in progress removes its
    /// toxics, reads back what was written, and the report says interrupted.
    pub interrupt: CancellationToken,
}

/// Whether the scenarios can run on the chosen backend with the flags
/// given; checked before anything starts. The message says what is missing.
///
/// A scenario whose `backends` leaves this backend out is not checked: it
/// is skipped when its turn comes. Every other one must only ask for
/// faults the backend can play, and for brokers it can start.
pub fn check_backend(scenarios: &[Scenario], options: &Options) -> Result<(), String> {
    let backend = options.backend.name();
    for scenario in scenarios.iter().filter(|s| s.runs_on(backend)) {
        if let Some(fault) = scenario.unplayable_on(backend) {
            return Err(format!(
                "{}: fault `{}` ({}) cannot be played on the {backend} backend; backends that can play it: {}. \
                 Run it with --backend {}, or add `backends = [...]` to the file to have it skipped elsewhere.",
                scenario.source.display(),
                fault.name,
                fault.kind.type_name(),
                fault.kind.backends().join(", "),
                fault.kind.backends().first().copied().unwrap_or("mock"),
            ));
        }
        if let Some(max) = options.backend.max_brokers().filter(|max| scenario.brokers > *max) {
            return Err(format!(
                "{}: brokers = {} but the {backend} backend has {max} broker{}; backends that start several: {}",
                scenario.source.display(),
                scenario.brokers,
                if max == 1 { "" } else { "s" },
                Backend::several_brokers().join(", "),
            ));
        }
    }
    env::check_flags(options.backend, &options.backend_config)
}

/// Run every scenario in turn, each on a fresh environment. A scenario
/// that cannot run (its environment does not start, a run fails) carries
/// its error in its report and the others still run; only an unplayable
/// plan ([`check_backend`]) stops everything before it starts.
pub async fn run_all(scenarios: &[Scenario], options: &Options) -> anyhow::Result<RunReport> {
    check_backend(scenarios, options).map_err(anyhow::Error::msg)?;
    let started_at = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let mut reports = Vec::new();
    for scenario in scenarios {
        if options.interrupt.is_cancelled() {
            break;
        }
        let report = run_scenario(scenario, options).await;
        if let Some(error) = &report.error {
            tracing::error!("scenario {}: {error}", scenario.name);
        }
        reports.push(report);
    }
    let mut report = RunReport::new(reports, started_at);
    report.interrupted = options.interrupt.is_cancelled();
    Ok(report)
}

/// Run one scenario `repeat` times on one environment and check its
/// expectations. Whatever goes wrong is the report's `error`, with the
/// repeats that completed before it.
pub async fn run_scenario(scenario: &Scenario, options: &Options) -> ScenarioReport {
    let seed = options.seed.or(scenario.seed).unwrap_or_else(|| rand::rng().random());
    let mut scenario = match restrict(scenario, &options.only) {
        Ok(restricted) => restricted,
        Err(e) => return not_run(scenario.clone(), options.backend, seed, format!("{e:#}")),
    };
    if !scenario.runs_on(options.backend.name()) {
        return skipped(scenario, options.backend);
    }
    let backend = options.backend.name();
    scenario.expect.retain(|e| e.applies_on(backend));
    let repeats = options.repeat.unwrap_or(scenario.repeat).max(1);
    let proxy = env::ProxyMode::for_toxics(scenario.faults.iter().filter_map(crate::scenario::Fault::toxic));
    let env = match env::start(options.backend, &options.backend_config, scenario.brokers, seed, proxy).await {
        Ok(env) => env,
        Err(e) => return not_run(scenario, options.backend, seed, format!("starting the {} backend: {e:#}", options.backend.name())),
    };

    let mut runs = Vec::new();
    let mut error = None;
    let mut fault_notes = Vec::new();
    for repeat in 0..repeats {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        tracing::info!("{}: run {}/{} ({run_id})", scenario.name, repeat + 1, repeats);
        if let Err(e) = env.faults.clear().await {
            error = Some(format!("clearing the faults before run {}: {e:#}", repeat + 1));
            break;
        }
        let names: Vec<&str> = scenario.producers.iter().map(|p| p.name.as_str()).collect();
        let title = format!("{} (run {}/{repeats}, {run_id}) on {}", scenario.name, repeat + 1, env.info.backend);
        let progress = options.progress.then(|| Progress::new(&title, &names, scenario.workload.messages));
        let output = run_once(&scenario, &env, &run_id, progress.as_ref(), &options.interrupt).await;
        if let Some(progress) = &progress {
            progress.clear();
        }
        // A client whose connection the front failed rather than let it
        // around the proxy saw faults no scenario asked for: the run fails
        // with the front's reasons, whatever else went wrong.
        let refused = env.refusals.as_ref().and_then(|r| r.explain());
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                let refused = refused.map(|r| format!("; {r}")).unwrap_or_default();
                error = Some(format!("run {} ({run_id}): {e:#}{refused}", repeat + 1));
                break;
            }
        };
        if let Some(refused) = refused {
            error = Some(format!("run {} ({run_id}): {refused}", repeat + 1));
        } else if let Some(around) = around_the_proxy(&env.around_the_proxy, &output.faults) {
            error = Some(format!("run {} ({run_id}): {around}", repeat + 1));
        } else if let Some(idle) = idle_kafka_toxics(&output.faults, &output.history, output.producing) {
            error = Some(format!("run {} ({run_id}): {idle}", repeat + 1));
        }
        for window in &output.faults {
            fault_notes.extend(window.notes.iter().map(|note| format!("run {run_id}: fault {}: {note}", window.fault.name)));
        }
        runs.push(Repeat {
            series: series(&output.history, &output.observed, SERIES_BUCKET),
            run_id: output.run_id,
            verdicts: audit(&output.history, &output.observed),
            wire: crate::audit::wire::attribute_producers(&output.history, &output.observed, &output.wire),
            faults: output.faults,
            producers: output.producers,
            producing_ms: output.producing.as_millis() as u64,
        });
        if output.interrupted || error.is_some() {
            break;
        }
    }
    // Leave nothing behind, on a user's Toxiproxy above all.
    if let Err(e) = env.faults.clear().await {
        let cleanup = format!("removing the faults after the last run failed, some may still be in force: {e:#}");
        error = Some(error.map_or(cleanup.clone(), |first| format!("{first}; {cleanup}")));
    }
    let verdicts: Vec<_> = runs.iter().map(|r| r.verdicts.clone()).collect();
    ScenarioReport {
        expectations: check(&scenario.expectations(), &verdicts),
        notes: options
            .backend
            .notes()
            .iter()
            .map(|n| n.to_string())
            .chain(brokers_note(&scenario, options.backend))
            .chain(env.notes.iter().cloned())
            .chain(fault_notes)
            .collect(),
        seed,
        backend: env.info.clone(),
        repeats: runs,
        source: scenario.source.clone(),
        scenario,
        error,
    }
}

/// Brokers whose clients go around every proxy while a fault was in
/// force: their traffic crossed no fault, so the run's counts say nothing
/// of it. None when every broker is behind a proxy or no fault played.
fn around_the_proxy(brokers: &[String], faults: &[FaultWindow]) -> Option<String> {
    (!brokers.is_empty() && faults.iter().any(|w| w.added_at.is_some())).then(|| {
        format!(
            "{}, the listen port of no proxy: clients reach {} around the proxy, so the faults in force never touched \
             that traffic and the counts are not the scenario's. Point the broker's advertised listener at its proxy listener.",
            brokers.join("; "),
            if brokers.len() == 1 { "it" } else { "them" }
        )
    })
}

/// The Kafka toxics that never matched a request while messages were in
/// flight: their fault did not happen, so the run's counts say nothing of
/// it. None when every Kafka toxic matched (or none counts: Toxiproxy's).
fn idle_kafka_toxics(faults: &[FaultWindow], history: &History, producing: std::time::Duration) -> Option<String> {
    let idle: Vec<String> = faults
        .iter()
        .filter_map(|window| {
            let requests = window.requests.filter(|r| r.matched == 0)?;
            let (added, removed) = (window.added_at?, window.removed_at.unwrap_or(producing));
            let in_flight = history.producers.iter().flat_map(|p| &p.sends).any(|s| s.sent_at <= removed && s.done_at >= added);
            let cause = if requests.seen == 0 {
                "no Kafka request crossed its proxy while it was in force: the clients reached the broker another way"
            } else {
                "its aim takes in none of the requests it saw: check api_key, client_id (a producer's is its name unless \
                 its settings give client.id), topic and partition"
            };
            in_flight.then(|| {
                format!(
                    "fault `{}` ({}): the toxic never saw a matching request (it saw {} Kafka frames and matched none); likely \
                     cause: {cause}",
                    window.fault.name,
                    window.fault.kind.type_name(),
                    requests.seen
                )
            })
        })
        .collect();
    (!idle.is_empty()).then(|| idle.join("; "))
}

/// The report of a scenario not meant for this backend (its `backends`
/// leaves it out): nothing ran, nothing failed, a note says why.
fn skipped(scenario: Scenario, backend: Backend) -> ScenarioReport {
    let note = format!(
        "skipped: {} is meant for backends {} (its `backends`), and this run is on {}; nothing ran.",
        scenario.source.display(),
        scenario.backends.join(", "),
        backend.name()
    );
    eprintln!("{note}");
    let seed = scenario.seed.unwrap_or(0);
    ScenarioReport { notes: vec![note], ..nothing_ran(scenario, backend, seed) }
}

/// The report of a scenario that could not start: `error` says why.
fn not_run(scenario: Scenario, backend: Backend, seed: u64, error: String) -> ScenarioReport {
    ScenarioReport { error: Some(error), ..nothing_ran(scenario, backend, seed) }
}

/// A report with no run and no environment, for [`skipped`] and [`not_run`].
fn nothing_ran(scenario: Scenario, backend: Backend, seed: u64) -> ScenarioReport {
    let unknown = "not started".to_string();
    ScenarioReport {
        expectations: Vec::new(),
        notes: Vec::new(),
        seed,
        backend: env::BackendInfo {
            backend: backend.name().to_string(),
            broker: unknown.clone(),
            broker_version: unknown.clone(),
            proxy: unknown.clone(),
            proxy_version: unknown,
            client: format!("librdkafka {}", env::librdkafka_version()),
        },
        repeats: Vec::new(),
        source: scenario.source.clone(),
        scenario,
        error: None,
    }
}

/// A backend that takes the cluster as it is (external): a scenario's
/// `brokers` is noted, not enforced.
fn brokers_note(scenario: &Scenario, backend: Backend) -> Option<String> {
    (backend.max_brokers().is_none() && scenario.brokers > 1).then(|| {
        format!(
            "the scenario asks for {} brokers; the {backend} backend runs on your cluster as it is, whatever its size.",
            scenario.brokers
        )
    })
}

/// The scenario with only the producers named in `only` (and their
/// expectations); the scenario unchanged when `only` is empty.
fn restrict(scenario: &Scenario, only: &[String]) -> anyhow::Result<Scenario> {
    let mut scenario = scenario.clone();
    if only.is_empty() {
        return Ok(scenario);
    }
    let names: Vec<&str> = scenario.producers.iter().map(|p| p.name.as_str()).collect();
    if let Some(unknown) = only.iter().find(|o| !names.contains(&o.as_str())) {
        anyhow::bail!("--only {unknown}: {} has no such producer (it has: {})", scenario.source.display(), names.join(", "));
    }
    // A Kafka toxic aimed at a producer left out has nothing to act on.
    let left_out: Vec<String> = names.iter().filter(|n| !only.iter().any(|o| o == *n)).map(|n| n.to_string()).collect();
    scenario
        .faults
        .retain(|f| f.toxic().and_then(|t| t.kind.aim().map(|aim| aim.client_id.clone())).is_none_or(|c| !left_out.contains(&c)));
    scenario.producers.retain(|p| only.contains(&p.name));
    scenario.expect.retain(|e| only.contains(&e.producer));
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn scenario(top: &str, faults: &str) -> Scenario {
        let text = format!(
            "name = \"x\"\ndescription = \"d\"\n{top}[workload]\nmessages = 10\n[[producers]]\nname = \"p\"\npreset = \"plain\"\n{faults}"
        );
        crate::scenario::parse(&text, Path::new("scenarios/x.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn on(backend: Backend) -> Options {
        let backend_config = env::BackendConfig {
            bootstrap: Some("127.0.0.1:9092".into()),
            toxiproxy: Some("http://127.0.0.1:8474".into()),
            ..Default::default()
        };
        Options { backend, backend_config, ..Options::default() }
    }

    /// Which backend plays which fault, as the README's table says.
    #[test]
    fn each_backend_refuses_the_faults_it_cannot_play() {
        let fault = |t: &str, a: &str| format!("[[faults]]\ntype = \"{t}\"\nat = \"1s\"\n{a}");
        let cases: [(&str, &str, &[Backend]); 8] = [
            ("latency", "", &Backend::ALL),
            ("proxy_down", "", &Backend::ALL),
            ("broker_down", "attributes = { broker = 1 }\n", &[Backend::Mock, Backend::Docker, Backend::Local]),
            ("broker_pause", "attributes = { broker = 1 }\n", &[Backend::Docker, Backend::Local]),
            ("broker_rtt", "attributes = { broker = 1, rtt = 100 }\n", &[Backend::Mock, Backend::Docker, Backend::Local]),
            ("request_errors", "attributes = { request = \"produce\", errors = [\"transport\"] }\n", &[Backend::Mock]),
            ("leader_change", "attributes = { broker = 1 }\n", &[Backend::Mock, Backend::Local]),
            // Docker's proxy is the Toxiproxy image: no Kafka toxics.
            ("kafka_ack_loss", "attributes = { nth = 1 }\n", &[Backend::Embedded, Backend::Mock, Backend::External, Backend::Local]),
        ];
        for (type_name, attributes, able) in cases {
            let s = scenario("", &fault(type_name, attributes));
            for backend in Backend::ALL {
                let result = check_backend(std::slice::from_ref(&s), &on(backend));
                if able.contains(&backend) {
                    assert!(result.is_ok(), "{type_name} on {backend:?}: {result:?}");
                } else {
                    let error = result.unwrap_err();
                    for words in
                        ["scenarios/x.toml", type_name, &format!("on the {} backend", backend.name()), "backends that can play it: "]
                    {
                        assert!(error.contains(words), "`{words}` missing from: {error}");
                    }
                    assert!(error.contains(&able.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ")), "{error}");
                }
            }
        }
    }

    /// Framing only when a fault needs it: plain proxies keep their splice.
    #[test]
    fn only_a_kafka_toxic_asks_for_kafka_frames() {
        let fault = |t: &str, a: &str| format!("[[faults]]\ntype = \"{t}\"\nat = \"1s\"\n{a}");
        let plain = scenario("", &[fault("latency", ""), fault("proxy_down", "")].concat());
        assert_eq!(env::ProxyMode::for_toxics(plain.faults.iter().filter_map(crate::scenario::Fault::toxic)), env::ProxyMode::Bytes);
        assert_eq!(env::ProxyMode::for_toxics(std::iter::empty()), env::ProxyMode::Bytes);
        for kafka in ["kafka_ack_loss", "kafka_error", "kafka_latency"] {
            let s = scenario("", &[fault("latency", ""), fault(kafka, "")].concat());
            assert_eq!(
                env::ProxyMode::for_toxics(s.faults.iter().filter_map(crate::scenario::Fault::toxic)),
                env::ProxyMode::KafkaFrames,
                "{kafka}"
            );
        }
    }

    #[test]
    fn a_scenario_for_other_backends_is_skipped_not_refused() {
        let s = scenario("backends = [\"docker\"]\n", "[[faults]]\ntype = \"broker_pause\"\nat = \"1s\"\nattributes = { broker = 1 }\n");
        assert!(check_backend(std::slice::from_ref(&s), &on(Backend::Embedded)).is_ok());
        let report = skipped(s, Backend::Embedded);
        assert!(report.skipped() && report.passed(), "{:?}", report.notes);
        assert!(report.notes[0].contains("skipped") && report.notes[0].contains("docker"), "{:?}", report.notes);
    }

    #[test]
    fn brokers_beyond_a_backend_are_refused_or_noted() {
        let s = scenario("brokers = 3\n", "");
        let error = check_backend(std::slice::from_ref(&s), &on(Backend::Embedded)).unwrap_err();
        assert!(error.contains("brokers = 3") && error.contains("embedded backend has 1 broker"), "{error}");
        for backend in [Backend::Mock, Backend::Docker, Backend::Local, Backend::External] {
            assert!(check_backend(std::slice::from_ref(&s), &on(backend)).is_ok(), "{backend:?}");
        }
        assert!(brokers_note(&s, Backend::External).is_some_and(|n| n.contains("3 brokers")));
        assert_eq!(brokers_note(&s, Backend::Mock), None);
    }

    /// A Kafka toxic that matched nothing while messages were in flight
    /// fails the run, saying why it likely did; one that matched, or was
    /// in force while nothing was in flight, does not.
    #[test]
    fn a_kafka_toxic_that_never_matched_fails_the_run_with_its_likely_cause() {
        use std::time::Duration;

        use crate::audit::history::{Outcome, ProducerHistory, SendRecord};
        use crate::proxy::Requests;

        let s = scenario("", "[[faults]]\nname = \"lost\"\ntype = \"kafka_ack_loss\"\nat = \"1s\"\nattributes = { nth = 5 }\n");
        let ms = Duration::from_millis;
        let window = |requests: Requests| FaultWindow {
            fault: s.faults[0].clone(),
            added_at: Some(ms(1000)),
            removed_at: Some(ms(2000)),
            notes: Vec::new(),
            requests: Some(requests),
        };
        let sent = |at: u64| History {
            producers: vec![ProducerHistory {
                name: "p".into(),
                topic: "t".into(),
                sends: vec![SendRecord { seq: 0, sent_at: ms(at), done_at: ms(at + 10), outcome: Outcome::Unknown }],
            }],
        };
        let idle = |requests, history: &History| idle_kafka_toxics(&[window(requests)], history, ms(3000));
        let nothing = Requests { seen: 0, matched: 0, acted: 0 };
        let error = idle(nothing, &sent(1500)).expect("fails");
        assert!(error.contains("fault `lost` (kafka_ack_loss): the toxic never saw a matching request"), "{error}");
        assert!(error.contains("the clients reached the broker another way"), "{error}");
        let unaimed = idle(Requests { seen: 40, matched: 0, acted: 0 }, &sent(1500)).expect("fails");
        assert!(unaimed.contains("saw 40 Kafka frames") && unaimed.contains("check api_key, client_id"), "{unaimed}");
        assert_eq!(idle(Requests { seen: 40, matched: 9, acted: 1 }, &sent(1500)), None);
        assert_eq!(idle(nothing, &sent(2500)), None, "nothing was in flight while it was in force");
    }
}
