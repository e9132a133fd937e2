//! The proxy against direct loopback: bulk throughput, 100-byte round
//! trips, the error of a 10 ms latency toxic, and memory per idle
//! connection.
//!
//! Client, server and proxy all run in this process on the same runtime,
//! direct and proxied measurements interleaved, so both paths see the same
//! machine load; each figure is compared only with its own baseline.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::AbortOnDropHandle;

use super::Row;
use super::measure::{self, bytes, rate_bytes};
use crate::proxy::toxics::latency::Latency;
use crate::proxy::{Proxy, Stream, Toxic, ToxicKind};

/// Targets of issue 8.
const THROUGHPUT_TARGET: f64 = 0.9;
const ADDED_P50_TARGET_US: f64 = 25.0;
const LATENCY_ERROR_TARGET_US: f64 = 100.0;
const IDLE_TARGET_BYTES: f64 = 16_000.0;

const LATENCY_MS: i64 = 10;
const MESSAGE: usize = 100;
const WRITE_SIZE: usize = 256 * 1024;

struct Sizes {
    bulk_bytes: u64,
    bulk_rounds: usize,
    rtt_blocks: usize,
    rtt_block: usize,
    latency_samples: usize,
    idle_connections: usize,
}

fn sizes(quick: bool) -> Sizes {
    if quick {
        Sizes { bulk_bytes: 128 << 20, bulk_rounds: 2, rtt_blocks: 4, rtt_block: 500, latency_samples: 40, idle_connections: 200 }
    } else {
        Sizes { bulk_bytes: 1 << 30, bulk_rounds: 4, rtt_blocks: 20, rtt_block: 1000, latency_samples: 300, idle_connections: 1000 }
    }
}

pub async fn run(quick: bool, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let sizes = sizes(quick);
    throughput(&sizes, report).await.context("bulk throughput")?;
    round_trips(&sizes, report).await.context("round trips")?;
    latency_error(&sizes, report).await.context("latency toxic")?;
    idle_memory(&sizes, report).await.context("idle connections")?;
    Ok(())
}

/// A server running until dropped.
struct Server {
    addr: SocketAddr,
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

async fn echo_server() -> anyhow::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if socket.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
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

/// The least any user-space TCP proxy does: accept, connect, and
/// `copy_bidirectional`. Measured beside faultlab's proxy to show how much
/// of the gap to direct loopback is the second TCP hop itself.
async fn minimal_forwarder(upstream: SocketAddr) -> anyhow::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    Ok(Server { addr, _task: AbortOnDropHandle::new(task) })
}

async fn throughput(sizes: &Sizes, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let server = sink_server().await?;
    let proxy = Proxy::start("bench-bulk", "127.0.0.1:0", &server.addr.to_string(), 1).await?;
    let forwarder = minimal_forwarder(server.addr).await?;
    // Warm up every path (connection setup, first allocations).
    for addr in [server.addr, proxy.listen_addr(), forwarder.addr] {
        transfer(addr, 8 << 20).await?;
    }
    let (mut direct, mut proxied, mut forwarded) = (Vec::new(), Vec::new(), Vec::new());
    let rate_of = |took: Duration| sizes.bulk_bytes as f64 / took.as_secs_f64();
    for _ in 0..sizes.bulk_rounds {
        direct.push(rate_of(transfer(server.addr, sizes.bulk_bytes).await?));
        proxied.push(rate_of(transfer(proxy.listen_addr(), sizes.bulk_bytes).await?));
        forwarded.push(rate_of(transfer(forwarder.addr, sizes.bulk_bytes).await?));
    }
    proxy.shutdown();
    let (direct, proxied, forwarded) = (measure::median(direct), measure::median(proxied), measure::median(forwarded));
    let ratio = proxied / direct;
    let what = format!("({} MiB x {})", sizes.bulk_bytes >> 20, sizes.bulk_rounds);
    report(
        Row::new("proxy", &format!("bulk TCP throughput {what}"))
            .figure(rate_bytes(proxied), rate_bytes(direct), ratio)
            .target(format!(">= {THROUGHPUT_TARGET}x"), ratio >= THROUGHPUT_TARGET),
    );
    report(
        Row::new("proxy", &format!("bulk TCP throughput {what}, minimal forwarder for scale (tokio copy_bidirectional)"))
            .figure(rate_bytes(forwarded), rate_bytes(direct), forwarded / direct),
    );
    Ok(())
}

async fn connect_nodelay(addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpStream::connect(addr).await?;
    socket.set_nodelay(true)?;
    Ok(socket)
}

async fn round_trip(socket: &mut TcpStream, message: &[u8], back: &mut [u8]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    socket.write_all(message).await?;
    socket.read_exact(back).await?;
    Ok(started.elapsed())
}

async fn round_trips(sizes: &Sizes, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let echo = echo_server().await?;
    let proxy = Proxy::start("bench-rtt", "127.0.0.1:0", &echo.addr.to_string(), 1).await?;
    let mut direct_socket = connect_nodelay(echo.addr).await?;
    let mut proxied_socket = connect_nodelay(proxy.listen_addr()).await?;
    let message = [0x5au8; MESSAGE];
    let mut back = [0u8; MESSAGE];
    for _ in 0..200 {
        round_trip(&mut direct_socket, &message, &mut back).await?;
        round_trip(&mut proxied_socket, &message, &mut back).await?;
    }
    let (mut direct, mut proxied) = (measure::histogram(), measure::histogram());
    // Blocks alternate, so a burst of load elsewhere hits both paths.
    for _ in 0..sizes.rtt_blocks {
        for _ in 0..sizes.rtt_block {
            measure::record(&mut direct, round_trip(&mut direct_socket, &message, &mut back).await?);
        }
        for _ in 0..sizes.rtt_block {
            measure::record(&mut proxied, round_trip(&mut proxied_socket, &message, &mut back).await?);
        }
    }
    proxy.shutdown();
    let n = sizes.rtt_blocks * sizes.rtt_block;
    for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
        let (d, p) = (measure::quantile_us(&direct, q), measure::quantile_us(&proxied, q));
        let row = Row::new("proxy", &format!("{MESSAGE}-byte round trip {name} ({n} each)"))
            .figure(format!("{p:.1} µs (+{:.1} µs)", p - d), format!("{d:.1} µs"), p / d);
        report(if q == 0.5 {
            row.target(format!("<= +{ADDED_P50_TARGET_US} µs"), p - d <= ADDED_P50_TARGET_US)
        } else {
            row
        });
    }
    Ok(())
}

