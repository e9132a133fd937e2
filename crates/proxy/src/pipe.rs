//! What a toxic sees of a link and what it must do: the stream it sits on,
//! the state it keeps on a link across restarts of its pipe, and the
//! [`Pipe`] trait every toxic's attribute type implements. Below
//! [`super::toxic`] (the list of toxics), so a toxic's module imports this,
//! never the list it is part of.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::stub::{CloseMode, PipeEnd, Stub};

/// Which way the bytes flow. Toxiproxy's words: upstream is client to
/// server (requests), downstream is server to client (responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Upstream,
    #[default]
    Downstream,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }

    /// Toxiproxy's parsing: either word, in any case.
    pub fn parse(text: &str) -> Option<Stream> {
        match text.to_ascii_lowercase().as_str() {
            "upstream" => Some(Stream::Upstream),
            "downstream" => Some(Stream::Downstream),
            _ => None,
        }
    }
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every toxic's attribute type does: run over one link's chunk
/// stream, and say which values and streams it cannot act on. Only `pipe`
/// is required; the rest default to "nothing special". [`super::toxic::ToxicKind`] hands
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
    pub(crate) session: Option<Arc<super::kafka::Session>>,
}
