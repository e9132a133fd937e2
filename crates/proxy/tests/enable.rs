//! Enabling and disabling proxies, and the registry's reset.

use crate::common;

use std::time::Duration;

use common::{ReadEnd, add, connect, echo_server, proxy_to, read_all, toxic};
use faultlab_proxy::toxics::latency::Latency;
use faultlab_proxy::{ProxySpec, Registry, Stream, ToxicKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn echoes(client: &mut TcpStream) -> bool {
    if client.write_all(b"ping").await.is_err() {
        return false;
    }
    let mut back = [0u8; 4];
    matches!(tokio::time::timeout(Duration::from_secs(2), client.read_exact(&mut back)).await, Ok(Ok(_))) && &back == b"ping"
}

#[tokio::test]
async fn disable_refuses_and_closes_enable_listens_again_on_the_same_address() {
    let proxy = proxy_to(echo_server().await).await;
    let addr = proxy.listen_addr();
    let mut open = connect(&proxy).await;
    assert!(echoes(&mut open).await);

    proxy.disable().await;
    assert!(!proxy.is_enabled());
    let (_, end, _) = read_all(&mut open, Duration::from_secs(2)).await;
    assert!(matches!(end, ReadEnd::Eof | ReadEnd::Error(_)), "the open connection is closed: {end:?}");
    let refused = TcpStream::connect(addr).await;
    assert_eq!(refused.map_err(|e| e.kind()).err(), Some(std::io::ErrorKind::ConnectionRefused), "new connections are refused");
    assert_eq!(proxy.connection_count(), 0);

    proxy.enable().await.unwrap();
    assert_eq!(proxy.listen_addr(), addr, "the same address");
    let mut again = TcpStream::connect(addr).await.expect("accepted again");
    assert!(echoes(&mut again).await);
}

#[tokio::test]
async fn toxics_survive_disable_and_enable() {
    let proxy = proxy_to(echo_server().await).await;
    add(&proxy, toxic("slow", Stream::Downstream, ToxicKind::Latency(Latency { latency: 200, jitter: 0 }))).await;
    proxy.disable().await;
    proxy.enable().await.unwrap();
    let mut client = connect(&proxy).await;
    let started = std::time::Instant::now();
    assert!(echoes(&mut client).await);
    assert!(started.elapsed() >= Duration::from_millis(200), "the latency still applies");
}

#[tokio::test]
async fn reset_removes_every_toxic_and_enables_every_proxy() {
    let echo = echo_server().await;
    let registry = Registry::new(1);
    let spec = |name: &str, enabled| ProxySpec { name: name.into(), listen: "127.0.0.1:0".into(), upstream: echo.to_string(), enabled };
    let on = registry.create(spec("on", true)).await.unwrap();
    let off = registry.create(spec("off", true)).await.unwrap();
    let never = registry.create(spec("never", false)).await.unwrap();
    for proxy in [&on, &off, &never] {
        add(proxy, toxic("slow", Stream::Downstream, ToxicKind::Latency(Latency { latency: 1000, jitter: 0 }))).await;
        add(proxy, toxic("slow_up", Stream::Upstream, ToxicKind::Latency(Latency { latency: 1000, jitter: 0 }))).await;
    }
    let mut held = connect(&on).await;
    off.disable().await;

    registry.reset().await.unwrap();
    for proxy in registry.list().await {
        assert!(proxy.toxics().is_empty(), "{} has no toxic", proxy.name());
        assert!(proxy.is_enabled(), "{} is enabled", proxy.name());
    }
    let started = std::time::Instant::now();
    assert!(echoes(&mut held).await, "an open connection loses its toxics too");
    assert!(started.elapsed() < Duration::from_millis(500));
    for proxy in [&off, &never] {
        let mut client = connect(proxy).await;
        assert!(echoes(&mut client).await, "{} accepts", proxy.name());
    }
}

#[tokio::test]
async fn changing_the_upstream_restarts_the_proxy_on_the_new_one() {
    let first = echo_server().await;
    let (sink, mut sunk) = common::sink_server().await;
    let proxy = proxy_to(first).await;
    let listen = proxy.listen();
    let mut old = connect(&proxy).await;
    proxy.update(&listen, &sink.to_string(), true).await.unwrap();
    let (_, end, _) = read_all(&mut old, Duration::from_secs(2)).await;
    assert!(matches!(end, ReadEnd::Eof | ReadEnd::Error(_)), "restarting closes connections: {end:?}");
    let mut client = connect(&proxy).await;
    client.write_all(b"to the sink").await.unwrap();
    drop(client);
    let seen = tokio::time::timeout(Duration::from_secs(2), sunk.recv()).await.unwrap().unwrap();
    assert_eq!(seen.bytes, b"to the sink");
    assert_eq!(proxy.listen(), listen, "same listen address");
}
