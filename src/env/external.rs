//! The external backend: the user's own Kafka cluster behind the user's
//! own Toxiproxy, driven through Toxiproxy's HTTP API.
//!
//! faultlab starts nothing here. Clients connect to `--bootstrap`, which
//! must be a Toxiproxy listener, and every broker must advertise a
//! Toxiproxy listener too: a client connects to the bootstrap address only
//! to learn the brokers' advertised addresses, then connects to those. A
//! broker that advertises its own address is reached around the proxy, and
//! faults never touch its traffic; [`start`] checks this and says so in the
//! report's notes.
//!
//! [`RemoteFaults`] plays faults through the Toxiproxy API; the Docker
//! backend uses it too, with its containers for broker faults.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::faults::Removed;
use super::{Admin, BackendConfig, BackendInfo, Environment, FaultControl, ProxyMode, librdkafka_version};
use crate::proxy::Toxic;
use crate::scenario::BackendFault;
use crate::toxiproxy::Client;

/// How long one Toxiproxy API call may take before it counts as failed
/// (Toxiproxy itself gives up on a request after 25 s).
const API_PATIENCE: Duration = Duration::from_secs(30);
/// How long a disarmed toxic is left in place before it is deleted: long
/// enough for the links whose client has gone to fail their last write and
/// leave the proxy, so the DELETE has nothing to drain into them.
const DISARMED_FLUSH: Duration = Duration::from_millis(250);
/// How long removing one toxic may take, retries included.
const REMOVAL_PATIENCE: Duration = Duration::from_secs(120);

/// Toxiproxy's default API address.
pub const DEFAULT_TOXIPROXY: &str = "http://127.0.0.1:8474";

/// What `--backend external` needs, checked before anything starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalConfig {
    pub bootstrap: String,
    pub toxiproxy: String,
    /// Proxies to play toxics on; empty: every proxy the API lists.
    pub proxies: Vec<String>,
}

impl ExternalConfig {
    /// The flags given, or a message naming the missing ones and what they
    /// take.
    pub fn from_flags(config: &BackendConfig) -> Result<ExternalConfig, String> {
        let mut missing = Vec::new();
        let bootstrap = config.bootstrap.clone().filter(|b| !b.trim().is_empty());
        if bootstrap.is_none() {
            missing.push("--bootstrap HOST:PORT[,HOST:PORT...] (the Toxiproxy listener in front of your cluster; also FAULTLAB_BOOTSTRAP)");
        }
        let toxiproxy = config.toxiproxy.clone().filter(|t| !t.trim().is_empty());
        if toxiproxy.is_none() {
            missing.push("--toxiproxy URL (Toxiproxy's HTTP API, e.g. http://127.0.0.1:8474; also FAULTLAB_TOXIPROXY)");
        }
        if !missing.is_empty() {
            return Err(format!("--backend external needs {}", missing.join(" and ")));
        }
        let (bootstrap, toxiproxy) = (bootstrap.unwrap_or_default(), toxiproxy.unwrap_or_default());
        for server in bootstrap.split(',') {
            if split_host_port(server.trim()).is_none() {
                return Err(format!("--bootstrap {bootstrap}: {server:?} is not HOST:PORT"));
            }
        }
        if !(toxiproxy.starts_with("http://") || toxiproxy.starts_with("https://")) {
            return Err(format!("--toxiproxy {toxiproxy}: expected the API's URL, e.g. {DEFAULT_TOXIPROXY}"));
        }
        Ok(ExternalConfig { bootstrap, toxiproxy, proxies: config.toxiproxy_proxies.clone() })
    }
}

/// `host:port` (`[v6]:port` too) as host and port.
pub fn split_host_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && port != 0).then_some((host, port))
}

