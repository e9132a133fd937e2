//! The error of a 10 ms latency toxic: round trips through a proxy with the
//! toxic against a proxy without it, for faultlab and for Toxiproxy, and
//! how late a bare 10 ms sleep wakes (faultlab's timer against tokio's).

use std::time::Duration;

use super::Row;
use super::measure;
use super::peer::{Found, attach};
use super::proxy::{MESSAGE, Sizes, connect_nodelay, echo_server, round_trip};
use crate::proxy::toxics::latency::Latency;
use crate::proxy::{Proxy, Stream, Toxic, ToxicKind};

/// Target of issue 8.
const LATENCY_ERROR_TARGET_US: f64 = 100.0;
const LATENCY_MS: i64 = 10;

/// One proxy's round trips without and with the toxic.
struct Pair {
    plain: tokio::net::TcpStream,
    slow: tokio::net::TcpStream,
    without: hdrhistogram::Histogram<u64>,
    with: hdrhistogram::Histogram<u64>,
}

impl Pair {
    async fn new(plain: std::net::SocketAddr, slow: std::net::SocketAddr) -> anyhow::Result<Pair> {
        Ok(Pair {
            plain: connect_nodelay(plain).await?,
            slow: connect_nodelay(slow).await?,
            without: measure::histogram(),
            with: measure::histogram(),
        })
    }

    async fn sample(&mut self, record: bool) -> anyhow::Result<()> {
        let message = [0x5au8; MESSAGE];
        let mut back = [0u8; MESSAGE];
        let plain = round_trip(&mut self.plain, &message, &mut back).await?;
        let slow = round_trip(&mut self.slow, &message, &mut back).await?;
        if record {
            measure::record(&mut self.without, plain);
            measure::record(&mut self.with, slow);
        }
        Ok(())
    }

    /// The p50 with the toxic, the no-toxic p50 plus the asked latency,
    /// and the error at p50 and p99, in µs.
    fn figures(&self) -> (f64, f64, f64, f64) {
        let asked_us = (LATENCY_MS * 1000) as f64;
        let baseline = measure::quantile_us(&self.without, 0.5) + asked_us;
        let figure = measure::quantile_us(&self.with, 0.5);
        let p99 = measure::quantile_us(&self.with, 0.99) - measure::quantile_us(&self.without, 0.99) - asked_us;
        (figure, baseline, figure - baseline, p99)
    }
}

fn latency_toxic() -> Toxic {
    Toxic {
        name: "latency".into(),
        stream: Stream::Downstream,
        toxicity: 1.0,
        kind: ToxicKind::Latency(Latency { latency: LATENCY_MS, jitter: 0 }),
    }
}

pub(super) async fn error(sizes: &Sizes, peer: &Found, report: &mut impl FnMut(Row)) -> anyhow::Result<()> {
    let echo = echo_server().await?;
    let plain = Proxy::start("bench-plain", "127.0.0.1:0", &echo.addr.to_string(), 1).await?;
    let slow = Proxy::start("bench-latency", "127.0.0.1:0", &echo.addr.to_string(), 1).await?;
    slow.add_toxic(latency_toxic())?;
    let mut pairs = vec![Pair::new(plain.listen_addr(), slow.listen_addr()).await?];
    slow.settled().await;
    if let Ok(peer) = peer {
        let plain = peer.proxy("bench-plain", echo.addr).await?;
        let slow = peer.proxy("bench-latency", echo.addr).await?;
        peer.add_latency("bench-latency", LATENCY_MS).await?;
        pairs.push(Pair::new(plain, slow).await?);
    }
    for _ in 0..5 {
        for pair in &mut pairs {
            pair.sample(false).await?;
        }
    }
    // Each sample alternates faultlab's pair and Toxiproxy's.
    for _ in 0..sizes.latency_samples {
        for pair in &mut pairs {
            pair.sample(true).await?;
        }
    }
    plain.shutdown();
    slow.shutdown();
    let (figure, baseline, error, error_p99) = pairs[0].figures();
    let row = Row::new("proxy", &format!("{LATENCY_MS} ms latency toxic, round trip p50 ({} each)", sizes.latency_samples))
        .figure(
            format!("{:.3} ms (error {error:+.0} µs p50, {error_p99:+.0} µs p99)", figure / 1000.0),
            format!("{:.3} ms (no toxic + {LATENCY_MS} ms)", baseline / 1000.0),
            figure / baseline,
        )
        .target(format!("error <= {LATENCY_ERROR_TARGET_US} µs p50"), error.abs() <= LATENCY_ERROR_TARGET_US);
    let theirs = pairs.get(1).map(|pair| {
        let (figure, baseline, peer_error, p99) = pair.figures();
        let text = format!("{:.3} ms (error {peer_error:+.0} µs p50, {p99:+.0} µs p99)", figure / 1000.0);
        (text, figure / baseline, peer_error.abs() / error.abs())
    });
    report(attach(row, peer, theirs));
    overshoot(sizes, report).await;
    Ok(())
}

/// For scale: what tokio's own timer, which the toxic used before,
/// overshoots by for the same delay, measured now.
async fn overshoot(sizes: &Sizes, report: &mut impl FnMut(Row)) {
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
    let (tokio_p99, fine_p99) = (measure::quantile_us(&overshoot, 0.99), measure::quantile_us(&fine, 0.99));
    report(Row::new("proxy", &format!("timer overshoot of a {LATENCY_MS} ms sleep, p50 (vs tokio::time)")).figure(
        format!("{fine_us:.0} µs (p99 {fine_p99:.0} µs)"),
        format!("{tokio_us:.0} µs (p99 {tokio_p99:.0} µs, tokio)"),
        fine_us / tokio_us,
    ));
}
