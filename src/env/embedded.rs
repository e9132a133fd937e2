//! The embedded backend: tansu-broker and faultlab's proxy, in this process.
//!
//! Nothing to install. Each environment gets its own in-memory store, so
//! tests running side by side never share data.

use std::net::TcpListener as StdTcpListener;
use std::time::Duration;

use anyhow::{Context, bail};
use tansu_broker::broker::Broker;
use tansu_broker::coordinator::group::administrator::Controller;
use tansu_storage::StorageContainer;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;
use url::Url;

use super::{BackendInfo, Environment, FaultControl, ProxyMode, librdkafka_version};
use crate::proxy::Proxy;

/// The tansu-broker release linked into faultlab (see Cargo.toml).
pub const TANSU_VERSION: &str = "0.6.0";

/// Start a broker on a free loopback port behind a proxy on another, the
/// broker advertising the proxy. `seed` seeds the proxy's random choices.
pub async fn start(seed: u64) -> anyhow::Result<Environment> {
    start_with(seed, ProxyMode::Bytes).await
}

/// [`start`], with the proxy reading the clients' bytes in `mode`.
pub async fn start_with(seed: u64, mode: ProxyMode) -> anyhow::Result<Environment> {
    // The proxy takes its port first: the broker must advertise it.
    let broker_port = free_port()?;
    let proxy =
        Proxy::start("kafka", "127.0.0.1:0", &format!("127.0.0.1:{broker_port}"), seed).await.context("starting the embedded proxy")?;
    // Before the broker starts: no client can have connected yet. The
    // ledger records the Produce batches Kafka toxics act on.
    let ledger = (mode == ProxyMode::KafkaFrames).then(|| {
        proxy.set_kafka_framing();
        let ledger = std::sync::Arc::new(crate::proxy::kafka::Ledger::default());
        proxy.keep_ledger(ledger.clone());
        ledger
    });
    let serving = start_broker(broker_port, &proxy.listen_addr().to_string()).await?;

    Ok(Environment {
        info: BackendInfo {
            backend: super::Backend::Embedded.name().into(),
            broker: "tansu-broker (in process, memory storage)".into(),
            broker_version: TANSU_VERSION.into(),
            proxy: match mode {
                ProxyMode::Bytes => "faultlab proxy (in process)".into(),
                ProxyMode::KafkaFrames => "faultlab proxy in Kafka mode (in process)".into(),
            },
            proxy_version: env!("CARGO_PKG_VERSION").into(),
            client: format!("librdkafka {}", librdkafka_version()),
        },
        bootstrap: proxy.listen_addr().to_string(),
        faults: FaultControl::Embedded(proxy.clone()),
        admin: super::Admin::single(),
        notes: Vec::new(),
        toxiproxy_api: None,
        ledger,
        refusals: None,
        around_the_proxy: Vec::new(),
        _running: Box::new(Running { _broker: serving, proxy }),
    })
}

/// Start tansu on 127.0.0.1:`broker_port` (memory storage), advertising
/// `advertised` (host:port, the proxy in front of it), and wait until it
/// listens. The broker stops when the handle is dropped.
pub async fn start_broker(broker_port: u16, advertised: &str) -> anyhow::Result<AbortOnDropHandle<()>> {
    let advertised = Url::parse(&format!("tcp://{advertised}"))?;
    let listener = Url::parse(&format!("tcp://127.0.0.1:{broker_port}"))?;

    let mut broker = Broker::<Controller<StorageContainer>, StorageContainer>::builder()
        .node_id(0)
        .cluster_id(format!("faultlab-{}", uuid::Uuid::new_v4().simple()))
        .incarnation_id(uuid::Uuid::new_v4())
        .advertised_listener(advertised)
        .storage(Url::parse("memory://tansu/")?)
        .listener(listener)
        .silent(true)
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("building the embedded tansu broker: {e}"))?;
    // `serve`, not `main`: main takes over SIGINT and SIGTERM for the whole
    // process. The task is aborted on drop; dropping a JoinHandle alone
    // would leave the port bound.
    let serving = tokio::spawn(async move {
        if let Err(e) = broker.serve(tokio::time::Instant::now()).await {
            tracing::error!("embedded broker stopped: {e}");
        }
    });
    let serving = AbortOnDropHandle::new(serving);
    wait_for_port(broker_port, Duration::from_secs(10)).await?;
    Ok(serving)
}

struct Running {
    _broker: AbortOnDropHandle<()>,
    proxy: Proxy,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.proxy.shutdown();
    }
}

/// A port that was free a moment ago. tansu binds its listener itself and
/// does not say which port it got, so port 0 cannot be used directly.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = StdTcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

async fn wait_for_port(port: u16, patience: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the embedded broker did not listen on 127.0.0.1:{port} within {patience:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
