//! The same traffic through real Toxiproxy 2.12.0 and through faultlab's
//! proxy, toxic by toxic, measured over real TCP: both must do the same
//! harm within the tolerance each test states. Skips without
//! FAULTLAB_TOXIPROXY_SERVER; fails under FAULTLAB_REQUIRE_LOCAL.
//!
//! Each test starts its own toxiproxy-server and faultlab API, creates the
//! same proxy with the same toxic on both, and measures both at once.

use crate::common;

use std::time::{Duration, Instant};

use common::components::{ToxiproxyServer, provisioned, skip};
use common::{ReadEnd, TestApi, read_all};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Real Toxiproxy and faultlab's API, side by side.
struct Pair {
    toxiproxy: ToxiproxyServer,
    faultlab: TestApi,
}

impl Pair {
    async fn start() -> Option<Pair> {
        match provisioned("FAULTLAB_TOXIPROXY_SERVER", "Toxiproxy 2.12.0's toxiproxy-server") {
            Ok(server) => Some(Pair { toxiproxy: ToxiproxyServer::start(&server).await, faultlab: TestApi::start().await }),
            Err(why) => {
                skip(&why);
                None
            }
        }
    }

    /// The same request to both: the two answers (Toxiproxy's first).
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> [(u16, Value); 2] {
        let mut answers = Vec::new();
        for addr in [self.toxiproxy.addr, self.faultlab.addr] {
            let client = crate::common::http_client().build().unwrap();
            let mut request = client.request(method.clone(), format!("http://{addr}{path}"));
            if let Some(body) = &body {
                request = request.body(body.to_string());
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            answers.push((status, response.json().await.unwrap_or(Value::Null)));
        }
        [answers[0].clone(), answers[1].clone()]
    }

    /// A proxy named `name` to `upstream` on both, with `toxic` (if any):
    /// the two listen addresses (Toxiproxy's first).
    async fn proxy(&self, name: &str, upstream: &str, toxic: Option<Value>) -> [String; 2] {
        let body = json!({ "name": name, "listen": "127.0.0.1:0", "upstream": upstream });
        let created = self.call(reqwest::Method::POST, "/proxies", Some(body)).await;
        if let Some(toxic) = toxic {
            for (status, answer) in self.call(reqwest::Method::POST, &format!("/proxies/{name}/toxics"), Some(toxic)).await {
                assert_eq!(status, 200, "{answer}");
            }
        }
        created.map(|(status, proxy)| {
            assert_eq!(status, 201, "{proxy}");
            proxy["listen"].as_str().unwrap().to_string()
        })
    }
}

async fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_nodelay(true).unwrap();
    stream
}

/// `n` echo round trips of 4 bytes on one connection, in milliseconds.
async fn round_trips(addr: &str, n: usize) -> Vec<f64> {
    let mut client = connect(addr).await;
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        client.write_all(b"ping").await.unwrap();
        let mut back = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut back)).await.expect("an echo").unwrap();
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_and_jitter_delay_alike() {
    let Some(pair) = Pair::start().await else { return };
    let echo = common::echo_server().await.to_string();
    let toxic = json!({ "type": "latency", "attributes": { "latency": 40, "jitter": 10 } });
    let [theirs, ours] = pair.proxy("latency", &echo, Some(toxic)).await;
    const N: usize = 100;
    let (theirs, ours) = tokio::join!(round_trips(&theirs, N), round_trips(&ours, N));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let range = |v: &[f64]| (v.iter().cloned().fold(f64::MAX, f64::min), v.iter().cloned().fold(0.0, f64::max));
    let (mt, mo, dt, do_) = (mean(&theirs), mean(&ours), median(&theirs), median(&ours));
    let ((lt, ht), (lo, ho)) = (range(&theirs), range(&ours));
    println!(
        "latency 40±10 ms, {N} round trips: Toxiproxy mean {mt:.2} median {dt:.2} ms [{lt:.2}, {ht:.2}], \
         faultlab mean {mo:.2} median {do_:.2} ms [{lo:.2}, {ho:.2}]"
    );
    // Both draw each chunk's delay uniformly: Toxiproxy from 30..=49 ms
    // (Go's `Int63n(2 * jitter) - jitter`), faultlab from 30..=50. The mean
    // of 100 such draws has a standard error of 0.6 ms: means within 3 ms
    // of each other (3.6 standard errors of the difference) and of 40.
    assert!((mt - mo).abs() < 3.0, "means {mt:.2} vs {mo:.2} ms");
    for (who, mean, lo, hi) in [("Toxiproxy", mt, lt, ht), ("faultlab", mo, lo, ho)] {
        assert!((mean - 40.0).abs() < 3.0, "{who}: mean {mean:.2} ms");
        assert!(lo >= 29.5 && hi < 60.0, "{who}: round trips from {lo:.2} to {hi:.2} ms; expected 30 to 50 (+ scheduling)");
        assert!(hi - lo > 15.0, "{who}: jitter shows as a spread ({lo:.2} to {hi:.2} ms)");
    }
}

