//! The local backend: real Apache Kafka (KRaft) brokers and a real
//! Toxiproxy, as child processes on loopback.
//!
//! ```text
//! client ─▶ Toxiproxy proxy kafka-i (127.0.0.1:<any>) ─▶ broker i PLAINTEXT (127.0.0.1:<free>)
//! ```
//! A scenario with Kafka toxics gets faultlab's proxy in Kafka mode in
//! place of Toxiproxy, served in this process behind the same HTTP API
//! ([`proxy_server`]): Toxiproxy has no Kafka toxics.
//!
//! Needs Java, Apache Kafka's jars and `toxiproxy-server` (not with Kafka
//! toxics) ([`components::find`] says where it looks; `scripts/provision`
//! installs them). The brokers' properties and the proxy plan are [`kraft`]'s, as on
//! the docker backend. Faults go through Toxiproxy's HTTP API with the same
//! [`RemoteFaults`] as the external and docker backends; broker faults act
//! on the processes: `broker_down` stops a broker with SIGTERM and starts it
//! again on the same data, `broker_pause` is SIGSTOP and SIGCONT.
//!
//! Nothing outlives the environment: dropping it kills and reaps every
//! child and removes the data directory; the children also die with
//! faultlab however it dies ([`process`]), and [`remove_leftovers`] is for
//! an exit that cannot wait for drops (a second Ctrl-C).

pub mod components;
mod leaders;
pub mod process;
mod proxy_server;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::future::BoxFuture;

use super::external::{BrokerControl, RemoteFaults};
use super::kraft::{self, Node};
use super::{Admin, BackendInfo, Environment, FaultControl, ProxyMode, librdkafka_version};
use crate::toxiproxy::ProxyConfig;
use components::Components;
use process::{Child, Spec};

/// What a broker prints once it serves clients.
const READY_LINE: &str = "Kafka Server started";
/// How long a broker may take to start (a cold JVM on a busy 2-core machine).
const STARTUP: Duration = Duration::from_secs(120);
/// How long a broker may take to shut down cleanly on SIGTERM.
const SHUTDOWN: Duration = Duration::from_secs(30);

/// JVM settings: a small heap and a fast start; Kafka's own scripts use
/// G1 and a 1 GB heap, far more than a test run needs.
const JVM_FLAGS: &[&str] = &["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"];

/// Kafka's tools (storage format, reassignment, election) are short-lived
/// JVMs: C1-compiled code and a small serial-collected heap start them in
/// about half the time (docs/local-backend.md).
const TOOL_FLAGS: &[&str] = &["-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"];

/// Kafka's logging: INFO to stdout (where the ready line is read), the
/// chatty loggers at WARN, as Kafka's own configuration has them, and the
/// dump of every config value (hundreds of lines, three times a start) off.
/// log4j's shutdown hook is off so a SIGTERM'd broker logs to its end.
const LOG4J2: &str = "\
status = warn
shutdownHook = disable
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.coordinator.name = kafka.coordinator
logger.coordinator.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
";

/// Start `brokers` Kafka brokers and a proxy server in front of them
/// (Toxiproxy, or faultlab's in Kafka mode when `mode` asks for Kafka
/// frames: [`proxy_server`]); `seed` seeds the proxies' toxicity rolls.
pub async fn start(brokers: u32, seed: u64, mode: ProxyMode) -> anyhow::Result<Environment> {
    if !(1..=kraft::MAX_BROKERS).contains(&brokers) {
        bail!("the local backend takes 1 to {} brokers, not {brokers}", kraft::MAX_BROKERS);
    }
    let components = components::find_for(mode).map_err(anyhow::Error::msg)?;
    // A port found free can be taken (as some connection's ephemeral port)
    // before Kafka or Toxiproxy binds it: then start again on new ports.
    let mut attempt = 1;
    loop {
        match start_once(&components, brokers, seed, mode).await {
            Err(e) if attempt < 3 && format!("{e:#}").to_lowercase().contains("address already in use") => {
                tracing::warn!("the local backend lost a port it had chosen; starting again ({e:#})");
                attempt += 1;
            }
            started => return started,
        }
    }
}

