//! limit_data: pass exactly `bytes` bytes on this stream, then close the
//! connection.
//!
//! The count is kept per link for as long as the toxic stays, across
//! updates (Toxiproxy's stateful toxic), so raising `bytes` on an open
//! connection lets that many more through in total. As in Toxiproxy the
//! close comes when a chunk reaches the limit, so with `bytes` 0 the
//! connection closes when the first data arrives, not before.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::pipe::{LinkState, Pipe};
use crate::stub::{CloseMode, PipeEnd, Stub};

/// Closes the connection once `bytes` bytes have passed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitData {
    /// Bytes passed before the connection closes (default 0).
    #[serde(default)]
    pub bytes: i64,
}

impl Pipe for LimitData {
    async fn pipe(&self, stub: &mut Stub, state: &mut LinkState) -> PipeEnd {
        let limit = self.bytes.max(0) as u64;
        loop {
            let mut chunk = match stub.recv().await {
                Ok(chunk) => chunk,
                Err(end) => return end,
            };
            let remaining = limit.saturating_sub(state.bytes);
            if (chunk.len() as u64) > remaining {
                chunk = chunk.split_to(remaining as usize);
            }
            state.bytes += chunk.len() as u64;
            stub.send(chunk);
            if state.bytes >= limit {
                return PipeEnd::Close(CloseMode::Graceful);
            }
        }
    }
}
