//! An rdkafka producer's messages per second through the embedded proxy
//! against direct to an identical embedded broker.
//!
//! Brokers run side by side: the embedded environment's, which advertises
//! its proxy (so every byte goes through it), one that advertises itself
//! ([`super::broker`]), and, when Toxiproxy is found, one advertising a
//! Toxiproxy proxy in front of it. The broker that advertises itself is
//! also reached through a Kafka-mode front (`faultlab proxy --kafka`, which
//! rewrites its address in the metadata): the cost of reading frames,
//! against the plain proxy's forwarding. Rounds rotate between the paths.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientConfig, ClientContext};

use super::Row;
use super::broker::DirectBroker;
use super::measure::{self, rate};
use super::peer::{Peer, attach};
use crate::env::embedded;

const TARGET: f64 = 0.95;
const TOPIC: &str = "bench-produce";
const PARTITIONS: i32 = 3;
const VALUE: usize = 100;

/// The producer's settings: the harness's usual reliable producer.
pub const SETTINGS: &[(&str, &str)] = &[("acks", "all"), ("enable.idempotence", "true"), ("linger.ms", "5")];

pub async fn run(quick: bool, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let (messages, rounds) = if quick { (20_000, 1) } else { (200_000, 5) };
    let peer = Peer::start().await.context("starting Toxiproxy")?;
    let direct = DirectBroker::start().await?;
    let env = embedded::start(1).await?;
    crate::env::create_topic(&direct.bootstrap, TOPIC, PARTITIONS, 1, &[]).await?;
    env.create_topic(TOPIC, PARTITIONS).await?;
    let front = crate::proxy::kafka::KafkaFront::start("127.0.0.1:0", &direct.bootstrap, 0, None).await?;
    // Direct, faultlab, faultlab in Kafka mode, then Toxiproxy when there is one.
    let mut bootstraps = vec![direct.bootstrap.clone(), env.bootstrap.clone(), front.bootstrap().listen_addr().to_string()];
    let _behind_toxiproxy = match &peer {
        Ok(peer) => {
            let port = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?.local_addr()?.port();
            let listen = peer.proxy("kafka", format!("127.0.0.1:{port}").parse()?).await?;
            let broker = embedded::start_broker(port, &listen.to_string()).await?;
            crate::env::create_topic(&listen.to_string(), TOPIC, PARTITIONS, 1, &[]).await?;
            bootstraps.push(listen.to_string());
            Some(broker)
        }
        Err(_) => None,
    };
    // Warm up: metadata, connections, the broker's first segments.
    for bootstrap in &bootstraps {
        produce(bootstrap, 2_000).await?;
    }
    let mut rates = vec![Vec::new(); bootstraps.len()];
    // Which path goes first rotates, so none always follows another's
    // broker work (tansu compacting, the allocator growing).
    for round in 0..rounds {
        for i in 0..bootstraps.len() {
            let path = (round + i) % bootstraps.len();
            let took = produce(&bootstraps[path], messages).await?;
            rates[path].push(messages as f64 / took.as_secs_f64());
            tracing::debug!(path, round, rate = messages as f64 / took.as_secs_f64(), "produce round");
        }
    }
    let rates: Vec<f64> = rates.into_iter().map(measure::median).collect();
    let (direct_rate, proxied_rate) = (rates[0], rates[1]);
    let ratio = proxied_rate / direct_rate;
    let row = Row::new("produce", &format!("rdkafka acks=all idempotent, {VALUE} B, {messages} msgs x {rounds}"))
        .figure(rate(proxied_rate, "msg"), rate(direct_rate, "msg"), ratio)
        .target(format!(">= {TARGET}x"), ratio >= TARGET);
    report(attach(row, &peer, rates.get(3).map(|&t| (rate(t, "msg"), t / direct_rate, proxied_rate / t))));
    // The Kafka-mode figure is only its own if the producers' requests went
    // through it: the broker advertises itself, so without the rewriting
    // they would go direct at the same rate.
    let mut produced_through_front = 0;
    for broker in front.brokers().await.values() {
        produced_through_front += front.requests(broker.name(), crate::proxy::kafka::PRODUCE);
    }
    if produced_through_front < rounds as u64 {
        bail!("Kafka mode read {produced_through_front} Produce requests in {rounds} rounds: the producers went around it");
    }
    let kafka_rate = rates[2];
    report(Row::new("produce", "the same through Kafka mode (proxy --kafka: frames read, metadata rewritten)").figure(
        rate(kafka_rate, "msg"),
        format!("{} (plain proxy)", rate(proxied_rate, "msg")),
        kafka_rate / proxied_rate,
    ));
    Ok(())
}

struct Counting {
    acked: AtomicU64,
    failed: AtomicU64,
}

struct CountingContext(Arc<Counting>);

impl ClientContext for CountingContext {}

impl ProducerContext for CountingContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let counter = if result.is_ok() { &self.0.acked } else { &self.0.failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Produce `messages` messages and wait for every delivery report; the
/// time from the first send to the last report.
async fn produce(bootstrap: &str, messages: u64) -> anyhow::Result<Duration> {
    let bootstrap = bootstrap.to_string();
    // librdkafka's poll loop blocks: keep it off the runtime's workers.
    tokio::task::spawn_blocking(move || produce_blocking(&bootstrap, messages)).await.context("the producing thread")?
}

fn produce_blocking(bootstrap: &str, messages: u64) -> anyhow::Result<Duration> {
    let counts = Arc::new(Counting { acked: AtomicU64::new(0), failed: AtomicU64::new(0) });
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap).set_log_level(RDKafkaLogLevel::Error);
    for (key, value) in SETTINGS {
        config.set(*key, *value);
    }
    let producer: BaseProducer<CountingContext> =
        config.create_with_context(CountingContext(counts.clone())).context("creating the bench producer")?;
    // Before the clock starts: connect, learn the partitions, and get the
    // idempotent producer's id with one acked message per partition.
    // Without this, some rounds timed the id's acquisition too: about 0.45 s
    // more in a 0.2 s round, seemingly at random (rounds came out at either
    // 300k or 1M msg/s, whatever the path).
    producer.client().fetch_metadata(Some(TOPIC), Duration::from_secs(10)).context("fetching metadata")?;
    let value = [b'v'; VALUE];
    for partition in 0..PARTITIONS {
        producer.send(BaseRecord::<[u8], _>::to(TOPIC).partition(partition).payload(&value[..])).map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(10)).context("flushing the first messages")?;
    let warmed = u64::from(PARTITIONS.unsigned_abs());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    for i in 0..messages {
        let key = i.to_le_bytes();
        let mut record = BaseRecord::to(TOPIC).key(&key[..]).payload(&value[..]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                    if Instant::now() > deadline {
                        bail!("producing {messages} messages took over 60 s");
                    }
                }
                Err((error, _)) => bail!("send: {error}"),
            }
        }
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(60)).context("flushing")?;
    let took = started.elapsed();
    let (acked, failed) = (counts.acked.load(Ordering::Relaxed), counts.failed.load(Ordering::Relaxed));
    if acked != messages + warmed {
        bail!("{acked} of {} messages acked ({failed} failed)", messages + warmed);
    }
    Ok(took)
}
