//! The splice fast path through a whole proxy, with toxics added and
//! removed while bytes flow.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::toxics::latency::Latency;
use crate::{Proxy, Stream, Toxic, ToxicKind};

fn latency(stream: Stream) -> Toxic {
    Toxic { name: "slow".into(), stream, toxicity: 1.0, kind: ToxicKind::Latency(Latency { latency: 2, jitter: 0 }) }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Bytes keep flowing while toxics come and go on both streams: a toxic
/// on the other stream leaves the link on its fast path, one on its
/// own stream hands it over to its chain mid-flow (for good: removing
/// the toxic leaves the chain's pass-through), and the server gets
/// every byte in order, then the end of the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxics_added_and_removed_while_bytes_flow_lose_and_reorder_nothing() {
    const TOTAL: usize = 48 << 20;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    // A slow reader, so bytes are in flight (queued in sockets and the
    // pipe) whenever the chain changes.
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut got = Vec::with_capacity(TOTAL);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&buf[..n]);
            counter.store(got.len(), Ordering::Release);
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    });
    let proxy = Proxy::start("fast", "127.0.0.1:0", &upstream.to_string(), 1).await.unwrap();
    let mut client = tokio::net::TcpStream::connect(proxy.listen_addr()).await.unwrap();
    let sent = pattern(TOTAL);
    let writer = {
        let sent = sent.clone();
        tokio::spawn(async move {
            for block in sent.chunks(64 * 1024) {
                client.write_all(block).await.unwrap();
                tokio::task::yield_now().await;
            }
            client.shutdown().await.unwrap();
            client
        })
    };
    // A toxic on the other stream leaves this one on its fast path; one
    // on this stream hands it over, mid-flow.
    for (stream, pause) in [(Stream::Downstream, 5), (Stream::Upstream, 20)] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let so_far = received.load(Ordering::Acquire);
        assert!(so_far > 0 && so_far < TOTAL, "bytes are flowing when the {stream:?} toxic comes: {so_far}");
        proxy.add_toxic(latency(stream)).unwrap();
        proxy.settled().await;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        proxy.remove_toxic("slow").unwrap();
        proxy.settled().await;
    }
    let so_far = received.load(Ordering::Acquire);
    assert!(so_far < TOTAL, "bytes were still flowing after the changes: {so_far}");
    let _client = writer.await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(60), server).await.expect("the server got the end of the stream").unwrap();
    assert_eq!(got.len(), TOTAL, "every byte arrives");
    let first_wrong = got.iter().zip(&sent).position(|(a, b)| a != b);
    assert_eq!(first_wrong, None, "bytes arrive in order");
}
