//! The bandwidth toxic holds its rate over a real 1 MB transfer (KB = 1000
//! bytes, as in Toxiproxy).

use crate::common;

use std::time::{Duration, Instant};

use common::{add, connect, pattern, proxy_to, read_all, toxic};
use faultlab_proxy::toxics::bandwidth::Bandwidth;
use faultlab_proxy::{Stream, ToxicKind};
use tokio::io::AsyncWriteExt;

const MEGABYTE: usize = 1_000_000;

/// Pull `size` bytes from a source server through a proxy limited to
/// `rate` KB/s downstream; the measured rate in KB/s.
async fn downstream_rate(rate: i64, size: usize) -> f64 {
    let proxy = proxy_to(common::source_server(size).await).await;
    add(&proxy, toxic("bw", Stream::Downstream, ToxicKind::Bandwidth(Bandwidth { rate }))).await;
    let started = Instant::now();
    let mut client = connect(&proxy).await;
    let mut got = Vec::with_capacity(size);
    while got.len() < size {
        let (chunk, end, _) = read_all(&mut client, Duration::from_millis(200)).await;
        got.extend_from_slice(&chunk);
        assert!(end == common::ReadEnd::TimedOut || got.len() == size, "stream ended early: {end:?} at {}", got.len());
        assert!(started.elapsed() < Duration::from_secs(30), "transfer stalled at {} bytes", got.len());
    }
    let took = started.elapsed();
    assert_eq!(got, pattern(size), "every byte, in order");
    let measured = size as f64 / 1000.0 / took.as_secs_f64();
    println!("bandwidth downstream: configured {rate} KB/s, measured {measured:.1} KB/s ({size} bytes in {took:?})");
    measured
}

fn assert_within(measured: f64, rate: i64, tolerance: f64) {
    let rate = rate as f64;
    assert!((measured - rate).abs() <= rate * tolerance, "measured {measured:.1} KB/s is not within {}% of {rate} KB/s", tolerance * 100.0);
}

#[tokio::test]
async fn bandwidth_holds_100_and_500_kb_per_second_over_a_megabyte() {
    // Side by side, so the whole test takes the ~10 s of the slower one.
    let (slow, fast) = tokio::join!(downstream_rate(100, MEGABYTE), downstream_rate(500, MEGABYTE));
    assert_within(slow, 100, 0.15);
    assert_within(fast, 500, 0.15);
}

#[tokio::test]
async fn bandwidth_upstream_paces_what_the_server_receives() {
    let (sink, mut sunk) = common::sink_server().await;
    let proxy = proxy_to(sink).await;
    let rate = 2000;
    add(&proxy, toxic("bw", Stream::Upstream, ToxicKind::Bandwidth(Bandwidth { rate }))).await;
    let mut client = connect(&proxy).await;
    let started = Instant::now();
    client.write_all(&pattern(MEGABYTE)).await.unwrap();
    // Closing now would lose what the proxy still holds (Toxiproxy's close
    // semantics): wait for it all to arrive first.
    let expected = Duration::from_secs_f64(MEGABYTE as f64 / 1000.0 / rate as f64);
    tokio::time::sleep(expected + Duration::from_millis(500)).await;
    drop(client);
    let seen = tokio::time::timeout(Duration::from_secs(10), sunk.recv()).await.unwrap().unwrap();
    assert_eq!(seen.bytes.len(), MEGABYTE);
    let took = seen.last.unwrap() - started;
    let measured = MEGABYTE as f64 / 1000.0 / took.as_secs_f64();
    println!("bandwidth upstream: configured {rate} KB/s, measured {measured:.1} KB/s ({MEGABYTE} bytes in {took:?})");
    assert_within(measured, rate, 0.15);
}

#[tokio::test]
async fn bandwidth_zero_lets_nothing_through_until_removed() {
    let proxy = proxy_to(common::echo_server().await).await;
    add(&proxy, toxic("stop", Stream::Downstream, ToxicKind::Bandwidth(Bandwidth { rate: 0 }))).await;
    let mut client = connect(&proxy).await;
    client.write_all(b"waiting").await.unwrap();
    let (got, _, _) = read_all(&mut client, Duration::from_millis(400)).await;
    assert!(got.is_empty(), "rate 0 stalls, as in Toxiproxy: {got:?}");
    proxy.remove_toxic("stop").unwrap();
    let (got, _, _) = read_all(&mut client, Duration::from_millis(400)).await;
    assert_eq!(got, b"waiting", "released on removal");
}
