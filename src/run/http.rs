//! The http driver: a scenario producer that sends every message through a
//! producer service's HTTP API (the course's `POST /api/v1/send`), sync or
//! async with `/api/v1/status` polling, and records what the service
//! answered in the same [`ProducerHistory`] a direct producer fills, so the
//! audit treats both alike.
//!
//! The service writes its own message value (`serve::ServeMessage`); the
//! eventId sent is `<run>-<producer>-<seq>` ([`super::message::event_id`]),
//! which is how the read-back finds the producer and sequence number of a
//! record written through the service. Requests run concurrently, up to
//! [`MAX_CONCURRENT_REQUESTS`] per producer, like the concurrent clients of
//! a real service; a 503 (queue or status store full) is retried after its
//! Retry-After, as a direct producer waits out librdkafka's full queue.
//!
//! What the service cannot tell: whether a failed message may be in the log
//! anyway. Failures the service reports as 504 (message.timeout.ms expired)
//! or 502 (any other delivery failure), and a request cut off after it was
//! sent, are recorded `possibly_persisted`; 4xx and 500 answers (nothing was
//! handed to Kafka) are clean failures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use url::Url;

use super::producer::{ClientEvents, Counts};
use crate::audit::history::{Outcome, ProducerHistory, SendRecord};
use crate::scenario::{HttpSendMode, Preset};
use crate::serve::{Mode, ServeConfig};

/// Requests one http producer keeps open at once. More sends wait for one
/// to finish, as a direct producer waits when librdkafka's queue is full.
pub const MAX_CONCURRENT_REQUESTS: usize = 1000;

/// The longest pause between two polls of /api/v1/status.
const MAX_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The service's mode for a preset (plain and idempotent only; the loader
/// refuses other presets for http producers).
pub fn mode_of(preset: Preset) -> anyhow::Result<Mode> {
    match preset {
        Preset::Plain => Ok(Mode::Plain),
        Preset::Idempotent => Ok(Mode::Idempotent),
        Preset::None => bail!("preset none has no service mode; an http producer needs plain or idempotent"),
    }
}

struct Shared {
    started: Instant,
    sends: Mutex<Vec<SendRecord>>,
    acked: AtomicU64,
    failed: AtomicU64,
}

impl Shared {
    fn finish(&self, index: usize, outcome: Outcome) {
        match outcome {
            Outcome::Acked { .. } => self.acked.fetch_add(1, Ordering::Relaxed),
            Outcome::Failed { .. } => self.failed.fetch_add(1, Ordering::Relaxed),
            Outcome::Unknown => 0,
        };
        let done_at = self.started.elapsed();
        let mut sends = self.sends.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = sends.get_mut(index) {
            record.done_at = done_at;
            record.outcome = outcome;
        }
    }
}

/// One http producer of a run.
pub struct HttpProducer {
    name: String,
    client: reqwest::Client,
    send_url: Url,
    status_url: Url,
    mode: Mode,
    send_mode: HttpSendMode,
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    tasks: TaskTracker,
    stop: CancellationToken,
}

