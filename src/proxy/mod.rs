//! faultlab's fault proxy: a TCP proxy with Toxiproxy's toxics.
//!
//! A [`Proxy`] listens on one address and forwards every connection to one
//! upstream address. Each connection has two [`link`]s, one per
//! [`Stream`](toxic::Stream); the toxics of the proxy chain on the link of
//! their stream. Toxics can be added, changed and removed while connections
//! are open; each live link rebuilds its chain without losing a byte.

mod connection;
mod link;
pub mod stub;
pub mod toxic;
pub mod toxics;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rand::rngs::{SmallRng, StdRng};
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use connection::Connection;
use link::LinkSetup;
pub use stub::CloseMode;
pub use toxic::{Stream, Toxic, ToxicKind};

/// Errors of the proxy's control operations, worded like Toxiproxy's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyError {
    #[error("toxic already exists")]
    ToxicExists,
    #[error("toxic not found")]
    ToxicNotFound,
    #[error("invalid toxicity: {0} (accepted: 0.0 to 1.0)")]
    InvalidToxicity(String),
}

/// A running proxy. Cheap to clone; the listener and every connection stop
/// when the last clone is dropped or [`Proxy::shutdown`] is called.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    listen: SocketAddr,
    upstream: String,
    toxics: watch::Sender<Arc<Vec<Toxic>>>,
    connections: Mutex<HashMap<u64, Arc<Connection>>>,
    next_connection: AtomicU64,
    rng: Mutex<StdRng>,
    /// Cancelled to stop listening (disable or shutdown).
    listening: Mutex<CancellationToken>,
    stopped: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stopped.cancel();
        self.listening.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    }
}

impl Proxy {
    /// Listen on `listen` (port 0 picks a free port) and forward to `upstream`.
    /// `seed` drives every random choice (toxicity rolls, jitter, slice sizes).
    pub async fn start(name: &str, listen: &str, upstream: &str, seed: u64) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(listen).await?;
        let (toxics, _) = watch::channel(Arc::new(Vec::new()));
        let proxy = Proxy {
            inner: Arc::new(Inner {
                name: name.to_string(),
                listen: listener.local_addr()?,
                upstream: upstream.to_string(),
                toxics,
                connections: Mutex::new(HashMap::new()),
                next_connection: AtomicU64::new(0),
                rng: Mutex::new(StdRng::seed_from_u64(seed)),
                listening: Mutex::new(CancellationToken::new()),
                stopped: CancellationToken::new(),
            }),
        };
        proxy.spawn_accept_loop(listener);
        Ok(proxy)
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The address clients connect to.
    pub fn listen_addr(&self) -> SocketAddr {
        self.inner.listen
    }

    pub fn upstream(&self) -> &str {
        &self.inner.upstream
    }

    /// How many client connections are open.
    pub fn connection_count(&self) -> usize {
        self.lock_connections().len()
    }

    pub fn toxics(&self) -> Vec<Toxic> {
        self.inner.toxics.borrow().as_ref().clone()
    }

    pub fn toxic(&self, name: &str) -> Option<Toxic> {
        self.inner.toxics.borrow().iter().find(|t| t.name == name).cloned()
    }

    /// Add a toxic to the end of its stream's chain, on every open
    /// connection and every later one.
    pub fn add_toxic(&self, toxic: Toxic) -> Result<Toxic, ProxyError> {
        check_toxicity(toxic.toxicity)?;
        let mut result = Ok(toxic.clone());
        self.inner.toxics.send_if_modified(|toxics| {
            if toxics.iter().any(|t| t.name == toxic.name) {
                result = Err(ProxyError::ToxicExists);
                return false;
            }
            Arc::make_mut(toxics).push(toxic.clone());
            true
        });
        result
    }

    /// Replace a toxic's settings in place (its position in the chain stays).
    pub fn update_toxic(&self, name: &str, update: impl FnOnce(&mut Toxic)) -> Result<Toxic, ProxyError> {
        let mut result = Err(ProxyError::ToxicNotFound);
        self.inner.toxics.send_if_modified(|toxics| {
            let Some(i) = toxics.iter().position(|t| t.name == name) else { return false };
            let mut updated = toxics[i].clone();
            update(&mut updated);
            updated.name = name.to_string();
            if let Err(e) = check_toxicity(updated.toxicity) {
                result = Err(e);
                return false;
            }
            Arc::make_mut(toxics)[i] = updated.clone();
            result = Ok(updated);
            true
        });
        result
    }

    pub fn remove_toxic(&self, name: &str) -> Result<(), ProxyError> {
        let mut found = false;
        self.inner.toxics.send_if_modified(|toxics| {
            let before = toxics.len();
            Arc::make_mut(toxics).retain(|t| t.name != name);
            found = toxics.len() != before;
            found
        });
        if found { Ok(()) } else { Err(ProxyError::ToxicNotFound) }
    }

    pub fn remove_all_toxics(&self) {
        self.inner.toxics.send_if_modified(|toxics| {
            let had = !toxics.is_empty();
            Arc::make_mut(toxics).clear();
            had
        });
    }

    /// Stop listening and close every connection.
    pub fn shutdown(&self) {
        self.inner.listening.lock().unwrap_or_else(|e| e.into_inner()).cancel();
        self.inner.stopped.cancel();
        self.close_connections(CloseMode::Graceful);
    }

    fn close_connections(&self, mode: CloseMode) {
        for connection in self.lock_connections().values() {
            connection.close(mode);
        }
    }

    fn lock_connections(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.inner.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spawn_accept_loop(&self, listener: TcpListener) {
        let stop = self.inner.listening.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                let Some(inner) = weak.upgrade() else { return };
                let proxy = Proxy { inner };
                tokio::spawn(async move { proxy.serve(client).await });
            }
        });
    }

    async fn serve(self, client: TcpStream) {
        let stopped = self.inner.stopped.clone();
        let server = tokio::select! {
            _ = stopped.cancelled() => return,
            server = TcpStream::connect(&self.inner.upstream) => server,
        };
        // Like Toxiproxy: a client whose upstream cannot be reached is closed.
        let Ok(server) = server else { return };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (connection_rng, upstream_rng, downstream_rng) = {
            let mut rng = self.inner.rng.lock().unwrap_or_else(|e| e.into_inner());
            (SmallRng::seed_from_u64(rng.random()), SmallRng::seed_from_u64(rng.random()), SmallRng::seed_from_u64(rng.random()))
        };
        let connection = Connection::new(client, server, connection_rng);
        let id = self.inner.next_connection.fetch_add(1, Ordering::Relaxed);
        self.lock_connections().insert(id, connection.clone());
        let setup = |stream, rng| LinkSetup {
            stream,
            toxics: self.inner.toxics.subscribe(),
            rng,
            connection: connection.clone(),
        };
        let upstream = link::run(connection.client.clone(), connection.server.clone(), setup(Stream::Upstream, upstream_rng));
        let downstream = link::run(connection.server.clone(), connection.client.clone(), setup(Stream::Downstream, downstream_rng));
        tokio::select! {
            _ = async { tokio::join!(upstream, downstream) } => {}
            _ = stopped.cancelled() => connection.close(CloseMode::Graceful),
        }
        self.lock_connections().remove(&id);
    }
}

fn check_toxicity(toxicity: f32) -> Result<(), ProxyError> {
    if (0.0..=1.0).contains(&toxicity) { Ok(()) } else { Err(ProxyError::InvalidToxicity(toxicity.to_string())) }
}
