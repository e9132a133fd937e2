//! The service's settings from the course's KAFKA_* environment variables
//! (the same settings as flags: `cli::ServeArgs`), and the checks that
//! turn a bad value into a message naming the variable and what it accepts.
//! The librdkafka properties of each mode are decided here too.
//!
//! This module imports nothing else of the crate, so the scenario layer
//! below `serve` can check a file's `[client]` table against it (the
//! in-process service takes its settings from there) without depending on
//! the service itself (docs/architecture.md).

use std::net::SocketAddr;
use std::time::Duration;

/// The service's two producers (`mode=` of /api/v1/send).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// acks=1, enable.idempotence=false
    Plain,
    /// acks=all, enable.idempotence=true
    Idempotent,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Idempotent => "idempotent",
        }
    }
}

/// A setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{source_name}: {value:?} is not accepted; {accepted}")]
    Invalid { source_name: String, value: String, accepted: String },
}

/// Everything `faultlab serve` needs besides its listening socket.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// bootstrap.servers (KAFKA_BOOTSTRAP_SERVERS).
    pub bootstrap_servers: String,
    /// request.timeout.ms: the broker-side acknowledgement timeout (KAFKA_REQUEST_TIMEOUT_MS).
    pub request_timeout: Duration,
    /// message.timeout.ms, alias delivery.timeout.ms (KAFKA_DELIVERY_TIMEOUT_MS).
    pub delivery_timeout: Duration,
    /// socket.timeout.ms: when the client gives up on a request (KAFKA_SOCKET_TIMEOUT_MS).
    pub socket_timeout: Duration,
    /// retries (KAFKA_RETRIES).
    pub retries: u32,
    /// retry.backoff.ms (KAFKA_RETRY_BACKOFF_MS).
    pub retry_backoff: Duration,
    /// linger.ms (KAFKA_LINGER_MS).
    pub linger: Duration,
    /// Where the CLI binds; [`super::serve`] itself takes a bound listener.
    pub listen: SocketAddr,
    /// How many async send results are kept (FAULTLAB_STATUS_CAPACITY).
    pub status_capacity: usize,
    /// How long an async send result is kept (FAULTLAB_STATUS_TTL_MS).
    pub status_ttl: Duration,
    /// How long the shutdown waits for librdkafka to deliver what it holds
    /// before purging the rest (FAULTLAB_SHUTDOWN_FLUSH_MS).
    pub shutdown_flush: Duration,
    /// Further librdkafka properties for both producers (`--librdkafka KEY=VALUE`).
    /// acks and enable.idempotence are the modes' and cannot be set here.
    pub librdkafka: Vec<(String, String)>,
}

impl Default for ServeConfig {
    /// librdkafka's defaults, except the delivery timeout: 120 s (the Java
    /// client's delivery.timeout.ms) instead of 300 s. The shutdown flush
    /// waits 30 s: long enough for a healthy broker to take a full queue,
    /// short enough for a container's stop grace period to be raised to it.
    fn default() -> Self {
        ServeConfig {
            bootstrap_servers: "localhost:9092".into(),
            request_timeout: Duration::from_millis(30_000),
            delivery_timeout: Duration::from_millis(120_000),
            socket_timeout: Duration::from_millis(60_000),
            retries: i32::MAX as u32,
            retry_backoff: Duration::from_millis(100),
            linger: Duration::from_millis(5),
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            status_capacity: 10_000,
            status_ttl: Duration::from_secs(600),
            shutdown_flush: Duration::from_secs(30),
            librdkafka: Vec::new(),
        }
    }
}

/// One numeric setting: its variable, its flag and librdkafka's range.
struct Numeric {
    env: &'static str,
    flag: &'static str,
    min: u64,
    max: u64,
    unit: &'static str,
}

const REQUEST_TIMEOUT: Numeric =
    Numeric { env: "KAFKA_REQUEST_TIMEOUT_MS", flag: "--request-timeout-ms", min: 1, max: 900_000, unit: "milliseconds" };
