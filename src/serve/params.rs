//! The query parameters of /api/v1/send and /api/v1/status, checked by hand
//! so that every problem names the parameter and what it accepts.
//!
//! Unknown parameters are rejected (400), not ignored: a misspelt optional
//! one (`partiton=2`) would otherwise silently send the message somewhere
//! else than asked. A parameter given twice is rejected too.

use serde::Serialize;

pub use super::config::Mode;
use super::problem::{InvalidParam, Problem};

pub const DEFAULT_TOPIC: &str = "bhf-transactions";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SendMode {
    Sync,
    Async,
}

impl SendMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SendMode::Sync => "sync",
            SendMode::Async => "async",
        }
    }
}

/// A checked /api/v1/send request.
#[derive(Debug, Clone, PartialEq)]
pub struct SendParams {
    pub mode: Mode,
    pub event_id: String,
    pub topic: String,
    pub send_mode: SendMode,
    pub key: String,
    pub partition: Option<i32>,
}

const SEND_PARAMS: &[&str] = &["mode", "eventId", "topic", "sendMode", "key", "partition"];
const STATUS_PARAMS: &[&str] = &["requestId"];

/// Decode a query string, rejecting unknown and repeated names.
fn decode(raw: Option<&str>, accepted: &[&str], problems: &mut Vec<InvalidParam>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let (name, value) = (name.into_owned(), value.into_owned());
        if !accepted.contains(&name.as_str()) {
            let hint = accepted.iter().find(|a| a.eq_ignore_ascii_case(&name)).map(|a| format!(" (did you mean {a}?)")).unwrap_or_default();
            problems
                .push(InvalidParam { name: name.clone(), reason: format!("unknown parameter{hint}; accepted: {}", accepted.join(", ")) });
        } else if pairs.iter().any(|(n, _)| *n == name) {
            if !problems.iter().any(|p| p.name == name) {
                problems.push(InvalidParam { name: name.clone(), reason: "given more than once; accepted: once".into() });
            }
        } else {
            pairs.push((name, value));
        }
    }
    pairs
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn problem(problems: &mut Vec<InvalidParam>, name: &str, reason: impl Into<String>) {
    problems.push(InvalidParam { name: name.to_string(), reason: reason.into() });
}

/// Kafka's topic name rule: 1 to 249 of [a-zA-Z0-9._-], not "." or "..".
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl SendParams {
    pub fn parse(raw: Option<&str>) -> Result<Self, Problem> {
        let mut problems = Vec::new();
        let pairs = decode(raw, SEND_PARAMS, &mut problems);

        let mode = match get(&pairs, "mode") {
            None => {
                problem(&mut problems, "mode", "required; accepted: plain, idempotent");
                None
            }
            Some("plain") => Some(Mode::Plain),
            Some("idempotent") => Some(Mode::Idempotent),
            Some(other) => {
                problem(&mut problems, "mode", format!("{other:?} is not a mode; accepted: plain, idempotent"));
                None
            }
        };
        let event_id = match get(&pairs, "eventId") {
            None => {
                problem(&mut problems, "eventId", "required; accepted: any non-empty string");
                None
            }
            Some("") => {
                problem(&mut problems, "eventId", "empty; accepted: any non-empty string");
                None
            }
            Some(id) => Some(id.to_string()),
        };
        let topic = get(&pairs, "topic").unwrap_or(DEFAULT_TOPIC).to_string();
        if !valid_topic(&topic) {
            problem(
                &mut problems,
                "topic",
                format!(
                    "{topic:?} is not a Kafka topic name; accepted: 1 to 249 of a-z A-Z 0-9 . _ - (not . or ..), default {DEFAULT_TOPIC}"
                ),
            );
        }
        let send_mode = match get(&pairs, "sendMode") {
            None | Some("sync") => Some(SendMode::Sync),
            Some("async") => Some(SendMode::Async),
            Some(other) => {
                problem(&mut problems, "sendMode", format!("{other:?} is not a send mode; accepted: sync (default), async"));
                None
            }
        };
        let key = match get(&pairs, "key") {
            Some("") => {
                problem(&mut problems, "key", "empty; accepted: a non-empty string, or leave key out to use the eventId");
                None
            }
            Some(key) => Some(key.to_string()),
            None => event_id.clone(),
        };
        let partition = match get(&pairs, "partition") {
            None => Some(None),
            Some(text) => match text.parse::<i64>() {
                Ok(p) if (0..=i64::from(i32::MAX)).contains(&p) => Some(Some(p as i32)),
                Ok(_) => {
                    problem(&mut problems, "partition", format!("{text} is out of range; accepted: an integer from 0 to {}", i32::MAX));
                    None
                }
                Err(_) => {
                    problem(
                        &mut problems,
                        "partition",
                        format!("{text:?} is not an integer; accepted: an integer from 0 to {}, or leave partition out", i32::MAX),
                    );
                    None
                }
            },
        };

        match (mode, event_id, send_mode, key, partition) {
            (Some(mode), Some(event_id), Some(send_mode), Some(key), Some(partition)) if problems.is_empty() => {
                Ok(SendParams { mode, event_id, topic, send_mode, key, partition })
            }
            _ => Err(Problem::invalid_params(problems)),
        }
    }
}

/// The requestId of /api/v1/status.
pub fn parse_status(raw: Option<&str>) -> Result<String, Problem> {
    let mut problems = Vec::new();
    let pairs = decode(raw, STATUS_PARAMS, &mut problems);
    match get(&pairs, "requestId") {
        None => problem(
            &mut problems,
            "requestId",
            "required; accepted: a requestId returned by POST /api/v1/send?sendMode=async (or no query at all for the counts of every send)",
        ),
        Some("") => problem(&mut problems, "requestId", "empty; accepted: a requestId returned by POST /api/v1/send?sendMode=async"),
        Some(id) if problems.is_empty() => return Ok(id.to_string()),
        Some(_) => {}
    }
    Err(Problem::invalid_params(problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(raw: &str) -> Vec<String> {
        SendParams::parse(Some(raw)).unwrap_err().invalid_params.into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn defaults_fill_topic_send_mode_and_key() {
        let params = SendParams::parse(Some("mode=plain&eventId=a%22b%5Cc")).unwrap();
        assert_eq!(params.event_id, "a\"b\\c");
        assert_eq!(params.key, params.event_id);
        assert_eq!(params.topic, DEFAULT_TOPIC);
        assert_eq!(params.send_mode, SendMode::Sync);
        assert_eq!(params.partition, None);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        assert_eq!(names(""), ["mode", "eventId"]);
        assert_eq!(names("mode=fast&eventId=1&sendMode=later&partition=x"), ["mode", "sendMode", "partition"]);
        assert_eq!(names("mode=plain&eventId=1&partition=-1"), ["partition"]);
        assert_eq!(names("mode=plain&eventId=1&partiton=1"), ["partiton"]);
        assert_eq!(names("mode=plain&eventId=1&mode=idempotent"), ["mode"]);
        assert_eq!(names("mode=plain&eventId=1&topic=a/b"), ["topic"]);
        let problem = SendParams::parse(Some("mode=plain&eventid=1")).unwrap_err();
        assert!(problem.detail.contains("did you mean eventId?"), "{}", problem.detail);
    }

    #[test]
    fn status_needs_a_request_id() {
        assert_eq!(parse_status(Some("requestId=r1")).unwrap(), "r1");
        assert_eq!(parse_status(None).unwrap_err().invalid_params[0].name, "requestId");
        assert_eq!(parse_status(Some("requestId=r1&x=1")).unwrap_err().invalid_params[0].name, "x");
    }
}
