//! Kafka mode: a proxy that reads Kafka's frames instead of bytes, and
//! fronts a whole cluster from one bootstrap address.
//!
//! A Kafka-mode link reads whole frames ([`frame`]), one chunk per frame,
//! each chunk knowing its API key, version and correlation id
//! ([`FrameInfo`]); toxics then see frames, and plain TCP toxics work on
//! them unchanged. The upstream link (client to broker) records each
//! request's correlation id in its connection's [`Session`]; the
//! downstream link matches each response to its request by that id
//! (requests are pipelined: several may be outstanding; a Produce with
//! `acks=0` has none). Kafka-mode links never take the splice fast path.
//!
//! Responses that name brokers (Metadata, FindCoordinator,
//! DescribeCluster) are decoded, every broker's address is replaced by a
//! faultlab listener for that broker ([`Front`]), created on first sight,
//! and re-encoded ([`rewrite`]; so is ApiVersions when a broker offers
//! a version of those beyond the codec's); so a client that bootstraps to the proxy
//! keeps going through it, with the cluster's `advertised.listeners`
//! untouched. Every other frame is forwarded byte for byte.
//!
//! docs/kafka-proxy.md is the design note.

pub mod aim;
pub mod answer;
mod frame;
mod ledger;
pub mod names;
mod reader;
mod rewrite;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bytes::Bytes;
use tokio::sync::mpsc::{UnboundedSender, WeakUnboundedSender};

use super::instance::lock;
use super::stub::{Chunk, Queued};
use super::{Proxy, ProxySpec, Registry};

pub use frame::{FrameError, MAX_FRAME};
pub use ledger::Ledger;
pub(super) use reader::read_loop;

/// The API keys whose responses name brokers and are rewritten.
pub const METADATA: i16 = 3;
pub const FIND_COORDINATOR: i16 = 10;
pub const DESCRIBE_CLUSTER: i16 = 60;
/// Rewritten only to keep clients to versions the codec reads.
pub const API_VERSIONS: i16 = 18;
pub use frame::PRODUCE;

/// What a chunk of a Kafka-mode link is: one whole frame. For a response,
/// the API key and version are its request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    pub response: bool,
}

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
    front: Arc<Front>,
}

/// What every Kafka-mode proxy of one front shares.
pub(crate) struct Front {
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
}

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
        let bind_ip = super::listener::resolve(listen).await?.ip();
        let front = Arc::new(Front {
            bind_ip,
            seed,
            registry,
            bootstrap: bootstrap_proxy.clone(),
            brokers: tokio::sync::Mutex::new(BTreeMap::new()),
            requests: Mutex::new(HashMap::new()),
            versions: Mutex::new(Default::default()),
            ledger: OnceLock::new(),
        });
        bootstrap_proxy.set_kafka(Arc::downgrade(&front));
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
        None => Proxy::new(name, listen, upstream, super::registry::seed_for(seed, name)),
    })
}

impl Front {
    fn count(&self, proxy: &str, api_key: i16, api_version: i16) {
        *lock(&self.requests).entry((proxy.to_string(), api_key)).or_default() += 1;
        lock(&self.versions).insert((api_key, api_version));
    }

    /// The port of the listener for broker `node_id`, which the broker
    /// advertises at `advertised` (`host:port`): created on first sight,
    /// then reused. If the broker's address changes, its listener's
    /// upstream follows (connections open through it are closed; the port
    /// stays). None if no listener could be made (the address is left).
    async fn listener_for(self: &Arc<Self>, node_id: i32, advertised: String) -> Option<u16> {
        // In a task of its own: the link asking may be closed meanwhile,
        // and a listener half made would be lost.
        let front = self.clone();
        tokio::spawn(front.make_listener(node_id, advertised)).await.ok().flatten()
    }

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
            proxy.set_kafka(Arc::downgrade(&self));
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

/// What the two links of one Kafka-mode connection share.
pub(crate) struct Session {
    proxy: String,
    front: Weak<Front>,
    /// The address the client reached this proxy at: the one rewritten
    /// responses advertise, so a client reaches the broker listeners the
    /// way it reached this one.
    advertise: IpAddr,
    /// Requests waiting for their response, in the order they were read:
    /// a broker answers a connection's requests in that order, and an
    /// answer the proxy makes up (`kafka_error`) keeps its request's place.
    pending: Mutex<VecDeque<Pending>>,
    /// The downstream chain's head, where responses enter: answers the
    /// proxy makes up go in there too. Weak, so that the chain still ends
    /// when the downstream reader drops its own sender.
    responses: Mutex<Option<WeakUnboundedSender<Queued>>>,
    /// The client id of the connection's first request: a client keeps
    /// one per connection (librdkafka, the Java client).
    client_id: OnceLock<Option<String>>,
    /// The connection's number on its proxy, and the ledger its Produce
    /// batches go in, if the proxy keeps one.
    connection: u64,
    ledger: Option<Arc<Ledger>>,
}

#[derive(Debug)]
struct Pending {
    correlation_id: i32,
    api_key: i16,
    api_version: i16,
    /// The response the proxy made up for it, waiting for its turn.
    answer: Option<Bytes>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("proxy", &self.proxy).field("pending", &lock(&self.pending).len()).finish_non_exhaustive()
    }
}