// 0 would mean "never time out" to librdkafka, and shutdown could then wait forever.
const DELIVERY_TIMEOUT: Numeric =
    Numeric { env: "KAFKA_DELIVERY_TIMEOUT_MS", flag: "--delivery-timeout-ms", min: 1, max: 2_147_483_647, unit: "milliseconds" };
const SOCKET_TIMEOUT: Numeric =
    Numeric { env: "KAFKA_SOCKET_TIMEOUT_MS", flag: "--socket-timeout-ms", min: 10, max: 300_000, unit: "milliseconds" };
const RETRIES: Numeric = Numeric { env: "KAFKA_RETRIES", flag: "--retries", min: 0, max: 2_147_483_647, unit: "retries" };
const RETRY_BACKOFF: Numeric =
    Numeric { env: "KAFKA_RETRY_BACKOFF_MS", flag: "--retry-backoff-ms", min: 1, max: 300_000, unit: "milliseconds" };
const LINGER: Numeric = Numeric { env: "KAFKA_LINGER_MS", flag: "--linger-ms", min: 0, max: 900_000, unit: "milliseconds" };
const STATUS_CAPACITY: Numeric =
    Numeric { env: "FAULTLAB_STATUS_CAPACITY", flag: "--status-capacity", min: 1, max: 10_000_000, unit: "entries" };
const STATUS_TTL: Numeric =
    Numeric { env: "FAULTLAB_STATUS_TTL_MS", flag: "--status-ttl-ms", min: 1, max: 604_800_000, unit: "milliseconds" };
// 0 would purge at once; an hour is past any orchestrator's stop grace period.
const SHUTDOWN_FLUSH: Numeric =
    Numeric { env: "FAULTLAB_SHUTDOWN_FLUSH_MS", flag: "--shutdown-flush-ms", min: 1, max: 3_600_000, unit: "milliseconds" };
const LISTEN: (&str, &str) = ("FAULTLAB_LISTEN", "--listen");
const BOOTSTRAP: (&str, &str) = ("KAFKA_BOOTSTRAP_SERVERS", "--bootstrap-servers");

impl Numeric {
    fn parse(&self, source_name: &str, value: &str) -> Result<u64, ConfigError> {
        let invalid = || ConfigError::Invalid {
            source_name: source_name.to_string(),
            value: value.to_string(),
            accepted: format!("accepted: a whole number of {} from {} to {}", self.unit, self.min, self.max),
        };
        let number: u64 = value.trim().parse().map_err(|_| invalid())?;
        if number < self.min || number > self.max {
            return Err(invalid());
        }
        Ok(number)
    }
}

