//! The two parts of the file that keep a form of their own: the top-level
//! table ([`RawScenario`]) and a fault ([`RawFault`]). Everything inside
//! them is read straight into the types the run uses (`Workload`,
//! `ProducerSpec`, `Expect`), and the JSON Schema derives from these types
//! and those (see [`super::schema`]): their doc comments are the help an
//! editor shows. A fault's `attributes` are read against its `type` from
//! the document itself ([`tagged`]) so their errors keep their spans;
//! toml hands a table's keys over sorted, so serde alone would see
//! `attributes` before `type`. `deny_unknown_fields` is on every table, so
//! a misspelt key is an error (with a suggestion) rather than silently
//! ignored. Numbers are range-checked as they are read
//! ([`super::ranged`]); the checks across values are in [`super::load`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, IntoDeserializer, MapAccess};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::duration::DurationValue;
use super::expect::Expect;
use super::limits::{MAX_BROKERS, MAX_REPEAT};

const MAX_BROKERS_I64: i64 = MAX_BROKERS as i64;

fn one() -> u32 {
    1
}
use super::schema::{AttributesTable, StreamName, ToxicTypeName, ZERO_DURATION_PATTERN};
use super::{ProducerSpec, Workload, ranged, settings};
use crate::proxy::toxic::Stream;

/// A faultlab scenario: what to produce, with which producer settings,
/// under which faults, and what the audit is expected to count. Run it with
/// `faultlab run FILE`; check it with `faultlab validate FILE`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "faultlab scenario",
    extend("x-taplo" = { "initKeys": ["name", "description", "workload", "producers"] })
)]
pub(super) struct RawScenario {
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
    #[serde(default)]
    #[schemars(
        with = "Vec<String>",
        extend("items" = { "enum": crate::env::Backend::names() }, "uniqueItems" = true, "minItems" = 1)
    )]
    pub backends: Option<Vec<String>>,
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
    #[serde(default)]
    #[schemars(with = "Vec<RawFault>")]
    pub faults: Vec<Spanned<RawFault>>,
    /// What the audit is expected to count, per producer. A failed
    /// `required` expectation fails the run (exit code 1).
    #[serde(default)]
    pub expect: Vec<Expect>,
}

/// One fault: a Toxiproxy toxic (or the proxy going down) played `at`
/// its time after producing starts and undone after `duration` (or left
/// until producing ends).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Fault", transform = super::schema::toxic_variants)]
pub(super) struct RawFault {
    /// The toxic type (Toxiproxy's names), or `proxy_down`; it decides
    /// which `attributes` are accepted.
    #[serde(rename = "type")]
    #[schemars(with = "ToxicTypeName")]
    pub kind: Spanned<String>,
    /// Which direction it affects (default "downstream").
    #[serde(default)]
    #[schemars(with = "StreamName", extend("default" = "downstream"))]
    pub stream: Option<Spanned<Stream>>,
    /// The probability, 0.0 to 1.0, that the toxic applies to a connection,
    /// rolled once per connection (default 1.0).
    #[serde(default)]
    #[schemars(with = "f64", range(min = 0, max = 1), extend("default" = 1.0))]
    pub toxicity: Option<Spanned<f64>>,
    /// When the toxic is added, counted from when producing starts,
    /// e.g. "1.5s"; at most "1h".
    pub at: DurationValue,
    /// How long the toxic stays, more than 0 and at most "1h", e.g. "3s";
    /// leave it out to keep it until producing ends.
    #[serde(default)]
    #[schemars(with = "DurationValue", extend("not" = { "pattern": ZERO_DURATION_PATTERN }))]
    pub duration: Option<Spanned<DurationValue>>,
    /// Unique among the faults (the proxy identifies toxics by name);
    /// default `<type>_<stream>_<index>`.
    #[serde(default)]
    #[schemars(with = "String", extend("pattern" = "\\S"))]
    pub name: Option<Spanned<String>>,
    // Read separately by [`tagged`], from the document itself, so its
    // errors keep their spans.
    /// The toxic's attributes, with Toxiproxy's names and units (mostly
    /// milliseconds); which are accepted depends on `type`. Leave out any
    /// to take its default.
    #[serde(default, rename = "attributes")]
    #[schemars(with = "AttributesTable")]
    _attributes: Option<IgnoredAny>,
}

/// The value at `key` of a document table.
pub(super) fn lookup<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// Deserialise a fault's kind ([`ToxicKind`] or [`super::BackendFault`])
/// from its type name and its `attributes` value as it is in the document,
/// so errors inside the attributes (unknown names, wrong types) keep their
/// own spans.
///
/// Both kinds are adjacently tagged (`type` + `attributes`); they are fed
/// as a map, `type` first, so serde reads the attributes straight into the
/// variant's struct instead of buffering them (which loses spans). This
/// needs no change when variants are added.
pub(super) fn tagged<'i, T: Deserialize<'i>>(type_name: &str, attributes: Option<Spanned<DeValue<'i>>>) -> Result<T, toml::de::Error> {
    T::deserialize(MapAccessDeserializer::new(ToxicFields { type_name: Some(type_name.to_string()), attributes }))
}

struct ToxicFields<'i> {
    type_name: Option<String>,
    attributes: Option<Spanned<DeValue<'i>>>,
}

impl<'i> MapAccess<'i> for ToxicFields<'i> {
    type Error = toml::de::Error;

    fn next_key_seed<K: DeserializeSeed<'i>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let key = if self.type_name.is_some() {
            "type"
        } else if self.attributes.is_some() {
            "attributes"
        } else {
            return Ok(None);
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'i>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        if let Some(type_name) = self.type_name.take() {
            return seed.deserialize(type_name.into_deserializer());
        }
        match self.attributes.take() {
            Some(attributes) => seed.deserialize(ValueDeserializer::from(attributes)),
            None => Err(de::Error::custom("no value left in the fault's map")),
        }
    }
}
