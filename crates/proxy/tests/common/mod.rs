//! Helpers shared by the proxy's integration tests (crates/proxy/tests and
//! tests/proxy, which includes this module): real TCP servers on loopback,
//! proxies in front of them, and the Toxiproxy API on a free port.

#![allow(dead_code)]

pub mod components;
pub mod http;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultlab_proxy::api;
use faultlab_proxy::{Proxy, Registry, Stream, Toxic, ToxicKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// An HTTP client for the tests' API calls. The workspace's build of
/// reqwest has rustls without a crypto provider (tansu asks for it so), so
/// one is installed first, as `faultlab::http_client` does.
pub fn http_client() -> reqwest::ClientBuilder {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
    reqwest::Client::builder()
}

/// An echo server on 127.0.0.1: every byte read is written straight back.
pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo server");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut from, mut to) = socket.split();
                let _ = tokio::io::copy(&mut from, &mut to).await;
            });
        }
    });
    addr
}

/// A server that writes `size` bytes (the pattern of [`pattern`]) to each
/// connection as soon as it accepts it, then keeps the connection open
/// until the peer closes.
pub async fn source_server(size: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind source server");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                if socket.write_all(&pattern(size)).await.is_err() {
                    return;
                }
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// What a [`sink_server`] saw on one connection.
#[derive(Debug)]
pub struct Sunk {
    pub bytes: Vec<u8>,
    /// When the first and the last byte arrived.
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    /// Whether the connection ended with end of stream (not an error).
    pub clean_end: bool,
}

/// A server that reads each connection to its end and reports what it got.
/// It never writes and never closes first.
pub async fn sink_server() -> (SocketAddr, mpsc::UnboundedReceiver<Sunk>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink server");
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut sunk = Sunk { bytes: Vec::new(), first: None, last: None, clean_end: false };
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) => {
                            sunk.clean_end = true;
                            break;
                        }
                        Ok(n) => {
                            let now = Instant::now();
                            sunk.first.get_or_insert(now);
                            sunk.last = Some(now);
                            sunk.bytes.extend_from_slice(&buf[..n]);
                        }
                        Err(_) => break,
                    }
                }
                let _ = tx.send(sunk);
            });
        }
    });
    (addr, rx)
}

/// A server that closes every connection as soon as it accepts it.
pub async fn closing_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind closing server");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    addr
}

/// `size` bytes that are not all alike, so misordering shows.
pub fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// A proxy on a free loopback port in front of `upstream`.
pub async fn proxy_to(upstream: SocketAddr) -> Proxy {
    Proxy::start("test", "127.0.0.1:0", &upstream.to_string(), 7).await.expect("start proxy")
}

/// A client connected through `proxy`.
pub async fn connect(proxy: &Proxy) -> TcpStream {
    let client = TcpStream::connect(proxy.listen_addr()).await.expect("connect through the proxy");
    client.set_nodelay(true).unwrap();
    client
}

pub fn toxic(name: &str, stream: Stream, kind: ToxicKind) -> Toxic {
    Toxic { name: name.into(), stream, toxicity: 1.0, kind }
}

/// Add a toxic and wait until open connections apply it.
pub async fn add(proxy: &Proxy, toxic: Toxic) {
    proxy.add_toxic(toxic).expect("add toxic");
    proxy.settled().await;
}

/// How a read ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadEnd {
    /// End of stream (a FIN).
    Eof,
    /// An error, with its kind (ConnectionReset for an RST).
    Error(std::io::ErrorKind),
    /// Nothing within the time allowed.
    TimedOut,
}

/// Read until the stream ends or `limit` passes: the bytes, how it ended,
/// and when.
pub async fn read_all(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, ReadEnd, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (got, ReadEnd::TimedOut, started.elapsed()),
            Ok(Ok(0)) => return (got, ReadEnd::Eof, started.elapsed()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return (got, ReadEnd::Error(e.kind()), started.elapsed()),
        }
    }
}

/// The Toxiproxy API on a free loopback port; stops when dropped.
pub struct TestApi {
    pub addr: SocketAddr,
    pub registry: Arc<Registry>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApi {
    pub async fn start() -> TestApi {
        let server = api::bind("127.0.0.1:0".parse().unwrap(), 42).await.expect("bind the API");
        let (addr, registry) = (server.local_addr(), server.registry());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        TestApi { addr, registry, stop: Some(stop) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
