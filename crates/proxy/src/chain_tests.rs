//! How a chain changes: members kept, removed and added, and where queued
//! chunks go.

use std::sync::Arc;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::*;
use crate::ToxicKind;
use crate::stub::Chunk;
use crate::toxics::{latency::Latency, timeout::Timeout};

async fn connection() -> Arc<Connection> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    Connection::new(client, server, SmallRng::seed_from_u64(1), Arc::new(Notify::new()), None)
}

fn entry(id: u64, name: &str, kind: ToxicKind) -> ToxicEntry {
    ToxicEntry { id, toxic: Toxic { name: name.into(), stream: Stream::Downstream, toxicity: 1.0, kind }, tally: Default::default() }
}

fn latency(id: u64, name: &str) -> ToxicEntry {
    entry(id, name, ToxicKind::Latency(Latency { latency: 1, jitter: 0 }))
}

fn names(slots: &[Slot]) -> Vec<String> {
    slots.iter().map(|s| s.member.as_ref().map_or("head".into(), |m| m.toxic.name.clone())).collect()
}

fn chunk(text: &'static str) -> Chunk {
    Chunk::new(Bytes::from_static(text.as_bytes()), Instant::now())
}

/// A head slot reading `head` and writing the returned tail.
fn head() -> (Vec<Slot>, mpsc::UnboundedSender<Queued>, mpsc::UnboundedReceiver<Queued>) {
    let (head_tx, head_rx) = mpsc::unbounded_channel();
    let (tail_tx, tail_rx) = mpsc::unbounded_channel();
    (vec![Slot { member: None, stub: Stub::new(head_rx, tail_tx, SmallRng::seed_from_u64(2)) }], head_tx, tail_rx)
}

#[tokio::test]
async fn members_follow_the_list_and_keep_their_place() {
    let connection = connection().await;
    let mut rng = SmallRng::seed_from_u64(3);
    let (mut slots, _head, _tail) = head();
    reconcile(&mut slots, &[latency(1, "a"), latency(2, "b")], &connection, &mut rng);
    assert_eq!(names(&slots), ["head", "a", "b"]);
    reconcile(&mut slots, &[latency(2, "b"), latency(3, "c")], &connection, &mut rng);
    assert_eq!(names(&slots), ["head", "b", "c"]);
    // "b" removed and added again (a new id) between two looks: it moves to the end.
    reconcile(&mut slots, &[latency(3, "c"), latency(4, "b")], &connection, &mut rng);
    assert_eq!(names(&slots), ["head", "c", "b"]);
    reconcile(&mut slots, &[], &connection, &mut rng);
    assert_eq!(names(&slots), ["head"]);
}

#[tokio::test]
async fn a_removed_members_queue_goes_on_after_the_next_ones() {
    let connection = connection().await;
    let mut rng = SmallRng::seed_from_u64(3);
    let (mut slots, _head, _tail) = head();
    reconcile(&mut slots, &[latency(1, "a"), latency(2, "b")], &connection, &mut rng);
    // Older bytes wait before "b"; newer ones before "a" (one put back).
    slots[1].stub.output.send(Box::new(chunk("1"))).unwrap();
    slots[0].stub.output.send(Box::new(chunk("3"))).unwrap();
    slots[1].stub.unread(chunk("2"));
    reconcile(&mut slots, &[latency(2, "b")], &connection, &mut rng);
    assert_eq!(names(&slots), ["head", "b"]);
    slots[0].stub.output.send(Box::new(chunk("4"))).unwrap();
    let mut order = String::new();
    while let Ok(chunk) = slots[1].stub.input.try_recv() {
        order.push_str(std::str::from_utf8(&chunk.data).unwrap());
    }
    assert_eq!(order, "1234", "nothing lost or reordered");
}

#[tokio::test]
async fn a_removed_timeout_stays_to_close_unless_its_roll_spared_the_connection() {
    let connection = connection().await;
    let mut rng = SmallRng::seed_from_u64(3);
    let (mut slots, _head, _tail) = head();
    let hold = entry(1, "hold", ToxicKind::Timeout(Timeout { timeout: 0 }));
    let mut spared = entry(2, "spared", ToxicKind::Timeout(Timeout { timeout: 0 }));
    spared.toxic.toxicity = 0.0;
    reconcile(&mut slots, &[hold, spared], &connection, &mut rng);
    reconcile(&mut slots, &[], &connection, &mut rng);
    assert_eq!(names(&slots), ["head", "hold"]);
    assert_eq!(slots[1].member.as_ref().unwrap().closing, Some(CloseMode::Graceful));
}
