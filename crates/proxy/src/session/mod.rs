//! A Kafka-mode connection's session: what its two links share. The
//! upstream link records each request's correlation id here; the
//! downstream link matches each response to its request by that id
//! (requests are pipelined: several may be outstanding; a Produce with
//! `acks=0` has none), and a Kafka toxic answers a request itself through
//! it. Responses that name brokers are re-addressed to the front's broker
//! listeners ([`rewrite`]).
//!
//! The front ([`crate::kafka`]) makes listeners, so it sits above the
//! registry, far above the links: a session knows it only as [`Front`],
//! what a session asks of it.

mod reader;
pub(crate) mod rewrite;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bytes::Bytes;
use futures::future::BoxFuture;
use tokio::sync::mpsc::{UnboundedSender, WeakUnboundedSender};

use crate::protocol::aim::Aim;
use crate::protocol::{FrameInfo, Ledger};
use crate::stub::{Chunk, Queued};
use crate::sync::lock;

pub(crate) use reader::read_loop;

/// What a session asks of the front of its cluster ([`crate::kafka`]).
pub(crate) trait Front: Send + Sync {
    /// Count a request read by the proxy `proxy`.
    fn count(&self, proxy: &str, api_key: i16, api_version: i16);

    /// The port of the listener for broker `node_id`, which the broker
    /// advertises at `advertised` (`host:port`); None if there is none.
    fn listener_for(self: Arc<Self>, node_id: i32, advertised: String) -> BoxFuture<'static, Option<u16>>;

    /// The proxy `proxy` failed a connection of the client `client_id`
    /// rather than pass on a response it could not rewrite.
    fn refused(&self, proxy: &str, client_id: Option<&str>, refusal: &rewrite::Refusal);
}

/// What the two links of one Kafka-mode connection share.
pub(crate) struct Session {
    proxy: String,
    /// None for a proxy that only reads frames (no front, nothing rewritten).
    front: Option<Weak<dyn Front>>,
    /// The address the client reached this proxy at: the one rewritten
    /// responses advertise, so a client reaches the broker listeners the
    /// way it reached this one.
    advertise: IpAddr,
    /// Requests waiting for their response, in the order they were read:
    /// a broker answers a connection's requests in that order, and an
    /// answer the proxy makes up (`kafka_error`) keeps its request's place.
    pending: Mutex<VecDeque<Pending>>,
    /// The downstream chain's head, where responses enter: answers the
    /// proxy makes up go in there too. Weak, so that the chain still ends
    /// when the downstream reader drops its own sender.
    responses: Mutex<Option<WeakUnboundedSender<Queued>>>,
    /// The client id of the connection's first request: a client keeps
    /// one per connection (librdkafka, the Java client).
    pub(crate) client_id: OnceLock<Option<String>>,
    /// The connection's number on its proxy, and the ledger its Produce
    /// batches go in, if the proxy keeps one.
    connection: u64,
    ledger: Option<Arc<Ledger>>,
}

#[derive(Debug)]
struct Pending {
    correlation_id: i32,
    api_key: i16,
    api_version: i16,
    /// The response the proxy made up for it, waiting for its turn.
    answer: Option<Bytes>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("proxy", &self.proxy).field("pending", &lock(&self.pending).len()).finish_non_exhaustive()
    }
}

impl Session {
    /// The session of connection number `connection` of `proxy`, which
    /// records its Produce batches in `ledger` if there is one.
    pub(crate) fn new(
        proxy: &str,
        front: Option<Weak<dyn Front>>,
        advertise: IpAddr,
        connection: u64,
        ledger: Option<Arc<Ledger>>,
    ) -> Arc<Session> {
        Arc::new(Session {
            proxy: proxy.to_string(),
            front,
            advertise,
            pending: Mutex::default(),
            responses: Mutex::default(),
            client_id: OnceLock::new(),
            connection,
            ledger,
        })
    }

    /// Note a Kafka toxic's effect on the request `correlation_id` (its
    /// partitions `aimed` names) in the ledger, if the proxy keeps one.
    pub fn note(&self, correlation_id: i32, aimed: &Aim, toxic: &str, effect: faultlab_audit::wire::Effect) {
        if let Some(ledger) = &self.ledger {
            let fault = faultlab_audit::wire::WireFault { toxic: toxic.into(), effect };
            ledger.note(&self.proxy, self.connection, correlation_id, aimed, fault);
        }
    }

    /// The `client.id` the connection's client gave, once it has sent a request.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.get().and_then(Option::as_deref)
    }

    /// Answer the request `correlation_id` with `response` instead of the
    /// broker (which never saw it): delivered once every response before
    /// it has been. False if no such request waits for a response.
    pub fn answer(&self, correlation_id: i32, response: Bytes) -> bool {
        let mut pending = lock(&self.pending);
        let Some(request) = pending.iter_mut().find(|p| p.correlation_id == correlation_id) else { return false };
        request.answer = Some(response);
        if let Some(head) = lock(&self.responses).as_ref().and_then(WeakUnboundedSender::upgrade) {
            deliver_answers(&mut pending, &head);
        }
        true
    }

    /// The downstream link starts: its chain's head is where made-up
    /// answers go.
    fn responses_enter(&self, head: &UnboundedSender<Queued>) {
        *lock(&self.responses) = Some(head.downgrade());
        deliver_answers(&mut lock(&self.pending), head);
    }

    /// Put a response read from the broker into the downstream chain, and
    /// then any made-up answer whose turn has come; under one lock, so an
    /// answer never overtakes a response due before it.
    fn deliver(&self, chunk: Chunk, head: &UnboundedSender<Queued>) -> Result<(), ()> {
        let mut pending = lock(&self.pending);
        if let Some(frame) = &chunk.frame
            && let Some(i) = pending.iter().position(|p| p.correlation_id == frame.correlation_id)
        {
            pending.remove(i);
        }
        head.send(Box::new(chunk)).map_err(drop)?;
        deliver_answers(&mut pending, head);
        Ok(())
    }
}

/// Send the made-up answers at the front of `pending`.
fn deliver_answers(pending: &mut VecDeque<Pending>, head: &UnboundedSender<Queued>) {
    while pending.front().is_some_and(|p| p.answer.is_some()) {
        let Some(Pending { correlation_id, api_key, api_version, answer: Some(answer) }) = pending.pop_front() else { return };
        let mut chunk = Chunk::new(answer, tokio::time::Instant::now());
        chunk.frame = Some(FrameInfo { api_key, api_version, correlation_id, response: true });
        if head.send(Box::new(chunk)).is_err() {
            return;
        }
    }
}