impl HttpProducer {
    /// A producer sending to the service at `base` (its base URL) in the
    /// preset's mode.
    pub fn new(name: &str, base: &str, preset: Preset, send_mode: HttpSendMode, started: Instant) -> anyhow::Result<Self> {
        let mut base = Url::parse(base).with_context(|| format!("producer {name}: the service URL {base:?}"))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = crate::http_client().pool_max_idle_per_host(MAX_CONCURRENT_REQUESTS).build().context("building the HTTP client")?;
        Ok(HttpProducer {
            name: name.to_string(),
            client,
            send_url: base.join("api/v1/send")?,
            status_url: base.join("api/v1/status")?,
            mode: mode_of(preset)?,
            send_mode,
            shared: Arc::new(Shared { started, sends: Mutex::default(), acked: AtomicU64::new(0), failed: AtomicU64::new(0) }),
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_REQUESTS)),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        })
    }

    /// Start sending one message; waits only while
    /// [`MAX_CONCURRENT_REQUESTS`] requests are open.
    pub async fn send(&self, topic: &str, seq: u64, key: &str, event_id: &str) -> anyhow::Result<()> {
        let permit = self.permits.clone().acquire_owned().await.context("the producer was stopped")?;
        let index = {
            let mut sends = self.shared.sends.lock().unwrap_or_else(|e| e.into_inner());
            let sent_at = self.shared.started.elapsed();
            sends.push(SendRecord { seq, sent_at, done_at: sent_at, outcome: Outcome::Unknown });
            sends.len() - 1
        };
        let mut url = self.send_url.clone();
        url.query_pairs_mut()
            .append_pair("mode", self.mode.as_str())
            .append_pair("eventId", event_id)
            .append_pair("topic", topic)
            .append_pair("key", key)
            .append_pair("sendMode", self.send_mode.as_str());
        let (client, status_url, shared, stop) = (self.client.clone(), self.status_url.clone(), self.shared.clone(), self.stop.clone());
        let send_mode = self.send_mode;
        self.tasks.spawn(async move {
            let outcome = tokio::select! {
                outcome = deliver(&client, url, &status_url, send_mode) => outcome,
                // Stopped: the message stays Unknown.
                _ = stop.cancelled() => return,
            };
            shared.finish(index, outcome);
            drop(permit);
        });
        Ok(())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Requests not answered yet (async: not OK or ERROR yet).
    pub fn in_flight(&self) -> i32 {
        self.tasks.len() as i32
    }

    /// Wait until every message has its answer, or `patience` runs out.
    pub async fn flush(&self, patience: Duration) {
        self.tasks.close();
        let _ = tokio::time::timeout(patience, self.tasks.wait()).await;
    }

    pub fn counts(&self) -> Counts {
        Counts {
            sent: self.shared.sends.lock().unwrap_or_else(|e| e.into_inner()).len() as u64,
            acked: self.shared.acked.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
        }
    }

    /// Stop and hand over what was recorded; requests still open are
    /// abandoned and their messages left [`Outcome::Unknown`]. The client
    /// events stay empty: librdkafka's log is the service's.
    pub fn finish(self) -> (ProducerHistory, ClientEvents) {
        self.stop.cancel();
        let sends = std::mem::take(&mut *self.shared.sends.lock().unwrap_or_else(|e| e.into_inner()));
        (ProducerHistory { name: self.name, topic: String::new(), sends }, ClientEvents::default())
    }
}

