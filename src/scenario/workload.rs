//! `[workload]`: what each producer sends. These are the types the run
//! uses, read from the file as they are: each number's range is checked
//! as it is read ([`ranged`]), so an error points at the value itself.
//! The JSON Schema is derived from them; their doc comments are the help
//! an editor shows.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::limits::{MAX_MESSAGES_PER_RUN, MAX_PARTITIONS, MAX_PAYLOAD_BYTES, MAX_RATE, MIN_RATE};
use super::{ranged, schema};

/// What each producer sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Messages each producer sends, 1 or more; at most 2,000,000 in a run,
    /// summed over the producers, and at most 1 GiB of payload
    /// (messages x payload_bytes x producers).
    #[serde(deserialize_with = "ranged::int::<1, { i64::MAX }, _, _>")]
    #[schemars(with = "i64", range(min = 1, max = MAX_MESSAGES_PER_RUN))]
    pub messages: u64,
    /// Messages per second per producer, from 0.01 to 1,000,000, such that
    /// the messages take at most an hour; leave it out to send as fast as
    /// possible.
    #[serde(default, deserialize_with = "rate")]
    #[schemars(with = "f64", range(min = MIN_RATE, max = MAX_RATE))]
    pub rate: Option<f64>,
    /// Partitions of each producer's topic (default 1, at most 1000).
    #[serde(default = "one", deserialize_with = "ranged::int::<1, MAX_PARTITIONS, _, _>")]
    #[schemars(with = "i64", range(min = 1, max = MAX_PARTITIONS), extend("default" = 1))]
    pub partitions: i32,
    /// How message keys are chosen (default "event-id"). The key decides the
    /// partition, and reordering is only counted among messages with the
    /// same key.
    #[serde(default)]
    #[schemars(extend("default" = "event-id"))]
    pub key: KeyStrategy,
    /// Extra padding bytes in each message value (default 0, at most
    /// 900,000: with the message's envelope, under Kafka's default 1 MB
    /// message limit).
    #[serde(default, deserialize_with = "ranged::int::<0, MAX_PAYLOAD_BYTES, _, _>")]
    #[schemars(with = "i64", range(min = 0, max = MAX_PAYLOAD_BYTES), extend("default" = 0))]
    pub payload_bytes: usize,
}

fn one() -> i32 {
    1
}

/// `rate`: messages per second in `MIN_RATE..=MAX_RATE` (a JSON report
/// writes `null` for "as fast as possible").
fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let Some(v) = Option::<f64>::deserialize(d)? else { return Ok(None) };
    if !(MIN_RATE..=MAX_RATE).contains(&v) {
        let shown = if v == 0.0 || (1e-4..1e15).contains(&v.abs()) { v.to_string() } else { format!("{v:e}") };
        return Err(de::Error::custom(format!(
            "`{shown}`: accepted: a number from {MIN_RATE} to {MAX_RATE} (messages per second per producer); \
             leave it out to send as fast as possible"
        )));
    }
    Ok(Some(v))
}

/// How message keys are chosen. The key decides the partition, and
/// reordering is only counted among messages with the same key.
///
/// Written as `"event-id"`, `{ fixed = "..." }` or `{ spread = 8 }`, in the
/// file, the report and the JSON Schema alike.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(
    rename = "Key",
    description = "How message keys are chosen: \"event-id\", { fixed = \"<key>\" } or { spread = <number of keys> }. \
                   The key decides the partition, and reordering is only counted among messages with the same key."
)]
pub enum KeyStrategy {
    /// Each message's own unique id (the course's eventId).
    #[default]
    #[serde(rename = "event-id")]
    EventId,
    /// The same key for every message: one partition, one total order.
    Fixed(String),
    /// `n` keys, `key-0` .. `key-{n-1}`, chosen by sequence number % n (n >= 1).
    #[schemars(transform = schema::spread_at_least_one)]
    Spread(u32),
}

pub(super) const KEY_FORMS: &str = "\"event-id\", { fixed = \"<key>\" } or { spread = <number of keys> }";

// Written by hand rather than derived: serde's derived enum errors say
// "unknown variant" without the forms accepted, and would report a bad
// `spread` at the key table instead of at the number.
impl<'de> Deserialize<'de> for KeyStrategy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum KeyField {
    Fixed,
    Spread,
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = KeyStrategy;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(KEY_FORMS)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyStrategy, E> {
        match v {
            "event-id" => Ok(KeyStrategy::EventId),
            _ => Err(E::custom(format!("unknown key strategy `{v}`; accepted: {KEY_FORMS}"))),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyStrategy, A::Error> {
        // The field is read through a derived identifier so that an unknown
        // name fails inside the key and keeps the key's span.
        let key = match map.next_key::<KeyField>()? {
            Some(KeyField::Fixed) => KeyStrategy::Fixed(map.next_value()?),
            Some(KeyField::Spread) => KeyStrategy::Spread(map.next_value_seed(Spread)?),
            None => return Err(de::Error::custom(format!("empty key table; accepted: {KEY_FORMS}"))),
        };
        if map.next_key::<KeyField>()?.is_some() {
            return Err(de::Error::custom(format!("give only one of `fixed` and `spread`; accepted: {KEY_FORMS}")));
        }
        Ok(key)
    }
}

/// `spread`'s number of keys, checked as it is read.
struct Spread;

impl<'de> DeserializeSeed<'de> for Spread {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        let v = i64::deserialize(d)?;
        u32::try_from(v)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| de::Error::custom(format!("`{v}` is out of range; accepted: a number of keys >= 1 (key forms: {KEY_FORMS})")))
    }
}
