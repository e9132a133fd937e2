//! The file as written: serde types with source spans.
//!
//! These mirror the TOML one to one, with `deny_unknown_fields` everywhere
//! so a misspelt key is an error (with a suggestion) rather than silently
//! ignored. Values that need checks serde cannot express (`messages >= 1`,
//! unique names, a known producer) are `Spanned`, so [`super::load`] can
//! point at them after deserialisation. Integers are read as `i64` (TOML's
//! own integer type) and range-checked there, so `messages = -1` gets
//! "must be at least 1" rather than a message about `u64`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::Preset;
use super::duration::DurationValue;
use super::expect::{Bound, Level, Metric};
use crate::proxy::toxic::{Stream, ToxicKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub name: Spanned<String>,
    pub description: Spanned<String>,
    #[serde(default)]
    pub observe: Option<String>,
    #[serde(default)]
    pub seed: Option<Spanned<i64>>,
    #[serde(default)]
    pub repeat: Option<Spanned<i64>>,
    pub workload: RawWorkload,
    #[serde(default)]
    pub client: BTreeMap<String, SettingValue>,
    pub producers: Spanned<Vec<Spanned<RawProducer>>>,
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    #[serde(default)]
    pub expect: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkload {
    pub messages: Spanned<i64>,
    #[serde(default)]
    pub rate: Option<Spanned<f64>>,
    #[serde(default)]
    pub partitions: Option<Spanned<i64>>,
    #[serde(default)]
    pub key: Option<RawKey>,
    #[serde(default)]
    pub payload_bytes: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProducer {
    pub name: Spanned<String>,
    pub preset: Preset,
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFault {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    #[serde(default)]
    pub stream: Option<Stream>,
    #[serde(default)]
    pub toxicity: Option<Spanned<f64>>,
    pub at: DurationValue,
    #[serde(default)]
    pub duration: Option<Spanned<DurationValue>>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Read separately by [`toxic_kind`], from the document itself, so its
    /// errors keep their spans.
    #[serde(default, rename = "attributes")]
    _attributes: Option<IgnoredAny>,
}

/// One `[[expect]]` table. The metric fields must stay in step with
/// [`Metric::ALL`]; [`RawExpect::bounds`] and a test check that.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub producer: Spanned<String>,
    #[serde(default)]
    pub level: Level,
    #[serde(default)]
    duplicates: Option<Bound>,
    #[serde(default)]
    lost: Option<Bound>,
    #[serde(default)]
    phantom: Option<Bound>,
    #[serde(default)]
    reordered: Option<Bound>,
    #[serde(default)]
    failed: Option<Bound>,
    #[serde(default)]
    possibly_persisted: Option<Bound>,
    #[serde(default)]
    offset_mismatch: Option<Bound>,
    #[serde(default)]
    acked: Option<Bound>,
}

impl RawExpect {
    /// The bounds given, in [`Metric::ALL`] order.
    pub fn bounds(&self) -> Vec<(Metric, Bound)> {
        let all = [
            (Metric::Duplicates, self.duplicates),
            (Metric::Lost, self.lost),
            (Metric::Phantom, self.phantom),
            (Metric::Reordered, self.reordered),
            (Metric::Failed, self.failed),
            (Metric::PossiblyPersisted, self.possibly_persisted),
            (Metric::OffsetMismatch, self.offset_mismatch),
            (Metric::Acked, self.acked),
        ];
        all.into_iter().filter_map(|(m, b)| b.map(|b| (m, b))).collect()
    }
}

/// `key = "event-id"`, `key = { fixed = "account-7" }` or `key = { spread = 8 }`.
pub(super) enum RawKey {
    EventId,
    Fixed(String),
    Spread(Spanned<i64>),
}

pub(super) const KEY_FORMS: &str = "\"event-id\", { fixed = \"<key>\" } or { spread = <number of keys> }";

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum KeyField {
    Fixed,
    Spread,
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = RawKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(KEY_FORMS)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKey, E> {
        match v {
            "event-id" => Ok(RawKey::EventId),
            _ => Err(E::custom(format!("unknown key strategy `{v}`; accepted: {KEY_FORMS}"))),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKey, A::Error> {
        // The field is read through a derived identifier so that an unknown
        // name fails inside the key and keeps the key's span.
        let key = match map.next_key::<KeyField>()? {
            Some(KeyField::Fixed) => RawKey::Fixed(map.next_value()?),
            Some(KeyField::Spread) => RawKey::Spread(map.next_value()?),
            None => return Err(de::Error::custom(format!("empty key table; accepted: {KEY_FORMS}"))),
        };
        if map.next_key::<KeyField>()?.is_some() {
            return Err(de::Error::custom(format!("give only one of `fixed` and `spread`; accepted: {KEY_FORMS}")));
        }
        Ok(key)
    }
}

/// A librdkafka property value. librdkafka takes strings; the file may
/// write integers, floats and booleans too, which are kept as the string
/// librdkafka expects (`2000` -> `"2000"`, `true` -> `"true"`).
pub(super) struct SettingValue(pub String);

impl<'de> Deserialize<'de> for SettingValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SettingVisitor)
    }
}

struct SettingVisitor;

impl<'de> Visitor<'de> for SettingVisitor {
    type Value = SettingValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, integer, float or boolean")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SettingValue, E> {
        Ok(SettingValue(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SettingValue, E> {
        Ok(SettingValue(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SettingValue, E> {
        Ok(SettingValue(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SettingValue, E> {
        Ok(SettingValue(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<SettingValue, E> {
        Ok(SettingValue(v.to_string()))
    }

    /// The usual cause is an unquoted dotted name, which TOML reads as
    /// nested tables: say so.
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<SettingValue, A::Error> {
        Err(de::Error::custom(
            "expected a string, integer, float or boolean, found a table; librdkafka property names \
             contain dots, so quote the whole name, e.g. \"socket.timeout.ms\" = 2000",
        ))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _seq: A) -> Result<SettingValue, A::Error> {
        Err(de::Error::custom(
            "expected a string, integer, float or boolean, found an array; write lists as librdkafka does, \
             e.g. \"a,b\"",
        ))
    }
}

/// The value at `key` of a document table.
pub(super) fn lookup<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// Deserialise a fault's [`ToxicKind`] from its type name and its
/// `attributes` value as it is in the document, so errors inside the
/// attributes (unknown names, wrong types) keep their own spans.
///
/// `ToxicKind` is adjacently tagged (`type` + `attributes`); it is fed as a
/// two-entry map, `type` first, so serde reads the attributes straight into
/// the variant's struct instead of buffering them (which loses spans). This
/// needs no change when variants are added.
pub(super) fn toxic_kind<'i>(type_name: &str, attributes: Spanned<DeValue<'i>>) -> Result<ToxicKind, toml::de::Error> {
    ToxicKind::deserialize(MapAccessDeserializer::new(ToxicFields {
        type_name: Some(type_name.to_string()),
        attributes: Some(attributes),
    }))
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
