//! `faultlab serve`'s command-line flags: the same settings as the
//! environment variables, flags winning (clap reads the variable when the
//! flag is absent).

use crate::serve::{ConfigError, ServeConfig};

/// Parse one `--librdkafka KEY=VALUE`.
fn parse_property(value: &str) -> Result<(String, String), ConfigError> {
    let invalid = |accepted: &str| ConfigError::Invalid {
        source_name: "--librdkafka".into(),
        value: value.to_string(),
        accepted: accepted.to_string(),
    };
    let (key, setting) = value.split_once('=').ok_or_else(|| invalid("accepted: KEY=VALUE, e.g. compression.type=lz4"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(invalid("accepted: KEY=VALUE with a non-empty librdkafka property name"));
    }
    if matches!(key, "acks" | "request.required.acks" | "enable.idempotence") {
        return Err(invalid("acks and enable.idempotence belong to the mode (plain or idempotent) and cannot be set"));
    }
    Ok((key.to_string(), setting.trim().to_string()))
}

/// `faultlab serve`'s flags. Each falls back to its environment variable;
/// values are strings here so that a bad one is reported by
/// [`ServeArgs::into_config`] naming both the flag and the variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 0.0.0.0:8080]
    #[arg(long, env = "FAULTLAB_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Kafka bootstrap servers, host:port[,host:port...] [default: localhost:9092]
    #[arg(long, env = "KAFKA_BOOTSTRAP_SERVERS", value_name = "SERVERS")]
    pub bootstrap_servers: Option<String>,
    /// request.timeout.ms: the broker-side ack timeout [default: 30000]
    #[arg(long, env = "KAFKA_REQUEST_TIMEOUT_MS", value_name = "MS")]
    pub request_timeout_ms: Option<String>,
    /// message.timeout.ms (delivery.timeout.ms) [default: 120000]
    #[arg(long, env = "KAFKA_DELIVERY_TIMEOUT_MS", value_name = "MS")]
    pub delivery_timeout_ms: Option<String>,
    /// socket.timeout.ms: when the client gives up on a request and retries [default: 60000]
    #[arg(long, env = "KAFKA_SOCKET_TIMEOUT_MS", value_name = "MS")]
    pub socket_timeout_ms: Option<String>,
    /// retries [default: 2147483647]
    #[arg(long, env = "KAFKA_RETRIES", value_name = "N")]
    pub retries: Option<String>,
    /// retry.backoff.ms [default: 100]
    #[arg(long, env = "KAFKA_RETRY_BACKOFF_MS", value_name = "MS")]
    pub retry_backoff_ms: Option<String>,
    /// linger.ms [default: 5]
    #[arg(long, env = "KAFKA_LINGER_MS", value_name = "MS")]
    pub linger_ms: Option<String>,
    /// How many async send results /api/v1/status keeps [default: 10000]
    #[arg(long, env = "FAULTLAB_STATUS_CAPACITY", value_name = "N")]
    pub status_capacity: Option<String>,
    /// How long /api/v1/status keeps an async send result [default: 600000]
    #[arg(long, env = "FAULTLAB_STATUS_TTL_MS", value_name = "MS")]
    pub status_ttl_ms: Option<String>,
    /// How long the shutdown waits for deliveries before purging what is left [default: 30000]
    #[arg(long, env = "FAULTLAB_SHUTDOWN_FLUSH_MS", value_name = "MS")]
    pub shutdown_flush_ms: Option<String>,
    /// A further librdkafka property for both producers (repeatable), e.g. compression.type=lz4
    #[arg(long = "librdkafka", value_name = "KEY=VALUE")]
    pub librdkafka: Vec<String>,
}

impl ServeArgs {
    /// Check every value; an error names the flag, its variable and what is accepted.
    pub fn into_config(self) -> Result<ServeConfig, ConfigError> {
        let lookup = |env: &str| -> Option<String> {
            match env {
                "FAULTLAB_LISTEN" => self.listen.clone(),
                "KAFKA_BOOTSTRAP_SERVERS" => self.bootstrap_servers.clone(),
                "KAFKA_REQUEST_TIMEOUT_MS" => self.request_timeout_ms.clone(),
                "KAFKA_DELIVERY_TIMEOUT_MS" => self.delivery_timeout_ms.clone(),
                "KAFKA_SOCKET_TIMEOUT_MS" => self.socket_timeout_ms.clone(),
                "KAFKA_RETRIES" => self.retries.clone(),
                "KAFKA_RETRY_BACKOFF_MS" => self.retry_backoff_ms.clone(),
                "KAFKA_LINGER_MS" => self.linger_ms.clone(),
                "FAULTLAB_STATUS_CAPACITY" => self.status_capacity.clone(),
                "FAULTLAB_STATUS_TTL_MS" => self.status_ttl_ms.clone(),
                "FAULTLAB_SHUTDOWN_FLUSH_MS" => self.shutdown_flush_ms.clone(),
                _ => None,
            }
        };
        let mut config = ServeConfig::from_lookup(lookup, true)?;
        config.librdkafka = self.librdkafka.iter().map(|p| parse_property(p)).collect::<Result<_, _>>()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named_with_their_variable() {
        let args = ServeArgs { linger_ms: Some("-1".into()), ..ServeArgs::default() };
        let error = args.into_config().unwrap_err().to_string();
        assert!(error.starts_with(r#"--linger-ms (or KAFKA_LINGER_MS): "-1" is not accepted"#), "{error}");
        let args = ServeArgs { librdkafka: vec!["acks=0".into()], ..ServeArgs::default() };
        assert!(args.into_config().unwrap_err().to_string().contains("belong to the mode"));
    }
}
