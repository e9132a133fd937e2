//! The latency toxic on real TCP connections through the embedded proxy.

use crate::common;

use std::time::{Duration, Instant};

use faultlab_proxy::toxics::latency::Latency;
use faultlab_proxy::{Proxy, Stream, Toxic, ToxicKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn latency(name: &str, stream: Stream, ms: i64) -> Toxic {
    Toxic { name: name.into(), stream, toxicity: 1.0, kind: ToxicKind::Latency(Latency { latency: ms, jitter: 0 }) }
}

async fn proxied_echo() -> (Proxy, TcpStream) {
    let echo = common::echo_server().await;
    let proxy = Proxy::start("echo", "127.0.0.1:0", &echo.to_string(), 1).await.unwrap();
    let client = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    client.set_nodelay(true).unwrap();
    (proxy, client)
}

async fn round_trip(client: &mut TcpStream, message: &[u8]) -> Duration {
    let started = Instant::now();
    client.write_all(message).await.unwrap();
    let mut back = vec![0u8; message.len()];
    client.read_exact(&mut back).await.unwrap();
    assert_eq!(back, message, "bytes come back unchanged");
    started.elapsed()
}

#[tokio::test]
async fn bytes_pass_unchanged_without_toxics() {
    let (_proxy, mut client) = proxied_echo().await;
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    client.write_all(&payload).await.unwrap();
    let mut back = vec![0u8; payload.len()];
    client.read_exact(&mut back).await.unwrap();
    assert_eq!(back, payload);
}

#[tokio::test]
async fn latency_added_on_an_open_connection_delays_each_round_trip() {
    let (proxy, mut client) = proxied_echo().await;
    let before = round_trip(&mut client, b"ping").await;
    assert!(before < Duration::from_millis(50), "no toxic: {before:?}");

    proxy.add_toxic(latency("slow", Stream::Downstream, 200)).unwrap();
    proxy.settled().await;
    let during = round_trip(&mut client, b"ping").await;
    assert!(during >= Duration::from_millis(200), "downstream latency applies: {during:?}");
    assert!(during < Duration::from_millis(400), "delay is added once: {during:?}");

    proxy.add_toxic(latency("slow-up", Stream::Upstream, 100)).unwrap();
    proxy.settled().await;
    let both = round_trip(&mut client, b"ping").await;
    assert!(both >= Duration::from_millis(300), "both streams add up: {both:?}");

    proxy.remove_all_toxics();
    proxy.settled().await;
    let after = round_trip(&mut client, b"ping").await;
    assert!(after < Duration::from_millis(50), "removed: {after:?}");
}

#[tokio::test]
async fn pipelined_chunks_keep_their_spacing() {
    let (proxy, client) = proxied_echo().await;
    proxy.add_toxic(latency("slow", Stream::Downstream, 300)).unwrap();
    proxy.settled().await;
    // Five requests 40 ms apart; each answer must arrive about 300 ms after
    // its own request, not 300 ms after the previous answer.
    let (mut read_half, mut write_half) = client.into_split();
    let started = Instant::now();
    let writer = async {
        for i in 0..5u8 {
            write_half.write_all(&[i]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    };
    let reader = async {
        let mut arrivals = Vec::new();
        let mut buf = [0u8; 16];
        while arrivals.len() < 5 {
            let n = read_half.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed early");
            arrivals.extend(std::iter::repeat_n(started.elapsed(), n));
        }
        arrivals
    };
    let (_, arrivals) = tokio::join!(writer, reader);
    let first = arrivals[0];
    let last = *arrivals.last().unwrap();
    assert!(first >= Duration::from_millis(300), "first answer 300 ms after its request: {first:?}");
    assert!(last >= Duration::from_millis(460), "last answer 300 ms after the last request (sent at 160 ms): {last:?}");
    assert!(last < Duration::from_millis(800), "pipelined chunks are not serialised (5 x 300 ms would be 1.5 s): {last:?}");
}

#[tokio::test]
async fn removing_latency_releases_held_bytes_at_once() {
    let (proxy, mut client) = proxied_echo().await;
    proxy.add_toxic(latency("long", Stream::Downstream, 10_000)).unwrap();
    proxy.settled().await;
    let started = Instant::now();
    client.write_all(b"held").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.remove_toxic("long").unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(2), client.read_exact(&mut back)).await.expect("released on removal").unwrap();
    assert_eq!(&back, b"held");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn toxic_names_are_unique_and_removal_of_unknown_fails() {
    let (proxy, _client) = proxied_echo().await;
    proxy.add_toxic(latency("a", Stream::Downstream, 1)).unwrap();
    assert!(proxy.add_toxic(latency("a", Stream::Upstream, 1)).is_err());
    assert!(proxy.remove_toxic("nope").is_err());
    assert_eq!(proxy.toxics().len(), 1);
}

#[tokio::test]
async fn chained_latencies_add_up() {
    let (proxy, mut client) = proxied_echo().await;
    proxy.add_toxic(latency("first", Stream::Downstream, 150)).unwrap();
    proxy.add_toxic(latency("second", Stream::Downstream, 150)).unwrap();
    proxy.settled().await;
    let took = round_trip(&mut client, b"ping").await;
    assert!(took >= Duration::from_millis(300), "150 + 150 ms, as in Toxiproxy: {took:?}");
    assert!(took < Duration::from_millis(600), "{took:?}");
}

#[tokio::test]
async fn a_change_to_the_chain_does_not_release_held_bytes_early() {
    let (proxy, mut client) = proxied_echo().await;
    proxy.add_toxic(latency("slow", Stream::Downstream, 600)).unwrap();
    proxy.settled().await;
    let started = Instant::now();
    client.write_all(b"held").await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Another toxic on the same stream restarts the chain; the held chunk
    // must still wait out its own 600 ms.
    proxy.add_toxic(latency("more", Stream::Downstream, 0)).unwrap();
    proxy.settled().await;
    let mut back = [0u8; 4];
    client.read_exact(&mut back).await.unwrap();
    let took = started.elapsed();
    assert_eq!(&back, b"held");
    assert!(took >= Duration::from_millis(600), "not released by the change: {took:?}");
    assert!(took < Duration::from_millis(1000), "{took:?}");
}
