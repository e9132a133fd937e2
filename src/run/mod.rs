//! Running a scenario once: producers send while the fault timeline plays,
//! then every topic is read back.

pub mod consume;
pub mod driver;
pub mod http;
pub mod java;
pub mod message;
pub mod producer;
pub mod progress;
pub mod timeline;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::audit::history::{History, Observed};
use crate::env::Environment;
use crate::scenario::{Client, ProducerSpec, Scenario, Workload};
use driver::RunProducer;
use http::{EmbeddedService, HttpProducer};
use message::{MessageValue, key_for};
use producer::{ClientEvents, RecordingProducer};
use progress::Progress;
use timeline::{FaultWindow, Timeline};

/// One producer as it ran: where it wrote, with which client and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProducerRun {
    pub name: String,
    pub topic: String,
    /// The client library that sent; `None` for an http producer whose
    /// service runs at a URL (its client is its own).
    pub client: Option<Client>,
    /// That client's version ("2.12.1" for librdkafka, kafka-clients'
    /// "4.1.2" for Java); empty when unknown.
    pub client_version: String,
    /// The effective properties, in the client's own names (librdkafka's,
    /// or the Java client's for `client = "java"`), bootstrap.servers aside.
    pub settings: BTreeMap<String, String>,
    pub events: ClientEvents,
}

impl ProducerRun {
    /// "librdkafka 2.12.1", "java 4.1.2", or what is known.
    pub fn client_label(&self) -> String {
        match (self.client, self.client_version.as_str()) {
            (Some(client), "") => client.to_string(),
            (Some(client), version) => format!("{client} {version}"),
            (None, _) => "the service's own".to_string(),
        }
    }
}

/// Everything one run measured, before the audit.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub run_id: String,
    pub history: History,
    pub observed: Observed,
    /// This run's Produce batch attempts, from the proxy's ledger (empty
    /// without one).
    pub wire: Vec<crate::audit::wire::BatchAttempt>,
    pub faults: Vec<FaultWindow>,
    pub producers: Vec<ProducerRun>,
    /// From the first send to the last delivery report.
    pub producing: Duration,
    /// The run was stopped before every message had its delivery report.
    pub interrupted: bool,
}

/// What a run computes from its scenario before anything starts: every
/// number derived from the file, computed with checked arithmetic, so that
/// a scenario whose numbers do not fit fails here with an error instead of
/// panicking mid-run. `validate`'s limits keep every accepted file within
/// them (the fuzz test `tests/scenario/fuzz.rs` checks that).
#[derive(Debug, Clone)]
pub struct Plan {
    /// The fault timeline's steps, in order.
    pub steps: Vec<(Duration, timeline::Step)>,
    /// When the last message is due, after producing starts (zero without a rate).
    pub last_due: Duration,
    /// How long to wait for the last delivery reports.
    pub patience: Duration,
}

/// The [`Plan`] of `scenario`.
pub fn plan(scenario: &Scenario) -> anyhow::Result<Plan> {
    let steps = timeline::schedule(&scenario.faults)?;
    let workload = &scenario.workload;
    let last_due = due(workload, workload.messages.saturating_sub(1))
        .filter(|d| Instant::now().checked_add(*d).is_some())
        .ok_or_else(|| anyhow::anyhow!("{} messages at {:?} per second end beyond the clock", workload.messages, workload.rate))?;
    let settings: Vec<BTreeMap<String, String>> = scenario.producers.iter().map(|p| scenario.effective_settings(p)).collect();
    let patience = flush_patience(&settings.iter().collect::<Vec<_>>())?;
    Ok(Plan { steps, last_due, patience })
}

/// When message `seq` is due after producing starts, at the workload's
/// rate (zero without one); `None` beyond what a `Duration` holds.
fn due(workload: &Workload, seq: u64) -> Option<Duration> {
    match workload.rate {
        Some(rate) => Duration::try_from_secs_f64(seq as f64 / rate).ok(),
        None => Some(Duration::ZERO),
    }
}

/// Each producer writes to its own topic, so their counts never mix.
pub fn topic_name(scenario: &Scenario, producer: &ProducerSpec, run_id: &str) -> String {
    format!("{}.{}.{}", scenario.name, producer.name, run_id)
}

