//! Environments: a Kafka broker with a fault proxy in front of it, from a
//! backend. Every client byte goes through the proxy, because the broker
//! advertises the proxy's address, not its own.

pub mod embedded;
pub mod faults;

use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use serde::{Deserialize, Serialize};

pub use faults::FaultControl;

/// What a run ran on, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    pub backend: String,
    pub broker: String,
    pub broker_version: String,
    pub proxy: String,
    pub proxy_version: String,
    /// librdkafka's version string, as the producers report it.
    pub client: String,
}

/// A broker reachable through a fault proxy. Dropping it stops both.
pub struct Environment {
    pub info: BackendInfo,
    /// bootstrap.servers for clients: the proxy's address.
    pub bootstrap: String,
    pub faults: FaultControl,
    _running: Box<dyn Send + Sync>,
}

impl Environment {
    /// Create `topic` with `partitions` partitions (replication factor 1)
    /// and wait until the broker reports it.
    pub async fn create_topic(&self, topic: &str, partitions: i32) -> anyhow::Result<()> {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .create()
            .context("creating the admin client")?;
        let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin.create_topics([&new_topic], &options).await.context("creating topics")?;
        for result in results {
            if let Err((name, code)) = result {
                bail!("the broker refused to create topic {name}: {code}");
            }
        }
        Ok(())
    }
}

/// librdkafka's version, e.g. "2.12.1".
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}
