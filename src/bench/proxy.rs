//! The proxy against direct loopback: bulk throughput, 100-byte round
//! trips, the error of a 10 ms latency toxic ([`super::latency`]), and
//! memory per idle connection ([`super::idle`]); each also through a real
//! Toxiproxy ([`super::peer`]) when one is found, and bulk throughput
//! through the forwarder limit ([`super::splice`]).
//!
//! Client, server and faultlab's proxy all run in this process on the same
//! runtime (Toxiproxy in its own); the paths' measurements are interleaved
//! in every round, so all see the same machine load, with the same traffic
//! and sizes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::AbortOnDropHandle;

use super::Row;
use super::measure::{self, rate_bytes};
use super::peer::{Found, Peer, attach};
use super::splice::Forwarder;
use crate::proxy::Proxy;

/// Targets of issue 8 (the rest are in their modules).
const THROUGHPUT_TARGET: f64 = 0.9;
const ADDED_P50_TARGET_US: f64 = 25.0;
/// Issue 14's aim: faultlab's bulk throughput against the forwarder limit.
const LIMIT_TARGET: f64 = 0.9;

pub(super) const MESSAGE: usize = 100;
const WRITE_SIZE: usize = 256 * 1024;

pub(super) struct Sizes {
    pub bulk_bytes: u64,
    pub bulk_rounds: usize,
    pub rtt_blocks: usize,
    pub rtt_block: usize,
    pub latency_samples: usize,
    pub idle_connections: usize,
}

fn sizes(quick: bool) -> Sizes {
    if quick {
        Sizes { bulk_bytes: 128 << 20, bulk_rounds: 2, rtt_blocks: 4, rtt_block: 500, latency_samples: 40, idle_connections: 200 }
    } else {
        Sizes { bulk_bytes: 1 << 30, bulk_rounds: 4, rtt_blocks: 20, rtt_block: 1000, latency_samples: 1000, idle_connections: 1000 }
    }
}

pub async fn run(quick: bool, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let sizes = sizes(quick);
    let peer = Peer::start().await.context("starting Toxiproxy")?;
    throughput(&sizes, &peer, report).await.context("bulk throughput")?;
    round_trips(&sizes, &peer, report).await.context("round trips")?;
    super::latency::error(&sizes, &peer, report).await.context("latency toxic")?;
    super::idle::memory(&sizes, &peer, report).await.context("idle connections")?;
    super::kafka_link::run(&sizes, report).await.context("Kafka mode")?;
    Ok(())
}

/// A server running until dropped.
pub(super) struct Server {
    pub addr: SocketAddr,
    _task: AbortOnDropHandle<()>,
}

/// Reads an 8-byte length, then that many bytes, answers one byte.
async fn sink_server() -> anyhow::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut header = [0u8; 8];
                if socket.read_exact(&mut header).await.is_err() {
                    return;
                }
                let mut left = u64::from_le_bytes(header);
                let mut buf = vec![0u8; WRITE_SIZE];
                while left > 0 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => left = left.saturating_sub(n as u64),
                    }
                }
                let _ = socket.write_all(b"k").await;
                // Hold the socket until the client closes it.
                let _ = socket.read(&mut buf[..1]).await;
            });
        }
    });
    Ok(Server { addr, _task: AbortOnDropHandle::new(task) })
}

pub(super) async fn echo_server() -> anyhow::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let (from, mut to) = socket.split();
                // Reads of up to 64 KiB, as a proxy link's.
                let mut from = tokio::io::BufReader::with_capacity(64 * 1024, from);
                let _ = tokio::io::copy_buf(&mut from, &mut to).await;
            });
        }
    });
    Ok(Server { addr, _task: AbortOnDropHandle::new(task) })
}

/// Send `total` bytes and wait for the server's one-byte answer; the time
/// from the first byte written to the answer.
async fn transfer(addr: SocketAddr, total: u64) -> anyhow::Result<Duration> {
    let mut socket = TcpStream::connect(addr).await?;
    let block = vec![0xa5u8; WRITE_SIZE];
    let started = Instant::now();
    socket.write_all(&total.to_le_bytes()).await?;
    let mut left = total;
    while left > 0 {
        let n = left.min(WRITE_SIZE as u64) as usize;
        socket.write_all(&block[..n]).await?;
        left -= n as u64;
    }
    let mut answer = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(60), socket.read_exact(&mut answer)).await.context("no answer within 60 s")??;
    Ok(started.elapsed())
}

