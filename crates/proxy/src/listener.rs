//! Listening, enabling and disabling, and serving each connection.
//!
//! As in Toxiproxy (proxy.go): enabling binds the listen address (port 0
//! picks one, and the proxy then reports the bound address); disabling
//! stops listening, so new connections are refused, and closes every open
//! connection; enabling again listens on the same address. Changing the
//! listen address or the upstream restarts the proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::connection::Connection;
use crate::instance::{Acceptor, Inner, Proxy};
use crate::link;
use crate::session::Session;
use crate::stream::Stream;
use crate::sync::lock;

/// How long disabling waits for the closed connections' tasks to finish.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// Why a proxy could not listen. The texts follow Go's
/// (`listen tcp ADDR: ...`).
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Not a `host:port` address, or the host does not resolve.
    #[error("listen tcp {0}: {1}")]
    Address(String, String),
    /// The address is valid but cannot be bound (in use, not local, ...).
    #[error("listen tcp {0}: bind: {1}")]
    Bind(String, std::io::Error),
}

impl Proxy {
    /// Listen on `listen` (port 0 picks a free port) and forward to `upstream`.
    pub async fn start(name: &str, listen: &str, upstream: &str, seed: u64) -> Result<Proxy, ListenError> {
        let proxy = Proxy::new(name, listen, upstream, seed);
        proxy.enable().await?;
        Ok(proxy)
    }

    /// Start listening, if not already.
    pub async fn enable(&self) -> Result<(), ListenError> {
        let _lifecycle = self.inner.lifecycle.lock().await;
        self.listen_now().await
    }

    /// Stop listening and close every connection; a no-op when disabled.
    pub async fn disable(&self) {
        let _lifecycle = self.inner.lifecycle.lock().await;
        self.stop_listening().await;
    }

    /// Toxiproxy's proxy update: a different listen address (compared
    /// after resolving it) or upstream restarts the proxy on them; then it
    /// is enabled or disabled as asked.
    pub async fn update(&self, listen: &str, upstream: &str, enabled: bool) -> Result<(), ListenError> {
        let _lifecycle = self.inner.lifecycle.lock().await;
        let (current_listen, current_upstream) = {
            let config = lock(&self.inner.config);
            (config.listen.clone(), config.upstream.clone())
        };
        let wanted = resolve(listen).await?;
        let current = resolve(&current_listen).await.ok();
        if current != Some(wanted) || upstream != current_upstream {
            self.stop_listening().await;
            let mut config = lock(&self.inner.config);
            config.listen = listen.to_string();
            config.upstream = upstream.to_string();
        }
        if enabled {
            return self.listen_now().await;
        }
        self.stop_listening().await;
        Ok(())
    }

    /// Stop listening and close every connection at once, without waiting
    /// (for `Drop` implementations).
    pub fn shutdown(&self) {
        if let Some(acceptor) = lock(&self.inner.config).acceptor.take() {
            acceptor.stop.cancel();
            acceptor.task.abort();
        }
        for connection in lock(&self.inner.connections).values() {
            connection.kill();
        }
    }

    async fn listen_now(&self) -> Result<(), ListenError> {
        if self.is_enabled() {
            return Ok(());
        }
        let listen = self.listen();
        let listener = bind(&listen).await?;
        let bound = listener.local_addr().map_err(|e| ListenError::Bind(listen.clone(), e))?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, Arc::downgrade(&self.inner), stop.clone()));
        let mut config = lock(&self.inner.config);
        config.listen = bound.to_string();
        config.bound = Some(bound);
        config.acceptor = Some(Acceptor { stop, task });
        Ok(())
    }

    /// Returns once the listener is closed (connections are refused) and
    /// every connection is closed.
    async fn stop_listening(&self) {
        let acceptor = lock(&self.inner.config).acceptor.take();
        let Some(acceptor) = acceptor else { return };
        acceptor.stop.cancel();
        let _ = acceptor.task.await;
        let deadline = tokio::time::Instant::now() + CLOSE_LIMIT;
        loop {
            let gone = self.inner.gone.notified();
            tokio::pin!(gone);
            gone.as_mut().enable();
            let open: Vec<Arc<Connection>> = lock(&self.inner.connections).values().cloned().collect();
            if open.is_empty() {
                return;
            }
            for connection in open {
                connection.kill();
            }
            if tokio::time::timeout_at(deadline, gone).await.is_err() {
                return;
            }
        }
    }
}

