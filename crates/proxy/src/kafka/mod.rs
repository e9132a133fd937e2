//! Kafka mode: a proxy that reads Kafka's frames instead of bytes, and
//! fronts a whole cluster from one bootstrap address.
//!
//! A Kafka-mode link reads whole frames ([`crate::protocol::frame`]), one
//! chunk per frame, each chunk knowing its API key, version and correlation
//! id ([`FrameInfo`]); toxics then see frames, and plain TCP toxics work on
//! them unchanged. The two links of a connection share its
//! [`Session`](crate::session::Session), which matches each response to its
//! request. Kafka-mode links never take the splice fast path.
//!
//! Responses that name brokers (Metadata, FindCoordinator,
//! DescribeCluster) are decoded, every broker's address is replaced by a
//! faultlab listener for that broker, created on first sight by the front
//! ([`KafkaFront`]), and re-encoded ([`crate::session::rewrite`]; so is
//! ApiVersions when a broker offers a version of those beyond the codec's);
//! so a client that bootstraps to the proxy keeps going through it, with
//! the cluster's `advertised.listeners` untouched. Every other frame is
//! forwarded byte for byte.
//!
//! This module is the front, the top of Kafka mode: it makes proxies, in
//! the registry when there is one. The pieces the links use are below them
//! (`protocol`, `session`, `aim`; lib.rs lists the layers) and re-exported
//! here.
//!
//! docs/kafka-proxy.md is the design note.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};

use futures::future::BoxFuture;

use crate::instance::Proxy;
use crate::registry::{ProxySpec, Registry, seed_for};
use crate::session;
use crate::sync::lock;

// Kafka mode in one place for its users: the pieces below the link, under
// the names they always had here.
pub use crate::aim;
pub use crate::protocol::{API_VERSIONS, DESCRIBE_CLUSTER, FIND_COORDINATOR, FrameError, FrameInfo, Ledger, MAX_FRAME, METADATA, PRODUCE};
pub use crate::protocol::{answer, codec, names};

/// The name of the listener for broker `node_id`.
pub fn broker_proxy_name(node_id: i32) -> String {
    format!("kafka-broker-{node_id}")
}

/// The bootstrap listener's name.
pub const BOOTSTRAP_PROXY: &str = "kafka-bootstrap";

/// A cluster fronted by faultlab: the bootstrap listener and one listener
/// per broker seen in a response. Every listener stops when it is dropped
/// (those in a [`Registry`] stay listed there, disabled).
pub struct KafkaFront {
    front: Arc<Cluster>,
}

/// What every Kafka-mode proxy of one front shares; its sessions see it as
/// a [`session::Front`].
struct Cluster {
    /// Where broker listeners bind: the bootstrap listener's address.
    bind_ip: IpAddr,
    seed: u64,
    /// When given, broker listeners are created in it (the HTTP API's).
    registry: Option<Arc<Registry>>,
    bootstrap: Proxy,
    brokers: tokio::sync::Mutex<BTreeMap<i32, Proxy>>,
    /// Requests read, per proxy name and API key.
    requests: Mutex<HashMap<(String, i16), u64>>,
    /// Every (API key, version) a client used.
    versions: Mutex<std::collections::BTreeSet<(i16, i16)>>,
    /// Where every listener records its Produce batches, if anywhere.
    ledger: OnceLock<Arc<Ledger>>,
    /// Why connections were failed rather than pass on a response the
    /// codec could not rewrite.
    refusals: Refusals,
}

/// Why a front failed connections rather than let their clients bypass it
/// (a response naming brokers that it could not rewrite), each reason
/// once. A handle: the front records, a run reads.
#[derive(Debug, Clone, Default)]
pub struct Refusals(Arc<Mutex<std::collections::BTreeSet<String>>>);

impl Refusals {
    /// Every distinct reason so far, each naming the proxy, the client, the
    /// request and its version; empty when every response was rewritten.
    pub fn list(&self) -> Vec<String> {
        lock(&self.0).iter().cloned().collect()
    }

