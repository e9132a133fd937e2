//! timeout: let nothing through, and close the connection after `timeout`
//! milliseconds; with 0 (or less), never close it.
//!
//! As in Toxiproxy the data is dropped, not held: a connection under a
//! timeout toxic is a black hole. Removing the toxic closes every connection
//! it applied to (Toxiproxy's `Cleanup`; see
//! [`Pipe::on_removed`]), since
//! the stream it swallowed cannot be resumed. The clock starts when the
//! toxic first runs on the link and survives changes to other toxics; an
//! update of the toxic itself starts it again.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep_until};

use crate::pipe::{LinkState, Pipe};
use crate::stub::{CloseMode, PipeEnd, Stub};

/// Stops all data; closes the connection after `timeout` ms, or with 0 never (until the toxic is removed,
/// which closes it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeout {
    /// Milliseconds until the connection closes; 0 (the default): never.
    #[serde(default)]
    pub timeout: i64,
}

impl Pipe for Timeout {
    /// Toxiproxy's `Cleanup`: the stream this toxic swallowed cannot be
    /// resumed, so removing it closes the connection.
    fn on_removed(&self) -> Option<CloseMode> {
        Some(CloseMode::Graceful)
    }

    async fn pipe(&self, stub: &mut Stub, state: &mut LinkState) -> PipeEnd {
        let deadline =
            (self.timeout > 0).then(|| *state.deadline.get_or_insert_with(|| super::after(Instant::now(), super::millis(self.timeout))));
        loop {
            let closes = async {
                match deadline {
                    Some(deadline) => sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = closes => return PipeEnd::Close(CloseMode::Graceful),
                received = stub.recv() => match received {
                    Ok(_dropped) => {}
                    Err(end) => return end,
                },
            }
        }
    }
}
