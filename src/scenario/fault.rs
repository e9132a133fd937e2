//! One fault on the timeline (a `[[faults]]` table): the type the run uses,
//! and how a file or a saved report is read into it.
//!
//! A fault's `attributes` mean something only for its `type`, so they are
//! read once the type is known, straight into the variant's struct: their
//! errors (an unknown attribute, a wrong type) then point at the attribute
//! itself. The loader hands each fault's keys over with `type` first
//! (`load::type_first`), so in a file that is always the case, and
//! `stream` or `toxicity` on a fault that is not a toxic is refused at the
//! key. From another source (a JSON report) attributes that come before
//! their type are held as JSON until it arrives.
//!
//! serde's derive cannot do this (an adjacently tagged enum flattened into
//! a struct buffers its content and loses the spans), hence the visitor
//! here. The JSON Schema is derived from the struct all the same
//! ([`super::schema`]).

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap};
use serde::{Deserialize, Serialize, Serializer};

use super::BackendFault;
use super::duration::{DurationValue, format_duration};
use super::error::did_you_mean;
use super::schema::{FaultTypeAndAttributes, StreamName, ZERO_DURATION_PATTERN};
use crate::proxy::toxic::{Stream, Toxic, ToxicKind};

/// One fault: a Toxiproxy toxic (or the proxy going down) played `at`
/// its time after producing starts and undone after `duration` (or left
/// until producing ends).
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields, transform = super::schema::toxic_variants)]
pub struct Fault {
    /// Unique among the faults (the proxy identifies toxics by name);
    /// default `<type>_<stream>_<index>`.
    // Not required, and no default to show: the default depends on the
    // type and the index (and a name is never empty, hence the skip).
    #[schemars(default, skip_serializing_if = "String::is_empty", extend("pattern" = "\\S"))]
    pub name: String,
    /// Written as Toxiproxy writes a toxic: `type` and `attributes`.
    #[schemars(flatten, with = "FaultTypeAndAttributes")]
    pub kind: FaultKind,
    /// Which direction it affects (default "downstream").
    #[schemars(with = "StreamName", default = "Stream::default")]
    pub stream: Stream,
    /// The probability, 0.0 to 1.0, that the toxic applies to a connection,
    /// rolled once per connection (default 1.0).
    #[schemars(with = "f64", range(min = 0, max = 1), default = "full_toxicity")]
    pub toxicity: f32,
    /// When the toxic is added, counted from when producing starts,
    /// e.g. "1.5s"; at most "1h".
    #[schemars(with = "DurationValue")]
    pub at: Duration,
    /// How long the toxic stays, more than 0 and at most "1h", e.g. "3s";
    /// leave it out to keep it until producing ends.
    #[schemars(with = "DurationValue", default, extend("not" = { "pattern": ZERO_DURATION_PATTERN }))]
    pub duration: Option<Duration>,
}

fn full_toxicity() -> f64 {
    1.0
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

    /// The name a fault gets when the file gives none: for a toxic
    /// `<type>_<stream>_<index>`, Toxiproxy's default name plus the fault's
    /// 0-based index, so two faults of one type on one stream can overlap;
    /// otherwise `<type>_<index>`.
    fn default_name(kind: &FaultKind, stream: Stream, index: usize) -> String {
        match kind {
            FaultKind::Toxic(kind) => format!("{}_{index}", Toxic::default_name(kind, stream)),
            FaultKind::Backend(fault) => format!("{}_{index}", fault.type_name()),
        }
    }
}

/// What a fault does: a toxic on one stream of the proxy, or something the
/// environment itself plays (the proxy going down).
#[derive(Debug, Clone, PartialEq, Serialize)]
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

    fn is_toxic_type(type_name: &str) -> bool {
        ToxicKind::TYPE_NAMES.contains(&type_name)
    }

    /// The kind of type `type_name` from its `attributes` (`None`: left
    /// out, so a toxic's take their defaults), read straight into the
    /// variant's struct so their errors keep their place.
    fn read<'de, D: Deserializer<'de>>(type_name: &'static str, attributes: Option<D>) -> Result<FaultKind, D::Error> {
        let tagged = |attributes| MapAccessDeserializer::new(Tagged { type_name: Some(type_name), attributes });
        if !Self::is_toxic_type(type_name) {
            return BackendFault::deserialize(tagged(attributes.map(Attributes::Given))).map(FaultKind::Backend);
        }
        let attributes = attributes.map_or(Attributes::Empty, Attributes::Given);
        ToxicKind::deserialize(tagged(Some(attributes))).map(FaultKind::Toxic)
    }
}

/// `#[serde(deserialize_with)]` of a scenario's `faults`: each fault
/// knows its index, for its default name.
pub(super) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Fault>, D::Error> {
    struct Faults;
    impl<'de> Visitor<'de> for Faults {
        type Value = Vec<Fault>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of [[faults]] tables")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Fault>, A::Error> {
            let mut faults = Vec::new();
            while let Some(fault) = seq.next_element_seed(FaultSeed { index: Some(faults.len()) })? {
                faults.push(fault);
            }
            Ok(faults)
        }
    }
    d.deserialize_seq(Faults)
}

