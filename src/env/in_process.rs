//! faultlab's proxy API served on a task of this process, for backends
//! whose faults go through a Toxiproxy API ([`super::external::RemoteFaults`])
//! but whose proxies are faultlab's own: the local backend's Kafka-mode
//! proxies, the external backend's front of a cluster. The rest of the
//! backend talks to it over HTTP, as it would to a Toxiproxy.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use crate::proxy::Registry;
use crate::toxiproxy::Client;

/// The API of `registry`'s proxies, serving on a free loopback port until
/// dropped; then every proxy stops.
pub(crate) struct InProcess {
    registry: Arc<Registry>,
    stop: CancellationToken,
    _serving: tokio::task::JoinHandle<()>,
}

impl InProcess {
    /// Serve `registry`'s API; the client to drive it and its `/version`.
    pub(crate) async fn serve(registry: Arc<Registry>) -> anyhow::Result<(InProcess, Client, String)> {
        let api = crate::proxy::api::bind_registry(([127, 0, 0, 1], 0).into(), registry.clone()).await?;
        let client = Client::new(&format!("http://{}", api.local_addr()));
        let stop = CancellationToken::new();
        let stopped = stop.clone().cancelled_owned();
        let serving = tokio::spawn(async move {
            // Serving ends with the environment; then every proxy is disabled.
            if let Err(e) = api.serve(stopped).await {
                tracing::warn!("faultlab's proxy API in this process: {e:#}");
            }
        });
        let server = InProcess { registry, stop, _serving: serving };
        // Served from here on; asked all the same, for the version the report shows.
        let version = client.wait_ready(Duration::from_secs(5)).await?;
        Ok((server, client, version))
    }

    /// The proxies it serves.
    pub(crate) fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        // The API stops listening, then disables every proxy, on its task.
        self.stop.cancel();
        // And now, without waiting for that task: every listener and
        // connection closes (unless the registry is busy this instant; the
        // task still disables them then).
        if let Some(proxies) = self.registry.list().now_or_never() {
            for proxy in proxies {
                proxy.shutdown();
            }
        }
    }
}
