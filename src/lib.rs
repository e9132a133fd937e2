//! faultlab: a fault-injection test harness for Kafka producers.
//!
//! The flow of one run, one module per arrow:
//! ```text
//! scenario file ─[scenario]─▶ Scenario
//! Scenario ─[env]─▶ Environment (broker + fault proxy, from a backend)
//! Scenario + Environment ─[run]─▶ History, and Observed (the topic read back)
//! History + Observed ─[audit]─▶ Verdict per producer
//! Verdicts + expectations ─[check]─▶ ExpectationResults
//! everything ─[report]─▶ terminal | JSON
//! ```
//! [`harness`] strings these together for whole scenario files.

pub mod audit;
pub mod cli;
pub mod check;
pub mod env;
pub mod harness;
pub mod proxy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod serve;
pub mod toxiproxy;
