//! The proxy with the rest of faultlab: Kafka mode (`faultlab proxy
//! --kafka`) in front of tansu and Apache Kafka with real librdkafka
//! clients, Kafka toxics, and the application's Toxiproxy client against
//! the proxy's API. The proxy's own tests, which need no broker, are in
//! crates/proxy/tests.

mod kafka_support;

mod client;
mod codec;
mod kafka;
mod kafka_toxics;
