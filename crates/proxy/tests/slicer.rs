//! The slicer toxic on a real connection: every byte arrives, in slices
//! whose sizes vary around `average_size`.

use crate::common;

use std::time::Duration;

use common::{add, connect, echo_server, pattern, proxy_to, toxic};
use faultlab_proxy::toxics::slicer::Slicer;
use faultlab_proxy::{Stream, ToxicKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn slicer_delivers_every_byte_in_slices_around_the_average() {
    let proxy = proxy_to(echo_server().await).await;
    let slicer = Slicer { average_size: 100, size_variation: 40, delay: 3000 };
    add(&proxy, toxic("slices", Stream::Downstream, ToxicKind::Slicer(slicer))).await;
    let mut client = connect(&proxy).await;
    let sent = pattern(4000);
    client.write_all(&sent).await.unwrap();

    let mut got = Vec::new();
    let mut reads = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < sent.len() {
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await.expect("slices keep coming").unwrap();
        assert!(n > 0, "closed early after {} bytes", got.len());
        reads.push(n);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, sent, "every byte, in order");

    let mean = got.len() as f64 / reads.len() as f64;
    let within = reads.iter().filter(|&&n| n <= 140).count();
    let distinct = {
        let mut sizes = reads.clone();
        sizes.sort();
        sizes.dedup();
        sizes.len()
    };
    println!("slicer: {} reads, mean {mean:.1} bytes, {distinct} distinct sizes, sizes {reads:?}", reads.len());
    // A 3 ms pause after each slice keeps reads apart; a rare read may
    // still join two slices.
    assert!(within * 10 >= reads.len() * 9, "reads are slices of at most 140 bytes: {reads:?}");
    assert!((50.0..=140.0).contains(&mean), "slices average around 100 bytes: {mean:.1}");
    assert!(distinct >= 5, "sizes vary: {reads:?}");
}

#[tokio::test]
async fn slicer_cut_points_follow_toxiproxys_halving() {
    use rand::SeedableRng;
    let slicer = Slicer { average_size: 100, size_variation: 40, delay: 0 };
    let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
    for len in [0usize, 1, 140, 141, 1000, 32 * 1024] {
        let slices = slicer.slices(len, &mut rng);
        let mut next = 0;
        for slice in &slices {
            assert_eq!(slice.start, next, "contiguous");
            assert!(slice.len() <= 140, "at most average + variation: {slice:?}");
            next = slice.end;
        }
        assert_eq!(next, len, "covers the chunk");
        if len > 140 {
            assert!(slices.iter().all(|s| s.len() >= 20), "no crumbs: {slices:?}");
        }
    }
}