/// A sync answer; lenient, so other implementations of the API can be
/// audited too (a missing partition is recorded as -1, without offset).
#[derive(Deserialize)]
struct SyncAnswer {
    partition: Option<i32>,
    offset: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AsyncAnswer {
    request_id: String,
}

#[derive(Deserialize)]
struct StatusAnswer {
    state: String,
    partition: Option<i32>,
    offset: Option<i64>,
    error: Option<String>,
    status: Option<u16>,
}

#[derive(Deserialize)]
struct ProblemAnswer {
    detail: Option<String>,
    error: Option<String>,
}

/// Whether the service's status for a failed delivery leaves the message
/// possibly written: 504 (timed out) and 502 (other delivery failures).
fn possibly_persisted(status: u16) -> bool {
    matches!(status, 502 | 504)
}

/// POST the message and, for async, poll its status until it is settled.
async fn deliver(client: &reqwest::Client, url: Url, status_url: &Url, send_mode: HttpSendMode) -> Outcome {
    loop {
        let response = match client.post(url.clone()).send().await {
            Ok(response) => response,
            Err(error) => {
                return Outcome::Failed {
                    error: format!("POST /api/v1/send: {error}"),
                    // Refused before the request went out: nothing reached the service.
                    possibly_persisted: !error.is_connect(),
                };
            }
        };
        let status = response.status().as_u16();
        if status == 503 {
            // Not queued (queue or status store full): wait and send again.
            tokio::time::sleep(retry_after(&response)).await;
            continue;
        }
        return match (send_mode, status) {
            (HttpSendMode::Sync, 200) => match response.json::<SyncAnswer>().await {
                Ok(answer) => acked(answer.partition, answer.offset),
                Err(error) => unreadable(status, error),
            },
            (HttpSendMode::Async, 202) => match response.json::<AsyncAnswer>().await {
                Ok(answer) => poll(client, status_url, &answer.request_id).await,
                Err(error) => unreadable(status, error),
            },
            _ => refused(response, "POST /api/v1/send").await,
        };
    }
}

/// Poll /api/v1/status?requestId=ID until OK or ERROR, backing off from
/// 10 ms to [`MAX_POLL_INTERVAL`].
async fn poll(client: &reqwest::Client, status_url: &Url, request_id: &str) -> Outcome {
    let mut url = status_url.clone();
    url.query_pairs_mut().append_pair("requestId", request_id);
    let mut pause = Duration::from_millis(10);
    loop {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL_INTERVAL);
        let response = match client.get(url.clone()).send().await {
            Ok(response) => response,
            Err(error) => {
                return Outcome::Failed { error: format!("GET /api/v1/status: {error}"), possibly_persisted: true };
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            // 404: the service no longer knows the request (evicted); its fate is unknown.
            return match refused(response, "GET /api/v1/status").await {
                Outcome::Failed { error, .. } => Outcome::Failed { error, possibly_persisted: true },
                other => other,
            };
        }
        let answer = match response.json::<StatusAnswer>().await {
            Ok(answer) => answer,
            Err(error) => return unreadable(status, error),
        };
        match answer.state.as_str() {
            "PENDING" => continue,
            "OK" => return acked(answer.partition, answer.offset),
            "ERROR" => {
                return Outcome::Failed {
                    error: answer.error.unwrap_or_else(|| "the service reported ERROR".into()),
                    possibly_persisted: answer.status.is_none_or(possibly_persisted),
                };
            }
            other => {
                return Outcome::Failed { error: format!("GET /api/v1/status: unknown state {other:?}"), possibly_persisted: true };
            }
        }
    }
}

fn acked(partition: Option<i32>, offset: Option<i64>) -> Outcome {
    Outcome::Acked { partition: partition.unwrap_or(-1), offset: offset.filter(|o| *o >= 0) }
}

fn unreadable(status: u16, error: reqwest::Error) -> Outcome {
    Outcome::Failed { error: format!("HTTP {status} with an unreadable body: {error}"), possibly_persisted: true }
}

/// A failure answer: librdkafka's error from the problem body when there
/// is one, else its detail, else the status line.
async fn refused(response: reqwest::Response, what: &str) -> Outcome {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let problem = serde_json::from_str::<ProblemAnswer>(&body).ok();
    let error = problem
        .and_then(|p| p.error.or(p.detail))
        .unwrap_or_else(|| format!("{what}: HTTP {status} {}", body.chars().take(200).collect::<String>()));
    Outcome::Failed { error, possibly_persisted: possibly_persisted(status.as_u16()) }
}

fn retry_after(response: &reqwest::Response) -> Duration {
    let seconds = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds.clamp(0, 5)).max(Duration::from_millis(50))
}

/// `faultlab serve` started in this process for a run's http producers
/// with `url = "embedded"`, in front of the run's broker. Dropping it
/// shuts it down too.
pub struct EmbeddedService {
    pub base: String,
    pub config: ServeConfig,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<anyhow::Result<()>>>,
}

impl EmbeddedService {
    /// Start it on a free 127.0.0.1 port with `bootstrap` and the scenario's
    /// `[client]` settings.
    pub async fn start(bootstrap: &str, client: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let config = ServeConfig { bootstrap_servers: bootstrap.to_string(), ..ServeConfig::default() }
            .with_client_settings(client)
            .context("the [client] settings for the in-process producer service")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the producer service")?;
        let base = format!("http://{}/", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(crate::serve::serve(config.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Ok(EmbeddedService { base, config, stop: Some(stop), serving: Some(serving) })
    }

    /// The librdkafka properties of the preset's mode (without
    /// bootstrap.servers), for the report.
    pub fn settings(&self, preset: Preset) -> anyhow::Result<BTreeMap<String, String>> {
        let mode = mode_of(preset)?;
        Ok(self.config.mode_properties(mode).into_iter().filter(|(k, _)| k != "bootstrap.servers").collect())
    }

    /// Stop accepting, flush, and wait for it (bounded by its delivery
    /// timeout plus a margin).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(serving) = self.serving.take() else { return Ok(()) };
        let patience = self.config.delivery_timeout + Duration::from_secs(10);
        match tokio::time::timeout(patience, serving).await {
            Ok(Ok(result)) => result.context("the in-process producer service"),
            Ok(Err(error)) => Err(error).context("the in-process producer service"),
            Err(_) => bail!("the in-process producer service did not stop within {patience:?}"),
        }
    }
}

impl Drop for EmbeddedService {
    fn drop(&mut self) {
        // A dropped sender also ends the wait for shutdown, and the
        // service stops on its own; abort only if it is still there.
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
    }
}
