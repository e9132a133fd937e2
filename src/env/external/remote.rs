//! Faults played through a Toxiproxy API on named proxies: the external
//! backend's, and the docker and local backends' (with their own brokers
//! for broker faults).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::future::BoxFuture;

use crate::env::fault::{Removed, Stage, add_requests};
use crate::proxy::Toxic;
use crate::toxiproxy::Client;

/// How long one Toxiproxy API call may take before it counts as failed
/// (Toxiproxy itself gives up on a request after 25 s).
const API_PATIENCE: Duration = Duration::from_secs(30);
/// How long a disarmed toxic is left in place before it is deleted: long
/// enough for the links whose client has gone to fail their last write and
/// leave the proxy, so the DELETE has nothing to drain into them.
const DISARMED_FLUSH: Duration = Duration::from_millis(250);
/// How long removing one toxic may take, retries included.
const REMOVAL_PATIENCE: Duration = Duration::from_secs(120);

/// Stops, starts and pauses brokers (the Docker backend's containers).
pub trait BrokerControl: Send + Sync {
    /// How many brokers, numbered from 1.
    fn brokers(&self) -> i32;
    fn stop(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    fn start(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    fn pause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    fn unpause(&self, broker: i32) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Bring every broker back (start the stopped, unpause the paused,
    /// leadership where it was).
    fn restore(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Move the leadership of `partition` (every partition when `None`)
    /// to `broker`, until [`BrokerControl::restore_leaders`].
    fn move_leaders(&self, broker: i32, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        let _ = (broker, partition);
        Box::pin(async { bail!("this backend cannot move partition leaders (the mock and local backends can)") })
    }
    fn restore_leaders(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// Faults played through a Toxiproxy API on named proxies (a toxic goes
/// on every one of them), and broker faults when the backend controls the
/// brokers.
#[derive(Clone)]
pub struct RemoteFaults {
    pub client: Client,
    pub proxies: Vec<String>,
    pub brokers: Option<Arc<dyn BrokerControl>>,
}

impl RemoteFaults {
    pub async fn add(&self, toxic: &Toxic) -> anyhow::Result<()> {
        for proxy in &self.proxies {
            self.client.add_toxic(proxy, toxic).await.map_err(|e| match e.status() {
                Some(_) if toxic.kind.is_kafka() => anyhow::anyhow!(kafka_toxic_refused(toxic, proxy, &e)),
                _ => anyhow::Error::from(e).context(format!("adding toxic {} to proxy {proxy}", toxic.name)),
            })?;
        }
        Ok(())
    }

    /// Remove toxic `name` from every proxy and make sure it is gone.
    ///
    /// Real Toxiproxy's DELETE can block for minutes, and the whole proxy
    /// with it: removing a toxic flushes what it holds, chunk by chunk with
    /// 5 s of patience each, into links whose client has gone (librdkafka
    /// drops a connection whose request timed out), while holding the lock
    /// that new connections need (Toxiproxy's link.go `RemoveToxic`;
    /// upstream issue #558). Updating a toxic does not drain: the toxic is
    /// only replaced. So the toxic is first disarmed on every proxy
    /// (toxicity 0: a no-op on every connection; held data goes through at
    /// once, and links whose client has gone fail their write and leave),
    /// and the fault ends there; then it is deleted. A DELETE that still
    /// fails is followed by a GET: the toxic is gone once the API says so
    /// (404), retrying until then.
    pub async fn remove(&self, name: &str) -> anyhow::Result<Removed> {
        self.remove_from(&self.proxies, name).await
    }

    /// [`RemoteFaults::remove`] on some of the proxies.
    async fn remove_from(&self, proxies: &[String], name: &str) -> anyhow::Result<Removed> {
        let mut notes = Vec::new();
        let mut disarmed = Vec::new();
        let mut requests = None;
        for proxy in proxies {
            match tokio::time::timeout(API_PATIENCE, self.client.set_toxicity(proxy, name, 0.0)).await {
                Ok(Ok(shown)) => {
                    disarmed.push(proxy.as_str());
                    requests = add_requests(requests, shown.requests);
                }
                Ok(Err(e)) if e.status() == Some(404) => {}
                Ok(Err(e)) => notes.push(format!("disarming toxic {name} on proxy {proxy} failed ({e})")),
                Err(_) => notes.push(format!("disarming toxic {name} on proxy {proxy}: no answer within {API_PATIENCE:?}")),
            }
        }
        let mut ended = tokio::time::Instant::now();
        tokio::time::sleep(DISARMED_FLUSH).await;
        for proxy in proxies {
            let deleted = self.delete_verified(proxy, name).await?;
            if !disarmed.contains(&proxy.as_str()) {
                // The fault went on until the toxic was gone.
                ended = tokio::time::Instant::now();
            }
            notes.extend(deleted);
        }
        Ok(Removed { ended, notes, requests })
    }

    /// DELETE toxic `name` on `proxy` until a GET says it is gone; a note
    /// when that took more than one DELETE.
    async fn delete_verified(&self, proxy: &str, name: &str) -> anyhow::Result<Option<String>> {
        let started = tokio::time::Instant::now();
        let mut failures = Vec::new();
        loop {
            match tokio::time::timeout(API_PATIENCE, self.client.remove_toxic(proxy, name)).await {
                Ok(Ok(())) => break,
                // Gone already: removed by an earlier try, or by someone else.
                Ok(Err(e)) if e.status() == Some(404) => break,
                Ok(Err(e)) => failures.push(e.to_string()),
                Err(_) => failures.push(format!("DELETE {name} on proxy {proxy}: no answer within {API_PATIENCE:?}")),
            }
            match tokio::time::timeout(API_PATIENCE, self.client.toxic(proxy, name)).await {
                Ok(Err(e)) if e.status() == Some(404) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => failures.push(e.to_string()),
                Err(_) => failures.push(format!("GET {name} on proxy {proxy}: no answer within {API_PATIENCE:?}")),
            }
            if started.elapsed() > REMOVAL_PATIENCE {
                bail!(
                    "toxic {name} is still on proxy {proxy} after {:.0} s of trying to remove it: {}",
                    started.elapsed().as_secs_f64(),
                    failures.join("; ")
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok((!failures.is_empty()).then(|| {
            format!(
                "removing toxic {name} from proxy {proxy} took {:.1} s ({}); it was then verified gone",
                started.elapsed().as_secs_f64(),
                failures.join("; ")
            )
        }))
    }

    /// The brokers, for a broker fault: only the local and docker backends control them.
    fn broker_control(&self, fault: &str) -> anyhow::Result<&Arc<dyn BrokerControl>> {
        self.brokers
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("{fault} needs control of the brokers, which only the local and docker backends have"))
    }

    /// Broker `broker`'s own proxy, on a backend that started its brokers
    /// behind one proxy each ([`crate::env::kraft::proxy_name`]).
    fn broker_proxy(&self, fault: &str, broker: i32) -> anyhow::Result<String> {
        self.broker_control(fault)?;
        let name = u32::try_from(broker).map(crate::env::kraft::proxy_name).unwrap_or_default();
        if !self.proxies.contains(&name) {
            bail!("there is no broker {broker} (brokers 1 to {})", self.proxies.len());
        }
        Ok(name)
    }

    /// Remove every toxic of the proxies used (only those: other proxies of
    /// the same Toxiproxy are left alone), enable them, restore brokers.
    pub async fn clear(&self) -> anyhow::Result<()> {
        if let Some(brokers) = &self.brokers {
            brokers.restore().await?;
        }
        for proxy in &self.proxies {
            for toxic in self.client.toxics(proxy).await.with_context(|| format!("listing the toxics of proxy {proxy}"))? {
                self.remove_from(std::slice::from_ref(proxy), &toxic.name).await?;
            }
        }
        self.enable_all().await
    }

    async fn enable_all(&self) -> anyhow::Result<()> {
        for proxy in &self.proxies {
            self.client.enable(proxy).await.with_context(|| format!("enabling proxy {proxy}"))?;
        }
        Ok(())
    }
}

/// Backend faults through the Toxiproxy API (proxies down, a broker's
/// latency toxic) and the backend's [`BrokerControl`], when it has one.
/// No request errors: Toxiproxy cannot answer for a broker.
impl Stage for RemoteFaults {
    fn cannot(&self, fault: &str) -> anyhow::Error {
        anyhow::anyhow!("this backend cannot play {fault} (the mock can)")
    }

    fn proxies_down(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            for proxy in &self.proxies {
                self.client.disable(proxy).await.with_context(|| format!("disabling proxy {proxy}"))?;
            }
            Ok(())
        })
    }

    fn proxies_up(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.enable_all())
    }

    fn stop_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let control = self.broker_control(fault);
        Box::pin(async move { control?.stop(broker).await })
    }

    fn start_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let control = self.broker_control(fault);
        Box::pin(async move { control?.start(broker).await })
    }

    fn pause_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let control = self.broker_control(fault);
        Box::pin(async move { control?.pause(broker).await })
    }

    fn unpause_broker(&self, fault: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        let control = self.broker_control(fault);
        Box::pin(async move { control?.unpause(broker).await })
    }

    fn delay_responses(&self, fault: &str, broker: i32, rtt_ms: u32) -> BoxFuture<'_, anyhow::Result<()>> {
        let proxy = self.broker_proxy(fault, broker);
        Box::pin(async move {
            let proxy = proxy?;
            let toxic = broker_rtt_toxic(broker, rtt_ms);
            self.client.add_toxic(&proxy, &toxic).await.with_context(|| format!("adding toxic {} to proxy {proxy}", toxic.name))?;
            Ok(())
        })
    }

    fn undelay_responses(&self, fault: &str, broker: i32, rtt_ms: u32) -> BoxFuture<'_, anyhow::Result<()>> {
        let proxy = self.broker_proxy(fault, broker);
        Box::pin(async move { self.remove_from(&[proxy?], &broker_rtt_toxic(broker, rtt_ms).name).await.map(drop) })
    }

