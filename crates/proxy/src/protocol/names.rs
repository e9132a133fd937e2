//! Kafka's names for API keys and error codes, as Kafka toxics take them:
//! `api_key = "produce"`, `error_code = "NOT_LEADER_OR_FOLLOWER"` (or the
//! numbers). Both lists come from the proxy's codec, `kafka-protocol`,
//! which is generated from Kafka's own message schemas and error table, so
//! there is no list here to keep up to date.

use std::fmt;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey as Known;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kafka API key, written by its name in snake case (`produce`,
/// `init_producer_id`, `find_coordinator`) or its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiKey(pub i16);

impl ApiKey {
    pub const PRODUCE: ApiKey = ApiKey(super::PRODUCE);

    /// Its name, or its number for a key the codec does not know.
    pub fn name(self) -> String {
        match Known::try_from(self.0) {
            Ok(known) => snake_case(&format!("{known:?}")),
            Err(()) => self.0.to_string(),
        }
    }

    pub fn parse(text: &str) -> Result<ApiKey, String> {
        if let Ok(number) = text.trim().parse::<i16>() {
            return Ok(ApiKey(number));
        }
        let wanted = text.trim().to_ascii_lowercase();
        let known: Vec<(i16, String)> = Known::iter().map(|k| (k as i16, ApiKey(k as i16).name())).collect();
        match known.iter().find(|(_, name)| *name == wanted) {
            Some(&(key, _)) => Ok(ApiKey(key)),
            None => Err(format!(
                "{text:?} is not a Kafka API key; accepted: a number or one of {}",
                known.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// A Kafka error code, written by Kafka's name for it
/// (`NOT_LEADER_OR_FOLLOWER`, in any case) or its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i16);

/// Kafka's error codes run from -1 (UNKNOWN_SERVER_ERROR) up; the codec
/// knows about 120 of them.
const ERROR_CODES: std::ops::RangeInclusive<i16> = -1..=1000;

impl ErrorCode {
    /// Kafka's name, or None for a code the codec does not know.
    pub fn name(self) -> Option<String> {
        match ResponseError::try_from_code(self.0) {
            // Kafka's name for no error.
            None => Some("NONE".into()),
            Some(ResponseError::Unknown(_)) => None,
            Some(known) => Some(snake_case(&format!("{known:?}")).to_ascii_uppercase()),
        }
    }

    pub fn parse(text: &str) -> Result<ErrorCode, String> {
        if let Ok(number) = text.trim().parse::<i16>() {
            return Ok(ErrorCode(number));
        }
        let wanted = text.trim().to_ascii_uppercase();
        let known = || ERROR_CODES.filter_map(|c| Some((c, ErrorCode(c).name()?)));
        match known().find(|(_, name)| *name == wanted) {
            Some((code, _)) => Ok(ErrorCode(code)),
            None => Err(format!(
                "{text:?} is not a Kafka error code; accepted: a number or Kafka's name of one, such as \
                 NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NETWORK_EXCEPTION, UNKNOWN_SERVER_ERROR"
            )),
        }
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// `NotLeaderOrFollower` -> `not_leader_or_follower`.
fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A name or a number, as a scenario file or a JSON body gives it.
#[derive(Deserialize)]
#[serde(untagged)]
enum NameOrNumber {
    Number(i64),
    Name(String),
}

impl NameOrNumber {
    fn text<E: serde::de::Error>(self) -> Result<String, E> {
        match self {
            NameOrNumber::Name(name) => Ok(name),
            NameOrNumber::Number(n) => {
                i16::try_from(n).map(|n| n.to_string()).map_err(|_| E::custom(format!("{n} is not a 16-bit number")))
            }
        }
    }
}

impl Serialize for ApiKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ApiKey::parse(&NameOrNumber::deserialize(d)?.text()?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(name) => s.serialize_str(&name),
            None => s.serialize_i16(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ErrorCode::parse(&NameOrNumber::deserialize(d)?.text()?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_by_name_and_number() {
        assert_eq!(ApiKey::parse("produce"), Ok(ApiKey(0)));
        assert_eq!(ApiKey::parse("Init_Producer_Id"), Ok(ApiKey(22)));
        assert_eq!(ApiKey::parse("find_coordinator"), Ok(ApiKey(10)));
        assert_eq!(ApiKey::parse("3"), Ok(ApiKey(3)));
        assert_eq!(ApiKey(0).name(), "produce");
        let error = ApiKey::parse("produce_request").unwrap_err();
        assert!(error.contains("not a Kafka API key") && error.contains("init_producer_id"), "{error}");
    }

    #[test]
    fn error_codes_by_kafkas_name_and_number() {
        assert_eq!(ErrorCode::parse("NOT_LEADER_OR_FOLLOWER"), Ok(ErrorCode(6)));
        assert_eq!(ErrorCode::parse("request_timed_out"), Ok(ErrorCode(7)));
        assert_eq!(ErrorCode::parse("-1"), Ok(ErrorCode(-1)));
        assert_eq!(ErrorCode(-1).name().as_deref(), Some("UNKNOWN_SERVER_ERROR"));
        assert_eq!(ErrorCode(6).to_string(), "NOT_LEADER_OR_FOLLOWER (6)");
        assert!(ErrorCode::parse("NOT_A_CODE").unwrap_err().contains("NOT_LEADER_OR_FOLLOWER"));
    }

    #[test]
    fn serde_writes_names_and_reads_both() {
        assert_eq!(serde_json::to_value(ErrorCode(6)).unwrap(), serde_json::json!("NOT_LEADER_OR_FOLLOWER"));
        assert_eq!(serde_json::from_value::<ErrorCode>(serde_json::json!(7)).unwrap(), ErrorCode(7));
        assert_eq!(serde_json::from_value::<ApiKey>(serde_json::json!("produce")).unwrap(), ApiKey(0));
        assert!(serde_json::from_value::<ApiKey>(serde_json::json!(70000)).is_err());
    }
}
