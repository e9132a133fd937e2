//! Playing faults on whichever proxy a backend provides: toxics directly,
//! backend faults through the backend's [`Stage`].

use futures::future::BoxFuture;

use super::{BackendFault, Stage};
use crate::proxy::{Proxy, ProxyError, Requests, Toxic};

/// A toxic removed.
#[derive(Debug)]
pub struct Removed {
    /// When it stopped acting on the bytes (which can be before the
    /// removal was done: see [`crate::env::external::RemoteFaults::remove`]).
    pub ended: tokio::time::Instant,
    /// What the report should say about a removal that did not go smoothly.
    pub notes: Vec<String>,
    /// A Kafka toxic's count of what it saw, matched and acted on, summed
    /// over the proxies it was on; None for other toxics, or where the
    /// proxy does not say (Toxiproxy).
    pub requests: Option<Requests>,
}

impl Removed {
    fn now(requests: Option<Requests>) -> Removed {
        Removed { ended: tokio::time::Instant::now(), notes: Vec::new(), requests }
    }
}

/// The sum of two proxies' counts of one toxic.
pub fn add_requests(a: Option<Requests>, b: Option<Requests>) -> Option<Requests> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Requests { seen: a.seen + b.seen, matched: a.matched + b.matched, acted: a.acted + b.acted }),
        (a, b) => a.or(b),
    }
}

/// The fault proxy of an environment. The embedded backend drives its
/// proxy directly, in process.
#[derive(Clone)]
pub enum FaultControl {
    Embedded(Proxy),
    /// librdkafka's mock cluster and one embedded proxy per mock broker.
    Mock(crate::env::mock::MockFaults),
    /// A Toxiproxy HTTP API (the external and Docker backends).
    Remote(crate::env::external::RemoteFaults),
}

impl FaultControl {
    /// Add a toxic; returns once every open connection applies it, so the
    /// fault's window starts when its bytes are affected, not before.
    pub async fn add(&self, toxic: &Toxic) -> anyhow::Result<()> {
        match self {
            FaultControl::Embedded(proxy) => {
                proxy.add_toxic(toxic.clone()).map_err(|e| fault_error(&toxic.name, e))?;
                proxy.settled().await;
                Ok(())
            }
            FaultControl::Mock(mock) => mock.add(toxic).await,
            FaultControl::Remote(remote) => remote.add(toxic).await,
        }
    }

    /// Remove a toxic; returns once it is gone, saying when it stopped
    /// acting on the bytes.
    pub async fn remove(&self, name: &str) -> anyhow::Result<Removed> {
        match self {
            FaultControl::Embedded(proxy) => {
                let requests = proxy.toxic_requests(name);
                proxy.remove_toxic(name).map_err(|e| fault_error(name, e))?;
                proxy.settled().await;
                Ok(Removed::now(requests))
            }
            FaultControl::Mock(mock) => mock.remove(name).await.map(Removed::now),
            FaultControl::Remote(remote) => remote.remove(name).await,
        }
    }

    /// Start a fault that is not a toxic.
    pub async fn begin(&self, fault: &BackendFault) -> anyhow::Result<()> {
        match self {
            FaultControl::Embedded(proxy) => fault.begin(&EmbeddedStage(proxy)).await,
            FaultControl::Mock(mock) => fault.begin(mock).await,
            FaultControl::Remote(remote) => fault.begin(remote).await,
        }
    }

    /// Undo [`FaultControl::begin`].
    pub async fn end(&self, fault: &BackendFault) -> anyhow::Result<()> {
        match self {
            FaultControl::Embedded(proxy) => fault.end(&EmbeddedStage(proxy)).await,
            FaultControl::Mock(mock) => fault.end(mock).await,
            FaultControl::Remote(remote) => fault.end(remote).await,
        }
    }

    /// Remove every toxic and bring the proxy back up (used between runs
    /// and when a run is interrupted).
    pub async fn clear(&self) -> anyhow::Result<()> {
        match self {
            FaultControl::Embedded(proxy) => {
                proxy.remove_all_toxics();
                if !proxy.is_enabled() {
                    proxy.enable().await.map_err(|e| anyhow::anyhow!("bringing the proxy {} back up: {e}", proxy.name()))?;
                }
                Ok(())
            }
            FaultControl::Mock(mock) => mock.clear().await,
            FaultControl::Remote(remote) => remote.clear().await,
        }
    }
}

fn fault_error(name: &str, error: ProxyError) -> anyhow::Error {
    anyhow::anyhow!("toxic {name}: {error}")
}

/// The embedded backend's one proxy, as the backend faults see it: it can
/// go down and up, and nothing else (tansu is not a broker to stop).
struct EmbeddedStage<'a>(&'a Proxy);

impl Stage for EmbeddedStage<'_> {
    fn cannot(&self, fault: &str) -> anyhow::Error {
        anyhow::anyhow!("the embedded backend cannot play {fault} (see `faultlab run --backend mock|docker`)")
    }

    fn proxies_down(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            self.0.disable().await;
            Ok(())
        })
    }

    fn proxies_up(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { self.0.enable().await.map_err(|e| anyhow::anyhow!("bringing the proxy {} back up: {e}", self.0.name())) })
    }
}
