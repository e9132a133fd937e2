//! The Docker backend: Apache Kafka (KRaft) and the real Toxiproxy in
//! containers on one Docker network, started with testcontainers.
//!
//! ```text
//! client ──▶ 127.0.0.1:<mapped 19091> ─▶ toxiproxy:19091 ─▶ kafka-1:9092 (PLAINTEXT)
//!            127.0.0.1:<mapped 19092> ─▶ toxiproxy:19092 ─▶ kafka-2:9092
//!                                         kafka-i:9093 BROKER (between brokers)
//!                                         kafka-i:9094 CONTROLLER (KRaft quorum)
//! ```
//! Toxiproxy starts first, so the host ports its Kafka listeners are mapped
//! to are known before any broker starts; each broker then advertises its
//! listener's mapped port (`KAFKA_ADVERTISED_LISTENERS`), so every client
//! byte passes through Toxiproxy. Brokers talk to each other and to the
//! controllers on their own listeners, directly on the Docker network:
//! faults affect clients only, like on the other backends.
//!
//! Everything here that decides a container's configuration is a pure
//! function ([`plan`] and the functions it uses), unit tested without
//! Docker. Containers are removed when the environment is dropped
//! (testcontainers does it), and [`remove_leftovers`] removes every
//! container and network this process labelled, for a second Ctrl-C that
//! cannot wait for drops.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::future::BoxFuture;
use testcontainers::core::{ContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::external::{BrokerControl, RemoteFaults};
use super::{Admin, BackendConfig, BackendInfo, Environment, FaultControl, librdkafka_version};
use crate::toxiproxy::{Client, ProxyConfig};

/// The Kafka image unless `--kafka-image` / FAULTLAB_KAFKA_IMAGE says otherwise.
pub const KAFKA_IMAGE: &str = "apache/kafka:4.1.0";
/// The Toxiproxy image unless `--toxiproxy-image` / FAULTLAB_TOXIPROXY_IMAGE says otherwise.
pub const TOXIPROXY_IMAGE: &str = "ghcr.io/shopify/toxiproxy:2.12.0";

/// Toxiproxy's HTTP API, in its container.
pub const TOXIPROXY_API_PORT: u16 = 8474;
/// Toxiproxy's listener for broker `i` is `TOXIPROXY_FIRST_PORT + i - 1`.
pub const TOXIPROXY_FIRST_PORT: u16 = 19091;
/// Kafka's listeners in each broker container.
pub const CLIENT_PORT: u16 = 9092;
pub const BROKER_PORT: u16 = 9093;
pub const CONTROLLER_PORT: u16 = 9094;

/// The label on every container this process starts: its value is
/// [`session`], so leftovers can be found and removed.
pub const SESSION_LABEL: &str = "org.faultlab.session";

/// How long a Kafka container may take to say it started (image pull aside).
const KAFKA_STARTUP: Duration = Duration::from_secs(180);

/// One container to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPlan {
    /// Container name, also its host name on the network.
    pub name: String,
    pub image: String,
    pub tag: String,
    pub env: BTreeMap<String, String>,
    /// Container ports published on the host (random host ports).
    pub exposed: Vec<u16>,
    /// A line its output prints once it is ready, if any.
    pub ready_line: Option<String>,
}

/// One Toxiproxy proxy in front of one broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyPlan {
    pub name: String,
    /// The port it listens on inside the Toxiproxy container.
    pub port: u16,
    /// `kafka-i:9092` on the Docker network.
    pub upstream: String,
}

/// Everything one Docker environment consists of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub network: String,
    pub toxiproxy: ContainerPlan,
    pub proxies: Vec<ProxyPlan>,
    /// Broker `i` at index `i - 1`; its environment lacks the advertised
    /// client listener until [`Plan::kafka_env`] fills it in.
    pub kafka: Vec<ContainerPlan>,
    /// Replication factor of the topics a run creates, and their configs.
    pub replication: i32,
    pub topic_configs: Vec<(String, String)>,
}

