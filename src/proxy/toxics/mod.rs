//! One file per toxic. Each is a pipe over a chunk stream: it reads chunks
//! from its [`Stub`](super::stub::Stub)'s input, does its harm, and writes
//! to its output; the [`link`](super::link) chains them.

pub mod latency;
pub mod noop;
