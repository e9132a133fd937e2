//! The Java client's names for a scenario's settings. Presets, `[client]`
//! and `settings` are written with librdkafka's property names (one
//! vocabulary for every producer of a file); a producer with
//! `client = "java"` gets them translated here, by [`JAVA_NAMES`], the one
//! table of the translation. A setting the table does not name has no Java
//! counterpart faultlab knows, and is refused when the file is loaded.

use std::collections::BTreeMap;

/// librdkafka's property name, and the Java producer's property of the
/// same meaning (the values are written the same way in both clients).
/// librdkafka's aliases are listed with their main name.
pub const JAVA_NAMES: &[(&str, &str)] = &[
    ("acks", "acks"),
    ("request.required.acks", "acks"),
    ("enable.idempotence", "enable.idempotence"),
    ("max.in.flight.requests.per.connection", "max.in.flight.requests.per.connection"),
    ("max.in.flight", "max.in.flight.requests.per.connection"),
    ("retries", "retries"),
    ("message.send.max.retries", "retries"),
    ("retry.backoff.ms", "retry.backoff.ms"),
    ("retry.backoff.max.ms", "retry.backoff.max.ms"),
    ("linger.ms", "linger.ms"),
    ("queue.buffering.max.ms", "linger.ms"),
    // Bytes in both; Java puts one record per batch when it exceeds it.
    ("batch.size", "batch.size"),
    // How long a message may take, retries included, before it fails.
    ("message.timeout.ms", "delivery.timeout.ms"),
    ("delivery.timeout.ms", "delivery.timeout.ms"),
    // librdkafka's client-side request timeout; Java's request.timeout.ms
    // is the client side's, and also what it asks the broker to wait for
    // acks (librdkafka's request.timeout.ms): one Java setting for both.
    ("socket.timeout.ms", "request.timeout.ms"),
    ("request.timeout.ms", "request.timeout.ms"),
    ("compression.type", "compression.type"),
    ("compression.codec", "compression.type"),
    ("client.id", "client.id"),
    ("reconnect.backoff.ms", "reconnect.backoff.ms"),
    ("reconnect.backoff.max.ms", "reconnect.backoff.max.ms"),
    ("metadata.max.age.ms", "metadata.max.age.ms"),
    ("socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.ms"),
];

/// Why a producer's settings have no Java form: the librdkafka setting
/// at fault (where the file wrote it is the caller's to find) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untranslatable {
    pub setting: String,
    pub message: String,
}

/// The Java client's name for librdkafka's `setting`.
pub fn java_name(setting: &str) -> Option<&'static str> {
    JAVA_NAMES.iter().find(|(librdkafka, _)| *librdkafka == setting).map(|(_, java)| *java)
}

/// The Java producer's properties for a producer's effective librdkafka
/// `settings`: each translated by [`JAVA_NAMES`]. Refused: a setting with no
/// Java counterpart, and two settings that become the same Java property
/// with different values (`socket.timeout.ms` and `request.timeout.ms`).
pub fn java_properties(settings: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Untranslatable> {
    let mut properties = BTreeMap::new();
    let mut from: BTreeMap<&str, &str> = BTreeMap::new();
    for (setting, value) in settings {
        let Some(java) = java_name(setting) else {
            let accepted: Vec<&str> = JAVA_NAMES.iter().map(|(librdkafka, _)| *librdkafka).collect();
            let hint =
                crate::hint::closest(setting, accepted.iter().copied()).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
            return Err(Untranslatable {
                setting: setting.clone(),
                message: format!(
                    "librdkafka's `{setting}` has no counterpart in the Java client{hint}; accepted for client = \"java\": {}",
                    accepted.join(", ")
                ),
            });
        };
        if let Some(earlier) = from.get(java)
            && properties.get(java) != Some(value)
        {
            return Err(Untranslatable {
                setting: setting.clone(),
                message: format!(
                    "`{earlier}` = \"{}\" and `{setting}` = \"{value}\" are both the Java client's `{java}`; accepted for \
                     client = \"java\": the same value for both, or only one of them",
                    properties[java]
                ),
            });
        }
        from.insert(java, setting);
        properties.insert(java.to_string(), value.clone());
    }
    Ok(properties)
}
