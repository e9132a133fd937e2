//! `faultlab serve`: sync and async sends per second at 1, 16 and 64
//! concurrent HTTP clients, against rdkafka producing directly with the
//! same settings (the service's own idempotent-mode properties) at the
//! same concurrency.
//!
//! Both run against one broker that advertises itself, so the proxy is
//! not part of either path. A sync send counts when its answer (200) is
//! back; an async one when its delivery is reported (the service's
//! /metrics counts it), so both figures are messages actually written per
//! second. The direct baseline's "sync" awaits each delivery before the
//! next send; its "async" keeps sending and awaits the deliveries at the
//! end (librdkafka's queue pushing back when full).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::oneshot;

use super::Row;
use super::broker::DirectBroker;
use super::measure::rate;
use crate::serve::{Mode, SendMode, ServeConfig, serve};

const TOPIC: &str = "bench-serve";
const CONCURRENCY: [usize; 3] = [1, 16, 64];
const MODE: Mode = Mode::Idempotent;

pub async fn run(quick: bool, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let window = if quick { Duration::from_millis(800) } else { Duration::from_secs(3) };
    let broker = DirectBroker::start().await?;
    crate::env::create_topic(&broker.bootstrap, TOPIC, 3, 1, &[]).await?;
    let config =
        ServeConfig { bootstrap_servers: broker.bootstrap.clone(), delivery_timeout: Duration::from_secs(30), ..ServeConfig::default() };
    let service = Service::start(config.clone()).await?;
    let direct = direct_producer(&config)?;
    // Warm up both: the service creates its producer on first use.
    for _ in 0..20 {
        service.send(SendMode::Sync, 0).await?;
        direct.send(FutureRecord::<[u8], [u8]>::to(TOPIC).payload(&b"warm-up"[..]), Duration::from_secs(10)).await.map_err(|(e, _)| e)?;
    }
    let service = Arc::new(service);
    for send_mode in [SendMode::Sync, SendMode::Async] {
        for clients in CONCURRENCY {
            let via_service = service.clone().measure(send_mode, clients, window).await?;
            let via_direct = measure_direct(&direct, send_mode, clients, window).await?;
            report(
                Row::new("service", &format!("{} sends, {clients} client{}", send_mode.as_str(), if clients == 1 { "" } else { "s" }))
                    .figure(rate(via_service, "msg"), rate(via_direct, "msg"), via_service / via_direct),
            );
        }
    }
    Arc::try_unwrap(service).map_err(|_| anyhow::anyhow!("service still in use"))?.stop().await?;
    Ok(())
}

fn direct_producer(config: &ServeConfig) -> anyhow::Result<FutureProducer> {
    let mut client = ClientConfig::new();
    for (key, value) in config.mode_properties(MODE) {
        client.set(key, value);
    }
    client.set_log_level(RDKafkaLogLevel::Error);
    client.create().context("creating the direct producer")
}

struct Service {
    base: String,
    client: reqwest::Client,
    stop: oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<anyhow::Result<()>>,
    next_id: AtomicU64,
}

