//! A Kafka toxic's aim at work: which frames of a link it picks, and
//! [`Aimed`], the aim and a Kafka toxic's own attributes in one table. The
//! aim's attributes themselves ([`Aim`]) are Kafka protocol, below the
//! link ([`crate::protocol::aim`]); they are re-exported here, so this is
//! the whole aim (`kafka::aim`).

use std::collections::BTreeMap;

use rand::Rng;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};

use crate::pipe::{LinkState, Pipe, Stream};
pub use crate::protocol::aim::*;
use crate::stub::{Chunk, PipeEnd, Stub};

impl Aim {
    /// Whether the toxic acts on `chunk`: a frame of the aimed API (a
    /// request upstream, its response downstream) that the aim picks; never
    /// a chunk that is not a Kafka frame. Every frame is counted in
    /// `state.tally` as seen, a match as matched before `nth`, `first` and
    /// `every` choose, and a pick as acted on.
    pub fn picks(&self, chunk: &Chunk, stub: &mut Stub, state: &LinkState) -> bool {
        let Some(frame) = &chunk.frame else { return false };
        state.tally.saw();
        if frame.api_key != self.api_key.0 || !self.aims_at_client_of(state) || !self.writes_to_aimed_partition(&chunk.data, frame) {
            return false;
        }
        let k = state.tally.matched();
        let chosen = match (self.nth, self.first, self.every) {
            (n, _, _) if n > 0 => k == n,
            (_, n, _) if n > 0 => k <= n,
            (_, _, n) if n > 0 => k.is_multiple_of(n),
            _ => true,
        };
        let picked = chosen && (self.probability >= 1.0 || stub.rng.random::<f64>() < self.probability);
        if picked {
            state.tally.acted();
        }
        picked
    }

    fn aims_at_client_of(&self, state: &LinkState) -> bool {
        self.client_id.is_empty() || state.session.as_ref().and_then(|s| s.client_id()) == Some(self.client_id.as_str())
    }
}

/// A Kafka toxic's attributes: the aim's and the toxic's own `T`, side by
/// side in one flat table (`{"api_key": "produce", "nth": 2, "latency":
/// 100}`), as Toxiproxy's clients write attributes.
///
/// Deserialised by hand: serde's `flatten` cannot refuse unknown names,
/// and a misspelt attribute must be an error, as for every other toxic.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Aimed<T> {
    #[serde(flatten)]
    pub aim: Aim,
    #[serde(flatten)]
    pub toxic: T,
}

/// What a Kafka toxic's own attributes do, given the aim beside them. A
/// Kafka toxic's module implements this, not [`Pipe`]: [`Aimed`] makes it
/// a [`Pipe`], checking the aim before the toxic's own values, so no Kafka
/// toxic can leave the aim unchecked.
pub trait KafkaPipe: Default + Serialize {
    /// Run the toxic over one link's chunk stream, acting on the frames
    /// `aim` picks ([`Pipe::pipe`]'s contract).
    fn pipe(&self, aim: &Aim, stub: &mut Stub, state: &mut LinkState) -> impl Future<Output = PipeEnd> + Send;

    /// Values the toxic cannot act on, worded as [`Aim::validate`]'s.
    fn validate(&self, _aim: &Aim) -> Result<(), String> {
        Ok(())
    }

    /// A stream the toxic cannot act on, with this aim.
    fn validate_stream(&self, _aim: &Aim, _stream: Stream) -> Result<(), String> {
        Ok(())
    }
}

impl<T: KafkaPipe> Pipe for Aimed<T> {
    fn pipe(&self, stub: &mut Stub, state: &mut LinkState) -> impl Future<Output = PipeEnd> + Send {
        self.toxic.pipe(&self.aim, stub, state)
    }

    fn validate(&self) -> Result<(), String> {
        self.aim.validate()?;
        self.toxic.validate(&self.aim)
    }

    fn validate_stream(&self, stream: Stream) -> Result<(), String> {
        self.toxic.validate_stream(&self.aim, stream)
    }

    fn aim(&self) -> Option<&Aim> {
        Some(&self.aim)
    }
}

impl<'de, T: KafkaPipe + serde::de::DeserializeOwned> Deserialize<'de> for Aimed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let table = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let (aim, own): (serde_json::Map<_, _>, serde_json::Map<_, _>) =
            table.into_iter().partition(|(name, _)| AIM_ATTRIBUTES.contains(&name.as_str()));
        let own_names = match serde_json::to_value(T::default()) {
            Ok(serde_json::Value::Object(names)) => names.keys().cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        if let Some(unknown) = own.keys().find(|name| !own_names.contains(name)) {
            let accepted: Vec<&str> = own_names.iter().map(String::as_str).chain(AIM_ATTRIBUTES.iter().copied()).collect();
            return Err(D::Error::custom(format!("unknown attribute `{unknown}`; accepted: {}", accepted.join(", "))));
        }
        let aim = Aim::deserialize(serde_json::Value::Object(aim)).map_err(D::Error::custom)?;
        let toxic = T::deserialize(serde_json::Value::Object(own)).map_err(D::Error::custom)?;
        Ok(Aimed { aim, toxic })
    }
}

/// The schema of the flat table [`Aimed`]'s `Deserialize` reads: the aim's
/// properties and `T`'s side by side, unknown names refused, and `T`'s own
/// doc as the description (it says what the toxic does).
impl<T: JsonSchema> JsonSchema for Aimed<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Aimed_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let aim = Aim::json_schema(generator);
        let mut schema = T::json_schema(generator);
        let mut properties = aim.get("properties").and_then(|p| p.as_object()).cloned().unwrap_or_default();
        if let Some(own) = schema.get("properties").and_then(|p| p.as_object()) {
            properties.extend(own.clone());
        }
        let required: Vec<serde_json::Value> =
            [&aim, &schema].iter().filter_map(|s| s.get("required").and_then(|r| r.as_array())).flatten().cloned().collect();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), properties.into());
        schema.insert("additionalProperties".into(), false.into());
        if !required.is_empty() {
            schema.insert("required".into(), required.into());
        }
        schema
    }
}

#[cfg(test)]
#[path = "aim_tests.rs"]
mod tests;