async fn throughput(sizes: &Sizes, peer: &Found, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let server = sink_server().await?;
    let proxy = Proxy::start("bench-bulk", "127.0.0.1:0", &server.addr.to_string(), 1).await?;
    let limit = Forwarder::start(server.addr).await.context("starting the splice forwarder")?;
    let toxiproxy = match peer {
        Ok(peer) => Some(peer.proxy("bench-bulk", server.addr).await?),
        Err(_) => None,
    };
    // Direct, faultlab, the limit, then Toxiproxy when there is one.
    let paths: Vec<SocketAddr> = [server.addr, proxy.listen_addr(), limit.addr].into_iter().chain(toxiproxy).collect();
    // Warm up every path (connection setup, first allocations).
    for &addr in &paths {
        transfer(addr, 8 << 20).await?;
    }
    let mut rates = vec![Vec::new(); paths.len()];
    let rate_of = |took: Duration| sizes.bulk_bytes as f64 / took.as_secs_f64();
    for _ in 0..sizes.bulk_rounds {
        for (i, &addr) in paths.iter().enumerate() {
            rates[i].push(rate_of(transfer(addr, sizes.bulk_bytes).await?));
        }
    }
    proxy.shutdown();
    let rates: Vec<f64> = rates.into_iter().map(measure::median).collect();
    let (direct, proxied, limit) = (rates[0], rates[1], rates[2]);
    let peer_rate = rates.get(3).copied();
    let what = format!("({} MiB x {})", sizes.bulk_bytes >> 20, sizes.bulk_rounds);
    let ratio = proxied / direct;
    let row = Row::new("proxy", &format!("bulk TCP throughput {what}"))
        .figure(rate_bytes(proxied), rate_bytes(direct), ratio)
        .target(format!(">= {THROUGHPUT_TARGET}x"), ratio >= THROUGHPUT_TARGET);
    report(attach(row, peer, peer_rate.map(|t| (rate_bytes(t), t / direct, proxied / t))));
    report(Row::new("proxy", &format!("bulk TCP throughput {what}, forwarder limit (splice(2), no toxic)")).figure(
        rate_bytes(limit),
        rate_bytes(direct),
        limit / direct,
    ));
    let ratio = proxied / limit;
    let row = Row::new("proxy", &format!("bulk TCP throughput {what} against the forwarder limit"))
        .figure(rate_bytes(proxied), format!("{} (limit)", rate_bytes(limit)), ratio)
        .target(format!(">= {LIMIT_TARGET}x limit"), ratio >= LIMIT_TARGET);
    report(attach(row, peer, peer_rate.map(|t| (rate_bytes(t), t / limit, proxied / t))));
    Ok(())
}

pub(super) async fn connect_nodelay(addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpStream::connect(addr).await?;
    socket.set_nodelay(true)?;
    Ok(socket)
}

pub(super) async fn round_trip(socket: &mut TcpStream, message: &[u8], back: &mut [u8]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    socket.write_all(message).await?;
    socket.read_exact(back).await?;
    Ok(started.elapsed())
}

async fn round_trips(sizes: &Sizes, peer: &Found, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let echo = echo_server().await?;
    let proxy = Proxy::start("bench-rtt", "127.0.0.1:0", &echo.addr.to_string(), 1).await?;
    let mut sockets = vec![connect_nodelay(echo.addr).await?, connect_nodelay(proxy.listen_addr()).await?];
    if let Ok(peer) = peer {
        sockets.push(connect_nodelay(peer.proxy("bench-rtt", echo.addr).await?).await?);
    }
    let message = [0x5au8; MESSAGE];
    let mut back = [0u8; MESSAGE];
    for _ in 0..200 {
        for socket in &mut sockets {
            round_trip(socket, &message, &mut back).await?;
        }
    }
    let mut histograms: Vec<_> = sockets.iter().map(|_| measure::histogram()).collect();
    // Blocks alternate, so a burst of load elsewhere hits every path.
    for _ in 0..sizes.rtt_blocks {
        for (socket, histogram) in sockets.iter_mut().zip(&mut histograms) {
            for _ in 0..sizes.rtt_block {
                measure::record(histogram, round_trip(socket, &message, &mut back).await?);
            }
        }
    }
    proxy.shutdown();
    let n = sizes.rtt_blocks * sizes.rtt_block;
    for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
        let at: Vec<f64> = histograms.iter().map(|h| measure::quantile_us(h, q)).collect();
        let (d, p) = (at[0], at[1]);
        let row = Row::new("proxy", &format!("{MESSAGE}-byte round trip {name} ({n} each)")).figure(
            format!("{p:.1} µs ({:+.1} µs)", p - d),
            format!("{d:.1} µs"),
            p / d,
        );
        let row = if q == 0.5 { row.target(format!("<= +{ADDED_P50_TARGET_US} µs"), p - d <= ADDED_P50_TARGET_US) } else { row };
        report(attach(row, peer, at.get(2).map(|&t| (format!("{t:.1} µs ({:+.1} µs)", t - d), t / d, t / p))));
    }
    Ok(())
}
