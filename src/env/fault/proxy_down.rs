//! `proxy_down`: the proxy is disabled, as when the broker's host goes away.

use super::{Backend, Stage};

pub const NAME: &str = "proxy_down";
/// Every backend has a proxy to disable.
pub const BACKENDS: &[Backend] = &Backend::ALL;

pub fn broker() -> Option<i32> {
    None
}

pub async fn begin(stage: &dyn Stage) -> anyhow::Result<()> {
    stage.proxies_down().await
}

pub async fn end(stage: &dyn Stage) -> anyhow::Result<()> {
    stage.proxies_up().await
}