impl Session {
    /// The session of connection number `connection` of `proxy`, which
    /// records its Produce batches in `ledger` if there is one.
    pub(crate) fn new(proxy: &str, front: Weak<Front>, advertise: IpAddr, connection: u64, ledger: Option<Arc<Ledger>>) -> Arc<Session> {
        Arc::new(Session {
            proxy: proxy.to_string(),
            front,
            advertise,
            pending: Mutex::default(),
            responses: Mutex::default(),
            client_id: OnceLock::new(),
            connection,
            ledger,
        })
    }

    /// Note a Kafka toxic's effect on the request `correlation_id` (its
    /// partitions `aimed` names) in the ledger, if the proxy keeps one.
    pub fn note(&self, correlation_id: i32, aimed: &aim::Aim, toxic: &str, effect: faultlab_audit::wire::Effect) {
        if let Some(ledger) = &self.ledger {
            let fault = faultlab_audit::wire::WireFault { toxic: toxic.into(), effect };
            ledger.note(&self.proxy, self.connection, correlation_id, aimed, fault);
        }
    }

    /// The `client.id` the connection's client gave, once it has sent a request.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.get().and_then(Option::as_deref)
    }

    /// Answer the request `correlation_id` with `response` instead of the
    /// broker (which never saw it): delivered once every response before
    /// it has been. False if no such request waits for a response.
    pub fn answer(&self, correlation_id: i32, response: Bytes) -> bool {
        let mut pending = lock(&self.pending);
        let Some(request) = pending.iter_mut().find(|p| p.correlation_id == correlation_id) else { return false };
        request.answer = Some(response);
        if let Some(head) = lock(&self.responses).as_ref().and_then(WeakUnboundedSender::upgrade) {
            deliver_answers(&mut pending, &head);
        }
        true
    }

    /// The downstream link starts: its chain's head is where made-up
    /// answers go.
    fn responses_enter(&self, head: &UnboundedSender<Queued>) {
        *lock(&self.responses) = Some(head.downgrade());
        deliver_answers(&mut lock(&self.pending), head);
    }

    /// Put a response read from the broker into the downstream chain, and
    /// then any made-up answer whose turn has come; under one lock, so an
    /// answer never overtakes a response due before it.
    fn deliver(&self, chunk: Chunk, head: &UnboundedSender<Queued>) -> Result<(), ()> {
        let mut pending = lock(&self.pending);
        if let Some(frame) = &chunk.frame
            && let Some(i) = pending.iter().position(|p| p.correlation_id == frame.correlation_id)
        {
            pending.remove(i);
        }
        head.send(Box::new(chunk)).map_err(drop)?;
        deliver_answers(&mut pending, head);
        Ok(())
    }
}

/// Send the made-up answers at the front of `pending`.
fn deliver_answers(pending: &mut VecDeque<Pending>, head: &UnboundedSender<Queued>) {
    while pending.front().is_some_and(|p| p.answer.is_some()) {
        let Some(Pending { correlation_id, api_key, api_version, answer: Some(answer) }) = pending.pop_front() else { return };
        let mut chunk = Chunk::new(answer, tokio::time::Instant::now());
        chunk.frame = Some(FrameInfo { api_key, api_version, correlation_id, response: true });
        if head.send(Box::new(chunk)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
#[path = "rewrite_tests.rs"]
mod rewrite_tests;