impl<'de> Deserialize<'de> for Fault {
    /// A fault alone (a report's fault windows) has its name written.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        FaultSeed { index: None }.deserialize(d)
    }
}

/// As a file writes it: `stream` and `toxicity` for a toxic only, no
/// `duration` when it lasts until producing ends.
impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The kind's own form is `{ "type": .., "attributes": .. }`.
        let kind = serde_json::to_value(&self.kind).map_err(ser::Error::custom)?;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("type", self.kind.type_name())?;
        if let Some(attributes) = kind.get("attributes") {
            map.serialize_entry("attributes", attributes)?;
        }
        if let FaultKind::Toxic(_) = self.kind {
            map.serialize_entry("stream", &self.stream)?;
            map.serialize_entry("toxicity", &self.toxicity)?;
        }
        map.serialize_entry("at", &format_duration(self.at))?;
        if let Some(duration) = self.duration {
            map.serialize_entry("duration", &format_duration(duration))?;
        }
        map.end()
    }
}

/// The keys of a fault table, in the order errors list them.
const KEYS: &[&str] = &["type", "stream", "toxicity", "at", "duration", "name", "attributes"];

struct FaultSeed {
    /// Its place in the scenario's list, when it is in one.
    index: Option<usize>,
}

impl<'de> DeserializeSeed<'de> for FaultSeed {
    type Value = Fault;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fault, D::Error> {
        d.deserialize_struct("Fault", KEYS, self)
    }
}

/// A fault's fields as they are read.
#[derive(Default)]
struct Read {
    type_name: Option<&'static str>,
    kind: Option<FaultKind>,
    /// Attributes that came before the type (not from a file).
    early_attributes: Option<serde_json::Value>,
    stream: Option<Stream>,
    toxicity: Option<f32>,
    at: Option<Duration>,
    duration: Option<Option<Duration>>,
    name: Option<String>,
}

impl<'de> Visitor<'de> for FaultSeed {
    type Value = Fault;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a fault table with `type` and `at`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fault, A::Error> {
        let mut read = Read::default();
        while let Some(key) = map.next_key::<Key>()? {
            let once = |present: bool| if present { Err(de::Error::duplicate_field(key.0)) } else { Ok(()) };
            // On a fault that is not a toxic, a toxic's own keys are
            // refused where they are written.
            let misplaced = read.type_name.filter(|t| !FaultKind::is_toxic_type(t) && matches!(key.0, "stream" | "toxicity"));
            if let Some(type_name) = misplaced {
                return map.next_value_seed(Misplaced { key: key.0, type_name });
            }
            match key.0 {
                "type" => {
                    once(read.type_name.is_some())?;
                    let type_name = map.next_value::<FaultType>()?.0;
                    read.type_name = Some(type_name);
                    if let Some(early) = read.early_attributes.take() {
                        read.kind = Some(FaultKind::read(type_name, Some(early)).map_err(de::Error::custom)?);
                    }
                }
                "attributes" => {
                    once(read.kind.is_some() || read.early_attributes.is_some())?;
                    match read.type_name {
                        Some(type_name) => read.kind = Some(map.next_value_seed(AttributesOf(type_name))?),
                        None => read.early_attributes = Some(map.next_value()?),
                    }
                }
                "stream" => {
                    once(read.stream.is_some())?;
                    read.stream = Some(map.next_value()?);
                }
                "toxicity" => {
                    once(read.toxicity.is_some())?;
                    read.toxicity = Some(map.next_value_seed(Toxicity)?);
                }
                "at" => {
                    once(read.at.is_some())?;
                    read.at = Some(map.next_value::<DurationValue>()?.0);
                }
                "duration" => {
                    once(read.duration.is_some())?;
                    read.duration = Some(map.next_value_seed(Lasting)?);
                }
                // "name", the last of KEYS (Key admits no other).
                _ => {
                    once(read.name.is_some())?;
                    read.name = Some(map.next_value_seed(Name)?);
                }
            }
        }
        self.fault(read)
    }
}

impl FaultSeed {
    /// The fault from its fields once every key is read.
    fn fault<E: de::Error>(self, read: Read) -> Result<Fault, E> {
        let type_name = read.type_name.ok_or_else(|| E::missing_field("type"))?;
        let at = read.at.ok_or_else(|| E::missing_field("at"))?;
        let kind = match read.kind {
            Some(kind) => kind,
            None => FaultKind::read(type_name, None::<de::value::UnitDeserializer<E>>)?,
        };
        if !FaultKind::is_toxic_type(type_name) {
            let misplaced = [("stream", read.stream.is_some()), ("toxicity", read.toxicity.is_some())];
            if let Some((key, _)) = misplaced.into_iter().find(|(_, given)| *given) {
                return Err(E::custom(Misplaced { key, type_name }.message()));
            }
        }
        let stream = read.stream.unwrap_or_default();
        let name = match (read.name, self.index) {
            (Some(name), _) => name,
            (None, Some(index)) => Fault::default_name(&kind, stream, index),
            (None, None) => return Err(E::missing_field("name")),
        };
        Ok(Fault { name, kind, stream, toxicity: read.toxicity.unwrap_or(1.0), at, duration: read.duration.flatten() })
    }
}

