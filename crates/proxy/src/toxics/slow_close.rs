//! slow_close: pass data unchanged, but hold the end of the stream for
//! `delay` milliseconds.
//!
//! As in Toxiproxy, what is delayed is the close this stream passes on: on
//! the downstream stream, the client sees the server's close (or the close
//! that follows the client's own) `delay` ms late; on the upstream stream,
//! the server does. If the chain changes during the delay, the delay starts
//! over (Toxiproxy's pipe restarts the same way).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::time::sleep;

use crate::pipe::{LinkState, Pipe};
use crate::stub::{PipeEnd, Stub};

/// Holds back the close of the connection by `delay` ms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowClose {
    /// Milliseconds the close is held back (default 0).
    #[serde(default)]
    pub delay: i64,
}

impl Pipe for SlowClose {
    async fn pipe(&self, stub: &mut Stub, _state: &mut LinkState) -> PipeEnd {
        loop {
            match stub.recv().await {
                Ok(chunk) => stub.send(chunk),
                Err(PipeEnd::InputClosed) => {
                    return tokio::select! {
                        biased;
                        _ = stub.interruption() => PipeEnd::Interrupted,
                        _ = sleep(super::millis(self.delay)) => PipeEnd::InputClosed,
                    };
                }
                Err(end) => return end,
            }
        }
    }
}