    fn move_leaders(&self, fault: &str, broker: i32, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        let control = self.broker_control(fault);
        Box::pin(async move { control?.move_leaders(broker, partition).await })
    }

    /// The backend's control puts every partition back, whichever moved.
    fn restore_leaders(&self, fault: &str, _: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        let control = self.broker_control(fault);
        Box::pin(async move { control?.restore_leaders().await })
    }
}

/// What to do when a proxy refuses a Kafka toxic (`error`, the API's
/// answer): it is not a faultlab proxy reading Kafka frames.
fn kafka_toxic_refused(toxic: &Toxic, proxy: &str, error: &crate::toxiproxy::ClientError) -> String {
    format!(
        "proxy {proxy} refused the Kafka toxic {} ({}): {error}. A Kafka toxic needs faultlab's proxy in Kafka mode. \
         Front the cluster with `faultlab proxy --kafka BOOTSTRAP` (its broker listeners kafka-broker-<id> read Kafka frames), \
         or run the scenario with --backend embedded, mock or local",
        toxic.name,
        toxic.kind.type_name()
    )
}

/// `broker_rtt` on a Toxiproxy: every response of that broker, and only
/// of that broker, held back `rtt_ms` (a latency toxic on its proxy's
/// downstream).
fn broker_rtt_toxic(broker: i32, rtt_ms: u32) -> Toxic {
    Toxic {
        name: format!("broker_rtt_{broker}"),
        stream: crate::proxy::Stream::Downstream,
        toxicity: 1.0,
        kind: crate::proxy::ToxicKind::Latency(crate::proxy::toxics::latency::Latency { latency: i64::from(rtt_ms), jitter: 0 }),
    }
}
