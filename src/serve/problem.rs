//! RFC 7807 problem responses (`application/problem+json`), and which HTTP
//! status each librdkafka failure becomes.
//!
//! | failure | status |
//! |---|---|
//! | a missing, invalid or unknown query parameter | 400 |
//! | the partition or topic does not exist on the cluster | 400 |
//! | an unknown requestId | 404 |
//! | librdkafka's queue is full (QueueFull) | 503 + Retry-After |
//! | the service is shutting down (refused, or purged when the flush ran out) | 503 |
//! | the async status store is full of PENDING entries | 503 + Retry-After |
//! | the message timed out (message.timeout.ms) | 504 |
//! | any other delivery failure | 502 |
//! | the producer could not be created (bad librdkafka property) | 500 |

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde::Serialize;
use serde_json::Value;

pub const PROBLEM_JSON: &str = "application/problem+json";
/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 1;

/// One parameter that was missing or wrong, RFC 7807's "invalid-params".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(rename = "invalid-params", skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
    /// librdkafka's own error text, for delivery failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:faultlab:problem:{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            invalid_params: Vec::new(),
            error: None,
            retry_after: None,
        }
    }

    /// 400 for one or more bad parameters; the detail lists every reason.
    pub fn invalid_params(params: Vec<InvalidParam>) -> Self {
        let detail = params.iter().map(|p| format!("{}: {}", p.name, p.reason)).collect::<Vec<_>>().join("; ");
        Problem {
            invalid_params: params,
            ..Problem::new(StatusCode::BAD_REQUEST, "invalid-parameter", "Invalid request parameters", detail)
        }
    }

    pub fn invalid_param(name: &str, reason: impl Into<String>) -> Self {
        Self::invalid_params(vec![InvalidParam { name: name.to_string(), reason: reason.into() }])
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 503: librdkafka's queue (queue.buffering.max.messages) is full.
    pub fn queue_full(error: &KafkaError) -> Self {
        let mut problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "queue-full",
            "The producer's queue is full",
            "librdkafka's local queue (queue.buffering.max.messages) is full; retry after a moment",
        )
        .retry_after(RETRY_AFTER_SECS);
        problem.error = Some(error.to_string());
        problem
    }

    /// 503: the shutdown flush is over; nothing more is handed to librdkafka.
    pub fn stopping() -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "The service is shutting down",
            "the shutdown flush (FAULTLAB_SHUTDOWN_FLUSH_MS) is over; the message was not sent",
        )
    }

    /// The response for a message librdkafka failed to deliver (or to enqueue).
    pub fn delivery(error: &KafkaError, topic: &str, partition: Option<i32>) -> Self {
        let code = error.rdkafka_error_code();
        let mut problem = match code {
            Some(RDKafkaErrorCode::QueueFull) => return Self::queue_full(error),
            Some(RDKafkaErrorCode::MessageTimedOut) => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "delivery-timeout",
                "The message was not acknowledged in time",
                "message.timeout.ms (KAFKA_DELIVERY_TIMEOUT_MS) expired; if the message was in flight it may still have been written",
            ),
            Some(code @ (RDKafkaErrorCode::PurgeQueue | RDKafkaErrorCode::PurgeInflight)) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "stopping",
                "The service shut down before Kafka acknowledged the message",
                if code == RDKafkaErrorCode::PurgeInflight {
                    "purged in flight when the shutdown flush (FAULTLAB_SHUTDOWN_FLUSH_MS) ran out: it was sent and may have been written"
                } else {
                    "purged from librdkafka's queue when the shutdown flush (FAULTLAB_SHUTDOWN_FLUSH_MS) ran out: not acknowledged; \
                     if it was waiting for a retry it may have been written"
                },
            ),
            Some(RDKafkaErrorCode::UnknownPartition) => {
                let p = partition.map(|p| p.to_string()).unwrap_or_default();
                Problem::invalid_param(
                    "partition",
                    format!("partition {p} does not exist in topic {topic}; accepted: 0 up to the topic's partition count minus 1"),
                )
            }
            Some(RDKafkaErrorCode::UnknownTopic | RDKafkaErrorCode::UnknownTopicOrPartition) => Problem::invalid_param(
                "topic",
                format!("topic {topic} does not exist on the cluster and was not created; accepted: an existing topic"),
            ),
            _ => {
                Problem::new(StatusCode::BAD_GATEWAY, "delivery-failed", "Kafka did not accept the message", format!("librdkafka: {error}"))
            }
        };
        problem.error = Some(error.to_string());
        problem
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a Problem always serialises")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry_after = self.retry_after;
        let mut response = (status, serde_json::to_string(&self).expect("a Problem always serialises")).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_failures_map_to_statuses() {
        let status = |code| Problem::delivery(&KafkaError::MessageProduction(code), "t", Some(7)).status;
        assert_eq!(status(RDKafkaErrorCode::MessageTimedOut), 504);
        assert_eq!(status(RDKafkaErrorCode::QueueFull), 503);
        assert_eq!(status(RDKafkaErrorCode::UnknownPartition), 400);
        assert_eq!(status(RDKafkaErrorCode::BrokerTransportFailure), 502);
        let problem = Problem::delivery(&KafkaError::MessageProduction(RDKafkaErrorCode::UnknownPartition), "t", Some(7));
        assert!(problem.detail.contains("partition 7 does not exist in topic t"), "{}", problem.detail);
    }
}
