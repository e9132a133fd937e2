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
//!
//! # Layers
//!
//! Each module uses only modules listed before it here, bottom to top (the
//! `layers` test reads every `crate::`/`super::` path of src/ and fails on
//! an edge that goes up or sideways into a later module, or on a module
//! missing from this list):
//!
//! - `sync`: the std mutex lock every module takes
//! - `timer`: the precise sleep of the latency toxics
//! - `stream`: upstream and downstream
//! - `error`: the errors of toxic operations
//! - `protocol`: Kafka's frames, names, the aim's attributes, made-up answers, the ledger
//! - `stub`: chunks and one toxic's place in a chain
//! - `session`: what the two links of a Kafka connection share; response rewriting
//! - `pipe`: what a toxic sees of a link (`Pipe`, `LinkState`)
//! - `aim`: which frames a Kafka toxic picks; `Aimed`
//! - `toxics`: one module per toxic, and their one list (`ToxicKind`)
//! - `toxic`: a named toxic on a stream; a proxy's set of toxics
//! - `connection`: one client connection and its server connection
//! - `splice`: the fast path of a link without toxics
//! - `chain`: a link's chain of toxics, changed while data flows
//! - `link`: one direction of one connection
//! - `instance`: a proxy and its toxics
//! - `listener`: listening, enabling, serving connections
//! - `registry`: named proxies
//! - `kafka`: the Kafka front (a cluster behind one bootstrap listener), and Kafka mode's public names
//! - `api`: Toxiproxy's HTTP API
//! - `tests`, `layers`: this crate's unit tests

/// Public as `kafka::aim` (the Kafka toxics' attributes).
pub mod aim;
pub mod api;
mod chain;
mod connection;
mod error;
mod instance;
pub mod kafka;
mod link;
mod listener;
pub mod pipe;
mod protocol;
pub mod registry;
mod session;
/// Public for `faultlab bench`, which measures the forwarder's limit with it.
pub mod splice;
mod stream;
pub mod stub;
mod sync;
/// Public for `faultlab bench`, which measures its overshoot against tokio's.
pub mod timer;
pub mod toxic;
pub mod toxics;

pub use error::ProxyError;
pub use instance::Proxy;
pub use listener::ListenError;
pub use registry::{ProxySpec, Registry, RegistryError};
pub use stub::CloseMode;
pub use toxic::{Requests, Stream, Toxic, ToxicKind};

#[cfg(test)]
mod layers;
#[cfg(test)]
mod tests;
