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
//! The file is read straight into the types the run uses ([`Scenario`],
//! [`Workload`], [`ProducerSpec`], [`Fault`], [`Expect`]), and the JSON
//! Schema derives from the same types ([`scenario_schema`]): their doc
//! comments are the help an editor shows. A number's range is checked as
//! it is read (`ranged`), a fault's attributes against its type
//! (`fault`), so those errors point at the value; `load.rs` checks what
//! needs more than one value. Every invariant it checks (at least one
//! producer, unique names, bounds that can hold) holds for a `Scenario`
//! built by [`load`]. The types also serialise (durations as `"1.5s"`,
//! bounds as `">= 1"`) so a report can embed the scenario it ran, and read
//! that form back.
//!
//! A scenario file:
//!
//! ```toml
//! name = "response-delay"      # required, [a-z0-9-] (used in topic names)
//! description = "One paragraph."
//! observe = "What to look at in the report."   # optional
//! seed = 42                    # optional
//! repeat = 1                   # optional, default 1
//! brokers = 1                  # optional, default 1 (mock and docker)
//! backends = ["mock"]          # optional: skipped on other backends
//!
//! [workload]
//! messages = 1000
//!
//! [client]                     # librdkafka properties for every producer
//! "socket.timeout.ms" = 2000
//!
//! [[producers]]
//! name = "plain"
//! preset = "plain"
//!
//! [[faults]]
//! type = "latency"
//! at = "2s"
//! duration = "3s"
//! attributes = { latency = 3000 }
//!
//! [[expect]]
//! producer = "plain"
//! duplicates = ">= 1"
//! ```

mod backends;
mod duration;
mod error;
mod expect;
mod fault;
pub mod kafka;
pub mod limits;
mod load;
mod producer;
mod ranged;
mod schema;
mod settings;
mod workload;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantNames};

use crate::env::Backend;
use limits::{MAX_BROKERS, MAX_REPEAT};

pub use duration::{DurationError, format_duration, parse_duration};
pub use error::ScenarioError;
pub use expect::{BOUND_FORMS, Bound, Expect, Expectation, Level, Metric};
pub use fault::{Fault, FaultKind};
pub use load::{collect, load, parse};
pub use producer::{Driver, HttpDriver, HttpSendMode, Preset, ProducerSpec};
pub use schema::scenario_schema;
pub use workload::{KeyStrategy, Workload};

/// A faultlab scenario: what to produce, with which producer settings,
/// under which faults, and what the audit is expected to count. Run it with
/// `faultlab run FILE`; check it with `faultlab validate FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "faultlab scenario",
    extend("x-taplo" = { "initKeys": ["name", "description", "workload", "producers"] })
)]
pub struct Scenario {
    /// The scenario's name: lowercase letters a-z, digits and `-`, not empty
    /// (it is used in topic names). E.g. "response-delay".
    #[schemars(extend("pattern" = "^[a-z0-9-]+$"))]
    pub name: String,
    /// One paragraph saying what the scenario shows. Not empty.
    #[schemars(extend("pattern" = "\\S"))]
    pub description: String,
    /// What to look at in the report (printed with it).
    #[serde(default)]
    #[schemars(with = "String")]
    pub observe: Option<String>,
    /// Seed for every random choice (an integer >= 0); `--seed` overrides it.
    /// Without one a random seed is used, which the report shows.
    #[serde(default, deserialize_with = "ranged::some_int::<0, { i64::MAX }, _, _>")]
    #[schemars(with = "i64", range(min = 0))]
    pub seed: Option<u64>,
    /// How many times to run the scenario (default 1, at most 100); each
    /// repeat is audited on its own. `--repeat` overrides it.
    #[serde(default = "one", deserialize_with = "ranged::int::<1, MAX_REPEAT, _, _>")]
    #[schemars(with = "i64", range(min = 1, max = MAX_REPEAT), extend("default" = 1))]
    pub repeat: u32,
    /// Brokers in the cluster, 1 to 9 (default 1). The mock, docker and
    /// local backends start this many, numbered 1 to `brokers`; with 3 or
    /// more, docker and local topics get replication factor 3 and
    /// min.insync.replicas=2.
    /// The embedded backend has one broker only; the external backend uses
    /// your cluster as it is.
    #[serde(default = "one", deserialize_with = "ranged::int::<1, MAX_BROKERS_I64, _, _>")]
    #[schemars(with = "i64", range(min = 1, max = MAX_BROKERS), extend("default" = 1))]
    pub brokers: u32,
    /// The backends this scenario is meant for, e.g. ["mock", "docker"]
    /// for broker faults; on any other backend it is skipped with a note,
    /// not failed. Leave it out to run everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "backends::list")]
    #[schemars(with = "backends::Backends")]
    pub backends: Vec<String>,
    /// What each producer sends.
    pub workload: Workload,
    /// librdkafka properties for every producer, applied after each
    /// producer's preset and before its own `settings`. Quote the names,
    /// which contain dots: "socket.timeout.ms" = 2000.
    #[serde(default, deserialize_with = "settings::values")]
    #[schemars(with = "BTreeMap<String, settings::SettingValue>")]
    pub client: BTreeMap<String, String>,
    /// The producers, all run at the same time against the same faults
    /// (one topic each). At least one; names unique.
    #[schemars(length(min = 1))]
    pub producers: Vec<ProducerSpec>,
    /// Faults on the timeline, in any order; they may overlap in time.
    #[serde(default, deserialize_with = "fault::list")]
    pub faults: Vec<Fault>,
    /// What the audit is expected to count, per producer. A failed
    /// `required` expectation fails the run (exit code 1).
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// The file it came from: not part of the file (a report writes it
    /// next to the scenario).
    #[serde(skip)]
    pub source: PathBuf,
}

const MAX_BROKERS_I64: i64 = limits::MAX_BROKERS as i64;

fn one() -> u32 {
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

/// Faults that are not toxics: the environment plays them by acting on the
/// proxy or the broker rather than on the bytes of a stream. Tagged like
/// [`crate::proxy::toxic::ToxicKind`] (`type`, then `attributes`), so a file writes both alike.
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
