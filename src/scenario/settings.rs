//! The librdkafka settings of a scenario, checked by librdkafka itself when
//! the file is validated: each producer's effective properties (or, for an
//! http producer of the in-process service, the service's) are given to a
//! producer that is created and dropped at once, with no broker to talk to.
//! librdkafka refuses unknown properties, bad values and contradictions
//! (`enable.idempotence=true` with `acks=1`) exactly as it would in the
//! run, so a file `validate` accepts never fails there for its settings.
//! A `client = "java"` producer's settings (librdkafka's names too) are
//! checked the same way and must then translate to the Java client's
//! (`super::java`); the Java client checks their values once more when the
//! run starts it.

use std::collections::BTreeMap;
use std::fmt;

use rdkafka::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::BaseProducer;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::limits::Exceeded;
use super::{Client, Preset, Scenario};
use crate::serve::config::{Mode, ServeConfig};

/// The first producer whose settings librdkafka refuses: the field is the
/// setting it names (`producers[1].settings."linger.ms"`, `client."acks"`);
/// for a contradiction between settings, the producer's `settings`, or its
/// `preset` when it has none.
pub fn check(scenario: &Scenario) -> Result<(), Exceeded> {
    for (i, producer) in scenario.producers.iter().enumerate() {
        let properties: Vec<(String, String)> = match producer.http() {
            None => scenario.effective_settings(producer).into_iter().collect(),
            Some(http) if http.url.is_none() => {
                let mode = if producer.preset == Preset::Idempotent { Mode::Idempotent } else { Mode::Plain };
                // with_client_settings was checked when the driver was read.
                let Ok(config) = ServeConfig::default().with_client_settings(&scenario.client) else { continue };
                config.mode_properties(mode)
            }
            // A service at a URL has its own configuration.
            Some(_) => continue,
        };
        let Err(error) = try_create(&properties) else {
            // A Java producer's settings, valid for librdkafka, must also
            // have a Java form.
            if producer.client == Client::Java
                && let Err(untranslatable) = scenario.java_settings(producer)
            {
                return Err(Exceeded { field: field_of(scenario, i, Some(&untranslatable.setting)), message: untranslatable.message });
            }
            continue;
        };
        let key = match &error {
            KafkaError::ClientConfig(_, _, key, _) => Some(key.as_str()),
            _ => None,
        };
        let field = field_of(scenario, i, key);
        let message = match error {
            KafkaError::ClientConfig(_, description, key, value) => format!(
                "{description} (\"{key}\" = \"{value}\"); accepted: the properties and values of librdkafka's \
                 CONFIGURATION.md"
            ),
            KafkaError::ClientCreation(description) => description,
            other => other.to_string(),
        };
        return Err(Exceeded { field, message: format!("librdkafka refuses producer `{}`'s settings: {message}", producer.name) });
    }
    Ok(())
}

/// Where producer `i`'s setting `key` is written: its own `settings`, else
/// `[client]`; for a contradiction between settings (no key), or the
/// preset's own setting, the producer's own settings if it has any, else
/// its preset.
fn field_of(scenario: &Scenario, i: usize, key: Option<&str>) -> String {
    let producer = &scenario.producers[i];
    match key {
        Some(key) if producer.settings.contains_key(key) => format!("producers[{i}].settings.\"{key}\""),
        Some(key) if scenario.client.contains_key(key) => format!("client.\"{key}\""),
        _ if !producer.settings.is_empty() => format!("producers[{i}].settings"),
        _ => format!("producers[{i}].preset"),
    }
}

/// Create (and drop) a producer with `properties` and no broker.
fn try_create(properties: &[(String, String)]) -> Result<(), KafkaError> {
    let mut config = ClientConfig::new();
    for (key, value) in properties {
        config.set(key, value);
    }
    // Nothing to connect to, and nothing to say about it: without
    // bootstrap.servers librdkafka only warns, and the level silences that.
    config.remove("bootstrap.servers");
    config.set_log_level(RDKafkaLogLevel::Emerg);
    config.create::<BaseProducer>().map(drop)
}

/// A librdkafka property value. librdkafka takes strings; the file may
/// write integers, floats and booleans too, which are kept as the string
/// librdkafka expects (`2000` -> `"2000"`, `true` -> `"true"`).
pub(super) struct SettingValue(String);

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

/// `deserialize_with` for a table of librdkafka properties (`[client]`,
/// a producer's `settings`): each value as the string librdkafka takes.
pub(super) fn values<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let values = BTreeMap::<String, SettingValue>::deserialize(d)?;
    Ok(values.into_iter().map(|(name, value)| (name, value.0)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn librdkafka_refuses_what_the_run_would() {
        assert!(try_create(&props(&[("acks", "all"), ("enable.idempotence", "true")])).is_ok());
        assert!(matches!(try_create(&props(&[("linger.ms", "soon")])), Err(KafkaError::ClientConfig(..))));
        assert!(matches!(try_create(&props(&[("no.such.setting", "1")])), Err(KafkaError::ClientConfig(..))));
        let contradiction = try_create(&props(&[("acks", "1"), ("enable.idempotence", "true")]));
        assert!(matches!(contradiction, Err(KafkaError::ClientCreation(_))), "{contradiction:?}");
    }

    #[test]
    fn a_bad_setting_is_named_where_it_is_written() {
        let text = |settings: &str| {
            format!(
                "name = \"s\"\ndescription = \"d\"\n[workload]\nmessages = 1\n[client]\n\"socket.timeout.ms\" = 2000\n\
                 [[producers]]\nname = \"p\"\npreset = \"plain\"\n[[producers]]\nname = \"i\"\npreset = \"idempotent\"\n{settings}\n"
            )
        };
        let load = |settings: &str| super::super::parse(&text(settings), std::path::Path::new("s.toml"));
        assert!(load("").is_ok());
        let bad = load("settings = { \"linger.ms\" = \"soon\" }").unwrap_err();
        assert_eq!(bad.field.as_deref(), Some("producers[1].settings.\"linger.ms\""), "{bad}");
        assert_eq!((bad.line, bad.column), (Some(13), Some(28)), "{bad}");
        let contradiction = load("settings = { acks = \"1\" }").unwrap_err();
        assert_eq!(contradiction.field.as_deref(), Some("producers[1].settings"), "{contradiction}");
        assert!(contradiction.to_string().contains("enable.idempotence"), "{contradiction}");
    }
}
