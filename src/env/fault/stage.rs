//! What an environment offers the backend faults to act on: its proxies,
//! its brokers, its brokers' responses. Each fault's `begin`/`end` is
//! written once against this trait; each backend's fault control (the
//! embedded proxy, [`crate::env::mock::MockFaults`],
//! [`crate::env::external::RemoteFaults`]) implements what it can.
//!
//! A capability a backend lacks keeps its default: starting it is refused
//! with the backend's own words ([`Stage::cannot`]); undoing it does
//! nothing, since a fault that could not start left nothing to undo.

use futures::future::BoxFuture;

use super::kafka::{ErrorName, RequestType};

/// A backend's environment, as the backend faults see it. Every method
/// that takes `fault` names it (its scenario `type`) in a refusal.
pub trait Stage: Send + Sync {
    /// Why `fault` cannot be played on this backend, in the backend's words.
    fn cannot(&self, fault: &str) -> anyhow::Error;

    /// Disable every proxy of the environment (Toxiproxy's enabled: false).
    fn proxies_down(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Enable every proxy again.
    fn proxies_up(&self) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Take broker `broker` down (connections closed and refused).
    fn stop_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = broker;
        refused(self.cannot(fault))
    }
    fn start_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (fault, broker);
        nothing()
    }
    /// Freeze broker `broker`: connections stay open, nothing answers.
    fn pause_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = broker;
        refused(self.cannot(fault))
    }
    fn unpause_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (fault, broker);
        nothing()
    }
    /// Hold back every response of broker `broker` by `rtt_ms`.
    fn delay_responses(&self, fault: &str, broker: i32, rtt_ms: u32) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (broker, rtt_ms);
        refused(self.cannot(fault))
    }
    /// Undo [`Stage::delay_responses`] of `broker` (set with `rtt_ms`).
    fn undelay_responses(&self, fault: &str, broker: i32, rtt_ms: u32) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (fault, broker, rtt_ms);
        nothing()
    }
    /// Move the leadership of `partition` (every partition of the run's
    /// topics when `None`) to broker `broker`.
    fn move_leaders(&self, fault: &str, broker: i32, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (broker, partition);
        refused(self.cannot(fault))
    }
    /// Leadership of `partition` (or every partition) back where it was.
    fn restore_leaders(&self, fault: &str, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (fault, partition);
        nothing()
    }
    /// Answer the next requests of type `request`, on any broker, with `errors` in turn.
    fn push_request_errors(&self, fault: &str, request: RequestType, errors: &[ErrorName]) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (request, errors);
        refused(self.cannot(fault))
    }
    /// Drop the errors still stacked for `request`.
    fn clear_request_errors(&self, fault: &str, request: RequestType) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (fault, request);
        nothing()
    }
}

/// A capability this backend lacks: refused, with why.
fn refused<'a>(why: anyhow::Error) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move { Err(why) })
}

/// Nothing to undo.
fn nothing<'a>() -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async { Ok(()) })
}
