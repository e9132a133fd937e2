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

use anyhow::Context;
use futures::future::BoxFuture;
use testcontainers::core::{ContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::external::{BrokerControl, RemoteFaults};
use super::kraft::{self, Node, ProxyPlan};
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

/// Everything one Docker environment consists of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub network: String,
    pub toxiproxy: ContainerPlan,
    pub proxies: Vec<ProxyPlan>,
    /// Where each broker's listeners are, on the Docker network.
    pub nodes: Vec<Node>,
    pub cluster_id: String,
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
/// per environment; also the network's name). The brokers' properties and
/// the proxies are [`kraft`]'s, as on the local backend.
pub fn plan(prefix: &str, brokers: u32, kafka_image: &str, toxiproxy_image: &str) -> Result<Plan, String> {
    if !(1..=kraft::MAX_BROKERS).contains(&brokers) {
        return Err(format!("the docker backend takes 1 to {} brokers, not {brokers}", kraft::MAX_BROKERS));
    }
    let (kafka_name, kafka_tag) = parse_image(kafka_image).map_err(|e| format!("--kafka-image: {e}"))?;
    let (toxiproxy_name, toxiproxy_tag) = parse_image(toxiproxy_image).map_err(|e| format!("--toxiproxy-image: {e}"))?;
    let nodes: Vec<Node> = (1..=brokers)
        .map(|id| Node {
            id,
            bind: "0.0.0.0".into(),
            host: format!("{prefix}-kafka-{id}"),
            client_port: CLIENT_PORT,
            broker_port: BROKER_PORT,
            controller_port: CONTROLLER_PORT,
        })
        .collect();
    let proxies: Vec<ProxyPlan> = kraft::proxy_plan(&nodes, |id| format!("0.0.0.0:{}", proxy_port(id)));
    let toxiproxy = ContainerPlan {
        name: format!("{prefix}-toxiproxy"),
        image: toxiproxy_name,
        tag: toxiproxy_tag,
        env: BTreeMap::new(),
        exposed: std::iter::once(TOXIPROXY_API_PORT).chain((1..=brokers).map(proxy_port)).collect(),
        ready_line: None,
    };
    let cluster_id = kraft::cluster_id(prefix);
    let kafka = nodes
        .iter()
        .map(|node| ContainerPlan {
            name: node.host.clone(),
            image: kafka_name.clone(),
            tag: kafka_tag.clone(),
            env: kafka_env(&nodes, node.id, None, &cluster_id),
            exposed: Vec::new(),
            ready_line: Some("Kafka Server started".into()),
        })
        .collect();
    let (replication, topic_configs) = kraft::topic_replication(brokers);
    Ok(Plan { network: prefix.to_string(), toxiproxy, proxies, nodes, cluster_id, kafka, replication, topic_configs })
}

/// Toxiproxy's listener port for broker `id`, in its container.
pub fn proxy_port(id: u32) -> u16 {
    TOXIPROXY_FIRST_PORT + id as u16 - 1
}

/// A broker's environment: the apache/kafka image reads `KAFKA_*` as
/// server properties, and `CLUSTER_ID` to format its storage.
fn kafka_env(nodes: &[Node], id: u32, advertised_client: Option<&str>, cluster_id: &str) -> BTreeMap<String, String> {
    kraft::properties(nodes, id, advertised_client)
        .iter()
        .map(|(k, v)| (kraft::env_var(k), v.clone()))
        .chain([("CLUSTER_ID".to_string(), cluster_id.to_string())])
        .collect()
}

impl Plan {
    /// Broker `id`'s environment once Toxiproxy's listener for it is
    /// published on `host:port`: the client listener advertises that.
    pub fn kafka_env(&self, id: u32, host: &str, port: u16) -> BTreeMap<String, String> {
        kafka_env(&self.nodes, id, Some(&format!("{host}:{port}")), &self.cluster_id)
    }

    /// Toxiproxy's proxy configurations.
    pub fn proxy_configs(&self) -> Vec<ProxyConfig> {
        self.proxies
            .iter()
            .map(|p| ProxyConfig { name: p.name.clone(), listen: p.listen.clone(), upstream: p.upstream.clone(), enabled: true })
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
    let docker =
        testcontainers::bollard::Docker::connect_with_local_defaults().map_err(|e| format!("no Docker client configuration: {e}"))?;
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
    let containers = docker.list_containers(Some(ListContainersOptions { all: true, filters: Some(label), ..Default::default() })).await?;
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
    let proxy_version = client.wait_ready(Duration::from_secs(30)).await?;
    client.populate(&plan.proxy_configs()).await.context("creating Toxiproxy's proxies")?;
    let mut advertised = Vec::new();
    for node in &plan.nodes {
        advertised.push(toxiproxy.get_host_port_ipv4(proxy_port(node.id)).await?);
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
            backend: super::Backend::Docker.name().into(),
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
        assert_eq!(
            plan.proxies,
            vec![ProxyPlan { name: "kafka-1".into(), listen: "0.0.0.0:19091".into(), upstream: "fl-x-kafka-1:9092".into() }]
        );
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
        assert_eq!(
            plan.proxies.iter().map(|p| p.upstream.as_str()).collect::<Vec<_>>(),
            ["fl-y-kafka-1:9092", "fl-y-kafka-2:9092", "fl-y-kafka-3:9092"]
        );
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
}