/// Run `scenario` once on `env`: create the topics, produce while the faults
/// play, wait for every delivery report, remove the faults, read back.
///
/// When `interrupt` is cancelled, sending stops, every toxic is removed, and
/// what was measured so far is read back and returned with
/// [`RunOutput::interrupted`] set; messages with no delivery report yet stay
/// [`Outcome::Unknown`](crate::audit::history::Outcome::Unknown).
pub async fn run_once(
    scenario: &Scenario,
    env: &Environment,
    run_id: &str,
    progress: Option<&Progress>,
    interrupt: &CancellationToken,
) -> anyhow::Result<RunOutput> {
    let workload = &scenario.workload;
    let plan = plan(scenario)?;
    // http producers without a URL share one service started here, in
    // front of this run's broker; it stops when the run ends.
    let service = match scenario.producers.iter().any(|p| p.http().is_some_and(|h| h.url.is_none())) {
        true => Some(EmbeddedService::start(&env.bootstrap, &scenario.client).await?),
        false => None,
    };
    let mut producers = Vec::new();
    for spec in &scenario.producers {
        let topic = topic_name(scenario, spec, run_id);
        env.create_topic(&topic, workload.partitions).await.with_context(|| format!("creating topic {topic}"))?;
        let settings = match (spec.http(), &service) {
            (Some(http), Some(service)) if http.url.is_none() => service.settings(spec.preset)?,
            // A service at a URL has its own configuration: only the mode is known.
            (Some(_), _) => spec.preset.settings().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            (None, _) if spec.client == Client::Java => {
                scenario.java_settings(spec).map_err(|e| anyhow::anyhow!("producer {}: {}", spec.name, e.message))?
            }
            (None, _) => scenario.effective_settings(spec),
        };
        producers.push((spec.name.clone(), topic, settings));
    }
    // Java producers start their JVMs (seconds each) before the clock
    // starts: the faults' times count from the first send.
    let launching = scenario.producers.iter().zip(&producers).map(|(spec, (name, topic, settings))| async move {
        match spec.client == Client::Java && spec.http().is_none() {
            true => java::Launched::launch(name, &env.bootstrap, topic, settings).await.map(Some),
            false => Ok(None),
        }
    });
    let mut launched = futures::future::try_join_all(launching).await?;

    let started = Instant::now();
    let mut running = Vec::new();
    for ((spec, (name, topic, settings)), jvm) in scenario.producers.iter().zip(&producers).zip(&mut launched) {
        let producer = match (spec.http(), &service) {
            (None, _) => match jvm.take() {
                Some(jvm) => RunProducer::Java(jvm.into_producer(started)),
                None => RunProducer::Direct(RecordingProducer::new(name, &env.bootstrap, settings, started)?),
            },
            (Some(http), service) => {
                let base = match (&http.url, service) {
                    (Some(url), _) => url.as_str(),
                    (None, Some(service)) => service.base.as_str(),
                    (None, None) => unreachable!("the service is started when a producer needs it"),
                };
                RunProducer::Http(HttpProducer::new(name, base, spec.preset, http.send_mode, started)?)
            }
        };
        running.push((producer, topic.clone()));
    }
    // The effective settings of http producers are the service's.
    let patience = flush_patience(&producers.iter().map(|(_, _, s)| s).collect::<Vec<_>>())?.max(plan.patience);

    let stop_tracking = CancellationToken::new();
    let tracking = async {
        if let Some(progress) = progress {
            let producers: Vec<&RunProducer> = running.iter().map(|(p, _)| p).collect();
            progress.track(&producers, &scenario.faults, started, stop_tracking.clone()).await;
        }
    };
    let producing = async {
        let played = produce(scenario, plan.steps, env, &running, run_id, started, patience, interrupt).await;
        stop_tracking.cancel();
        played
    };
    let (played, ()) = tokio::join!(producing, tracking);
    let (faults, interrupted) = played?;
    let producing = started.elapsed();

    let mut history = History::default();
    let mut runs = Vec::new();
    for ((producer, _), (name, topic, settings)) in running.into_iter().zip(producers) {
        let (client, client_version) = match &producer {
            RunProducer::Java(java) => (Some(Client::Java), java.version().to_string()),
            RunProducer::Http(_) if scenario.producer(&name).and_then(ProducerSpec::http).is_some_and(|h| h.url.is_some()) => {
                (None, String::new())
            }
            // Direct, or the in-process service's librdkafka.
            _ => (Some(Client::Librdkafka), crate::env::librdkafka_version()),
        };
        let (mut record, events) = producer.finish();
        record.topic = topic.clone();
        history.producers.push(record);
        runs.push(ProducerRun { name, topic, client, client_version, settings, events });
    }
    if let Some(service) = service {
        // Every request has its answer by now (unless interrupted: then the
        // service is dropped, which stops it without waiting).
        if !interrupted && let Err(error) = service.stop().await {
            tracing::warn!("{error:#}");
        }
    }
    let observed = read_back(env, &runs, run_id, workload.partitions).await?;
    let wire = match &env.ledger {
        Some(ledger) => ledger.attempts().into_iter().filter(|a| runs.iter().any(|r| r.topic == a.topic)).collect(),
        None => Vec::new(),
    };
    Ok(RunOutput { run_id: run_id.to_string(), history, observed, wire, faults, producers: runs, producing, interrupted })
}

