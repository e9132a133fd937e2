//! The plumbing one toxic sees: chunks in, chunks out, and an interrupt.

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
    pub arrived: Instant,
    pub(super) budget: Option<OwnedSemaphorePermit>,
}

impl Chunk {
    pub fn new(data: Bytes, arrived: Instant) -> Self {
        Chunk { data, arrived, budget: None }
    }

    /// Cut the first `at` bytes off into a chunk of their own; the budget
    /// stays with the remainder, which is released last.
    pub fn split_to(&mut self, at: usize) -> Chunk {
        Chunk { data: self.data.split_to(at), arrived: self.arrived, budget: None }
    }
}

/// How a toxic ended its pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeEnd {
    /// The link asked it to stop (the chain is being rebuilt). Nothing it
    /// held was dropped: it was passed on before returning.
    Interrupted,
    /// Its input ended (the reading side closed); the link closes this
    /// direction once everything before it has been written.
    InputClosed,
    /// The toxic wants the whole connection closed.
    Close(CloseMode),
}

/// How a connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseMode {
    /// FIN after the data already passed on.
    Graceful,
    /// RST: SO_LINGER 0, so the peer sees ECONNRESET.
    Reset,
}

/// One toxic's place in a link's chain.
pub struct Stub {
    pub input: mpsc::UnboundedReceiver<Chunk>,
    pub output: mpsc::UnboundedSender<Chunk>,
    pub interrupt: CancellationToken,
    /// This link's random source for jitter and sizes, seeded from the proxy's.
    pub rng: SmallRng,
}

impl Stub {
    /// Pass a chunk on. The stages after this one may already be gone (the
    /// connection is closing); the chunk is then dropped with it.
    pub fn send(&self, chunk: Chunk) {
        let _ = self.output.send(chunk);
    }

    /// The next chunk, or why there is none.
    pub async fn recv(&mut self) -> Result<Chunk, PipeEnd> {
        tokio::select! {
            biased;
            _ = self.interrupt.cancelled() => Err(PipeEnd::Interrupted),
            chunk = self.input.recv() => chunk.ok_or(PipeEnd::InputClosed),
        }
    }
}