/// Connect to the user's Toxiproxy and cluster. `mode` is what the
/// scenario's faults need of the proxy.
///
/// Kafka toxics are allowed here, not refused by the catalogue: the user's
/// proxy may well be faultlab's in Kafka mode (`faultlab proxy --kafka`).
/// A Toxiproxy says who it is (`/version` is
/// faultlab's only for faultlab), so one that cannot play them is refused
/// here, before any run. A faultlab proxy that forwards bytes refuses a
/// Kafka toxic when it is added (400), and [`RemoteFaults::add`] says what
/// to do.
pub async fn start(config: &BackendConfig, mode: ProxyMode) -> anyhow::Result<Environment> {
    let config = ExternalConfig::from_flags(config).map_err(anyhow::Error::msg)?;
    let client = Client::new(&config.toxiproxy);
    let version = client.version().await.map_err(|e| {
        anyhow::anyhow!(
            "the Toxiproxy API at {} does not answer ({e}); start Toxiproxy or pass its API URL with --toxiproxy",
            config.toxiproxy
        )
    })?;
    if mode == ProxyMode::KafkaFrames && !version.starts_with("faultlab") {
        bail!(
            "the scenario has Kafka toxics, and the proxy at {} is Toxiproxy {version}, which has none. Put faultlab's proxy \
             in front of the cluster instead (`faultlab proxy --kafka BOOTSTRAP`, then --bootstrap its Kafka listener and \
             --toxiproxy its API), or run the scenario with --backend embedded, mock or local",
            config.toxiproxy
        );
    }
    // The metadata first: a faultlab proxy in Kafka mode (`faultlab proxy
    // --kafka`) creates each broker's listener when it first sees the broker
    // in a response, so its proxies are all listed only after a metadata read.
    let brokers = advertised_brokers(&config.bootstrap).await?;
    let listed = client.proxies().await.with_context(|| format!("listing the proxies of the Toxiproxy at {}", config.toxiproxy))?;
    let proxies = choose_proxies(&config.proxies, &listed.keys().cloned().collect::<Vec<_>>())
        .map_err(|e| anyhow::anyhow!("Toxiproxy at {}: {e}", config.toxiproxy))?;

    let listen_ports: Vec<u16> =
        proxies.iter().filter_map(|name| listed.get(name)).filter_map(|p| split_host_port(&p.listen).map(|(_, port)| port)).collect();
    let bypassing: Vec<String> = brokers
        .iter()
        .filter(|(_, address)| split_host_port(address).is_none_or(|(_, port)| !listen_ports.contains(&port)))
        .map(|(id, address)| format!("broker {id} advertises {address}"))
        .collect();

    let faults = RemoteFaults { client, proxies: proxies.clone(), brokers: None };
    faults.clear().await?;
    let mut env = Environment::new(
        BackendInfo {
            backend: super::Backend::External.name().into(),
            broker: format!("Kafka at {} ({} broker{})", config.bootstrap, brokers.len(), if brokers.len() == 1 { "" } else { "s" }),
            broker_version: "unknown (the Kafka protocol does not report it)".into(),
            proxy: format!("Toxiproxy at {} (proxies: {})", config.toxiproxy, proxies.join(", ")),
            proxy_version: version,
            client: format!("librdkafka {}", librdkafka_version()),
        },
        config.bootstrap.clone(),
        FaultControl::Remote(faults),
        // The cluster's default replication factor.
        Admin::Kafka { replication: -1, configs: Vec::new() },
        Box::new(()),
    );
    if !bypassing.is_empty() {
        env.notes.push(format!(
            "{}, which is not a listen port of the Toxiproxy proxies used ({}): clients reach it around Toxiproxy and \
             faults do not touch that traffic. Point the broker's advertised listener at its Toxiproxy listener.",
            bypassing.join("; "),
            proxies.join(", ")
        ));
    }
    Ok(env)
}

/// The proxies to play faults on: those asked for (each must exist), or
/// every proxy when none was asked for.
pub fn choose_proxies(asked: &[String], listed: &[String]) -> Result<Vec<String>, String> {
    if listed.is_empty() {
        return Err("it has no proxies; create one per broker (listen on the port the broker advertises, upstream the broker)".into());
    }
    if asked.is_empty() {
        return Ok(listed.to_vec());
    }
    if let Some(unknown) = asked.iter().find(|a| !listed.contains(a)) {
        return Err(format!("--toxiproxy-proxy {unknown}: no such proxy (it has: {})", listed.join(", ")));
    }
    Ok(asked.to_vec())
}

/// The brokers the cluster advertises (id, host:port), read through `bootstrap`.
async fn advertised_brokers(bootstrap: &str) -> anyhow::Result<Vec<(i32, String)>> {
    let bootstrap = bootstrap.to_string();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .context("creating a client to read the cluster's metadata")?;
        let metadata = consumer
            .fetch_metadata(None, Duration::from_secs(10))
            .with_context(|| format!("reading the cluster's metadata through {bootstrap} (is Kafka reachable through Toxiproxy there?)"))?;
        anyhow::Ok(metadata.brokers().iter().map(|b| (b.id(), format!("{}:{}", b.host(), b.port()))).collect())
    })
    .await?
}