/// Bytes from a source server through `addr` until `size` have come: how
/// long that took.
async fn download(addr: &str, size: usize) -> Duration {
    let mut client = connect(addr).await;
    let started = Instant::now();
    let mut got = vec![0u8; size];
    tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut got)).await.expect("the download").unwrap();
    assert_eq!(got, common::pattern(size));
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_paces_alike() {
    let Some(pair) = Pair::start().await else { return };
    let source = common::source_server(60_000).await.to_string();
    let toxic = json!({ "type": "bandwidth", "attributes": { "rate": 100 } });
    let [theirs, ours] = pair.proxy("bandwidth", &source, Some(toxic)).await;
    let (theirs, ours) = tokio::join!(download(&theirs, 60_000), download(&ours, 60_000));
    println!("60 kB at 100 KB/s: Toxiproxy {theirs:?}, faultlab {ours:?}");
    // 0.6 s at the rate. Toxiproxy sleeps after a chunk for its whole
    // size, slicing big ones into 100 ms pieces, so it delivers up to a
    // 100 ms slice early; faultlab releases each byte when due. Both within
    // 0.45 to 0.75 s, and within 150 ms of each other.
    for (who, took) in [("Toxiproxy", theirs), ("faultlab", ours)] {
        assert!(took > Duration::from_millis(450) && took < Duration::from_millis(750), "{who}: {took:?}");
    }
    assert!(theirs.abs_diff(ours) < Duration::from_millis(150), "{theirs:?} vs {ours:?}");
}

