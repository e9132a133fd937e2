//! The toxic model shared by the proxy, its HTTP API and scenario files.
//!
//! A [`Toxic`] serialises exactly like a Toxiproxy toxic
//! (`{"name", "type", "stream", "toxicity", "attributes"}`), so the same
//! value can be sent to a real Toxiproxy or applied to faultlab's own proxy.
//! Attribute names, units and defaults are Toxiproxy's: missing attributes
//! are zero, as in Go.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::pipe::{Requests, Tally};

// The toxic's view of a link and the list of toxics live below this
// module, so the toxics implement it without importing the list they are
// part of; re-exported, so the model reads as one place.
pub use crate::pipe::{LinkState, Pipe, Stream};
pub use crate::toxics::ToxicKind;

/// A named toxic on one stream of a proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Toxic {
    pub name: String,
    #[serde(default)]
    pub stream: Stream,
    /// Probability that the toxic applies to a connection, rolled once per
    /// connection (Toxiproxy's semantics).
    #[serde(default = "full_toxicity")]
    pub toxicity: f32,
    #[serde(flatten)]
    pub kind: ToxicKind,
}

fn full_toxicity() -> f32 {
    1.0
}

impl Toxic {
    /// Toxiproxy's default name: `<type>_<stream>`.
    pub fn default_name(kind: &ToxicKind, stream: Stream) -> String {
        format!("{}_{}", kind.type_name(), stream)
    }
}

/// The toxics of a proxy as its links see them: every change bumps the
/// version, and each toxic keeps the id it was added with, so a link can
/// tell a toxic that stayed from one removed and added again.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToxicSet {
    pub(crate) version: u64,
    pub(crate) next_id: u64,
    pub(crate) entries: Vec<ToxicEntry>,
}

#[derive(Debug, Clone)]
pub(crate) struct ToxicEntry {
    pub(crate) id: u64,
    pub(crate) toxic: Toxic,
    /// What a Kafka toxic has done so far, on every connection
    /// (`crate::aim`): kept across updates, new when the toxic is added.
    pub(crate) tally: Arc<Tally>,
}

/// Two entries are the same toxic with the same settings; the count of
/// matched requests is state, not a setting.
impl PartialEq for ToxicEntry {
    fn eq(&self, other: &ToxicEntry) -> bool {
        self.id == other.id && self.toxic == other.toxic
    }
}

impl ToxicSet {
    pub(crate) fn for_stream(&self, stream: Stream) -> Vec<ToxicEntry> {
        self.entries.iter().filter(|e| e.toxic.stream == stream).cloned().collect()
    }
}