/// `name:tag` (a registry's `host:port/` prefix allowed) as name and tag;
/// no tag reads as `latest`.
pub fn parse_image(image: &str) -> Result<(String, String), String> {
    let image = image.trim();
    if image.is_empty() || image.contains(char::is_whitespace) || image.contains('@') {
        return Err(format!("{image:?} is not an image reference NAME[:TAG] (digests are not supported)"));
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(colon) => {
            let (name, tag) = (&image[..last_slash + colon], &image[last_slash + colon + 1..]);
            if tag.is_empty() || name.is_empty() {
                return Err(format!("{image:?} is not an image reference NAME[:TAG]"));
            }
            Ok((name.to_string(), tag.to_string()))
        }
        None => Ok((image.to_string(), "latest".to_string())),
    }
}

/// The plan for `brokers` brokers, containers named after `prefix` (unique
/// per environment; also the network's name).
pub fn plan(prefix: &str, brokers: u32, kafka_image: &str, toxiproxy_image: &str) -> Result<Plan, String> {
    if !(1..=9).contains(&brokers) {
        return Err(format!("the docker backend takes 1 to 9 brokers, not {brokers}"));
    }
    let (kafka_name, kafka_tag) = parse_image(kafka_image).map_err(|e| format!("--kafka-image: {e}"))?;
    let (toxiproxy_name, toxiproxy_tag) = parse_image(toxiproxy_image).map_err(|e| format!("--toxiproxy-image: {e}"))?;
    let broker_name = |id: u32| format!("{prefix}-kafka-{id}");
    let proxies: Vec<ProxyPlan> = (1..=brokers)
        .map(|id| ProxyPlan { name: format!("kafka-{id}"), port: proxy_port(id), upstream: format!("{}:{CLIENT_PORT}", broker_name(id)) })
        .collect();
    let toxiproxy = ContainerPlan {
        name: format!("{prefix}-toxiproxy"),
        image: toxiproxy_name,
        tag: toxiproxy_tag,
        env: BTreeMap::new(),
        exposed: std::iter::once(TOXIPROXY_API_PORT).chain(proxies.iter().map(|p| p.port)).collect(),
        ready_line: None,
    };
    let voters = (1..=brokers).map(|id| format!("{id}@{}:{CONTROLLER_PORT}", broker_name(id))).collect::<Vec<_>>().join(",");
    let cluster_id = cluster_id(prefix);
    let kafka = (1..=brokers)
        .map(|id| ContainerPlan {
            name: broker_name(id),
            image: kafka_name.clone(),
            tag: kafka_tag.clone(),
            env: kafka_base_env(id, brokers, &broker_name(id), &voters, &cluster_id),
            exposed: Vec::new(),
            ready_line: Some("Kafka Server started".into()),
        })
        .collect();
    let replication = brokers.min(3) as i32;
    let topic_configs = if brokers >= 3 { vec![("min.insync.replicas".to_string(), "2".to_string())] } else { Vec::new() };
    Ok(Plan { network: prefix.to_string(), toxiproxy, proxies, kafka, replication, topic_configs })
}

/// Toxiproxy's listener port for broker `id`.
pub fn proxy_port(id: u32) -> u16 {
    TOXIPROXY_FIRST_PORT + id as u16 - 1
}

