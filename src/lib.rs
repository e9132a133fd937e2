//! faultlab: a fault-injection test harness for Kafka producers.
//!
//! The flow of one run, one module per arrow:
//! ```text
//! scenario file ─[scenario]─▶ Scenario
//! Scenario ─[env]─▶ Environment (broker + fault proxy, from a backend)
//! Scenario + Environment ─[run]─▶ History, and Observed (the topic read back)
//! History + Observed ─[audit]─▶ Verdict per producer
//! Verdicts + expectations ─[check]─▶ ExpectationResults
//! everything ─[report]─▶ terminal | JSON | Markdown | JUnit | HTML
//! ```
//! [`harness`] strings these together for whole scenario files;
//! docs/architecture.md says where each concept lives.
//!
//! # Layers
//!
//! Each module uses only modules listed before it here, bottom to top (the
//! `layers` test reads every `crate::`/`super::` path of src/ and fails on
//! a cycle, on an edge that goes up or sideways into a later module, or on
//! a module missing from this list; `serve::config` is a layer apart from
//! the rest of `serve`). The audit and the proxy are crates of their own,
//! below all of these.
//!
//! - `hint`: the accepted name nearest to a mistyped one
//! - `toxiproxy`: the client of Toxiproxy's HTTP API
//! - `serve::config`: the producer service's settings and its librdkafka modes
//! - `env`: the backends, their environments and the faults they play
//! - `scenario`: the scenario file format, validated
//! - `serve`: the producer service (`faultlab serve`)
//! - `run`: producing under faults, and reading the topic back
//! - `check`: expectations against the verdicts
//! - `report`: terminal, JSON, Markdown, JUnit and HTML reports
//! - `harness`: whole scenario files, from loading to reports
//! - `up`: an environment left running for a user
//! - `bench`: the proxy's and the service's benchmarks
//! - `cli`: the command line, turned into the config structs above
//! - `layers`: this list's test

/// The audit is its own crate (crates/audit): pure, it depends on nothing here.
pub use faultlab_audit as audit;
/// The proxy is its own crate (crates/proxy): it depends only on the audit.
pub use faultlab_proxy as proxy;
pub mod bench;
pub mod check;
pub mod cli;
pub mod env;
pub mod harness;
mod hint;
pub mod report;
pub mod run;
pub mod scenario;
pub mod serve;
pub mod toxiproxy;
pub mod up;

#[cfg(test)]
mod layers;

/// An HTTP client for faultlab's own HTTP calls (Toxiproxy API, the producer
/// service). tansu's dependencies build reqwest with `rustls-no-provider`,
/// so a rustls crypto provider must be installed for the process before any
/// reqwest client exists; this does that once and builds the client.
pub fn http_client() -> reqwest::ClientBuilder {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        // Err means another provider is already installed, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
    reqwest::Client::builder()
}
