//! The peer the proxy benchmarks compare with: a real Toxiproxy, run as a
//! child process and driven through its HTTP API, beside faultlab's
//! in-process proxy on the same traffic.
//!
//! Absent when no `toxiproxy-server` is found (FAULTLAB_TOXIPROXY_SERVER,
//! PATH, or the cache `scripts/provision` fills): the rows then say "-"
//! and the table says why. A binary that is found but does not start is
//! an error, not an absence.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use super::Row;
use crate::env::local::components::find_toxiproxy;
use crate::env::local::process::{Child, Spec};
use crate::proxy::toxics::latency::Latency;
use crate::proxy::{Stream, Toxic, ToxicKind};
use crate::toxiproxy::Client;

/// A running toxiproxy-server; killed (and reaped) when dropped.
pub struct Peer {
    child: Child,
    client: Client,
    pid: i32,
    /// What `/version` answered, for the table's note.
    pub version: String,
}

/// Toxiproxy, or the one line saying why there is none.
pub type Found = Result<Peer, String>;

impl Peer {
    /// Start the Toxiproxy found on this machine, if any.
    pub async fn start() -> anyhow::Result<Found> {
        let Some(program) = find_toxiproxy() else {
            return Ok(Err(match std::env::var_os("FAULTLAB_TOXIPROXY_SERVER").filter(|v| !v.is_empty()) {
                Some(set) => format!("FAULTLAB_TOXIPROXY_SERVER={} is not a file", set.to_string_lossy()),
                None => "no toxiproxy-server (set FAULTLAB_TOXIPROXY_SERVER or put it on PATH; scripts/provision installs it)".into(),
            }));
        };
        // A port free a moment ago may be taken when Toxiproxy binds it
        // (tests run in parallel): a few tries.
        let mut last = String::new();
        for _ in 0..5 {
            match Peer::start_on_free_port(&program).await? {
                Ok(peer) => return Ok(Ok(peer)),
                Err(why) => last = why,
            }
        }
        anyhow::bail!("{} did not serve its API on a free port in 5 tries:\n{last}", program.display())
    }

    async fn start_on_free_port(program: &std::path::Path) -> anyhow::Result<Result<Peer, String>> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?.local_addr()?.port();
        let spec = Spec {
            name: "Toxiproxy (bench peer)".into(),
            program: program.to_path_buf(),
            args: ["-host", "127.0.0.1", "-port", &port.to_string()].map(String::from).to_vec(),
            // Toxiproxy logs every connection at info: not its cost to measure.
            env: vec![("LOG_LEVEL".into(), "warn".into())],
            ready_line: None,
        };
        let child = Child::spawn(&spec)?;
        let client = Client::new(&format!("http://127.0.0.1:{port}"));
        let version = match client.wait_ready(Duration::from_secs(20)).await {
            Ok(version) => version,
            Err(e) => return Ok(Err(format!("{e:#}\n{}", child.tail()))),
        };
        // Toxiproxy that could not bind says so and keeps running; the API
        // that answered would then be someone else's.
        if child.tail().contains("Server finished with error") {
            return Ok(Err(child.tail()));
        }
        let pid = child.pid().context("toxiproxy-server exited at once")?;
        Ok(Ok(Peer { child, client, pid, version }))
    }

    /// A Toxiproxy proxy to `upstream` on a free port; its address.
    pub async fn proxy(&self, name: &str, upstream: SocketAddr) -> anyhow::Result<SocketAddr> {
        let info = self
            .client
            .create_proxy(name, "127.0.0.1:0", &upstream.to_string())
            .await
            .with_context(|| format!("creating Toxiproxy proxy {name}\n{}", self.child.tail()))?;
        info.listen.parse().with_context(|| format!("Toxiproxy's listen address {:?}", info.listen))
    }

    /// A downstream latency toxic on `proxy`, through the API.
    pub async fn add_latency(&self, proxy: &str, latency_ms: i64) -> anyhow::Result<()> {
        let toxic = Toxic {
            name: "latency".into(),
            stream: Stream::Downstream,
            toxicity: 1.0,
            kind: ToxicKind::Latency(Latency { latency: latency_ms, jitter: 0 }),
        };
        self.add_toxic(proxy, &toxic).await
    }

    /// A toxic on `proxy`, through the API.
    pub async fn add_toxic(&self, proxy: &str, toxic: &Toxic) -> anyhow::Result<()> {
        self.client.add_toxic(proxy, toxic).await.with_context(|| format!("adding toxic {} to Toxiproxy proxy {proxy}", toxic.name))?;
        Ok(())
    }

    /// Toxiproxy's resident set (VmRSS), read as faultlab's own is.
    pub fn rss(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).context("reading Toxiproxy's /proc status")?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .context("no VmRSS in Toxiproxy's /proc status")
    }
}

/// A row with Toxiproxy's figure (`figure`, its ratio to the baseline,
/// faultlab's lead), or with the reason there is none.
pub fn attach(row: Row, found: &Found, figure: Option<(String, f64, f64)>) -> Row {
    match (found, figure) {
        (Err(why), _) => row.no_peer(why),
        (Ok(peer), Some((figure, ratio, ahead_by))) => {
            let mut row = row.peer(figure, ratio, ahead_by);
            row.peer_note = Some(format!("{}, a child process on this machine, driven through its API", peer.version));
            row
        }
        (Ok(_), None) => row,
    }
}