/// Stops, starts and pauses brokers (the Docker backend's containers).
pub trait BrokerControl: Send + Sync {
    /// How many brokers, numbered from 1.
    fn brokers(&self) -> i32;
    fn stop(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    fn start(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    fn pause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    fn unpause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Bring every broker back (start the stopped, unpause the paused,
    /// leadership where it was).
    fn restore(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Move the leadership of `partition` (every partition when `None`)
    /// to `broker`, until [`BrokerControl::restore_leaders`].
    fn move_leaders(&self, broker: i32, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (broker, partition);
        Box::pin(async { bail!("this backend cannot move partition leaders (the mock and local backends can)") })
    }
    fn restore_leaders(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// Faults played through a Toxiproxy API on named proxies (a toxic goes
/// on every one of them), and broker faults when the backend controls the
/// brokers.
#[derive(Clone)]
pub struct RemoteFaults {
    pub client: Client,
    pub proxies: Vec<String>,
    pub brokers: Option<Arc<dyn BrokerControl>>,
}

impl RemoteFaults {
    pub async fn add(&self, toxic: &Toxic) -> anyhow::Result<()> {
        for proxy in &self.proxies {
            self.client.add_toxic(proxy, toxic).await.map_err(|e| match e.status() {
                Some(_) if toxic.kind.is_kafka() => anyhow::anyhow!(kafka_toxic_refused(toxic, proxy, &e)),
                _ => anyhow::Error::from(e).context(format!("adding toxic {} to proxy {proxy}", toxic.name)),
            })?;
        }
        Ok(())
    }

    /// Remove toxic `name` from every proxy and make sure it is gone.
    ///
    /// Real Toxiproxy's DELETE can block for minutes, and the whole proxy
    /// with it: removing a toxic flushes what it holds, chunk by chunk with
    /// 5 s of patience each, into links whose client has gone (librdkafka
    /// drops a connection whose request timed out), while holding the lock
    /// that new connections need (Toxiproxy's link.go `RemoveToxic`;
    /// upstream issue #558). Updating a toxic does not drain: the toxic is
    /// only replaced. So the toxic is first disarmed on every proxy
    /// (toxicity 0: a no-op on every connection; held data goes through at
    /// once, and links whose client has gone fail their write and leave),
    /// and the fault ends there; then it is deleted. A DELETE that still
    /// fails is followed by a GET: the toxic is gone once the API says so
    /// (404), retrying until then.
    pub async fn remove(&self, name: &str) -> anyhow::Result<Removed> {
        self.remove_from(&self.proxies, name).await
    }

    /// [`RemoteFaults::remove`] on some of the proxies.
    async fn remove_from(&self, proxies: &[String], name: &str) -> anyhow::Result<Removed> {
        let mut notes = Vec::new();
        let mut disarmed = Vec::new();
        for proxy in proxies {
            match tokio::time::timeout(API_PATIENCE, self.client.set_toxicity(proxy, name, 0.0)).await {
                Ok(Ok(_)) => disarmed.push(proxy.as_str()),
                Ok(Err(e)) if e.status() == Some(404) => {}
                Ok(Err(e)) => notes.push(format!("disarming toxic {name} on proxy {proxy} failed ({e})")),
                Err(_) => notes.push(format!("disarming toxic {name} on proxy {proxy}: no answer within {API_PATIENCE:?}")),
            }
        }
        let mut ended = tokio::time::Instant::now();
        tokio::time::sleep(DISARMED_FLUSH).await;
        for proxy in proxies {
            let deleted = self.delete_verified(proxy, name).await?;
            if !disarmed.contains(&proxy.as_str()) {
                // The fault went on until the toxic was gone.
                ended = tokio::time::Instant::now();
            }
            notes.extend(deleted);
        }
        Ok(Removed { ended, notes })
    }

    /// DELETE toxic `name` on `proxy` until a GET says it is gone; a note
    /// when that took more than one DELETE.
    async fn delete_verified(&self, proxy: &str, name: &str) -> anyhow::Result<Option<String>> {
        let started = tokio::time::Instant::now();
        let mut failures = Vec::new();
        loop {
            match tokio::time::timeout(API_PATIENCE, self.client.remove_toxic(proxy, name)).await {
                Ok(Ok(())) => break,
                // Gone already: removed by an earlier try, or by someone else.
                Ok(Err(e)) if e.status() == Some(404) => break,
                Ok(Err(e)) => failures.push(e.to_string()),
                Err(_) => failures.push(format!("DELETE {name} on proxy {proxy}: no answer within {API_PATIENCE:?}")),
            }
            match tokio::time::timeout(API_PATIENCE, self.client.toxic(proxy, name)).await {
                Ok(Err(e)) if e.status() == Some(404) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => failures.push(e.to_string()),
                Err(_) => failures.push(format!("GET {name} on proxy {proxy}: no answer within {API_PATIENCE:?}")),
            }
            if started.elapsed() > REMOVAL_PATIENCE {
                bail!(
                    "toxic {name} is still on proxy {proxy} after {:.0} s of trying to remove it: {}",
                    started.elapsed().as_secs_f64(),
                    failures.join("; ")
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok((!failures.is_empty()).then(|| {
            format!(
                "removing toxic {name} from proxy {proxy} took {:.1} s ({}); it was then verified gone",
                started.elapsed().as_secs_f64(),
                failures.join("; ")
            )
        }))
    }

    pub async fn begin(&self, fault: &BackendFault) -> anyhow::Result<()> {
        match fault {
            BackendFault::ProxyDown => {
                for proxy in &self.proxies {
                    self.client.disable(proxy).await.with_context(|| format!("disabling proxy {proxy}"))?;
                }
                Ok(())
            }
            BackendFault::BrokerDown(target) => self.broker_control(fault)?.stop(target.broker).await,
            BackendFault::BrokerPause(target) => self.broker_control(fault)?.pause(target.broker).await,
            BackendFault::LeaderChange(change) => self.broker_control(fault)?.move_leaders(change.broker, change.partition).await,
            BackendFault::BrokerRtt(rtt) => {
                let proxy = self.broker_proxy(fault, rtt.broker)?;
                let toxic = broker_rtt_toxic(rtt);
                self.client.add_toxic(&proxy, &toxic).await.with_context(|| format!("adding toxic {} to proxy {proxy}", toxic.name))?;
                Ok(())
            }
            _ => bail!("this backend cannot play {} (the mock can)", fault.type_name()),
        }
    }

    pub async fn end(&self, fault: &BackendFault) -> anyhow::Result<()> {
        match fault {
            BackendFault::ProxyDown => self.enable_all().await,
            BackendFault::BrokerDown(target) => self.broker_control(fault)?.start(target.broker).await,
            BackendFault::BrokerPause(target) => self.broker_control(fault)?.unpause(target.broker).await,
            BackendFault::LeaderChange(_) => self.broker_control(fault)?.restore_leaders().await,
            BackendFault::BrokerRtt(rtt) => {
                let proxy = self.broker_proxy(fault, rtt.broker)?;
                self.remove_from(&[proxy], &broker_rtt_toxic(rtt).name).await.map(drop)
            }
            _ => Ok(()),
        }
    }

    /// The brokers, for a broker fault: only the local and docker backends control them.
    fn broker_control(&self, fault: &BackendFault) -> anyhow::Result<&Arc<dyn BrokerControl>> {
        self.brokers.as_ref().ok_or_else(|| {
            anyhow::anyhow!("{} needs control of the brokers, which only the local and docker backends have", fault.type_name())
        })
    }

    /// Broker `broker`'s own proxy, on a backend that started its brokers
    /// behind one proxy each ([`super::kraft::proxy_name`]).
    fn broker_proxy(&self, fault: &BackendFault, broker: i32) -> anyhow::Result<String> {
        self.broker_control(fault)?;
        let name = u32::try_from(broker).map(super::kraft::proxy_name).unwrap_or_default();
        if !self.proxies.contains(&name) {
            bail!("there is no broker {broker} (brokers 1 to {})", self.proxies.len());
        }
        Ok(name)
    }

    /// Remove every toxic of the proxies used (only those: other proxies of
    /// the same Toxiproxy are left alone), enable them, restore brokers.
    pub async fn clear(&self) -> anyhow::Result<()> {
        if let Some(brokers) = &self.brokers {
            brokers.restore().await?;
        }
        for proxy in &self.proxies {
            for toxic in self.client.toxics(proxy).await.with_context(|| format!("listing the toxics of proxy {proxy}"))? {
                self.remove_from(std::slice::from_ref(proxy), &toxic.name).await?;
            }
        }
        self.enable_all().await
    }

    async fn enable_all(&self) -> anyhow::Result<()> {
        for proxy in &self.proxies {
            self.client.enable(proxy).await.with_context(|| format!("enabling proxy {proxy}"))?;
        }
        Ok(())
    }
}

/// What to do when a proxy refuses a Kafka toxic (`error`, the API's
/// answer): it is not a faultlab proxy reading Kafka frames.
fn kafka_toxic_refused(toxic: &Toxic, proxy: &str, error: &crate::toxiproxy::ClientError) -> String {
    format!(
        "proxy {proxy} refused the Kafka toxic {} ({}): {error}. A Kafka toxic needs faultlab's proxy in Kafka mode. \
         Front the cluster with `faultlab proxy --kafka BOOTSTRAP` (its broker listeners kafka-broker-<id> read Kafka frames), \
         or run the scenario with --backend embedded, mock or local",
        toxic.name,
        toxic.kind.type_name()
    )
}

/// `broker_rtt` on a Toxiproxy: every response of that broker, and only
/// of that broker, held back `rtt` ms (a latency toxic on its proxy's
/// downstream).
fn broker_rtt_toxic(rtt: &crate::scenario::BrokerRtt) -> Toxic {
    Toxic {
        name: format!("broker_rtt_{}", rtt.broker),
        stream: crate::proxy::Stream::Downstream,
        toxicity: 1.0,
        kind: crate::proxy::ToxicKind::Latency(crate::proxy::toxics::latency::Latency { latency: i64::from(rtt.rtt), jitter: 0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(bootstrap: Option<&str>, toxiproxy: Option<&str>) -> BackendConfig {
        BackendConfig { bootstrap: bootstrap.map(Into::into), toxiproxy: toxiproxy.map(Into::into), ..BackendConfig::default() }
    }

    #[test]
    fn missing_flags_are_named_with_what_they_take() {
        let error = ExternalConfig::from_flags(&flags(None, None)).unwrap_err();
        assert!(error.contains("--bootstrap HOST:PORT") && error.contains("--toxiproxy URL"), "{error}");
        let error = ExternalConfig::from_flags(&flags(Some("127.0.0.1:9092"), None)).unwrap_err();
        assert!(!error.contains("--bootstrap") && error.contains("--toxiproxy URL"), "{error}");
        let error = ExternalConfig::from_flags(&flags(None, Some("http://127.0.0.1:8474"))).unwrap_err();
        assert!(error.contains("--bootstrap") && !error.contains("--toxiproxy URL"), "{error}");
    }

    #[test]
    fn malformed_flags_are_refused() {
        let error = ExternalConfig::from_flags(&flags(Some("kafka"), Some("http://x:8474"))).unwrap_err();
        assert!(error.contains("is not HOST:PORT"), "{error}");
        let error = ExternalConfig::from_flags(&flags(Some("kafka:9092"), Some("x:8474"))).unwrap_err();
        assert!(error.contains("expected the API's URL"), "{error}");
        let ok = ExternalConfig::from_flags(&flags(Some("a:1,b:2"), Some("http://x:8474"))).unwrap();
        assert_eq!(ok.bootstrap, "a:1,b:2");
    }

    #[test]
    fn host_and_port_split() {
        assert_eq!(split_host_port("127.0.0.1:9092"), Some(("127.0.0.1", 9092)));
        assert_eq!(split_host_port("[::1]:9092"), Some(("::1", 9092)));
        assert_eq!(split_host_port("0.0.0.0:0"), None);
        assert_eq!(split_host_port("kafka"), None);
    }

    #[test]
    fn proxies_are_those_asked_for_or_all() {
        let listed = vec!["kafka-1".to_string(), "kafka-2".to_string()];
        assert_eq!(choose_proxies(&[], &listed).unwrap(), listed);
        assert_eq!(choose_proxies(&["kafka-2".into()], &listed).unwrap(), vec!["kafka-2".to_string()]);
        let error = choose_proxies(&["nope".into()], &listed).unwrap_err();
        assert!(error.contains("no such proxy") && error.contains("kafka-1, kafka-2"), "{error}");
        assert!(choose_proxies(&[], &[]).unwrap_err().contains("no proxies"));
    }
}
