//! The external backend given only `--bootstrap`: faultlab fronts the
//! cluster with its own proxy in Kafka mode, in this process. The front
//! rewrites the brokers' addresses in Metadata, FindCoordinator and
//! DescribeCluster responses to listeners of its own (one per broker,
//! `kafka-broker-<node id>`, made on first sight), so every client byte
//! after the first metadata request goes through it, with the cluster's
//! `advertised.listeners` untouched. Its proxies are served behind the
//! Toxiproxy API like any other ([`InProcess`]), so faults are played as
//! on a user's Toxiproxy, Kafka toxics included.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::{ExternalConfig, Proxied};
use crate::env::in_process::InProcess;
use crate::env::{Environment, ProxyMode};
use crate::proxy::Registry;
use crate::proxy::kafka::{KafkaFront, Ledger};

/// How long one bootstrap address may take to accept a connection.
const CONNECT_PATIENCE: Duration = Duration::from_secs(5);

/// Front the cluster at `config.bootstrap`; `seed` seeds the toxics. The
/// ledger of Produce batches is kept when the scenario has Kafka toxics,
/// as on the other backends.
pub(super) async fn start(config: &ExternalConfig, mode: ProxyMode, seed: u64) -> anyhow::Result<Environment> {
    // The front forwards its bootstrap listener to one broker; the others
    // are learned from that broker's metadata.
    let upstream = first_reachable(&config.bootstrap).await?;
    let (server, client, version) = InProcess::serve(Arc::new(Registry::new(seed))).await?;
    let front = KafkaFront::start("127.0.0.1:0", &upstream, seed, Some(server.registry())).await?;
    let ledger = match mode {
        ProxyMode::KafkaFrames => {
            let ledger = Arc::new(Ledger::default());
            front.keep_ledger(ledger.clone()).await;
            Some(ledger)
        }
        ProxyMode::Bytes => None,
    };
    let bootstrap = front.bootstrap().listen();
    let refusals = front.refusals();
    let proxy = Proxied { client, version, describe: format!("faultlab proxy in Kafka mode (in process, in front of {upstream})") };
    // Dropped in this order: the front's listeners, then the API.
    let mut env = super::connect(config, &bootstrap, proxy, Box::new((front, server))).await.map_err(|e| match refusals.explain() {
        Some(refused) => e.context(refused),
        None => e,
    })?;
    env.ledger = ledger;
    env.refusals = Some(refusals);
    Ok(env)
}

/// The first of `bootstrap`'s addresses that accepts a TCP connection.
async fn first_reachable(bootstrap: &str) -> anyhow::Result<String> {
    let mut failures = Vec::new();
    for address in bootstrap.split(',').map(str::trim) {
        match tokio::time::timeout(CONNECT_PATIENCE, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(_)) => return Ok(address.to_string()),
            Ok(Err(e)) => failures.push(format!("{address}: {e}")),
            Err(_) => failures.push(format!("{address}: no answer within {CONNECT_PATIENCE:?}")),
        }
    }
    Err(anyhow::anyhow!("no broker of --bootstrap {bootstrap} accepts connections ({})", failures.join("; ")))
        .context("fronting the cluster with faultlab's proxy (is Kafka running there?)")
}
