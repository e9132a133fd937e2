//! faultlab's fault proxy: a TCP proxy with Toxiproxy's toxics and HTTP API.
//!
//! A [`Proxy`] listens on one address and forwards every connection to one
//! upstream address. Each connection has two [`link`]s, one per
//! [`Stream`]; the toxics of the proxy chain on the link of their stream
//! ([`chain`]). Toxics can be added, changed and removed while connections
//! are open; each live link changes its chain without losing a byte. A
//! [`Registry`] holds named proxies for the Toxiproxy-compatible HTTP
//! [`api`].
//!
//! Toxiproxy's Go source is the specification; where this proxy differs on
//! purpose, the module that differs says so.

pub mod api;
mod chain;
mod connection;
mod instance;
pub mod kafka;
mod link;
mod listener;
pub mod pipe;
pub mod registry;
/// Public for `faultlab bench`, which measures the forwarder's limit with it.
pub mod splice;
pub mod stub;
/// Public for `faultlab bench`, which measures its overshoot against tokio's.
pub mod timer;
pub mod toxic;
pub mod toxics;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use instance::Proxy;
pub use listener::ListenError;
pub use registry::{ProxySpec, Registry, RegistryError};
pub use stub::CloseMode;
pub use toxic::{Stream, Toxic, ToxicKind};

/// Errors of the proxy's toxic operations, worded like Toxiproxy's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyError {
    #[error("toxic already exists")]
    ToxicExists,
    #[error("toxic not found")]
    ToxicNotFound,
    #[error("invalid toxicity: {0} (accepted: 0.0 to 1.0)")]
    InvalidToxicity(String),
    /// An attribute value the toxic cannot run with; the text names it.
    #[error("invalid attribute: {0}")]
    InvalidAttribute(String),
    /// A Kafka toxic on a proxy that forwards bytes, not Kafka frames.
    #[error(
        "{0} acts on Kafka requests, and proxy {1} forwards bytes: put it on a proxy in Kafka mode (the \
         kafka-bootstrap and kafka-broker-<id> proxies of `faultlab proxy --kafka`)"
    )]
    NotKafka(&'static str, String),
}

/// The toxics of a proxy as its links see them: every change bumps the
/// version, and each toxic keeps the id it was added with, so a link can
/// tell a toxic that stayed from one removed and added again.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToxicSet {
    version: u64,
    next_id: u64,
    entries: Vec<ToxicEntry>,
}

#[derive(Debug, Clone)]
pub(crate) struct ToxicEntry {
    id: u64,
    toxic: Toxic,
    /// The requests a Kafka toxic has matched so far, on every connection
    /// (`kafka::aim`): kept across updates, new when the toxic is added.
    matched: Arc<AtomicU64>,
}

/// Two entries are the same toxic with the same settings; the count of
/// matched requests is state, not a setting.
impl PartialEq for ToxicEntry {
    fn eq(&self, other: &ToxicEntry) -> bool {
        self.id == other.id && self.toxic == other.toxic
    }
}

impl ToxicSet {
    fn for_stream(&self, stream: Stream) -> Vec<ToxicEntry> {
        self.entries.iter().filter(|e| e.toxic.stream == stream).cloned().collect()
    }
}

#[cfg(test)]
mod tests;
