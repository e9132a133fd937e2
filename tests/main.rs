//! faultlab's integration tests, on real TCP, a real broker, real producers
//! and real HTTP: one binary, a module per area, e.g.
//! `cargo test --release --test integration proxy::kafka_toxics::`.
//! Every test binary links tansu and librdkafka (about 300 MB), and linking
//! is most of the time of building the tests, so there is one
//! (docs/architecture.md, "Tests"). The local backend's tests, which start
//! Apache Kafka, are tests/backend_local.rs.

// Shared helpers: each area uses a part of them.
mod cli_support;
#[path = "../crates/proxy/tests/common/mod.rs"]
mod common;
mod kafka_broker;
mod logs;
mod serve_support;

mod backend;
mod cli;
mod proxy;
mod report;
mod scenario;
mod serve;
