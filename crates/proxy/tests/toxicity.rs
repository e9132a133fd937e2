//! Toxicity: the chance that a toxic applies, rolled once per connection.

use crate::common;

use std::time::Duration;

use common::{add, connect, echo_server, proxy_to, toxic};
use faultlab_proxy::toxics::limit_data::LimitData;
use faultlab_proxy::{Stream, ToxicKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Whether the connection was hit: a 1-byte limit_data cuts "ab" to "a".
async fn hit(proxy: &faultlab_proxy::Proxy) -> bool {
    let mut client = connect(proxy).await;
    client.write_all(b"ab").await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 16];
    while got.len() < 2 {
        let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await.expect("an answer");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    match got.as_slice() {
        b"a" => true,
        b"ab" => false,
        other => panic!("neither cut nor echoed: {other:?}"),
    }
}

#[tokio::test]
async fn toxicity_one_half_applies_to_about_half_of_200_connections() {
    let proxy = proxy_to(echo_server().await).await;
    let mut half = toxic("cut", Stream::Downstream, ToxicKind::LimitData(LimitData { bytes: 1 }));
    half.toxicity = 0.5;
    add(&proxy, half).await;
    let mut hits = 0;
    for _batch in 0..20 {
        let results = futures::future::join_all((0..10).map(|_| hit(&proxy))).await;
        hits += results.into_iter().filter(|&h| h).count();
    }
    let fraction = hits as f64 / 200.0;
    println!("toxicity 0.5: {hits} of 200 connections affected ({:.1}%)", fraction * 100.0);
    assert!((0.35..=0.65).contains(&fraction), "{hits} of 200");
}

#[tokio::test]
async fn toxicity_zero_and_one_are_never_and_always() {
    let proxy = proxy_to(echo_server().await).await;
    let mut never = toxic("cut", Stream::Downstream, ToxicKind::LimitData(LimitData { bytes: 1 }));
    never.toxicity = 0.0;
    add(&proxy, never).await;
    for _ in 0..10 {
        assert!(!hit(&proxy).await, "toxicity 0 never applies");
    }
    proxy.update_toxic("cut", |t| t.toxicity = 1.0).unwrap();
    proxy.settled().await;
    for _ in 0..10 {
        assert!(hit(&proxy).await, "toxicity 1 always applies");
    }
}
