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
pub mod kafka;
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

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantNames};

use crate::env::Backend;
use crate::proxy::toxic::{Stream, Toxic, ToxicKind};

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

/// Faults that are not toxics: the environment plays them by acting on the
/// proxy or the broker rather than on the bytes of a stream. Tagged like
/// [`ToxicKind`] (`type`, then `attributes`), so a file writes both alike.
///
/// Brokers are numbered from 1 to the scenario's `brokers`, as both the
/// mock (its broker ids) and the Docker backend (`KAFKA_NODE_ID`, container
/// `kafka-<id>`) number them. Not every backend can play every fault:
/// [`BackendFault::backends`] says which can. Each variant's doc comment is
/// its help in the schema (an editor shows it), followed there by the
/// backends that play it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, IntoStaticStr, VariantNames)]
#[serde(tag = "type", content = "attributes", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum BackendFault {
    /// Disables the proxy (Toxiproxy's enabled: false): open connections are dropped and new ones
    /// refused until the fault ends, which is what a producer sees when the broker's host goes away.
    ProxyDown,
    /// Broker `broker` goes down until the fault ends (mock: connections closed and refused,
    /// leadership stays; docker: the container is stopped, then started; local: the process gets
    /// SIGTERM, then starts again on its data).
    BrokerDown(BrokerTarget),
    /// Broker `broker` is frozen (connections stay open, nothing answers) until the fault ends:
    /// docker pauses its container, local sends SIGSTOP and SIGCONT.
    BrokerPause(BrokerTarget),
    /// Every response of broker `broker` is held back `rtt` ms until the fault ends (mock: its own
    /// round-trip time setting; local and docker: a downstream latency toxic on that broker's proxy
    /// only).
    BrokerRtt(BrokerRtt),
    /// The next requests of type `request`, on any broker, are answered with `errors` in turn;
    /// leftovers are dropped when the fault ends.
    RequestErrors(RequestErrors),
    /// Leadership of `partition` (or of every partition of the run's topics) moves to broker
    /// `broker`, and back when the fault ends (mock: its own API; local: Kafka's reassignment and
    /// preferred-leader election).
    LeaderChange(LeaderChange),
}

// The attribute structs below derive `JsonSchema`: the field docs are
// the help an editor shows, and the schema's `attributes` of each backend
// fault type come from them (`schema::toxic_variants`).

/// `{ broker = 1 }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerTarget {
    /// The broker's id, 1 to the scenario's `brokers` (mock broker ids; docker and local node.id).
    #[schemars(range(min = 1, max = limits::MAX_BROKERS))]
    pub broker: i32,
}

/// `{ broker = 1, rtt = 500 }` (milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerRtt {
    /// The broker's id, 1 to the scenario's `brokers` (mock broker ids; docker and local node.id).
    #[schemars(range(min = 1, max = limits::MAX_BROKERS))]
    pub broker: i32,
    /// Milliseconds each response is held back.
    pub rtt: u32,
}

/// `{ request = "produce", errors = ["not_leader_or_follower"] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestErrors {
    /// The request type (Kafka's API name, snake_case).
    pub request: kafka::RequestType,
    /// Error codes (Kafka's names, lower case), one per request, in turn; `transport` drops the connection.
    #[schemars(length(min = 1))]
    pub errors: Vec<kafka::ErrorName>,
}

/// `{ broker = 2 }` or `{ broker = 2, partition = 0 }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaderChange {
    /// The broker's id, 1 to the scenario's `brokers` (mock broker ids; docker and local node.id).
    #[schemars(range(min = 1, max = limits::MAX_BROKERS))]
    pub broker: i32,
    /// One partition; leave it out for every partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // TOML has no null: the key is left out instead.
    #[schemars(with = "i32", range(min = 0))]
    pub partition: Option<i32>,
}

impl BackendFault {
    /// Every type name, as serde writes them (strum derives both from the
    /// variants' names; the schema's tests check they agree).
    pub const TYPE_NAMES: &'static [&'static str] = <Self as VariantNames>::VARIANTS;

    pub fn type_name(&self) -> &'static str {
        self.into()
    }

    /// The backends that can play it (`env::Backend::plays` decides).
    pub fn backends(&self) -> Vec<&'static str> {
        Backend::playing(self.type_name())
    }

    /// The broker it acts on, if it names one.
    pub fn broker(&self) -> Option<i32> {
        match self {
            BackendFault::ProxyDown | BackendFault::RequestErrors(_) => None,
            BackendFault::BrokerDown(t) | BackendFault::BrokerPause(t) => Some(t.broker),
            BackendFault::BrokerRtt(r) => Some(r.broker),
            BackendFault::LeaderChange(l) => Some(l.broker),
        }
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