/// Resolve a `host:port` listen address as Go's `net.Listen` would: an
/// empty host is every interface (and an empty address a free port on
/// every interface), a name resolves with IPv4 first.
pub(super) async fn resolve_all(listen: &str) -> Result<Vec<SocketAddr>, ListenError> {
    let bad = |why: &str| ListenError::Address(listen.to_string(), why.to_string());
    // Go listens on a free port of every interface for "".
    let (host, port) = match listen {
        "" => ("", "0"),
        _ => listen.rsplit_once(':').ok_or_else(|| bad("missing port in address"))?,
    };
    let port: u16 = port.parse().map_err(|_| bad("invalid port"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return Ok(vec![SocketAddr::from(([0u16; 8], port)), SocketAddr::from(([0u8; 4], port))]);
    }
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await.map_err(|e| bad(&e.to_string()))?.collect();
    addrs.sort_by_key(|a| a.is_ipv6());
    if addrs.is_empty() {
        return Err(bad("no such host"));
    }
    Ok(addrs)
}

pub(super) async fn resolve(listen: &str) -> Result<SocketAddr, ListenError> {
    Ok(resolve_all(listen).await?[0])
}

async fn bind(listen: &str) -> Result<TcpListener, ListenError> {
    let mut last = None;
    for addr in resolve_all(listen).await? {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    let error = last.unwrap_or_else(|| std::io::Error::other("no address to bind"));
    Err(ListenError::Bind(listen.to_string(), error))
}

async fn accept_loop(listener: TcpListener, proxy: Weak<Inner>, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((client, _)) = accepted else {
            // Out of file descriptors, say: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Some(inner) = proxy.upgrade() else { return };
        let upstream = lock(&inner.config).upstream.clone();
        drop(inner);
        tokio::spawn(serve(client, upstream, proxy.clone(), stop.clone()));
    }
}

/// Connect to the upstream and run both links of one connection.
async fn serve(client: TcpStream, upstream: String, proxy: Weak<Inner>, stop: CancellationToken) {
    let server = tokio::select! {
        _ = stop.cancelled() => return,
        server = TcpStream::connect(&upstream) => server,
    };
    // As in Toxiproxy: a client whose upstream cannot be reached is closed.
    let Ok(server) = server else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let Some(inner) = proxy.upgrade() else { return };
    let id = inner.next_connection.fetch_add(1, Ordering::Relaxed);
    // Kafka mode only: a plain proxy's accept path is unchanged.
    let kafka = inner.kafka.get().map(|front| {
        let local = client.local_addr().map(|a| a.ip()).unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        Session::new(&inner.name, front.clone(), local, id, inner.ledger.get().cloned())
    });
    let (connection_rng, upstream_rng, downstream_rng) = {
        let mut rng = lock(&inner.rng);
        (SmallRng::seed_from_u64(rng.random()), SmallRng::seed_from_u64(rng.random()), SmallRng::seed_from_u64(rng.random()))
    };
    let connection = Connection::new(client, server, connection_rng, inner.settle.clone(), kafka);
    {
        let mut connections = lock(&inner.connections);
        // Disabled while connecting upstream: close at once.
        if stop.is_cancelled() {
            return connection.kill();
        }
        connections.insert(id, connection.clone());
    }
    let toxics = inner.toxics.subscribe();
    drop(inner);
    let upstream = link::run(connection.clone(), Stream::Upstream, toxics.clone(), upstream_rng);
    let downstream = link::run(connection.clone(), Stream::Downstream, toxics, downstream_rng);
    tokio::join!(upstream, downstream);
    connection.kill();
    if let Some(inner) = proxy.upgrade() {
        lock(&inner.connections).remove(&id);
        inner.gone.notify_waiters();
        inner.settle.notify_waiters();
    }
}