impl ServeConfig {
    /// Read the course's environment variables (and FAULTLAB_LISTEN,
    /// FAULTLAB_STATUS_CAPACITY, FAULTLAB_STATUS_TTL_MS, FAULTLAB_SHUTDOWN_FLUSH_MS); unset ones keep
    /// their [`Default`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok(), false)
    }

    /// Build from a lookup of settings by variable name. With `flags`,
    /// errors name the flag and its variable (for `cli::ServeArgs`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, flags: bool) -> Result<Self, ConfigError> {
        let name = |env: &str, flag: &str| if flags { format!("{flag} (or {env})") } else { env.to_string() };
        let mut config = ServeConfig::default();
        let number = |setting: &Numeric| -> Result<Option<u64>, ConfigError> {
            lookup(setting.env).map(|value| setting.parse(&name(setting.env, setting.flag), &value)).transpose()
        };
        let ms = |setting: &Numeric| Ok::<_, ConfigError>(number(setting)?.map(Duration::from_millis));
        if let Some(value) = lookup(BOOTSTRAP.0) {
            config.bootstrap_servers = parse_bootstrap(&name(BOOTSTRAP.0, BOOTSTRAP.1), &value)?;
        }
        if let Some(value) = lookup(LISTEN.0) {
            config.listen = value.trim().parse().map_err(|_| ConfigError::Invalid {
                source_name: name(LISTEN.0, LISTEN.1),
                value: value.clone(),
                accepted: "accepted: an IP address and port, e.g. 0.0.0.0:8080 or 127.0.0.1:8080".into(),
            })?;
        }
        config.request_timeout = ms(&REQUEST_TIMEOUT)?.unwrap_or(config.request_timeout);
        config.delivery_timeout = ms(&DELIVERY_TIMEOUT)?.unwrap_or(config.delivery_timeout);
        config.socket_timeout = ms(&SOCKET_TIMEOUT)?.unwrap_or(config.socket_timeout);
        config.retry_backoff = ms(&RETRY_BACKOFF)?.unwrap_or(config.retry_backoff);
        config.linger = ms(&LINGER)?.unwrap_or(config.linger);
        config.status_ttl = ms(&STATUS_TTL)?.unwrap_or(config.status_ttl);
        config.shutdown_flush = ms(&SHUTDOWN_FLUSH)?.unwrap_or(config.shutdown_flush);
        if let Some(retries) = number(&RETRIES)? {
            config.retries = retries as u32;
        }
        if let Some(capacity) = number(&STATUS_CAPACITY)? {
            config.status_capacity = capacity as usize;
        }
        Ok(config)
    }

    /// Apply a scenario's `[client]` librdkafka properties (for the service
    /// faultlab starts in process for http producers): the settings the
    /// service has fields for go there (so aliases cannot clash), the rest
    /// become extra properties. bootstrap.servers, acks and
    /// enable.idempotence are refused: the run and the mode decide them.
    pub fn with_client_settings(mut self, settings: &std::collections::BTreeMap<String, String>) -> Result<Self, ConfigError> {
        for (key, value) in settings {
            let source_name = format!("[client] \"{key}\"");
            let ms = |setting: &Numeric| setting.parse(&source_name, value).map(Duration::from_millis);
            match key.as_str() {
                "request.timeout.ms" => self.request_timeout = ms(&REQUEST_TIMEOUT)?,
                "message.timeout.ms" | "delivery.timeout.ms" => self.delivery_timeout = ms(&DELIVERY_TIMEOUT)?,
                "socket.timeout.ms" => self.socket_timeout = ms(&SOCKET_TIMEOUT)?,
                "retry.backoff.ms" => self.retry_backoff = ms(&RETRY_BACKOFF)?,
                "linger.ms" | "queue.buffering.max.ms" => self.linger = ms(&LINGER)?,
                "retries" | "message.send.max.retries" => self.retries = RETRIES.parse(&source_name, value)? as u32,
                "bootstrap.servers" | "metadata.broker.list" | "acks" | "request.required.acks" | "enable.idempotence" => {
                    return Err(ConfigError::Invalid {
                        source_name,
                        value: value.clone(),
                        accepted: "the service's producers take bootstrap.servers from the run and acks and \
                                   enable.idempotence from their mode (the producer's preset); leave it out"
                            .into(),
                    });
                }
                _ => self.librdkafka.push((key.clone(), value.clone())),
            }
        }
        Ok(self)
    }

    /// The librdkafka properties of one mode: the shared ones, then the mode's.
    pub fn mode_properties(&self, mode: Mode) -> Vec<(String, String)> {
        let mut properties = self.common_properties();
        let own: [(&str, &str); 2] = match mode {
            Mode::Plain => [("acks", "1"), ("enable.idempotence", "false")],
            Mode::Idempotent => [("acks", "all"), ("enable.idempotence", "true")],
        };
        properties.extend(own.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        properties
    }

    /// The librdkafka properties both modes share (bootstrap, timeouts,
    /// retries, linger, then the extra properties).
    pub fn common_properties(&self) -> Vec<(String, String)> {
        let ms = |d: Duration| d.as_millis().to_string();
        let mut properties = vec![
            ("bootstrap.servers".to_string(), self.bootstrap_servers.clone()),
            ("request.timeout.ms".to_string(), ms(self.request_timeout)),
            ("message.timeout.ms".to_string(), ms(self.delivery_timeout)),
            ("socket.timeout.ms".to_string(), ms(self.socket_timeout)),
            ("retries".to_string(), self.retries.to_string()),
            ("retry.backoff.ms".to_string(), ms(self.retry_backoff)),
            // librdkafka refuses a backoff above its maximum backoff (1 s by default).
            ("retry.backoff.max.ms".to_string(), ms(self.retry_backoff.max(Duration::from_secs(1)))),
            ("linger.ms".to_string(), ms(self.linger)),
        ];
        properties.extend(self.librdkafka.iter().cloned());
        properties
    }
}