/// Send every producer's messages while the fault timeline plays, then
/// wait for the delivery reports on a healthy network. Returns the fault
/// windows as played and whether `interrupt` cut it short.
#[allow(clippy::too_many_arguments)]
async fn produce(
    scenario: &Scenario,
    steps: Vec<(Duration, timeline::Step)>,
    env: &Environment,
    running: &[(RunProducer, String)],
    run_id: &str,
    started: Instant,
    patience: Duration,
    interrupt: &CancellationToken,
) -> anyhow::Result<(Vec<FaultWindow>, bool)> {
    let timeline = Timeline::play(&scenario.faults, steps, env.faults.clone(), started);
    let sending = running.iter().map(|(producer, topic)| drive(producer, topic, &scenario.workload, run_id, started));
    let sent = tokio::select! {
        sent = futures::future::try_join_all(sending) => Some(sent),
        _ = interrupt.cancelled() => None,
    };
    // Faults without a duration last until the last message is handed over.
    // The timeline always ends here, so no toxic outlives the run.
    let faults = timeline.finish().await.context("playing the fault timeline")?;
    let Some(sent) = sent else { return Ok((faults, true)) };
    sent?;
    let flushed = futures::future::join_all(running.iter().map(|(producer, _)| producer.flush(patience)));
    let interrupted = tokio::select! {
        _ = flushed => false,
        _ = interrupt.cancelled() => true,
    };
    Ok((faults, interrupted))
}

/// Read every producer's topic back from the beginning.
async fn read_back(env: &Environment, runs: &[ProducerRun], run_id: &str, partitions: i32) -> anyhow::Result<Observed> {
    let topics: Vec<String> = runs.iter().map(|r| r.topic.clone()).collect();
    let (bootstrap, run_id) = (env.bootstrap.clone(), run_id.to_string());
    tokio::task::spawn_blocking(move || {
        let mut observed = Observed::default();
        for topic in &topics {
            consume::read_topic(&mut observed, &bootstrap, topic, partitions, &run_id, Duration::from_secs(60))?;
        }
        anyhow::Ok(observed)
    })
    .await?
}

/// Send the workload's messages, paced at its rate.
async fn drive(producer: &RunProducer, topic: &str, workload: &Workload, run_id: &str, started: Instant) -> anyhow::Result<()> {
    let name = producer.name().to_string();
    for seq in 0..workload.messages {
        if workload.rate.is_some() {
            // Within the plan's last_due, checked before the run started.
            sleep_until(started + due(workload, seq).unwrap_or_default()).await;
        } else if seq % 256 == 0 {
            tokio::task::yield_now().await;
        }
        let value = MessageValue::new(run_id, &name, seq, workload.payload_bytes);
        let key = key_for(&workload.key, &value.event_id, seq);
        producer.send(topic, seq, &key, &value).await?;
    }
    Ok(())
}

/// How long to wait for the last delivery reports: the longest
/// message.timeout.ms (or delivery.timeout.ms) of the producers, plus
/// margin; librdkafka's default is 300 s.
fn flush_patience(settings: &[&BTreeMap<String, String>]) -> anyhow::Result<Duration> {
    let longest = settings
        .iter()
        .filter_map(|s| s.get("message.timeout.ms").or_else(|| s.get("delivery.timeout.ms")))
        .filter_map(|v| v.parse::<u64>().ok())
        .max()
        .unwrap_or(300_000);
    Duration::from_millis(longest)
        .checked_add(Duration::from_secs(10))
        .filter(|d| Instant::now().checked_add(*d).is_some())
        .ok_or_else(|| anyhow::anyhow!("message.timeout.ms {longest} is beyond the clock"))
}
