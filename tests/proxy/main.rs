//! The proxy with the rest of faultlab: Kafka mode (`faultlab proxy
//! --kafka`) in front of tansu and Apache Kafka with real librdkafka
//! clients, Kafka toxics, and the application's Toxiproxy client against
//! the proxy's API. The proxy's own tests, which need no broker, are in
//! crates/proxy/tests.
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../../crates/proxy/tests/common/mod.rs"]
mod common;
#[path = "../kafka_broker/mod.rs"]
mod kafka_broker;
mod kafka_support;

mod client;
mod kafka;
mod kafka_toxics;