    /// What a run says when there is a reason: its clients lost
    /// connections that no fault of the scenario cut. None when there is none.
    pub fn explain(&self) -> Option<String> {
        let refused = self.list();
        (!refused.is_empty()).then(|| {
            format!(
                "faultlab's Kafka front failed client connections rather than pass on responses it could not rewrite \
                 (passed on, they would lead clients around the proxy), so the run's counts are not the scenario's: {}",
                refused.join("; ")
            )
        })
    }
}

/// Distinct refusals kept at most (each says its request and version).
const MOST_REFUSALS: usize = 32;

impl KafkaFront {
    /// Listen on `listen` for Kafka clients, forwarding to the broker at
    /// `bootstrap` (`host:port`). With a `registry`, the listeners are its
    /// proxies (the HTTP API lists them and puts toxics on them).
    pub async fn start(listen: &str, bootstrap: &str, seed: u64, registry: Option<Arc<Registry>>) -> anyhow::Result<KafkaFront> {
        if bootstrap.contains(',') || !bootstrap.contains(':') {
            anyhow::bail!(
                "the Kafka bootstrap address {bootstrap:?} is not one HOST:PORT (give one broker; the others are learned from its metadata)"
            );
        }
        let bootstrap_proxy = new_proxy(registry.as_deref(), BOOTSTRAP_PROXY, listen, bootstrap, seed).await?;
        let bind_ip = crate::listener::resolve(listen).await?.ip();
        let front = Arc::new(Cluster {
            bind_ip,
            seed,
            registry,
            bootstrap: bootstrap_proxy.clone(),
            brokers: tokio::sync::Mutex::new(BTreeMap::new()),
            requests: Mutex::new(HashMap::new()),
            versions: Mutex::new(Default::default()),
            ledger: OnceLock::new(),
            refusals: Refusals::default(),
        });
        bootstrap_proxy.set_kafka(Arc::downgrade(&front) as std::sync::Weak<dyn session::Front>);
        bootstrap_proxy.enable().await?;
        Ok(KafkaFront { front })
    }

    /// Record every Produce batch attempt through the front's listeners
    /// from now on (those made later too) in `ledger`.
    pub async fn keep_ledger(&self, ledger: Arc<Ledger>) {
        let _ = self.front.ledger.set(ledger.clone());
        self.front.bootstrap.keep_ledger(ledger.clone());
        for proxy in self.front.brokers.lock().await.values() {
            proxy.keep_ledger(ledger.clone());
        }
    }

    /// The listener clients bootstrap to.
    pub fn bootstrap(&self) -> &Proxy {
        &self.front.bootstrap
    }

    /// The broker listeners created so far, by node id.
    pub async fn brokers(&self) -> BTreeMap<i32, Proxy> {
        self.front.brokers.lock().await.clone()
    }

    /// Every (API key, version) of the requests read so far.
    pub fn versions(&self) -> std::collections::BTreeSet<(i16, i16)> {
        lock(&self.front.versions).clone()
    }

    /// Why the front failed connections rather than let their clients
    /// bypass it. A run that finds a reason there fails: its clients lost
    /// connections the fault did not cause.
    pub fn refusals(&self) -> Refusals {
        self.front.refusals.clone()
    }

    /// How many requests with `api_key` the proxy `name` has read.
    pub fn requests(&self, name: &str, api_key: i16) -> u64 {
        lock(&self.front.requests).get(&(name.to_string(), api_key)).copied().unwrap_or(0)
    }
}

impl Drop for KafkaFront {
    fn drop(&mut self) {
        self.front.bootstrap.shutdown();
        // Uncontended unless a listener is being made right now; that one
        // stops when the front's last reference goes.
        if let Ok(brokers) = self.front.brokers.try_lock() {
            for proxy in brokers.values() {
                proxy.shutdown();
            }
        }
    }
}

