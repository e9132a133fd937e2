//! The proxy's integration tests: its Rust API, its Toxiproxy HTTP API, each toxic over real TCP,
//! the differential tests against real Toxiproxy and its clients, and Kafka mode
//! (`faultlab proxy --kafka`) in front of tansu and Apache Kafka.
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

#[path = "../cli_support/mod.rs"]
mod cli_support;
mod common;
#[path = "../kafka_broker/mod.rs"]
mod kafka_broker;
mod kafka_support;

mod api;
mod api_toxics;
mod bandwidth;
mod client;
mod close;
mod differential_api;
mod differential_toxics;
mod enable;
mod foreign_clients;
mod kafka;
mod kafka_toxics;
mod latency;
mod slicer;
mod toxicity;
