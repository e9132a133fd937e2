//! The faultlab binary as a user runs it: exit codes, error messages, signals, report files.
//!
//! One test binary for these files: each binary links tansu and librdkafka,
//! and linking is the slow part of building the tests.

#[path = "../cli_support/mod.rs"]
mod cli_support;

mod bench;
mod errors;
mod proxy;
mod report_outputs;
mod response_delay;
mod serve;