fn parse_bootstrap(source_name: &str, value: &str) -> Result<String, ConfigError> {
    let servers: Vec<&str> = value.split(',').map(str::trim).collect();
    let valid =
        |server: &&str| server.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if servers.is_empty() || !servers.iter().all(valid) {
        return Err(ConfigError::Invalid {
            source_name: source_name.to_string(),
            value: value.to_string(),
            accepted: "accepted: comma-separated host:port pairs, e.g. kafka:9092 or toxiproxy:19092,localhost:9092".into(),
        });
    }
    Ok(servers.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn unset_variables_keep_the_defaults() {
        assert_eq!(ServeConfig::from_lookup(lookup(&[]), false).unwrap(), ServeConfig::default());
    }

    #[test]
    fn the_course_variables_are_read() {
        let config = ServeConfig::from_lookup(
            lookup(&[
                ("KAFKA_BOOTSTRAP_SERVERS", "toxiproxy:19092"),
                ("KAFKA_REQUEST_TIMEOUT_MS", "1000"),
                ("KAFKA_DELIVERY_TIMEOUT_MS", "5000"),
                ("KAFKA_RETRY_BACKOFF_MS", "200"),
                ("KAFKA_RETRIES", "3"),
                ("KAFKA_LINGER_MS", "0"),
                ("KAFKA_SOCKET_TIMEOUT_MS", "1000"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(config.bootstrap_servers, "toxiproxy:19092");
        assert_eq!(config.request_timeout, Duration::from_secs(1));
        assert_eq!(config.delivery_timeout, Duration::from_secs(5));
        assert_eq!(config.retry_backoff, Duration::from_millis(200));
        assert_eq!(config.retries, 3);
        assert_eq!(config.linger, Duration::ZERO);
        assert_eq!(config.socket_timeout, Duration::from_secs(1));
    }

    #[test]
    fn bad_values_name_the_variable_and_the_range() {
        let error = ServeConfig::from_lookup(lookup(&[("KAFKA_SOCKET_TIMEOUT_MS", "5")]), false).unwrap_err().to_string();
        assert_eq!(error, r#"KAFKA_SOCKET_TIMEOUT_MS: "5" is not accepted; accepted: a whole number of milliseconds from 10 to 300000"#);
        let error = ServeConfig::from_lookup(lookup(&[("KAFKA_RETRIES", "many")]), false).unwrap_err().to_string();
        assert!(error.starts_with("KAFKA_RETRIES: \"many\""), "{error}");
        let error = ServeConfig::from_lookup(lookup(&[("KAFKA_BOOTSTRAP_SERVERS", "kafka")]), false).unwrap_err().to_string();
        assert!(error.contains("host:port"), "{error}");
        for bad in ["0", "-5", "soon", "3600001", "1.5"] {
            let error = ServeConfig::from_lookup(lookup(&[("FAULTLAB_SHUTDOWN_FLUSH_MS", bad)]), false).unwrap_err().to_string();
            assert_eq!(
                error,
                format!("FAULTLAB_SHUTDOWN_FLUSH_MS: {bad:?} is not accepted; accepted: a whole number of milliseconds from 1 to 3600000")
            );
        }
        let config = ServeConfig::from_lookup(lookup(&[("FAULTLAB_SHUTDOWN_FLUSH_MS", "1500")]), false).unwrap();
        assert_eq!(config.shutdown_flush, Duration::from_millis(1500));
    }
}
