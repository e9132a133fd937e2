//! `broker_pause`: one broker is frozen (connections open, no answers)
//! until the fault ends.

use super::broker_down::BrokerTarget;
use super::{Backend, Stage};

pub const NAME: &str = "broker_pause";
/// Those that can freeze a broker: docker pauses its container, local
/// stops its process (the mock has no such call).
pub const BACKENDS: &[Backend] = &[Backend::Docker, Backend::Local];

pub fn broker(target: &BrokerTarget) -> Option<i32> {
    Some(target.broker)
}

pub async fn begin(stage: &dyn Stage, target: &BrokerTarget) -> anyhow::Result<()> {
    stage.pause_broker(NAME, target.broker).await
}

pub async fn end(stage: &dyn Stage, target: &BrokerTarget) -> anyhow::Result<()> {
    stage.unpause_broker(NAME, target.broker).await
}
