//! A proxy and its toxics. Listening and connections are in
//! [`super::listener`].

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::connection::Connection;
use crate::error::ProxyError;
use crate::protocol::Ledger;
use crate::session::Front;
use crate::sync::lock;
use crate::toxic::{Requests, Toxic, ToxicEntry, ToxicSet};

/// How long [`Proxy::settled`] waits for links at most: a link can be held
/// up by a reset_peer toxic that is counting down (Toxiproxy's API call
/// blocks on it the same way).
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// A proxy: a listen address, an upstream, toxics, and the open
/// connections. Cheap to clone; everything stops when the last clone is
/// dropped, or on [`Proxy::disable`] / [`Proxy::shutdown`].
#[derive(Clone)]
pub struct Proxy {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub name: String,
    pub config: Mutex<Config>,
    /// Serialises enable, disable and update.
    pub lifecycle: tokio::sync::Mutex<()>,
    pub toxics: watch::Sender<Arc<ToxicSet>>,
    pub connections: Mutex<HashMap<u64, Arc<Connection>>>,
    pub next_connection: AtomicU64,
    pub rng: Mutex<StdRng>,
    /// Woken when a link applied a change or ended.
    pub settle: Arc<Notify>,
    /// Woken when a connection is gone.
    pub gone: Notify,
    /// Set once for a Kafka-mode proxy: its connections read frames, and
    /// those of a front's listener know the front.
    pub kafka: OnceLock<Option<Weak<dyn Front>>>,
    /// Where a Kafka-mode proxy records its Produce batch attempts, if anywhere.
    pub ledger: OnceLock<Arc<Ledger>>,
}

pub(super) struct Config {
    /// As configured, and once listening the address actually bound (so a
    /// port 0 reads as the port picked), as Toxiproxy reports it.
    pub listen: String,
    pub upstream: String,
    pub bound: Option<SocketAddr>,
    /// Present while the proxy is enabled.
    pub acceptor: Option<Acceptor>,
}

pub(super) struct Acceptor {
    pub stop: CancellationToken,
    pub task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(acceptor) = lock(&self.config).acceptor.take() {
            acceptor.stop.cancel();
        }
        for connection in lock(&self.connections).values() {
            connection.kill();
        }
    }
}

impl Proxy {
    /// A disabled proxy: nothing listens until [`Proxy::enable`]. `seed`
    /// drives every random choice (toxicity rolls, jitter, slice sizes).
    pub fn new(name: &str, listen: &str, upstream: &str, seed: u64) -> Proxy {
        let (toxics, _) = watch::channel(Arc::new(ToxicSet::default()));
        Proxy {
            inner: Arc::new(Inner {
                name: name.to_string(),
                config: Mutex::new(Config { listen: listen.to_string(), upstream: upstream.to_string(), bound: None, acceptor: None }),
                lifecycle: tokio::sync::Mutex::new(()),
                toxics,
                connections: Mutex::new(HashMap::new()),
                next_connection: AtomicU64::new(0),
                rng: Mutex::new(StdRng::seed_from_u64(seed)),
                settle: Arc::new(Notify::new()),
                gone: Notify::new(),
                kafka: OnceLock::new(),
                ledger: OnceLock::new(),
            }),
        }
    }

    /// Make this proxy's connections from now on Kafka-mode ones (once).
    pub(crate) fn set_kafka(&self, front: Weak<dyn Front>) {
        let _ = self.inner.kafka.set(Some(front));
    }

    /// Make this proxy's connections from now on read Kafka frames, for a
    /// broker that already advertises this proxy: Kafka toxics work on
    /// them, and no response is rewritten (there is no front). Once; a
    /// proxy already in Kafka mode stays as it is.
    pub fn set_kafka_framing(&self) {
        let _ = self.inner.kafka.set(None);
    }

    /// Record every Produce batch attempt of this proxy's Kafka-mode
    /// connections from now on in `ledger` (once).
    pub fn keep_ledger(&self, ledger: Arc<Ledger>) {
        let _ = self.inner.ledger.set(ledger);
    }