async fn latency_error(sizes: &Sizes, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let echo = echo_server().await?;
    let plain = Proxy::start("bench-plain", "127.0.0.1:0", &echo.addr.to_string(), 1).await?;
    let slow = Proxy::start("bench-latency", "127.0.0.1:0", &echo.addr.to_string(), 1).await?;
    slow.add_toxic(Toxic {
        name: "latency".into(),
        stream: Stream::Downstream,
        toxicity: 1.0,
        kind: ToxicKind::Latency(Latency { latency: LATENCY_MS, jitter: 0 }),
    })?;
    let mut plain_socket = connect_nodelay(plain.listen_addr()).await?;
    let mut slow_socket = connect_nodelay(slow.listen_addr()).await?;
    slow.settled().await;
    let message = [0x5au8; MESSAGE];
    let mut back = [0u8; MESSAGE];
    for _ in 0..5 {
        round_trip(&mut plain_socket, &message, &mut back).await?;
        round_trip(&mut slow_socket, &message, &mut back).await?;
    }
    let (mut without, mut with) = (measure::histogram(), measure::histogram());
    for _ in 0..sizes.latency_samples {
        measure::record(&mut without, round_trip(&mut plain_socket, &message, &mut back).await?);
        measure::record(&mut with, round_trip(&mut slow_socket, &message, &mut back).await?);
    }
    plain.shutdown();
    slow.shutdown();
    let asked_us = (LATENCY_MS * 1000) as f64;
    let baseline = measure::quantile_us(&without, 0.5) + asked_us;
    let figure = measure::quantile_us(&with, 0.5);
    let error = figure - baseline;
    let error_p99 = measure::quantile_us(&with, 0.99) - measure::quantile_us(&without, 0.99) - asked_us;
    report(
        Row::new("proxy", &format!("{LATENCY_MS} ms latency toxic, round trip p50 ({} each)", sizes.latency_samples))
            .figure(
                format!("{:.3} ms (error {error:+.0} µs p50, {error_p99:+.0} µs p99)", figure / 1000.0),
                format!("{:.3} ms (no toxic + {LATENCY_MS} ms)", baseline / 1000.0),
                figure / baseline,
            )
            .target(format!("error <= {LATENCY_ERROR_TARGET_US} µs p50"), error.abs() <= LATENCY_ERROR_TARGET_US),
    );

    // For scale: what tokio's own timer, which the toxic used before,
    // overshoots by for the same delay, measured now.
    let mut overshoot = measure::histogram();
    for _ in 0..(sizes.latency_samples / 3).max(10) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(LATENCY_MS as u64);
        tokio::time::sleep_until(deadline).await;
        measure::record(&mut overshoot, tokio::time::Instant::now() - deadline);
    }
    let mut fine = measure::histogram();
    for _ in 0..(sizes.latency_samples / 3).max(10) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(LATENCY_MS as u64);
        crate::proxy::timer::sleep_until(deadline).await;
        measure::record(&mut fine, tokio::time::Instant::now() - deadline);
    }
    let (tokio_us, fine_us) = (measure::quantile_us(&overshoot, 0.5), measure::quantile_us(&fine, 0.5));
    report(Row::new("proxy", &format!("timer overshoot of a {LATENCY_MS} ms sleep, p50 (vs tokio::time)")).figure(
        format!("{fine_us:.0} µs"),
        format!("{tokio_us:.0} µs (tokio)"),
        fine_us / tokio_us,
    ));
    Ok(())
}

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

async fn idle_memory(sizes: &Sizes, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let n = sizes.idle_connections;
    let server = hold_server(3 * n + 8).await?;
    let proxy = Proxy::start("bench-idle", "127.0.0.1:0", &server.addr.to_string(), 1).await?;
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
    wait_until("proxied connections open", || {
        server.accepted.load(Ordering::Acquire) == 2 * n + 2 && proxy.connection_count() == n + 1
    })
    .await?;
    let with_proxied = settled_rss().await;

    drop((direct, proxied, warm));
    proxy.shutdown();
    server.held.lock().unwrap_or_else(|e| e.into_inner()).clear();

    let per_direct = with_direct.saturating_sub(before) as f64 / n as f64;
    let per_proxied = with_proxied.saturating_sub(with_direct) as f64 / n as f64;
    let cost = per_proxied - per_direct;
    report(
        Row::new("proxy", &format!("memory per idle connection (RSS, {n} connections)"))
            .figure(
                format!("{} (proxied {} - direct)", bytes(cost), bytes(per_proxied)),
                format!("{} (client + server socket)", bytes(per_direct)),
                per_proxied / per_direct,
            )
            .target(format!("<= {}", bytes(IDLE_TARGET_BYTES)), cost <= IDLE_TARGET_BYTES),
    );
    Ok(())
}
