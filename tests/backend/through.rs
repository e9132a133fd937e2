//! Producing and consuming through an environment's proxy, with real
//! librdkafka clients: for the tests of each backend's proxy (shared with
//! tests/backend_local.rs, which includes this file).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use faultlab::env::Environment;
use faultlab::proxy::toxics::latency::Latency;
use faultlab::proxy::{Stream, Toxic, ToxicKind};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap).set("socket.timeout.ms", "10000");
    config
}

/// A producer through the environment's proxy: acks=all, one message per request.
pub fn producer(env: &Environment) -> FutureProducer {
    client(&env.bootstrap).set("acks", "all").set("linger.ms", "0").set("message.timeout.ms", "30000").create().expect("a producer")
}

/// Send one message and wait for its acknowledgement; how long it took.
pub async fn send(producer: &FutureProducer, topic: &str, payload: &str) -> Duration {
    let started = Instant::now();
    producer
        .send(FutureRecord::to(topic).key("k").payload(payload), Timeout::After(Duration::from_secs(30)))
        .await
        .unwrap_or_else(|(e, _)| panic!("{payload}: {e}"));
    started.elapsed()
}

/// Create `topic` (one partition), produce `count` messages through the
/// proxy, each acknowledged, and read them back through it: every one
/// arrives, once.
pub async fn produce_and_consume(env: &Environment, topic: &str, count: usize) {
    env.create_topic(topic, 1).await.expect("the topic is created through the proxy");
    let producer = producer(env);
    let sent: BTreeSet<String> = (0..count).map(|i| format!("message {i}")).collect();
    for payload in &sent {
        send(&producer, topic, payload).await;
    }
    let bootstrap = env.bootstrap.clone();
    let topic = topic.to_string();
    // librdkafka's poll blocks: off the runtime's threads.
    let read = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer =
            client(&bootstrap).set("group.id", "through-the-proxy").set("enable.auto.commit", "false").create().expect("a consumer");
        let mut partitions = TopicPartitionList::new();
        partitions.add_partition_offset(&topic, 0, Offset::Beginning).unwrap();
        consumer.assign(&partitions).expect("partition 0 assigned");
        let mut read = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while read.len() < count && Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(500)) {
                Some(Ok(message)) => read.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned()),
                Some(Err(e)) => panic!("consuming through the proxy: {e}"),
                None => {}
            }
        }
        read
    })
    .await
    .unwrap();
    assert_eq!(read.len(), count, "{} of {count} messages read back through the proxy in 60 s", read.len());
    assert_eq!(read.iter().cloned().collect::<BTreeSet<_>>(), sent, "every message sent, once");
}

/// A downstream latency toxic of `ms` milliseconds named `name`.
pub fn latency(name: &str, ms: i64) -> Toxic {
    Toxic { name: name.into(), stream: Stream::Downstream, toxicity: 1.0, kind: ToxicKind::Latency(Latency { latency: ms, jitter: 0 }) }
}