/// A key of a fault table; another is refused where it is written.
struct Key(&'static str);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        KEYS.iter().find(|k| **k == key).map(|k| Key(k)).ok_or_else(|| de::Error::unknown_field(&key, KEYS))
    }
}

/// A fault's `type`: a toxic's or another fault's.
struct FaultType(&'static str);

impl<'de> Deserialize<'de> for FaultType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if let Some(known) = FaultKind::type_names().find(|t| *t == name) {
            return Ok(FaultType(known));
        }
        let hint = did_you_mean(&name, FaultKind::type_names());
        let accepted: Vec<&str> = FaultKind::type_names().collect();
        Err(de::Error::custom(format!("unknown fault type `{name}`{hint} accepted: {}", accepted.join(", "))))
    }
}

/// The `attributes` of a fault of type `.0`.
struct AttributesOf(&'static str);

impl<'de> DeserializeSeed<'de> for AttributesOf {
    type Value = FaultKind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FaultKind, D::Error> {
        FaultKind::read(self.0, Some(d))
    }
}

/// `stream` or `toxicity` on a fault that is not a toxic: they are about a
/// toxic's bytes, and would otherwise be silently ignored.
struct Misplaced {
    key: &'static str,
    type_name: &'static str,
}

impl Misplaced {
    fn message(&self) -> String {
        let (key, type_name) = (self.key, self.type_name);
        format!(
            "`{key}` applies to toxics only, and `{type_name}` is not one; accepted: leave it out (toxics: {})",
            ToxicKind::TYPE_NAMES.join(", ")
        )
    }
}

impl<'de> DeserializeSeed<'de> for Misplaced {
    type Value = Fault;

    fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<Fault, D::Error> {
        Err(de::Error::custom(self.message()))
    }
}

/// `toxicity`: a probability.
struct Toxicity;

impl<'de> DeserializeSeed<'de> for Toxicity {
    type Value = f32;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<f32, D::Error> {
        let v = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&v) {
            return Err(de::Error::custom(format!(
                "`{v}` is out of range; accepted: a number from 0.0 to 1.0 (the probability that a connection is affected)"
            )));
        }
        Ok(v as f32)
    }
}

/// `duration`: more than zero (a report writes none as null).
struct Lasting;

impl<'de> DeserializeSeed<'de> for Lasting {
    type Value = Option<Duration>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<DurationValue>::deserialize(d)? {
            Some(DurationValue(d)) if d.is_zero() => Err(de::Error::custom(
                "a fault cannot last 0s; accepted: a duration > 0 such as \"3s\", or leave `duration` out to keep the fault until \
                 producing ends",
            )),
            lasting => Ok(lasting.map(|d| d.0)),
        }
    }
}

/// `name`: not blank.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let name = String::deserialize(d)?;
        if name.trim().is_empty() {
            return Err(de::Error::custom(
                "must not be empty; leave it out for the default `<type>_<stream>_<index>` (toxics) or `<type>_<index>`",
            ));
        }
        Ok(name)
    }
}

/// A fault's attributes as a deserializer: those given, or (for a toxic
/// whose file leaves them out) an empty table, so each takes its default.
enum Attributes<D> {
    Given(D),
    Empty,
}

/// A fault's `type` and `attributes` as the map an adjacently tagged kind
/// ([`ToxicKind`], [`BackendFault`]) reads, `type` first, so serde reads
/// the attributes straight into the variant's struct instead of
/// buffering them (which loses their spans). No change is needed here
/// when variants are added.
struct Tagged<D> {
    type_name: Option<&'static str>,
    attributes: Option<Attributes<D>>,
}

impl<'de, D: Deserializer<'de>> MapAccess<'de> for Tagged<D> {
    type Error = D::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, D::Error> {
        let key = match (&self.type_name, &self.attributes) {
            (Some(_), _) => "type",
            (None, Some(_)) => "attributes",
            (None, None) => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, D::Error> {
        if let Some(type_name) = self.type_name.take() {
            return seed.deserialize(type_name.into_deserializer());
        }
        match self.attributes.take() {
            Some(Attributes::Given(d)) => seed.deserialize(d),
            Some(Attributes::Empty) => seed.deserialize(de::value::MapDeserializer::<_, D::Error>::new(std::iter::empty::<((), ())>())),
            None => Err(de::Error::custom("no value left in the fault's map")),
        }
    }
}
