//! The proxy's integration tests: its Rust API, its Toxiproxy HTTP API,
//! each toxic over real TCP, and the differential tests against real
//! Toxiproxy and its clients. They need only this crate: no Kafka broker,
//! no librdkafka (tests/proxy has those with Kafka, and the application's
//! Toxiproxy client against this proxy).

mod common;

mod api;
mod api_toxics;
mod bandwidth;
mod close;
mod differential_api;
mod differential_toxics;
mod enable;
mod foreign_clients;
mod latency;
mod slicer;
mod toxicity;
