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
pub mod java;
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

use crate::env::Backend;
use limits::{MAX_BROKERS, MAX_REPEAT};

/// Backend faults (one module each) and their Kafka names live in the
/// environment, which plays them; the file format names them from here.
pub use crate::env::fault::kafka;
pub use crate::env::fault::{BackendFault, BrokerRtt, BrokerTarget, LeaderChange, RequestErrors};
pub use duration::{DurationError, format_duration, parse_duration};
pub use error::ScenarioError;
pub use expect::{BOUND_FORMS, Bound, Expect, Expectation, Level, Metric};
pub use fault::{Fault, FaultKind};
pub use load::{collect, load, parse};
pub use producer::{Client, Driver, HttpDriver, HttpSendMode, Preset, ProducerSpec};
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

    /// The Java producer's properties of a `client = "java"` producer: its
    /// effective settings translated by [`java::JAVA_NAMES`] (the loader
    /// has checked that they translate).
    pub fn java_settings(&self, producer: &ProducerSpec) -> Result<BTreeMap<String, String>, java::Untranslatable> {
        java::java_properties(&self.effective_settings(producer))
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
