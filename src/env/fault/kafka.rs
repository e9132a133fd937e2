//! Kafka's own names that a scenario file uses: the request types a
//! `request_errors` fault can fail (with their API keys, from Kafka's
//! protocol) and the errors it can answer with. They are that fault's
//! vocabulary (the scenario re-exports them as `scenario::kafka`); each
//! backend that plays it maps them (the mock to librdkafka's error codes,
//! `env::mock`).
//!
//! A file writes them in snake_case (`list_offsets`, `not_leader_or_follower`)
//! or as Kafka does (`ListOffsets`, `NOT_LEADER_OR_FOLLOWER`); an unknown
//! name is refused with the nearest one and every accepted name.

use std::fmt;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use strum::{IntoStaticStr, VariantArray};

use crate::hint::did_you_mean;
use crate::proxy::kafka::names::ApiKey;

/// A request type by the name a scenario uses (Kafka's API name in
/// snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestType {
    Produce,
    Fetch,
    ListOffsets,
    Metadata,
    FindCoordinator,
    ApiVersions,
    InitProducerId,
}

impl RequestType {
    /// Its API key, from Kafka's own table of requests (the proxy's
    /// [`ApiKey`], read from tansu-sans-io); every variant is one of Kafka's
    /// API names, which a test checks.
    pub fn api_key(self) -> i16 {
        ApiKey::parse(self.into()).map(|key| key.0).expect("every RequestType is a Kafka API name")
    }
}

/// An error by the name a scenario uses: Kafka's error name in lower case,
/// or `transport` (the connection dropped instead of an answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorName {
    Transport,
    CorruptMessage,
    UnknownTopicOrPartition,
    LeaderNotAvailable,
    NotLeaderOrFollower,
    RequestTimedOut,
    NetworkException,
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    OutOfOrderSequenceNumber,
    ThrottlingQuotaExceeded,
}

impl<'de> Deserialize<'de> for RequestType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        named(deserializer, "request type")
    }
}

impl<'de> Deserialize<'de> for ErrorName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        named(deserializer, "error")
    }
}

/// One of `T`'s variants by name, compared without case and underscores
/// so Kafka's spellings are taken too. serde's derive would take only the
/// snake_case name, hence this by hand. The name is checked inside the
/// visitor so that toml gives the error the value's own span (an element
/// of `errors`, not the whole array).
fn named<'de, D, T>(deserializer: D, what: &'static str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: VariantArray + Copy + Into<&'static str>,
{
    deserializer.deserialize_str(Named::<T> { what, variants: PhantomData })
}

struct Named<T> {
    what: &'static str,
    variants: PhantomData<T>,
}

impl<T: VariantArray + Copy + Into<&'static str>> Visitor<'_> for Named<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} name", self.what)
    }

    fn visit_str<E: de::Error>(self, written: &str) -> Result<T, E> {
        let squash = |s: &str| s.chars().filter(|c| *c != '_').collect::<String>().to_ascii_lowercase();
        let wanted = squash(written);
        if let Some(found) = T::VARIANTS.iter().find(|v| squash((**v).into()) == wanted) {
            return Ok(*found);
        }
        let names = || T::VARIANTS.iter().map(|v| (*v).into());
        let hint = did_you_mean(&written.to_ascii_lowercase(), names());
        let accepted: Vec<&str> = names().collect();
        Err(E::custom(format!("unknown {} `{written}`{hint} accepted: {}", self.what, accepted.join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_serdes_and_kafkas_spelling_is_taken() {
        for request in RequestType::VARIANTS {
            let name: &str = (*request).into();
            assert_eq!(serde_json::to_value(request).unwrap(), name);
            assert_eq!(serde_json::from_value::<RequestType>(name.into()).unwrap(), *request);
        }
        for error in ErrorName::VARIANTS {
            let name: &str = (*error).into();
            assert_eq!(serde_json::from_value::<ErrorName>(name.to_ascii_uppercase().into()).unwrap(), *error);
        }
        assert_eq!(serde_json::from_value::<RequestType>("ListOffsets".into()).unwrap(), RequestType::ListOffsets);
        let keys: Vec<i16> = RequestType::VARIANTS.iter().map(|r| r.api_key()).collect();
        assert_eq!(keys, [0, 1, 2, 3, 10, 18, 22], "Kafka's API keys");
        let unknown = serde_json::from_value::<ErrorName>("not_leader".into()).unwrap_err().to_string();
        assert!(unknown.starts_with("unknown error `not_leader`"), "{unknown}");
        assert!(unknown.contains("not_leader_or_follower, request_timed_out"), "{unknown}");
    }
}
