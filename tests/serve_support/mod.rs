//! Helpers for the serve_* tests: `faultlab serve` on a loopback port in
//! front of its own embedded broker, URLs, and reading a topic back.

#![allow(dead_code)]

use std::collections::HashSet;
use std::time::Duration;

use faultlab::env::{Environment, embedded};
use faultlab::serve::{AccountView, ServeConfig, serve_accounted};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub struct Service {
    pub env: Environment,
    pub base: Url,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    serving: JoinHandle<anyhow::Result<AccountView>>,
}

/// Settings for a test: the broker behind its proxy, short timeouts.
pub fn config(bootstrap: &str) -> ServeConfig {
    ServeConfig {
        bootstrap_servers: bootstrap.to_string(),
        delivery_timeout: Duration::from_secs(20),
        socket_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(10),
        linger: Duration::from_millis(5),
        ..ServeConfig::default()
    }
}

/// A broker, `topics` created on it (name, partitions), and the service in
/// front of it with `config` adjusted by `adjust`.
pub async fn start(seed: u64, topics: &[(&str, i32)], adjust: impl FnOnce(&mut ServeConfig)) -> Service {
    let env = embedded::start(seed).await.expect("the embedded broker starts");
    for (topic, partitions) in topics {
        env.create_topic(topic, *partitions).await.expect("the topic is created");
    }
    let mut config = config(&env.bootstrap);
    adjust(&mut config);
    start_with(env, config).await
}

pub async fn start_with(env: Environment, config: ServeConfig) -> Service {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(serve_accounted(config, listener, async move {
        let _ = stopped.await;
    }));
    let client = faultlab::http_client().timeout(Duration::from_secs(60)).build().unwrap();
    Service { env, base, client, stop: Some(stop), serving }
}

impl Service {
    /// The URL of `path` with `query` pairs, percent-encoded.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.join(path).unwrap();
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    pub async fn post(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path, query)).send().await.expect("the service answers")
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.client.get(self.url(path, query)).send().await.expect("the service answers")
    }

    /// Poll /api/v1/status until the send is no longer PENDING (bounded).
    pub async fn wait_for_status(&self, request_id: &str) -> serde_json::Value {
        for _ in 0..600 {
            let response = self.get("api/v1/status", &[("requestId", request_id)]).await;
            assert_eq!(response.status(), 200, "status of {request_id}");
            let body: serde_json::Value = response.json().await.unwrap();
            if body["state"] != "PENDING" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{request_id} still PENDING after 30 s");
    }

    /// Trigger the shutdown future and wait for serve to return its account.
    pub async fn shutdown(&mut self) -> anyhow::Result<AccountView> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.serving).await.expect("serve did not panic")
    }

    /// Everything in `topic` (partitions 0..partitions), read to the end.
    pub async fn read_topic(&self, topic: &str, partitions: i32) -> Vec<Record> {
        let (bootstrap, topic) = (self.env.bootstrap.clone(), topic.to_string());
        tokio::task::spawn_blocking(move || read_topic(&bootstrap, &topic, partitions)).await.unwrap()
    }
}

/// One record read back.
#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub value: serde_json::Value,
}

fn read_topic(bootstrap: &str, topic: &str, partitions: i32) -> Vec<Record> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("serve-test-{}", uuid::Uuid::new_v4().simple()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("the test consumer is created");
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning).unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut at_end = HashSet::new();
    let mut records = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while at_end.len() < partitions as usize {
        assert!(std::time::Instant::now() < deadline, "reading {topic} back took over 30 s");
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                at_end.insert(partition);
            }
            Some(Err(error)) => eprintln!("test consumer: {error}"),
            Some(Ok(message)) => records.push(Record {
                partition: message.partition(),
                offset: message.offset(),
                key: String::from_utf8(message.key().unwrap_or_default().to_vec()).unwrap(),
                value: serde_json::from_slice(message.payload().unwrap_or_default()).expect("the value is JSON"),
            }),
        }
    }
    records
}

/// The record at (partition, offset).
pub fn at(records: &[Record], partition: i64, offset: i64) -> &Record {
    records
        .iter()
        .find(|r| i64::from(r.partition) == partition && r.offset == offset)
        .unwrap_or_else(|| panic!("no record at partition {partition} offset {offset} in {records:?}"))
}
