//! `leader_change`: partition leadership moves to one broker, and back
//! when the fault ends.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Backend, Stage};
use crate::env::backend::MAX_BROKERS;

pub const NAME: &str = "leader_change";
/// The mock has an API for it; local runs Kafka's reassignment and
/// preferred-leader election (docker has no admin tooling wired in).
pub const BACKENDS: &[Backend] = &[Backend::Mock, Backend::Local];

/// `{ broker = 2 }` or `{ broker = 2, partition = 0 }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaderChange {
    /// The broker's id, 1 to the scenario's `brokers` (mock broker ids; docker and local node.id).
    #[schemars(range(min = 1, max = MAX_BROKERS))]
    pub broker: i32,
    /// One partition; leave it out for every partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // TOML has no null: the key is left out instead.
    #[schemars(with = "i32", range(min = 0))]
    pub partition: Option<i32>,
}

pub fn broker(change: &LeaderChange) -> Option<i32> {
    Some(change.broker)
}

pub async fn begin(stage: &dyn Stage, change: &LeaderChange) -> anyhow::Result<()> {
    stage.move_leaders(NAME, change.broker, change.partition).await
}

pub async fn end(stage: &dyn Stage, change: &LeaderChange) -> anyhow::Result<()> {
    stage.restore_leaders(NAME, change.partition).await
}