impl Service {
    async fn start(config: ServeConfig) -> anyhow::Result<Service> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(serve(config, listener, async move {
            let _ = stopped.await;
        }));
        let client = crate::http_client().timeout(Duration::from_secs(30)).build().context("building the HTTP client")?;
        Ok(Service { base, client, stop, serving, next_id: AtomicU64::new(0) })
    }

    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(40), self.serving).await.context("the service did not stop")??
    }

    /// One POST /api/v1/send; Ok if answered 200 (sync) or 202 (async).
    async fn send(&self, send_mode: SendMode, client: usize) -> anyhow::Result<()> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let url = format!(
            "{}/api/v1/send?mode={}&sendMode={}&topic={TOPIC}&eventId=bench-{id}&key=c{client}",
            self.base,
            MODE.as_str(),
            send_mode.as_str()
        );
        let response = self.client.post(&url).send().await?;
        let status = response.status().as_u16();
        let _ = response.bytes().await?;
        match (send_mode, status) {
            (SendMode::Sync, 200) | (SendMode::Async, 202) => Ok(()),
            _ => bail!("the service answered {status} to a {} send", send_mode.as_str()),
        }
    }

    /// faultlab_serve_sends_total for this mode and sendMode, outcome ok.
    async fn delivered(&self, send_mode: SendMode) -> anyhow::Result<u64> {
        let text = self.client.get(format!("{}/metrics", self.base)).send().await?.text().await?;
        let series =
            format!("faultlab_serve_sends_total{{mode=\"{}\",send_mode=\"{}\",outcome=\"ok\"}} ", MODE.as_str(), send_mode.as_str());
        Ok(text.lines().find_map(|l| l.strip_prefix(&series)).and_then(|n| n.trim().parse().ok()).unwrap_or(0))
    }

    /// Messages written per second with `clients` clients sending for `window`.
    async fn measure(self: Arc<Self>, send_mode: SendMode, clients: usize, window: Duration) -> anyhow::Result<f64> {
        let before = self.delivered(send_mode).await?;
        let started = Instant::now();
        let until = started + window;
        let tasks: Vec<_> = (0..clients)
            .map(|client| {
                let service = self.clone();
                tokio::spawn(async move {
                    let mut sent = 0u64;
                    while Instant::now() < until {
                        service.send(send_mode, client).await?;
                        sent += 1;
                    }
                    anyhow::Ok(sent)
                })
            })
            .collect();
        let mut sent = 0;
        for task in tasks {
            sent += task.await??;
        }
        // Async sends count once delivered.
        let patience = Instant::now() + Duration::from_secs(30);
        while self.delivered(send_mode).await? - before < sent {
            if Instant::now() > patience {
                bail!("{sent} {} sends were not all delivered within 30 s", send_mode.as_str());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(sent as f64 / started.elapsed().as_secs_f64())
    }
}

/// Direct producing at the same concurrency: per client, "sync" awaits
/// each delivery, "async" only enqueues and the deliveries are awaited at
/// the end.
async fn measure_direct(producer: &FutureProducer, send_mode: SendMode, clients: usize, window: Duration) -> anyhow::Result<f64> {
    let started = Instant::now();
    let until = started + window;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let producer = producer.clone();
            tokio::spawn(async move {
                let key = format!("c{client}");
                let value = [b'v'; 160];
                let mut pending = Vec::new();
                let mut sent = 0u64;
                while Instant::now() < until {
                    let record = FutureRecord::to(TOPIC).key(key.as_bytes()).payload(&value[..]);
                    match send_mode {
                        SendMode::Sync => {
                            producer.send(record, Duration::from_secs(30)).await.map_err(|(e, _)| e)?;
                        }
                        SendMode::Async => match producer.send_result(record) {
                            Ok(delivery) => pending.push(delivery),
                            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                                tokio::time::sleep(Duration::from_millis(1)).await;
                                continue;
                            }
                            Err((error, _)) => return Err(error.into()),
                        },
                    }
                    sent += 1;
                    // Let the other clients in, as an HTTP round trip would.
                    if sent.is_multiple_of(64) {
                        tokio::task::yield_now().await;
                    }
                }
                for delivery in pending {
                    delivery.await.context("delivery dropped")?.map_err(|(e, _)| e)?;
                }
                anyhow::Ok(sent)
            })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        sent += task.await??;
    }
    Ok(sent as f64 / started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    #[test]
    fn metrics_series_is_parsed() {
        let text = "# HELP x\nfaultlab_serve_sends_total{mode=\"idempotent\",send_mode=\"async\",outcome=\"ok\"} 42\n";
        let series = "faultlab_serve_sends_total{mode=\"idempotent\",send_mode=\"async\",outcome=\"ok\"} ";
        let n: u64 = text.lines().find_map(|l| l.strip_prefix(series)).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
        assert_eq!(n, 42);
    }
}
