//! The scenario file model: what to produce, with which producer settings,
//! under which faults, and what the audit is expected to count.
//!
//! A scenario is a TOML file (the format is documented on [`Scenario`] and
//! in `scenarios/`). [`load`] reads one, [`collect`] expands directories,
//! and every mistake in a file is a [`ScenarioError`] naming the file,
//! line, column and field, and what would have been accepted, because the
//! people who edit these files (students, instructors, CI maintainers) are
//! not expected to read Rust.
//!
//! The types here are the validated model: every invariant checked in
//! [`load`] (at least one producer, unique names, bounds that can hold,
//! known toxic types) holds for a `Scenario` built by it. They also
//! serialise (durations as `"1.5s"`, bounds as `">= 1"`) so a report can
//! embed the scenario it ran, and deserialise from that form so a saved
//! report can be read back. The file is read into these types, except the
//! top-level table and each fault, which `raw.rs` reads first (see there
//! why); `load.rs` then checks what needs more than one value.

mod duration;
mod error;
mod expect;
pub mod limits;
mod load;
mod producer;
mod ranged;
mod raw;
mod schema;
mod settings;
mod workload;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::env::Backend;
use crate::proxy::toxic::{Stream, Toxic, ToxicKind};

/// Backend faults (one module each) and their Kafka names live in the
/// environment, which plays them; the file format names them from here.
pub use crate::env::fault::kafka;
pub use crate::env::fault::{BackendFault, BrokerRtt, BrokerTarget, LeaderChange, RequestErrors};
pub use duration::{DurationError, format_duration, parse_duration};
pub use error::ScenarioError;
pub use expect::{BOUND_FORMS, Bound, Expect, Expectation, Level, Metric};
pub use load::{collect, load, parse};
pub use producer::{Driver, HttpDriver, HttpSendMode, Preset, ProducerSpec};
pub use schema::scenario_schema;
pub use workload::{KeyStrategy, Workload};

/// One scenario, validated.
///
/// ```toml
/// name = "response-delay"      # required, [a-z0-9-] (used in topic names)
/// description = "One paragraph."
/// observe = "What to look at in the report."   # optional
/// seed = 42                    # optional
/// repeat = 1                   # optional, default 1
/// brokers = 1                  # optional, default 1 (mock and docker)
/// backends = ["mock"]          # optional: skipped on other backends
///
/// [workload]
/// messages = 1000
///
/// [client]                     # librdkafka properties for every producer
/// "socket.timeout.ms" = 2000
///
/// [[producers]]
/// name = "plain"
/// preset = "plain"
///
/// [[faults]]
/// type = "latency"
/// at = "2s"
/// duration = "3s"
/// attributes = { latency = 3000 }
///
/// [[expect]]
/// producer = "plain"
/// duplicates = ">= 1"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub observe: Option<String>,
    pub seed: Option<u64>,
    /// How many times to run it (>= 1); each repeat is audited on its own.
    pub repeat: u32,
    /// Brokers in the cluster (>= 1, default 1); the mock and docker
    /// backends start this many, numbered from 1.
    #[serde(default = "one_broker")]
    pub brokers: u32,
    /// The backends the scenario is meant for (`backends = ["mock"]`);
    /// empty: every backend. On another one it is skipped, not failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<String>,
    pub workload: Workload,
    /// librdkafka properties applied to every producer, values as strings.
    pub client: BTreeMap<String, String>,
    /// At least one, names unique.
    pub producers: Vec<ProducerSpec>,
    /// In file order; they may overlap in time.
    pub faults: Vec<Fault>,
    /// The `[[expect]]` tables, in file order.
    pub expect: Vec<Expect>,
    /// The file it came from (not part of the TOML).
    pub source: PathBuf,
}

fn one_broker() -> u32 {
    1
}

impl Scenario {
    /// The librdkafka properties of one producer: its preset, then
    /// `[client]`, then its own `settings` (later wins). This is what the
    /// report prints, so a run can be repeated exactly.
    pub fn effective_settings(&self, producer: &ProducerSpec) -> BTreeMap<String, String> {
        let mut settings: BTreeMap<String, String> =
            producer.preset.settings().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        settings.extend(self.client.iter().map(|(k, v)| (k.clone(), v.clone())));
        settings.extend(producer.settings.iter().map(|(k, v)| (k.clone(), v.clone())));
        settings
    }

