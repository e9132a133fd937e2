//! `faultlab serve`, the course's producer service, over real HTTP to a real broker.
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

#[path = "../serve_support/mod.rs"]
mod serve_support;

mod http;
mod http_driver;
mod shutdown;