/// The sizes of the reads a client sees for `size` bytes from a source
/// server through `addr`.
async fn read_sizes(addr: &str, size: usize) -> Vec<usize> {
    let mut client = connect(addr).await;
    let (mut sizes, mut total, mut buf) = (Vec::new(), 0, vec![0u8; 64 * 1024]);
    while total < size {
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await.expect("data").unwrap();
        assert!(n > 0, "closed after {total} bytes");
        sizes.push(n);
        total += n;
    }
    sizes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slicer_cuts_alike() {
    let Some(pair) = Pair::start().await else { return };
    let source = common::source_server(4000).await.to_string();
    // 2 ms between slices: each slice is read on its own.
    let toxic = json!({ "type": "slicer", "attributes": { "average_size": 100, "size_variation": 20, "delay": 2000 } });
    let [theirs, ours] = pair.proxy("slicer", &source, Some(toxic)).await;
    let (theirs, ours) = tokio::join!(read_sizes(&theirs, 4000), read_sizes(&ours, 4000));
    println!("4000 bytes sliced 100±20: Toxiproxy {} reads {theirs:?}\n  faultlab {} reads {ours:?}", theirs.len(), ours.len());
    // The same halving algorithm: a piece is halved (its middle moved by
    // up to ± size_variation) until it is at most average + variation, so
    // slices run from about (average - variation) / 2 to 120 bytes, about
    // 50 of them for 4000 bytes. A read may join two slices when the reader
    // is late: allow a few longer ones.
    let median = |v: &[usize]| {
        let mut v = v.to_vec();
        v.sort();
        v[v.len() / 2]
    };
    for (who, sizes) in [("Toxiproxy", &theirs), ("faultlab", &ours)] {
        let long = sizes.iter().filter(|&&n| n > 120).count();
        assert!(long <= 3, "{who}: {long} reads longer than 120 bytes: {sizes:?}");
        assert!(sizes.iter().filter(|&&n| n < 35).count() <= 3, "{who}: short reads: {sizes:?}");
        assert!((38..=65).contains(&sizes.len()), "{who}: {} reads", sizes.len());
    }
    assert!(theirs.len().abs_diff(ours.len()) <= 8, "{} vs {} reads", theirs.len(), ours.len());
    assert!(median(&theirs).abs_diff(median(&ours)) <= 15, "median slices {} vs {}", median(&theirs), median(&ours));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_data_cuts_at_the_same_byte() {
    let Some(pair) = Pair::start().await else { return };
    let source = common::source_server(10_000).await.to_string();
    let toxic = json!({ "type": "limit_data", "attributes": { "bytes": 1234 } });
    let [theirs, ours] = pair.proxy("limit", &source, Some(toxic)).await;
    let read = |addr: String| async move {
        let mut client = connect(&addr).await;
        let (bytes, end, _) = read_all(&mut client, Duration::from_secs(5)).await;
        (bytes.len(), end)
    };
    let (theirs, ours) = tokio::join!(read(theirs), read(ours));
    println!("limit_data 1234 of 10000 bytes: Toxiproxy {theirs:?}, faultlab {ours:?}");
    assert_eq!(theirs, (1234, ReadEnd::Eof));
    assert_eq!(ours, theirs);
}

/// Send a ping through `addr` and read until the connection ends or
/// `limit` passes: how it ended, when, and how many bytes came back.
async fn ping_until_end(addr: &str, limit: Duration) -> (ReadEnd, Duration, usize) {
    let mut client = connect(addr).await;
    client.write_all(b"ping").await.unwrap();
    let (bytes, end, took) = read_all(&mut client, limit).await;
    (end, took, bytes.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_reset_peer_and_slow_close_end_connections_alike() {
    let Some(pair) = Pair::start().await else { return };
    let echo = common::echo_server().await.to_string();
    let closing = common::closing_server().await.to_string();
    let cases = [
        // (name, upstream, toxic, limit, expected end, expected time ± 60 ms)
        ("timeout", &echo, json!({ "type": "timeout", "attributes": { "timeout": 300 } }), 2000, ReadEnd::Eof, Some(300)),
        ("hold", &echo, json!({ "type": "timeout", "attributes": { "timeout": 0 } }), 700, ReadEnd::TimedOut, None),
        (
            "reset",
            &echo,
            json!({ "type": "reset_peer", "attributes": { "timeout": 200 } }),
            2000,
            ReadEnd::Error(std::io::ErrorKind::ConnectionReset),
            Some(200),
        ),
        (
            "reset0",
            &echo,
            json!({ "type": "reset_peer", "attributes": { "timeout": 0 } }),
            2000,
            ReadEnd::Error(std::io::ErrorKind::ConnectionReset),
            Some(0),
        ),
        ("slowclose", &closing, json!({ "type": "slow_close", "attributes": { "delay": 300 } }), 2000, ReadEnd::Eof, Some(300)),
    ];
    for (name, upstream, toxic, limit, end, at) in cases {
        let [theirs, ours] = pair.proxy(name, upstream, Some(toxic.clone())).await;
        let limit = Duration::from_millis(limit);
        let (theirs, ours) = tokio::join!(ping_until_end(&theirs, limit), ping_until_end(&ours, limit));
        println!("{toxic}: Toxiproxy {theirs:?}, faultlab {ours:?}");
        for (who, (got, took, bytes)) in [("Toxiproxy", theirs), ("faultlab", ours)] {
            assert_eq!((&got, bytes), (&end, 0), "{who}, {toxic}: ended {got:?} after {took:?} with {bytes} bytes");
            if let Some(at) = at {
                let ms = took.as_secs_f64() * 1000.0;
                assert!((ms - at as f64).abs() < 60.0, "{who}, {toxic}: ended after {ms:.1} ms; expected {at} ± 60");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxicity_applies_to_the_same_fraction_of_connections() {
    let Some(pair) = Pair::start().await else { return };
    let echo = common::echo_server().await.to_string();
    let toxic = json!({ "type": "latency", "toxicity": 0.5, "attributes": { "latency": 30 } });
    let [theirs, ours] = pair.proxy("toxicity", &echo, Some(toxic)).await;
    const N: usize = 120;
    let hit = |addr: String| async move {
        let mut hits = 0;
        for _ in 0..N {
            if round_trips(&addr, 1).await[0] >= 25.0 {
                hits += 1;
            }
        }
        hits
    };
    let (theirs, ours) = tokio::join!(hit(theirs), hit(ours));
    println!("toxicity 0.5 over {N} connections: Toxiproxy {theirs}, faultlab {ours} delayed");
    // Binomial(120, 0.5): mean 60, standard deviation 5.5; ±4.5 sd.
    for (who, hits) in [("Toxiproxy", theirs), ("faultlab", ours)] {
        assert!((35..=85).contains(&hits), "{who}: {hits} of {N} connections delayed");
    }
}

/// Send `chunks` pings 20 ms apart through `addr` and close without
/// reading the echoes.
async fn send_and_leave(addr: &str, chunks: usize) {
    let mut client = connect(addr).await;
    for _ in 0..chunks {
        client.write_all(b"ping").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// DELETE a toxic on the API at `addr`: the status (Err(true) when no
/// answer came within 3 s) and how long it took.
async fn delete_toxic(addr: std::net::SocketAddr, path: &str) -> (Result<u16, bool>, Duration) {
    let client = crate::common::http_client().timeout(Duration::from_secs(3)).build().unwrap();
    let started = Instant::now();
    let answer = client.delete(format!("http://{addr}{path}")).send().await;
    (answer.map(|r| r.status().as_u16()).map_err(|e| e.is_timeout()), started.elapsed())
}

/// Removing a latency toxic after a client that sent through it has gone:
/// (1) while it holds the one echo for that client, (2) after it has tried
/// to deliver four echoes to the closed socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_toxic_after_the_client_left() {
    let Some(pair) = Pair::start().await else { return };
    let echo = common::echo_server().await.to_string();
    for (name, latency, chunks, wait) in [("holding", 1000, 1, 100), ("flushed", 100, 4, 600)] {
        let toxic = json!({ "name": "slow", "type": "latency", "attributes": { "latency": latency } });
        let [theirs, ours] = pair.proxy(name, &echo, Some(toxic)).await;
        tokio::join!(send_and_leave(&theirs, chunks), send_and_leave(&ours, chunks));
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let path = format!("/proxies/{name}/toxics/slow");
        let (theirs, ours) = tokio::join!(delete_toxic(pair.toxiproxy.addr, &path), delete_toxic(pair.faultlab.addr, &path));
        println!("{name}: DELETE after the client left: Toxiproxy {theirs:?}, faultlab {ours:?}");
        assert_eq!(ours.0, Ok(204), "faultlab answers");
        assert!(ours.1 < Duration::from_millis(500), "faultlab answers at once: {:?}", ours.1);
        assert_eq!(theirs.0, Ok(204), "Toxiproxy answers");
    }
}

/// What a ping through a proxy got within 300 ms.
#[derive(Debug, PartialEq)]
enum Ping {
    Echoed,
    Nothing,
    Closed,
    Reset,
}

async fn ping(addr: &str) -> Ping {
    let mut client = connect(addr).await;
    client.write_all(b"ping").await.unwrap();
    let (bytes, end, _) = read_all(&mut client, Duration::from_millis(300)).await;
    match end {
        _ if bytes == b"ping" => Ping::Echoed,
        ReadEnd::TimedOut => Ping::Nothing,
        ReadEnd::Eof => Ping::Closed,
        ReadEnd::Error(_) => Ping::Reset,
    }
}

/// Attributes at the edge of int64, measured: Go multiplies them into
/// nanoseconds with wrap-around (to -1 ms), faultlab takes them as "never"
/// (see the README's proxy section). `None` for Toxiproxy: the server
/// process died (a panic) on the first byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn int64_edge_attributes_as_each_measures_them() {
    const MAX: i64 = i64::MAX;
    let cases = [
        (json!({ "type": "latency", "attributes": { "latency": MAX } }), Some(Ping::Echoed), &[Ping::Nothing][..]),
        // faultlab draws the jitter from -MAX..=MAX: no delay or "never".
        (json!({ "type": "latency", "attributes": { "latency": 0, "jitter": MAX } }), None, &[Ping::Echoed, Ping::Nothing]),
        (json!({ "type": "timeout", "attributes": { "timeout": MAX } }), Some(Ping::Nothing), &[Ping::Nothing]),
        (json!({ "type": "slow_close", "attributes": { "delay": MAX } }), Some(Ping::Echoed), &[Ping::Echoed]),
        (json!({ "type": "reset_peer", "attributes": { "timeout": MAX } }), Some(Ping::Reset), &[Ping::Nothing]),
        (json!({ "type": "slicer", "attributes": { "average_size": MAX, "delay": MAX } }), Some(Ping::Echoed), &[Ping::Echoed]),
        (json!({ "type": "bandwidth", "attributes": { "rate": MAX } }), None, &[Ping::Echoed]),
    ];
    let echo = common::echo_server().await.to_string();
    for (toxic, expected_theirs, expected_ours) in cases {
        // A server each: some of these values kill it.
        let Some(mut pair) = Pair::start().await else { return };
        let [theirs, ours] = pair.proxy("edge", &echo, Some(toxic.clone())).await;
        let (theirs, ours) = tokio::join!(ping(&theirs), ping(&ours));
        let theirs = (!pair.toxiproxy.has_exited()).then_some(theirs);
        println!("{toxic}: Toxiproxy {theirs:?}, faultlab {ours:?}");
        assert_eq!(theirs, expected_theirs, "Toxiproxy, {toxic} (None: the server died)");
        assert!(expected_ours.contains(&ours), "faultlab, {toxic}: {ours:?}; expected one of {expected_ours:?}");
    }
}
