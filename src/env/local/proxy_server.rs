//! The local backend's proxy server: a `toxiproxy-server` child process,
//! or, when the scenario has Kafka toxics (which Toxiproxy has not),
//! faultlab's own proxy in Kafka mode behind its Toxiproxy-compatible API,
//! served in this process. Either way the rest of the backend talks to it
//! through the same HTTP API: the proxy plan, [`crate::toxiproxy::Client`]
//! and `RemoteFaults` do not know which it is.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use super::components::Components;
use super::process::{Child, Spec};
use crate::env::ProxyMode;
use crate::env::in_process::InProcess;
use crate::proxy::Registry;
use crate::toxiproxy::Client;

/// How long a Toxiproxy child may take before its API answers.
const TOXIPROXY_STARTUP: Duration = Duration::from_secs(30);

/// A started proxy server and what the report says of it.
pub(super) struct Started {
    /// The running server (a [`Child`] or an [`InProcess`]); dropping it stops it.
    pub server: Box<dyn Send + Sync>,
    /// Its API.
    pub client: Client,
    /// What it is, for the report's `proxy`.
    pub name: String,
    /// As its API's `/version` answers.
    pub version: String,
    /// Why this one, when a reader must know (for the report's notes).
    pub note: Option<String>,
    /// The record of every Produce batch, when the proxy reads Kafka frames.
    pub ledger: Option<Arc<crate::proxy::kafka::Ledger>>,
}

/// Start the proxy server `mode` needs. `seed` seeds its toxicity rolls.
pub(super) async fn start(components: &Components, mode: ProxyMode, seed: u64) -> anyhow::Result<Started> {
    match mode {
        ProxyMode::Bytes => toxiproxy(components, seed).await,
        ProxyMode::KafkaFrames => faultlab(seed).await,
    }
}

async fn toxiproxy(components: &Components, seed: u64) -> anyhow::Result<Started> {
    let program =
        components.toxiproxy_server.clone().context("the local backend needs toxiproxy-server (scripts/provision installs it)")?;
    let api_port = super::free_ports(1)?[0];
    let spec = Spec {
        name: "Toxiproxy".into(),
        program,
        // Go's -seed is an int64: the same 64 bits (a u64 above i64::MAX
        // is out of its range).
        args: ["-host", "127.0.0.1", "-port", &api_port.to_string(), "-seed", &(seed as i64).to_string()].map(String::from).to_vec(),
        // Not a line per API request.
        env: vec![("LOG_LEVEL".into(), "info".into())],
        ready_line: None,
    };
    let mut child = Child::spawn(&spec)?;
    let client = Client::new(&format!("http://127.0.0.1:{api_port}"));
    // A Toxiproxy that refuses its flags exits at once: said then, not after the wait.
    let answered = tokio::select! {
        answered = client.wait_ready(TOXIPROXY_STARTUP) => answered,
        status = child.exited() => Err(anyhow::anyhow!("Toxiproxy exited ({status}) before its API answered")),
    };
    let version = answered.map_err(|e| anyhow::anyhow!("{e:#}\n{}", child.tail()))?;
    // A Toxiproxy whose API port was taken says so and keeps running; the
    // API that answered would then be someone else's.
    if child.tail().contains("Server finished with error") {
        bail!("Toxiproxy could not serve its API on port {api_port}:\n{}", child.tail());
    }
    Ok(Started {
        server: Box::new(child),
        client,
        name: "Toxiproxy (toxiproxy-server child process, one proxy per broker)".into(),
        version,
        note: None,
        ledger: None,
    })
}

/// faultlab's proxies, every one reading Kafka frames, behind the
/// Toxiproxy API on a free loopback port. The brokers advertise the
/// proxies, so no address needs rewriting: framing alone
/// ([`Registry::kafka_framing`]).
async fn faultlab(seed: u64) -> anyhow::Result<Started> {
    let registry = Arc::new(Registry::kafka_framing(seed));
    let ledger = registry.ledger();
    let (server, client, version) = InProcess::serve(registry).await?;
    Ok(Started {
        server: Box::new(server),
        client,
        name: "faultlab proxy in Kafka mode (in process, Toxiproxy API, one proxy per broker)".into(),
        version,
        note: Some(
            "the local backend ran faultlab's proxy in Kafka mode instead of Toxiproxy: Toxiproxy has no Kafka toxics, and \
             this scenario has some."
                .into(),
        ),
        ledger,
    })
}
