//! kafka_ack_loss: the broker gets the request and writes it, and its
//! response, the acknowledgement, is lost on the way back. Then the
//! connection is closed (`connection = "close"`, the default), reset
//! (`"reset"`), or kept with the response simply missing (`"keep"`: the
//! client waits for its request timeout).
//!
//! This is how a retry writes a batch twice: the client cannot tell a
//! lost acknowledgement from a lost request, so it sends the batch again.
//! A plain producer's broker writes it again (a duplicate); an idempotent
//! producer's broker sees the same producer id and sequence and answers
//! with the first write's offset. It acts on responses, so it goes on the
//! downstream stream; which requests' responses is its aim
//! ([`crate::aim`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aim::{Aim, KafkaPipe};
use crate::pipe::{LinkState, Stream};
use crate::stub::{CloseMode, PipeEnd, Stub};
use faultlab_audit::wire::Effect;

/// Kafka: the aimed requests are written by the broker and their responses lost, then the connection closed:
/// the retry writes the batch again unless the producer is idempotent. Downstream only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AckLoss {
    /// After a lost response: `close` (default), `reset`, or `keep` (the client times out).
    #[serde(default)]
    pub connection: AfterLoss,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AfterLoss {
    #[default]
    Close,
    Reset,
    Keep,
}

impl KafkaPipe for AckLoss {
    /// A lost acknowledgement is a response's: upstream there is none.
    fn validate_stream(&self, _aim: &Aim, stream: Stream) -> Result<(), String> {
        match stream {
            Stream::Upstream => Err("stream: kafka_ack_loss loses responses, so it goes on the downstream stream".into()),
            Stream::Downstream => Ok(()),
        }
    }

    async fn pipe(&self, aim: &Aim, stub: &mut Stub, state: &mut LinkState) -> PipeEnd {
        loop {
            let chunk = match stub.recv().await {
                Ok(chunk) => chunk,
                Err(end) => return end,
            };
            if !aim.picks(&chunk, stub, state) {
                stub.send(chunk);
                continue;
            }
            if let (Some(session), Some(frame)) = (&state.session, &chunk.frame) {
                session.note(frame.correlation_id, aim, "kafka_ack_loss", Effect::ResponseLost);
            }
            tracing::info!("kafka_ack_loss drops a response ({:?}) and then {:?}s the connection", chunk.frame, self.connection);
            match self.connection {
                AfterLoss::Close => return PipeEnd::Close(CloseMode::Graceful),
                AfterLoss::Reset => return PipeEnd::Close(CloseMode::Reset),
                AfterLoss::Keep => {}
            }
        }
    }
}
