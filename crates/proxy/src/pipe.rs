//! What a toxic sees of a link and what it must do: the stream it sits on,
//! the state it keeps on a link across restarts of its pipe, and the
//! [`Pipe`] trait every toxic's attribute type implements. Below
//! [`crate::toxics`] (the toxics and their list, `ToxicKind`), so a toxic's
//! module imports this, never the list it is part of.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

use crate::protocol::aim::Aim;
use crate::session::Session;
pub use crate::stream::Stream;
use crate::stub::{CloseMode, PipeEnd, Stub};

/// What every toxic's attribute type does: run over one link's chunk
/// stream, and say which values and streams it cannot act on. Only `pipe`
/// is required; the rest default to "nothing special". [`crate::toxics::ToxicKind`] hands
/// each call to its variant's value (static dispatch, no boxing).
pub trait Pipe {
    /// Run this toxic over one link's chunk stream until it is interrupted,
    /// its input ends, or it closes the stream. `Send` because the chain
    /// spawns each pipe on its own task.
    fn pipe(&self, stub: &mut Stub, state: &mut LinkState) -> impl Future<Output = PipeEnd> + Send;

    /// Attribute values the toxic cannot run (see `ToxicKind::validate`).
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// A stream the toxic cannot act on (see `ToxicKind::validate_stream`).
    fn validate_stream(&self, _stream: Stream) -> Result<(), String> {
        Ok(())
    }

    /// What removing the toxic does to a connection it applied to (see
    /// `ToxicKind::on_removed`).
    fn on_removed(&self) -> Option<CloseMode> {
        None
    }

    /// A Kafka toxic's aim: which requests it acts on (see `ToxicKind::aim`).
    fn aim(&self) -> Option<&Aim> {
        None
    }
}

/// What a toxic remembers on one link while it stays in the chain, across
/// restarts of its pipe when other toxics of the stream change: limit_data's
/// count of bytes passed, timeout's and bandwidth's clock. Toxiproxy keeps
/// limit_data's count the same way; the chain module says why the
/// clocks are kept too. An update of the toxic's own attributes resets the
/// clock (`deadline`) but keeps the count.
#[derive(Debug, Default, Clone)]
pub struct LinkState {
    pub bytes: u64,
    pub deadline: Option<Instant>,
    /// Kafka toxics: what the toxic has seen, matched and acted on, on
    /// every connection of its proxy (shared through the toxic's entry).
    pub tally: Arc<Tally>,
    /// Kafka mode: the connection's session, through which a toxic answers
    /// a request itself.
    pub(crate) session: Option<Arc<Session>>,
}

/// A Kafka toxic's count of the frames of its stream, on every connection
/// of its proxy: shared by its links through its entry.
#[derive(Debug, Default)]
pub struct Tally {
    seen: AtomicU64,
    matched: AtomicU64,
    acted: AtomicU64,
}

/// What a Kafka toxic did with the frames of its stream (requests
/// upstream, responses downstream) so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Requests {
    /// Kafka frames it was offered, of any API.
    pub seen: u64,
    /// Those its aim takes in: its API key, client id, topic and partition.
    pub matched: u64,
    /// Those it acted on (after `nth`, `first`, `every` and `probability`).
    pub acted: u64,
}

impl Tally {
    /// A frame offered: counted as seen.
    pub(crate) fn saw(&self) {
        self.seen.fetch_add(1, Ordering::Relaxed);
    }

    /// A frame the aim takes in: its number among those (1 the first).
    pub(crate) fn matched(&self) -> u64 {
        self.matched.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn acted(&self) {
        self.acted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn requests(&self) -> Requests {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        Requests { seen: get(&self.seen), matched: get(&self.matched), acted: get(&self.acted) }
    }
}
