//! kafka_error: the client is told `error_code` (Kafka's name, such as
//! `NOT_LEADER_OR_FOLLOWER`, or its number) for the aimed requests.
//!
//! Which stream it is on says whether the write happened:
//! - upstream, the request never reaches the broker: the proxy answers it
//!   itself (Produce and InitProducerId requests), in its place among the
//!   connection's responses. Nothing was written.
//! - downstream, the broker has done the work and its response has its
//!   error codes replaced (any API; in a Produce response, those of the
//!   aimed topic and partition only): the client is told it failed when it
//!   did not, and a retried Produce writes its batch again unless the
//!   producer is idempotent.
//!
//! A frame that cannot be decoded or answered is forwarded as it is, with
//! a warning.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aim::{Aim, KafkaPipe};
use crate::pipe::{LinkState, Stream};
use crate::protocol::answer;
use crate::protocol::names::ErrorCode;
use crate::stub::{PipeEnd, Stub};
use faultlab_audit::wire::Effect;

/// Kafka: the client is told `error_code` for the aimed requests; upstream the request never reaches the
/// broker (Produce and InitProducerId), downstream the broker did the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaError {
    /// Kafka's name of the error (default NOT_LEADER_OR_FOLLOWER), or its number.
    #[serde(default = "not_leader")]
    #[schemars(with = "String")]
    pub error_code: ErrorCode,
}

/// The error a broker gives when its leadership moved: every client
/// retries it after a metadata refresh.
fn not_leader() -> ErrorCode {
    ErrorCode(6)
}

impl Default for KafkaError {
    fn default() -> KafkaError {
        KafkaError { error_code: not_leader() }
    }
}

impl KafkaPipe for KafkaError {
    /// On the upstream stream the proxy answers the requests itself, which
    /// it can do for some APIs only.
    fn validate_stream(&self, aim: &Aim, stream: Stream) -> Result<(), String> {
        if stream == Stream::Downstream || answer::ANSWERED.contains(&aim.api_key) {
            return Ok(());
        }
        Err(format!(
            "attributes.api_key: on the upstream stream the proxy answers the request itself, which it can for {} only, \
             not {}; on the downstream stream the broker answers and any API's error codes can be replaced",
            answer::ANSWERED.map(|k| k.name()).join(" and "),
            aim.api_key
        ))
    }

    async fn pipe(&self, aim: &Aim, stub: &mut Stub, state: &mut LinkState) -> PipeEnd {
        let code = self.error_code;
        loop {
            let mut chunk = match stub.recv().await {
                Ok(chunk) => chunk,
                Err(end) => return end,
            };
            let Some(frame) = chunk.frame.filter(|_| aim.picks(&chunk, stub, state)) else {
                stub.send(chunk);
                continue;
            };
            if frame.response {
                match answer::with_error_code(&chunk.data, &frame, code, aim) {
                    Ok(replaced) => {
                        chunk.data = replaced;
                        if let Some(session) = &state.session {
                            session.note(frame.correlation_id, aim, "kafka_error", Effect::ErrorAfterWrite { error_code: code.0 });
                        }
                    }
                    Err(e) => tracing::warn!("kafka_error forwards a response unchanged: {e}"),
                }
                stub.send(chunk);
                continue;
            }
            let answered = answer::error_response(&chunk.data, code).and_then(|response| match &state.session {
                Some(session) if session.answer(frame.correlation_id, response) => Ok(()),
                _ => Err("the request expects no response".to_string()),
            });
            if let Err(e) = answered {
                tracing::warn!("kafka_error forwards a request it cannot answer: {e}");
                stub.send(chunk);
            }
        }
    }
}
