//! The toxic model shared by the proxy, its HTTP API and scenario files.
//!
//! A [`Toxic`] serialises exactly like a Toxiproxy toxic
//! (`{"name", "type", "stream", "toxicity", "attributes"}`), so the same
//! value can be sent to a real Toxiproxy or applied to faultlab's own proxy.
//! Attribute names, units and defaults are Toxiproxy's: missing attributes
//! are zero, as in Go.

use serde::{Deserialize, Serialize};

use super::stub::{PipeEnd, Stub};
use super::toxics;

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
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// The toxic types and their attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "attributes", rename_all = "snake_case")]
pub enum ToxicKind {
    Latency(toxics::latency::Latency),
}

impl ToxicKind {
    /// Every type name accepted, for error messages.
    pub const TYPE_NAMES: &'static [&'static str] = &["latency"];

    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency(_) => "latency",
        }
    }

    /// Run this toxic over one link's chunk stream until it is interrupted,
    /// its input ends, or it decides the connection must close.
    pub async fn pipe(&mut self, stub: &mut Stub) -> PipeEnd {
        match self {
            ToxicKind::Latency(t) => t.pipe(stub).await,
        }
    }
}

impl ToxicKind {
    /// What removing this toxic does to a connection it applied to. Most
    /// toxics just stop; Toxiproxy's timeout toxic closes the connections
    /// it was holding.
    pub fn on_removed(&self) -> Option<super::stub::CloseMode> {
        match self {
            ToxicKind::Latency(_) => None,
        }
    }
}