async fn start_once(components: &Components, brokers: u32, seed: u64, mode: ProxyMode) -> anyhow::Result<Environment> {
    let dir = tempfile::Builder::new().prefix("faultlab-local-").tempdir().context("creating the local backend's data directory")?;
    let dir = DataDir::register(dir);

    let proxy_server::Started { server, client, name: proxy_name, version: proxy_version, note, ledger } =
        proxy_server::start(components, mode, seed).await?;

    let ports = free_ports(3 * brokers as usize)?;
    let nodes: Vec<Node> = (1..=brokers)
        .zip(ports.chunks(3))
        .map(|(id, p)| Node {
            id,
            bind: "127.0.0.1".into(),
            host: "127.0.0.1".into(),
            client_port: p[0],
            broker_port: p[1],
            controller_port: p[2],
        })
        .collect();
    // The proxy server picks each listener's port; the brokers then advertise them.
    let mut advertised = Vec::new();
    for plan in kraft::proxy_plan(&nodes, |_| "127.0.0.1:0".into()) {
        let config = ProxyConfig { name: plan.name.clone(), listen: plan.listen, upstream: plan.upstream, enabled: true };
        let created = client.create_proxy_with(&config).await.with_context(|| format!("creating the proxy {}", plan.name))?;
        advertised.push((plan.name, created.listen));
    }

    let cluster_id = kraft::cluster_id(&dir.path.to_string_lossy());
    std::fs::write(dir.path.join("log4j2.properties"), LOG4J2)?;
    let mut specs = Vec::new();
    for (node, (_, listen)) in nodes.iter().zip(&advertised) {
        let mut properties = kraft::properties(&nodes, node.id, Some(listen));
        properties.insert("log.dirs".into(), dir.path.join(format!("broker-{}", node.id)).to_string_lossy().into_owned());
        let file = dir.path.join(format!("server-{}.properties", node.id));
        std::fs::write(&file, kraft::properties_file(&properties))?;
        specs.push(broker_spec(components, &dir.path, &file, node.id));
    }
    let formats = specs.iter().map(|spec| format_storage(components, &dir.path, spec, &cluster_id));
    futures::future::try_join_all(formats).await?;

    let mut children = Vec::new();
    for spec in &specs {
        children.push(Child::spawn(spec)?);
    }
    // All at once: each waits for a quorum of the controllers.
    futures::future::try_join_all(children.iter_mut().map(|c| c.ready(STARTUP))).await?;

    let cluster = Arc::new(Cluster {
        brokers: Mutex::new(children.into_iter().zip(specs).map(|(child, spec)| Slot { spec, child: Some(child), held: None }).collect()),
        components: components.clone(),
        direct: nodes.iter().map(|n| format!("{}:{}", n.host, n.broker_port)).collect::<Vec<_>>().join(","),
        leaders_before: tokio::sync::Mutex::new(None),
        _proxy_server: server,
        dir,
    });
    let proxies: Vec<String> = advertised.iter().map(|(name, _)| name.clone()).collect();
    let bootstrap = advertised.iter().map(|(_, listen)| listen.clone()).collect::<Vec<_>>().join(",");
    let faults = RemoteFaults { client: client.clone(), proxies, brokers: Some(cluster.clone()) };
    let (replication, configs) = kraft::topic_replication(brokers);
    let mut env = Environment::new(
        BackendInfo {
            backend: super::Backend::Local.name().into(),
            broker: format!("Apache Kafka (child processes, KRaft, {brokers} broker{})", if brokers == 1 { "" } else { "s" }),
            broker_version: components.kafka_version.clone(),
            proxy: proxy_name,
            proxy_version,
            client: format!("librdkafka {}", librdkafka_version()),
        },
        bootstrap,
        FaultControl::Remote(faults),
        Admin::Kafka { replication, configs },
        Box::new(cluster),
    );
    env.toxiproxy_api = Some(client.base().to_string());
    env.notes.extend(note);
    env.ledger = ledger;
    Ok(env)
}

