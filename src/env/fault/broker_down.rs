//! `broker_down`: one broker goes down until the fault ends.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Backend, Stage};
use crate::env::backend::MAX_BROKERS;

pub const NAME: &str = "broker_down";
/// Those that control their brokers: the mock's own API, docker's
/// containers, local's processes.
pub const BACKENDS: &[Backend] = &[Backend::Mock, Backend::Docker, Backend::Local];

/// `{ broker = 1 }` (`broker_down`'s and `broker_pause`'s attributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerTarget {
    /// The broker's id, 1 to the scenario's `brokers` (mock broker ids; docker and local node.id).
    #[schemars(range(min = 1, max = MAX_BROKERS))]
    pub broker: i32,
}

pub fn broker(target: &BrokerTarget) -> Option<i32> {
    Some(target.broker)
}

pub async fn begin(stage: &dyn Stage, target: &BrokerTarget) -> anyhow::Result<()> {
    stage.stop_broker(NAME, target.broker).await
}

pub async fn end(stage: &dyn Stage, target: &BrokerTarget) -> anyhow::Result<()> {
    stage.start_broker(NAME, target.broker).await
}
