//! `[[producers]]`: who sends, with which settings, by which driver.
//! These are the types the run uses, read from the file as they are
//! written; the JSON Schema is derived from them (their doc comments are
//! an editor's help). The name's form, which a report read back does not
//! need, and what needs the rest of the file (unique names, the http
//! driver's rules) are checked in `load.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::settings;

/// One producer: a name (used in reports and message values), a preset and
/// its own librdkafka overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Producer")]
pub struct ProducerSpec {
    /// Unique among the producers: lowercase letters a-z, digits, `-` and
    /// `_`. `[[expect]]` tables refer to it.
    #[schemars(extend("pattern" = "^[a-z0-9_-]+$"))]
    pub name: String,
    /// The reliability settings the producer starts from.
    pub preset: Preset,
    /// librdkafka properties for this producer only; they win over the
    /// preset and `[client]`. Quote the names: { "linger.ms" = 5 }.
    /// Not for `driver = "http"`: the service owns its producer.
    #[serde(default, deserialize_with = "settings::values")]
    #[schemars(with = "BTreeMap<String, settings::SettingValue>")]
    pub settings: BTreeMap<String, String>,
    /// How it sends (default "direct": a librdkafka producer inside
    /// faultlab). "http": each message goes through a producer service's
    /// POST /api/v1/send (the course's API), with `preset` as its `mode`
    /// (plain or idempotent), and is audited like a direct producer's.
    #[serde(default)]
    #[schemars(extend("default" = "direct"))]
    pub driver: Driver,
    /// Which Kafka client library sends (default "librdkafka"). "java":
    /// Apache Kafka's own Java producer (kafka-clients), run by faultlab in
    /// a JVM of its own; it needs Java and Kafka's jars (`scripts/provision`).
    /// Its settings are still written with librdkafka's names and
    /// translated to the Java client's (docs/architecture.md has the
    /// table). Not for `driver = "http"`: the service has its own client.
    #[serde(default)]
    #[schemars(extend("default" = "librdkafka"))]
    pub client: Client,
    /// `driver = "http"` only: the service's base URL, e.g.
    /// "http://127.0.0.1:8080", or "embedded" (the default): faultlab starts
    /// `faultlab serve` itself for the run, in front of the run's broker,
    /// with the `[client]` settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("default" = "embedded", "pattern" = "^(embedded|https?://.+)$"))]
    pub url: Option<String>,
    /// `driver = "http"` only: "sync" (default; the request waits for the
    /// delivery) or "async" (202 with a requestId, then /api/v1/status is
    /// polled until OK or ERROR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "HttpSendMode", extend("default" = "sync"))]
    pub send_mode: Option<HttpSendMode>,
}

impl ProducerSpec {
    /// How an http producer sends; `None` for a direct one.
    pub fn http(&self) -> Option<HttpDriver> {
        (self.driver == Driver::Http)
            .then(|| HttpDriver { url: self.url.clone().filter(|url| url != "embedded"), send_mode: self.send_mode.unwrap_or_default() })
    }
}

/// How a producer sends its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// A librdkafka producer inside faultlab.
    #[default]
    Direct,
    /// Through a producer service's POST /api/v1/send (the course's API).
    Http,
}

/// The Kafka client library a producer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Client {
    /// librdkafka (through rust-rdkafka), inside faultlab.
    #[default]
    Librdkafka,
    /// Apache Kafka's Java producer (kafka-clients), in a JVM faultlab starts.
    Java,
}

impl Client {
    pub const NAMES: &'static [&'static str] = &["librdkafka", "java"];

    pub fn as_str(self) -> &'static str {
        match self {
            Client::Librdkafka => "librdkafka",
            Client::Java => "java",
        }
    }
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An http producer: which service, and how it is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpDriver {
    /// The service's base URL; `None`: faultlab starts `faultlab serve` in
    /// process for the run, in front of the run's broker.
    pub url: Option<String>,
    pub send_mode: HttpSendMode,
}

/// The service's `sendMode`: wait for the delivery in the request, or get
/// a requestId and poll /api/v1/status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HttpSendMode {
    #[default]
    Sync,
    Async,
}

impl HttpSendMode {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpSendMode::Sync => "sync",
            HttpSendMode::Async => "async",
        }
    }
}

/// The reliability settings a producer starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// acks=1, no idempotence: the course's "before".
    Plain,
    /// acks=all, enable.idempotence=true: the course's "after".
    Idempotent,
    /// No settings of its own: librdkafka's defaults plus what the file says.
    None,
}

impl Preset {
    pub const NAMES: &'static [&'static str] = &["plain", "idempotent", "none"];

    /// The librdkafka properties this preset sets.
    pub fn settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Preset::Plain => &[("acks", "1"), ("enable.idempotence", "false")],
            Preset::Idempotent => &[("acks", "all"), ("enable.idempotence", "true")],
            Preset::None => &[],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Plain => "plain",
            Preset::Idempotent => "idempotent",
            Preset::None => "none",
        }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
