//! The plumbing one toxic sees: chunks in, chunks out, and an interrupt.

use std::collections::VecDeque;

use bytes::Bytes;
use rand::rngs::SmallRng;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Bytes read from one socket in one read, stamped with when they arrived.
///
/// A chunk carries the permit for its share of the link's byte budget; the
/// budget is returned when the chunk is written or dropped, which is what
/// bounds the memory a slow toxic can pile up (see [`super::link`]).
#[derive(Debug)]
pub struct Chunk {
    pub data: Bytes,
    /// When the bytes were read, moved on by each latency they went through,
    /// so chained latencies add up as in Toxiproxy.
    pub arrived: Instant,
    pub(super) budget: Option<OwnedSemaphorePermit>,
    /// In Kafka mode, the frame this chunk is (a toxic that splits a chunk
    /// leaves it on every piece); None for plain TCP.
    pub frame: Option<crate::protocol::FrameInfo>,
}

impl Chunk {
    pub fn new(data: Bytes, arrived: Instant) -> Self {
        Chunk { data, arrived, budget: None, frame: None }
    }

    /// Cut the first `at` bytes off into a chunk of their own; the budget
    /// stays with the remainder, which is released last.
    pub fn split_to(&mut self, at: usize) -> Chunk {
        Chunk { data: self.data.split_to(at), arrived: self.arrived, budget: None, frame: self.frame }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A chunk as the queues between stages carry it: boxed, because tokio's
/// unbounded channel allocates its first block of 32 slots when created,
/// and a link has several queues whether or not a byte ever flows. Boxed,
/// a slot is 8 bytes instead of a whole `Chunk`, which took an idle
/// connection's queues from about 10 kB to under 3 kB (measured with
/// `faultlab bench --only proxy`, BENCHMARKS.md); one small allocation per
/// read is nothing beside the read's own buffer.
pub type Queued = Box<Chunk>;

/// `work`, unless the link ends first: its connection is closed, or the
/// chain behind `head` is gone (then `None`, and the reading stops). What
/// a link's read loop, plain or Kafka, waits on between reads.
pub(crate) async fn unless_ended<T>(
    closed: &CancellationToken,
    head: &mpsc::UnboundedSender<Queued>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        _ = closed.cancelled() => None,
        _ = head.closed() => None,
        done = work => Some(done),
    }
}

/// How a toxic ended its pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeEnd {
    /// The link asked it to stop (its chain is changing). Whatever it held
    /// it put back with [`Stub::unread`]; it runs again on the same queue.
    Interrupted,
    /// Its input ended: the stream closes after what it already passed on.
    InputClosed,
    /// The toxic closes the stream here, like Toxiproxy's `stub.Close()`:
    /// what it already passed on is still delivered, nothing after it is,
    /// and then the connection closes (with an RST for [`CloseMode::Reset`]).
    Close(CloseMode),
}

/// How a connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseMode {
    /// A normal close: the peer reads what was sent, then end of stream.
    Graceful,
    /// SO_LINGER 0 on both sockets, so each peer gets an RST (ECONNRESET).
    Reset,
}

/// One toxic's place in a link's chain: the queue in front of it, the
/// queue after it, and the signal to stop.
pub struct Stub {
    pub(super) input: mpsc::UnboundedReceiver<Queued>,
    pub(super) output: mpsc::UnboundedSender<Queued>,
    /// Chunks put back in front of the input (oldest first).
    pub(super) unread: VecDeque<Chunk>,
    pub(super) interrupt: CancellationToken,
    /// This link's random source for jitter and sizes, seeded from the proxy's.
    pub rng: SmallRng,
}

impl Stub {
    pub(super) fn new(input: mpsc::UnboundedReceiver<Queued>, output: mpsc::UnboundedSender<Queued>, rng: SmallRng) -> Self {
        Stub { input, output, unread: VecDeque::new(), interrupt: CancellationToken::new(), rng }
    }

    /// Pass a chunk on. The stages after this one may already be gone (the
    /// connection is closing); the chunk is then dropped with it.
    pub fn send(&self, chunk: Chunk) {
        if !chunk.is_empty() {
            let _ = self.output.send(Box::new(chunk));
        }
    }

    /// Put a chunk this toxic took but did not pass on back in front of its
    /// input, so that nothing is lost, reordered, or released early when the
    /// chain changes: the toxic (or whatever replaces it) reads it again.
    pub fn unread(&mut self, chunk: Chunk) {
        if !chunk.is_empty() {
            self.unread.push_front(chunk);
        }
    }

    /// Whether the link asked this toxic to stop.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_cancelled()
    }

    /// Resolves when the link asks this toxic to stop.
    pub async fn interruption(&self) {
        self.interrupt.cancelled().await
    }

    /// The next chunk, or why there is none. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Chunk, PipeEnd> {
        if self.interrupt.is_cancelled() {
            return Err(PipeEnd::Interrupted);
        }
        if let Some(chunk) = self.unread.pop_front() {
            return Ok(chunk);
        }
        tokio::select! {
            biased;
            _ = self.interrupt.cancelled() => Err(PipeEnd::Interrupted),
            chunk = self.input.recv() => chunk.map(|c| *c).ok_or(PipeEnd::InputClosed),
        }
    }

    /// Move everything queued for this stage (put back or waiting) on to its
    /// output, in order: used when the stage is removed from its chain.
    pub(super) fn flush_queue(&mut self) {
        while let Some(chunk) = self.unread.pop_front() {
            self.send(chunk);
        }
        while let Ok(chunk) = self.input.try_recv() {
            self.send(*chunk);
        }
    }
}
