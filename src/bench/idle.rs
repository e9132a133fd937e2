//! Memory per idle connection: the resident set's growth per connection
//! held open through faultlab's proxy (this process) and through Toxiproxy
//! (its process, /proc/<pid>/status), after settling.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::AbortOnDropHandle;

use super::Row;
use super::measure::{self, bytes};
use super::peer::{Found, Peer, attach};
use super::proxy::Sizes;
use crate::proxy::toxics::latency::Latency;
use crate::proxy::{Proxy, Stream, Toxic, ToxicKind};

/// Target of issue 8.
const IDLE_TARGET_BYTES: f64 = 16_000.0;

/// Accepts connections and holds them, counting.
struct HoldServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    _task: AbortOnDropHandle<()>,
}

async fn hold_server(capacity: usize) -> anyhow::Result<HoldServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(Mutex::new(Vec::with_capacity(capacity)));
    let (count, keep) = (accepted.clone(), held.clone());
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            keep.lock().unwrap_or_else(|e| e.into_inner()).push(socket);
            count.fetch_add(1, Ordering::Release);
        }
    });
    Ok(HoldServer { addr, accepted, held, _task: AbortOnDropHandle::new(task) })
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        if Instant::now() > deadline {
            bail!("{what} did not happen within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Resident memory once things settled and freed memory went back.
async fn settled_rss() -> u64 {
    tokio::time::sleep(Duration::from_millis(300)).await;
    measure::trim_heap();
    measure::rss()
}

pub(super) async fn memory(sizes: &Sizes, peer: &Found, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    // Without toxics, then with one on each stream: faultlab builds a
    // link's chain of toxics only once its stream has a toxic.
    for toxics in [false, true] {
        measure_one(sizes, peer, toxics, report).await?;
    }
    Ok(())
}

/// A latency toxic on `stream`, which an idle connection never triggers.
fn idle_toxic(stream: Stream) -> Toxic {
    let name = format!("latency_{}", if stream == Stream::Upstream { "up" } else { "down" });
    Toxic { name, stream, toxicity: 1.0, kind: ToxicKind::Latency(Latency { latency: 10, jitter: 0 }) }
}

async fn measure_one(sizes: &Sizes, peer: &Found, toxics: bool, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let n = sizes.idle_connections;
    let name = if toxics { "bench-idle-toxics" } else { "bench-idle" };
    let server = hold_server(4 * n + 8).await?;
    let proxy = Proxy::start(name, "127.0.0.1:0", &server.addr.to_string(), 1).await?;
    if toxics {
        for stream in [Stream::Upstream, Stream::Downstream] {
            proxy.add_toxic(idle_toxic(stream))?;
        }
    }
    // One connection each way first, so one-off costs (the proxy's first
    // connection, lazily built state) are not counted per connection.
    let warm = (TcpStream::connect(server.addr).await?, TcpStream::connect(proxy.listen_addr()).await?);
    wait_until("the warm-up connections", || server.accepted.load(Ordering::Acquire) == 2 && proxy.connection_count() == 1).await?;
    let mut direct = Vec::with_capacity(n);
    let mut proxied = Vec::with_capacity(n);

    let before = settled_rss().await;
    for _ in 0..n {
        direct.push(TcpStream::connect(server.addr).await?);
    }
    wait_until("direct connections accepted", || server.accepted.load(Ordering::Acquire) == n + 2).await?;
    let with_direct = settled_rss().await;
    for _ in 0..n {
        proxied.push(TcpStream::connect(proxy.listen_addr()).await?);
    }
    wait_until("proxied connections open", || server.accepted.load(Ordering::Acquire) == 2 * n + 2 && proxy.connection_count() == n + 1)
        .await?;
    let with_proxied = settled_rss().await;

    drop((direct, proxied, warm));
    proxy.shutdown();
    server.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let theirs = match peer {
        Ok(peer) => Some(toxiproxy_growth(peer, name, toxics, &server, n).await?),
        Err(_) => None,
    };

    let per_direct = with_direct.saturating_sub(before) as f64 / n as f64;
    let per_proxied = with_proxied.saturating_sub(with_direct) as f64 / n as f64;
    let cost = per_proxied - per_direct;
    let with = if toxics { ", a toxic on each stream" } else { "" };
    let row = Row::new("proxy", &format!("memory per idle connection{with} (RSS, {n} connections)"))
        .figure(
            format!("{} (proxied {} - direct)", bytes(cost), bytes(per_proxied)),
            format!("{} (client + server socket)", bytes(per_direct)),
            per_proxied / per_direct,
        )
        .target(format!("<= {}", bytes(IDLE_TARGET_BYTES)), cost <= IDLE_TARGET_BYTES);
    // Toxiproxy's growth is its own process's: the client and server
    // sockets are in this one, so its ratio adds them as faultlab's does.
    let theirs = theirs.map(|t| (format!("{} (its RSS)", bytes(t)), (t + per_direct) / per_direct, t / cost));
    report(attach(row, peer, theirs));
    Ok(())
}

/// Toxiproxy's resident set growth per connection held through it.
async fn toxiproxy_growth(peer: &Peer, name: &str, toxics: bool, server: &HoldServer, n: usize) -> anyhow::Result<f64> {
    let listen = peer.proxy(name, server.addr).await?;
    if toxics {
        for stream in [Stream::Upstream, Stream::Downstream] {
            peer.add_toxic(name, &idle_toxic(stream)).await?;
        }
    }
    let base = server.accepted.load(Ordering::Acquire);
    let warm = TcpStream::connect(listen).await?;
    wait_until("the warm-up connection through Toxiproxy", || server.accepted.load(Ordering::Acquire) == base + 1).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = peer.rss()?;
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(TcpStream::connect(listen).await?);
    }
    wait_until("connections through Toxiproxy", || server.accepted.load(Ordering::Acquire) == base + 1 + n).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = peer.rss()?;
    drop((held, warm));
    server.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
    Ok(after.saturating_sub(before) as f64 / n as f64)
}
