//! reset_peer: when data first comes on this stream, drop it, wait
//! `timeout` milliseconds, and reset the connection: both sockets close
//! with SO_LINGER 0, so each peer sees an RST (ECONNRESET), not a FIN.
//!
//! Toxiproxy's behaviour, kept: the clock starts at the first chunk (or at
//! the end of the stream, if it ends first), not when the connection opens,
//! so with `timeout` 0 the connection resets as soon as data flows; and once
//! started, the reset happens even if the toxic is changed or removed in
//! the meantime (Toxiproxy's pipe does not listen for interrupts while it
//! waits). Nothing after the first chunk is passed on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::time::sleep;

use crate::pipe::{LinkState, Pipe};
use crate::stub::{CloseMode, PipeEnd, Stub};

/// Resets the connection (TCP RST) `timeout` ms after the first data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPeer {
    /// Milliseconds from the first data to the reset (default 0).
    #[serde(default)]
    pub timeout: i64,
}

impl Pipe for ResetPeer {
    async fn pipe(&self, stub: &mut Stub, _state: &mut LinkState) -> PipeEnd {
        // The first chunk (dropped) or the end of the stream starts the clock.
        if let Err(PipeEnd::Interrupted) = stub.recv().await {
            return PipeEnd::Interrupted;
        }
        sleep(super::millis(self.timeout)).await;
        PipeEnd::Close(CloseMode::Reset)
    }
}
