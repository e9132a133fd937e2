//! Environments: a Kafka broker with a fault proxy in front of it, from a
//! backend. Every client byte goes through the proxy, because the broker
//! advertises the proxy's address, not its own.

pub mod backend;
pub mod docker;
pub mod embedded;
pub mod external;
pub mod fault;
mod in_process;
pub mod kraft;
pub mod local;
pub mod mock;

use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use serde::{Deserialize, Serialize};

use crate::proxy::Toxic;

pub use backend::Backend;
pub use fault::FaultControl;

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
    /// How topics are created.
    pub(crate) admin: Admin,
    /// What a reader of the report must know about this environment
    /// (e.g. a broker that is reached around the proxy).
    pub notes: Vec<String>,
    /// The Toxiproxy API faults go through, when there is one (local,
    /// docker, external): for a user or a test to drive it too.
    pub toxiproxy_api: Option<String>,
    /// The record of every Produce batch through the proxy, when faultlab's
    /// proxy reads Kafka frames in this process (`proxy::kafka::Ledger`).
    pub ledger: Option<std::sync::Arc<crate::proxy::kafka::Ledger>>,
    /// Where faultlab's Kafka front, when it fronts the cluster, says why it
    /// failed connections rather than let clients bypass it (a run that
    /// finds a reason there fails).
    pub refusals: Option<crate::proxy::kafka::Refusals>,
    /// Brokers advertised at no listen port of any proxy (`broker 1
    /// advertises HOST:PORT`): their clients go around every proxy, so no
    /// fault touches that traffic, and a run with faults in force fails.
    pub around_the_proxy: Vec<String>,
    _running: Box<dyn Send + Sync>,
}

/// How an environment creates topics.
#[derive(Clone)]
pub(crate) enum Admin {
    /// CreateTopics through the proxy, with this replication factor and
    /// these topic configs.
    Kafka { replication: i32, configs: Vec<(String, String)> },
    /// librdkafka's mock has no CreateTopics: its own API instead.
    Mock(std::sync::Arc<mock::MockCluster>),
}

impl Admin {
    /// One broker: replication factor 1, no configs.
    pub(crate) fn single() -> Admin {
        Admin::Kafka { replication: 1, configs: Vec::new() }
    }
}

impl Environment {
    pub(crate) fn new(
        info: BackendInfo,
        bootstrap: String,
        faults: FaultControl,
        admin: Admin,
        running: Box<dyn Send + Sync>,
    ) -> Environment {
        Environment {
            info,
            bootstrap,
            faults,
            admin,
            notes: Vec::new(),
            toxiproxy_api: None,
            ledger: None,
            refusals: None,
            around_the_proxy: Vec::new(),
            _running: running,
        }
    }

    /// Create `topic` with `partitions` partitions (the backend's
    /// replication factor) and wait until the broker reports it.
    pub async fn create_topic(&self, topic: &str, partitions: i32) -> anyhow::Result<()> {
        let (replication, configs) = match &self.admin {
            Admin::Mock(cluster) => return cluster.create_topic(topic, partitions),
            Admin::Kafka { replication, configs } => (*replication, configs),
        };
        create_topic(&self.bootstrap, topic, partitions, replication, configs).await
    }
}

/// Create `topic` through Kafka's admin API at `bootstrap`, with
/// `replication` and topic `configs`, and wait until the broker reports it.
pub async fn create_topic(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    replication: i32,
    configs: &[(String, String)],
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().context("creating the admin client")?;
    let mut new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
    for (key, value) in configs {
        new_topic = new_topic.set(key, value);
    }
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin.create_topics([&new_topic], &options).await.with_context(|| format!("creating topic {topic}"))?;
    for result in results {
        if let Err((name, code)) = result {
            bail!("the broker refused to create topic {name}: {code}");
        }
    }
    Ok(())
}

/// Backend settings from the command line (or the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendConfig {
    /// external: bootstrap.servers (the Toxiproxy listeners in front of the brokers).
    pub bootstrap: Option<String>,
    /// external: the Toxiproxy HTTP API's URL.
    pub toxiproxy: Option<String>,
    /// external: the Toxiproxy proxies to play faults on (all when empty).
    pub toxiproxy_proxies: Vec<String>,
    /// docker: the Kafka image (`name:tag`), else the pinned default.
    pub kafka_image: Option<String>,
    /// docker: the Toxiproxy image (`name:tag`), else the pinned default.
    pub toxiproxy_image: Option<String>,
}

/// How the environment's proxy reads the clients' bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyMode {
    /// As bytes, as Toxiproxy does: the toxics of bytes and time, and the
    /// splice fast path while a link has none. Every run without a Kafka toxic.
    #[default]
    Bytes,
    /// As Kafka frames (faultlab's proxy only), for Kafka toxics. Costs a
    /// frame parse per request and response, so only when a fault needs it.
    KafkaFrames,
}

impl ProxyMode {
    /// The mode a run's `toxics` need: Kafka frames if one of them is a
    /// Kafka toxic. (Toxics, not the scenario's faults: the environment sits
    /// below the scenario and does not know its types.)
    pub fn for_toxics(toxics: impl IntoIterator<Item = Toxic>) -> ProxyMode {
        let kafka = toxics.into_iter().any(|toxic| toxic.kind.is_kafka());
        if kafka { ProxyMode::KafkaFrames } else { ProxyMode::Bytes }
    }
}

/// Start `backend`'s environment with `brokers` brokers and its proxy in
/// `proxy` mode (the backend's limits are checked before, by
/// `harness::check_backend`).
pub async fn start(backend: Backend, config: &BackendConfig, brokers: u32, seed: u64, proxy: ProxyMode) -> anyhow::Result<Environment> {
    if proxy == ProxyMode::KafkaFrames && !backend.plays_kafka_toxics() {
        bail!(
            "the {backend} backend cannot play Kafka toxics (its proxy is Toxiproxy, which has none); backends that can: {}",
            Backend::playing_kafka_toxics().join(", ")
        );
    }
    match backend {
        Backend::Embedded => embedded::start_with(seed, proxy).await,
        Backend::Mock => mock::start(seed, brokers as i32, proxy).await,
        Backend::External => external::start(config, proxy, seed).await,
        Backend::Docker => docker::start(config, brokers).await,
        Backend::Local => local::start(brokers, seed, proxy).await,
    }
}

/// Whether the flags give `backend` what it needs (the external backend's
/// --bootstrap and --toxiproxy), before anything starts.
pub fn check_flags(backend: Backend, config: &BackendConfig) -> Result<(), String> {
    match backend {
        Backend::External => external::ExternalConfig::from_flags(config).map(drop),
        Backend::Embedded | Backend::Mock | Backend::Docker | Backend::Local => Ok(()),
    }
}

/// After a second Ctrl-C, just before the process exits without running
/// any destructor: remove what the backend started outside this process
/// (the docker backend's containers; the local backend's data directories,
/// whose brokers would die with this process anyway). At most 10 s.
pub async fn remove_leftovers(backend: Backend) {
    if backend == Backend::Docker {
        let _ = tokio::time::timeout(Duration::from_secs(10), docker::remove_leftovers()).await;
    }
    local::remove_leftovers();
}

/// librdkafka's version, e.g. "2.12.1".
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}