/// A KRaft cluster id (16 bytes, base64url without padding, 22 characters)
/// derived from `prefix`, so a plan is a pure function of its inputs.
pub fn cluster_id(prefix: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut bytes = [0u8; 16];
    for (half, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut hasher = DefaultHasher::new();
        (prefix, half).hash(&mut hasher);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = String::new();
    for byte in bytes {
        bits = (bits << 8) | u32::from(byte);
        count += 8;
        while count >= 6 {
            count -= 6;
            out.push(ALPHABET[((bits >> count) & 63) as usize] as char);
        }
    }
    if count > 0 {
        out.push(ALPHABET[((bits << (6 - count)) & 63) as usize] as char);
    }
    out
}

/// A broker's environment (the apache/kafka image reads `KAFKA_*` as
/// server properties), all but its advertised client listener.
fn kafka_base_env(id: u32, brokers: u32, host: &str, voters: &str, cluster_id: &str) -> BTreeMap<String, String> {
    let replication = brokers.min(3);
    let min_isr = if brokers >= 3 { 2 } else { 1 };
    [
        ("CLUSTER_ID", cluster_id.to_string()),
        ("KAFKA_NODE_ID", id.to_string()),
        ("KAFKA_PROCESS_ROLES", "broker,controller".into()),
        (
            "KAFKA_LISTENERS",
            format!("PLAINTEXT://0.0.0.0:{CLIENT_PORT},BROKER://0.0.0.0:{BROKER_PORT},CONTROLLER://0.0.0.0:{CONTROLLER_PORT}"),
        ),
        ("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT".into()),
        ("KAFKA_INTER_BROKER_LISTENER_NAME", "BROKER".into()),
        ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER".into()),
        ("KAFKA_CONTROLLER_QUORUM_VOTERS", voters.to_string()),
        // Filled in by kafka_env once Toxiproxy's ports are known; the
        // BROKER listener is reached directly on the network.
        ("KAFKA_ADVERTISED_LISTENERS", format!("BROKER://{host}:{BROKER_PORT}")),
        ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", replication.to_string()),
        ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", replication.to_string()),
        ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", min_isr.to_string()),
        ("KAFKA_DEFAULT_REPLICATION_FACTOR", replication.to_string()),
        ("KAFKA_MIN_INSYNC_REPLICAS", min_isr.to_string()),
        ("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0".into()),
        ("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

impl Plan {
    /// Broker `id`'s environment once Toxiproxy's listener for it is
    /// published on `host:port`: the client listener advertises that.
    pub fn kafka_env(&self, id: u32, host: &str, port: u16) -> BTreeMap<String, String> {
        let mut env = self.kafka[id as usize - 1].env.clone();
        let broker = env.remove("KAFKA_ADVERTISED_LISTENERS").unwrap_or_default();
        env.insert("KAFKA_ADVERTISED_LISTENERS".into(), format!("PLAINTEXT://{host}:{port},{broker}"));
        env
    }

    /// Toxiproxy's proxy configurations.
    pub fn proxy_configs(&self) -> Vec<ProxyConfig> {
        self.proxies
            .iter()
            .map(|p| ProxyConfig { name: p.name.clone(), listen: format!("0.0.0.0:{}", p.port), upstream: p.upstream.clone(), enabled: true })
            .collect()
    }
}

/// This process's session id, the value of [`SESSION_LABEL`].
pub fn session() -> &'static str {
    static SESSION: OnceLock<String> = OnceLock::new();
    SESSION.get_or_init(|| format!("faultlab-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]))
}

/// Whether a Docker daemon answers (the reason it does not, otherwise).
pub async fn daemon() -> Result<String, String> {
    let docker = testcontainers::bollard::Docker::connect_with_local_defaults().map_err(|e| format!("no Docker client configuration: {e}"))?;
    match tokio::time::timeout(Duration::from_secs(5), docker.version()).await {
        Ok(Ok(version)) => Ok(version.version.unwrap_or_else(|| "unknown".into())),
        Ok(Err(e)) => Err(format!("no Docker daemon answers ({e})")),
        Err(_) => Err("the Docker daemon did not answer within 5 s".into()),
    }
}

/// Remove every container (and network) this process labelled: for an
/// exit that cannot wait for the environment to be dropped.
pub async fn remove_leftovers() -> anyhow::Result<usize> {
    use testcontainers::bollard::query_parameters::{ListContainersOptions, ListNetworksOptions, RemoveContainerOptions};
    let docker = testcontainers::bollard::Docker::connect_with_local_defaults()?;
    let label = HashMap::from([("label".to_string(), vec![format!("{SESSION_LABEL}={}", session())])]);
    let containers =
        docker.list_containers(Some(ListContainersOptions { all: true, filters: Some(label), ..Default::default() })).await?;
    let mut removed = 0;
    for id in containers.iter().filter_map(|c| c.id.as_deref()) {
        if docker.remove_container(id, Some(RemoveContainerOptions { force: true, v: true, ..Default::default() })).await.is_ok() {
            removed += 1;
        }
    }
    let networks = docker.list_networks(None::<ListNetworksOptions>).await?;
    for name in networks.iter().filter_map(|n| n.name.as_deref()).filter(|n| n.starts_with(session())) {
        let _ = docker.remove_network(name).await;
    }
    Ok(removed)
}

/// Start Toxiproxy and `brokers` Kafka brokers behind it.
pub async fn start(config: &BackendConfig, brokers: u32) -> anyhow::Result<Environment> {
    let docker_version = daemon().await.map_err(|reason| anyhow::anyhow!("--backend docker needs a Docker daemon: {reason}"))?;
    let kafka_image = config.kafka_image.clone().unwrap_or_else(|| KAFKA_IMAGE.to_string());
    let toxiproxy_image = config.toxiproxy_image.clone().unwrap_or_else(|| TOXIPROXY_IMAGE.to_string());
    let prefix = format!("{}-{}", session(), &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let plan = plan(&prefix, brokers, &kafka_image, &toxiproxy_image).map_err(anyhow::Error::msg)?;

    let toxiproxy = container(&plan.toxiproxy, &plan.network, &plan.toxiproxy.env)
        .start()
        .await
        .with_context(|| format!("starting Toxiproxy ({toxiproxy_image})"))?;
    let host = toxiproxy.get_host().await.context("the Docker host's address")?.to_string();
    let api_port = toxiproxy.get_host_port_ipv4(TOXIPROXY_API_PORT).await?;
    let client = Client::new(&format!("http://{host}:{api_port}"));
    let proxy_version = wait_for_api(&client).await?;
    client.populate(&plan.proxy_configs()).await.context("creating Toxiproxy's proxies")?;
    let mut advertised = Vec::new();
    for proxy in &plan.proxies {
        advertised.push(toxiproxy.get_host_port_ipv4(proxy.port).await?);
    }

    // All at once: in KRaft combined mode each broker waits for a quorum
    // of the controllers before it says it started.
    let starting = plan.kafka.iter().zip(1..).zip(&advertised).map(|((kafka, id), port)| {
        let env = plan.kafka_env(id, &host, *port);
        container(kafka, &plan.network, &env).with_startup_timeout(KAFKA_STARTUP).start()
    });
    let kafka = futures::future::try_join_all(starting).await.with_context(|| format!("starting Kafka ({kafka_image})"))?;
    let kafka: Vec<Arc<ContainerAsync<GenericImage>>> = kafka.into_iter().map(Arc::new).collect();

    let bootstrap = advertised.iter().map(|port| format!("{host}:{port}")).collect::<Vec<_>>().join(",");
    let brokers_control = Arc::new(Brokers { containers: kafka.clone(), state: Default::default() });
    let faults = RemoteFaults { client, proxies: plan.proxies.iter().map(|p| p.name.clone()).collect(), brokers: Some(brokers_control) };
    let (_, kafka_tag) = parse_image(&kafka_image).map_err(anyhow::Error::msg)?;
    Ok(Environment::new(
        BackendInfo {
            backend: "docker".into(),
            broker: format!(
                "Apache Kafka ({kafka_image}, KRaft, {brokers} broker{}, Docker {docker_version})",
                if brokers == 1 { "" } else { "s" }
            ),
            broker_version: kafka_tag,
            proxy: format!("Toxiproxy ({toxiproxy_image}, one proxy per broker)"),
            proxy_version,
            client: format!("librdkafka {}", librdkafka_version()),
        },
        bootstrap,
        FaultControl::Remote(faults),
        Admin::Kafka { replication: plan.replication, configs: plan.topic_configs.clone() },
        Box::new(Running { _kafka: kafka, _toxiproxy: toxiproxy }),
    ))
}

/// The request for one planned container.
fn container(plan: &ContainerPlan, network: &str, env: &BTreeMap<String, String>) -> testcontainers::ContainerRequest<GenericImage> {
    let mut image = GenericImage::new(plan.image.as_str(), plan.tag.as_str());
    for port in &plan.exposed {
        image = image.with_exposed_port(ContainerPort::Tcp(*port));
    }
    if let Some(line) = &plan.ready_line {
        image = image.with_wait_for(WaitFor::message_on_stdout(line));
    }
    let mut request = image.with_network(network).with_container_name(&plan.name).with_label(SESSION_LABEL, session());
    for (key, value) in env {
        request = request.with_env_var(key, value);
    }
    request
}

/// Toxiproxy logs nothing reliable to wait for across versions: ask its API.
async fn wait_for_api(client: &Client) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match client.version().await {
            Ok(version) => return Ok(version),
            Err(e) if tokio::time::Instant::now() > deadline => bail!("Toxiproxy's API did not answer within 30 s: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Dropping it removes the containers (testcontainers removes each on drop;
/// the network goes with the last one).
struct Running {
    _kafka: Vec<Arc<ContainerAsync<GenericImage>>>,
    _toxiproxy: ContainerAsync<GenericImage>,
}

/// What a broker container is doing because of a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Stopped,
    Paused,
}

/// The broker containers, for broker faults.
struct Brokers {
    containers: Vec<Arc<ContainerAsync<GenericImage>>>,
    state: std::sync::Mutex<BTreeMap<i32, Held>>,
}

impl Brokers {
    fn get(&self, broker: i32) -> anyhow::Result<&ContainerAsync<GenericImage>> {
        usize::try_from(broker - 1)
            .ok()
            .and_then(|i| self.containers.get(i))
            .map(|c| c.as_ref())
            .ok_or_else(|| anyhow::anyhow!("there is no broker {broker} (brokers 1 to {})", self.containers.len()))
    }

    fn mark(&self, broker: i32, held: Option<Held>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match held {
            Some(held) => state.insert(broker, held),
            None => state.remove(&broker),
        };
    }
}

impl BrokerControl for Brokers {
    fn brokers(&self) -> i32 {
        self.containers.len() as i32
    }

    fn stop(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            // SIGTERM, then SIGKILL after 10 s: a clean broker shutdown.
            self.get(broker)?.stop_with_timeout(Some(10)).await.with_context(|| format!("stopping broker {broker}"))?;
            self.mark(broker, Some(Held::Stopped));
            Ok(())
        })
    }

    fn start(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.get(broker)?.start().await.with_context(|| format!("starting broker {broker} again"))?;
            self.mark(broker, None);
            Ok(())
        })
    }

    fn pause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.get(broker)?.pause().await.with_context(|| format!("pausing broker {broker}"))?;
            self.mark(broker, Some(Held::Paused));
            Ok(())
        })
    }

    fn unpause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.get(broker)?.unpause().await.with_context(|| format!("unpausing broker {broker}"))?;
            self.mark(broker, None);
            Ok(())
        })
    }

    fn restore(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let held: Vec<(i32, Held)> = self.state.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(b, h)| (*b, *h)).collect();
            for (broker, held) in held {
                match held {
                    Held::Stopped => self.start(broker).await?,
                    Held::Paused => self.unpause(broker).await?,
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_into_name_and_tag() {
        assert_eq!(parse_image("apache/kafka:4.1.0").unwrap(), ("apache/kafka".into(), "4.1.0".into()));
        assert_eq!(parse_image("ghcr.io/shopify/toxiproxy:2.12.0").unwrap(), ("ghcr.io/shopify/toxiproxy".into(), "2.12.0".into()));
        assert_eq!(parse_image("registry:5000/kafka").unwrap(), ("registry:5000/kafka".into(), "latest".into()));
        assert_eq!(parse_image("registry:5000/kafka:3.9.1").unwrap(), ("registry:5000/kafka".into(), "3.9.1".into()));
        assert!(parse_image("").is_err());
        assert!(parse_image("kafka:").is_err());
        assert!(parse_image("kafka@sha256:abc").is_err());
        // The pinned defaults parse, with a tag that is not "latest".
        assert_ne!(parse_image(KAFKA_IMAGE).unwrap().1, "latest");
        assert_ne!(parse_image(TOXIPROXY_IMAGE).unwrap().1, "latest");
    }

    #[test]
    fn one_broker_behind_one_proxy() {
        let plan = plan("fl-x", 1, KAFKA_IMAGE, TOXIPROXY_IMAGE).unwrap();
        assert_eq!(plan.network, "fl-x");
        assert_eq!(plan.toxiproxy.name, "fl-x-toxiproxy");
        assert_eq!(plan.toxiproxy.exposed, vec![8474, 19091]);
        assert_eq!(plan.proxies, vec![ProxyPlan { name: "kafka-1".into(), port: 19091, upstream: "fl-x-kafka-1:9092".into() }]);
        assert_eq!(plan.kafka.len(), 1);
        let kafka = &plan.kafka[0];
        assert_eq!((kafka.image.as_str(), kafka.tag.as_str()), ("apache/kafka", "4.1.0"));
        assert!(kafka.exposed.is_empty(), "no broker port is published: clients reach brokers only through Toxiproxy");
        assert_eq!(kafka.env["KAFKA_NODE_ID"], "1");
        assert_eq!(kafka.env["KAFKA_CONTROLLER_QUORUM_VOTERS"], "1@fl-x-kafka-1:9094");
        assert_eq!(kafka.env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], "1");
        assert_eq!(kafka.env["KAFKA_MIN_INSYNC_REPLICAS"], "1");
        assert_eq!(plan.replication, 1);
        assert!(plan.topic_configs.is_empty());
    }

    #[test]
    fn the_client_listener_advertises_toxiproxys_mapped_port() {
        let plan = plan("fl-x", 1, KAFKA_IMAGE, TOXIPROXY_IMAGE).unwrap();
        let env = plan.kafka_env(1, "127.0.0.1", 32801);
        assert_eq!(env["KAFKA_ADVERTISED_LISTENERS"], "PLAINTEXT://127.0.0.1:32801,BROKER://fl-x-kafka-1:9093");
        assert_eq!(env["KAFKA_LISTENERS"], "PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094");
        assert_eq!(env["KAFKA_INTER_BROKER_LISTENER_NAME"], "BROKER");
        assert_eq!(env["KAFKA_CONTROLLER_LISTENER_NAMES"], "CONTROLLER");
        // Every listener has a security protocol.
        for listener in ["PLAINTEXT", "BROKER", "CONTROLLER"] {
            assert!(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].contains(&format!("{listener}:PLAINTEXT")));
        }
        let configs = plan.proxy_configs();
        assert_eq!(configs[0].listen, "0.0.0.0:19091");
        assert_eq!(configs[0].upstream, "fl-x-kafka-1:9092");
    }

    #[test]
    fn three_brokers_replicate_three_times_with_two_in_sync() {
        let plan = plan("fl-y", 3, KAFKA_IMAGE, TOXIPROXY_IMAGE).unwrap();
        assert_eq!(plan.toxiproxy.exposed, vec![8474, 19091, 19092, 19093]);
        assert_eq!(plan.proxies.iter().map(|p| p.upstream.as_str()).collect::<Vec<_>>(), [
            "fl-y-kafka-1:9092",
            "fl-y-kafka-2:9092",
            "fl-y-kafka-3:9092"
        ]);
        assert_eq!(plan.replication, 3);
        assert_eq!(plan.topic_configs, vec![("min.insync.replicas".to_string(), "2".to_string())]);
        let ids: Vec<&str> = plan.kafka.iter().map(|k| k.env["CLUSTER_ID"].as_str()).collect();
        assert!(ids.iter().all(|id| *id == ids[0] && id.len() == 22), "one cluster id, 22 characters: {ids:?}");
        for (i, kafka) in plan.kafka.iter().enumerate() {
            assert_eq!(kafka.env["KAFKA_NODE_ID"], (i + 1).to_string());
            assert_eq!(kafka.env["KAFKA_CONTROLLER_QUORUM_VOTERS"], "1@fl-y-kafka-1:9094,2@fl-y-kafka-2:9094,3@fl-y-kafka-3:9094");
            assert_eq!(kafka.env["KAFKA_MIN_INSYNC_REPLICAS"], "2");
            assert_eq!(kafka.env["KAFKA_DEFAULT_REPLICATION_FACTOR"], "3");
            assert_eq!(kafka.env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], "3");
        }
        let env = plan.kafka_env(3, "127.0.0.1", 40003);
        assert_eq!(env["KAFKA_ADVERTISED_LISTENERS"], "PLAINTEXT://127.0.0.1:40003,BROKER://fl-y-kafka-3:9093");
    }

    #[test]
    fn bad_plans_are_refused() {
        assert!(plan("p", 0, KAFKA_IMAGE, TOXIPROXY_IMAGE).unwrap_err().contains("1 to 9 brokers"));
        assert!(plan("p", 1, "kafka:", TOXIPROXY_IMAGE).unwrap_err().starts_with("--kafka-image"));
        assert!(plan("p", 1, KAFKA_IMAGE, " ").unwrap_err().starts_with("--toxiproxy-image"));
    }

    #[test]
    fn cluster_ids_are_kraft_shaped_and_stable() {
        let id = cluster_id("abc");
        assert_eq!(id.len(), 22);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(id, cluster_id("abc"));
        assert_ne!(id, cluster_id("abd"));
    }
}
