//! `broker_rtt`: every response of one broker is held back until the
//! fault ends.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Backend, Stage};
use crate::env::backend::MAX_BROKERS;

pub const NAME: &str = "broker_rtt";
/// The mock has a round-trip time setting; docker and local have one
/// proxy per broker to put a latency toxic on.
pub const BACKENDS: &[Backend] = &[Backend::Mock, Backend::Docker, Backend::Local];

/// `{ broker = 1, rtt = 500 }` (milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerRtt {
    /// The broker's id, 1 to the scenario's `brokers` (mock broker ids; docker and local node.id).
    #[schemars(range(min = 1, max = MAX_BROKERS))]
    pub broker: i32,
    /// Milliseconds each response is held back.
    pub rtt: u32,
}

pub fn broker(rtt: &BrokerRtt) -> Option<i32> {
    Some(rtt.broker)
}

pub async fn begin(stage: &dyn Stage, rtt: &BrokerRtt) -> anyhow::Result<()> {
    stage.delay_responses(NAME, rtt.broker, rtt.rtt).await
}

pub async fn end(stage: &dyn Stage, rtt: &BrokerRtt) -> anyhow::Result<()> {
    stage.undelay_responses(NAME, rtt.broker, rtt.rtt).await
}
