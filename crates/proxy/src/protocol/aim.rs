//! Which requests a Kafka toxic acts on: its aim. Every Kafka toxic takes
//! the same aim attributes beside its own:
//!
//! - `api_key` (default `produce`): the requests of this API, and on the
//!   downstream stream their responses;
//! - `client_id` (default any): only the requests of connections whose
//!   client says this `client.id` (in its first request's header);
//! - `topic` and `partition` (default any): only Produce requests that
//!   write to that topic and partition;
//! - then which of those: `nth` (only the nth, 1 the first), `first` (the
//!   first n), `every` (every kth), at most one of them, none for all; and
//!   `probability` (default 1), drawn from the link's seeded generator.
//!
//! Matching requests are counted per toxic across every connection of its
//! proxy (the count lives in the toxic's entry:
//! [`LinkState::matched`](crate::pipe::LinkState::matched)), so
//! `nth = 3` is the third matching request the proxy saw, whichever
//! connection carried it. Updating the toxic keeps the count; removing and
//! adding it again starts a new one.

use std::sync::LazyLock;

use bytes::Bytes;
use kafka_protocol::messages::{RequestKind, ResponseKind};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::names::ApiKey;
use super::{FrameInfo, codec, topics};

/// The aim attributes (see the module's documentation). The field docs are
/// the help a scenario file's schema shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aim {
    /// The requests aimed at: Kafka's API name in snake case (default `produce`) or number.
    #[serde(default = "produce")]
    #[schemars(with = "String")]
    pub api_key: ApiKey,
    /// Only the requests of clients with this `client.id` (default: any; a scenario's producer's is its name).
    #[serde(default)]
    pub client_id: String,
    /// Only Produce requests writing to this topic (default: any).
    #[serde(default)]
    pub topic: String,
    /// Only Produce requests writing to this partition (default -1: any).
    #[serde(default = "any_partition")]
    pub partition: i32,
    /// Only the nth aimed request, 1 the first, counted on the proxy (default 0: not this way).
    #[serde(default)]
    pub nth: u64,
    /// Only the first n aimed requests (default 0: not this way).
    #[serde(default)]
    pub first: u64,
    /// Every kth aimed request (default 0: not this way).
    #[serde(default)]
    pub every: u64,
    /// Each aimed request with this probability, from the seeded generator (default 1).
    #[serde(default = "always")]
    pub probability: f64,
}

fn produce() -> ApiKey {
    ApiKey::PRODUCE
}

fn any_partition() -> i32 {
    -1
}

fn always() -> f64 {
    1.0
}

impl Default for Aim {
    fn default() -> Aim {
        Aim {
            api_key: produce(),
            client_id: String::new(),
            topic: String::new(),
            partition: -1,
            nth: 0,
            first: 0,
            every: 0,
            probability: 1.0,
        }
    }
}

/// The aim's attribute names, as a file writes them, in [`Aim`]'s order:
/// serde's own list of its fields (`field_names`), so a new aim field
/// is never missing here.
pub static AIM_ATTRIBUTES: LazyLock<&'static [&'static str]> = LazyLock::new(field_names::<Aim>);

/// The field names a derived `Deserialize` asks for, in declaration order
/// and as renamed: the derive hands them to `deserialize_struct`, which
/// this deserializer records and then stops at. A type that is not a
/// struct has none. (serde_aux's `serde_introspect` does the same; one
/// function did not seem worth a dependency.)
fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor, value};

    struct FieldNames<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for FieldNames<'_> {
        type Error = value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, value::Error> {
            Err(value::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, value::Error> {
            *self.0 = fields;
            Err(value::Error::custom("only the field names were wanted"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut names: &'static [&'static str] = &[];
    // Always an error: the names are what it leaves behind.
    let _ = T::deserialize(FieldNames(&mut names));
    names
}

impl Aim {
    /// Messages start with `attributes.<name>: ` (the scenario loader
    /// points at that attribute).
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!("attributes.probability: {} is not a probability; accepted: 0 to 1", self.probability));
        }
        let chosen: Vec<&str> = [("nth", self.nth), ("first", self.first), ("every", self.every)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, _)| name)
            .collect();
        if chosen.len() > 1 {
            return Err(format!(
                "attributes.{}: give at most one of nth, first and every (this toxic has {})",
                chosen[1],
                chosen.join(" and ")
            ));
        }
        if (!self.topic.is_empty() || self.partition >= 0) && self.api_key != ApiKey::PRODUCE {
            let name = if self.topic.is_empty() { "partition" } else { "topic" };
            return Err(format!(
                "attributes.{name}: aims at Produce requests only, and this toxic's api_key is {}; leave it out, or set \
                 api_key = \"produce\"",
                self.api_key
            ));
        }
        Ok(())
    }

    /// Whether the aim's `topic` and `partition` take in this one (both
    /// default to any).
    pub fn names(&self, topic: &str, partition: i32) -> bool {
        (self.topic.is_empty() || topic == self.topic) && (self.partition < 0 || partition == self.partition)
    }

    /// Whether a Produce frame writes to (or answers for) a partition
    /// the aim's `topic` and `partition` take in.
    pub(crate) fn writes_to_aimed_partition(&self, data: &Bytes, frame: &FrameInfo) -> bool {
        if self.topic.is_empty() && self.partition < 0 {
            return true;
        }
        produce_partitions(data, frame).iter().any(|(topic, partition)| {
            (self.topic.is_empty() || *topic == self.topic) && (self.partition < 0 || *partition == self.partition)
        })
    }
}

/// The (topic, partition) pairs a Produce request writes to, or its
/// response answers for; none if the frame does not decode.
pub fn produce_partitions(data: &Bytes, frame: &FrameInfo) -> Vec<(String, i32)> {
    let partitions: Result<Vec<(String, i32)>, String> = if frame.response {
        codec::decode_response(data, frame.api_key, frame.api_version).map(|(_, body)| match body {
            ResponseKind::Produce(response) => response
                .responses
                .into_iter()
                .flat_map(|t| {
                    let name = topics::name(&t.name.0, t.topic_id);
                    t.partition_responses.into_iter().map(move |p| (name.clone(), p.index))
                })
                .collect(),
            _ => Vec::new(),
        })
    } else {
        codec::decode_request(data).map(|(_, body)| match body {
            RequestKind::Produce(request) => request
                .topic_data
                .into_iter()
                .flat_map(|t| {
                    let name = topics::name(&t.name.0, t.topic_id);
                    t.partition_data.into_iter().map(move |p| (name.clone(), p.index))
                })
                .collect(),
            _ => Vec::new(),
        })
    };
    partitions.unwrap_or_else(|e| {
        tracing::warn!("a Produce frame (v{}) did not decode, so no topic is aimed at in it: {e}", frame.api_version);
        Vec::new()
    })
}
