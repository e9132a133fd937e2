//! The external backend: the user's own Kafka cluster, with its faults
//! played through a Toxiproxy API, in one of two ways:
//!
//! - **Behind the user's Toxiproxy** (`--bootstrap` and `--toxiproxy`).
//!   faultlab starts nothing. Clients connect to `--bootstrap`, which must
//!   be a Toxiproxy listener, and every broker must advertise a Toxiproxy
//!   listener too: a client connects to the bootstrap address only to learn
//!   the brokers' advertised addresses, then connects to those. A broker
//!   that advertises its own address is reached around the proxy, and
//!   faults never touch its traffic; [`start`] checks this and says so in
//!   the report's notes. The user's proxy may be `faultlab proxy --kafka`.
//! - **Fronted by faultlab** (`--bootstrap` alone; [`front`]): faultlab's
//!   proxy in Kafka mode, in this process, in front of the cluster as it
//!   is, rewriting the brokers' addresses (docs/kafka-proxy.md).
//!
//! [`RemoteFaults`] plays faults through the Toxiproxy API; the docker and
//! local backends use it too, with their brokers for broker faults.

mod front;
mod remote;

use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

pub use remote::{BrokerControl, RemoteFaults};

use super::{Admin, BackendConfig, BackendInfo, Environment, FaultControl, ProxyMode, librdkafka_version};
use crate::toxiproxy::Client;

/// Toxiproxy's default API address.
pub const DEFAULT_TOXIPROXY: &str = "http://127.0.0.1:8474";

/// What `--backend external` needs, checked before anything starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalConfig {
    pub bootstrap: String,
    /// The user's Toxiproxy API; `None`: faultlab fronts the cluster itself.
    pub toxiproxy: Option<String>,
    /// Proxies to play toxics on; empty: every proxy the API lists.
    pub proxies: Vec<String>,
}

impl ExternalConfig {
    /// The flags given, or a message naming what is missing or malformed
    /// and what it takes.
    pub fn from_flags(config: &BackendConfig) -> Result<ExternalConfig, String> {
        let Some(bootstrap) = config.bootstrap.clone().filter(|b| !b.trim().is_empty()) else {
            return Err("--backend external needs --bootstrap HOST:PORT[,HOST:PORT...] (your cluster's bootstrap address, \
                        which faultlab fronts with its own proxy; or, with --toxiproxy URL, the Toxiproxy listener in front of \
                        your cluster; also FAULTLAB_BOOTSTRAP)"
                .into());
        };
        for server in bootstrap.split(',') {
            if split_host_port(server.trim()).is_none() {
                return Err(format!("--bootstrap {bootstrap}: {server:?} is not HOST:PORT"));
            }
        }
        let toxiproxy = config.toxiproxy.clone().filter(|t| !t.trim().is_empty());
        if let Some(url) = &toxiproxy
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("--toxiproxy {url}: expected the API's URL, e.g. {DEFAULT_TOXIPROXY}"));
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

/// Connect to the user's cluster: behind the user's Toxiproxy when
/// `--toxiproxy` is given, else fronted by faultlab's proxy in this
/// process (`seed` seeds its toxics). `mode` is what the scenario's
/// faults need of the proxy.
pub async fn start(config: &BackendConfig, mode: ProxyMode, seed: u64) -> anyhow::Result<Environment> {
    let config = ExternalConfig::from_flags(config).map_err(anyhow::Error::msg)?;
    match &config.toxiproxy {
        Some(url) => behind_toxiproxy(&config, url, mode).await,
        None => front::start(&config, mode, seed).await,
    }
}

/// Kafka toxics are allowed here, not refused by the catalogue: the user's
/// proxy may well be faultlab's in Kafka mode (`faultlab proxy --kafka`).
/// A Toxiproxy says who it is (`/version` is faultlab's only for
/// faultlab), so one that cannot play them is refused here, before any
/// run. A faultlab proxy that forwards bytes refuses a Kafka toxic when it
/// is added (400), and [`RemoteFaults::add`] says what to do.
async fn behind_toxiproxy(config: &ExternalConfig, url: &str, mode: ProxyMode) -> anyhow::Result<Environment> {
    let client = Client::new(url);
    let version = client.version().await.map_err(|e| {
        anyhow::anyhow!("the Toxiproxy API at {url} does not answer ({e}); start Toxiproxy or pass its API URL with --toxiproxy")
    })?;
    if mode == ProxyMode::KafkaFrames && !version.starts_with("faultlab") {
        bail!(
            "the scenario has Kafka toxics, and the proxy at {url} is Toxiproxy {version}, which has none. Leave out \
             --toxiproxy and faultlab fronts the cluster with its own proxy (or put `faultlab proxy --kafka BOOTSTRAP` in front \
             of it, then --bootstrap its Kafka listener and --toxiproxy its API), or run the scenario with --backend \
             embedded, mock or local"
        );
    }
    let proxy = Proxied { client, version, describe: format!("Toxiproxy at {url}") };
    connect(config, &config.bootstrap, proxy, Box::new(())).await
}

/// The proxy server faults go through.
struct Proxied {
    client: Client,
    /// Its `/version`.
    version: String,
    /// What it is, for the report ("Toxiproxy at URL").
    describe: String,
}

/// Read the cluster's brokers through `bootstrap` (the proxy's listener),
/// choose the proxies to play faults on and clear their toxics, and say
/// which brokers clients would reach around them. `running` is what must
/// live as long as the environment.
async fn connect(config: &ExternalConfig, bootstrap: &str, proxy: Proxied, running: Box<dyn Send + Sync>) -> anyhow::Result<Environment> {
    let Proxied { client, version, describe } = proxy;
    // The metadata first: a faultlab proxy in Kafka mode creates each
    // broker's listener when it first sees the broker in a response, so
    // its proxies are all listed only after a metadata read.
    let brokers = advertised_brokers(bootstrap).await?;
    let listed = client.proxies().await.with_context(|| format!("listing the proxies of the {describe}"))?;
    let proxies =
        choose_proxies(&config.proxies, &listed.keys().cloned().collect::<Vec<_>>()).map_err(|e| anyhow::anyhow!("{describe}: {e}"))?;

    // The brokers advertised at no listen port of `names`' proxies.
    let outside = |names: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        let listen_ports: Vec<u16> =
            names.filter_map(|name| listed.get(name)).filter_map(|p| split_host_port(&p.listen).map(|(_, port)| port)).collect();
        brokers
            .iter()
            .filter(|(_, address)| split_host_port(address).is_none_or(|(_, port)| !listen_ports.contains(&port)))
            .map(|(id, address)| format!("broker {id} advertises {address}"))
            .collect()
    };
    let bypassing = outside(&mut proxies.iter());
    let around_every_proxy = outside(&mut listed.keys());

