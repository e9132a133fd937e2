//! A `backends` list (at the top of a scenario, or in an `[[expect]]`),
//! checked as it is read so each error points at the list or at the name:
//! at least one name, each a backend's ([`Backend::names`]); a name given
//! twice counts once.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::error::did_you_mean;
use crate::env::Backend;

/// `#[serde(deserialize_with)]` of a list the file may leave out (the
/// field's default then applies: every backend).
pub(super) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_seq(Names)
}

/// [`list`] for an `Option` field.
pub(super) fn some<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    list(d).map(Some)
}

struct Names;

impl<'de> Visitor<'de> for Names {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of backend names ({})", Backend::names().join(", "))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut names = Vec::new();
        while let Some(BackendName(name)) = seq.next_element()? {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            return Err(de::Error::custom(format!(
                "an empty list runs nowhere; accepted: one or more of {}, or leave `backends` out to run everywhere",
                Backend::names().join(", ")
            )));
        }
        Ok(names)
    }
}

/// One name of the list, refused where it is written when no backend has it.
struct BackendName(String);

impl<'de> Deserialize<'de> for BackendName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Refused in the visitor, inside the value: so a TOML reader
        // gives the error the name's own span, not the list's.
        d.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl Visitor<'_> for NameVisitor {
    type Value = BackendName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a backend name ({})", Backend::names().join(", "))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<BackendName, E> {
        if Backend::from_name(name).is_none() {
            let hint = did_you_mean(name, Backend::names());
            return Err(E::custom(format!("unknown backend `{name}`{hint} accepted: {}", Backend::names().join(", "))));
        }
        Ok(BackendName(name.to_string()))
    }
}

/// The list's schema: backend names, at least one, no repeats.
pub(super) struct Backends;

impl JsonSchema for Backends {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Backends".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": { "enum": Backend::names() }, "uniqueItems": true, "minItems": 1 })
    }
}
