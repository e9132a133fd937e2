//! The proxy's integration tests: its Rust API, its Toxiproxy HTTP API, each toxic over real TCP,
//! and the differential tests against real Toxiproxy and its clients.
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

mod common;

mod api;
mod api_toxics;
mod bandwidth;
mod client;
mod close;
mod differential_api;
mod differential_toxics;
mod enable;
mod foreign_clients;
mod latency;
mod slicer;
mod toxicity;
