//! The toxics that close connections, and how closes travel through the
//! proxy, on real TCP connections: reset_peer, timeout, limit_data,
//! slow_close, and Toxiproxy's "one side closes, both close".

use crate::common;

use std::time::Duration;

use common::{ReadEnd, add, connect, echo_server, pattern, proxy_to, read_all, toxic};
use faultlab_proxy::toxics::{limit_data::LimitData, reset_peer::ResetPeer, slow_close::SlowClose, timeout::Timeout};
use faultlab_proxy::{Stream, ToxicKind};
use tokio::io::AsyncWriteExt;

const LONG: Duration = Duration::from_secs(5);

#[tokio::test]
async fn reset_peer_gives_the_client_econnreset_at_the_first_data() {
    let proxy = proxy_to(echo_server().await).await;
    let mut client = connect(&proxy).await;
    add(&proxy, toxic("reset", Stream::Downstream, ToxicKind::ResetPeer(ResetPeer { timeout: 0 }))).await;
    client.write_all(b"hello").await.unwrap();
    let (got, end, _) = read_all(&mut client, LONG).await;
    assert_eq!(end, ReadEnd::Error(std::io::ErrorKind::ConnectionReset), "an RST, not a FIN");
    assert!(got.is_empty(), "the chunk that triggers the reset is dropped: {got:?}");
}

