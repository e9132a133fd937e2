//! Running scenarios end to end: environment, repeats, audit, expectations.

use anyhow::Context;
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::audit::audit;
use crate::check::check;
use crate::env::{self, Environment};
use crate::report::series::series;
use crate::report::{Repeat, RunReport, ScenarioReport};
use crate::run::progress::Progress;
use crate::run::run_once;
use crate::scenario::Scenario;

/// The width of the time buckets the report's charts count acks in.
const SERIES_BUCKET: std::time::Duration = std::time::Duration::from_millis(100);

/// Where the broker and the proxy come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// tansu-broker and faultlab's proxy inside this process: nothing to install.
    #[default]
    Embedded,
    /// librdkafka's mock cluster in this process, behind faultlab's proxy:
    /// nothing to install; plays broker faults (down, round-trip time,
    /// protocol errors, leader change).
    Mock,
    /// Your own cluster behind your own Toxiproxy: needs --bootstrap and
    /// --toxiproxy.
    External,
    /// Apache Kafka (KRaft) and Toxiproxy containers: needs a Docker daemon.
    Docker,
}

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
pub fn check_backend(scenarios: &[Scenario], options: &Options) -> Result<(), String> {
    let _ = scenarios;
    if options.backend == Backend::External {
        env::external::ExternalConfig::from_flags(&options.backend_config)?;
    }
    Ok(())
}

/// Run every scenario in turn, each on a fresh environment.
pub async fn run_all(scenarios: &[Scenario], options: &Options) -> anyhow::Result<RunReport> {
    check_backend(scenarios, options).map_err(anyhow::Error::msg)?;
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut reports = Vec::new();
    for scenario in scenarios {
        if options.interrupt.is_cancelled() {
            break;
        }
        reports.push(run_scenario(scenario, options).await.with_context(|| format!("scenario {}", scenario.name))?);
    }
    let mut report = RunReport::new(reports, started_at);
    report.interrupted = options.interrupt.is_cancelled();
    Ok(report)
}

/// Run one scenario `repeat` times on one environment and check its expectations.
pub async fn run_scenario(scenario: &Scenario, options: &Options) -> anyhow::Result<ScenarioReport> {
    let scenario = restrict(scenario, &options.only)?;
    let seed = options.seed.or(scenario.seed).unwrap_or_else(|| rand::rng().random());
    let repeats = options.repeat.unwrap_or(scenario.repeat).max(1);
    let env = start(options, &scenario, seed).await?;

    let mut runs = Vec::new();
    for repeat in 0..repeats {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        tracing::info!("{}: run {}/{} ({run_id})", scenario.name, repeat + 1, repeats);
        env.faults.clear().await?;
        let names: Vec<&str> = scenario.producers.iter().map(|p| p.name.as_str()).collect();
        let title = format!("{} (run {}/{repeats}, {run_id}) on {}", scenario.name, repeat + 1, env.info.backend);
        let progress = options.progress.then(|| Progress::new(&title, &names, scenario.workload.messages));
        let output = run_once(&scenario, &env, &run_id, progress.as_ref(), &options.interrupt).await;
        if let Some(progress) = &progress {
            progress.clear();
        }
        let output = output?;
        runs.push(Repeat {
            series: series(&output.history, &output.observed, SERIES_BUCKET),
            run_id: output.run_id,
            verdicts: audit(&output.history, &output.observed),
            faults: output.faults,
            producers: output.producers,
            producing_ms: output.producing.as_millis() as u64,
        });
        if output.interrupted {
            break;
        }
    }
    let verdicts: Vec<_> = runs.iter().map(|r| r.verdicts.clone()).collect();
    Ok(ScenarioReport {
        expectations: check(&scenario.expectations, &verdicts),
        notes: backend_notes(options.backend).into_iter().chain(env.notes.iter().cloned()).collect(),
        seed,
        backend: env.info.clone(),
        repeats: runs,
        scenario,
    })
}

async fn start(options: &Options, _scenario: &Scenario, seed: u64) -> anyhow::Result<Environment> {
    match options.backend {
        Backend::Embedded => env::embedded::start(seed).await,
        Backend::Mock => env::mock::start(seed, 1).await,
        Backend::External => env::external::start(&options.backend_config).await,
        Backend::Docker => env::docker::start(&options.backend_config, 1).await,
    }
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
    scenario.producers.retain(|p| only.contains(&p.name));
    scenario.expectations.retain(|e| only.contains(&e.producer));
    Ok(scenario)
}

/// What a reader must know about the backend to read the numbers right.
fn backend_notes(backend: Backend) -> Vec<String> {
    match backend {
        Backend::Embedded => vec![
            "tansu deduplicates idempotent retries: a retried batch it already stored is answered \
             DUPLICATE_SEQUENCE_NUMBER with base offset -1, and librdkafka counts the batch delivered, numbering \
             its offsets -1, 0, 1, ... So the first message of such a batch is \"acked without offset\" and the \
             rest show as \"offset mismatch\": made-up offsets in the delivery reports, not misplaced data. \
             Apache Kafka answers such a retry with the original batch's offset."
                .to_string(),
        ],
        Backend::Mock => vec![env::mock::MOCK_DEDUP_NOTE.to_string()],
        Backend::External | Backend::Docker => Vec::new(),
    }
}