/// A disabled proxy named `name`, in `registry` if there is one.
async fn new_proxy(registry: Option<&Registry>, name: &str, listen: &str, upstream: &str, seed: u64) -> anyhow::Result<Proxy> {
    let spec = ProxySpec { name: name.into(), listen: listen.into(), upstream: upstream.into(), enabled: false };
    Ok(match registry {
        Some(registry) => registry.create(spec).await?,
        None => Proxy::new(name, listen, upstream, seed_for(seed, name)),
    })
}

impl session::Front for Cluster {
    fn count(&self, proxy: &str, api_key: i16, api_version: i16) {
        *lock(&self.requests).entry((proxy.to_string(), api_key)).or_default() += 1;
        lock(&self.versions).insert((api_key, api_version));
    }

    fn refused(&self, proxy: &str, client_id: Option<&str>, refusal: &session::rewrite::Refusal) {
        let mut refusals = lock(&self.refusals.0);
        if refusals.len() < MOST_REFUSALS {
            refusals.insert(format!("{proxy}, client {:?}: {refusal}", client_id.unwrap_or("?")));
        }
    }

    /// Created on first sight, then reused. If the broker's address
    /// changes, its listener's upstream follows (connections open through
    /// it are closed; the port stays). None if no listener could be made
    /// (the address is left).
    fn listener_for(self: Arc<Self>, node_id: i32, advertised: String) -> BoxFuture<'static, Option<u16>> {
        // In a task of its own: the link asking may be closed meanwhile,
        // and a listener half made would be lost.
        Box::pin(async move { tokio::spawn(self.make_listener(node_id, advertised)).await.ok().flatten() })
    }
}

impl Cluster {
    /// Boxed as `Send`: making a listener starts a proxy whose links may
    /// make listeners, a cycle the compiler cannot prove `Send` through.
    fn make_listener(self: Arc<Self>, node_id: i32, advertised: String) -> futures::future::BoxFuture<'static, Option<u16>> {
        Box::pin(self.make_listener_now(node_id, advertised))
    }

    async fn make_listener_now(self: Arc<Self>, node_id: i32, advertised: String) -> Option<u16> {
        let mut brokers = self.brokers.lock().await;
        if let Some(proxy) = brokers.get(&node_id) {
            if proxy.upstream() != advertised {
                tracing::warn!(
                    "Kafka broker {node_id} now advertises {advertised} (was {}): its listener {} forwards there from now on",
                    proxy.upstream(),
                    proxy.name()
                );
                let (proxy, listen) = (proxy.clone(), proxy.listen());
                tokio::spawn(async move {
                    if let Err(e) = proxy.update(&listen, &advertised, true).await {
                        tracing::error!("moving {} to {advertised}: {e}", proxy.name());
                    }
                });
            }
            return Some(proxy.listen_addr().port());
        }
        let name = broker_proxy_name(node_id);
        let listen = SocketAddr::new(self.bind_ip, 0).to_string();
        let made = async {
            let proxy = new_proxy(self.registry.as_deref(), &name, &listen, &advertised, self.seed).await?;
            proxy.set_kafka(Arc::downgrade(&self) as std::sync::Weak<dyn session::Front>);
            if let Some(ledger) = self.ledger.get() {
                proxy.keep_ledger(ledger.clone());
            }
            proxy.enable().await?;
            anyhow::Ok(proxy)
        };
        match made.await {
            Ok(proxy) => {
                tracing::info!("Kafka broker {node_id} ({advertised}) gets listener {name} on {}", proxy.listen());
                let port = proxy.listen_addr().port();
                brokers.insert(node_id, proxy);
                Some(port)
            }
            Err(e) => {
                tracing::error!("no listener for Kafka broker {node_id} ({advertised}), clients will reach it directly: {e:#}");
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "rewrite_tests.rs"]
mod rewrite_tests;
