//! Kafka mode's own cost on a link: the same echo server behind a plain
//! proxy and behind one that reads Kafka frames (`Proxy::set_kafka_framing`),
//! with request-shaped frames whose echo reads as their response. The
//! plain proxy is the baseline; Toxiproxy has no Kafka mode to compare.
//!
//! A request's bytes 4..8 are its API key and version and a response's
//! are its correlation id, so a request with API key 18, version 0 and
//! correlation id 0x0012_0000 echoes back as its own response: the Kafka
//! reader matches every echo to its request, as with a broker.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Row;
use super::measure::{self, rate_bytes};
use super::proxy::{MESSAGE, Sizes, connect_nodelay, echo_server, round_trip};
use crate::proxy::Proxy;

const API_KEY: i16 = 18;
const CORRELATION_ID: i32 = (API_KEY as i32) << 16;
const BULK_FRAME: usize = 1 << 20;

/// A request frame of `size` bytes in all that echoes as its own response.
fn frame(size: usize) -> Vec<u8> {
    let mut frame = vec![0u8; size];
    frame[..4].copy_from_slice(&((size - 4) as i32).to_be_bytes());
    frame[4..6].copy_from_slice(&API_KEY.to_be_bytes());
    frame[8..12].copy_from_slice(&CORRELATION_ID.to_be_bytes());
    frame[12..14].copy_from_slice(&(-1i16).to_be_bytes());
    frame
}

pub(super) async fn run(sizes: &Sizes, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let echo = echo_server().await?;
    let plain = Proxy::start("bench-plain", "127.0.0.1:0", &echo.addr.to_string(), 1).await?;
    let kafka = Proxy::new("bench-kafka", "127.0.0.1:0", &echo.addr.to_string(), 1);
    kafka.set_kafka_framing();
    kafka.enable().await?;
    let paths = [plain.listen_addr(), kafka.listen_addr()];
    round_trips(sizes, &paths, report).await.context("round trips")?;
    throughput(sizes, &paths, report).await.context("throughput")?;
    plain.shutdown();
    kafka.shutdown();
    Ok(())
}

async fn round_trips(sizes: &Sizes, paths: &[SocketAddr; 2], report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let mut sockets = vec![connect_nodelay(paths[0]).await?, connect_nodelay(paths[1]).await?];
    let message = frame(MESSAGE);
    let mut back = vec![0u8; MESSAGE];
    for _ in 0..200 {
        for socket in &mut sockets {
            round_trip(socket, &message, &mut back).await?;
        }
    }
    let mut histograms = [measure::histogram(), measure::histogram()];
    for _ in 0..sizes.rtt_blocks {
        for (socket, histogram) in sockets.iter_mut().zip(&mut histograms) {
            for _ in 0..sizes.rtt_block {
                measure::record(histogram, round_trip(socket, &message, &mut back).await?);
            }
        }
    }
    let n = sizes.rtt_blocks * sizes.rtt_block;
    for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
        let (plain, kafka) = (measure::quantile_us(&histograms[0], q), measure::quantile_us(&histograms[1], q));
        let row = Row::new("proxy", &format!("{MESSAGE}-byte Kafka frame round trip {name}, Kafka mode against plain ({n} each)"))
            .figure(format!("{kafka:.1} µs ({:+.1} µs)", kafka - plain), format!("{plain:.1} µs (plain proxy)"), kafka / plain)
            .no_peer("Toxiproxy has no Kafka mode");
        report(row);
    }
    Ok(())
}

/// Frames of 1 MiB written and echoed back at once: bytes per second.
async fn echoed(addr: SocketAddr, total: usize) -> anyhow::Result<f64> {
    let socket = connect_nodelay(addr).await?;
    let (mut read, mut write) = socket.into_split();
    let block = frame(BULK_FRAME);
    let frames = total / BULK_FRAME;
    let started = Instant::now();
    let writing = async move {
        for _ in 0..frames {
            write.write_all(&block).await?;
        }
        anyhow::Ok(write)
    };
    let reading = async {
        let mut buf = vec![0u8; 256 * 1024];
        let mut left = frames * BULK_FRAME;
        while left > 0 {
            let n = read.read(&mut buf).await?;
            anyhow::ensure!(n > 0, "the echo ended with {left} bytes to come");
            left -= n.min(left);
        }
        anyhow::Ok(())
    };
    let (written, read_back) =
        tokio::time::timeout(Duration::from_secs(120), async { tokio::join!(writing, reading) }).await.context("no echo within 120 s")?;
    written?;
    read_back?;
    Ok((frames * BULK_FRAME) as f64 / started.elapsed().as_secs_f64())
}

async fn throughput(sizes: &Sizes, paths: &[SocketAddr; 2], report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let total = (sizes.bulk_bytes as usize / 4).max(8 * BULK_FRAME);
    for &addr in paths {
        echoed(addr, 8 * BULK_FRAME).await?;
    }
    let mut rates = [Vec::new(), Vec::new()];
    for _ in 0..sizes.bulk_rounds {
        for (rate, &addr) in rates.iter_mut().zip(paths) {
            rate.push(echoed(addr, total).await?);
        }
    }
    let [plain, kafka] = rates.map(measure::median);
    let row =
        Row::new("proxy", &format!("1 MiB Kafka frames echoed ({} MiB x {}), Kafka mode against plain", total >> 20, sizes.bulk_rounds))
            .figure(rate_bytes(kafka), format!("{} (plain proxy)", rate_bytes(plain)), kafka / plain)
            .no_peer("Toxiproxy has no Kafka mode");
    report(row);
    Ok(())
}
