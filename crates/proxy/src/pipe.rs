//! What a toxic sees of a link and what it must do: the stream it sits on,
//! the state it keeps on a link across restarts of its pipe, and the
//! [`Pipe`] trait every toxic's attribute type implements. Below
//! [`crate::toxics`] (the toxics and their list, `ToxicKind`), so a toxic's
//! module imports this, never the list it is part of.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::time::Instant;

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
    /// Kafka toxics: how many requests the toxic has matched, on every
    /// connection of its proxy (shared through the toxic's entry).
    pub matched: Arc<AtomicU64>,
    /// Kafka mode: the connection's session, through which a toxic answers
    /// a request itself.
    pub(crate) session: Option<Arc<Session>>,
}