    /// Whether this proxy reads Kafka frames (see [`super::kafka`]).
    pub fn is_kafka(&self) -> bool {
        self.inner.kafka.get().is_some()
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The listen address as Toxiproxy reports it: the bound address once
    /// the proxy has listened, else as configured.
    pub fn listen(&self) -> String {
        lock(&self.inner.config).listen.clone()
    }

    /// The address clients connect to: the one last bound (0.0.0.0:0 if the
    /// proxy never listened).
    pub fn listen_addr(&self) -> SocketAddr {
        lock(&self.inner.config).bound.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
    }

    pub fn upstream(&self) -> String {
        lock(&self.inner.config).upstream.clone()
    }

    pub fn is_enabled(&self) -> bool {
        lock(&self.inner.config).acceptor.is_some()
    }

    /// How many client connections are open.
    pub fn connection_count(&self) -> usize {
        lock(&self.inner.connections).len()
    }

    /// The toxics, in the order they were added.
    pub fn toxics(&self) -> Vec<Toxic> {
        self.inner.toxics.borrow().entries.iter().map(|e| e.toxic.clone()).collect()
    }

    /// What the Kafka toxic `name` has seen, matched and acted on so far
    /// (None for a toxic of another kind, or none of that name).
    pub fn toxic_requests(&self, name: &str) -> Option<Requests> {
        let toxics = self.inner.toxics.borrow();
        let entry = toxics.entries.iter().find(|e| e.toxic.name == name)?;
        entry.toxic.kind.is_kafka().then(|| entry.tally.requests())
    }

    pub fn toxic(&self, name: &str) -> Option<Toxic> {
        self.inner.toxics.borrow().entries.iter().find(|e| e.toxic.name == name).map(|e| e.toxic.clone())
    }

    /// Add a toxic to the end of its stream's chain, on every open
    /// connection and every later one. Names are unique across streams.
    pub fn add_toxic(&self, toxic: Toxic) -> Result<Toxic, ProxyError> {
        check(&toxic)?;
        if toxic.kind.is_kafka() && !self.is_kafka() {
            return Err(ProxyError::NotKafka(toxic.kind.type_name(), self.name().to_string()));
        }
        let mut result = Ok(toxic.clone());
        self.inner.toxics.send_if_modified(|set| {
            if set.entries.iter().any(|e| e.toxic.name == toxic.name) {
                result = Err(ProxyError::ToxicExists);
                return false;
            }
            let set = Arc::make_mut(set);
            set.entries.push(ToxicEntry { id: set.next_id, toxic: toxic.clone(), tally: Arc::default() });
            set.next_id += 1;
            set.version += 1;
            true
        });
        result
    }

    /// Change a toxic's settings in place (its place in the chain stays;
    /// its name, type and stream cannot change).
    pub fn update_toxic(&self, name: &str, update: impl FnOnce(&mut Toxic)) -> Result<Toxic, ProxyError> {
        let mut result = Err(ProxyError::ToxicNotFound);
        self.inner.toxics.send_if_modified(|set| {
            let Some(i) = set.entries.iter().position(|e| e.toxic.name == name) else { return false };
            let old = &set.entries[i].toxic;
            let mut updated = old.clone();
            update(&mut updated);
            updated.name = old.name.clone();
            updated.stream = old.stream;
            if updated.kind.type_name() != old.kind.type_name() {
                updated.kind = old.kind.clone();
            }
            if let Err(e) = check(&updated) {
                result = Err(e);
                return false;
            }
            let set = Arc::make_mut(set);
            set.entries[i].toxic = updated.clone();
            set.version += 1;
            result = Ok(updated);
            true
        });
        result
    }

    pub fn remove_toxic(&self, name: &str) -> Result<(), ProxyError> {
        let mut found = false;
        self.inner.toxics.send_if_modified(|set| {
            found = set.entries.iter().any(|e| e.toxic.name == name);
            if found {
                let set = Arc::make_mut(set);
                set.entries.retain(|e| e.toxic.name != name);
                set.version += 1;
            }
            found
        });
        if found { Ok(()) } else { Err(ProxyError::ToxicNotFound) }
    }

    pub fn remove_all_toxics(&self) {
        self.inner.toxics.send_if_modified(|set| {
            if set.entries.is_empty() {
                return false;
            }
            let set = Arc::make_mut(set);
            set.entries.clear();
            set.version += 1;
            true
        });
    }

    /// Wait until every open connection applies the toxics as they are now
    /// (at most a few seconds). Toxic changes return before the links have
    /// rebuilt their chains; call this when the next bytes must see the
    /// change, as Toxiproxy's API does before it answers.
    pub async fn settled(&self) {
        let version = self.inner.toxics.borrow().version;
        let deadline = tokio::time::Instant::now() + SETTLE_LIMIT;
        loop {
            let notified = self.inner.settle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if lock(&self.inner.connections).values().all(|c| c.has_applied(version)) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

fn check(toxic: &Toxic) -> Result<(), ProxyError> {
    if !(0.0..=1.0).contains(&toxic.toxicity) {
        return Err(ProxyError::InvalidToxicity(toxic.toxicity.to_string()));
    }
    toxic.kind.validate().map_err(ProxyError::InvalidAttribute)?;
    toxic.kind.validate_stream(toxic.stream).map_err(ProxyError::InvalidAttribute)
}