/// The StorageTool formats a broker's log directory for the cluster (what
/// Kafka's `kafka-storage.sh format` does), before its first start.
async fn format_storage(components: &Components, dir: &Path, broker: &Spec, cluster_id: &str) -> anyhow::Result<()> {
    let properties = broker.args.last().expect("a broker's last argument is its properties file");
    let output = tokio::process::Command::new(&components.java)
        .args(jvm_args(components, dir, TOOL_FLAGS))
        .args(["kafka.tools.StorageTool", "format", "--cluster-id", cluster_id, "--config", properties, "--ignore-formatted"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("formatting the storage of {}", broker.name))?;
    if !output.status.success() {
        bail!(
            "formatting the storage of {} failed ({}):\n{}{}",
            broker.name,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// The JVM's arguments for any of Kafka's main classes: flags, logging, classpath.
fn jvm_args(components: &Components, dir: &Path, flags: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    args.push(format!("-Dlog4j2.configurationFile={}", dir.join("log4j2.properties").display()));
    args.push("-cp".into());
    args.push(format!("{}/*", components.kafka_libs.display()));
    args
}

fn broker_spec(components: &Components, dir: &Path, properties: &Path, id: u32) -> Spec {
    let mut args = jvm_args(components, dir, JVM_FLAGS);
    args.push("kafka.Kafka".into());
    args.push(properties.to_string_lossy().into_owned());
    Spec { name: format!("broker {id}"), program: components.java.clone(), args, env: Vec::new(), ready_line: Some(READY_LINE.into()) }
}

/// `count` distinct ports that were free a moment ago (held together while
/// choosing, so none repeats). Kafka binds its own listeners and cannot be
/// given port 0 and asked later.
pub(super) fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners: Vec<std::net::TcpListener> =
        (0..count).map(|_| std::net::TcpListener::bind("127.0.0.1:0")).collect::<Result<_, _>>().context("finding free ports")?;
    listeners.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// What a broker is doing because of a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Stopped,
    Paused,
}

struct Slot {
    spec: Spec,
    /// None while stopped by a fault.
    child: Option<Child>,
    held: Option<Held>,
}

/// The running cluster. Dropping it (with the environment) kills the
/// brokers, then the proxy server, then removes the data: fields drop in order.
struct Cluster {
    brokers: Mutex<Vec<Slot>>,
    components: Components,
    /// The brokers' BROKER listeners, reached around Toxiproxy (for Kafka's
    /// tools: a fault in force must not stop its own undoing).
    direct: String,
    /// Partition assignments before a `leader_change`, to put back.
    leaders_before: tokio::sync::Mutex<Option<Vec<leaders::Assignment>>>,
    /// Toxiproxy's child process, or faultlab's proxy served in process.
    _proxy_server: Box<dyn Send + Sync>,
    dir: DataDir,
}

impl Cluster {
    fn with_slot<T>(&self, broker: i32, f: impl FnOnce(&mut Slot) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mut brokers = self.brokers.lock().unwrap_or_else(|e| e.into_inner());
        let count = brokers.len();
        let slot = usize::try_from(broker - 1)
            .ok()
            .and_then(|i| brokers.get_mut(i))
            .ok_or_else(|| anyhow::anyhow!("there is no broker {broker} (brokers 1 to {count})"))?;
        f(slot)
    }

    fn signal(&self, broker: i32, signal: libc::c_int, held: Option<Held>) -> anyhow::Result<()> {
        self.with_slot(broker, |slot| {
            let child = slot.child.as_ref().ok_or_else(|| anyhow::anyhow!("broker {broker} is stopped"))?;
            child.signal(signal)?;
            slot.held = held;
            Ok(())
        })
    }
}

impl BrokerControl for Cluster {
    fn brokers(&self) -> i32 {
        self.brokers.lock().unwrap_or_else(|e| e.into_inner()).len() as i32
    }

    fn stop(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let child = self.with_slot(broker, |slot| {
                slot.held = Some(Held::Stopped);
                slot.child.take().ok_or_else(|| anyhow::anyhow!("broker {broker} is already stopped"))
            })?;
            // SIGTERM: a clean, controlled shutdown, as `docker stop` does.
            child.terminate(SHUTDOWN).await.with_context(|| format!("stopping broker {broker}"))
        })
    }

    fn start(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let spec = self.with_slot(broker, |slot| Ok(slot.spec.clone()))?;
            let mut child = Child::spawn(&spec)?;
            // The fault lasts until the broker serves clients again.
            child.ready(STARTUP).await.with_context(|| format!("starting broker {broker} again"))?;
            self.with_slot(broker, |slot| {
                slot.child = Some(child);
                slot.held = None;
                Ok(())
            })
        })
    }

    fn pause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.signal(broker, libc::SIGSTOP, Some(Held::Paused)) })
    }

    fn unpause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.signal(broker, libc::SIGCONT, None) })
    }

    fn move_leaders(&self, broker: i32, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let mut before = self.leaders_before.lock().await;
            let now = leaders::current(&self.direct).await?;
            let moved = leaders::preferring(&now, broker, partition);
            leaders::apply(&self.components, &self.dir.path, &self.direct, &now, &moved).await?;
            before.get_or_insert(now);
            Ok(())
        })
    }

    fn restore_leaders(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let mut before = self.leaders_before.lock().await;
            if let Some(assignments) = before.take() {
                let now = leaders::current(&self.direct).await?;
                leaders::apply(&self.components, &self.dir.path, &self.direct, &now, &assignments).await?;
            }
            Ok(())
        })
    }

    fn restore(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let held: Vec<(i32, Held)> = self
                .brokers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .zip(1..)
                .filter_map(|(slot, broker)| slot.held.map(|h| (broker, h)))
                .collect();
            for (broker, held) in held {
                match held {
                    Held::Stopped => self.start(broker).await?,
                    Held::Paused => self.unpause(broker).await?,
                }
            }
            self.restore_leaders().await
        })
    }
}

/// The data directories of live environments, for [`remove_leftovers`].
static DATA_DIRS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// An environment's data directory: removed on drop, and known to
/// [`remove_leftovers`] until then.
struct DataDir {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl DataDir {
    fn register(dir: tempfile::TempDir) -> DataDir {
        let path = dir.path().to_path_buf();
        DATA_DIRS.lock().unwrap_or_else(|e| e.into_inner()).insert(path.clone());
        DataDir { path, _dir: dir }
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        DATA_DIRS.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.path);
    }
}

/// Kill every child of every live environment and remove their data: for
/// an exit that cannot wait for the environments to be dropped. Returns
/// how many processes it killed.
pub fn remove_leftovers() -> usize {
    let killed = process::kill_all();
    for dir in std::mem::take(&mut *DATA_DIRS.lock().unwrap_or_else(|e| e.into_inner())) {
        let _ = std::fs::remove_dir_all(dir);
    }
    killed
}