    /// One per bounded metric of each `[[expect]]` table, in file order.
    pub fn expectations(&self) -> Vec<Expectation> {
        self.expect.iter().flat_map(Expect::expectations).collect()
    }

    /// The producer with this name.
    pub fn producer(&self, name: &str) -> Option<&ProducerSpec> {
        self.producers.iter().find(|p| p.name == name)
    }
}

/// One fault on the timeline: played `at` its time after producing starts
/// and undone after `duration` (or left until producing ends).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Unique in the scenario; default `<type>_<stream>_<index>` for a
    /// toxic, `<type>_<index>` otherwise.
    pub name: String,
    /// Serialised as Toxiproxy does: `"type"` and `"attributes"`.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Toxics only: which direction it affects.
    pub stream: Stream,
    /// Toxics only: 0.0..=1.0, rolled per connection.
    pub toxicity: f32,
    #[serde(with = "duration::as_string")]
    pub at: Duration,
    /// `None`: until the end of producing.
    #[serde(default, with = "duration::option_as_string")]
    pub duration: Option<Duration>,
}

impl Fault {
    /// The toxic to add to the proxy, when the fault is one.
    pub fn toxic(&self) -> Option<Toxic> {
        match &self.kind {
            FaultKind::Toxic(kind) => Some(self.toxic_of(kind)),
            FaultKind::Backend(_) => None,
        }
    }

    /// The toxic of this fault when its kind is `kind`.
    pub fn toxic_of(&self, kind: &ToxicKind) -> Toxic {
        Toxic { name: self.name.clone(), stream: self.stream, toxicity: self.toxicity, kind: kind.clone() }
    }

    /// When the fault is undone, if it is.
    pub fn until(&self) -> Option<Duration> {
        self.duration.map(|d| self.at.saturating_add(d))
    }

    /// `latency downstream, toxicity 0.5` or `proxy_down`: the fault's
    /// type and, for a toxic, where it applies.
    pub fn describe(&self) -> String {
        match &self.kind {
            FaultKind::Toxic(kind) if self.toxicity < 1.0 => {
                format!("{} {}, toxicity {}", kind.type_name(), self.stream, self.toxicity)
            }
            FaultKind::Toxic(kind) => format!("{} {}", kind.type_name(), self.stream),
            FaultKind::Backend(fault) => fault.type_name().to_string(),
        }
    }
}

/// What a fault does: a toxic on one stream of the proxy, or something the
/// environment itself plays (the proxy going down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FaultKind {
    Toxic(ToxicKind),
    Backend(BackendFault),
}

impl FaultKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            FaultKind::Toxic(kind) => kind.type_name(),
            FaultKind::Backend(fault) => fault.type_name(),
        }
    }

    /// Every fault `type` a scenario may name.
    pub fn type_names() -> impl Iterator<Item = &'static str> {
        ToxicKind::TYPE_NAMES.iter().chain(BackendFault::TYPE_NAMES).copied()
    }
}

impl FaultKind {
    /// The backends that can play it: every one for a toxic of bytes, those
    /// whose proxy reads Kafka frames for a Kafka toxic.
    pub fn backends(&self) -> Vec<&'static str> {
        match self {
            FaultKind::Toxic(kind) if kind.is_kafka() => Backend::playing_kafka_toxics(),
            FaultKind::Toxic(_) => Backend::names().to_vec(),
            FaultKind::Backend(fault) => fault.backends(),
        }
    }
}

impl Scenario {
    /// Whether the scenario is meant for `backend` (its `backends` list, or
    /// every backend when the file has none).
    pub fn runs_on(&self, backend: &str) -> bool {
        self.backends.is_empty() || self.backends.iter().any(|b| b == backend)
    }

    /// The first fault `backend` cannot play.
    pub fn unplayable_on(&self, backend: &str) -> Option<&Fault> {
        self.faults.iter().find(|f| !f.kind.backends().contains(&backend))
    }
}
