//! A broker reachable without the proxy, for the direct baselines.
//!
//! The embedded environment's broker advertises its proxy, so every client
//! of it ends up going through the proxy whatever it bootstraps to. The
//! direct baseline needs a broker that advertises itself: the same tansu,
//! built the same way as in [`crate::env::embedded`], with its own address
//! advertised.

use std::time::Duration;

use anyhow::{Context, bail};
use tansu_broker::broker::Broker;
use tansu_broker::coordinator::group::administrator::Controller;
use tansu_storage::StorageContainer;
use tokio_util::task::AbortOnDropHandle;
use url::Url;

/// A tansu broker in this process, memory storage, advertising itself.
/// Stops when dropped.
pub struct DirectBroker {
    pub bootstrap: String,
    _serving: AbortOnDropHandle<()>,
}

impl DirectBroker {
    pub async fn start() -> anyhow::Result<DirectBroker> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?.local_addr()?.port();
        let address = Url::parse(&format!("tcp://127.0.0.1:{port}"))?;
        let mut broker = Broker::<Controller<StorageContainer>, StorageContainer>::builder()
            .node_id(0)
            .cluster_id(format!("faultlab-bench-{}", uuid::Uuid::new_v4().simple()))
            .incarnation_id(uuid::Uuid::new_v4())
            .advertised_listener(address.clone())
            .storage(Url::parse("memory://tansu/")?)
            .listener(address)
            .silent(true)
            .build()
            .await
            .map_err(|e| anyhow::anyhow!("building the direct tansu broker: {e}"))?;
        let serving = tokio::spawn(async move {
            if let Err(e) = broker.serve(tokio::time::Instant::now()).await {
                tracing::error!("direct bench broker stopped: {e}");
            }
        });
        let serving = AbortOnDropHandle::new(serving);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if tokio::time::Instant::now() > deadline {
                bail!("the direct broker did not listen on 127.0.0.1:{port} within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(DirectBroker { bootstrap: format!("127.0.0.1:{port}"), _serving: serving })
    }
}