#[tokio::test]
async fn reset_peer_waits_its_timeout_after_the_first_data() {
    let proxy = proxy_to(echo_server().await).await;
    add(&proxy, toxic("reset", Stream::Upstream, ToxicKind::ResetPeer(ResetPeer { timeout: 300 }))).await;
    let mut client = connect(&proxy).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.write_all(b"hello").await.unwrap();
    let (_, end, took) = read_all(&mut client, LONG).await;
    assert_eq!(end, ReadEnd::Error(std::io::ErrorKind::ConnectionReset));
    assert!(took >= Duration::from_millis(280), "the clock starts at the first data, not at connect: {took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[tokio::test]
async fn timeout_zero_holds_until_removed_and_removal_closes() {
    let proxy = proxy_to(echo_server().await).await;
    let mut client = connect(&proxy).await;
    add(&proxy, toxic("hold", Stream::Downstream, ToxicKind::Timeout(Timeout { timeout: 0 }))).await;
    client.write_all(b"ping").await.unwrap();
    let (got, end, _) = read_all(&mut client, Duration::from_millis(700)).await;
    assert_eq!((got.as_slice(), end), (&b""[..], ReadEnd::TimedOut), "nothing comes back while the toxic holds");
    assert_eq!(proxy.connection_count(), 1, "and the connection stays open");

    proxy.remove_toxic("hold").unwrap();
    let (got, end, took) = read_all(&mut client, LONG).await;
    assert!(got.is_empty(), "what the timeout swallowed is gone, as in Toxiproxy: {got:?}");
    assert_eq!(end, ReadEnd::Eof, "removing the toxic closes the connection it held");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn timeout_closes_after_its_milliseconds() {
    let proxy = proxy_to(echo_server().await).await;
    add(&proxy, toxic("cut", Stream::Downstream, ToxicKind::Timeout(Timeout { timeout: 400 }))).await;
    let mut client = connect(&proxy).await;
    client.write_all(b"ping").await.unwrap();
    let (got, end, took) = read_all(&mut client, LONG).await;
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(end, ReadEnd::Eof);
    assert!(took >= Duration::from_millis(350), "closed after the timeout: {took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[tokio::test]
async fn an_inactive_timeout_removed_leaves_the_connection_open() {
    let proxy = proxy_to(echo_server().await).await;
    let mut client = connect(&proxy).await;
    let mut spared = toxic("hold", Stream::Downstream, ToxicKind::Timeout(Timeout { timeout: 0 }));
    spared.toxicity = 0.0;
    add(&proxy, spared).await;
    proxy.remove_toxic("hold").unwrap();
    proxy.settled().await;
    client.write_all(b"ping").await.unwrap();
    let (got, end, _) = read_all(&mut client, Duration::from_millis(300)).await;
    assert_eq!((got.as_slice(), end), (&b"ping"[..], ReadEnd::TimedOut), "still open and working");
}

#[tokio::test]
async fn limit_data_closes_after_exactly_its_bytes() {
    let proxy = proxy_to(echo_server().await).await;
    add(&proxy, toxic("limit", Stream::Downstream, ToxicKind::LimitData(LimitData { bytes: 1000 }))).await;
    let mut client = connect(&proxy).await;
    let sent = pattern(5000);
    client.write_all(&sent).await.unwrap();
    let (got, end, _) = read_all(&mut client, LONG).await;
    assert_eq!(got.len(), 1000, "exactly the limit");
    assert_eq!(got, sent[..1000], "the first bytes, unchanged");
    assert_eq!(end, ReadEnd::Eof);
}

#[tokio::test]
async fn limit_data_upstream_lets_the_server_see_exactly_its_bytes() {
    let (sink, mut sunk) = common::sink_server().await;
    let proxy = proxy_to(sink).await;
    add(&proxy, toxic("limit", Stream::Upstream, ToxicKind::LimitData(LimitData { bytes: 777 }))).await;
    let mut client = connect(&proxy).await;
    for piece in pattern(3000).chunks(100) {
        if client.write_all(piece).await.is_err() {
            break;
        }
    }
    let seen = tokio::time::timeout(LONG, sunk.recv()).await.expect("the server's connection ends").unwrap();
    assert_eq!(seen.bytes, pattern(777));
    assert!(seen.clean_end, "closed with a FIN");
}

#[tokio::test]
async fn slow_close_delays_the_close_the_client_sees() {
    let proxy = proxy_to(common::closing_server().await).await;
    let mut client = connect(&proxy).await;
    let (_, end, baseline) = read_all(&mut client, LONG).await;
    assert_eq!(end, ReadEnd::Eof);

    add(&proxy, toxic("slow", Stream::Downstream, ToxicKind::SlowClose(SlowClose { delay: 500 }))).await;
    let mut client = connect(&proxy).await;
    let (_, end, took) = read_all(&mut client, LONG).await;
    assert_eq!(end, ReadEnd::Eof);
    assert!(took >= Duration::from_millis(480), "the server's close reaches the client 500 ms late: {took:?}");
    assert!(took < baseline + Duration::from_millis(1200), "{took:?} (baseline {baseline:?})");
}

#[tokio::test]
async fn slow_close_upstream_delays_the_close_the_server_sees() {
    let (sink, mut sunk) = common::sink_server().await;
    let proxy = proxy_to(sink).await;
    add(&proxy, toxic("slow", Stream::Upstream, ToxicKind::SlowClose(SlowClose { delay: 400 }))).await;
    let mut client = connect(&proxy).await;
    client.write_all(b"bye").await.unwrap();
    let closed = std::time::Instant::now();
    drop(client);
    let seen = tokio::time::timeout(LONG, sunk.recv()).await.expect("the server's connection ends").unwrap();
    let took = closed.elapsed();
    assert_eq!(seen.bytes, b"bye");
    assert!(took >= Duration::from_millis(380), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[tokio::test]
async fn a_half_close_closes_both_sides_as_in_toxiproxy() {
    // The sink never closes its side. Toxiproxy passes no half-close on:
    // when the client's stream ends, the proxy closes the server socket,
    // and the client's socket follows.
    let (sink, mut sunk) = common::sink_server().await;
    let proxy = proxy_to(sink).await;
    let mut client = connect(&proxy).await;
    client.write_all(b"last words").await.unwrap();
    client.shutdown().await.unwrap();
    let (_, end, took) = read_all(&mut client, LONG).await;
    assert_eq!(end, ReadEnd::Eof, "the client sees its connection end");
    assert!(took < Duration::from_secs(1), "{took:?}");
    let seen = tokio::time::timeout(LONG, sunk.recv()).await.unwrap().unwrap();
    assert_eq!(seen.bytes, b"last words");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(proxy.connection_count(), 0, "nothing left open in the proxy");
}
