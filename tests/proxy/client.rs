//! faultlab's Toxiproxy client (src/toxiproxy.rs) against faultlab's own
//! Toxiproxy API, end to end over real HTTP and real proxied TCP.

use crate::common;

use std::time::{Duration, Instant};

use common::TestApi;
use common::http::echoes;
use faultlab::proxy::toxics::latency::Latency;
use faultlab::proxy::toxics::timeout::Timeout;
use faultlab::proxy::{Stream, Toxic, ToxicKind};
use faultlab::toxiproxy::{Client, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn latency(ms: i64) -> Toxic {
    Toxic { name: "slow".into(), stream: Stream::Downstream, toxicity: 1.0, kind: ToxicKind::Latency(Latency { latency: ms, jitter: 0 }) }
}

async fn round_trip(listen: &str) -> Duration {
    let mut client = TcpStream::connect(listen).await.unwrap();
    let started = Instant::now();
    client.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut back)).await.unwrap().unwrap();
    started.elapsed()
}

#[tokio::test]
async fn the_client_drives_proxies_and_toxics_end_to_end() {
    let api = TestApi::start().await;
    let client = Client::new(&format!("http://{}", api.addr));
    let echo = common::echo_server().await.to_string();
    assert!(client.version().await.unwrap().starts_with("faultlab-"));

    let proxy = client.create_proxy("kafka", "127.0.0.1:0", &echo).await.unwrap();
    assert!(proxy.enabled && !proxy.listen.ends_with(":0"), "{proxy:?}");
    let listen = proxy.listen.clone();
    assert_eq!(client.create_proxy("kafka", "127.0.0.1:0", &echo).await.unwrap_err().status(), Some(409));
    assert_eq!(client.proxies().await.unwrap().keys().collect::<Vec<_>>(), ["kafka"]);

    let added = client.add_toxic("kafka", &latency(300)).await.unwrap();
    assert_eq!(added, latency(300), "the toxic comes back as sent");
    assert!(round_trip(&listen).await >= Duration::from_millis(300));
    assert_eq!(client.add_toxic("kafka", &latency(1)).await.unwrap_err().status(), Some(409));

    let updated = client.update_toxic("kafka", &latency(20)).await.unwrap();
    assert_eq!(updated, latency(20));
    let took = round_trip(&listen).await;
    assert!(took >= Duration::from_millis(20) && took < Duration::from_millis(250), "{took:?}");
    assert_eq!(client.toxic("kafka", "slow").await.unwrap(), latency(20));
    assert_eq!(client.proxy("kafka").await.unwrap().toxics, vec![latency(20)]);

    client.remove_toxic("kafka", "slow").await.unwrap();
    assert!(client.toxics("kafka").await.unwrap().is_empty());
    assert_eq!(client.remove_toxic("kafka", "slow").await.unwrap_err().status(), Some(404));

    let off = client.disable("kafka").await.unwrap();
    assert!(!off.enabled);
    assert!(!echoes(&listen).await, "disabled: refused");
    let on = client.enable("kafka").await.unwrap();
    assert!(on.enabled && on.listen == listen, "{on:?}");
    assert!(echoes(&listen).await, "enabled: accepted again");

    let hold = Toxic { name: "hold".into(), stream: Stream::Upstream, toxicity: 1.0, kind: ToxicKind::Timeout(Timeout { timeout: 0 }) };
    client.add_toxic("kafka", &hold).await.unwrap();
    client.disable("kafka").await.unwrap();
    client.reset().await.unwrap();
    let after = client.proxy("kafka").await.unwrap();
    assert!(after.enabled && after.toxics.is_empty(), "reset: enabled, no toxics: {after:?}");
    assert!(echoes(&listen).await);

    let configs = [ProxyConfig { name: "other".into(), listen: "127.0.0.1:0".into(), upstream: echo.clone(), enabled: true }];
    let populated = client.populate(&configs).await.unwrap();
    assert_eq!(populated.len(), 1);
    assert!(echoes(&populated[0].listen).await);

    client.delete_proxy("kafka").await.unwrap();
    let missing = client.proxy("kafka").await.unwrap_err();
    assert_eq!(missing.status(), Some(404));
    assert!(missing.to_string().contains("HTTP 404: proxy not found"), "{missing}");
}

#[tokio::test]
async fn client_errors_say_what_failed() {
    let client = Client::new("http://127.0.0.1:9");
    let unreachable = client.proxies().await.unwrap_err();
    assert_eq!(unreachable.status(), None);
    assert!(unreachable.to_string().starts_with("GET /proxies: "), "{unreachable}");
}