    let api = client.base().to_string();
    let faults = RemoteFaults { client, proxies: proxies.clone(), brokers: None };
    faults.clear().await?;
    let mut env = Environment::new(
        BackendInfo {
            backend: super::Backend::External.name().into(),
            broker: format!("Kafka at {} ({} broker{})", config.bootstrap, brokers.len(), if brokers.len() == 1 { "" } else { "s" }),
            broker_version: "unknown (the Kafka protocol does not report it)".into(),
            proxy: format!("{describe} (proxies: {})", proxies.join(", ")),
            proxy_version: version,
            client: format!("librdkafka {}", librdkafka_version()),
        },
        bootstrap.to_string(),
        FaultControl::Remote(faults),
        // The cluster's default replication factor.
        Admin::Kafka { replication: -1, configs: Vec::new() },
        running,
    );
    env.toxiproxy_api = Some(api);
    env.around_the_proxy = around_every_proxy;
    if !bypassing.is_empty() {
        env.notes.push(format!(
            "{}, which is not a listen port of the proxies used ({}): clients reach it around the proxy and faults do not \
             touch that traffic. Point the broker's advertised listener at its proxy listener.",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(bootstrap: Option<&str>, toxiproxy: Option<&str>) -> BackendConfig {
        BackendConfig { bootstrap: bootstrap.map(Into::into), toxiproxy: toxiproxy.map(Into::into), ..BackendConfig::default() }
    }

    #[test]
    fn bootstrap_is_needed_and_toxiproxy_is_not() {
        for missing in [flags(None, None), flags(None, Some("http://127.0.0.1:8474")), flags(Some("  "), None)] {
            let error = ExternalConfig::from_flags(&missing).unwrap_err();
            assert!(error.contains("needs --bootstrap HOST:PORT") && error.contains("--toxiproxy URL"), "{error}");
        }
        let fronted = ExternalConfig::from_flags(&flags(Some("127.0.0.1:9092"), None)).unwrap();
        assert_eq!(fronted.toxiproxy, None);
        let behind = ExternalConfig::from_flags(&flags(Some("127.0.0.1:9092"), Some("http://127.0.0.1:8474"))).unwrap();
        assert_eq!(behind.toxiproxy.as_deref(), Some("http://127.0.0.1:8474"));
    }

    #[test]
    fn malformed_flags_are_refused() {
        let error = ExternalConfig::from_flags(&flags(Some("kafka"), Some("http://x:8474"))).unwrap_err();
        assert!(error.contains("is not HOST:PORT"), "{error}");
        let error = ExternalConfig::from_flags(&flags(Some("kafka:9092,"), None)).unwrap_err();
        assert!(error.contains("\"\" is not HOST:PORT"), "{error}");
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
